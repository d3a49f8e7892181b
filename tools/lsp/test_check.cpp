#include "test_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

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

// The kind of value an attribute's type, as written, takes; nothing for a type not known
// here, which is not checked.
std::optional<ast::TestValue::Kind> value_kind(const AttributeName& a) {
  using Kind = ast::TestValue::Kind;
  if (!a.names.empty() || a.type == "string") return Kind::string;
  if (a.type.starts_with("list of")) return Kind::list;
  if (a.type.starts_with("integer")) return Kind::integer;
  if (a.type == "boolean") return Kind::boolean;
  if (a.type == "date" || a.type == "time") return Kind::time;
  return std::nullopt;
}

// A value of `with` that the attribute's type does not take: `clause test` fails the case.
void check_value(const AttributeName& a, const ast::TestValue& v, std::vector<Diagnostic>& out) {
  const auto want = value_kind(a);
  if (want && *want != v.kind) {
    out.push_back(unknown("E243", v.span,
                          fmt::format("`{}` is declared `{}`, but the case gives {}", a.path,
                                      a.type, dsl::value_noun(v.kind)),
                          ""));
    return;
  }
  if (!a.names.empty() && std::find(a.names.begin(), a.names.end(), v.text) == a.names.end()) {
    out.push_back(
        unknown("E251", v.span,
                fmt::format("`{}` is not a name of `{}`, the type of `{}`", v.text, a.type, a.path),
                guess_among(v.text, a.names)));
  }
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
      const auto declared = std::find(paths.begin(), paths.end(), path);
      if (declared != paths.end()) {
        check_value(policy.attributes[static_cast<std::size_t>(declared - paths.begin())], a.value,
                    out);
        continue;
      }
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
