// Evaluate stage: precedence, hierarchies, consent and fall-backs on small policies, and
// the indexed evaluator held to the plain reference loop on random policies.
#include <fmt/format.h>

#include <atomic>
#include <functional>
#include <random>
#include <thread>

#include "clause/detail.hpp"
#include "clause/json.hpp"
#include "generator.hpp"
#include "random_policy.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const char* const vocabulary = R"(policy "t" version "1"
clause "ex" "excluded"
clause "no" "prohibited"
clause "yes" "permitted"
clause "ask" "ask first"
clause "asked" "consent given"
clause "fb" "fall-back"
data info
data contact under info
data secret under contact
data outside
requester company
requester partner under company
requester stranger
action read, write
purpose service, marketing
fact active, urgent
consent ok cites "asked"
consent other
)";

Request rq(std::string data, std::string requester, std::string action) {
  Request r;
  r.data = std::move(data);
  r.requester = std::move(requester);
  r.requester_id = "x";
  r.action = std::move(action);
  return r;
}

Request with_facts(Request r, std::vector<std::string> facts) {
  r.facts = std::move(facts);
  return r;
}

Policy policy_with(const std::string& rules) {
  return must_compile(vocabulary + rules);
}

Decision decide(const Policy& p, Request r) {
  if (r.requester_id.empty()) r.requester_id = "x";
  return p.evaluate(r);
}

TEST_CASE("precedence: exclusion, prohibition, permission, consent, fall-back", "[eval]") {
  const Policy p = policy_with(R"(
exclude outside cites "ex"
allow read of any by any cites "yes"
deny read of secret by any cites "no"
require consent ok for read of any by any cites "ask"
deny read of outside by any cites "no"
otherwise allow write of info by company cites "fb"
otherwise deny cites "default"
)");
  CHECK(decide(p, rq("outside", "company", "read")).clause == "ex");
  const Decision prohibited = decide(p, rq("secret", "company", "read"));
  CHECK(prohibited.effect == Effect::deny);
  CHECK(prohibited.clause == "no");
  const Decision permitted = decide(p, rq("contact", "company", "read"));
  CHECK(permitted.effect == Effect::allow);
  CHECK(permitted.clause == "yes");
  CHECK(permitted.rule == "yes/1");
  const Decision fallback = decide(p, rq("contact", "partner", "write"));
  CHECK(fallback.effect == Effect::allow);
  CHECK(fallback.clause == "fb");
  const Decision none = decide(p, rq("outside", "stranger", "write"));
  CHECK(none.effect == Effect::allow);  // excluded data is outside the policy
  const Decision deny = decide(p, rq("info", "stranger", "write"));
  CHECK(deny.effect == Effect::deny);
  CHECK(deny.clause == "default");
  CHECK(deny.rule == "default/1");
}

TEST_CASE("a permission outranks a consent requirement", "[eval]") {
  const Policy p = policy_with(R"(
require consent ok for read cites "ask"
allow read by partner cites "yes"
)");
  CHECK(decide(p, rq("info", "partner", "read")).effect == Effect::allow);
  const Decision ask = decide(p, rq("info", "company", "read"));
  CHECK(ask.effect == Effect::require_consent);
  CHECK(ask.consent == "ok");
  CHECK(ask.clause == "ask");
}

TEST_CASE("a granted consent allows, citing the consent's clause when it has one", "[eval]") {
  const Policy p = policy_with(R"(
require consent ok for read cites "ask"
require consent other for write cites "ask"
)");
  Request r = rq("info", "company", "read");
  r.consent = {"ok"};
  const Decision met = decide(p, r);
  CHECK(met.effect == Effect::allow);
  CHECK(met.clause == "asked");
  CHECK(met.consent.empty());
  Request w = rq("info", "company", "write");
  w.consent = {"other"};
  CHECK(decide(p, w).clause == "ask");  // `other` declares no clause of its own
  w.consent = {"ok"};
  CHECK(decide(p, w).effect == Effect::require_consent);  // the wrong consent
}

TEST_CASE("every matching consent requirement must be met", "[eval]") {
  const Policy p = policy_with(R"(
require consent ok for read cites "ask"
require consent other for read by partner cites "ask"
)");
  Request r = rq("info", "partner", "read");
  r.consent = {"ok"};
  const Decision second = decide(p, r);
  CHECK(second.effect == Effect::require_consent);
  CHECK(second.consent == "other");
  r.consent = {"ok", "other"};
  const Decision both = decide(p, r);
  CHECK(both.effect == Effect::allow);
  CHECK(both.rule == "ask/1");  // the first requirement is cited
}

TEST_CASE("a rule about a parent covers its descendants, never the reverse", "[eval]") {
  const Policy p = policy_with(R"(
allow read of contact by company cites "yes"
)");
  CHECK(decide(p, rq("secret", "partner", "read")).effect == Effect::allow);
  CHECK(decide(p, rq("contact", "company", "read")).effect == Effect::allow);
  CHECK(decide(p, rq("info", "company", "read")).effect == Effect::deny);
  CHECK(decide(p, rq("contact", "stranger", "read")).effect == Effect::deny);
}

TEST_CASE("conditions read facts, purpose and consent", "[eval]") {
  const Policy p = policy_with(R"(
allow read when purpose in (service, marketing) and not urgent cites "yes"
allow write when active or consent other cites "yes"
)");
  Request r = rq("info", "company", "read");
  CHECK(decide(p, r).effect == Effect::deny);  // no purpose
  r.purpose = "marketing";
  CHECK(decide(p, r).effect == Effect::allow);
  r.facts = {"urgent"};
  CHECK(decide(p, r).effect == Effect::deny);
  Request w = rq("info", "company", "write");
  CHECK(decide(p, w).effect == Effect::deny);
  w.consent = {"other"};
  CHECK(decide(p, w).effect == Effect::allow);
}

TEST_CASE("within a tier the first rule in the file decides", "[eval]") {
  const Policy p = policy_with(R"(
first: allow read cites "yes"
second: allow read of contact cites "yes"
)");
  CHECK(decide(p, rq("contact", "company", "read")).rule == "first");
}

TEST_CASE("an invalid request is denied, citing default, with the field named", "[eval]") {
  const Policy p = policy_with("allow read cites \"yes\"\n");
  const Decision d = decide(p, rq("nosuch", "company", "read"));
  CHECK(d.effect == Effect::deny);
  CHECK(d.clause == "default");
  CHECK(d.error == "data.category: unknown data category `nosuch`");
  CHECK(decide(p, rq("info", "company", "")).error == "action: missing");
  Request bad_fact = rq("info", "company", "read");
  bad_fact.facts = {"activ"};
  CHECK(decide(p, bad_fact).error ==
        "context.facts[0]: unknown fact `activ`; did you mean `active`?");
}

TEST_CASE("a request resolved against another policy is refused", "[eval]") {
  const Policy a = policy_with("allow read cites \"yes\"\n");
  const Policy b = policy_with("allow read cites \"yes\"\n");
  auto resolved = a.resolve(rq("info", "company", "read"));
  REQUIRE(resolved);
  CHECK(a.evaluate(*resolved).effect == Effect::allow);
  const Decision d = b.evaluate(*resolved);
  CHECK(d.effect == Effect::deny);
  CHECK_FALSE(d.error.empty());
  CHECK(Policy{}.evaluate(*resolved).effect == Effect::deny);
  CHECK(a.evaluate(ResolvedRequest{}).effect == Effect::deny);
}

TEST_CASE("a trace lists every rule and why it matched or not", "[eval][trace]") {
  const Policy p = policy_with(R"(
deny read of secret cites "no"
allow read when active cites "yes"
allow read when urgent cites "yes"
allow write cites "yes"
)");
  const Decision d =
      p.evaluate(*p.resolve(with_facts(rq("contact", "company", "read"), {"urgent"})),
                 EvalOptions{.trace = true});
  REQUIRE(d.trace.size() == 4);
  CHECK(d.trace[0].outcome == Outcome::data_mismatch);
  CHECK(d.trace[1].outcome == Outcome::condition_false);
  CHECK(d.trace[1].detail == "`active` is false");
  CHECK(d.trace[2].outcome == Outcome::decided);
  CHECK(d.trace[3].outcome == Outcome::action_mismatch);
  CHECK(d.trace[2].position.line == 23);
  CHECK(d.trace[0].position.line == 21);
  CHECK(d.trace[3].position.line == 24);
  CHECK(d.trace[3].position.column == 1);
  // Every step of the privacy policy's trace points at its rule's first character.
  const Policy& privacy = privacy_policy();
  const std::string& text = privacy.source().text;
  Request request;
  request.data = "contact_info";
  request.requester = "counterparty";
  request.action = "access";
  const Decision traced = privacy.evaluate(request, EvalOptions{.trace = true});
  REQUIRE(traced.trace.size() == 29);
  for (const TraceStep& step : traced.trace) {
    std::size_t at = 0;
    for (std::uint32_t line = 1; line < step.position.line; ++line)
      at = text.find('\n', at) + 1;
    const std::string_view rest = std::string_view(text).substr(at + step.position.column - 1);
    INFO(step.rule << " at " << step.position.line << ":" << step.position.column);
    CHECK((rest.starts_with("allow") || rest.starts_with("deny") || rest.starts_with("require") ||
           rest.starts_with("exclude") || rest.starts_with("otherwise") ||
           rest.find(':') < rest.find(' ')));
  }
  const std::string json = to_json(d);
  CHECK_THAT(json, Catch::Contains("\"trace\":[{\"rule\":\"no/1\""));
  // Without trace, nothing is recorded.
  CHECK(p.evaluate(*p.resolve(rq("contact", "company", "read"))).trace.empty());
}

TEST_CASE("decisions encode as one line of JSON", "[eval][json]") {
  const Policy p = policy_with("require consent ok for read cites \"ask\"\n");
  const Decision d = decide(p, rq("info", "company", "read"));
  CHECK(to_json(d) ==
        R"({"decision":"require-consent","clause":"ask","rule":"ask/1","consent":"ok",)"
        R"("reason":"needs consent `ok`, by rule ask/1: require consent ok for read"})");
  const Decision bad = decide(p, rq("zzz", "company", "read"));
  CHECK(
      to_json(bad) ==
      R"({"decision":"deny","clause":"default","error":"data.category: unknown data category `zzz`"})");
}

TEST_CASE("one policy decides from many threads at once", "[eval][threads]") {
  const Policy& p = privacy_policy();
  std::vector<ResolvedRequest> requests;
  std::vector<Decision> expected;
  for (const char* data : {"contact_info", "credentials", "usage_info", "search_keywords"}) {
    for (const char* requester : {"the_software", "counterparty", "business_partner", "user"}) {
      for (const char* action : {"access", "store", "collect", "buy"}) {
        requests.push_back(*p.resolve(rq(data, requester, action)));
        expected.push_back(p.evaluate(requests.back()));
      }
    }
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 2000; ++round) {
        for (std::size_t i = 0; i < requests.size(); ++i) {
          const Decision d = p.evaluate(requests[i]);
          if (d.effect != expected[i].effect || d.clause != expected[i].clause) ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  CHECK(mismatches == 0);
}

TEST_CASE("rules dropped after compiling come back, once, for the first trace",
          "[eval][trace][threads]") {
  const std::string text = read_file(source_dir() / "policies/privacy.policy");
  CompileOptions keep;
  keep.keep_rule_tree = true;
  const Policy kept = *compile(SourceFile{"privacy.policy", text}, keep);
  const Policy lean = *compile(SourceFile{"privacy.policy", text});
  REQUIRE(detail::Access::impl(lean)->checked_.rules.empty());
  REQUIRE_FALSE(detail::Access::impl(kept)->checked_.rules.empty());
  const auto request = rq("contact_info", "counterparty", "access");
  // Many threads ask for the first trace at once; each gets the whole trace.
  std::vector<std::thread> threads;
  std::vector<std::size_t> steps(4);
  for (std::size_t t = 0; t < steps.size(); ++t) {
    threads.emplace_back(
        [&, t] { steps[t] = lean.evaluate(request, EvalOptions{.trace = true}).trace.size(); });
  }
  for (auto& th : threads)
    th.join();
  const Decision expected = kept.evaluate(request, EvalOptions{.trace = true});
  for (const std::size_t n : steps)
    CHECK(n == expected.trace.size());
  const Decision traced = lean.evaluate(request, EvalOptions{.trace = true});
  REQUIRE(traced.trace.size() == expected.trace.size());
  for (std::size_t i = 0; i < traced.trace.size(); ++i) {
    CHECK(traced.trace[i].rule == expected.trace[i].rule);
    CHECK(traced.trace[i].outcome == expected.trace[i].outcome);
    CHECK(traced.trace[i].detail == expected.trace[i].detail);
  }
  CHECK(detail::Access::impl(lean)->checked_.rules.size() ==
        detail::Access::impl(kept)->checked_.rules.size());
}

// ---- the index against the reference loop, on random policies ----

// Holds the index to the reference loop on one request.
void check_against_reference(const Policy& p, const ResolvedRequest& q, const std::string& label) {
  const detail::PolicyImpl& impl = *detail::Access::impl(p);
  const Decision fast = p.evaluate(q);
  const detail::ReferenceVerdict slow = detail::reference_evaluate(impl, q, nullptr);
  INFO(label);
  REQUIRE(fast.error.empty());
  REQUIRE(fast.effect == slow.effect);
  REQUIRE(fast.clause == impl.clause_id(slow.clause));
  const std::string_view slow_rule =
      slow.rule >= 0
          ? std::string_view(impl.checked().rules[static_cast<std::size_t>(slow.rule)].id)
          : std::string_view();
  REQUIRE(fast.rule == slow_rule);
}

Policy compile_with_budget(const std::string& text, std::optional<std::size_t> budget) {
  CompileOptions options;
  options.index_budget = budget;
  auto compiled = compile(SourceFile{"random.policy", text}, options);
  if (!compiled) FAIL(render_text(SourceFile{"random.policy", text}, compiled.error()));
  return std::move(*compiled);
}

// One of the properties that `clause_tests "[property]"` runs (tests/unit/property_test.cpp).
TEST_CASE("the index agrees with the reference evaluator on random policies",
          "[eval][index][property]") {
  std::mt19937_64 rng(42);
  int shared_tables = 0;  // rounds whose pairs share their cells' block tables
  int own_tables = 0;     // rounds whose pairs each have their own
  for (int round = 0; round < 300; ++round) {
    const std::string text = random_policy(rng, 1 + static_cast<int>(rng() % 40));
    // Every rule copied into its requesters' cells, and no copy at all: chains of cells.
    const std::optional<std::size_t> budget =
        round % 2 == 0 ? std::nullopt : std::optional<std::size_t>(0);
    const Policy p = compile_with_budget(text, budget);
    const detail::PolicyImpl& impl = *detail::Access::impl(p);
    shared_tables += impl.pair_cell.empty() ? 0 : 1;
    own_tables += impl.pair_start.empty() ? 0 : 1;
    for (int i = 0; i < 500; ++i) {
      Request r;
      r.data = impl.checked().data[rng() % impl.checked().data.size()].name;
      r.requester = impl.checked().requesters[rng() % impl.checked().requesters.size()].name;
      r.action = fmt::format("a{}", rng() % 4);
      if (rng() % 4 != 0) r.purpose = fmt::format("p{}", rng() % 3);
      for (int f = 0; f < 4; ++f) {
        if (rng() % 2) r.facts.push_back(fmt::format("f{}", f));
      }
      for (int k = 0; k < 2; ++k) {
        if (rng() % 2) r.consent.push_back(fmt::format("k{}", k));
      }
      const auto resolved = p.resolve(r);
      REQUIRE(resolved);
      check_against_reference(
          p, *resolved, fmt::format("{}\nrequest: {} {} {}", text, r.data, r.requester, r.action));
    }
  }
  // Both layouts of a policy whose pairs have one cell each were tried.
  CHECK(shared_tables > 0);
  CHECK(own_tables > 0);
}

TEST_CASE("synthetic policies and their varied versions compile, with attributes too",
          "[synthetic]") {
  // A varied version once turned an allow with obligations into a deny (E249) and put
  // `when` after `obliges` (E101).
  for (const bool attributes : {false, true}) {
    for (const std::uint64_t seed : {1U, 2U, 3U}) {
      for (const std::size_t vary : {0U, 40U}) {
        const std::string text = gen::synthetic_policy({300, seed, vary, attributes});
        INFO("seed " << seed << ", vary " << vary << ", attributes " << attributes);
        must_compile(text);
      }
    }
  }
}

TEST_CASE("the index agrees with the reference evaluator on synthetic policies",
          "[eval][index][synthetic]") {
  for (const std::size_t rules : {100U, 1000U, 5000U}) {
    for (const std::uint64_t seed : {1U, 2U}) {
      const std::string text = gen::synthetic_policy({rules, seed, 0, false});
      for (const std::optional<std::size_t> budget :
           {std::optional<std::size_t>(), std::optional<std::size_t>(0),
            std::optional<std::size_t>(rules * 2)}) {
        const Policy p = compile_with_budget(text, budget);
        const detail::PolicyImpl& impl = *detail::Access::impl(p);
        if (budget == std::optional<std::size_t>(0)) {
          // No copies: pairs consult chains of several cells, merged by rank.
          REQUIRE(impl.chains.size() > 2 * (impl.chain_begin.size() - 1));
        }
        if (!budget && rules >= 1000) {
          // Nearly every pair has a cell of its own: each has its own block table too.
          REQUIRE(!impl.pair_start.empty());
        }
        for (const Request& r : detail::request_mix(p, 3000, seed * 31 + rules)) {
          check_against_reference(
              p, *p.resolve(r),
              fmt::format("{} rules, seed {}, budget {}: {} {} {}", rules, seed,
                          budget ? *budget : 999999, r.data, r.requester, r.action));
        }
      }
    }
  }
}

TEST_CASE("a condition too wide for a truth table runs as code", "[eval][index]") {
  const Policy p = must_compile(R"(policy "t" version "1"
clause "c" "c"
data info
requester company
action read
fact f0, f1, f2, f3, f4, f5, f6, f7
allow read of info by company when (f0 and f1 and f2 and f3 and f4 and f5 and not f6) or f7
  cites "c"
)");
  REQUIRE(detail::Access::impl(p)->rules.at(0).coded);
  for (unsigned bits = 0; bits < 256; ++bits) {
    Request r = rq("info", "company", "read");
    for (unsigned f = 0; f < 8; ++f) {
      if ((bits >> f) & 1U) r.facts.push_back(fmt::format("f{}", f));
    }
    const bool expected = (bits & 0x7fU) == 0x3fU || (bits & 0x80U) != 0;
    CHECK(p.evaluate(r).effect == (expected ? Effect::allow : Effect::deny));
    check_against_reference(p, *p.resolve(r), fmt::format("facts {:08b}", bits));
  }
}

// Writes over the stack below the caller, where a dangling temporary would have lived.
[[gnu::noinline]] int clobber_stack(int depth) {
  volatile char buffer[512];
  for (char& c : const_cast<char(&)[512]>(buffer))
    c = static_cast<char>('#' + depth);
  return depth == 0 ? buffer[7] : clobber_stack(depth - 1) + buffer[depth];
}

TEST_CASE("a policy's name and version are views into the policy, not into temporaries", "[eval]") {
  const Policy p = policy_with("");
  const std::string_view name = p.name();
  const std::string_view version = p.version();
  const std::string_view hash = p.content_hash();
  CHECK(clobber_stack(8) != 0);
  CHECK(name == "t");
  CHECK(version == "1");
  CHECK(hash.starts_with("sha256:"));
}

}  // namespace
}  // namespace clause::test
