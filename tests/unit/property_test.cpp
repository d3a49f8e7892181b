// Properties that hold for every policy, checked over many seeded random policies and
// requests: failing closed, determinism, and monotonicity of decisions under adding a
// prohibition, removing a permission and granting a consent.
//
// Two more properties, tagged [property] too, live next to the code they hold to account:
//   - the formatter (parse of print is the identity on trees, print is idempotent, every
//     decision is kept): "fmt: random policies keep their tree, comments and decisions"
//     in format_test.cpp;
//   - the index against the reference loop: "the index agrees with the reference evaluator
//     on random policies" in eval_test.cpp.
//
// Every run uses the same seeds. CLAUSE_PROPERTY_SEED=N picks other seeds and
// CLAUSE_PROPERTY_SCALE=N runs N times as many policies, for longer runs by hand. A failure
// prints the base seed, the policy's own seed and the policy's text.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "clause/detail.hpp"
#include "clause/json.hpp"
#include "random_policy.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 0);
}

std::uint64_t base_seed() {
  static const std::uint64_t seed = env_number("CLAUSE_PROPERTY_SEED", 20260311);
  return seed;
}

int rounds(int n) {
  static const auto scale = static_cast<int>(std::max<std::uint64_t>(
      1, std::min<std::uint64_t>(env_number("CLAUSE_PROPERTY_SCALE", 1), 1000)));
  return n * scale;
}

// Gives each (property, round) its own seed, so that one policy can be made again alone.
std::uint64_t policy_seed(std::uint64_t property, int round) {
  std::uint64_t z = base_seed() + property * 0x9e3779b97f4a7c15U +
                    static_cast<std::uint64_t>(round) * 0xbf58476d1ce4e5b9U;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9U;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebU;
  return z ^ (z >> 31);
}

std::string seed_note(std::uint64_t seed, int round) {
  return fmt::format("CLAUSE_PROPERTY_SEED={}, round {}, policy seed {:#x}", base_seed(), round,
                     seed);
}

int pick(std::mt19937_64& rng, int n) {
  return static_cast<int>(rng() % static_cast<unsigned>(n));
}

const dsl::CheckedPolicy& vocabulary(const Policy& p) {
  return detail::Access::impl(p)->vocabulary();
}

// A request over random_policy's vocabulary, with a random context.
Request random_context(std::mt19937_64& rng, const std::string& data, const std::string& requester,
                       const std::string& action) {
  return small_request(data, requester, action, pick(rng, 4) - 1, pick(rng, 64));
}

// Every (data, requester, action) of the policy, each with `contexts` random contexts.
std::vector<Request> all_targets(const Policy& p, std::mt19937_64& rng, int contexts) {
  const dsl::CheckedPolicy& c = vocabulary(p);
  std::vector<Request> out;
  for (const dsl::Term& d : c.data) {
    for (const dsl::Term& r : c.requesters) {
      for (const dsl::Term& a : c.actions) {
        for (int i = 0; i < contexts; ++i)
          out.push_back(random_context(rng, d.name, r.name, a.name));
      }
    }
  }
  return out;
}

// `count` requests drawn from the whole request space of the policy.
std::vector<Request> sample_requests(const Policy& p, std::mt19937_64& rng, int count) {
  const dsl::CheckedPolicy& c = vocabulary(p);
  const auto any = [&](const std::vector<dsl::Term>& terms) {
    return terms[rng() % terms.size()].name;
  };
  std::vector<Request> out;
  for (int i = 0; i < count; ++i)
    out.push_back(random_context(rng, any(c.data), any(c.requesters), any(c.actions)));
  return out;
}

std::string describe(const Request& r) {
  return fmt::format("request: {} {} {} purpose {} facts [{}] consent [{}]", r.data, r.requester,
                     r.action, r.purpose.value_or("none"), fmt::join(r.facts, ","),
                     fmt::join(r.consent, ","));
}

// Writes a request as JSON, in one of the forms docs/requests.md allows for facts.
std::string request_json(const Request& r, int form) {
  nlohmann::json j;
  j["data"] = {{"category", r.data}, {"id", "item-1"}};
  j["requester"] = {{"kind", r.requester}, {"id", r.requester_id}};
  j["action"] = r.action;
  nlohmann::json context = nlohmann::json::object();
  if (r.purpose) {
    context["purpose"] = *r.purpose;
  } else if (form % 2 == 1) {
    context["purpose"] = nullptr;
  }
  if (!r.consent.empty() || form % 2 == 0) context["consent"] = r.consent;
  switch (form % 3) {
    case 0:
      for (const std::string& f : r.facts)
        context[f] = true;
      break;
    case 1:
      context["facts"] = r.facts;
      break;
    default: {
      nlohmann::json facts = nlohmann::json::object();
      for (const std::string& f : r.facts)
        facts[f] = true;
      context["facts"] = facts;
    }
  }
  j["context"] = context;
  return j.dump();
}

// What a service must see for a request that cannot be decided.
void require_refused(const Decision& d) {
  REQUIRE(d.effect == Effect::deny);
  REQUIRE(d.clause == "default");
  REQUIRE_FALSE(d.error.empty());
  REQUIRE(d.rule.empty());
  REQUIRE(d.consent.empty());
  REQUIRE(d.trace.empty());
  const std::string json = to_json(d);
  REQUIRE(json.starts_with(R"({"decision":"deny","clause":"default","error":)"));
}

// The order in which decisions grant more: deny, then require-consent, then allow.
int grant_rank(Effect e) {
  switch (e) {
    case Effect::deny:
      return 0;
    case Effect::require_consent:
      return 1;
    case Effect::allow:
      return 2;
  }
  return 0;
}

// ---- 1. fail closed ----

// Rebuilds a request from JSON the way docs/requests.md reads it, for JSON the engine
// accepted; throws if the JSON does not have that shape.
Request request_from_json(const nlohmann::json& j) {
  Request r;
  r.data = j.at("data").at("category").get<std::string>();
  r.requester = j.at("requester").at("kind").get<std::string>();
  r.action = j.at("action").get<std::string>();
  if (!j.contains("context")) return r;
  for (const auto& [key, value] : j.at("context").items()) {
    if (key == "purpose") {
      if (!value.is_null()) r.purpose = value.get<std::string>();
    } else if (key == "consent") {
      for (const auto& k : value)
        r.consent.push_back(k.get<std::string>());
    } else if (key == "facts" && value.is_array()) {
      for (const auto& f : value)
        r.facts.push_back(f.get<std::string>());
    } else if (key == "facts") {
      for (const auto& [fact, on] : value.items()) {
        if (on.get<bool>()) r.facts.push_back(fact);
      }
    } else if (value.get<bool>()) {
      r.facts.push_back(key);
    }
  }
  return r;
}

// Applies one to three random edits to a text: a byte replaced, deleted or inserted, a
// cut, or a stretch repeated.
std::string mangle(std::string text, std::mt19937_64& rng) {
  static constexpr std::string_view bytes = "{}[]\":,\\ 0-1.etfnulrs_dkpa\n\t\x01\x7f\xc3\xff";
  const auto byte = [&] {
    return pick(rng, 4) == 0 ? static_cast<char>(rng() & 0xff) : bytes[rng() % bytes.size()];
  };
  for (int edits = 1 + pick(rng, 3); edits > 0 && !text.empty(); --edits) {
    const std::size_t at = rng() % text.size();
    switch (pick(rng, 5)) {
      case 0:
        text[at] = byte();
        break;
      case 1:
        text.erase(at, 1);
        break;
      case 2:
        text.insert(at, 1, byte());
        break;
      case 3:
        text.resize(at);
        break;
      default: {
        const std::size_t length = 1 + rng() % 12;
        text.insert(at, text.substr(at, length));
      }
    }
  }
  return text;
}

// Names that no field of a random_policy request may hold: undeclared, of another kind,
// in the wrong case, with blanks, empty.
const std::array<std::string, 8> bad_names{"nosuch", "d99", "D0", "a0 ", "", "k0", "p0", "r0\n"};

TEST_CASE("property: every error path denies, citing default, with an error",
          "[property][fail-closed]") {
  const int total = rounds(300);
  for (int round = 0; round < total; ++round) {
    const std::uint64_t seed = policy_seed(1, round);
    std::mt19937_64 rng(seed);
    const std::string text = random_policy(rng, 1 + pick(rng, 30));
    INFO(seed_note(seed, round));
    INFO(text);
    const Policy p = must_compile(text);
    const Policy twin = must_compile(text);  // the same text, compiled again
    const Policy other = must_compile(random_policy(rng, 1 + pick(rng, 10)));
    const dsl::CheckedPolicy& c = vocabulary(p);
    const auto declared = [](const std::vector<dsl::Term>& terms, const std::string& name) {
      return std::any_of(terms.begin(), terms.end(),
                         [&](const dsl::Term& t) { return t.name == name; });
    };

    for (const Request& valid : sample_requests(p, rng, 8)) {
      INFO(describe(valid));
      REQUIRE(p.evaluate(valid).error.empty());
      const auto resolved = p.resolve(valid);
      REQUIRE(resolved);

      // Unknown, misplaced and empty names in each field, by name and as JSON.
      std::vector<Request> invalid;
      for (const std::string& bad : bad_names) {
        Request q = valid;
        switch (pick(rng, 6)) {
          case 0:
            if (declared(c.data, bad)) continue;
            q.data = bad;
            break;
          case 1:
            if (declared(c.requesters, bad)) continue;
            q.requester = bad;
            break;
          case 2:
            if (declared(c.actions, bad)) continue;
            q.action = bad;
            break;
          case 3:
            if (declared(c.purposes, bad)) continue;
            q.purpose = bad;
            break;
          case 4:
            if (declared(c.facts, bad)) continue;
            q.facts.insert(q.facts.begin() + pick(rng, static_cast<int>(q.facts.size()) + 1), bad);
            break;
          default:
            if (declared(c.consents, bad)) continue;
            q.consent.insert(q.consent.begin() + pick(rng, static_cast<int>(q.consent.size()) + 1),
                             bad);
        }
        invalid.push_back(std::move(q));
      }
      for (const Request& q : invalid) {
        INFO("invalid " << describe(q));
        REQUIRE_FALSE(p.resolve(q));
        require_refused(p.evaluate(q));
        require_refused(p.evaluate(q, EvalOptions{.trace = true}));
        const std::string json = request_json(q, pick(rng, 6));
        INFO(json);
        REQUIRE_FALSE(p.decode(json));
        require_refused(p.evaluate_json(json));
        require_refused(p.evaluate_json(json, EvalOptions{.trace = true}));
      }

      // A request resolved against one policy means nothing to another, even to the same
      // text compiled again; nor does a request resolved against no policy.
      for (const Policy* q : {&twin, &other}) {
        require_refused(q->evaluate(*resolved));
        require_refused(q->evaluate(*resolved, EvalOptions{.trace = true}));
      }
      require_refused(p.evaluate(ResolvedRequest{}));
      require_refused(p.evaluate(ResolvedRequest{}, EvalOptions{.trace = true}));
      const Policy none;
      require_refused(none.evaluate(valid));
      require_refused(none.evaluate(*resolved));
      require_refused(none.evaluate_json(request_json(valid, 0)));
      REQUIRE_FALSE(none.resolve(valid));

      // Mangled JSON: what is not JSON, or not a request of this policy, is refused; what
      // the engine accepts decides as the request it spells.
      const std::string json = request_json(valid, pick(rng, 6));
      for (int i = 0; i < 25; ++i) {
        const std::string bent = mangle(json, rng);
        INFO("mangled: " << bent);
        const Decision d = p.evaluate_json(bent);
        const auto decoded = p.decode(bent);
        if (!decoded) {
          require_refused(d);
          REQUIRE(d.error == decoded.error().to_string());
          continue;
        }
        REQUIRE(nlohmann::json::accept(bent));
        REQUIRE(d.error.empty());
        REQUIRE(to_json(d) == to_json(p.evaluate(*decoded)));
        Request spelled;
        REQUIRE_NOTHROW(spelled = request_from_json(nlohmann::json::parse(bent)));
        REQUIRE(to_json(d) == to_json(p.evaluate(spelled)));
      }
    }

    // Empty required fields.
    Request empty = sample_requests(p, rng, 1).front();
    for (std::string Request::*field : {&Request::data, &Request::requester, &Request::action}) {
      Request q = empty;
      q.*field = "";
      require_refused(p.evaluate(q));
      require_refused(p.evaluate_json(request_json(q, 0)));
    }

    // A policy with an error is never made: compile gives its errors, and nothing to ask.
    static const std::array<std::string, 7> breaks{
        "allow of d_undeclared cites \"c\"\n",  // E211
        "deny cites \"undeclared\"\n",          // E220
        "allow a0 cites \"default\"\n",         // E221
        "permit a0 cites \"c\"\n",              // E101
        "fact f0\n",                            // E210
        "data x0 under x1\ndata x1 under x0\n"  // E213
        "allow of x0 cites \"c\"\n",
        "allow a0 when purpose is f0 cites \"c\"\n",  // E212
    };
    std::vector<std::size_t> line_starts{0};
    for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1))
      line_starts.push_back(at + 1);
    for (const std::string& broken_line : breaks) {
      std::string broken = text;
      broken.insert(line_starts[rng() % line_starts.size()], broken_line);
      INFO("broken: " << broken);
      const auto compiled = compile(SourceFile{"broken.policy", broken});
      REQUIRE_FALSE(compiled);
      REQUIRE(has_errors(compiled.error()));
    }
    // A policy mangled at random either compiles or says why not.
    for (int i = 0; i < 4; ++i) {
      const std::string bent = mangle(text, rng);
      const auto compiled = compile(SourceFile{"bent.policy", bent});
      if (!compiled) {
        INFO("mangled: " << bent);
        REQUIRE(has_errors(compiled.error()));
      }
    }
  }
}

// ---- 2. determinism ----

Policy compile_with(const std::string& text, std::optional<std::size_t> budget, bool keep) {
  CompileOptions options;
  options.index_budget = budget;
  options.keep_rule_tree = keep;
  auto compiled = compile(SourceFile{"random.policy", text}, options);
  if (!compiled) FAIL(render_text(SourceFile{"random.policy", text}, compiled.error()));
  return std::move(*compiled);
}

// The JSON of every request, with and without trace, by name and as JSON text.
std::vector<std::string> decide_all(const Policy& p, const std::vector<Request>& requests) {
  std::vector<std::string> out;
  out.reserve(requests.size() * 2);
  for (const Request& r : requests) {
    out.push_back(to_json(p.evaluate(r)));
    out.push_back(to_json(p.evaluate(r, EvalOptions{.trace = true})));
  }
  return out;
}

TEST_CASE("property: decisions are byte-identical across compilations, options and threads",
          "[property][determinism]") {
  const int total = rounds(200);
  for (int round = 0; round < total; ++round) {
    const std::uint64_t seed = policy_seed(2, round);
    std::mt19937_64 rng(seed);
    const std::string text = random_policy(rng, 1 + pick(rng, 40));
    INFO(seed_note(seed, round));
    INFO(text);
    const Policy first = compile_with(text, std::nullopt, false);
    const std::vector<Request> requests = sample_requests(first, rng, 40);
    const std::vector<std::string> expected = decide_all(first, requests);

    // Asked again, on the same Policy: the same bytes.
    REQUIRE(decide_all(first, requests) == expected);
    // Every other way to compile the same text: the same bytes. Budget 0 makes no copy of
    // any rule (chains of cells); a small one copies some.
    const std::array<std::pair<std::optional<std::size_t>, bool>, 5> variants{{
        {std::nullopt, false},
        {std::nullopt, true},
        {0, false},
        {0, true},
        {rng() % 64, pick(rng, 2) == 1},
    }};
    for (const auto& [budget, keep] : variants) {
      INFO("index_budget " << (budget ? std::to_string(*budget) : "unset") << ", keep_rule_tree "
                           << keep);
      const Policy again = compile_with(text, budget, keep);
      const std::vector<std::string> got = decide_all(again, requests);
      for (std::size_t i = 0; i < got.size(); ++i) {
        INFO(describe(requests[i / 2]) << (i % 2 ? ", traced" : ""));
        REQUIRE(got[i] == expected[i]);
      }
    }
    // The same request as JSON, decoded, or resolved first: the same bytes.
    for (std::size_t i = 0; i < requests.size(); ++i) {
      INFO(describe(requests[i]));
      const std::string json = request_json(requests[i], static_cast<int>(i));
      REQUIRE(to_json(first.evaluate_json(json)) == expected[2 * i]);
      REQUIRE(to_json(first.evaluate_json(json, EvalOptions{.trace = true})) ==
              expected[2 * i + 1]);
      const auto resolved = first.resolve(requests[i]);
      REQUIRE(resolved);
      REQUIRE(to_json(first.evaluate(*resolved, EvalOptions{.trace = true})) ==
              expected[2 * i + 1]);
    }
    // Two threads on one Policy, one fresh: the first trace re-reads dropped rules while
    // the other thread decides.
    const Policy shared = compile_with(text, std::nullopt, false);
    std::array<std::vector<std::string>, 2> seen;
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t)
      threads.emplace_back([&, t] { seen[t] = decide_all(shared, requests); });
    for (std::thread& t : threads)
      t.join();
    REQUIRE(seen[0] == expected);
    REQUIRE(seen[1] == expected);
  }
}

// ---- 4. monotonicity ----

// Writes random rules over random_policy's vocabulary, as lines of text so that they can be
// added and removed. In `consent_positive_in_permissions` mode, conditions read consent
// only under an even number of `not`, and only in `allow` and `otherwise allow` rules.
struct RuleWriter {
  std::mt19937_64& rng;
  int data = 0;
  int requesters = 0;
  bool consent_positive_in_permissions = false;

  int pick(int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }

  std::string set(const char* prefix, int n) {
    if (pick(4) == 0) return "any";
    std::string s;
    for (int i = 0, count = 1 + pick(2); i < count; ++i)
      s += fmt::format("{}{}{}", i ? ", " : "", prefix, pick(n));
    return s;
  }

  std::string cond(int depth, bool consent_ok, bool positive) {
    switch (depth > 2 ? pick(3) : pick(7)) {
      case 0:
        return fmt::format("f{}", pick(4));
      case 1:
        return fmt::format("purpose is p{}", pick(3));
      case 2:
        if (consent_positive_in_permissions && !(consent_ok && positive)) {
          return fmt::format("f{}", pick(4));
        }
        return fmt::format("consent k{}", pick(2));
      case 3:
        return "not " + cond(depth + 1, consent_ok, !positive);
      case 4:
        return fmt::format("({} and {})", cond(depth + 1, consent_ok, positive),
                           cond(depth + 1, consent_ok, positive));
      case 5:
        return fmt::format("({} or {})", cond(depth + 1, consent_ok, positive),
                           cond(depth + 1, consent_ok, positive));
      default:
        return fmt::format("purpose in (p0, p{})", 1 + pick(2));
    }
  }

  // `effect` is "allow", "deny" or "require consent kN for", maybe after "otherwise ".
  std::string rule(const std::string& effect) {
    const bool permission = effect.ends_with("allow");
    std::string out =
        fmt::format("{} {} of {} by {}", effect, set("a", 4), set("d", data), set("r", requesters));
    if (pick(2) == 0) out += " when " + cond(0, permission, true);
    return out + " cites \"c\"";
  }

  std::string any_rule() {
    if (pick(10) == 0) return fmt::format("exclude {} cites \"c\"", set("d", data));
    const std::string otherwise = pick(10) == 0 ? "otherwise " : "";
    switch (pick(3)) {
      case 0:
        return rule(otherwise + "allow");
      case 1:
        return rule(otherwise + "deny");
      default:
        return rule(fmt::format("{}require consent k{} for", otherwise, pick(2)));
    }
  }
};

// A random policy as its vocabulary and its rules, one rule a line.
struct SplitPolicy {
  std::string vocabulary;
  std::vector<std::string> rules;

  std::string text() const {
    std::string out = vocabulary;
    for (const std::string& r : rules)
      out += r + "\n";
    return out;
  }
};

SplitPolicy split_policy(std::mt19937_64& rng, RuleWriter& writer) {
  SplitPolicy out;
  out.vocabulary = random_policy(rng, 0);
  const auto count = [&](std::string_view prefix) {
    int n = 0;
    for (std::size_t at = 0; (at = out.vocabulary.find(prefix, at)) != std::string::npos; ++at)
      ++n;
    return n;
  };
  writer.data = count("\ndata d");
  writer.requesters = count("\nrequester r");
  for (int i = 0, n = pick(rng, 30); i < n; ++i)
    out.rules.push_back(writer.any_rule());
  return out;
}

// Decides each request with both policies and hands the two effects to `check`.
template <class Check>
void compare(const Policy& before, const Policy& after, const std::vector<Request>& requests,
             Check check) {
  for (const Request& r : requests) {
    const Decision x = before.evaluate(r);
    const Decision y = after.evaluate(r);
    INFO(describe(r));
    INFO("before: " << to_json(x));
    INFO("after:  " << to_json(y));
    REQUIRE(x.error.empty());
    REQUIRE(y.error.empty());
    check(x.effect, y.effect);
  }
}

TEST_CASE("property: adding a prohibition never grants more", "[property][monotonic]") {
  const int total = rounds(300);
  for (int round = 0; round < total; ++round) {
    const std::uint64_t seed = policy_seed(3, round);
    std::mt19937_64 rng(seed);
    RuleWriter writer{rng};
    const SplitPolicy base = split_policy(rng, writer);
    INFO(seed_note(seed, round));
    INFO(base.text());
    const Policy before = must_compile(base.text());
    const std::vector<Request> requests = all_targets(before, rng, 2);
    for (int added = 0; added < 2; ++added) {
      SplitPolicy more = base;
      // Mostly a prohibition; sometimes a fall-back deny, which may only grant less too.
      const std::string deny = writer.rule(pick(rng, 4) == 0 ? "otherwise deny" : "deny");
      more.rules.insert(more.rules.begin() + pick(rng, static_cast<int>(more.rules.size()) + 1),
                        deny);
      INFO("added: " << deny);
      compare(before, must_compile(more.text()), requests, [](Effect x, Effect y) {
        if (x == Effect::deny) REQUIRE(y == Effect::deny);
        if (y == Effect::allow) REQUIRE(x == Effect::allow);
        REQUIRE(grant_rank(y) <= grant_rank(x));
      });
    }
  }
}

TEST_CASE("property: removing a permission never grants more", "[property][monotonic]") {
  const int total = rounds(300);
  int removed = 0;
  for (int round = 0; round < total; ++round) {
    const std::uint64_t seed = policy_seed(4, round);
    std::mt19937_64 rng(seed);
    RuleWriter writer{rng};
    const SplitPolicy base = split_policy(rng, writer);
    INFO(seed_note(seed, round));
    INFO(base.text());
    std::vector<std::size_t> permissions;
    for (std::size_t i = 0; i < base.rules.size(); ++i) {
      if (base.rules[i].starts_with("allow ")) permissions.push_back(i);
    }
    if (permissions.empty()) continue;
    const Policy before = must_compile(base.text());
    const std::vector<Request> requests = all_targets(before, rng, 2);
    SplitPolicy fewer = base;
    const std::size_t gone = permissions[rng() % permissions.size()];
    INFO("removed: " << base.rules[gone]);
    fewer.rules.erase(fewer.rules.begin() + static_cast<std::ptrdiff_t>(gone));
    compare(before, must_compile(fewer.text()), requests, [](Effect x, Effect y) {
      if (x == Effect::deny) REQUIRE(y != Effect::allow);
      REQUIRE(grant_rank(y) <= grant_rank(x));
    });
    ++removed;
  }
  CHECK(removed > total / 2);
}

// Granting consent grants more only while conditions read consent positively and only in
// permissions. The language allows `not consent k`, and consent in the conditions of any
// rule; the test after this one shows each of those breaking the property.
TEST_CASE("property: granting a consent never grants less, when only permissions read it",
          "[property][monotonic]") {
  const int total = rounds(300);
  for (int round = 0; round < total; ++round) {
    const std::uint64_t seed = policy_seed(5, round);
    std::mt19937_64 rng(seed);
    RuleWriter writer{rng};
    writer.consent_positive_in_permissions = true;
    const SplitPolicy base = split_policy(rng, writer);
    INFO(seed_note(seed, round));
    INFO(base.text());
    const Policy p = must_compile(base.text());
    for (const Request& r : all_targets(p, rng, 2)) {
      const Decision before = p.evaluate(r);
      REQUIRE(before.error.empty());
      for (const char* k : {"k0", "k1"}) {
        if (std::find(r.consent.begin(), r.consent.end(), k) != r.consent.end()) continue;
        Request granted = r;
        granted.consent.insert(
            granted.consent.begin() + pick(rng, static_cast<int>(granted.consent.size()) + 1), k);
        const Decision after = p.evaluate(granted);
        INFO(describe(r) << ", granting " << k);
        INFO("before: " << to_json(before));
        INFO("after:  " << to_json(after));
        REQUIRE(after.error.empty());
        if (before.effect == Effect::allow) REQUIRE(after.effect == Effect::allow);
        REQUIRE(grant_rank(after.effect) >= grant_rank(before.effect));
      }
    }
  }
}

TEST_CASE("property: consent read negatively, or outside permissions, can grant less",
          "[property][monotonic]") {
  const auto effects = [](const std::string& rules) {
    std::mt19937_64 rng(1);  // any vocabulary: the rules name only d0, r0, a0, k0 and k1
    const Policy p = must_compile(random_policy(rng, 0) + rules);
    const Request plain = small_request("d0", "r0", "a0", -1, 0);
    Request granted = plain;
    granted.consent = {"k0"};
    return std::pair{p.evaluate(plain).effect, p.evaluate(granted).effect};
  };
  // `not consent`: the permission stops matching.
  CHECK(effects("allow a0 when not consent k0 cites \"c\"\n") ==
        std::pair{Effect::allow, Effect::deny});
  // Consent read by a prohibition.
  CHECK(effects("allow a0 cites \"c\"\ndeny a0 when consent k0 cites \"c\"\n") ==
        std::pair{Effect::allow, Effect::deny});
  // Consent read by a requirement: it starts to apply, unmet.
  CHECK(effects("otherwise allow cites \"c\"\n"
                "require consent k1 for a0 when consent k0 cites \"c\"\n") ==
        std::pair{Effect::allow, Effect::require_consent});
  // Consent read by a fall-back deny that comes first.
  CHECK(effects("otherwise deny a0 when consent k0 cites \"c\"\notherwise allow cites \"c\"\n") ==
        std::pair{Effect::allow, Effect::deny});

  // And random policies that read consent anywhere soon break it.
  bool broken = false;
  for (int round = 0; round < 200 && !broken; ++round) {
    std::mt19937_64 rng(policy_seed(6, round));
    RuleWriter writer{rng};
    const Policy p = must_compile(split_policy(rng, writer).text());
    for (const Request& r : all_targets(p, rng, 1)) {
      if (!r.consent.empty()) continue;
      Request granted = r;
      granted.consent = {"k0", "k1"};
      if (grant_rank(p.evaluate(granted).effect) < grant_rank(p.evaluate(r).effect)) {
        broken = true;
        break;
      }
    }
  }
  CHECK(broken);
}

}  // namespace
}  // namespace clause::test
