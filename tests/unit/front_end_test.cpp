// The front end as one value: one call gives the tree, the checked policy and every
// diagnostic, cleaned up from structured data and sorted.
#include "clause/dsl/front_end.hpp"

#include <algorithm>

#include "support.hpp"

namespace clause::test {
namespace {

std::vector<std::string> codes_of(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics)
    out.push_back(d.code);
  return out;
}

TEST_CASE("one front end call gives the tree, the checked policy and the diagnostics") {
  const dsl::FrontEnd front = dsl::analyze(SourceFile{"t.policy", R"(policy "p" version "1"
clause "1" "one"
clause "2" "two"
data info cites "1"
action read
allow read of info cites "1"
)"});
  REQUIRE(front.syntax_ok);
  REQUIRE(front.checked);
  CHECK(front.tree.rules.size() == 1);
  CHECK(front.checked->rules.size() == 1);
  REQUIRE(codes_of(front.diagnostics) == std::vector<std::string>{"W001"});
  CHECK(front.diagnostics[0].subject == "2");
}

TEST_CASE("the front end sorts parse and check diagnostics together, with no checked policy") {
  const dsl::FrontEnd front = dsl::analyze(SourceFile{"t.policy", R"(policy "p" version "1"
clause "1" "one"
action read
deny read of nothing cites "1"
data broken under
allow write cites "1"
)"});
  CHECK_FALSE(front.syntax_ok);
  CHECK_FALSE(front.checked);
  CHECK(front.tree.rules.size() == 2);
  CHECK(codes_of(front.diagnostics) == std::vector<std::string>{"E211", "E101", "E211"});
  CHECK(std::is_sorted(
      front.diagnostics.begin(), front.diagnostics.end(),
      [](const Diagnostic& a, const Diagnostic& b) { return a.span.begin < b.span.begin; }));
}

TEST_CASE("a cascade is dropped by the name it is about, not by its message") {
  // `contact` is declared in a statement the parser skipped: using it is no new mistake.
  const std::string text = R"(policy "p" version "1"
clause "1" "one"
action read
data contact under
deny read of contact cites "1"
deny read of other cites "1"
)";
  const dsl::FrontEnd front = dsl::analyze(SourceFile{"t.policy", text});
  REQUIRE(codes_of(front.diagnostics) == std::vector<std::string>{"E101", "E211"});
  CHECK(front.diagnostics[1].subject == "other");

  // The checker's own diagnostics say what they are about in a field of their own.
  const auto checked = dsl::check(dsl::parse(SourceFile{"t.policy", text}).policy);
  std::vector<std::string> unknown;
  for (const Diagnostic& d : checked.diagnostics) {
    if (d.code == "E211") unknown.push_back(d.subject);
  }
  CHECK(unknown == std::vector<std::string>{"contact", "other"});
}

TEST_CASE("the front end refuses a text past its limits before checking it") {
  const SourceFile file{"t.policy",
                        "policy \"p\" version \"1\"\nclause \"1\" \"one\"\n"
                        "action read\ndeny read cites \"1\"\ndeny read cites \"1\"\n"};
  const dsl::FrontEnd big = dsl::analyze(file, {.max_policy_bytes = 10});
  CHECK(codes_of(big.diagnostics) == std::vector<std::string>{"E003"});
  CHECK(big.tree.rules.empty());
  const dsl::FrontEnd many = dsl::analyze(file, {.max_rules = 1});
  CHECK(codes_of(many.diagnostics) == std::vector<std::string>{"E291"});
  CHECK(many.tree.rules.size() == 2);
  CHECK_FALSE(many.checked);
}

TEST_CASE("compile takes the front end's value") {
  const SourceFile file{"t.policy",
                        "policy \"p\" version \"1\"\nclause \"1\" \"one\"\n"
                        "action read\nallow read cites \"1\"\n"};
  auto policy = compile(file, dsl::analyze(file));
  REQUIRE(policy);
  CHECK(policy->warnings().empty());
  CHECK(policy->clause_words("1") == "one");
}

}  // namespace
}  // namespace clause::test
