// AuthZEN requests read as clause requests: the mapping, the defaults of a batch, the
// semantics, and errors named by the AuthZEN field, placed in the AuthZEN text.
#include "clause/authzen.hpp"

#include <fmt/format.h>

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

namespace clause::test {
namespace {

using authzen::SearchKind;

Policy search_policy() {
  const auto path = source_dir() / "policies" / "interop" / "search.policy";
  auto policy = compile(SourceFile{path.string(), read_file(path)});
  REQUIRE(policy);
  return *policy;
}

const std::vector<std::string> users = {"alice", "bob", "carol", "dan", "erin", "felix"};
const std::vector<std::string> actions = {"view", "edit", "delete"};

std::string evaluation(std::string_view user, std::string_view action, std::string_view record) {
  return fmt::format(R"({{"subject":{{"type":"user","id":"{}"}},"action":{{"name":"{}"}},)"
                     R"("resource":{{"type":"record","id":"{}"}}}})",
                     user, action, record);
}

bool allowed(const Evaluator& evaluator, std::string_view user, std::string_view action,
             std::string_view record) {
  const auto e = evaluator.evaluate(evaluation(user, action, record));
  REQUIRE(e);
  return e->decision.effect == Effect::allow;
}

std::vector<std::string> records() {
  std::vector<std::string> out;
  for (int i = 101; i <= 120; ++i)
    out.push_back(std::to_string(i));
  return out;
}

// A resource search for what `user` may do as `action` to data of `type`.
Result<authzen::Search, RequestError> resource_search(const Evaluator& evaluator,
                                                      std::string_view user,
                                                      std::string_view action,
                                                      std::string_view type = "record") {
  return evaluator.search(
      SearchKind::resource,
      fmt::format(R"({{"subject":{{"type":"user","id":"{}"}},"action":{{"name":"{}"}},)"
                  R"("resource":{{"type":"{}"}}}})",
                  user, action, type));
}

TEST_CASE("a search gives exactly the candidates an evaluation allows", "[authzen]") {
  const Evaluator evaluator(search_policy());
  for (const auto& user : users) {
    for (const auto& action : actions) {
      const auto found = resource_search(evaluator, user, action);
      REQUIRE(found);
      std::vector<std::string> expected;
      for (const auto& record : records()) {
        if (allowed(evaluator, user, action, record)) expected.push_back(record);
      }
      CHECK(found->ids == expected);
      CHECK(found->total == expected.size());
      CHECK(found->decided == 20);
      CHECK_FALSE(found->paged);
    }
  }
  for (const auto& record : records()) {
    for (const auto& action : actions) {
      const auto found =
          evaluator.search(SearchKind::subject,
                           fmt::format(R"({{"subject":{{"type":"user"}},"action":{{"name":"{}"}},)"
                                       R"("resource":{{"type":"record","id":"{}"}}}})",
                                       action, record));
      REQUIRE(found);
      std::vector<std::string> expected;
      for (const auto& user : users) {
        if (allowed(evaluator, user, action, record)) expected.push_back(user);
      }
      CHECK(found->ids == expected);
    }
    const auto found = evaluator.search(SearchKind::action,
                                        fmt::format(R"({{"subject":{{"type":"user","id":"felix"}},)"
                                                    R"("resource":{{"type":"record","id":"{}"}}}})",
                                                    record));
    REQUIRE(found);
    std::vector<std::string> expected;
    for (const auto& action : actions) {
      if (allowed(evaluator, "felix", action, record)) expected.push_back(action);
    }
    CHECK(found->ids == expected);
  }
}

TEST_CASE("search pages follow their tokens; a token binds its request and policy", "[authzen]") {
  const Evaluator evaluator(search_policy());
  const auto request = [](std::string_view page) {
    return fmt::format(R"({{"subject":{{"type":"user","id":"alice"}},"action":{{"name":"view"}},)"
                       R"("resource":{{"type":"record"}},"page":{}}})",
                       page);
  };
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    const auto page = evaluator.search(
        SearchKind::resource,
        request(token.empty() ? R"({"limit":8})"
                              : fmt::format(R"({{"limit":8,"token":"{}"}})", token)));
    REQUIRE(page);
    CHECK(page->paged);
    CHECK(page->total == 20);
    seen.insert(seen.end(), page->ids.begin(), page->ids.end());
    token = page->next_token;
    REQUIRE(++pages <= 3);
  } while (!token.empty());
  CHECK(pages == 3);
  CHECK(seen == records());

  const auto first = evaluator.search(SearchKind::resource, request(R"({"limit":8})"));
  REQUIRE(first);
  std::string out;
  authzen::append_json(out, *first, false);
  CHECK(out.starts_with(fmt::format(
      R"({{"page":{{"next_token":"{}","count":8,"total":20}},"results":[)", first->next_token)));
  std::string tampered = first->next_token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  const auto bad =
      evaluator.search(SearchKind::resource, request(fmt::format(R"({{"token":"{}"}})", tampered)));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().field == "page.token");
  // The same request to another policy (another version) refuses the token.
  std::string text = read_file(source_dir() / "policies" / "interop" / "search.policy");
  text.replace(text.find("1.0-03"), 6, "1.0-04");
  const auto path = source_dir() / "policies" / "interop" / "search.policy";
  auto other = compile(SourceFile{path.string(), text});
  REQUIRE(other);
  const Evaluator changed(*other);
  CHECK_FALSE(changed.search(SearchKind::resource,
                             request(fmt::format(R"({{"token":"{}"}})", first->next_token))));
  CHECK(changed.search(SearchKind::resource, request(R"({"limit":8})")));
}

TEST_CASE("a search the policy cannot answer", "[authzen]") {
  const Evaluator evaluator(search_policy());
  const auto unknown = resource_search(evaluator, "alice", "view", "folder");
  REQUIRE(unknown);
  CHECK(unknown->ids.empty());
  REQUIRE(unknown->error);
  CHECK(unknown->error->field == "resource.type");
  std::string off;
  authzen::append_json(off, *unknown, false);
  CHECK(off == R"({"results":[]})");
  std::string on;
  authzen::append_json(on, *unknown, true);
  CHECK(nlohmann::json::parse(on)["context"]["error"]["field"] == "resource.type");

  const auto nobody = resource_search(evaluator, "nobody", "view");
  REQUIRE(nobody);
  CHECK(nobody->ids.empty());
  REQUIRE(nobody->error);
  CHECK(nobody->error->name == "nobody");

  const Evaluator plain(privacy_policy());
  const auto none = plain.search(
      SearchKind::subject,
      R"({"subject":{"type":"counterparty"},"action":{"name":"access"},"resource":{"type":"contact_info"}})");
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("no document keyed by `requester.id`") != std::string::npos);
  CHECK_FALSE(
      evaluator.search(SearchKind::resource, R"({"subject":{"type":"user","id":"alice"}})"));
  CHECK_FALSE(evaluator.search(
      SearchKind::resource,
      R"({"subject":{"type":"user","id":"alice"},"action":{"name":"view"},"resource":{"type":"record"},"page":{"limit":0}})"));
}

TEST_CASE("rekey reads the looked-up attributes again, and fails closed", "[authzen]") {
  const Policy policy = search_policy();
  auto request = policy.decode(
      R"({"requester":{"kind":"user","id":"felix"},"data":{"category":"record","id":"101"},"action":"delete"})");
  REQUIRE(request);
  CHECK(policy.decide(*request).effect == Effect::deny);
  REQUIRE_FALSE(policy.rekey(*request, "data.id", "106"));  // felix owns 106
  CHECK(policy.decide(*request).effect == Effect::allow);
  const auto missing = policy.rekey(*request, "data.id", "999");
  REQUIRE(missing);
  CHECK(missing->name == "999");
  CHECK_FALSE(policy.decide(*request).decided);
  CHECK(policy.rekey(*request, "data.id", "106"));  // no longer a request of this policy
  auto other = policy.decode(
      R"({"requester":{"kind":"user","id":"felix"},"data":{"category":"record","id":"101"},"action":"delete"})");
  REQUIRE(other);
  CHECK(policy.rekey(*other, "data.owner", "106"));
}

}  // namespace
}  // namespace clause::test
