// Name sets and integer ranges: how they are written, checked and formatted, what both JSON
// readers and Request accept and refuse, and the witnesses the analyses try.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "clause/detail.hpp"
#include "clause/dsl/check.hpp"
#include "clause/dsl/format.hpp"
#include "clause/dsl/parse.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const char* const policy_text = R"(policy "T" version "1"
clause "D" "destination"
clause "A" "age"
data record
requester person
action share, access
names country: CA, US, FR, DE
attribute context.destination country optional
attribute data.subject_age integer 0..150
deny share of record when context.destination is CA cites "D"
allow share of record when context.destination = "US" cites "D"
allow access of record when data.subject_age < 18 cites "A"
)";

const Policy& policy() {
  static const Policy p = must_compile(policy_text);
  return p;
}

std::string request(const std::string& action, const std::string& data_fields,
                    const std::string& context) {
  return R"({"data":{"category":"record")" + data_fields +
         R"(},"requester":{"kind":"person"},"action":")" + action + R"(","context":{)" + context +
         "}}";
}

// The error of both JSON readers, which must agree; empty when the request is valid.
std::string error_of(const std::string& json) {
  const detail::PolicyImpl& impl = *detail::Access::impl(policy());
  const auto quick = policy().decode(json);
  const auto full = detail::decode_with_positions(impl, json);
  REQUIRE(quick.has_value() == full.has_value());
  if (quick) return "";
  CHECK(quick.error().to_string() == full.error().to_string());
  return full.error().to_string();
}

std::vector<Diagnostic> diagnostics_of(const std::string& text) {
  const SourceFile file{"t.policy", text};
  auto parsed = dsl::parse(file);
  REQUIRE(parsed.diagnostics.empty());
  return dsl::check(parsed.policy).diagnostics;
}

std::string with_body(const std::string& body) {
  return "policy \"T\" version \"1\"\nclause \"1\" \"w\"\naction read\n" + body;
}

TEST_CASE("a name set's attribute decides by its names, bare or quoted", "[attributes][types]") {
  CHECK(policy()
            .evaluate_json(request("share", R"(,"subject_age":40)", R"("destination":"CA")"))
            .effect == Effect::deny);
  CHECK(policy()
            .evaluate_json(request("share", R"(,"subject_age":40)", R"("destination":"US")"))
            .effect == Effect::allow);
  CHECK(policy()
            .evaluate_json(request("share", R"(,"subject_age":40)", R"("destination":"FR")"))
            .clause == "default");
  CHECK(policy().evaluate_json(request("share", R"(,"subject_age":40)", "")).clause == "default");
}

TEST_CASE("both readers refuse a name outside the set and an integer outside the range",
          "[attributes][types][request]") {
  std::string json = request("share", R"(,"subject_age":40)", R"("destination":"CAN")");
  CHECK(error_of(json) == fmt::format("context.destination: \"CAN\" is not one of the names of "
                                      "`country`; did you mean `CA`? (at 1:{})",
                                      json.find("\"CAN\"") + 1));
  json = request("access", R"(,"subject_age":151)", "");
  CHECK(error_of(json) == fmt::format("data.subject_age: 151 is outside the range 0..150 (at 1:{})",
                                      json.find("151") + 1));
  json = request("access", R"(,"subject_age":-1)", "");
  CHECK(error_of(json) == fmt::format("data.subject_age: -1 is outside the range 0..150 (at 1:{})",
                                      json.find("-1") + 1));
  CHECK(error_of(request("access", R"(,"subject_age":0)", "")).empty());
  CHECK(error_of(request("access", R"(,"subject_age":150)", R"("destination":"DE")")).empty());
  const Decision d = policy().evaluate_json(request("access", R"(,"subject_age":200)", ""));
  CHECK(d.effect == Effect::deny);
  CHECK(d.clause == "default");
}

TEST_CASE("a Request given in code is held to the set and the range", "[attributes][types]") {
  Request r;
  r.data = "record";
  r.requester = "person";
  r.action = "access";
  r.attributes = {{"data.subject_age", std::int64_t{12}}, {"context.destination", "XX"}};
  auto q = policy().resolve(r);
  REQUIRE_FALSE(q);
  CHECK(q.error().to_string() ==
        "context.destination: \"XX\" is not one of the names of `country`");
  r.attributes = {{"data.subject_age", std::int64_t{-5}}};
  q = policy().resolve(r);
  REQUIRE_FALSE(q);
  CHECK(q.error().to_string() == "data.subject_age: -5 is outside the range 0..150");
  r.attributes = {{"data.subject_age", std::int64_t{5}}, {"context.destination", "FR"}};
  CHECK(policy().resolve(r).has_value());
}

TEST_CASE("the checker reads name sets and ranges and reports their mistakes",
          "[attributes][types][check]") {
  const auto first = [](const std::string& body) {
    const auto d = diagnostics_of(with_body(body));
    REQUIRE_FALSE(d.empty());
    return d.front();
  };
  Diagnostic d = first(
      "names country: CA, US\nattribute context.c country\nallow read when context.c is UK "
      "cites \"1\"\n");
  CHECK(d.code == "E251");
  CHECK(d.message == "`UK` is not one of the names of `country`, the type of `context.c`");
  CHECK(d.help == "did you mean `US`?");
  d = first(
      "names country: CA, US\nattribute context.c country\nallow read when context.c = \"ca\" "
      "cites \"1\"\n");
  CHECK(d.code == "E251");
  d = first(
      "names country: CA, US\nattribute context.c country\nallow read when context.c < CA "
      "cites \"1\"\n");
  CHECK(d.code == "E244");
  CHECK(d.help == "the names of a set have no order; use `=` or `!=`");
  d = first("attribute context.c string\nallow read when context.c = CA cites \"1\"\n");
  CHECK(d.code == "E243");
  CHECK(d.message == "`context.c` is a string, but it is compared with the name `CA`");
  d = first(
      "names a: x\nnames b: x\nattribute context.p a\nattribute context.q b\n"
      "allow read when context.p = context.q cites \"1\"\n");
  CHECK(d.code == "E243");
  CHECK(first("names country: CA, US, CA\nallow read cites \"1\"\n").code == "E252");
  CHECK(first("names c: CA\nnames c: US\nallow read cites \"1\"\n").code == "E252");
  CHECK(first("names string: CA\nallow read cites \"1\"\n").code == "E252");
  d = first("attribute data.age integer 150..0\nallow read cites \"1\"\n");
  CHECK(d.code == "E253");
  CHECK(d.help == "write the lower bound first: `0..150`");
  CHECK(first("attribute data.age string 0..1\nallow read cites \"1\"\n").code == "E253");
  CHECK(
      first("attribute data.age integer 0..99999999999999999999\nallow read cites \"1\"\n").code ==
      "E253");
  d = first("attribute data.t countr\nnames country: CA\nallow read cites \"1\"\n");
  CHECK(d.code == "E242");
  CHECK(d.help == "did you mean `country`?");
}

TEST_CASE("a comparison that the range decides alone is warned about", "[attributes][types]") {
  const auto warnings = [](const std::string& condition) {
    std::vector<std::string> out;
    for (const Diagnostic& d : diagnostics_of(with_body(
             "attribute data.age integer 0..150\nallow read when " + condition + " cites \"1\"\n")))
      out.push_back(d.code + ": " + d.message);
    return out;
  };
  CHECK(warnings("data.age < 0") ==
        std::vector<std::string>{"W007: this comparison is never true: `data.age` is in 0..150"});
  CHECK(warnings("data.age <= 150") ==
        std::vector<std::string>{"W007: this comparison is always true: `data.age` is in 0..150"});
  CHECK(warnings("data.age = 200").size() == 1);
  CHECK(warnings("data.age != -1").size() == 1);
  CHECK(warnings("data.age >= 0").size() == 1);
  CHECK(warnings("data.age > 150").size() == 1);
  CHECK(warnings("data.age < 18").empty());
  CHECK(warnings("data.age >= 150").empty());
  CHECK(warnings("data.age = 0").empty());
}

TEST_CASE("fmt keeps name sets, ranges and bare names, and is idempotent", "[attributes][format]") {
  const std::string text =
      "policy \"T\" version \"1\"\nclause \"1\" \"w\"\naction read\nnames   country :CA,US\n"
      "attribute context.c country optional\nattribute data.age integer -5 .. 150\n"
      "allow read when context.c is CA and data.age < 18 cites \"1\"\n";
  const ast::Policy before = dsl::parse(SourceFile{"t.policy", text}).policy;
  const std::string once = dsl::format_policy(SourceFile{"t.policy", text}, before);
  CHECK(once.find("names country: CA, US\n") != std::string::npos);
  CHECK(once.find("attribute data.age  integer -5..150\n") != std::string::npos);
  CHECK(once.find("when context.c = CA and") != std::string::npos);
  const auto after = dsl::parse(SourceFile{"t.policy", once});
  REQUIRE(after.diagnostics.empty());
  CHECK(dsl::same_tree(before, after.policy));
  CHECK(dsl::format_policy(SourceFile{"t.policy", once}, after.policy) == once);
}

TEST_CASE("witnesses stay inside the range and the set", "[attributes][types][analysis]") {
  const detail::PolicyImpl& impl = *detail::Access::impl(policy());
  const dsl::CheckedPolicy& c = impl.checked();
  std::vector<std::uint32_t> all(c.tests.size());
  for (std::uint32_t i = 0; i < all.size(); ++i)
    all[i] = i;
  const auto grid = detail::candidate_values(c, all);
  REQUIRE(grid.size() == c.attributes.size());
  for (std::size_t a = 0; a < c.attributes.size(); ++a) {
    for (const Value& v : grid[a]) {
      INFO(c.attributes[a].path);
      CHECK_FALSE(dsl::not_taken(c.attributes[a], v).has_value());
    }
  }
  // The destination: the two names the tests mention, one unmentioned name, and absent.
  const auto& destinations = grid[0];
  CHECK(destinations.size() == 4);
  // The age: both ends of the range are tried, and 17 and 18 around the cut.
  const auto& ages = grid[1];
  for (const std::int64_t n : {0, 17, 18, 150})
    CHECK(std::find(ages.begin(), ages.end(), Value{std::int64_t{n}}) != ages.end());
  const detail::TestClasses classes = detail::attribute_classes(c, all);
  CHECK(classes.complete);
  for (const detail::TestClass& k : classes.classes) {
    for (std::size_t a = 0; a < c.attributes.size(); ++a)
      CHECK_FALSE(dsl::not_taken(c.attributes[a], k.values[a]).has_value());
  }
}

}  // namespace
}  // namespace clause::test
