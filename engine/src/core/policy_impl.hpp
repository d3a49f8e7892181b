// Stage: compile. The compiled form of a policy, shared by the evaluator, the reference
// evaluator and the tools. Internal: not installed, not part of the API.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "clause/clause.hpp"
#include "clause/dsl/check.hpp"
#include "clause/dsl/front_end.hpp"
#include "clause/dsl/parse.hpp"

namespace clause::detail {

/// One instruction of a compiled condition; conditions run on a stack of bits.
struct Instr {
  enum Op : std::uint8_t { atom, negate, all, any };
  Op op;
  std::uint32_t arg;  // atom: its bit position in the request's atoms
};

/// What the hot path reads of a rule: its tier, its consent and its condition's code.
/// Runs condition code on a stack of bits, the top being bit 0; `bit(n)` reads the atom at
/// position n. The depth is bounded at compile time.
template <class Bit>
bool run_condition(const Instr* i, const Instr* const end, Bit bit) noexcept {
  std::uint64_t stack = 0;
  for (; i != end; ++i) {
    switch (i->op) {
      case Instr::atom:
        stack = (stack << 1) | bit(i->arg);
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

/// A condition of up to six atoms is a truth table: the atoms' bits, read in order, make
/// a number n, and bit n of `table` is the condition's value. No branch, no loop.
struct HotRule {
  static constexpr std::size_t table_atoms = 6;
  // All ones: no condition. A coded rule keeps where its code is here (see code_range).
  std::uint64_t table = ~std::uint64_t{0};
  std::array<std::uint16_t, table_atoms> atoms{};  // bit positions in the request's atoms
  std::int32_t consent = -1;                       // the bit position of its consent, or -1
  std::uint32_t index = 0;                         // the rule's place in the file
  dsl::Tier tier = dsl::Tier::prohibition;
  bool coded = false;            // the condition is too wide for a table and runs as code
  Effect effect = Effect::deny;  // when it decides: the verdict needs no other line

  /// A coded rule keeps [begin, end) of PolicyImpl::code in place of its table.
  static std::uint64_t code_range(std::uint32_t begin, std::uint32_t end) {
    return (std::uint64_t{begin} << 32) | end;
  }
  std::uint32_t code_begin() const { return static_cast<std::uint32_t>(table >> 32); }
  std::uint32_t code_end() const { return static_cast<std::uint32_t>(table); }
};

/// A stretch of PolicyImpl::texts.
struct TextRef {
  std::uint32_t at = 0;
  std::uint32_t size = 0;
};

static_assert(sizeof(HotRule) == 32, "two rules a cache line");

/// What a decision by one rule says, made ahead of time: its texts are in one buffer.
struct RuleText {
  TextRef rule;                       // the rule's id
  TextRef reason;                     // when it decides
  std::uint32_t met_reason_size = 0;  // when its consent is granted: right after `reason`
  std::uint32_t clause = 0;           // cited when it decides
  std::uint32_t met_clause = 0;       // cited when its consent is granted
  std::int32_t consent = -1;          // the consent asked for, when it requires one
  Effect effect = Effect::deny;       // when it decides
  std::uint32_t obligations_at = 0;   // its duties: [at, at + size) of obligation_views
  std::uint32_t obligations_size = 0;
};

inline constexpr std::uint32_t end_of_list = 0xffffffffU;

/// One stretch of a cell's data categories: from preorder number `first` up to the next
/// segment's first, the rules listed from lists[list] up to the end_of_list mark are the
/// only ones of the cell that can decide, in the order they are tried.
struct Segment {
  std::uint32_t first = 0;
  std::uint32_t list = 0;
};

/// A cell in a chain: its segments, [begin, end) in the segment arrays, and where its
/// block table starts in PolicyImpl::block_start (no_blocks: search all its segments).
struct CellRef {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint32_t blocks = 0;
};

inline constexpr std::uint32_t no_blocks = 0xffffffffU;

/// Marks an entry of a pair's own block table that is a list, not a segment.
inline constexpr std::uint32_t one_list = 0x80000000U;

/// The most blocks the data categories are cut into for the block tables.
inline constexpr std::uint32_t max_blocks = 64;

/// Where a request's atoms sit in its bits: the facts from 0, then the consents, then one
/// bit per purpose (a request sets its purpose's and every ancestor's), then the
/// objections, then one bit per attribute test, then one bit that is never set
/// (conditions read it as false).
struct AtomLayout {
  std::uint32_t consent_base = 0;
  std::uint32_t purpose_base = 0;
  std::uint32_t objection_base = 0;
  std::uint32_t test_base = 0;
  std::uint32_t never = 0;
  std::uint32_t words = 1;

  static AtomLayout of(const dsl::CheckedPolicy& c) {
    AtomLayout l;
    l.consent_base = static_cast<std::uint32_t>(c.facts.size());
    l.purpose_base = l.consent_base + static_cast<std::uint32_t>(c.consents.size());
    l.objection_base = l.purpose_base + static_cast<std::uint32_t>(c.purposes.size());
    l.test_base = l.objection_base + static_cast<std::uint32_t>(c.objections.size());
    l.never = l.test_base + static_cast<std::uint32_t>(c.tests.size());
    l.words = l.never / 64 + 1;
    return l;
  }
  std::uint32_t fact(std::uint32_t id) const { return id; }
  std::uint32_t consent(std::uint32_t id) const { return consent_base + id; }
  std::uint32_t purpose(std::uint32_t id) const { return purpose_base + id; }
  std::uint32_t objection(std::uint32_t id) const { return objection_base + id; }
  std::uint32_t test(std::uint32_t id) const { return test_base + id; }
};

/// Hashes names so that a map can be searched with a string_view, without a copy.
struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

using NameMap = std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>>;

/// Looks a name up in one of the policy's vocabularies.
inline std::optional<std::uint32_t> find_name(const NameMap& map, std::string_view name) {
  const auto it = map.find(name);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

/// A document a policy reads, as loaded: for each entry, the value of every attribute
/// that reads the document.
struct LoadedDocument {
  std::string name;                    // as declared
  std::string path;                    // as declared
  std::string hash;                    // "sha256:<hex>" of its text
  std::vector<std::string> keys;       // sorted bytewise
  std::vector<std::uint32_t> columns;  // the attributes that read it, by index
  std::vector<Value> values;           // keys[k]'s value for columns[c] at k * columns.size() + c

  /// The value of the entry at `row` for the attribute at `column` of `columns`.
  [[nodiscard]] const Value& cell(std::size_t row, std::size_t column) const {
    return values[row * columns.size() + column];
  }
};

/// The row of `key` in a document, or none (documents.cpp: with a hint for keys searched
/// in order, as requests of a batch often are).
std::optional<std::size_t> row_of(const LoadedDocument& doc, std::string_view key);

/// One looked-up attribute: its value is the key attribute's entry in a document.
struct LookupStep {
  std::uint32_t attribute = 0;
  std::uint32_t key = 0;
  std::uint32_t document = 0;
  std::uint32_t column = 0;
};

/// Everything a compiled policy holds.
struct PolicyImpl {
  std::uint64_t serial = 0;  // unique per compilation; binds resolved requests to it
  SourceFile source;
  std::string hash;  // "sha256:<hex>" of source.text
  // The checked policy. Its rules and assertions are dropped after compiling unless
  // CompileOptions::keep_rule_tree is set, and read again from the source the first time
  // checked() is called: traces and analyses need them, decisions do not.
  mutable dsl::CheckedPolicy checked_;
  mutable std::once_flag rules_once_;
  bool rules_dropped_ = false;
  Limits bounds;  // as compiled: the rules are read again, and requests decoded, within them

  /// The whole checked policy, rules included (read again from the source if dropped).
  const dsl::CheckedPolicy& checked() const;
  /// Names, clauses and hierarchies: always at hand, without the rules.
  const dsl::CheckedPolicy& vocabulary() const { return checked_; }
  std::vector<Diagnostic> warnings;
  std::vector<ast::Suppression> suppressions;  // `@ignore` annotations, for the linter

  // Name lookup, used only when resolving requests.
  NameMap data_ids, requester_ids, action_ids, purpose_ids, fact_ids, consent_ids, objection_ids;
  NameMap attribute_ids;  // "data.subject" -> attribute index

  // The documents the policy reads, and the attributes read from them, in file order.
  std::vector<LoadedDocument> documents;
  std::vector<DocumentInfo> document_infos;  // views into `documents`
  std::vector<LookupStep> lookups;

  std::vector<std::uint32_t> data_first;  // data id -> preorder number
  std::vector<Instr> code;
  std::vector<HotRule> rules;        // by rank: the order rules are tried in
  std::vector<RuleText> rule_texts;  // by rule index
  std::string texts;                 // rule ids and reasons, for decisions to point into
  std::vector<std::string_view> obligation_views;  // into texts, each rule's in a run

  // The index (docs/performance.md). Each (action, requester) pair has a short chain of
  // cells; together they hold every rule that can match the pair. A cell splits the data
  // categories into segments, each with the list of the cell's rules that can decide
  // there, by rank: rules that cannot match are left out, and so is every rule after
  // one that always decides. Cells with the same rules are stored once.
  std::uint32_t requester_count = 0;
  std::uint32_t action_count = 0;
  std::vector<std::uint32_t> chain_begin;  // action * requester_count + requester -> chain
  std::vector<CellRef> chains;
  std::vector<CellRef> pair_cell;  // instead of chains when every pair has one cell
  // Every pair has one cell and its own block table, at pair * block_count: an entry is
  // the list itself (one_list set) when one segment covers the block, else the absolute
  // place in `segments` of the block's first segment; the cell's segments are then
  // followed by a sentinel that starts after every category. A lookup starts without
  // reading the pair's cell, often without reading a segment (docs/performance.md).
  // Instead of pair_cell and block_start when every pair has its own cell.
  std::vector<std::uint32_t> pair_start;
  std::vector<std::uint32_t> cell_segments;  // cell -> its first segment; one more at the end
  std::vector<Segment> segments;
  std::vector<std::uint32_t> lists;  // ranks, each list closed by end_of_list
  // Block tables: preorder numbers are cut into blocks of 2^block_shift; for each cell,
  // entry b is the cell's segment (counted from its first) holding the block's first
  // category, and one entry more holds its last segment. A lookup then searches only the
  // few segments between two entries: with few categories, none at all.
  std::uint32_t block_shift = 0;
  std::uint32_t block_count = 1;
  std::vector<std::uint16_t> block_start;
  std::uint32_t fold_limit = 0;  // requester subtrees up to this size share one cell

  AtomLayout layout;

  std::string_view clause_id(std::uint32_t clause) const { return checked_.clauses[clause].id; }
  std::string_view text(TextRef ref) const { return {texts.data() + ref.at, ref.size}; }
  std::string_view met_reason(const RuleText& t) const {
    return {texts.data() + t.reason.at + t.reason.size, t.met_reason_size};
  }
  std::span<const std::string_view> obligations(const RuleText& t) const {
    return {obligation_views.data() + t.obligations_at, t.obligations_size};
  }

  /// The bytes the decision path reads: the index, the rules' hot part, their code and the
  /// decisions made ahead of time with their texts. The source, the checked tree (kept
  /// for traces and analyses) and the name maps come on top.
  std::size_t index_bytes() const {
    const auto bytes = [](const auto& v) { return v.capacity() * sizeof(v[0]); };
    return bytes(data_first) + bytes(code) + bytes(rules) + bytes(rule_texts) + texts.capacity() +
           bytes(chain_begin) + bytes(chains) + bytes(pair_cell) + bytes(cell_segments) +
           bytes(segments) + bytes(lists) + bytes(block_start) + bytes(pair_start) +
           bytes(obligation_views);
  }
};

/// The parser's share of the limits.
inline dsl::ParseLimits parse_limits(const Limits& limits) {
  dsl::ParseLimits out;
  out.max_condition_depth = limits.max_condition_depth;
  out.max_name_length = limits.max_name_length;
  return out;
}

/// The front end's bounds, from the engine's.
inline dsl::FrontEndOptions front_end_options(const Limits& limits) {
  return {parse_limits(limits), limits.max_policy_bytes, limits.max_rules};
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
  static std::vector<std::uint64_t>& atoms(ResolvedRequest& r) { return r.atoms_; }
  static std::vector<Value>& attributes(ResolvedRequest& r) { return r.attributes_; }
  static const std::vector<Value>& attributes(const ResolvedRequest& r) { return r.attributes_; }
  static std::uint64_t serial(const ResolvedRequest& r) { return r.policy_serial_; }
  static std::uint32_t data(const ResolvedRequest& r) { return r.data_; }
  static std::uint32_t requester(const ResolvedRequest& r) { return r.requester_; }
  static std::uint32_t action(const ResolvedRequest& r) { return r.action_; }
  static std::int32_t purpose(const ResolvedRequest& r) { return r.purpose_; }
  static const std::vector<std::uint64_t>& atoms(const ResolvedRequest& r) { return r.atoms_; }
};

inline bool test_bit(const std::vector<std::uint64_t>& words, std::uint32_t i) {
  const std::size_t w = i / 64;
  return w < words.size() && ((words[w] >> (i % 64)) & 1U) != 0;
}

inline void set_bit(std::vector<std::uint64_t>& words, std::uint32_t i) {
  words[i / 64] |= std::uint64_t{1} << (i % 64);
}

/// Makes a request of this policy with no purpose, no fact true and no consent granted.
inline void clear_request(ResolvedRequest& r, std::uint64_t serial, const AtomLayout& layout) {
  Access::serial(r) = serial;
  Access::purpose(r) = -1;
  Access::atoms(r).assign(layout.words, 0);
}

/// Sets the request's purpose: its bit and those of every purpose above it, so that a
/// condition on `operations` holds for `training`. -1 clears it.
inline void set_purpose(ResolvedRequest& r, const AtomLayout& layout,
                        const std::vector<dsl::Term>& purposes, std::int32_t id) {
  std::vector<std::uint64_t>& atoms = Access::atoms(r);
  for (std::int32_t p = Access::purpose(r); p >= 0;
       p = purposes[static_cast<std::size_t>(p)].parent) {
    const std::uint32_t bit = layout.purpose(static_cast<std::uint32_t>(p));
    atoms[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
  }
  Access::purpose(r) = id;
  for (std::int32_t p = id; p >= 0; p = purposes[static_cast<std::size_t>(p)].parent)
    set_bit(atoms, layout.purpose(static_cast<std::uint32_t>(p)));
}

inline bool fact_true(const ResolvedRequest& r, const AtomLayout& layout, std::uint32_t id) {
  return test_bit(Access::atoms(r), layout.fact(id));
}

inline bool consent_granted(const ResolvedRequest& r, const AtomLayout& layout, std::uint32_t id) {
  return test_bit(Access::atoms(r), layout.consent(id));
}

/// What the reader found in a partial request (a plan's input) besides the request: the
/// fields its `unknown` lists, and where each field it gives stands.
struct PartialRead {
  std::vector<std::string> unknown;
  std::vector<LineColumn> unknown_at;
  std::map<std::string, LineColumn> given;  // "data.category", "context.consent", ...
  bool dated_consents = false;              // a consent record gives a date
};

/// Whether a consent given with dates counts at `now`: only while each date given is after
/// it. A date with no time to hold it against does not count: fail closed.
inline bool record_counts(const Instant* now, const std::optional<Instant>& expires,
                          const std::optional<Instant>& withdrawn) {
  const auto before = [&](const std::optional<Instant>& end) {
    return !end || (now != nullptr && *now < *end);
  };
  return before(expires) && before(withdrawn);
}

/// Decodes a JSON request with the full reader, which places every mistake; decode()
/// tries a faster reader first and comes here for anything out of the ordinary.
/// `as_of` is the time of a request that gives no `context.time`. With `partial`, the
/// request may hold `"unknown": [FIELD, ...]` and leave those fields out.
Result<ResolvedRequest, RequestError> decode_with_positions(
    const PolicyImpl& policy, std::string_view json_text,
    std::optional<Instant> as_of = std::nullopt, PartialRead* partial = nullptr);

/// Reads every document the policy declares (CompileOptions::read_document, or next to the
/// policy file) and checks its entries against the attributes that read it; gives the
/// diagnostics when one cannot be used (documents.cpp).
std::vector<Diagnostic> load_documents(PolicyImpl& policy, const CompileOptions& options);

/// Fills the attributes a request reads from documents, from its key attributes' values.
/// `open` (a partial request's unknown fields) leaves an attribute whose key is open unset.
std::optional<RequestError> apply_lookups(
    const PolicyImpl& policy, ResolvedRequest& request,
    const std::function<bool(const std::string&)>& open = nullptr);

/// Resolves a request as Policy::resolve does; `open` (a plan's open fields) leaves the
/// looked-up attributes it names, or whose key it names, as the request gives them.
Result<ResolvedRequest, RequestError> resolve_request(
    const PolicyImpl& policy, const Request& request,
    const std::function<bool(const std::string&)>& open = nullptr);

/// Sets the bit of every attribute test the request's values make true (request.cpp).
void answer_tests(const PolicyImpl& policy, ResolvedRequest& request);

/// Reads the common request in one pass (fast_request.cpp); gives nothing, for the full
/// reader to decide, on anything out of the ordinary. `as_of` as for decode_with_positions;
/// `id`, when given, receives what request_id_json would find in the text.
std::optional<ResolvedRequest> fast_decode(const PolicyImpl& policy, std::string_view json_text,
                                           std::optional<Instant> as_of = std::nullopt,
                                           std::optional<std::string_view>* id = nullptr);

/// Decodes as Policy::decode does, the quick reader first; with `id`, gives the request's
/// own `id` too, as request_id_json does, without reading the text a second time.
Result<ResolvedRequest, RequestError> decode(const PolicyImpl& policy, std::string_view json_text,
                                             std::optional<Instant> as_of,
                                             std::optional<std::string_view>* id = nullptr);

/// The reference evaluator's verdict: which rule decided and how.
struct ReferenceVerdict {
  Effect effect = Effect::deny;
  std::uint32_t clause = 0;
  std::int32_t rule = -1;  // index into checked.rules; -1 when no rule decided
  std::int32_t consent = -1;
};

/// The reason given when no rule decides.
inline constexpr std::string_view default_reason =
    "no rule matched: denied by default (fail-closed)";

/// The longest chain of cells the index builds; the evaluator keeps that many cursors.
inline constexpr std::size_t max_chain = 16;

/// Which rule decided a request (-1: none), whether it did so because its consent was
/// granted, and the effect that follows: everything a decision is made from.
struct FastVerdict {
  std::int32_t rule = -1;
  bool granted = false;
  Effect effect = Effect::deny;  // the rule's, or allow when granted
};

/// Decides through the index, as Policy::evaluate does, without building a Decision.
FastVerdict fast_verdict(const PolicyImpl& policy, const ResolvedRequest& request) noexcept;

/// Decides by the plain loop over all rules, straight from the checked policy: the
/// specification the index is tested against. Optionally records a trace.
ReferenceVerdict reference_evaluate(const PolicyImpl& policy, const ResolvedRequest& request,
                                    std::vector<TraceStep>* trace);

/// Renders a value as a policy or a message writes it: `"p-1"`, `12`, `2026-02-16`.
std::string value_text(const Value& value);

/// Writes a comparison's operator as the language does: `=`, `!=`, `<`, ...
std::string_view compare_op_text(ast::CompareOp op);

/// Renders a shift as it would be written: `+ 6 years`, `- 1 month`.
std::string shift_text(const Duration& shift);

/// Renders an attribute test as it would be written: `data.subject_age < 18`.
std::string test_text(const dsl::CheckedPolicy& policy, const dsl::AttributeTest& test);

/// Renders a condition as it would be written.
std::string condition_text(const dsl::CheckedPolicy& policy, const dsl::CheckedCond& cond);

/// Describes an indexed verdict as the reference evaluator does.
ReferenceVerdict verdict_of(const PolicyImpl& policy, FastVerdict verdict);

}  // namespace clause::detail
