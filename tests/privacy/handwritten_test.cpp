// The hand-written decision function of the benchmark suite (tests/bench/handwritten_privacy)
// against the engine running policies/privacy.policy: effect, clause and consent agree on the
// request space of the oracle test (through the public name path), on the requests the
// benchmarks time, on random requests and on the whole cross product of the vocabulary. A
// disagreement means either the yardstick or the policy is wrong.
#include <random>

#include "bench/handwritten_privacy.hpp"
#include "clause/detail.hpp"
#include "oracle.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

namespace hw = clause::handwritten;

std::string describe(const Request& r) {
  std::string s = "data=" + r.data + " requester=" + r.requester + " action=" + r.action +
                  " purpose=" + r.purpose.value_or("") + " facts=[";
  for (const auto& f : r.facts)
    s += f + " ";
  s += "] consent=[";
  for (const auto& c : r.consent)
    s += c + " ";
  return s + "]";
}

// Checks one request. FAIL ends the test case, so that one mistake does not print millions
// of lines.
void check_agrees(const Policy& policy, const Request& r, const hw::PrivacyRequest& q) {
  const Decision want = policy.evaluate(r);
  const hw::PrivacyDecision got = hw::decide_privacy(q);
  if (to_string(want.effect) != hw::to_string(got.effect) ||
      want.clause != hw::to_string(got.clause) || want.consent != hw::to_string(got.consent)) {
    FAIL(describe(r) << ": engine " << to_string(want.effect) << " " << want.clause << " "
                     << want.consent << " (" << want.rule << "), hand-written "
                     << hw::to_string(got.effect) << " " << hw::to_string(got.clause) << " "
                     << hw::to_string(got.consent));
  }
}

hw::PrivacyRequest must_convert(const Request& r) {
  const auto q = hw::to_privacy_request(r);
  if (!q) FAIL("cannot convert " << describe(r));
  return *q;
}

TEST_CASE("the hand-written privacy function agrees with the engine on the whole request space",
          "[privacy][handwritten]") {
  const Policy& policy = privacy_policy();
  // The space of "the whole request space agrees with the independent reading": every name,
  // no purpose or each purpose, consent none, each or both, and the fact sets none, all, each
  // alone, all but one, and every pair.
  const auto& facts = oracle::facts();
  const auto& consents = oracle::consents();
  std::vector<std::vector<std::size_t>> fact_sets = {{}};
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i < facts.size(); ++i)
    all.push_back(i);
  fact_sets.push_back(all);
  for (std::size_t i = 0; i < facts.size(); ++i) {
    fact_sets.push_back({i});
    std::vector<std::size_t> but_one;
    for (std::size_t j = 0; j < facts.size(); ++j) {
      if (j != i) but_one.push_back(j);
    }
    fact_sets.push_back(but_one);
    for (std::size_t j = i + 1; j < facts.size(); ++j)
      fact_sets.push_back({i, j});
  }
  const std::vector<std::vector<std::size_t>> consent_sets = {{}, {0}, {1}, {0, 1}};
  std::vector<std::optional<std::string>> purposes = {std::nullopt};
  for (const auto& p : oracle::purposes())
    purposes.emplace_back(p);

  // The fact and consent bits of the hand-written request, by the oracle's index, found by
  // converting one-name requests so that the two lists need not share an order.
  std::vector<std::uint16_t> fact_bit;
  for (const auto& f : facts) {
    fact_bit.push_back(
        must_convert({"personal_info", "user", "", "use", {}, {f}, {}, {}, {}, {}}).facts);
  }
  std::vector<std::uint8_t> consent_bit;
  for (const auto& c : consents) {
    consent_bit.push_back(
        must_convert({"personal_info", "user", "", "use", {}, {}, {c}, {}, {}, {}}).consent);
  }

  std::size_t checked = 0;
  Request r;
  r.requester_id = "r-1";
  for (const auto& data : oracle::data_categories()) {
    r.data = data;
    for (const auto& requester : oracle::requester_kinds()) {
      r.requester = requester;
      for (const auto& action : oracle::actions()) {
        r.action = action;
        for (const auto& purpose : purposes) {
          r.purpose = purpose;
          hw::PrivacyRequest q = must_convert(r);
          for (const auto& consent_set : consent_sets) {
            r.consent.clear();
            q.consent = 0;
            for (std::size_t c : consent_set) {
              r.consent.push_back(consents[c]);
              q.consent = static_cast<std::uint8_t>(q.consent | consent_bit[c]);
            }
            for (const auto& fact_set : fact_sets) {
              r.facts.clear();
              q.facts = 0;
              for (std::size_t f : fact_set) {
                r.facts.push_back(facts[f]);
                q.facts = static_cast<std::uint16_t>(q.facts | fact_bit[f]);
              }
              check_agrees(policy, r, q);
              ++checked;
            }
          }
        }
      }
    }
  }
  // 11 data categories x 11 requester kinds x 10 actions x 8 purposes x 4 consent sets x
  // 106 fact sets.
  CHECK(checked == 4'104'320);
}

TEST_CASE("the hand-written privacy function agrees with the engine on the benchmarked requests",
          "[privacy][handwritten]") {
  // The mix that typed/rules:0 and handwritten/privacy time (tests/bench/benchmarks.cpp).
  const Policy& policy = privacy_policy();
  const auto requests = detail::request_mix(policy, 4096, 42);
  REQUIRE(requests.size() == 4096);
  for (const Request& r : requests)
    check_agrees(policy, r, must_convert(r));
}

TEST_CASE("the hand-written privacy function agrees with the engine on random requests",
          "[privacy][handwritten]") {
  // Any subset of facts and consents, which the space above samples only.
  const Policy& policy = privacy_policy();
  std::mt19937_64 rng(20261130);
  const auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  for (int i = 0; i < 500'000; ++i) {
    Request r;
    r.data = pick(oracle::data_categories());
    r.requester = pick(oracle::requester_kinds());
    r.requester_id = "r-1";
    r.action = pick(oracle::actions());
    if (rng() % 8 != 0) r.purpose = pick(oracle::purposes());
    const std::uint64_t bits = rng();
    for (std::size_t f = 0; f < oracle::facts().size(); ++f) {
      if ((bits >> f) & 1U) r.facts.push_back(oracle::facts()[f]);
    }
    for (std::size_t c = 0; c < oracle::consents().size(); ++c) {
      if ((bits >> (32 + c)) & 1U) r.consent.push_back(oracle::consents()[c]);
    }
    check_agrees(policy, r, must_convert(r));
  }
}

// Every request of the vocabulary: every name, no purpose or each purpose, every subset of
// the consents and of the 13 facts, 317,194,240 requests (about 12 s). Each request without
// facts is resolved once and its fact bits are then set directly, so that the engine runs
// its typed path as in the benchmarks rather than resolving names each time.
TEST_CASE("the hand-written privacy function agrees with the engine on the whole cross product",
          "[privacy][handwritten]") {
  using detail::Access;
  const Policy& policy = privacy_policy();
  const auto& facts = oracle::facts();
  const auto& consents = oracle::consents();
  REQUIRE(facts.size() <= 16);
  // The engine's atom bit and the hand-written bit of each fact, by the oracle's index.
  const auto blank = policy.resolve({"personal_info", "user", "", "use", {}, {}, {}, {}, {}, {}});
  REQUIRE(blank);
  REQUIRE(Access::atoms(*blank).size() == 1);  // the privacy policy's atoms fit one word
  std::vector<std::uint64_t> engine_bit;
  std::vector<std::uint16_t> hand_bit;
  for (const auto& f : facts) {
    const Request one{"personal_info", "user", "", "use", {}, {f}, {}, {}, {}, {}};
    const auto resolved = policy.resolve(one);
    REQUIRE(resolved);
    engine_bit.push_back(Access::atoms(*resolved)[0] ^ Access::atoms(*blank)[0]);
    hand_bit.push_back(must_convert(one).facts);
  }
  const std::size_t fact_sets = std::size_t{1} << facts.size();
  std::vector<std::uint64_t> engine_facts(fact_sets, 0);
  std::vector<std::uint16_t> hand_facts(fact_sets, 0);
  for (std::size_t m = 0; m < fact_sets; ++m) {
    for (std::size_t i = 0; i < facts.size(); ++i) {
      if ((m >> i) & 1U) {
        engine_facts[m] |= engine_bit[i];
        hand_facts[m] = static_cast<std::uint16_t>(hand_facts[m] | hand_bit[i]);
      }
    }
  }
  std::vector<std::optional<std::string>> purposes = {std::nullopt};
  for (const auto& p : oracle::purposes())
    purposes.emplace_back(p);

  std::size_t checked = 0;
  Request r;
  r.requester_id = "r-1";
  for (const auto& data : oracle::data_categories()) {
    r.data = data;
    for (const auto& requester : oracle::requester_kinds()) {
      r.requester = requester;
      for (const auto& action : oracle::actions()) {
        r.action = action;
        for (const auto& purpose : purposes) {
          r.purpose = purpose;
          for (std::size_t c = 0; c < (std::size_t{1} << consents.size()); ++c) {
            r.consent.clear();
            r.facts.clear();
            for (std::size_t k = 0; k < consents.size(); ++k) {
              if ((c >> k) & 1U) r.consent.push_back(consents[k]);
            }
            auto resolved = policy.resolve(r);
            REQUIRE(resolved);
            hw::PrivacyRequest q = must_convert(r);
            const std::uint64_t base = Access::atoms(*resolved)[0];
            for (std::size_t m = 0; m < fact_sets; ++m) {
              Access::atoms(*resolved)[0] = base | engine_facts[m];
              q.facts = hand_facts[m];
              const Decision want = policy.evaluate(*resolved);
              const hw::PrivacyDecision got = hw::decide_privacy(q);
              if (to_string(want.effect) != hw::to_string(got.effect) ||
                  want.clause != hw::to_string(got.clause) ||
                  want.consent != hw::to_string(got.consent)) {
                for (std::size_t i = 0; i < facts.size(); ++i) {
                  if ((m >> i) & 1U) r.facts.push_back(facts[i]);
                }
                check_agrees(policy, r, q);  // fails with the whole request named
              }
            }
            checked += fact_sets;
          }
        }
      }
    }
  }
  // 11 x 11 x 10 x 8 x 4 x 8,192.
  CHECK(checked == 317'194'240);
}

TEST_CASE("the hand-written privacy function's request conversion refuses unknown names",
          "[privacy][handwritten]") {
  CHECK_FALSE(hw::to_privacy_request({"nothing", "user", "", "use", {}, {}, {}, {}, {}, {}}));
  CHECK_FALSE(hw::to_privacy_request({"personal_info", "user", "", "use", "", {}, {}, {}, {}, {}}));
  CHECK_FALSE(
      hw::to_privacy_request({"personal_info", "user", "", "use", {}, {"x"}, {}, {}, {}, {}}));
  CHECK(hw::to_privacy_request(
      {"cookie_data", "counterparty", "", "buy", "dispute", {}, {}, {}, {}, {}}));
}

}  // namespace
}  // namespace clause::test
