// Fuzz target: any bytes as a policy file and as a test file. Parsing, checking and
// compiling never crash and never fail inside (E001); every diagnostic renders; a policy
// that compiles lists its clauses, decides requests over its own names the same through
// the index as by the reference loop, traced or not, and lints, verifies and analyses
// when it is small enough for that to be quick.
#include <cstddef>
#include <cstdint>
#include <string>

#include "clause/analyze.hpp"
#include "clause/clause.hpp"
#include "clause/detail.hpp"
#include "clause/dsl/check.hpp"
#include "clause/dsl/front_end.hpp"
#include "clause/dsl/parse.hpp"
#include "clause/lint.hpp"
#include "clause/verify.hpp"
#include "fuzz_support.hpp"

namespace clause::fuzz {
namespace {

void render(const SourceFile& file, const std::vector<Diagnostic>& diagnostics,
            std::string_view input) {
  const std::string text = render_text(file, diagnostics);
  check(diagnostics.empty() || !text.empty(), "diagnostics rendered as nothing", input);
  check(!render_json(file, diagnostics).empty(), "diagnostics rendered as no JSON", input);
  for (const Diagnostic& d : diagnostics) {
    check(d.code != "E001", "internal error: " + d.message, input);
    check(d.span.begin <= d.span.end && d.span.end <= file.text.size(),
          "a diagnostic's span lies outside the file: " + d.code, input);
  }
}

void run(std::string_view input) {
  const SourceFile file{"fuzz.policy", std::string(input)};

  // The front end, as `clause check` runs it.
  const dsl::FrontEnd front = dsl::analyze(file);
  render(file, front.diagnostics, input);

  const auto policy = compile(file);
  if (!policy) {
    check(has_errors(policy.error()), "compiling failed without an error", input);
    render(file, policy.error(), input);
  } else {
    const Policy& p = *policy;
    check(!has_errors(front.diagnostics) && front.checked, "a policy with errors compiled", input);
    render(file, {p.warnings().begin(), p.warnings().end()}, input);
    for (const auto& [id, words] : p.clauses()) {
      check(p.clause_words(id) == words, "clause_words disagrees with clauses()", input);
    }
    for (const Request& r : detail::request_mix(p, 8, input.size()))
      check_request(p, r, input);
    const detail::PolicyImpl& impl = *detail::Access::impl(p);
    // The analyses are exact and bounded, but not quick on every policy.
    if (impl.checked().rules.size() <= 24 && impl.vocabulary().facts.size() <= 8 &&
        impl.vocabulary().data.size() * impl.vocabulary().requesters.size() <= 256) {
      LintOptions options;
      options.max_triples_per_rule = 4096;
      options.max_atoms = 8;
      render(file, lint(p, options), input);
      for (const AssertionResult& a : verify(p))
        check(a.proved || !a.complete || a.counterexample.has_value(),
              "an assertion neither proved nor refuted: " + a.text, input);
      (void)analyze(p);
    }
  }

  // The same bytes as a test file.
  const SourceFile tests{"fuzz.test", std::string(input)};
  const dsl::TestParseResult parsed_tests = dsl::parse_tests(tests);
  render(tests, parsed_tests.diagnostics, input);
}

}  // namespace
}  // namespace clause::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  clause::fuzz::run({reinterpret_cast<const char*>(data), size});
  return 0;
}
