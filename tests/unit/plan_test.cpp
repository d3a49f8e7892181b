// Plans: for every completion of a partial request, the parts that hold name the outcome,
// rule, clause and obligations that evaluating the completed request gives. Held against
// evaluation on the seed's policy, the clinic's, and random policies with attributes.
#include "clause/plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <random>

#include "clause/detail.hpp"
#include "grid_request.hpp"
#include "random_attribute_policy.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

bool all_hold(const PlanPart& part, const Request& r) {
  return std::all_of(part.conditions.begin(), part.conditions.end(),
                     [&](const PlanTest& t) { return holds(t, r); });
}

std::string describe(const Plan& p) {
  std::string out;
  for (const PlanOutcome& o : p.outcomes) {
    out += fmt::format("{}{}:\n", to_string(o.effect), o.consent.empty() ? "" : " " + o.consent);
    for (const PlanPart& part : o.parts)
      out += fmt::format("  {} [{}]\n", to_string(part), part.rule);
  }
  return out;
}

std::string request_text(const Request& r) {
  std::string out =
      fmt::format("{} {} {} purpose={} facts=[{}] consent=[{}] objections=[{}]", r.data,
                  r.requester, r.action, r.purpose.value_or("-"), fmt::join(r.facts, ","),
                  fmt::join(r.consent, ","), fmt::join(r.objections, ","));
  for (const Attribute& a : r.attributes)
    out += fmt::format(" {}={}", a.path, detail::value_text(a.value));
  return out;
}

// Checks one completion against the plan: the parts that hold all belong to the outcome
// and rule that evaluation gives, and at least one holds.
void check_completion(const Policy& policy, const Plan& plan, const Request& completed) {
  const Decision d = policy.evaluate(completed);
  INFO("completion: " << request_text(completed));
  INFO("decision: " << to_string(d.effect) << " " << d.rule << " " << d.error);
  REQUIRE(d.error.empty());
  int held = 0;
  for (const PlanOutcome& o : plan.outcomes) {
    for (const PlanPart& part : o.parts) {
      if (!all_hold(part, completed)) continue;
      ++held;
      INFO("part: " << to_string(part) << " [" << part.rule << "]");
      CHECK(o.effect == d.effect);
      CHECK(o.consent == d.consent);
      CHECK(part.rule == d.rule);
      CHECK(part.clause == d.clause);
      CHECK(std::equal(part.obligations.begin(), part.obligations.end(), d.obligations.begin(),
                       d.obligations.end()));
    }
  }
  CHECK(held >= 1);
  // The outcome's condition, whichever rule decides: of the evaluated outcome alone.
  for (const PlanOutcome& o : plan.outcomes) {
    const bool meets = std::any_of(o.condition.begin(), o.condition.end(), [&](const auto& tests) {
      return std::all_of(tests.begin(), tests.end(),
                         [&](const PlanTest& t) { return holds(t, completed); });
    });
    INFO("outcome " << to_string(o.effect) << " " << o.consent);
    CHECK(meets == (o.effect == d.effect && o.consent == d.consent));
  }
}

TEST_CASE("plan: the seed's policy, with the data category open", "[plan]") {
  const Policy& policy = privacy_policy();
  const dsl::CheckedPolicy& c = detail::Access::impl(policy)->checked();
  std::mt19937_64 rng(16);
  int parts = 0;
  for (const auto& requester : c.requesters) {
    for (const auto& action : c.actions) {
      PartialRequest pr;
      pr.known.requester = requester.name;
      pr.known.action = action.name;
      if (rng() % 3 != 0) pr.known.purpose = c.purposes[rng() % c.purposes.size()].name;
      for (const auto& f : c.facts) {
        if (rng() % 2 != 0) pr.known.facts.push_back(f.name);
      }
      for (const auto& k : c.consents) {
        if (rng() % 3 == 0) pr.known.consent.push_back(k.name);
      }
      pr.unknown = {"data.category"};
      const auto plan = clause::plan(policy, pr);
      REQUIRE(plan);
      REQUIRE(plan->complete);
      INFO(describe(*plan));
      for (const PlanOutcome& o : plan->outcomes)
        parts += static_cast<int>(o.parts.size());
      for (const auto& data : c.data) {
        Request r = pr.known;
        r.data = data.name;
        check_completion(policy, *plan, r);
      }
    }
  }
  CHECK(parts > 0);
}

TEST_CASE("plan: the seed's policy, with the purpose, facts and consents open too", "[plan]") {
  const Policy& policy = privacy_policy();
  const dsl::CheckedPolicy& c = detail::Access::impl(policy)->checked();
  std::mt19937_64 rng(1616);
  for (int round = 0; round < 40; ++round) {
    PartialRequest pr;
    pr.known.requester = c.requesters[rng() % c.requesters.size()].name;
    pr.known.action = c.actions[rng() % c.actions.size()].name;
    pr.unknown = {"data.category", "context.purpose", "context.consent"};
    for (const auto& f : c.facts)
      pr.unknown.push_back("context." + f.name);
    const auto plan = clause::plan(policy, pr);
    REQUIRE(plan);
    REQUIRE(plan->complete);
    INFO(describe(*plan));
    for (int n = 0; n < 300; ++n) {
      Request r = pr.known;
      r.data = c.data[rng() % c.data.size()].name;
      if (const auto k = rng() % (c.purposes.size() + 1); k < c.purposes.size())
        r.purpose = c.purposes[k].name;
      for (const auto& f : c.facts) {
        if (rng() % 2 != 0) r.facts.push_back(f.name);
      }
      for (const auto& k : c.consents) {
        if (rng() % 2 != 0) r.consent.push_back(k.name);
      }
      check_completion(policy, *plan, r);
    }
  }
}

TEST_CASE("plan: random policies with attributes, every kind of field open", "[plan][property]") {
  std::mt19937_64 rng(1601);
  int checked = 0;
  for (int round = 0; round < 60; ++round) {
    const std::string text = random_attribute_policy(rng, 2 + static_cast<int>(rng() % 6), 0);
    INFO(text);
    const Policy policy = must_compile(text);
    const dsl::CheckedPolicy& c = detail::Access::impl(policy)->checked();
    const auto grid = whole_grid(c);
    if (grid.empty()) continue;
    for (int ask = 0; ask < 5; ++ask) {
      // A known request from the grid, then some of its fields opened.
      const Request full = grid_request(rng, c, grid);
      PartialRequest pr;
      pr.known = full;
      const auto open = [&](const std::string& field) { pr.unknown.push_back(field); };
      if (rng() % 2 != 0) {
        open("data.category");
        pr.known.data.clear();
      }
      if (rng() % 3 == 0) {
        open("context.purpose");
        pr.known.purpose.reset();
      }
      if (rng() % 3 == 0) {
        open("context.consent");
        pr.known.consent.clear();
      }
      if (rng() % 3 == 0) {
        open("context.objections");
        pr.known.objections.clear();
      }
      if (rng() % 3 == 0) {
        open("context.f0");
        std::erase(pr.known.facts, "f0");
      }
      std::vector<std::string> open_paths;
      for (const auto& a : c.attributes) {
        if (rng() % 2 == 0) continue;
        open(a.path);
        open_paths.push_back(a.path);
        std::erase_if(pr.known.attributes, [&](const Attribute& x) { return x.path == a.path; });
        if (a.path == "requester.id") pr.known.requester_id.clear();
      }
      const auto plan = clause::plan(policy, pr);
      REQUIRE(plan);
      if (!plan->complete) continue;
      INFO(describe(*plan));
      ++checked;
      for (int n = 0; n < 200; ++n) {
        // A completion: a random request from the grid, with the known fields put back.
        const Request other = grid_request(rng, c, grid);
        Request r = pr.known;
        const auto is_open = [&](const std::string& f) {
          return std::find(pr.unknown.begin(), pr.unknown.end(), f) != pr.unknown.end();
        };
        if (is_open("data.category")) r.data = other.data;
        if (is_open("context.purpose")) r.purpose = other.purpose;
        if (is_open("context.consent")) r.consent = other.consent;
        if (is_open("context.objections")) r.objections = other.objections;
        if (is_open("context.f0") &&
            std::find(other.facts.begin(), other.facts.end(), "f0") != other.facts.end())
          r.facts.push_back("f0");
        for (const Attribute& a : other.attributes) {
          if (is_open(a.path)) r.attributes.push_back(a);
        }
        if (is_open("requester.id")) r.requester_id = other.requester_id;
        check_completion(policy, *plan, r);
      }
    }
  }
  CHECK(checked > 100);
}

TEST_CASE("plan: mistakes in the partial request name the field", "[plan]") {
  const Policy& policy = privacy_policy();
  PartialRequest pr;
  pr.known.requester = "affiliate";
  pr.known.action = "access";
  pr.known.data = "contact_info";
  pr.unknown = {"data.category"};
  auto plan = clause::plan(policy, pr);
  REQUIRE(!plan);
  CHECK(plan.error().field == "data.category");
  CHECK(plan.error().message == "given, and also listed as unknown");
  pr.known.data.clear();
  pr.unknown = {"data.colour"};
  plan = clause::plan(policy, pr);
  REQUIRE(!plan);
  CHECK(plan.error().field == "unknown[0]");
  CHECK(plan.error().name == "data.colour");
  pr.unknown = {"action"};
  plan = clause::plan(policy, pr);
  REQUIRE(!plan);
  CHECK(plan.error().field == "unknown[0]");
  pr.unknown = {"data.category"};
  pr.known.requester = "afiliate";
  plan = clause::plan(policy, pr);
  REQUIRE(!plan);
  CHECK(plan.error().field == "requester.kind");
}

}  // namespace
}  // namespace clause::test

namespace clause::test {
namespace {

TEST_CASE("plan: JSON partial requests, and their mistakes with positions", "[plan]") {
  const Policy policy = must_compile(read_file(source_dir() / "policies" / "clinic.policy"));
  const auto plan = plan_json(policy, R"({"requester": {"kind": "person", "id": "p-1"},
 "action": "access", "context": {"time": "2026-05-01"}, "unknown": ["data"]})");
  REQUIRE(plan);
  REQUIRE(plan->complete);
  CHECK(plan->unknown == std::vector<std::string>{"data"});
  REQUIRE(plan->outcomes.at(0).effect == Effect::allow);
  CHECK(to_string(plan->outcomes[0].parts.at(0)) == "data.subject = \"p-1\"");
  CHECK(plan->outcomes[0].parts[0].rule == "A/1");

  const auto error = [&](std::string_view text) {
    auto p = plan_json(policy, text);
    REQUIRE(!p);
    return p.error().to_string();
  };
  CHECK(error(R"({"requester": {"kind": "person"}, "action": "access",
 "unknown": ["data", "context.consnt"]})") ==
        "unknown[1]: not a field the policy lets a plan leave open; did you mean "
        "`context.consent`? (at 2:22)");
  CHECK(error(R"({"data": {"category": "lab_result"}, "requester": {"kind": "person", "id": "p"},
 "action": "access", "context": {"time": "2026-05-01"}, "unknown": ["data"]})") ==
        "data.category: given, and also listed as unknown (at 1:11)");
  CHECK(
      error(R"({"requester": {"kind": "person"}, "action": "access", "unknown": "data"})") ==
      "unknown: expected an array of the fields left unknown, found the string \"data\" (at 1:66)");
  CHECK(error(R"({"requester": {"kind": "person", "id": "p"}, "action": "access",
 "context": {"time": "2026-05-01"}, "unknown": []})") ==
        "data.category: missing field: the data's category is required (at 1:1)");
  CHECK(error(R"({"requester": {"kind": "person", "id": "p"}, "action": "access",
 "context": {"consent": [{"id": "sud_consent", "expires": "2027-01-01"}]},
 "unknown": ["data", "context.time"]})")
            .starts_with("context.consent: a consent with dates needs a known `context.time`"));
}

}  // namespace
}  // namespace clause::test

namespace clause::test {

TEST_CASE("plan: past its bounds a plan is incomplete, and says so at once", "[plan]") {
  const Policy clinic = must_compile(read_file(source_dir() / "policies" / "clinic.policy"));
  const std::string person = R"({"requester": {"kind": "person", "id": "p-1"}, "action": "access",
    "context": {"time": "2026-05-01T09:00:00Z"}, "unknown": ["data", "context.objections"]})";
  const auto whole = plan_json(clinic, person);
  REQUIRE(whole);
  CHECK(whole->complete);
  // The work of growing the conditions: a bound it cannot keep to.
  const auto bounded = plan_json(clinic, person, PlanOptions{1000});
  REQUIRE(bounded);
  CHECK_FALSE(bounded->complete);
  CHECK(bounded->outcomes.empty());
  // Open facts, consents and objections the rules read: at most 20, and at most 300,000
  // classes.
  std::string text =
      "policy \"f\" version \"1\"\nclause \"c\" \"words\"\ndata d\nrequester r\n"
      "action a\n";
  for (int i = 0; i < 21; ++i)
    text += fmt::format("fact f{}\nallow a of d by r when f{} cites \"c\"\n", i, i);
  const Policy facts = must_compile(text);
  PartialRequest pr;
  pr.known.data = "d";
  pr.known.requester = "r";
  pr.known.action = "a";
  for (int i = 0; i < 21; ++i)
    pr.unknown.push_back(fmt::format("context.f{}", i));
  const auto many = clause::plan(facts, pr);
  REQUIRE(many);
  CHECK_FALSE(many->complete);
  // Within the bounds, the same policy plans.
  pr.unknown.resize(12);
  const auto twelve = clause::plan(facts, pr);
  REQUIRE(twelve);
  CHECK(twelve->complete);
}

}  // namespace clause::test
