// Requests with attributes, a time, consents with dates and objections: what JSON and the
// Request struct accept, what they refuse (field, value, position), and how the values
// decide once resolved.
#include <fmt/format.h>

#include <string>

#include "clause/detail.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const char* const policy_text = R"(policy "T" version "1"
clause "E" "not yet"
clause "S" from 2026-02-16 "sud"
clause "A" "access"
clause "K" "keep"
clause "R" "research"
clause "D" "destination"
data health_info
data sud_record under health_info
requester person
requester outside_party
requester law_enforcement under outside_party
action access, store, share
purpose operations
purpose training under operations
objection family_disclosure
obligation record_disclosure
consent sud_consent
consent research_authorization
attribute context.time time
attribute context.destination string optional
attribute data.subject string
attribute data.subject_age integer
attribute data.care_team list of string
attribute data.last_visit date
attribute requester.id string
attribute data.self_paid boolean
effective from 2026-01-01 cites "E"
first deny access of sud_record by law_enforcement cites "S"
first require consent sud_consent for access of sud_record by outside_party cites "S"
deny store of health_info when context.time >= data.last_visit + 6 years cites "K"
allow access of health_info by person when requester.id = data.subject and not objected family_disclosure cites "A"
allow access of health_info by person when requester.id in data.care_team and data.subject_age < 18 and data.self_paid
  obliges record_disclosure cites "A"
allow store of health_info when purpose is operations from 2026-03-01 cites "K"
deny share of health_info when context.destination = "CA" cites "D"
require consent research_authorization for share of health_info by outside_party cites "R"
)";

const Policy& policy() {
  static const Policy p = must_compile(policy_text);
  return p;
}

// One request's JSON, from its parts; each part is the inside of its object.
struct Parts {
  std::string data =
      R"("category":"health_info","subject":"p-7","subject_age":12,"care_team":["c-1"],)"
      R"("last_visit":"2025-06-01","self_paid":true)";
  std::string requester = R"("kind":"person","id":"c-1")";
  std::string action = "access";
  std::string context = R"("time":"2026-03-01T10:00:00+02:00")";

  std::string json() const {
    return R"({"data":{)" + data + R"(},"requester":{)" + requester + R"(},"action":")" + action +
           R"(","context":{)" + context + "}}";
  }
};

Decision decide(const Parts& parts) {
  return policy().evaluate_json(parts.json());
}

std::string error_of(const Parts& parts) {
  return decide(parts).error;
}

// The column where `needle` starts in the request's one line of JSON.
std::size_t column(const Parts& parts, const std::string& needle) {
  return parts.json().find(needle) + 1;
}

std::string at(const Parts& parts, const std::string& needle) {
  return fmt::format(" (at 1:{})", column(parts, needle));
}

TEST_CASE("a request's attributes decide through their tests", "[request][attributes]") {
  Parts r;
  Decision d = decide(r);
  REQUIRE(d.error.empty());
  CHECK(d.effect == Effect::allow);
  CHECK(d.clause == "A");
  CHECK(d.rule == "A/2");

  r.data = R"("category":"health_info","subject":"p-7","subject_age":18,"care_team":["c-1"],)"
           R"("last_visit":"2025-06-01","self_paid":true)";
  CHECK(decide(r).clause == "default");

  r.requester = R"("kind":"person","id":"p-7")";
  CHECK(decide(r).rule == "A/1");
}

TEST_CASE("every attribute type is read strictly, with its field and position",
          "[request][attributes]") {
  const auto with_data = [](const std::string& field_and_value) {
    Parts r;
    r.data = R"("category":"health_info","subject":"p-7","care_team":[],"last_visit":"2025-06-01",)"
             R"("self_paid":false,)" +
             field_and_value;
    if (field_and_value.find("subject_age") == std::string::npos) r.data += R"(,"subject_age":1)";
    return r;
  };
  SECTION("integers") {
    CHECK(error_of(with_data(R"("subject_age":9223372036854775807)")).empty());
    CHECK(error_of(with_data(R"("subject_age":-9223372036854775808)")).empty());
    Parts r = with_data(R"("subject_age":12.0)");
    CHECK(error_of(r) ==
          "data.subject_age: expected an integer, found the number 12.0" + at(r, "12.0"));
    r = with_data(R"("subject_age":"12")");
    CHECK(error_of(r) ==
          R"(data.subject_age: expected an integer, found the string "12")" + at(r, R"("12")"));
    r = with_data(R"("subject_age":9223372036854775808)");
    CHECK(error_of(r) == "data.subject_age: the number 9223372036854775808 is out of range" +
                             at(r, "9223372036854775808"));
    r = with_data(R"("subject_age":-9223372036854775809)");
    CHECK(error_of(r) == "data.subject_age: the number -9223372036854775809 is out of range" +
                             at(r, "-9223372036854775809"));
    r = with_data(R"("subject_age":1e3)");
    CHECK(error_of(r) ==
          "data.subject_age: expected an integer, found the number 1e3" + at(r, "1e3"));
    r = with_data(R"("subject_age":null)");
    CHECK(error_of(r) == "data.subject_age: expected an integer, found null" + at(r, "null"));
    r = with_data(R"("subject_age":true)");
    CHECK(error_of(r) == "data.subject_age: expected an integer, found true" + at(r, "true"));
  }
  SECTION("booleans") {
    Parts r;
    r.data = R"("category":"health_info","subject":"p-7","subject_age":1,"care_team":[],)"
             R"("last_visit":"2025-06-01","self_paid":"true")";
    CHECK(error_of(r) == R"(data.self_paid: expected true or false, found the string "true")" +
                             at(r, R"("true")"));
    r.data = R"("category":"health_info","subject":"p-7","subject_age":1,"care_team":[],)"
             R"("last_visit":"2025-06-01","self_paid":1)";
    CHECK(error_of(r) ==
          "data.self_paid: expected true or false, found the number 1" + at(r, "1}"));
  }
  SECTION("strings and lists of strings") {
    Parts r;
    r.data = R"("category":"health_info","subject":7,"subject_age":1,"care_team":[],)"
             R"("last_visit":"2025-06-01","self_paid":true)";
    CHECK(error_of(r) == "data.subject: expected a string, found the number 7" + at(r, "7,"));
    r.data = R"("category":"health_info","subject":{},"subject_age":1,"care_team":[],)"
             R"("last_visit":"2025-06-01","self_paid":true)";
    CHECK(error_of(r) == "data.subject: expected a string, found an object" + at(r, "{}"));
    // An empty id names nobody: "" = "" must not make a requester the data's subject.
    r.data = R"("category":"health_info","subject":"","subject_age":1,"care_team":[],)"
             R"("last_visit":"2025-06-01","self_paid":true)";
    CHECK(error_of(r) == "data.subject: expected a non-empty string" + at(r, R"("",)"));
    r.data = R"("category":"health_info","subject":"p-7","subject_age":1,)"
             R"("care_team":["c-1","c-2",3],"last_visit":"2025-06-01","self_paid":true)";
    CHECK(error_of(r) == "data.care_team[2]: expected a string, found the number 3" + at(r, "3]"));
    r.data = R"("category":"health_info","subject":"p-7","subject_age":1,)"
             R"("care_team":"c-1","last_visit":"2025-06-01","self_paid":true)";
    CHECK(error_of(r) == R"(data.care_team: expected an array of strings, found the string "c-1")" +
                             at(r, R"("c-1")"));
    r.data = R"("category":"health_info","subject":"p-7","subject_age":1,)"
             R"("care_team":[["c-1"]],"last_visit":"2025-06-01","self_paid":true)";
    CHECK(error_of(r) ==
          "data.care_team[0]: expected a string, found an array" + at(r, R"(["c-1"])"));
  }
  SECTION("dates and times") {
    Parts r;
    r.data = R"("category":"health_info","subject":"p-7","subject_age":1,"care_team":[],)"
             R"("last_visit":"2025-06-01T00:00:00Z","self_paid":true)";
    CHECK(error_of(r) ==
          R"(data.last_visit: invalid date "2025-06-01T00:00:00Z": expected a date `YYYY-MM-DD`)" +
              at(r, R"("2025-06-01T)"));
    r.data = R"("category":"health_info","subject":"p-7","subject_age":1,"care_team":[],)"
             R"("last_visit":"2025-02-29","self_paid":true)";
    CHECK(error_of(r) ==
          R"(data.last_visit: invalid date "2025-02-29": day 29 is not in February 2025)" +
              at(r, R"("2025-02-29")"));
    r = Parts{};
    r.context = R"("time":"2026-03-01T10:00:00")";
    CHECK(error_of(r) == R"(context.time: invalid time "2026-03-01T10:00:00": a date-time needs )"
                         "`Z` or an offset such as `+02:00`" +
                             at(r, R"("2026-03-01T)"));
    r.context = R"("time":20260301)";
    CHECK(error_of(r) ==
          "context.time: expected a date or an RFC 3339 date-time, found the number 20260301" +
              at(r, "20260301"));
    r.context = R"("time":"2026-03-01")";
    CHECK(decide(r).clause == "A");
  }
}

TEST_CASE("times honour their offsets; dates are midnight UTC", "[request][attributes]") {
  Parts r;
  r.action = "store";
  r.context =
      R"("time":"2026-03-01T00:30:00+01:00","purpose":"operations")";  // 23:30 the day before
  CHECK(decide(r).clause == "default");
  r.context = R"("time":"2026-02-28T23:30:00-01:00","purpose":"operations")";  // 00:30 UTC
  CHECK(decide(r).clause == "K");
  CHECK(decide(r).effect == Effect::allow);
  r.context = R"("time":"2026-03-01","purpose":"operations")";
  CHECK(decide(r).effect == Effect::allow);
  // Six years after the last visit, keeping is denied, to the second.
  r.context = R"("time":"2031-05-31T23:59:59Z","purpose":"operations")";
  CHECK(decide(r).effect == Effect::allow);
  r.context = R"("time":"2031-06-01T00:00:00Z","purpose":"operations")";
  CHECK(decide(r).effect == Effect::deny);
  CHECK(decide(r).clause == "K");
  // Before `effective from`, every request is denied citing it.
  r.context = R"("time":"2025-12-31T23:59:59Z","purpose":"operations")";
  CHECK(decide(r).clause == "E");
}

TEST_CASE("a purpose covers the purposes under it", "[request][attributes]") {
  Parts r;
  r.action = "store";
  r.context = R"("time":"2026-03-02","purpose":"training")";
  CHECK(decide(r).effect == Effect::allow);
  r.context = R"("time":"2026-03-02")";
  CHECK(decide(r).clause == "default");
}

TEST_CASE("required attributes must be given; optional ones may be left out",
          "[request][attributes]") {
  Parts r;
  r.data = R"("category":"health_info","subject_age":1,"care_team":[],)"
           R"("last_visit":"2025-06-01","self_paid":true)";
  CHECK(error_of(r) == "data.subject: missing field: the policy requires `data.subject` (at 1:1)");
  r = Parts{};
  r.context = "";
  CHECK(error_of(r) == "context.time: missing field: the policy requires `context.time` (at 1:1)");
  r = Parts{};
  r.requester = R"("kind":"person","id":null)";
  CHECK(error_of(r) == "requester.id: missing field: the policy requires `requester.id` (at 1:1)");
  r = Parts{};
  CHECK(error_of(r).empty());  // no `context.destination`
}

TEST_CASE("unknown and duplicate attribute fields are refused", "[request][attributes]") {
  Parts r;
  r.data = R"("category":"health_info","subjct":"p-7")";
  CHECK(error_of(r) ==
        "data.subjct: unknown field `subjct`; did you mean `subject`?" + at(r, R"("subjct")"));
  r = Parts{};
  r.context = R"("time":"2026-03-01","destinaton":"CA")";
  CHECK(error_of(r) ==
        "context.destinaton: unknown field `destinaton`; did you mean "
        "`destination`?" +
            at(r, R"("destinaton")"));
  r = Parts{};
  r.context = R"("time":"2026-03-01","time":"2026-03-02")";
  CHECK(error_of(r) == "context.time: duplicate field" + at(r, R"("time":"2026-03-02")"));
  r = Parts{};
  r.requester = R"("kind":"person","nme":"x")";
  CHECK(error_of(r) ==
        "requester.nme: unknown field `nme`; `requester` has `kind` and `id`" + at(r, R"("nme")"));
}

TEST_CASE("requester.id is an attribute only when the policy declares it",
          "[request][attributes]") {
  Parts r;
  r.requester = R"("kind":"person","id":5)";
  CHECK(error_of(r) == "requester.id: expected a string, found the number 5" + at(r, "5}"));
  // The seed's policy declares no attributes: the id may be a number, a string or null.
  const Policy& privacy = privacy_policy();
  const std::string head =
      R"({"data":{"category":"usage_info"},"action":"collect","requester":{"kind":"the_software",)";
  CHECK(privacy.evaluate_json(head + R"("id":5}})").clause == "1.b");
  CHECK(privacy.evaluate_json(head + R"("id":"u-5"}})").clause == "1.b");
  CHECK(privacy.evaluate_json(head + R"("id":null}})").clause == "1.b");
}

TEST_CASE("objections are declared names that set their bits", "[request][attributes]") {
  Parts r;
  r.requester = R"("kind":"person","id":"p-7")";
  CHECK(decide(r).clause == "A");
  r.context = R"("time":"2026-03-01","objections":["family_disclosure"])";
  CHECK(decide(r).clause == "default");
  r.context = R"("time":"2026-03-01","objections":["family_disclosure","family_disclosure"])";
  CHECK(decide(r).clause == "default");
  r.context = R"("time":"2026-03-01","objections":[])";
  CHECK(decide(r).clause == "A");
  r.context = R"("time":"2026-03-01","objections":["family_disclosur"])";
  CHECK(error_of(r) ==
        "context.objections[0]: unknown objection `family_disclosur`; did you "
        "mean `family_disclosure`?" +
            at(r, R"("family_disclosur")"));
  r.context = R"("time":"2026-03-01","objections":"family_disclosure")";
  CHECK(error_of(r) == R"(context.objections: expected an array of objection names, found the )"
                       R"(string "family_disclosure")" +
                           at(r, R"("family_disclosure")"));
  r.context = R"("time":"2026-03-01","objections":[1])";
  CHECK(error_of(r) ==
        "context.objections[0]: expected an objection's name, found a number" + at(r, "1]"));
}

TEST_CASE("a consent with dates counts only while each date is after the time",
          "[request][attributes]") {
  Parts r;
  r.action = "share";
  r.requester = R"("kind":"outside_party","id":"o-1")";
  const std::string time = R"("time":"2026-03-01T10:00:00+02:00",)";  // 08:00 UTC
  r.context = time + R"("consent":["research_authorization"])";
  CHECK(decide(r).effect == Effect::allow);
  r.context = time + R"("consent":[])";
  CHECK(decide(r).effect == Effect::require_consent);
  r.context = time + R"("consent":[{"id":"research_authorization"}])";
  CHECK(decide(r).effect == Effect::allow);
  r.context =
      time + R"("consent":[{"id":"research_authorization","expires":"2026-03-01T08:00:00Z"}])";
  CHECK(decide(r).effect == Effect::require_consent);
  r.context =
      time + R"("consent":[{"id":"research_authorization","expires":"2026-03-01T08:00:01Z"}])";
  CHECK(decide(r).effect == Effect::allow);
  r.context = time + R"("consent":[{"id":"research_authorization","expires":"2027-01-01",)"
                     R"("withdrawn":"2026-03-01T08:00:00Z"}])";
  CHECK(decide(r).effect == Effect::require_consent);
  r.context =
      time +
      R"("consent":[{"withdrawn":"2026-03-01T09:00:00+01:00","id":"research_authorization"}])";
  CHECK(decide(r).effect == Effect::require_consent);
  // Listed more than once: granted when any entry counts.
  r.context = time + R"("consent":[{"id":"research_authorization","expires":"2026-01-01"},)"
                     R"({"id":"research_authorization","expires":"2027-01-01"}])";
  CHECK(decide(r).effect == Effect::allow);
  r.context = time + R"("consent":[{"id":"research_authorization","expires":"2026-01-01"},)"
                     R"("research_authorization"])";
  CHECK(decide(r).effect == Effect::allow);
  // The destination, when given, is read.
  r.context = time + R"("destination":"CA","consent":["research_authorization"])";
  CHECK(decide(r).clause == "D");
}

TEST_CASE("a consent with dates does not count without a time to hold them against",
          "[request][attributes]") {
  const Policy p = must_compile(R"(policy "U" version "1"
clause "R" "research"
data health_info
requester outside_party
action share
consent research_authorization
require consent research_authorization for share of health_info cites "R"
)");
  const std::string head =
      R"({"data":{"category":"health_info"},"requester":{"kind":"outside_party"},"action":"share",)";
  CHECK(p.evaluate_json(head + R"("context":{"consent":["research_authorization"]}})").effect ==
        Effect::allow);
  CHECK(p.evaluate_json(head + R"("context":{"consent":[{"id":"research_authorization"}]}})")
            .effect == Effect::allow);
  CHECK(p.evaluate_json(head + R"("context":{"consent":[{"id":"research_authorization",)"
                               R"("expires":"2999-01-01"}]}})")
            .effect == Effect::require_consent);
}

TEST_CASE("consent records are checked field by field", "[request][attributes]") {
  Parts r;
  const std::string time = R"("time":"2026-03-01",)";
  r.context = time + R"("consent":["sud_consent",{"expires":"2027-01-01"}])";
  CHECK(error_of(r) == "context.consent[1].id: missing field: a consent record needs `id`" +
                           at(r, R"({"expires")"));
  r.context = time + R"("consent":["sud_consent",{"id":"research_authorisation"}])";
  CHECK(error_of(r) ==
        "context.consent[1].id: unknown consent `research_authorisation`; did "
        "you mean `research_authorization`?" +
            at(r, R"("research_authorisation")"));
  r.context = time + R"("consent":[{"id":"sud_consent","expires":"2027-13-01"}])";
  CHECK(error_of(r) ==
        R"(context.consent[0].expires: invalid time "2027-13-01": month must be 01 to 12)" +
            at(r, R"("2027-13-01")"));
  r.context = time + R"("consent":[{"id":"sud_consent","expires":null}])";
  CHECK(error_of(r) ==
        "context.consent[0].expires: expected a date or an RFC 3339 date-time, found null" +
            at(r, "null"));
  r.context = time + R"("consent":[{"id":"sud_consent","until":"2027-01-01"}])";
  CHECK(error_of(r) ==
        "context.consent[0].until: unknown field `until`; a consent record has "
        "`id`, `expires` and `withdrawn`" +
            at(r, R"("until")"));
  r.context = time + R"("consent":[{"id":"sud_consent","id":"sud_consent"}])";
  CHECK(error_of(r) == "context.consent[0].id: duplicate field" + at(r, R"("id":"sud_consent"}])"));
  r.context = time + R"("consent":[{"id":7}])";
  CHECK(error_of(r) ==
        "context.consent[0].id: expected a consent id, found a number" + at(r, "7}"));
}

// The same request, as a struct and as JSON.
struct Pair {
  Request request;
  std::string json;
};

std::vector<Pair> pairs() {
  std::vector<Pair> out;
  Request base;
  base.data = "health_info";
  base.requester = "person";
  base.action = "access";
  base.attributes = {{"data.subject", std::string("p-7")},
                     {"data.subject_age", std::int64_t{12}},
                     {"data.care_team", std::vector<std::string>{"c-1"}},
                     {"data.last_visit", *parse_date("2025-06-01")},
                     {"data.self_paid", true},
                     {"requester.id", std::string("c-1")},
                     {"context.time", *parse_time("2026-03-01T10:00:00+02:00")}};
  out.push_back({base, Parts{}.json()});

  Request r = base;
  r.requester_id = "p-7";
  r.attributes.erase(r.attributes.begin() + 5);  // requester.id from requester_id
  r.objections = {"family_disclosure"};
  r.purpose = "training";
  r.action = "store";
  Parts parts;
  parts.requester = R"("kind":"person","id":"p-7")";
  parts.action = "store";
  parts.context = R"("time":"2026-03-01T10:00:00+02:00","purpose":"training",)"
                  R"("objections":["family_disclosure"])";
  out.push_back({r, parts.json()});

  r = base;
  r.requester = "outside_party";
  r.action = "share";
  r.consent = {"sud_consent"};
  r.consent_records = {{"research_authorization", *parse_date("2027-01-01"), std::nullopt},
                       {"sud_consent", std::nullopt, *parse_time("2026-03-01T08:00:00Z")}};
  r.attributes.push_back({"context.destination", std::string("US")});
  parts = Parts{};
  parts.requester = R"("kind":"outside_party","id":"c-1")";
  parts.action = "share";
  parts.context = R"("time":"2026-03-01T10:00:00+02:00","destination":"US","consent":)"
                  R"(["sud_consent",{"id":"research_authorization","expires":"2027-01-01"},)"
                  R"({"id":"sud_consent","withdrawn":"2026-03-01T08:00:00Z"}])";
  out.push_back({r, parts.json()});
  return out;
}

TEST_CASE("resolving a Request gives what decoding its JSON gives", "[request][attributes]") {
  using detail::Access;
  for (const Pair& pair : pairs()) {
    INFO(pair.json);
    auto from_struct = policy().resolve(pair.request);
    auto from_json = policy().decode(pair.json);
    REQUIRE(from_struct);
    REQUIRE(from_json);
    CHECK(Access::data(*from_struct) == Access::data(*from_json));
    CHECK(Access::requester(*from_struct) == Access::requester(*from_json));
    CHECK(Access::action(*from_struct) == Access::action(*from_json));
    CHECK(Access::purpose(*from_struct) == Access::purpose(*from_json));
    CHECK(Access::atoms(*from_struct) == Access::atoms(*from_json));
    CHECK(Access::attributes(*from_struct) == Access::attributes(*from_json));
    const Decision a = policy().evaluate(*from_struct);
    const Decision b = policy().evaluate(*from_json);
    CHECK(a.rule == b.rule);
    CHECK(a.effect == b.effect);
  }
}

TEST_CASE("a Request's attributes are checked as JSON's are", "[request][attributes]") {
  const auto error_of_request = [](const Request& r) {
    auto resolved = policy().resolve(r);
    return resolved ? std::string() : resolved.error().to_string();
  };
  Request base = pairs().front().request;
  CHECK(error_of_request(base).empty());

  Request r = base;
  r.attributes.push_back({"data.subjct", std::string("x")});
  CHECK(error_of_request(r) ==
        "data.subjct: unknown attribute `data.subjct`; did you mean "
        "`data.subject`?");
  r = base;
  r.attributes.push_back({"data.subject", std::string("x")});
  CHECK(error_of_request(r) == "data.subject: duplicate field");
  r = base;
  r.attributes[1].value = std::string("12");
  CHECK(error_of_request(r) == "data.subject_age: expected an integer, found a string");
  r = base;
  r.attributes[3].value = *parse_time("2025-06-01T10:00:00Z");
  CHECK(error_of_request(r) ==
        "data.last_visit: expected a date `YYYY-MM-DD`, found the time 2025-06-01T10:00:00Z");
  r = base;
  r.attributes.erase(r.attributes.begin());
  CHECK(error_of_request(r) == "data.subject: missing field: the policy requires `data.subject`");
  r = base;
  r.attributes[0].value = Value{};
  CHECK(error_of_request(r) == "data.subject: missing field: the policy requires `data.subject`");
  r = base;
  r.objections = {"family"};
  CHECK(error_of_request(r) ==
        "context.objections[0]: unknown objection `family`; did you mean "
        "`family_disclosure`?");
  r = base;
  r.consent = {"sud_consent"};
  r.consent_records = {{"reserch_authorization", std::nullopt, std::nullopt}};
  CHECK(error_of_request(r) ==
        "context.consent[1].id: unknown consent `reserch_authorization`; "
        "did you mean `research_authorization`?");
}

TEST_CASE("policies without attributes decode as before, by either reader",
          "[request][attributes]") {
  const Policy& privacy = privacy_policy();
  const std::string text =
      R"({"data":{"category":"contact_info"},"requester":{"kind":"counterparty"},)"
      R"("action":"access","context":{"purpose":"service","consent":["third_party_disclosure"]}})";
  const auto* impl = detail::Access::impl(privacy);
  REQUIRE(detail::fast_decode(*impl, text));
  CHECK(detail::Access::attributes(*detail::fast_decode(*impl, text)).empty());
  CHECK(detail::Access::attributes(*detail::decode_with_positions(*impl, text)).empty());
}

TEST_CASE("the quick reader reads attributes as the full reader does, or leaves them to it",
          "[request][attributes]") {
  using detail::Access;
  const auto* impl = Access::impl(policy());
  std::vector<std::string> texts;
  for (const Pair& pair : pairs())
    texts.push_back(pair.json);
  const std::string data_head = R"("category":"health_info","subject":"p-7",)";
  const std::string data_tail =
      R"("care_team":["c-1","c-2"],"last_visit":"2025-06-01","self_paid":false)";
  for (const char* age :
       {"12", "-0", "0", "17", "18", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "012", "12.0", "1e2", "-", "\"12\"", "null"}) {
    Parts r;
    r.data = data_head + R"("subject_age":)" + age + "," + data_tail;
    texts.push_back(r.json());
  }
  for (const char* time :
       {R"("2026-03-01")", R"("2026-03-01T10:00:00Z")", R"("2026-03-01T10:00:00.5-01:30")",
        R"("2026-02-30")", R"("x")", "1", "null"}) {
    Parts r;
    r.context = std::string(R"("time":)") + time + R"(,"objections":["family_disclosure"])";
    texts.push_back(r.json());
  }
  Parts r;
  r.context = R"("time":"2026-03-01","objections":["family"])";
  texts.push_back(r.json());
  r.context = R"("time":"2026-03-01","destination":"CA","consent":["research_authorization"])";
  texts.push_back(r.json());
  r.requester = R"("kind":"person","id":null)";
  texts.push_back(r.json());
  r.requester = R"("kind":"person")";
  texts.push_back(r.json());
  std::size_t quick = 0;
  for (const std::string& text : texts) {
    INFO(text);
    const auto fast = detail::fast_decode(*impl, text);
    const auto full = detail::decode_with_positions(*impl, text);
    if (!fast) continue;
    ++quick;
    REQUIRE(full);
    CHECK(Access::atoms(*fast) == Access::atoms(*full));
    CHECK(Access::attributes(*fast) == Access::attributes(*full));
    CHECK(Access::purpose(*fast) == Access::purpose(*full));
  }
  CHECK(quick >= 12);  // the common requests take the quick way
  CHECK(detail::fast_decode(*impl, Parts{}.json()));
}

TEST_CASE("the quick reader reads dated consents as the full reader does, or leaves them to it",
          "[request][attributes]") {
  using detail::Access;
  const auto* impl = Access::impl(policy());
  const std::vector<std::string> consents = {
      R"(["sud_consent",{"id":"research_authorization","expires":"2026-03-02"}])",
      R"([{"id":"sud_consent","expires":"2026-03-01T10:00:00+02:00"}])",
      R"([{"id":"sud_consent","expires":"2026-03-01T10:00:00.000001+02:00"}])",
      R"([{"expires":"2027-01-01","id":"sud_consent","withdrawn":"2026-03-01"}])",
      R"([{"id":"sud_consent","withdrawn":"2026-03-02"},{"id":"sud_consent"}])",
      R"([{"id":"sud_consent","expires":"2026-02-28"},"sud_consent"])",
      R"([ { "id" : "research_authorization" , "withdrawn" : "2030-12-31T23:59:59Z" } ])",
      R"([{}])",
      R"([{"expires":"2027-01-01"}])",
      R"([{"id":"sud_consent","id":"sud_consent"}])",
      R"([{"id":"sud_consent","until":"2027-01-01"}])",
      R"([{"id":"sud","expires":"2027-01-01"}])",
      R"([{"id":"sud_consent","expires":"2027-02-29"}])",
      R"([{"id":"sud_consent","expires":null}])",
      R"([{"id":"sud_consent","expires":20270101}])",
      R"([{"id":["sud_consent"]}])",
      R"([[{"id":"sud_consent"}]])",
  };
  std::vector<std::string> texts;
  for (const std::string& consent : consents) {
    Parts r;
    r.context = R"("time":"2026-03-01T10:00:00+02:00","consent":)" + consent;
    texts.push_back(r.json());
    r.context = R"("consent":)" + consent;  // no time: --as-of gives one, or none counts
    texts.push_back(r.json());
  }
  const std::optional<Instant> as_of = *parse_time("2026-03-01");
  std::size_t quick = 0;
  for (const std::string& text : texts) {
    for (const std::optional<Instant>& time : {std::optional<Instant>(), as_of}) {
      INFO(text << (time ? " as of 2026-03-01" : ""));
      const auto fast = detail::fast_decode(*impl, text, time);
      const auto full = detail::decode_with_positions(*impl, text, time);
      const auto decoded = policy().decode(text, time);
      REQUIRE(decoded.has_value() == full.has_value());
      if (!decoded) CHECK(decoded.error().to_string() == full.error().to_string());
      if (!fast) continue;
      ++quick;
      REQUIRE(full);
      CHECK(Access::atoms(*fast) == Access::atoms(*full));
      CHECK(Access::attributes(*fast) == Access::attributes(*full));
    }
  }
  CHECK(quick == 21);  // the seven valid records, with a time, without, and as of a time
}

}  // namespace
}  // namespace clause::test
