// Evaluate stage: what the language says beyond the fixed tiers: the policy's effective
// date, `first` rules and first-tier consent gates, obligations that come with an allow,
// and purposes that form a tree.
#include "clause/json.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const char* const base = R"(policy "t" version "1"
clause "E" "not yet in effect"
clause "G" "a gate"
clause "N" "never"
clause "Y" "yes"
clause "L" "as the law requires"
clause "Q" "ask first"
data info
data record under info
requester clinic
requester outsider
requester police under outsider
action read, keep
purpose treatment, operations
purpose training under operations
purpose audit under training
fact court_order
consent gate_consent, ask_consent
obligation record_it, tell_them
)";

// The errors of a policy that must not compile, warnings left out.
std::vector<Diagnostic> errors_of(const std::string& text) {
  std::vector<Diagnostic> out;
  for (Diagnostic& d : must_fail(text)) {
    if (d.severity == Severity::error) out.push_back(std::move(d));
  }
  return out;
}

Request rq(std::string data, std::string requester, std::string action) {
  Request r;
  r.data = std::move(data);
  r.requester = std::move(requester);
  r.action = std::move(action);
  return r;
}

TEST_CASE("a first rule decides before every fixed tier, in file order", "[eval][tiers]") {
  const Policy p = must_compile(std::string(base) + R"(
exclude record cites "Y"
allow read of info cites "Y"
first deny read of record by police cites "N"
first allow read of record cites "Y"
)");
  // The exclusion would allow; the first rule outranks it.
  CHECK(p.evaluate(rq("record", "police", "read")).clause == "N");
  CHECK(p.evaluate(rq("record", "police", "read")).effect == Effect::deny);
  // The second first rule decides where the first does not match.
  const Decision d = p.evaluate(rq("record", "clinic", "read"));
  CHECK(d.effect == Effect::allow);
  CHECK(d.rule == "Y/3");
}

TEST_CASE("a first-tier requirement is a gate: met, it steps aside", "[eval][tiers]") {
  const Policy p = must_compile(std::string(base) + R"(
first require consent gate_consent for read of record by outsider cites "G"
allow read of record by police when court_order cites "L"
)");
  Request r = rq("record", "police", "read");
  r.facts = {"court_order"};
  Decision d = p.evaluate(r);
  CHECK(d.effect == Effect::require_consent);
  CHECK(d.consent == "gate_consent");
  CHECK(d.clause == "G");
  r.consent = {"gate_consent"};
  d = p.evaluate(r);
  CHECK(d.effect == Effect::allow);
  CHECK(d.clause == "L");
  // Met, with nothing below it: the default denies; the gate never allows by itself.
  r.facts.clear();
  d = p.evaluate(r);
  CHECK(d.effect == Effect::deny);
  CHECK(d.clause == "default");
}

TEST_CASE("an allow carries its rule's obligations; nothing else does", "[eval][obligations]") {
  const Policy p = must_compile(std::string(base) + R"(
allow read of info by police when court_order obliges record_it, tell_them cites "L"
require consent ask_consent for read of info by outsider cites "Q"
)");
  Request r = rq("record", "police", "read");
  r.facts = {"court_order"};
  const Decision d = p.evaluate(r);
  REQUIRE(d.effect == Effect::allow);
  REQUIRE(d.obligations.size() == 2);
  CHECK(d.obligations[0] == "record_it");
  CHECK(d.obligations[1] == "tell_them");
  CHECK(to_json(d).find(R"("obligations":["record_it","tell_them"])") != std::string::npos);
  const Verdict v = p.decide(*p.resolve(r));
  CHECK(p.texts(v).obligations.size() == 2);
  // A met requirement allows without duties.
  r.facts.clear();
  r.consent = {"ask_consent"};
  const Decision met = p.evaluate(r);
  CHECK(met.effect == Effect::allow);
  CHECK(met.clause == "Q");
  CHECK(met.obligations.empty());
  CHECK(to_json(met).find("obligations") == std::string::npos);
}

TEST_CASE("obligations belong to allow rules only", "[check][obligations]") {
  const auto errors = errors_of(std::string(base) + R"(
deny read of info obliges record_it cites "N"
)");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "E249");
}

TEST_CASE("a rule about a purpose covers the purposes under it", "[eval][purposes]") {
  const Policy p = must_compile(std::string(base) + R"(
allow read of info by clinic when purpose is operations cites "Y"
allow keep of info by clinic when purpose in (treatment, training) cites "Y"
)");
  Request r = rq("info", "clinic", "read");
  for (const char* covered : {"operations", "training", "audit"}) {
    r.purpose = covered;
    CHECK(p.evaluate(r).effect == Effect::allow);
  }
  r.purpose = "treatment";
  CHECK(p.evaluate(r).effect == Effect::deny);
  r.action = "keep";
  r.purpose = "audit";
  CHECK(p.evaluate(r).effect == Effect::allow);
  r.purpose = "operations";
  CHECK(p.evaluate(r).effect == Effect::deny);
}

TEST_CASE("dates need context.time, and a policy takes effect once", "[check][time]") {
  auto errors = errors_of(std::string(base) + "effective from 2026-01-01 cites \"E\"\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "E248");
  errors = errors_of(std::string(base) + R"(
attribute context.time time
effective from 2026-01-01 cites "E"
effective from 2026-02-01 cites "E"
allow read of info from 2026-02-30 cites "Y"
)");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].code == "E250");
  CHECK(errors[1].code == "E246");
}

}  // namespace
}  // namespace clause::test
