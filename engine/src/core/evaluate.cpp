// Stage: evaluate. The hot path: one index lookup, then the few rules that can match,
// each tested by an interval compare and a short run of condition bytecode.
#include <fmt/format.h>

#include "analysis/analysis.hpp"
#include "core/policy_impl.hpp"

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
    case Tier::effective:
      return "effective";
    case Tier::first:
      return "first";
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
using detail::end_of_list;
using detail::HotRule;
using detail::Instr;
using detail::max_chain;
using detail::PolicyImpl;

}  // namespace

namespace detail {

// Out of line so that the hot path stays small; errors are rare.
[[gnu::noinline]] void set_error(Decision& d, std::string_view message) noexcept {
  d.reason = "the request could not be decided";
  try {
    d.error = message;
  } catch (...) {
  }
}

Decision error_decision(std::string message) noexcept {
  Decision d;
  set_error(d, message);
  return d;
}

namespace {

// The list of the last segment in [lo, lo + n) that starts at or before preorder number
// `first`.
const std::uint32_t* list_among(const PolicyImpl& p, const detail::Segment* lo, std::size_t n,
                                std::uint32_t first) noexcept {
  // Branch-free: halve the range, moving up when the middle starts at or before `first`.
  while (n > 1) {
    const std::size_t half = n / 2;
    lo = lo[half].first <= first ? lo + half : lo;
    n -= half;
  }
  return p.lists.data() + lo->list;
}

// The list of a cell's rules for the data category at preorder number `first`: the
// last segment that starts at or before it.
const std::uint32_t* list_for(const PolicyImpl& p, detail::CellRef cell,
                              std::uint32_t first) noexcept {
  const detail::Segment* lo = p.segments.data() + cell.begin;
  std::size_t n = cell.end - cell.begin;
  if (cell.blocks != detail::no_blocks) {
    // The block table narrows the search to the segments of one block, often one.
    const std::uint16_t* table = p.block_start.data() + cell.blocks;
    const std::size_t block = first >> p.block_shift;
    const std::uint16_t from = table[block];
    n = static_cast<std::size_t>(table[block + 1] - from) + 1;
    lo += from;
  }
  return list_among(p, lo, n, first);
}

// The same through the pair's own block table: the list itself when one segment covers
// the block, else its first segment, from which the cell's sentinel bounds the walk.
const std::uint32_t* list_for_pair(const PolicyImpl& p, std::size_t pair,
                                   std::uint32_t first) noexcept {
  const std::uint32_t entry =
      p.pair_start[pair * std::size_t{p.block_count} + (first >> p.block_shift)];
  if ((entry & detail::one_list) != 0) return p.lists.data() + (entry & ~detail::one_list);
  const detail::Segment* lo = p.segments.data() + entry;
  while (lo[1].first <= first)
    ++lo;
  return p.lists.data() + lo->list;
}

// Reads a request's atoms when they fit in one word: one load per request, not per atom.
struct OneWord {
  std::uint64_t word;
  std::uint64_t operator()(std::uint32_t n) const noexcept { return (word >> n) & 1U; }
};

struct ManyWords {
  const std::uint64_t* words;
  std::uint64_t operator()(std::uint32_t n) const noexcept {
    return (words[n / 64] >> (n % 64)) & 1U;
  }
};

// Tries rules in rank order until one decides; `next` gives the ranks, end_of_list last.
template <class Bits, class Next>
FastVerdict decide(const PolicyImpl& p, const std::uint64_t* atoms, Bits bit, Next next) noexcept {
  std::int32_t granted = -1;  // first consent requirement met so far
  for (std::uint32_t rank = next(); rank != end_of_list; rank = next()) {
    const HotRule& rule = p.rules[rank];
    if (granted >= 0 && rule.tier != dsl::Tier::consent) break;
    const std::uint64_t row = bit(rule.atoms[0]) | bit(rule.atoms[1]) << 1 |
                              bit(rule.atoms[2]) << 2 | bit(rule.atoms[3]) << 3 |
                              bit(rule.atoms[4]) << 4 | bit(rule.atoms[5]) << 5;
    if (rule.coded) [[unlikely]] {
      if (!detail::run_condition(p.code.data() + rule.code_begin(), p.code.data() + rule.code_end(),
                                 ManyWords{atoms})) {
        continue;
      }
    } else if (((rule.table >> row) & 1U) == 0) {
      continue;
    }
    const auto index = static_cast<std::int32_t>(rule.index);
    switch (rule.tier) {
      case dsl::Tier::effective:
      case dsl::Tier::first:
      case dsl::Tier::exclusion:
      case dsl::Tier::prohibition:
      case dsl::Tier::permission:
        return {index, false, rule.effect};
      case dsl::Tier::consent:
        // Every matching requirement must be met; the first unmet one is asked for.
        if (bit(static_cast<std::uint32_t>(rule.consent)) == 0) return {index, false, rule.effect};
        if (granted < 0) granted = index;
        break;
      case dsl::Tier::fallback:
        if (rule.consent >= 0 && bit(static_cast<std::uint32_t>(rule.consent)) != 0)
          return {index, true, Effect::allow};
        return {index, false, rule.effect};
    }
  }
  return {granted, granted >= 0, granted >= 0 ? Effect::allow : Effect::deny};
}

template <class Bits>
FastVerdict verdict_with(const PolicyImpl& p, const ResolvedRequest& q, Bits bit) noexcept {
  const std::size_t pair =
      std::size_t{Access::action(q)} * p.requester_count + Access::requester(q);
  const std::uint32_t first = p.data_first[Access::data(q)];
  const std::uint64_t* atoms = Access::atoms(q).data();
  if (!p.pair_start.empty()) {
    // The pair's own block table is found without a load.
    const std::uint32_t* it = list_for_pair(p, pair, first);
    return decide(p, atoms, bit, [&it] { return *it++; });
  }
  if (!p.pair_cell.empty()) {
    // Every pair has its own cell: no chain to read.
    const std::uint32_t* it = list_for(p, p.pair_cell[pair], first);
    return decide(p, atoms, bit, [&it] { return *it++; });
  }
  const detail::CellRef* cell = p.chains.data() + p.chain_begin[pair];
  const detail::CellRef* const cells_end = p.chains.data() + p.chain_begin[pair + 1];
  if (cells_end - cell == 1) {
    // One cell holds every rule of the pair: walk its list.
    const std::uint32_t* it = list_for(p, *cell, first);
    return decide(p, atoms, bit, [&it] { return *it++; });
  }
  // Several cells: merge their lists by rank. Chains are at most max_chain long.
  std::array<const std::uint32_t*, max_chain> heads{};
  std::size_t count = 0;
  for (; cell != cells_end; ++cell) {
    const std::uint32_t* list = list_for(p, *cell, first);
    if (*list != end_of_list) heads[count++] = list;
  }
  return decide(p, atoms, bit, [&heads, count] {
    std::size_t best = 0;
    for (std::size_t i = 1; i < count; ++i) {
      if (*heads[i] < *heads[best]) best = i;
    }
    return count == 0 ? end_of_list : *heads[best]++;
  });
}

}  // namespace

FastVerdict fast_verdict(const PolicyImpl& p, const ResolvedRequest& q) noexcept {
  const std::uint64_t* atoms = Access::atoms(q).data();
  if (p.layout.words == 1) return verdict_with(p, q, OneWord{atoms[0]});
  return verdict_with(p, q, ManyWords{atoms});
}

ReferenceVerdict verdict_of(const PolicyImpl& p, FastVerdict v) {
  // The decision texts already say what each rule gives: no need for the rule tree.
  ReferenceVerdict out;
  out.clause = p.vocabulary().default_clause;
  if (v.rule < 0) return out;
  const detail::RuleText& t = p.rule_texts[static_cast<std::size_t>(v.rule)];
  out.rule = v.rule;
  out.effect = v.granted ? Effect::allow : t.effect;
  out.clause = v.granted ? t.met_clause : t.clause;
  out.consent = v.granted ? -1 : t.consent;
  return out;
}

}  // namespace detail

std::string_view Policy::name() const noexcept {
  // Not `impl_ ? name : ""`: that would make a temporary std::string and view it.
  if (!impl_) return {};
  return impl_->vocabulary().name;
}
std::string_view Policy::version() const noexcept {
  if (!impl_) return {};
  return impl_->vocabulary().version;
}

std::string_view Policy::content_hash() const noexcept {
  return impl_ ? std::string_view(impl_->hash) : std::string_view();
}

std::span<const DocumentInfo> Policy::documents() const noexcept {
  if (!impl_) return {};
  return impl_->document_infos;
}

std::vector<std::string_view> Policy::document_keys(std::string_view document) const {
  std::vector<std::string_view> keys;
  if (!impl_) return keys;
  for (const detail::LoadedDocument& d : impl_->documents) {
    if (d.name != document) continue;
    keys.assign(d.keys.begin(), d.keys.end());
  }
  return keys;
}

std::vector<std::string_view> Policy::documents_keyed_by(std::string_view field) const {
  std::vector<std::string_view> names;
  if (!impl_) return names;
  const dsl::CheckedPolicy& c = impl_->vocabulary();
  for (std::uint32_t d = 0; d < impl_->documents.size(); ++d) {
    const bool keyed = std::any_of(
        impl_->lookups.begin(), impl_->lookups.end(), [&](const detail::LookupStep& step) {
          return step.document == d && c.attributes[step.key].path == field;
        });
    if (keyed) names.push_back(impl_->documents[d].name);
  }
  return names;
}

std::span<const Diagnostic> Policy::warnings() const noexcept {
  if (!impl_) return {};
  return impl_->warnings;
}

const SourceFile& Policy::source() const noexcept {
  static const SourceFile empty;
  return impl_ ? impl_->source : empty;
}

const dsl::CheckedPolicy& Policy::checked() const noexcept {
  static const dsl::CheckedPolicy empty;
  if (!impl_) return empty;
  try {
    return impl_->checked();
  } catch (...) {
    // Reading the rules again ran out of memory: the names and clauses are still there.
    return impl_->vocabulary();
  }
}

Request Policy::names(const ResolvedRequest& request) const {
  if (!impl_ || Access::serial(request) != impl_->serial) return {};
  Request out = detail::request_names(impl_->vocabulary(), request);
  // What a document gives is found again from the key when the names are resolved.
  std::erase_if(out.attributes, [&](const Attribute& a) {
    const auto id = detail::find_name(impl_->attribute_ids, a.path);
    return id && impl_->vocabulary().attributes[*id].lookup;
  });
  return out;
}

std::vector<std::pair<std::string_view, std::string_view>> Policy::clauses() const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (!impl_) return out;
  for (const dsl::ClauseInfo& c : impl_->vocabulary().clauses)
    out.emplace_back(c.id, c.words);
  return out;
}

std::string_view Policy::clause_words(std::string_view clause_id) const noexcept {
  if (!impl_) return {};
  for (const dsl::ClauseInfo& c : impl_->vocabulary().clauses) {
    if (c.id == clause_id) return c.words;
  }
  return {};
}

Verdict Policy::decide(const ResolvedRequest& request) const noexcept {
  Verdict v;
  if (!impl_) return v;
  const PolicyImpl& p = *impl_;
  v.policy = p.serial;
  // A request resolved against another policy carries ids that mean nothing here. Only
  // this policy's resolve and decode give its serial, and they give valid ids with it.
  if (Access::serial(request) != p.serial) return v;
  const detail::FastVerdict f = detail::fast_verdict(p, request);
  v.decided = true;
  v.rule = f.rule;
  v.granted = f.granted;
  v.effect = f.effect;
  return v;
}

VerdictTexts Policy::texts(const Verdict& v) const noexcept {
  VerdictTexts out;
  const auto refuse = [&](std::string_view why) {
    out.reason = "the request could not be decided";
    out.error = why;
    return out;
  };
  if (!impl_) return refuse("no policy is loaded");
  const PolicyImpl& p = *impl_;
  if (v.policy != p.serial) return refuse("the verdict was not made by this policy");
  if (!v.decided) return refuse("the request was not resolved against this policy");
  if (v.rule < 0 || static_cast<std::size_t>(v.rule) >= p.rule_texts.size()) {
    out.clause = p.clause_id(p.vocabulary().default_clause);
    out.reason = detail::default_reason;
    return out;
  }
  const detail::RuleText& t = p.rule_texts[static_cast<std::size_t>(v.rule)];
  out.rule = p.text(t.rule);
  if (v.granted) {
    out.clause = p.clause_id(t.met_clause);
    out.reason = p.met_reason(t);
  } else {
    // A met consent requirement allows without duties; only the rule's own allow has them.
    out.clause = p.clause_id(t.clause);
    out.reason = p.text(t.reason);
    if (t.consent >= 0)
      out.consent = p.vocabulary().consents[static_cast<std::size_t>(t.consent)].name;
    if (t.effect == Effect::allow) out.obligations = p.obligations(t);
  }
  return out;
}

Decision Policy::evaluate(const ResolvedRequest& request,
                          const EvalOptions& options) const noexcept {
  // One Decision, filled in place and returned without a copy.
  Decision d;
  const Verdict v = decide(request);
  const VerdictTexts t = texts(v);
  if (!t.error.empty()) {
    detail::set_error(d, t.error);
  } else {
    d.effect = v.effect;
    d.clause = t.clause;
    d.rule = t.rule;
    d.consent = t.consent;
    d.reason = t.reason;
    d.obligations = t.obligations;
  }
  if (!impl_) return d;
  d.policy_version = impl_->vocabulary().version;
  d.policy_hash = impl_->hash;
  d.policy = *this;
  if (options.trace && v.decided) [[unlikely]] {
    try {
      (void)detail::reference_evaluate(*impl_, request, &d.trace);
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
    if (!resolved) return refused(resolved.error().to_string());
    return evaluate(*resolved, options);
  } catch (const std::exception& e) {
    return refused(fmt::format("internal error: {}", e.what()));
  }
}

Decision Policy::evaluate_json(std::string_view json, const EvalOptions& options) const noexcept {
  try {
    auto resolved = decode(json);
    if (!resolved) return refused(resolved.error().to_string());
    return evaluate(*resolved, options);
  } catch (const std::exception& e) {
    return refused(fmt::format("internal error: {}", e.what()));
  }
}

Decision Policy::refused(std::string message) const noexcept {
  Decision d = detail::error_decision(std::move(message));
  d.policy_version = version();
  d.policy_hash = content_hash();
  d.policy = *this;
  return d;
}

}  // namespace clause
