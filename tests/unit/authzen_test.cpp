// AuthZEN requests read as clause requests: the mapping, the defaults of a batch, the
// semantics, and errors named by the AuthZEN field, placed in the AuthZEN text.
#include "clause/authzen.hpp"

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace clause::test {
namespace {

using authzen::Evaluator;
using authzen::Semantic;

const std::string allowed_request =
    R"({"subject":{"type":"counterparty","id":"buyer-17"},"action":{"name":"access"},)"
    R"("resource":{"type":"contact_info","id":"order-1"},)"
    R"("context":{"purpose":"service","in_transaction":true}})";

const char* const clinic = R"(policy "clinic" version "1"
clause "A" "A clinician in the care team may read results."
data lab_result
requester clinician
action access, edit
attribute data.subject_age integer 0..150
attribute data.care_team list of string
attribute requester.id string
allow access of lab_result by clinician when requester.id in data.care_team and data.subject_age < 18
  cites "A"
)";

std::string json_of(const authzen::Evaluation& e, bool with_context = true) {
  std::string out;
  authzen::append_json(out, e, with_context);
  return out;
}

TEST_CASE("an AuthZEN evaluation is the clause request of the default mapping", "[authzen]") {
  const Evaluator evaluator(privacy_policy());
  const auto request = evaluator.clause_request(allowed_request);
  REQUIRE(request);
  CHECK(nlohmann::json::parse(*request) ==
        nlohmann::json::parse(
            R"({"requester":{"kind":"counterparty","id":"buyer-17"},
        "data":{"category":"contact_info","id":"order-1"},"action":"access",
        "context":{"purpose":"service","in_transaction":true}})"));
  const auto e = evaluator.evaluate(allowed_request);
  REQUIRE(e);
  CHECK(e->decision.effect == Effect::allow);
  CHECK_FALSE(e->error);
  CHECK(json_of(*e, false) == R"({"decision":true})");
  const auto context = nlohmann::json::parse(json_of(*e))["context"];
  CHECK(context["effect"] == "allow");
  CHECK(context["clause"] == "6.b");
  CHECK(context["rule"] == "6.b/1");
  CHECK(context["policy"]["hash"] == std::string(privacy_policy().content_hash()));
}

TEST_CASE("properties reach only declared attributes; numeric ids become text", "[authzen]") {
  const Evaluator evaluator(must_compile(clinic));
  const std::string text =
      R"({"subject":{"type":"clinician","id":7,"properties":{"department":"x","kind":"y"}},)"
      R"("action":{"name":"access","properties":{"method":"GET"}},)"
      R"("resource":{"type":"lab_result","id":"r-1","properties":{"subject_age":12,"care_team":["7"],"owner":"z"}}})";
  const auto request = evaluator.clause_request(text);
  REQUIRE(request);
  CHECK(nlohmann::json::parse(*request) ==
        nlohmann::json::parse(R"({"requester":{"kind":"clinician","id":"7"},
        "data":{"category":"lab_result","id":"r-1","subject_age":12,"care_team":["7"]},"action":"access"})"));
  const auto e = evaluator.evaluate(text);
  REQUIRE(e);
  CHECK(e->decision.effect == Effect::allow);
}

TEST_CASE("a value the policy refuses denies, naming the AuthZEN field and place", "[authzen]") {
  const Evaluator evaluator(must_compile(clinic));
  const std::string text =
      "{\"subject\":{\"type\":\"clinician\",\"id\":\"c\"},\"action\":{\"name\":\"access\"},\n"
      R"("resource":{"type":"lab_result","properties":{"subject_age":200,"care_team":[]}}})";
  const auto e = evaluator.evaluate(text);
  REQUIRE(e);
  CHECK(e->decision.effect == Effect::deny);
  REQUIRE(e->error);
  CHECK(e->error->field == "resource.properties.subject_age");
  REQUIRE(e->error->position);
  CHECK(e->error->position->line == 2);
  CHECK(e->error->position->column == 61);
  const auto unknown = evaluator.evaluate(
      R"({"subject":{"type":"nurse","id":"c"},"action":{"name":"access"},"resource":{"type":"lab_result"}})");
  REQUIRE(unknown);
  REQUIRE(unknown->error);
  CHECK(unknown->error->field == "subject.type");
  CHECK(unknown->error->name == "nurse");
  CHECK(unknown->error->position->column == 20);
  const auto body = nlohmann::json::parse(json_of(*unknown));
  CHECK(body["decision"] == false);
  CHECK(body["context"]["error"]["field"] == "subject.type");
  CHECK(json_of(*unknown, false) == R"({"decision":false})");
}

TEST_CASE("a looked-up attribute comes from the data, never from a property", "[authzen]") {
  CompileOptions options;
  options.read_document = [](std::string_view) -> Result<SourceFile, std::string> {
    return SourceFile{"users.json", R"({"alice": {"roles": ["editor"]}, "bob": {"roles": []}})"};
  };
  auto compiled = compile(SourceFile{"roles.policy", R"(policy "roles" version "1"
clause "E" "Editors edit."
document users from "users.json"
data todo
requester user
action edit
attribute requester.id string
attribute requester.roles list of string from users[requester.id].roles
allow edit of todo by user when "editor" in requester.roles cites "E"
)"},
                          options);
  REQUIRE(compiled);
  const Evaluator evaluator(*compiled);
  const auto ask = [&](const std::string& subject) {
    return evaluator.evaluate(R"({"subject":)" + subject +
                              R"(,"action":{"name":"edit"},"resource":{"type":"todo"}})");
  };
  const auto alice = ask(R"({"type":"user","id":"alice"})");
  REQUIRE(alice);
  CHECK(alice->decision.effect == Effect::allow);
  // Bob claims the role in his properties: the directory says otherwise, and decides.
  const auto bob = ask(R"({"type":"user","id":"bob","properties":{"roles":["editor"]}})");
  REQUIRE(bob);
  CHECK(bob->decision.effect == Effect::deny);
  CHECK_FALSE(bob->error);
  // An id the directory does not hold fails closed, naming the id it was looked up by.
  const auto zoe = ask(R"({"type":"user","id":"zoe"})");
  REQUIRE(zoe);
  CHECK(zoe->decision.effect == Effect::deny);
  REQUIRE(zoe->error);
  CHECK(zoe->error->field == "subject.id");
  CHECK(zoe->error->name == "zoe");
}

TEST_CASE("a payload of the wrong shape is an error of the whole payload", "[authzen]") {
  const Evaluator evaluator(privacy_policy());
  const auto field_of = [&](std::string_view text) {
    const auto e = evaluator.evaluate(text);
    REQUIRE_FALSE(e);
    return e.error().field;
  };
  CHECK(field_of("not json").empty());
  CHECK(field_of("[1]").empty());
  CHECK(field_of(R"({"action":{"name":"access"},"resource":{"type":"x"}})") == "subject");
  CHECK(field_of(R"({"subject":{"id":"a"},"action":{"name":"access"},"resource":{"type":"x"}})") ==
        "subject.type");
  CHECK(field_of(R"({"subject":{"type":1},"action":{"name":"access"},"resource":{"type":"x"}})") ==
        "subject.type");
  CHECK(field_of(R"({"subject":{"type":"a"},"action":"access","resource":{"type":"x"}})") ==
        "action");
  CHECK(field_of(R"({"subject":{"type":"a"},"action":{"name":"access"},"resource":{"type":"x"},)"
                 R"("context":[]})") == "context");
  CHECK(field_of(std::string(100, '[') + std::string(100, ']')).empty());
}

TEST_CASE("a batch takes top-level defaults, item overrides, and stops as asked", "[authzen]") {
  const Evaluator evaluator(privacy_policy());
  const std::string items =
      R"("subject":{"type":"counterparty","id":"b"},"action":{"name":"access"},)"
      R"("context":{"purpose":"service","in_transaction":true},"evaluations":[)"
      R"({"resource":{"type":"contact_info","id":"1"}},)"
      R"({"resource":{"type":"credentials","id":"2"}},)"
      R"({"resource":{"type":"contact_info","id":"3"},"action":{"name":"sell"}},)"
      R"({"resource":{"type":"contact_info","id":"4"}}])";
  const auto effects = [&](const std::string& options) {
    const auto all = evaluator.evaluate_all("{" + items + options + "}", 100);
    REQUIRE(all);
    std::string out;
    for (const auto& e : all->items)
      out += e.decision.effect == Effect::allow ? 'A' : 'D';
    return out;
  };
  CHECK(effects("") == "ADDA");
  CHECK(effects(R"(,"options":{"evaluations_semantic":"execute_all"})") == "ADDA");
  CHECK(effects(R"(,"options":{"evaluations_semantic":"deny_on_first_deny"})") == "AD");
  CHECK(effects(R"(,"options":{"evaluations_semantic":"permit_on_first_permit"})") == "A");
  CHECK_FALSE(
      evaluator.evaluate_all("{" + items + R"(,"options":{"evaluations_semantic":"x"}})", 100));
  const auto too_many = evaluator.evaluate_all("{" + items + "}", 3);
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error().field == "evaluations");
  const auto single = evaluator.evaluate_all(allowed_request, 100);
  REQUIRE(single);
  CHECK(single->single);
  CHECK(single->items.size() == 1);
}

TEST_CASE("a batch item's mistakes deny that item, named by its place", "[authzen]") {
  const Evaluator evaluator(privacy_policy());
  const auto all = evaluator.evaluate_all(
      R"({"subject":{"type":"counterparty"},"action":{"name":"access"},"evaluations":[)"
      R"({"resource":{"type":"contact_info"}},{"resource":{"type":"nothing"}},{"action":{"name":"access"}},7]})",
      100);
  REQUIRE(all);
  REQUIRE(all->items.size() == 4);
  CHECK_FALSE(all->items[0].error);
  REQUIRE(all->items[1].error);
  CHECK(all->items[1].error->field == "evaluations[1].resource.type");
  REQUIRE(all->items[2].error);
  CHECK(all->items[2].error->field == "resource");
  REQUIRE(all->items[3].error);
  CHECK(all->items[3].error->field == "evaluations[3]");
  for (std::size_t i = 1; i < 4; ++i)
    CHECK(all->items[i].decision.effect == Effect::deny);
}

}  // namespace
}  // namespace clause::test

namespace clause::test {
namespace {

TEST_CASE("the payload's JSON is checked as strictly as a JSON parser does", "[authzen]") {
  const authzen::Evaluator evaluator(privacy_policy());
  for (const std::string text : {"",
                                 " ",
                                 "{",
                                 "{}",
                                 R"({"a":})",
                                 R"({"a":1,})",
                                 "[1,]",
                                 R"({"a" 1})",
                                 R"({"a":01})",
                                 R"({"a":1.})",
                                 R"({"a":-})",
                                 R"({"a":1e})",
                                 R"({"a":1e+5})",
                                 R"({"a":tru})",
                                 R"({"a":"\x"})",
                                 R"({"a":"\u12g4"})",
                                 "{\"a\":\"\x01\"}",
                                 R"({"a":[1 2]})",
                                 R"({"a":1}})",
                                 R"({"a":1} x)",
                                 "{\"a\":\"\xff\"}",
                                 "{,}",
                                 R"({"a":{"b":[]}})",
                                 R"({"a":nul})",
                                 R"({"a":-0.5E-3})",
                                 R"({"a":[{},[],"",0,true,false,null]})",
                                 R"({"a":"\"\\\/\b\f\n\r\t\u00e9"})",
                                 "{\"a\":\"\xc3\xa9\"}",
                                 R"({"a":1,"b"})",
                                 R"({"a":[)",
                                 R"([[]])",
                                 R"({"a":-01})",
                                 "\t{ \"a\" :\n1 }\r\n"}) {
    INFO(text);
    const auto e = evaluator.evaluate(text);
    REQUIRE_FALSE(e);  // none is an evaluation
    const bool refused_as_json = e.error().message.find("not valid JSON") != std::string::npos;
    CHECK(refused_as_json == !nlohmann::json::accept(text));
  }
}

}  // namespace
}  // namespace clause::test
