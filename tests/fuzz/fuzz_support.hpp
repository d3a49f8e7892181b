// Helpers shared by the fuzz targets: failing loudly, so that libFuzzer keeps a reproducer,
// and comparing decisions.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "clause/clause.hpp"
#include "clause/detail.hpp"
#include "clause/json.hpp"

namespace clause::fuzz {

/// Prints what disagreed, and the input when it is printable and short, then aborts:
/// libFuzzer (or the replay program) reports the crash and the reproducer.
[[noreturn]] inline void fail(std::string_view what, std::string_view input = {}) {
  std::fprintf(stderr, "fuzz check failed: %.*s\n", static_cast<int>(what.size()), what.data());
  if (!input.empty() && input.size() < 4096) {
    std::fprintf(stderr, "--- input ---\n%.*s\n--- end ---\n", static_cast<int>(input.size()),
                 input.data());
  }
  std::fflush(stderr);
  std::abort();
}

/// Checks a condition that must hold for every input.
inline void check(bool ok, std::string_view what, std::string_view input = {}) {
  if (!ok) fail(what, input);
}

/// Describes a decision on one line, for messages.
inline std::string describe(const Decision& d) {
  return fmt::format("{} clause `{}` rule `{}` consent `{}` error `{}`", to_string(d.effect),
                     d.clause, d.rule, d.consent, d.error);
}

/// Tells whether two decisions say the same: effect, clause, rule, consent and error.
inline bool same_decision(const Decision& a, const Decision& b) {
  return a.effect == b.effect && a.clause == b.clause && a.rule == b.rule &&
         a.consent == b.consent && a.error == b.error;
}

/// Reads fuzz bytes as a stream of choices; past their end it goes on with a generator
/// seeded by them, so that short inputs still describe whole policies. Meets the needs of
/// the random generators in tests/ (`rng()`, used modulo small numbers).
class ByteSource {
 public:
  using result_type = std::uint64_t;
  ByteSource(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {
    // FNV-1a over the input: the same input always continues the same way.
    state_ = 1469598103934665603ULL;
    for (std::size_t i = 0; i < size; ++i)
      state_ = (state_ ^ data[i]) * 1099511628211ULL;
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }

  /// One byte of input as a choice, or the next value of the generator.
  result_type operator()() {
    if (at_ < size_) return data_[at_++];
    // splitmix64: small, good enough to spread the choices.
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
  std::uint64_t state_;
};

/// Holds the index to the reference loop on one resolved request; gives the decision.
/// `label` describes the request, made only when a check fails: this runs in hot loops.
template <typename Label>
Decision check_reference(const Policy& p, const ResolvedRequest& q, Label label,
                         std::string_view input) {
  const detail::PolicyImpl& impl = *detail::Access::impl(p);
  const Decision fast = p.evaluate(q);
  if (!fast.error.empty()) fail(fmt::format("{}: error {}", label(), fast.error), input);
  const detail::ReferenceVerdict slow = detail::reference_evaluate(impl, q, nullptr);
  const std::string_view slow_rule =
      slow.rule >= 0
          ? std::string_view(impl.checked().rules[static_cast<std::size_t>(slow.rule)].id)
          : std::string_view();
  const std::string_view slow_consent =
      slow.consent >= 0
          ? std::string_view(
                impl.vocabulary().consents[static_cast<std::size_t>(slow.consent)].name)
          : std::string_view();
  if (fast.effect != slow.effect || fast.clause != impl.clause_id(slow.clause) ||
      fast.rule != slow_rule || fast.consent != slow_consent) {
    fail(fmt::format("{}: the index says {}, the reference loop says {} clause `{}` rule `{}` "
                     "consent `{}`",
                     label(), describe(fast), to_string(slow.effect), impl.clause_id(slow.clause),
                     slow_rule, slow_consent),
         input);
  }
  return fast;
}

/// Decides one request, given by names of the policy's vocabulary, every way the engine
/// can: through the index (resolved and by names, traced and not), by the reference loop,
/// and as JSON text. All must agree.
inline void check_request(const Policy& p, const Request& r, std::string_view input) {
  const auto resolved = p.resolve(r);
  if (!resolved) {
    fail("a request over the policy's own names does not resolve: " + resolved.error().to_string(),
         input);
  }
  const detail::PolicyImpl& impl = *detail::Access::impl(p);
  const std::string label = fmt::format("request {} {} {}: ", r.data, r.requester, r.action);
  const Decision fast = check_reference(
      p, *resolved, [&] { return label; }, input);
  const Decision by_names = p.evaluate(r);
  check(same_decision(fast, by_names),
        label + "by names " + describe(by_names) + ", resolved " + describe(fast), input);
  const Decision traced = p.evaluate(*resolved, EvalOptions{.trace = true});
  check(same_decision(fast, traced),
        label + "traced " + describe(traced) + ", untraced " + describe(fast), input);
  check(traced.trace.size() == impl.checked().rules.size(),
        label + "the trace does not list every rule", input);
  // The same request as JSON text, in the shape docs/requests.md gives.
  std::string json = fmt::format(
      R"({{"data":{{"category":"{}"}},"requester":{{"kind":"{}","id":"x"}},"action":"{}")", r.data,
      r.requester, r.action);
  json += R"(,"context":{)";
  if (r.purpose) json += fmt::format(R"("purpose":"{}",)", *r.purpose);
  json += R"("consent":[)";
  for (std::size_t i = 0; i < r.consent.size(); ++i)
    json += fmt::format(R"({}"{}")", i ? "," : "", r.consent[i]);
  // Facts as a list: a fact may be called `facts`, which as a key would mean the list.
  json += R"(],"facts":[)";
  for (std::size_t i = 0; i < r.facts.size(); ++i)
    json += fmt::format(R"({}"{}")", i ? "," : "", r.facts[i]);
  json += "]}}";
  const Decision from_json = p.evaluate_json(json);
  check(same_decision(fast, from_json),
        label + "as JSON " + describe(from_json) + ", resolved " + describe(fast) + "\n" + json,
        input);
  check(!to_json(traced).empty(), "empty JSON for a decision", input);
}

}  // namespace clause::fuzz
