// Stage: evaluate. The hot path: one index lookup, then the few rules that can match,
// each tested by an interval compare and a short run of condition bytecode.
#include <fmt/format.h>

#include "policy_impl.hpp"

namespace clause {

std::string_view to_string(Effect effect) noexcept {
  switch (effect) {
    case Effect::allow:
      return "allow";
    case Effect::deny:
      return "deny";
    case Effect::require_consent:
      return "require-consent";
  }
  return "deny";
}

std::string_view to_string(Tier tier) noexcept {
  switch (tier) {
    case Tier::exclusion:
      return "exclusion";
    case Tier::prohibition:
      return "prohibition";
    case Tier::permission:
      return "permission";
    case Tier::consent:
      return "consent";
    case Tier::fallback:
      return "fallback";
  }
  return "fallback";
}

std::string_view to_string(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::decided:
      return "decided";
    case Outcome::outranked:
      return "matched, outranked";
    case Outcome::action_mismatch:
      return "action does not match";
    case Outcome::data_mismatch:
      return "data category does not match";
    case Outcome::requester_mismatch:
      return "requester kind does not match";
    case Outcome::condition_false:
      return "condition is false";
    case Outcome::consent_granted:
      return "matched, consent granted";
  }
  return "";
}

namespace {

using detail::Access;
using detail::CompiledRule;
using detail::Instr;
using detail::PolicyImpl;

bool condition_holds(const PolicyImpl& p, const CompiledRule& rule,
                     const ResolvedRequest& q) noexcept {
  if (rule.code_begin == rule.code_end) return true;
  // A stack of bits: the top is bit 0. Depth is bounded at compile time.
  std::uint64_t stack = 0;
  const Instr* const end = p.code.data() + rule.code_end;
  for (const Instr* i = p.code.data() + rule.code_begin; i != end; ++i) {
    switch (i->op) {
      case Instr::fact:
        stack = (stack << 1) | (detail::test_bit(Access::facts(q), i->arg) ? 1U : 0U);
        break;
      case Instr::purpose_is:
        stack = (stack << 1) | (Access::purpose(q) == static_cast<std::int32_t>(i->arg) ? 1U : 0U);
        break;
      case Instr::consent:
        stack = (stack << 1) | (detail::test_bit(Access::consent(q), i->arg) ? 1U : 0U);
        break;
      case Instr::negate:
        stack ^= 1U;
        break;
      case Instr::all: {
        const std::uint64_t top = stack & 1U;
        stack >>= 1;
        stack &= ~std::uint64_t{1} | top;
        break;
      }
      case Instr::any: {
        const std::uint64_t top = stack & 1U;
        stack >>= 1;
        stack |= top;
        break;
      }
    }
  }
  return (stack & 1U) != 0;
}

bool data_covered(const PolicyImpl& p, const CompiledRule& rule, std::uint32_t first) noexcept {
  for (std::uint32_t i = rule.data_begin; i != rule.data_end; ++i) {
    if (first >= p.intervals[i].first && first < p.intervals[i].last) return true;
  }
  return false;
}

Decision decided_by(const PolicyImpl& p, const CompiledRule& rule, std::uint32_t index) noexcept {
  Decision d;
  d.effect = rule.effect;
  d.clause = p.clause_id(rule.clause);
  d.rule = p.checked.rules[index].id;
  d.reason = rule.reason;
  if (rule.effect == Effect::require_consent) {
    d.consent = p.checked.consents[static_cast<std::size_t>(rule.consent)].name;
  }
  return d;
}

Decision granted_by(const PolicyImpl& p, const CompiledRule& rule, std::uint32_t index) noexcept {
  Decision d;
  d.effect = Effect::allow;
  d.clause = p.clause_id(rule.met_clause);
  d.rule = p.checked.rules[index].id;
  d.reason = rule.met_reason;
  return d;
}

}  // namespace

namespace detail {

// Out of line so that the hot path below stays small; errors are rare.
Decision error_decision(std::string message) noexcept {
  Decision d;
  d.reason = "the request could not be decided";
  try {
    d.error = std::move(message);
  } catch (...) {
  }
  return d;
}

FastVerdict fast_verdict(const PolicyImpl& p, const ResolvedRequest& q) noexcept {
  const std::uint32_t cell = Access::action(q) * p.requester_count + Access::requester(q);
  const std::uint32_t first = p.data_first[Access::data(q)];
  std::int32_t granted = -1;  // first consent requirement met so far
  const std::uint32_t* const end = p.cell_rules.data() + p.cell_begin[cell + 1];
  for (const std::uint32_t* it = p.cell_rules.data() + p.cell_begin[cell]; it != end; ++it) {
    const CompiledRule& rule = p.rules[*it];
    if (granted >= 0 && rule.tier != dsl::Tier::consent) break;
    if (!data_covered(p, rule, first) || !condition_holds(p, rule, q)) continue;
    const auto index = static_cast<std::int32_t>(*it);
    switch (rule.tier) {
      case dsl::Tier::exclusion:
      case dsl::Tier::prohibition:
      case dsl::Tier::permission:
        return {index, false};
      case dsl::Tier::consent:
        // Every matching requirement must be met; the first unmet one is asked for.
        if (!detail::test_bit(Access::consent(q), static_cast<std::uint32_t>(rule.consent))) {
          return {index, false};
        }
        if (granted < 0) granted = index;
        break;
      case dsl::Tier::fallback:
        return {index,
                rule.consent >= 0 &&
                    detail::test_bit(Access::consent(q), static_cast<std::uint32_t>(rule.consent))};
    }
  }
  return {granted, granted >= 0};
}

Decision fast_evaluate(const PolicyImpl& p, const ResolvedRequest& q) noexcept {
  const FastVerdict v = fast_verdict(p, q);
  if (v.rule < 0) {
    Decision d;
    d.clause = p.clause_id(p.checked.default_clause);
    d.reason = p.default_reason;
    return d;
  }
  const auto index = static_cast<std::uint32_t>(v.rule);
  return v.granted ? granted_by(p, p.rules[index], index) : decided_by(p, p.rules[index], index);
}

ReferenceVerdict verdict_of(const PolicyImpl& p, FastVerdict v) noexcept {
  ReferenceVerdict out;
  out.clause = p.checked.default_clause;
  if (v.rule < 0) return out;
  const CompiledRule& rule = p.rules[static_cast<std::size_t>(v.rule)];
  out.rule = v.rule;
  out.effect = v.granted ? Effect::allow : rule.effect;
  out.clause = v.granted ? rule.met_clause : rule.clause;
  out.consent = out.effect == Effect::require_consent ? rule.consent : -1;
  return out;
}

}  // namespace detail

std::string_view Policy::name() const noexcept {
  return impl_ ? impl_->checked.name : "";
}
std::string_view Policy::version() const noexcept {
  return impl_ ? impl_->checked.version : "";
}

std::span<const Diagnostic> Policy::warnings() const noexcept {
  if (!impl_) return {};
  return impl_->warnings;
}

const SourceFile& Policy::source() const noexcept {
  static const SourceFile empty;
  return impl_ ? impl_->source : empty;
}

std::string_view Policy::clause_words(std::string_view clause_id) const noexcept {
  if (!impl_) return {};
  for (const dsl::ClauseInfo& c : impl_->checked.clauses) {
    if (c.id == clause_id) return c.words;
  }
  return {};
}

Decision Policy::evaluate(const ResolvedRequest& request,
                          const EvalOptions& options) const noexcept {
  if (!impl_) return detail::error_decision("no policy is loaded");
  const PolicyImpl& p = *impl_;
  // A request resolved against another policy carries ids that mean nothing here.
  if (Access::serial(request) != p.serial || Access::data(request) >= p.data_first.size() ||
      Access::requester(request) >= p.requester_count ||
      Access::action(request) >= p.checked.actions.size()) {
    return detail::error_decision("the request was not resolved against this policy");
  }
  Decision d = detail::fast_evaluate(p, request);
  if (options.trace) {
    try {
      (void)detail::reference_evaluate(p, request, &d.trace);
    } catch (...) {
      // A trace that cannot be built (out of memory) leaves the decision as it is.
      d.trace.clear();
    }
  }
  return d;
}

Decision Policy::evaluate(const Request& request, const EvalOptions& options) const noexcept {
  try {
    auto resolved = resolve(request);
    if (!resolved) return detail::error_decision(resolved.error().to_string());
    return evaluate(*resolved, options);
  } catch (const std::exception& e) {
    return detail::error_decision(fmt::format("internal error: {}", e.what()));
  }
}

Decision Policy::evaluate_json(std::string_view json, const EvalOptions& options) const noexcept {
  try {
    auto resolved = decode(json);
    if (!resolved) return detail::error_decision(resolved.error().to_string());
    return evaluate(*resolved, options);
  } catch (const std::exception& e) {
    return detail::error_decision(fmt::format("internal error: {}", e.what()));
  }
}

}  // namespace clause
