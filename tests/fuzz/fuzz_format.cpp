// Fuzz target: any bytes as a policy file (and as a test file). When they parse without
// errors, the canonical layout (`clause fmt`) parses back to the same tree with the same
// comments, formatting it again changes nothing, and a policy that compiles decides every
// request as it did before.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "clause/clause.hpp"
#include "clause/detail.hpp"
#include "clause/dsl/format.hpp"
#include "clause/dsl/parse.hpp"
#include "fuzz_support.hpp"

namespace clause::fuzz {
namespace {

// Formats a parsed file and checks the layout's promises; gives the new text.
template <typename Parse, typename Format>
std::string check_layout(const SourceFile& file, const auto& tree, Parse parse, Format format,
                         std::string_view input) {
  std::string once;
  try {
    once = format(file, tree);
  } catch (const std::invalid_argument& e) {
    fail(std::string("a file that parses without errors is refused: ") + e.what(), input);
  }
  const auto again = parse(SourceFile{file.name, once});
  if (!again.diagnostics.empty()) {
    fail("the formatted text does not parse:\n" +
             render_text(SourceFile{file.name, once}, again.diagnostics) + "--- formatted ---\n" +
             once,
         input);
  }
  const auto& after = [&]() -> const auto& {
    if constexpr (requires { again.policy; }) {
      return again.policy;
    } else {
      return again.tests;
    }
  }
  ();
  check(dsl::same_tree(tree, after), "formatting changed the tree:\n" + once, input);
  check(dsl::same_comments(tree.comments, after.comments),
        "formatting lost or changed a comment:\n" + once, input);
  const std::string twice = format(SourceFile{file.name, once}, after);
  check(twice == once, "formatting is not idempotent:\n" + once + "--- again ---\n" + twice, input);
  return once;
}

void run(std::string_view input) {
  const SourceFile file{"fuzz.policy", std::string(input)};
  const dsl::ParseResult parsed = dsl::parse(file);
  if (parsed.diagnostics.empty()) {
    const std::string once = check_layout(
        file, parsed.policy, [](const SourceFile& s) { return dsl::parse(s); }, dsl::format_policy,
        input);
    check(parsed.policy.suppressions.size() ==
              dsl::parse(SourceFile{file.name, once}).policy.suppressions.size(),
          "formatting lost an @ignore annotation:\n" + once, input);
    const auto before = compile(file);
    const auto after = compile(SourceFile{file.name, once});
    check(before.has_value() == after.has_value(),
          "the policy compiles only before or only after formatting:\n" + once, input);
    if (before) {
      check(before->warnings().size() == after->warnings().size(),
            "formatting changed the number of warnings:\n" + once, input);
      for (const Request& r : detail::request_mix(*before, 64, input.size())) {
        const Decision x = before->evaluate(r);
        const Decision y = after->evaluate(r);
        // Reasons quote the rules as written, so they may differ; the rest may not.
        check(same_decision(x, y),
              fmt::format("request {} {} {}: before formatting {}, after {}\n{}", r.data,
                          r.requester, r.action, describe(x), describe(y), once),
              input);
      }
    }
  }

  const SourceFile tests{"fuzz.test", std::string(input)};
  const dsl::TestParseResult parsed_tests = dsl::parse_tests(tests);
  if (parsed_tests.diagnostics.empty()) {
    check_layout(
        tests, parsed_tests.tests, [](const SourceFile& s) { return dsl::parse_tests(s); },
        dsl::format_tests, input);
  }
}

}  // namespace
}  // namespace clause::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  clause::fuzz::run({reinterpret_cast<const char*>(data), size});
  return 0;
}
