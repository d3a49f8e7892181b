// `"admin" in requester.roles`: a list attribute holds a constant. How it evaluates (an
// absent list holds nothing), formats, plans, becomes SQL, and what the linter sees.
#include <fmt/format.h>

#include <string>

#include "clause/detail.hpp"
#include "clause/dsl/format.hpp"
#include "clause/dsl/parse.hpp"
#include "clause/lint.hpp"
#include "clause/plan.hpp"
#include "clause/sql.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const char* const directory_policy = R"(policy "Directory" version "1"
clause "A" "Administrators may change records; the suspended may not read them."
data record
requester staff
action change, read
attribute requester.roles list of string optional
allow change of record when "admin" in requester.roles cites "A"
allow read of record when not "suspended" in requester.roles cites "A"
)";

const Policy& directory() {
  static const Policy p = must_compile(directory_policy);
  return p;
}

Request staff(const std::string& action, std::optional<std::vector<std::string>> roles) {
  Request r;
  r.data = "record";
  r.requester = "staff";
  r.action = action;
  if (roles) r.attributes.push_back({"requester.roles", *roles});
  return r;
}

// The decision, held to the reference evaluator's.
Effect decide(const Request& r) {
  const auto q = directory().resolve(r);
  REQUIRE(q);
  const Decision d = directory().evaluate(*q);
  const detail::ReferenceVerdict slow =
      detail::reference_evaluate(*detail::Access::impl(directory()), *q, nullptr);
  CHECK(d.effect == slow.effect);
  return d.effect;
}

TEST_CASE("contains: a list holds the constant, or it does not, or it is absent",
          "[contains][eval]") {
  CHECK(decide(staff("change", std::vector<std::string>{"clerk", "admin"})) == Effect::allow);
  CHECK(decide(staff("change", std::vector<std::string>{"clerk"})) == Effect::deny);
  CHECK(decide(staff("change", std::vector<std::string>{})) == Effect::deny);
  // Absent: the test is false, so its `not` is true.
  CHECK(decide(staff("change", std::nullopt)) == Effect::deny);
  CHECK(decide(staff("read", std::nullopt)) == Effect::allow);
  CHECK(decide(staff("read", std::vector<std::string>{"admin"})) == Effect::allow);
  CHECK(decide(staff("read", std::vector<std::string>{"suspended"})) == Effect::deny);
  // The constant is a whole element, compared exactly.
  CHECK(decide(staff("change", std::vector<std::string>{"Admin", "admins"})) == Effect::deny);
}

TEST_CASE("contains: the trace shows the test as written", "[contains][eval]") {
  const auto q = directory().resolve(staff("change", std::vector<std::string>{"clerk"}));
  REQUIRE(q);
  const Decision d = directory().evaluate(*q, EvalOptions{.trace = true});
  REQUIRE(!d.trace.empty());
  CHECK_THAT(d.trace[0].detail, Catch::Contains("\"admin\" in requester.roles"));
}

TEST_CASE("contains: fmt writes the constant first and round-trips", "[contains][format]") {
  const std::string messy = R"(policy "p" version "1"
clause "c" "w"
attribute requester.roles list of string
allow when  "a\"b"   in requester.roles and not("x" in
  requester.roles) cites "c"
)";
  const SourceFile file{"t.policy", messy};
  const auto parsed = dsl::parse(file);
  REQUIRE(parsed.diagnostics.empty());
  const std::string once = dsl::format_policy(file, parsed.policy);
  CHECK_THAT(once, Catch::Contains(R"("a\"b" in requester.roles and not "x" in requester.roles)"));
  const SourceFile again_file{"t.policy", once};
  const auto again = dsl::parse(again_file);
  REQUIRE(again.diagnostics.empty());
  CHECK(dsl::same_tree(parsed.policy, again.policy));
  CHECK(dsl::format_policy(again_file, again.policy) == once);
}

TEST_CASE("contains: the right side must be a list of strings", "[contains][check]") {
  const auto codes = [](const std::string& type) {
    const auto found = must_fail(fmt::format(R"(policy "p" version "1"
clause "c" "w"
attribute requester.roles {}
allow when "admin" in requester.roles cites "c"
)",
                                             type));
    REQUIRE(found.size() == 1);
    return found[0].code + ": " + found[0].message + " / " + found[0].help;
  };
  CHECK(codes("string") ==
        "E243: `in` needs a list, but `requester.roles` is a string / to compare a value with a "
        "string, write `requester.roles = \"admin\"`");
  CHECK(codes("integer") ==
        "E243: `in` needs a list, but `requester.roles` is an integer / look for a string in an "
        "attribute of type `list of string`");
}

TEST_CASE("contains: a test and its negation together can never be true", "[contains][lint]") {
  const Policy p = must_compile(R"(policy "p" version "1"
clause "c" "w"
attribute requester.roles list of string
allow when "admin" in requester.roles and not "admin" in requester.roles cites "c"
allow when "admin" in requester.roles and not "clerk" in requester.roles cites "c"
)");
  std::vector<std::string> codes;
  for (const Diagnostic& d : lint(p))
    codes.push_back(d.code + "@" + std::to_string(d.span.begin));
  REQUIRE(codes.size() == 1);
  CHECK(codes[0].starts_with("W005"));
}

TEST_CASE("contains: an open list is a condition of the plan, and SQL over it",
          "[contains][plan][sql]") {
  PartialRequest pr;
  pr.known = staff("change", std::nullopt);
  pr.unknown = {"requester.roles"};
  const auto plan = clause::plan(directory(), pr);
  REQUIRE(plan);
  REQUIRE(plan->complete);
  REQUIRE(plan->outcomes.size() == 2);
  REQUIRE(plan->outcomes[0].parts.size() == 1);
  CHECK(to_string(plan->outcomes[0].parts[0]) == "\"admin\" in requester.roles");
  // A known list makes the test a bit: no condition left.
  PartialRequest known;
  known.known = staff("change", std::vector<std::string>{"admin"});
  const auto decided = clause::plan(directory(), known);
  REQUIRE(decided);
  REQUIRE(decided->outcomes[0].parts.size() == 1);
  CHECK(decided->outcomes[0].parts[0].conditions.empty());

  const auto where = [&](const char* entry, SqlDialect dialect, std::size_t outcome) {
    const auto m = read_sql_mapping(directory(),
                                    fmt::format(R"({{"schema_version": 1, "table": "r", "fields": {{
          "requester.roles": {}}}}})",
                                                entry));
    REQUIRE(m);
    const auto filter = sql_filter(directory(), *plan, *m, dialect);
    REQUIRE(filter);
    REQUIRE(filter->outcomes.size() == 2);
    CHECK(filter->outcomes[outcome].condition.parameters ==
          std::vector<SqlValue>{std::string("admin")});
    return filter->outcomes[outcome].condition.where;
  };
  CHECK(where(R"({"array": "roles"})", SqlDialect::postgres, 0) == R"($1 = ANY("r"."roles"))");
  CHECK(where(R"({"array": "roles"})", SqlDialect::sqlite, 0) ==
        R"(EXISTS (SELECT 1 FROM json_each("r"."roles") AS "joined" WHERE "joined"."value" = ?1))");
  // An absent (NULL) array holds nothing: the rows denied include it.
  CHECK(where(R"({"array": "roles"})", SqlDialect::postgres, 1) ==
        R"(($1 = ANY("r"."roles")) IS NOT TRUE)");
  CHECK_THAT(
      where(R"({"table": "roles", "key": "staff_id", "value": "role"})", SqlDialect::postgres, 0),
      Catch::StartsWith("EXISTS (SELECT 1 FROM") && Catch::EndsWith(" = $1)"));
}

}  // namespace
}  // namespace clause::test
