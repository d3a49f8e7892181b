// Analysis: `clause verify` proves assertions exactly; brute force over the whole request
// space of small random policies agrees with it, and every counterexample is real.
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "analysis/attribute_classes.hpp"
#include "clause/analyze.hpp"
#include "clause/detail.hpp"
#include "clause/diff.hpp"
#include "clause/matrix.hpp"
#include "clause/verify.hpp"
#include "random_attribute_policy.hpp"
#include "random_policy.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

// An assertion over the random policies' vocabulary.
std::string random_assertion(std::mt19937_64& rng, int data, int requesters) {
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const auto set = [&](const char* prefix, int n) {
    std::string s;
    const int count = 1 + pick(2);
    for (int i = 0; i < count; ++i)
      s += fmt::format("{}{}{}", i ? ", " : "", prefix, pick(n));
    return s;
  };
  std::string a = pick(2) ? "assert always " : "assert never ";
  switch (pick(4)) {
    case 0:
      a += "allow ";
      break;
    case 1:
      a += "deny ";
      break;
    case 2:
      a += "require consent ";
      break;
    default:
      a += fmt::format("require consent k{} for ", pick(2));
      break;
  }
  if (pick(3) != 0) a += set("a", 4) + " ";
  if (pick(3) != 0) a += "of " + set("d", data) + " ";
  if (pick(3) != 0) a += "by " + set("r", requesters) + " ";
  if (pick(2) != 0) a += fmt::format("when {}f{} ", pick(2) ? "not " : "", pick(4));
  if (pick(2) != 0) a += fmt::format("unless consent k{} or purpose is p{}", pick(2), pick(3));
  return a + "\n";
}

TEST_CASE("verify agrees with brute force on random policies and assertions", "[verify]") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 60; ++round) {
    std::string text = random_policy(rng, 1 + static_cast<int>(rng() % 12));
    const Policy plain = must_compile(text);
    const auto& vocabulary = detail::Access::impl(plain)->checked();
    for (int k = 0; k < 4; ++k) {
      text += random_assertion(rng, static_cast<int>(vocabulary.data.size()),
                               static_cast<int>(vocabulary.requesters.size()));
    }
    const Policy p = must_compile(text);
    const detail::PolicyImpl& impl = *detail::Access::impl(p);
    const dsl::CheckedPolicy& c = impl.checked();
    const std::vector<AssertionResult> results = verify(p);
    REQUIRE(results.size() == c.assertions.size());
    INFO(text);
    for (std::size_t n = 0; n < c.assertions.size(); ++n) {
      const dsl::CheckedAssertion& a = c.assertions[n];
      const auto in = [](const dsl::IdSet& set, const std::vector<dsl::Term>& terms,
                         std::uint32_t id, bool tree) {
        if (set.any) return true;
        return std::any_of(set.ids.begin(), set.ids.end(), [&](std::uint32_t m) {
          return tree ? terms[id].first >= terms[m].first && terms[id].first < terms[m].last
                      : id == m;
        });
      };
      bool holds_everywhere = true;
      for (std::uint32_t d = 0; d < c.data.size() && holds_everywhere; ++d) {
        for (std::uint32_t q = 0; q < c.requesters.size() && holds_everywhere; ++q) {
          for (std::uint32_t act = 0; act < c.actions.size() && holds_everywhere; ++act) {
            if (!in(a.data, c.data, d, true) || !in(a.requesters, c.requesters, q, true) ||
                !in(a.actions, c.actions, act, false)) {
              continue;
            }
            for (int purpose = -1; purpose < 3; ++purpose) {
              for (int bits = 0; bits < 64; ++bits) {
                detail::Assignment x;
                x.facts.assign(c.facts.size(), false);
                x.consents.assign(c.consents.size(), false);
                x.purpose = purpose;
                Request r;
                r.data = c.data[d].name;
                r.requester = c.requesters[q].name;
                r.action = c.actions[act].name;
                if (purpose >= 0) r.purpose = c.purposes[static_cast<std::size_t>(purpose)].name;
                for (std::uint32_t f = 0; f < 4; ++f) {
                  x.facts[f] = ((bits >> f) & 1) != 0;
                  if (x.facts[f]) r.facts.push_back(c.facts[f].name);
                }
                for (std::uint32_t k2 = 0; k2 < 2; ++k2) {
                  x.consents[k2] = ((bits >> (4 + k2)) & 1) != 0;
                  if (x.consents[k2]) r.consent.push_back(c.consents[k2].name);
                }
                if (!detail::holds(a.when, x)) continue;
                if (a.unless && detail::holds(*a.unless, x)) continue;
                const Decision dec = p.evaluate(r);
                const bool is =
                    dec.effect == (a.effect == ast::Effect::allow  ? Effect::allow
                                   : a.effect == ast::Effect::deny ? Effect::deny
                                                                   : Effect::require_consent) &&
                    (a.consent < 0 ||
                     dec.consent == c.consents[static_cast<std::size_t>(a.consent)].name);
                if (is != a.always) holds_everywhere = false;
              }
            }
          }
        }
      }
      INFO("assertion " << results[n].text);
      CHECK(results[n].complete);
      CHECK(results[n].proved == holds_everywhere);
      if (results[n].counterexample) {
        // The counterexample is real: evaluating it gives the reported decision.
        const Decision dec = p.evaluate(*results[n].counterexample);
        CHECK(dec.error.empty());
        CHECK(dec.effect == results[n].effect);
        CHECK(dec.clause == results[n].clause);
      }
    }
  }
}

TEST_CASE("the decision matrix agrees with brute force on random policies", "[matrix]") {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 40; ++round) {
    const std::string text = random_policy(rng, 1 + static_cast<int>(rng() % 14));
    const Policy p = must_compile(text);
    const Matrix m = decision_matrix(p);
    INFO(text);
    for (std::size_t a = 0; a < m.actions.size(); ++a) {
      for (std::size_t d = 0; d < m.data.size(); ++d) {
        for (std::size_t r = 0; r < m.requesters.size(); ++r) {
          // Every decision any request of this cell gets, with the purposes it comes under.
          std::map<std::string, std::set<std::string>> seen;
          for (int purpose = -1; purpose < 3; ++purpose) {
            for (int bits = 0; bits < 64; ++bits) {
              Request q = small_request(m.data[d], m.requesters[r], m.actions[a], purpose, bits);
              const Decision dec = p.evaluate(q);
              seen[fmt::format("{} {} {}", to_string(dec.effect), dec.clause, dec.consent)].insert(
                  q.purpose.value_or(""));
            }
          }
          const MatrixCell& cell = m.at(a, d, r);
          std::map<std::string, std::set<std::string>> claimed;
          for (const auto& o : cell.outcomes) {
            claimed[fmt::format("{} {} {}", to_string(o.effect), o.clause, o.consent)].insert(
                o.purposes.begin(), o.purposes.end());
          }
          CHECK(claimed == seen);
          CHECK(cell.depends_on.empty() == (cell.outcomes.size() == 1));
        }
      }
    }
  }
}

TEST_CASE("analyze counts conflicts and defaults exactly, as brute force does", "[analyze]") {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 40; ++round) {
    const std::string text = random_policy(rng, 1 + static_cast<int>(rng() % 14));
    const Policy p = must_compile(text);
    const detail::PolicyImpl& impl = *detail::Access::impl(p);
    const dsl::CheckedPolicy& c = impl.checked();
    const Analysis a = analyze(p);
    std::map<std::pair<std::size_t, std::size_t>, std::uint64_t> conflicts;
    std::uint64_t total = 0;
    std::uint64_t defaulted = 0;
    const auto effect_class = [&](std::size_t i) {
      const auto& r = c.rules[i];
      if (r.effect == ast::Effect::require_consent) return 2 + r.consent;
      return r.effect == ast::Effect::deny ? 1 : 0;
    };
    for (const auto& data : c.data) {
      for (const auto& requester : c.requesters) {
        for (const auto& action : c.actions) {
          for (int purpose = -1; purpose < 3; ++purpose) {
            for (int bits = 0; bits < 64; ++bits) {
              Request q = small_request(data.name, requester.name, action.name, purpose, bits);
              const Decision d = p.evaluate(q, EvalOptions{.trace = true});
              ++total;
              if (d.clause == "default") ++defaulted;
              std::vector<std::size_t> matched;
              for (std::size_t i = 0; i < d.trace.size(); ++i) {
                const Outcome o = d.trace[i].outcome;
                if (o == Outcome::decided || o == Outcome::outranked ||
                    o == Outcome::consent_granted) {
                  matched.push_back(i);
                }
              }
              for (std::size_t x = 0; x < matched.size(); ++x) {
                for (std::size_t y = x + 1; y < matched.size(); ++y) {
                  const bool fx = c.rules[matched[x]].tier == dsl::Tier::fallback;
                  const bool fy = c.rules[matched[y]].tier == dsl::Tier::fallback;
                  if (fx != fy || effect_class(matched[x]) == effect_class(matched[y])) continue;
                  ++conflicts[{matched[x], matched[y]}];
                }
              }
            }
          }
        }
      }
    }
    INFO(text);
    CHECK(a.total_requests == total);
    std::uint64_t claimed_default = 0;
    for (const auto& d : a.defaults)
      claimed_default += d.requests;
    CHECK(claimed_default == defaulted);
    std::map<std::pair<std::size_t, std::size_t>, std::uint64_t> claimed;
    for (const auto& k : a.conflicts) {
      claimed[{k.first, k.second}] = k.requests;
      // The witness is matched by both rules.
      const Decision d = p.evaluate(k.witness, EvalOptions{.trace = true});
      CHECK(d.trace[k.first].outcome != Outcome::condition_false);
      CHECK(d.trace[k.second].outcome != Outcome::condition_false);
    }
    CHECK(claimed == conflicts);
  }
}

TEST_CASE("diff finds exactly the requests two versions decide differently", "[diff]") {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 40; ++round) {
    // Two versions over one vocabulary: the second drops, keeps or changes rules.
    const std::string old_text = random_policy(rng, 2 + static_cast<int>(rng() % 10));
    std::string new_text;
    std::istringstream lines(old_text);
    std::string line;
    while (std::getline(lines, line)) {
      const bool rule = line.find(" cites \"c\"") != std::string::npos;
      if (rule && rng() % 3 == 0) continue;                       // drop it
      if (rule && rng() % 3 == 0 && line.starts_with("allow")) {  // turn it into a deny
        line.replace(0, 5, "deny");
      }
      new_text += line + "\n";
    }
    if (rng() % 2 == 0) new_text += "fact f9\ndeny a0 when f9 cites \"c\"\n";  // a new name
    const Policy before = must_compile(old_text);
    const Policy after = must_compile(new_text);
    const Diff d = diff_policies(before, after);
    const dsl::CheckedPolicy& c = detail::Access::impl(after)->checked();
    // A request naming f9 is invalid under the old version: not compared, but reported.
    const bool has_f9 = new_text.find("fact f9") != std::string::npos;
    CHECK(d.names.size() == (has_f9 ? 1U : 0U));
    if (has_f9) {
      CHECK(d.names[0].kind == "facts");
      CHECK(d.names[0].added == std::vector<std::string>{"f9"});
    }
    std::uint64_t changed = 0;
    std::uint64_t total = 0;
    for (const auto& data : c.data) {
      for (const auto& requester : c.requesters) {
        for (const auto& action : c.actions) {
          for (int purpose = -1; purpose < 3; ++purpose) {
            for (int bits = 0; bits < 64; ++bits) {
              Request q = small_request(data.name, requester.name, action.name, purpose, bits);
              const Decision x = before.evaluate(q);
              const Decision y = after.evaluate(q);
              ++total;
              if (x.effect != y.effect || x.clause != y.clause || x.consent != y.consent) {
                ++changed;
              }
            }
          }
        }
      }
    }
    INFO(old_text << "---\n" << new_text);
    CHECK(d.total == total);
    CHECK(d.changed == changed);
    check_diff_witnesses(before, after, d);
  }
}

// The decisions of two versions on one request, as the diff compares them.
std::string decision_key(const Decision& d) {
  std::vector<std::string> duties(d.obligations.begin(), d.obligations.end());
  std::sort(duties.begin(), duties.end());
  std::string key = fmt::format("{}|{}|{}|", to_string(d.effect), d.clause, d.consent);
  for (const auto& o : duties)
    key += o + ",";
  return key;
}
std::string side_key(const DiffSide& s) {
  std::string key = fmt::format("{}|{}|{}|", to_string(s.effect), s.clause, s.consent);
  for (const auto& o : s.obligations)
    key += o + ",";
  return key;
}

// A second version of a random policy with attributes: rules dropped, turned from allow to
// deny, their age bounds moved, obligations added, and sometimes a new objection or consent.
std::string changed_version(std::mt19937_64& rng, const std::string& old_text) {
  std::string new_text;
  std::istringstream lines(old_text);
  std::string line;
  while (std::getline(lines, line)) {
    const bool rule = line.find(" cites \"c\"") != std::string::npos;
    if (rule && rng() % 4 == 0) continue;
    if (rule && rng() % 4 == 0 && line.starts_with("allow")) {
      line.replace(0, 5, "deny");
      if (const auto at = line.find(" obliges ob0"); at != std::string::npos) line.erase(at, 12);
    }
    if (const auto at = line.find("data.age "); rule && at != std::string::npos && rng() % 2 == 0) {
      const auto digits = line.find_first_of("0123456789", at);
      line.replace(digits, 2, std::to_string(16 + rng() % 6));
    }
    if (rule && line.starts_with("allow") && line.find("obliges") == std::string::npos &&
        rng() % 4 == 0) {
      line.insert(line.find(" cites \"c\""), " obliges ob0");
    }
    new_text += line + "\n";
  }
  if (rng() % 3 == 0) new_text += "objection o9\ndeny a0 when objected o9 cites \"c\"\n";
  if (rng() % 3 == 0) new_text += "consent k9\nrequire consent k9 for a1 cites \"c\"\n";
  return new_text;
}

TEST_CASE("diff agrees with brute force on random policies with attributes and objections",
          "[diff][attributes]") {
  std::mt19937_64 rng(15);
  int rounds_with_changes = 0;
  for (int round = 0; round < 30; ++round) {
    const std::string old_text = random_attribute_policy(rng, 2 + static_cast<int>(rng() % 6), 0);
    const std::string new_text = changed_version(rng, old_text);
    INFO(old_text << "---\n" << new_text);
    const Policy before = must_compile(old_text);
    const Policy after = must_compile(new_text);
    const Diff d = diff_policies(before, after);
    if (!d.complete) continue;  // past the bounds: nothing claimed
    // The grid: values cut at the constants of both versions' tests, as one policy holding
    // the rules of both reads them.
    std::string joint = old_text;
    std::istringstream lines(new_text);
    for (std::string line; std::getline(lines, line);) {
      if (old_text.find(line + "\n") == std::string::npos) joint += line + "\n";
    }
    const Policy grid_policy = must_compile(joint);
    const dsl::CheckedPolicy& g = detail::Access::impl(grid_policy)->checked();
    std::vector<std::uint32_t> all(g.tests.size());
    std::iota(all.begin(), all.end(), 0U);
    const auto grid = detail::candidate_values(g, all);
    if (grid.empty()) continue;
    const dsl::CheckedPolicy& c = detail::Access::impl(before)->checked();
    // Which (action, requester, data, before, after) the diff reports.
    std::set<std::string> reported;
    for (const auto& r : d.regions) {
      for (const auto& action : r.actions) {
        for (const auto& requester : r.requesters) {
          for (const auto& data : r.data) {
            reported.insert(fmt::format("{} {} {} {} {}", action, requester, data,
                                        side_key(r.before), side_key(r.after)));
          }
        }
      }
      // Each witness is valid under both versions and decided as the region says.
      const Decision x = before.evaluate(r.witness);
      const Decision y = after.evaluate(r.witness);
      CHECK(x.error.empty());
      CHECK(y.error.empty());
      CHECK(decision_key(x) == side_key(r.before));
      CHECK(decision_key(y) == side_key(r.after));
      CHECK(x.rule == r.before.rule);
      CHECK(y.rule == r.after.rule);
    }
    std::set<std::string> found;
    for (const auto& data : c.data) {
      for (const auto& requester : c.requesters) {
        for (const auto& action : c.actions) {
          for (int purpose = -1; purpose < 3; ++purpose) {
            for (int bits = 0; bits < 32; ++bits) {
              for (int draw = 0; draw < 3; ++draw) {
                Request q;
                q.data = data.name;
                q.requester = requester.name;
                q.action = action.name;
                if (purpose >= 0) q.purpose = c.purposes[static_cast<std::size_t>(purpose)].name;
                if ((bits & 1) != 0) q.facts.emplace_back("f0");
                if ((bits & 2) != 0) q.facts.emplace_back("f1");
                if ((bits & 4) != 0) q.consent.emplace_back("k0");
                if ((bits & 8) != 0) q.objections.emplace_back("o0");
                if ((bits & 16) != 0) q.objections.emplace_back("o1");
                for (std::size_t a = 0; a < g.attributes.size(); ++a) {
                  const Value& v = grid[a][rng() % grid[a].size()];
                  if (g.attributes[a].path == "requester.id") {
                    q.requester_id = std::get<std::string>(v);
                  } else if (v.index() != 0) {
                    q.attributes.push_back({g.attributes[a].path, v});
                  }
                }
                const Decision x = before.evaluate(q);
                const Decision y = after.evaluate(q);
                REQUIRE(x.error.empty());
                REQUIRE(y.error.empty());
                if (decision_key(x) == decision_key(y)) continue;
                const std::string key = fmt::format("{} {} {} {} {}", action.name, requester.name,
                                                    data.name, decision_key(x), decision_key(y));
                INFO(key);
                CHECK(reported.count(key) == 1);
                found.insert(key);
              }
            }
          }
        }
      }
    }
    rounds_with_changes += found.empty() ? 0 : 1;
    CHECK(d.regions.empty() == (d.changed == 0));
  }
  CHECK(rounds_with_changes > 5);
}

TEST_CASE("diff compares the requests both versions accept, and lists the names that differ",
          "[diff][attributes]") {
  const std::string head = R"(policy "t" version "1"
clause "c" "words"
data record
requester clinician
action access
obligation log_access
)";
  const auto diff_of = [&](const std::string& old_body, const std::string& new_body) {
    return diff_policies(must_compile(head + old_body), must_compile(head + new_body));
  };
  SECTION("a required attribute only one version declares: no request is valid under both") {
    const Diff d =
        diff_of("allow access cites \"c\"\n",
                "attribute data.age integer\nallow access when data.age < 18 cites \"c\"\n");
    REQUIRE(d.names.size() == 1);
    CHECK(d.names[0].kind == "attributes");
    CHECK(d.names[0].added == std::vector<std::string>{"data.age"});
    CHECK(d.complete);
    CHECK(d.total == 0);
    CHECK(d.regions.empty());
  }
  SECTION("an optional one: compared requests leave it out") {
    const Diff d = diff_of("allow access cites \"c\"\n",
                           "attribute context.place string optional\n"
                           "allow access when context.place = \"CA\" cites \"c\"\n");
    REQUIRE(d.regions.size() == 1);
    CHECK(d.regions[0].after.clause == "default");
    CHECK(d.total == 1);
  }
  SECTION("requester.id declared by one version: the request's own id, which the other ignores") {
    const Policy before = must_compile(head + "allow access cites \"c\"\n");
    const Policy after =
        must_compile(head +
                     "attribute requester.id string\n"
                     "attribute data.subject string\n"
                     "allow access when requester.id = data.subject cites \"c\"\n");
    const Diff d = diff_policies(before, after);
    CHECK(d.names.size() == 1);  // data.subject and requester.id added
    // data.subject is required by the new version only: nothing is comparable.
    CHECK(d.total == 0);
    const Policy id_only = must_compile(
        head +
        "attribute requester.id string\nallow access when requester.id = \"x\" cites \"c\"\n");
    const Diff e = diff_policies(before, id_only);
    REQUIRE(e.regions.size() == 1);
    CHECK(e.total == 2);
    CHECK(e.regions[0].attributes == std::vector<std::string>{"requester.id"});
    const Decision x = before.evaluate(e.regions[0].witness);
    const Decision y = id_only.evaluate(e.regions[0].witness);
    CHECK(x.error.empty());
    CHECK(y.error.empty());
    CHECK(x.effect == e.regions[0].before.effect);
    CHECK(y.effect == e.regions[0].after.effect);
  }
  SECTION("a decision that differs only in its obligations is a change") {
    const Diff d =
        diff_of("allow access cites \"c\"\n", "allow access obliges log_access cites \"c\"\n");
    REQUIRE(d.regions.size() == 1);
    CHECK(d.regions[0].before.obligations.empty());
    CHECK(d.regions[0].after.obligations == std::vector<std::string>{"log_access"});
  }
  SECTION("a purpose moved in the tree is listed as changed, and read with each version's tree") {
    const Diff d =
        diff_of("purpose care\npurpose teaching\nallow access when purpose is care cites \"c\"\n",
                "purpose care\npurpose teaching under care\n"
                "allow access when purpose is care cites \"c\"\n");
    REQUIRE(d.names.size() == 1);
    CHECK(d.names[0].kind == "purposes");
    CHECK(d.names[0].changed == std::vector<std::string>{"teaching"});
    REQUIRE(d.regions.size() == 1);
    CHECK(d.regions[0].witness.purpose == std::optional<std::string>("teaching"));
    CHECK(d.regions[0].after.effect == Effect::allow);
  }
}

TEST_CASE("the privacy policy keeps every promise it asserts", "[verify][privacy]") {
  const auto results = verify(privacy_policy());
  CHECK(results.size() >= 9);
  for (const auto& r : results) {
    INFO(r.text);
    CHECK(r.proved);
    CHECK(r.regions > 0);
  }
}

}  // namespace
}  // namespace clause::test
