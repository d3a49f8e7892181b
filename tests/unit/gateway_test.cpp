// The gateway mapping of `clause serve --gateway`: reading it, its errors (one golden), and
// original requests mapped to clause requests.
#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gateway.hpp"
#include "support.hpp"

using namespace clause;
using namespace clause::test;
namespace gw = clause::cli::gateway;

namespace {

std::string sample_mapping() {
  return read_file(source_dir() / "tools" / "gateway" / "privacy.gateway.json");
}

gw::Mapping must_read(const std::string& text) {
  auto mapping = gw::read_mapping(privacy_policy(), "m.json", text);
  INFO((mapping ? "" : mapping.error()));
  REQUIRE(mapping);
  return std::move(*mapping);
}

std::string error_of(const std::string& text) {
  auto mapping = gw::read_mapping(privacy_policy(), "m.json", text);
  REQUIRE_FALSE(mapping);
  return mapping.error();
}

Result<std::string, std::string> map(const gw::Mapping& m, std::string_view method,
                                     std::string_view uri,
                                     std::map<std::string, std::string> headers = {}) {
  return gw::map_request(m, method, uri, [&headers](std::string_view name) {
    const auto found = headers.find(std::string(name));
    return found == headers.end() ? std::nullopt : std::optional<std::string_view>(found->second);
  });
}

}  // namespace

TEST_CASE("the sample gateway mapping reads, and maps a request", "[gateway]") {
  const gw::Mapping m = must_read(sample_mapping());
  CHECK(m.consent_status == 401);
  const auto request = map(m, "GET", "/records/contact_info/order%2D7?x=1",
                           {{"X-Requester-Kind", "counterparty"},
                            {"X-Consent", "third_party_disclosure, partner_marketing"},
                            {"X-Service-Active", "true"},
                            {"X-Request-ID", "r-1"}});
  REQUIRE(request);
  CHECK(nlohmann::json::parse(*request) ==
        nlohmann::json::parse(R"({"id":"r-1","data":{"category":"contact_info","id":"order-7"},
          "requester":{"kind":"counterparty"},"action":"access",
          "context":{"consent":["third_party_disclosure","partner_marketing"],
                     "service_active":true}})"));
  const auto usage = map(m, "GET", "/usage/9", {{"X-Requester-Kind", "user"}});
  REQUIRE(usage);
  CHECK(nlohmann::json::parse(*usage)["data"]["category"] == "usage_info");
}

TEST_CASE("an original request that does not map is refused with the reason", "[gateway]") {
  const gw::Mapping m = must_read(sample_mapping());
  const std::map<std::string, std::string> who = {{"X-Requester-Kind", "user"}};
  CHECK(map(m, "GET", "/nowhere", who).error() ==
        "the path `/nowhere` matches no route of the mapping");
  CHECK(map(m, "GET", "/records/contact_info", who).error() ==
        "the path `/records/contact_info` matches no route of the mapping");
  CHECK(map(m, "DELETE", "/records/contact_info/1", who).error() ==
        "the method DELETE is not mapped for /records/{category}/{id}");
  CHECK(map(m, "GET", "/records/contact_info/1").error() ==
        "the header X-Requester-Kind is missing; it gives `requester.kind`");
  CHECK(map(m, "GET", "/records/contact_info/1",
            {{"X-Requester-Kind", "user"}, {"X-Service-Active", "yes"}})
            .error() ==
        "the header X-Service-Active gives `context.service_active` the value `yes`; it takes "
        "true or false");
  CHECK(map(m, "GET", "/records/contact%2/1", who).error() ==
        "the path `/records/contact%2/1` has a broken %-escape");
  for (const char* path : {"/records/contact_info/..", "/records/contact_info/%2E", "/records/../1",
                           "/records/contact_info/a%2Fb"}) {
    CHECK(map(m, "GET", path, who).error() ==
          fmt::format("the path `{}` has a `.` or `..` segment or an encoded `/`", path));
  }
  CHECK(map(m, "GET", "records/contact_info/1", who).error() ==
        "the original URI `records/contact_info/1` is not a path");
}

TEST_CASE("a route that does not match leaves no field behind", "[gateway]") {
  const gw::Mapping m = must_read(R"({"schema_version": 1,
    "headers": {"X-Requester-Kind": "requester.kind"},
    "constants": {"action": "access"},
    "routes": [{"path": "/a/{category}/{context.purpose}/x"},
               {"path": "/a/{category}/{id}/y"}]})");
  const auto request = map(m, "GET", "/a/usage_info/marketing/y", {{"X-Requester-Kind", "user"}});
  REQUIRE(request);
  CHECK(nlohmann::json::parse(*request) ==
        nlohmann::json::parse(R"({"data":{"category":"usage_info","id":"marketing"},
          "requester":{"kind":"user"},"action":"access"})"));
}

TEST_CASE("gateway mapping errors name the file, line, column and field", "[gateway]") {
  CHECK(error_of("{\"schema_version\": 1,\n \"routes\": [{\"path\": \"/r/{categry}\"}]}") ==
        "m.json:2:22: error: routes[0].path: `data.categry` is not a request field of the "
        "policy; did you mean `data.category`?");
  CHECK(error_of("{\"schema_version\": 1, \"routes\": [")
            .starts_with("m.json:1:34: error: not valid JSON"));
  CHECK(error_of(R"({"schema_version": 2, "routes": []})") ==
        "m.json:1:20: error: schema_version: schema_version must be 1");
  CHECK(error_of(R"({"schema_version": 1, "rotes": []})") ==
        "m.json:1:23: error: rotes: unknown key `rotes`; did you mean `routes`?");
  CHECK(error_of(R"({"schema_version": 1, "consent_status": 402, "routes": []})") ==
        "m.json:1:41: error: consent_status: consent_status is 401 or 403");
  CHECK(error_of(R"({"schema_version": 1, "headers": {"X-K": "requester.kind"},
    "routes": [{"path": "/r/{category}", "methods": {"GET": {"action": "acess"}}}]})") ==
        "m.json:2:72: error: routes[0].methods.GET.action: `acess` is not an action of the "
        "policy; did you mean `access`?");
  CHECK(error_of(R"({"schema_version": 1, "headers": {"X-K": "requester.kind"},
    "routes": [{"path": "/r/{category}"}]})") ==
        "m.json:2:16: error: routes[0]: nothing gives `action`: bind it in the path, a header, "
        "the methods or the constants");
  CHECK(error_of(R"({"schema_version": 1, "headers": {"X-K": "requester.kind"},
    "constants": {"action": "access", "data.category": "usage_info"},
    "routes": [{"path": "/r/{category}"}]})") ==
        "m.json:3:25: error: routes[0].path: `data.category` is bound twice: by the constants "
        "and by the path");
  CHECK(error_of(R"({"schema_version": 1, "headers": {"X-K": "requester.kind"},
    "constants": {"action": "access", "context.service_active": "yes"},
    "routes": [{"path": "/r/{category}"}]})") ==
        "m.json:2:65: error: constants[\"context.service_active\"]: `context.service_active` "
        "takes true or false");
  CHECK(error_of(R"({"schema_version": 1, "routes": [{"path": "/r/x{id}"}]})")
            .ends_with("`x{id}`: a variable is a whole segment, such as {id}"));
}

TEST_CASE("a gateway mapping diagnostic, as `clause serve` prints it", "[gateway][golden]") {
  const auto input = source_dir() / "tests" / "golden" / "gateway" / "unknown-header-field.json";
  const std::string text = read_file(input);
  auto mapping = gw::read_mapping(privacy_policy(), "unknown-header-field.json", text);
  REQUIRE_FALSE(mapping);
  check_golden(input, mapping.error() + "\n");
}

TEST_CASE("the gateway's answer: status and X-Clause headers", "[gateway]") {
  gw::Mapping m = must_read(sample_mapping());
  const auto header = [](const http::Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::string();
  };
  const Decision consent = privacy_policy().evaluate_json(
      R"({"data":{"category":"usage_info"},"requester":{"kind":"unrelated_third_party"},"action":"access"})");
  REQUIRE(consent.effect == Effect::require_consent);
  auto res = gw::answer(m, consent);
  CHECK(res.status == 401);
  CHECK(header(res, "X-Clause-Consent") == "third_party_disclosure");
  CHECK(header(res, "X-Clause-Clause") == "2.a");
  m.consent_status = 403;
  CHECK(gw::answer(m, consent).status == 403);
  const Decision bad = privacy_policy().evaluate_json(R"({"data":{"category":"nope"}})");
  res = gw::answer(m, bad);
  CHECK(res.status == 403);
  CHECK(header(res, "X-Clause-Decision") == "deny");
  CHECK_FALSE(header(res, "X-Clause-Error").empty());
}

TEST_CASE("a mapping source builds the mapping for each policy, once", "[gateway]") {
  const std::string mapping = R"({"schema_version": 1,
    "headers": {"X-Requester": "requester.kind", "X-Urgent": "context.urgent"},
    "routes": [{"path": "/docs/{category}/{id}", "methods": {"GET": {"action": "read"}}}]})";
  const auto policy = [](std::string_view actions_and_rule) {
    return must_compile(
        fmt::format("policy \"gw\" version \"1\"\nclause \"c\" \"The clause.\"\n"
                    "data info\nrequester company\nfact urgent\n{}\n",
                    actions_and_rule));
  };
  const Policy fits = policy("action read\nallow read of info by company when urgent cites \"c\"");
  const Policy misfit = policy("action write\nallow write of info by company cites \"c\"");
  const gw::MappingSource source("m.json", mapping);

  auto first = source.for_policy(fits);
  INFO((first ? "" : first.error()));
  REQUIRE(first);
  // The fact is shaped as the policy declares it: a header "true" becomes JSON true.
  auto mapped =
      map(**first, "GET", "/docs/info/7", {{"X-Requester", "company"}, {"X-Urgent", "true"}});
  REQUIRE(mapped);
  CHECK(nlohmann::json::parse(*mapped)["context"]["urgent"] == true);
  auto again = source.for_policy(fits);
  REQUIRE(again);
  CHECK(again->get() == first->get());  // built once for one policy

  auto refused = source.for_policy(misfit);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error(),
             Catch::Contains("m.json:") && Catch::Contains("`read` is not an action"));
  // Back to a policy it fits: built again, not the refusal kept.
  CHECK(source.for_policy(fits));
  // No policy at all (a store waiting for its first bundle): refused, never thrown.
  CHECK_FALSE(source.for_policy(Policy{}));
}
