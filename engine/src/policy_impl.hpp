// Stage: compile. The compiled form of a policy, shared by the evaluator, the reference
// evaluator and the tools. Internal: not installed, not part of the API.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "clause/clause.hpp"
#include "clause/dsl/check.hpp"

namespace clause::detail {

/// One instruction of a compiled condition; conditions run on a stack of bits.
struct Instr {
  enum Op : std::uint8_t { fact, purpose_is, consent, negate, all, any };
  Op op;
  std::uint32_t arg;  // fact, purpose or consent id; operand count for all and any
};

/// One rule as the evaluator needs it.
struct CompiledRule {
  dsl::Tier tier = dsl::Tier::prohibition;
  Effect effect = Effect::deny;  // the effect when it decides (consent: when not granted)
  std::int32_t consent = -1;
  std::uint32_t data_begin = 0;  // [data_begin, data_end) in PolicyImpl::intervals
  std::uint32_t data_end = 0;
  std::uint32_t code_begin = 0;  // [code_begin, code_end) in PolicyImpl::code; empty: true
  std::uint32_t code_end = 0;
  std::uint32_t clause = 0;      // cited when it decides
  std::uint32_t met_clause = 0;  // cited when its consent is granted
  std::string reason;            // the one-line reason when it decides
  std::string met_reason;        // the reason when its consent is granted
};

/// Half-open interval of preorder numbers of data categories.
struct Interval {
  std::uint32_t first;
  std::uint32_t last;
};

/// Everything a compiled policy holds.
struct PolicyImpl {
  std::uint64_t serial = 0;  // unique per compilation; binds resolved requests to it
  SourceFile source;
  dsl::CheckedPolicy checked;
  std::vector<Diagnostic> warnings;
  std::vector<ast::Suppression> suppressions;  // `@ignore` annotations, for the linter

  // Name lookup, used only when resolving requests.
  std::unordered_map<std::string, std::uint32_t> data_ids, requester_ids, action_ids, purpose_ids,
      fact_ids, consent_ids;

  std::vector<std::uint32_t> data_first;  // data id -> preorder number
  std::vector<Interval> intervals;
  std::vector<Instr> code;
  std::vector<CompiledRule> rules;

  // The index: for each (action, requester) pair, the rules that can match it, in the
  // order they are tried (tier, then file order).
  std::uint32_t requester_count = 0;
  std::vector<std::uint32_t> cell_begin;  // size actions * requesters + 1
  std::vector<std::uint32_t> cell_rules;

  std::string default_reason;
  std::size_t fact_words = 0;
  std::size_t consent_words = 0;

  std::string_view clause_id(std::uint32_t clause) const { return checked.clauses[clause].id; }
};

/// Gives the effect a rule of the given kind has when it decides (an exclusion allows).
inline Effect effect_of(ast::Effect e) {
  switch (e) {
    case ast::Effect::allow:
    case ast::Effect::exclude:
      return Effect::allow;
    case ast::Effect::require_consent:
      return Effect::require_consent;
    case ast::Effect::deny:
      return Effect::deny;
  }
  return Effect::deny;
}

/// Gives a statement's source on one line: comments dropped, blanks folded.
std::string one_line(std::string_view text, Span span);

/// Opens the private parts of the public types to the engine's own code.
struct Access {
  static const PolicyImpl* impl(const Policy& p) { return p.impl_.get(); }
  static void set_impl(Policy& p, std::shared_ptr<const PolicyImpl> impl) {
    p.impl_ = std::move(impl);
  }
  static std::uint64_t& serial(ResolvedRequest& r) { return r.policy_serial_; }
  static std::uint32_t& data(ResolvedRequest& r) { return r.data_; }
  static std::uint32_t& requester(ResolvedRequest& r) { return r.requester_; }
  static std::uint32_t& action(ResolvedRequest& r) { return r.action_; }
  static std::int32_t& purpose(ResolvedRequest& r) { return r.purpose_; }
  static std::vector<std::uint64_t>& facts(ResolvedRequest& r) { return r.facts_; }
  static std::vector<std::uint64_t>& consent(ResolvedRequest& r) { return r.consent_; }
  static std::uint64_t serial(const ResolvedRequest& r) { return r.policy_serial_; }
  static std::uint32_t data(const ResolvedRequest& r) { return r.data_; }
  static std::uint32_t requester(const ResolvedRequest& r) { return r.requester_; }
  static std::uint32_t action(const ResolvedRequest& r) { return r.action_; }
  static std::int32_t purpose(const ResolvedRequest& r) { return r.purpose_; }
  static const std::vector<std::uint64_t>& facts(const ResolvedRequest& r) { return r.facts_; }
  static const std::vector<std::uint64_t>& consent(const ResolvedRequest& r) { return r.consent_; }
};

inline bool test_bit(const std::vector<std::uint64_t>& words, std::uint32_t i) {
  const std::size_t w = i / 64;
  return w < words.size() && ((words[w] >> (i % 64)) & 1U) != 0;
}

inline void set_bit(std::vector<std::uint64_t>& words, std::uint32_t i) {
  words[i / 64] |= std::uint64_t{1} << (i % 64);
}

/// The reference evaluator's verdict: which rule decided and how.
struct ReferenceVerdict {
  Effect effect = Effect::deny;
  std::uint32_t clause = 0;
  std::int32_t rule = -1;  // index into checked.rules; -1 when no rule decided
  std::int32_t consent = -1;
};

/// Which rule decided a request (-1: none), and whether it did so because its consent
/// was granted: everything a decision is made from.
struct FastVerdict {
  std::int32_t rule = -1;
  bool granted = false;
};

/// Decides through the index, as Policy::evaluate does, without building a Decision.
FastVerdict fast_verdict(const PolicyImpl& policy, const ResolvedRequest& request) noexcept;

/// Decides by the plain loop over all rules, straight from the checked policy: the
/// specification the index is tested against. Optionally records a trace.
ReferenceVerdict reference_evaluate(const PolicyImpl& policy, const ResolvedRequest& request,
                                    std::vector<TraceStep>* trace);

/// Renders a condition as it would be written.
std::string condition_text(const dsl::CheckedPolicy& policy, const dsl::CheckedCond& cond);

/// Describes an indexed verdict as the reference evaluator does.
ReferenceVerdict verdict_of(const PolicyImpl& policy, FastVerdict verdict) noexcept;

}  // namespace clause::detail
