#include "test_check.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "clause/dsl/check.hpp"

namespace clause::lsp {
namespace {

std::string guess_among(const std::string& word, const std::vector<std::string>& names) {
  const std::vector<std::string_view> candidates(names.begin(), names.end());
  return dsl::closest_name(word, candidates);
}

Diagnostic unknown(std::string code, Span span, std::string message, const std::string& guess) {
  Diagnostic d{Severity::error, std::move(code), std::move(message), span, {}, ""};
  if (!guess.empty()) d.help = fmt::format("did you mean `{}`?", guess);
  return d;
}

void check_name(const ast::Name& n, ast::DeclKind kind, const Vocabulary& v,
                std::vector<Diagnostic>& out) {
  const std::vector<std::string>& names = v.names[static_cast<std::size_t>(kind)];
  if (std::find(names.begin(), names.end(), n.text) != names.end()) return;
  out.push_back(unknown("E211", n.span,
                        fmt::format("the policy declares no {} `{}`", dsl::kind_noun(kind), n.text),
                        guess_among(n.text, names)));
}

}  // namespace

std::vector<Diagnostic> check_tests(const ast::TestFile& tests, const Vocabulary& policy) {
  using K = ast::DeclKind;
  std::vector<Diagnostic> out;
  const auto one = [&](const std::optional<ast::Name>& n, K kind) {
    if (n) check_name(*n, kind, policy, out);
  };
  std::vector<std::string> paths;
  for (const AttributeName& a : policy.attributes)
    paths.push_back(a.path);
  for (const ast::TestCase& c : tests.cases) {
    one(c.data, K::data);
    one(c.requester, K::requester);
    one(c.action, K::action);
    one(c.purpose, K::purpose);
    for (const ast::Name& f : c.facts)
      check_name(f, K::fact, policy, out);
    for (const ast::TestConsent& k : c.consent)
      check_name(k.name, K::consent, policy, out);
    for (const ast::Name& o : c.objections)
      check_name(o, K::objection, policy, out);
    for (const ast::TestAttribute& a : c.with) {
      const std::string path = a.path.text();
      if (std::find(paths.begin(), paths.end(), path) != paths.end()) continue;
      out.push_back(unknown("E240", a.path.span,
                            fmt::format("the policy declares no attribute `{}`", path),
                            guess_among(path, paths)));
    }
    if (!c.expect) continue;
    one(c.expect->consent, K::consent);
    for (const ast::Name& o : c.expect->obligations)
      check_name(o, K::obligation, policy, out);
    const ast::Text& cites = c.expect->cites;
    if (std::find(policy.clauses.begin(), policy.clauses.end(), cites.value) ==
        policy.clauses.end()) {
      out.push_back(unknown("E220", cites.span,
                            fmt::format("the policy declares no clause `{}`", cites.value),
                            guess_among(cites.value, policy.clauses)));
    }
  }
  return out;
}

}  // namespace clause::lsp
