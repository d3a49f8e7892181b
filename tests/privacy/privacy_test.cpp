// The privacy policy against reading.md: the whole request space against an independent
// hand-coded reading of the same tables. (The named cases are in policies/privacy.test,
// run by `clause test`.)
#include <random>

#include "oracle.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

// Builds a request in code from the oracle's form.
Request to_request(const oracle::Request& o) {
  Request r;
  r.data = o.data;
  r.requester = o.requester;
  r.requester_id = "r-1";
  r.action = o.action;
  if (!o.purpose.empty()) r.purpose = o.purpose;
  r.facts.assign(o.facts.begin(), o.facts.end());
  r.consent.assign(o.consent.begin(), o.consent.end());
  return r;
}

void check_against_oracle(const Policy& policy, const oracle::Request& o) {
  const oracle::Expected want = oracle::decide(o);
  const Decision got = policy.evaluate(to_request(o));
  if (to_string(got.effect) != want.decision || got.clause != want.clause ||
      got.consent != want.consent) {
    std::string facts;
    for (const auto& f : o.facts)
      facts += f + " ";
    std::string consent;
    for (const auto& c : o.consent)
      consent += c + " ";
    FAIL("data=" << o.data << " requester=" << o.requester << " action=" << o.action
                 << " purpose=" << o.purpose << " facts=[" << facts << "] consent=[" << consent
                 << "]: expected " << want.decision << " " << want.clause << " " << want.consent
                 << ", got " << to_string(got.effect) << " " << got.clause << " " << got.consent
                 << " (" << got.reason << ")");
  }
}

TEST_CASE("the whole request space agrees with the independent reading", "[privacy][oracle]") {
  const Policy& policy = privacy_policy();
  const auto& facts = oracle::facts();
  std::vector<std::string> purposes = oracle::purposes();
  purposes.insert(purposes.begin(), "");  // no purpose
  // Consent: none, each one, both, and the two facts-sets that matter most below.
  std::vector<std::set<std::string>> consent_sets = {{}};
  for (const auto& c : oracle::consents())
    consent_sets.push_back({c});
  consent_sets.push_back({oracle::consents().begin(), oracle::consents().end()});
  // Facts: none, each alone, all, all but one, and pairs: every rule reads at most two.
  std::vector<std::set<std::string>> fact_sets = {{}};
  std::set<std::string> all(facts.begin(), facts.end());
  fact_sets.push_back(all);
  for (std::size_t i = 0; i < facts.size(); ++i) {
    fact_sets.push_back({facts[i]});
    std::set<std::string> but_one = all;
    but_one.erase(facts[i]);
    fact_sets.push_back(but_one);
    for (std::size_t j = i + 1; j < facts.size(); ++j)
      fact_sets.push_back({facts[i], facts[j]});
  }
  std::size_t checked = 0;
  for (const auto& data : oracle::data_categories()) {
    for (const auto& requester : oracle::requester_kinds()) {
      for (const auto& action : oracle::actions()) {
        for (const auto& purpose : purposes) {
          for (const auto& consent : consent_sets) {
            for (const auto& fact_set : fact_sets) {
              check_against_oracle(policy, {data, requester, action, purpose, fact_set, consent});
              ++checked;
            }
          }
        }
      }
    }
  }
  CHECK(checked > 1000000);
}

TEST_CASE("random requests with random facts agree with the independent reading",
          "[privacy][oracle]") {
  const Policy& policy = privacy_policy();
  std::mt19937_64 rng(20261128);
  const auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  for (int i = 0; i < 300000; ++i) {
    oracle::Request o;
    o.data = pick(oracle::data_categories());
    o.requester = pick(oracle::requester_kinds());
    o.action = pick(oracle::actions());
    if (rng() % 8 != 0) o.purpose = pick(oracle::purposes());
    for (const auto& f : oracle::facts()) {
      if (rng() % 2 == 0) o.facts.insert(f);
    }
    for (const auto& c : oracle::consents()) {
      if (rng() % 2 == 0) o.consent.insert(c);
    }
    check_against_oracle(policy, o);
  }
}

TEST_CASE("the privacy policy cites every clause of reading.md", "[privacy]") {
  const Policy& policy = privacy_policy();
  for (const char* id : {"P",   "1.a", "1.b", "1.c", "1.x.a", "1.x.b", "1.x.c", "2.a",
                         "2.b", "2.c", "3.a", "3.b", "3.c",   "3.d",   "3.e",   "3.f",
                         "3.g", "4",   "5.a", "5.b", "5.c",   "6.a",   "6.b",   "default"}) {
    INFO(id);
    CHECK_FALSE(policy.clause_words(id).empty());
  }
  // Nothing declared goes uncited.
  CHECK(policy.warnings().empty());
}

}  // namespace
}  // namespace clause::test
