// Stage: compile. Checked policy to the immutable, indexed form that evaluate() reads:
// names become integer ids, trees become preorder intervals, conditions become bytecode,
// and every (action, requester) pair gets the short list of rules that can match it.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "clause/dsl/front_end.hpp"
#include "core/policy_impl.hpp"
#include "core/sha256.hpp"

namespace clause {
namespace detail {

std::string one_line(std::string_view text, Span span) {
  std::string out;
  bool blank = false;
  bool in_string = false;
  for (std::uint32_t i = span.begin; i < span.end && i < text.size(); ++i) {
    const char c = text[i];
    if (!in_string && c == '#') {
      while (i < span.end && text[i] != '\n')
        ++i;
      blank = true;
      continue;
    }
    if (c == '"') in_string = !in_string;
    if (!in_string && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

const dsl::CheckedPolicy& PolicyImpl::checked() const {
  if (rules_dropped_) {
    std::call_once(rules_once_, [this] {
      // The same source and limits check to the same rules, ids and spans.
      dsl::FrontEnd again = dsl::analyze(source, front_end_options(bounds));
      if (again.checked) {
        checked_.rules = std::move(again.checked->rules);
        checked_.assertions = std::move(again.checked->assertions);
      }
    });
  }
  return checked_;
}

namespace {

std::atomic<std::uint64_t> next_serial{1};

/// Half-open interval of preorder numbers.
struct Interval {
  std::uint32_t first;
  std::uint32_t last;
};

/// How far a list of candidate rules is still open: a rule that always decides closes
/// it; one that always matches in the consent tier closes it to fall-back rules.
enum class ListState : std::uint8_t { open, no_fallback, closed };

struct ListHash {
  std::size_t operator()(const std::vector<std::uint32_t>& v) const noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const std::uint32_t x : v)
      h = (h ^ x) * 0x100000001b3ULL;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

// Sorts intervals and joins those that overlap or touch.
std::vector<Interval> merged(std::vector<Interval> v) {
  std::sort(v.begin(), v.end(), [](Interval a, Interval b) { return a.first < b.first; });
  std::vector<Interval> out;
  for (const Interval i : v) {
    if (!out.empty() && i.first <= out.back().last) {
      out.back().last = std::max(out.back().last, i.last);
    } else {
      out.push_back(i);
    }
  }
  return out;
}

class Compiler {
 public:
  Compiler(PolicyImpl& out, const CompileOptions& options)
      : p_(out), c_(out.checked_), options_(options) {}

  std::vector<Diagnostic> run() {
    p_.layout = AtomLayout::of(c_);
    name_maps();
    p_.data_first.reserve(c_.data.size());
    for (const dsl::Term& t : c_.data)
      p_.data_first.push_back(t.first);
    p_.rules.reserve(c_.rules.size());
    for (const dsl::CheckedRule& rule : c_.rules)
      compile_rule(rule);
    decision_texts();
    build_index();
    // Growth leaves spare capacity; a policy lives long, so give it back.
    for (auto* v : {&p_.chain_begin, &p_.cell_segments, &p_.lists})
      v->shrink_to_fit();
    p_.code.shrink_to_fit();
    p_.chains.shrink_to_fit();
    p_.pair_cell.shrink_to_fit();
    p_.segments.shrink_to_fit();
    p_.block_start.shrink_to_fit();
    return std::move(errors_);
  }

 private:
  void name_maps() {
    const auto fill = [](auto& map, const std::vector<dsl::Term>& terms) {
      map.reserve(terms.size());
      for (std::uint32_t i = 0; i < terms.size(); ++i)
        map.emplace(terms[i].name, i);
    };
    fill(p_.data_ids, c_.data);
    fill(p_.requester_ids, c_.requesters);
    fill(p_.action_ids, c_.actions);
    fill(p_.purpose_ids, c_.purposes);
    fill(p_.fact_ids, c_.facts);
    fill(p_.consent_ids, c_.consents);
    fill(p_.objection_ids, c_.objections);
    p_.attribute_ids.reserve(c_.attributes.size());
    for (std::uint32_t i = 0; i < c_.attributes.size(); ++i)
      p_.attribute_ids.emplace(c_.attributes[i].path, i);
  }

  // Emits postfix code; returns the stack depth the condition needs.
  std::size_t emit(const dsl::CheckedCond& cond) {
    using ast::CondKind;
    switch (cond.kind) {
      case CondKind::fact:
        p_.code.push_back({Instr::atom, p_.layout.fact(cond.ids.at(0))});
        return 1;
      case CondKind::consent:
        p_.code.push_back({Instr::atom, p_.layout.consent(cond.ids.at(0))});
        return 1;
      case CondKind::objected:
        p_.code.push_back({Instr::atom, p_.layout.objection(cond.ids.at(0))});
        return 1;
      case CondKind::attribute:
        p_.code.push_back({Instr::atom, p_.layout.test(cond.ids.at(0))});
        return 1;
      case CondKind::compare:
      case CondKind::member:
      case CondKind::contains:
        // The checker makes every comparison an `attribute` leaf.
        p_.code.push_back({Instr::atom, p_.layout.never});
        return 1;
      case CondKind::purpose_is:
      case CondKind::purpose_in: {
        for (std::size_t i = 0; i < cond.ids.size(); ++i) {
          p_.code.push_back({Instr::atom, p_.layout.purpose(cond.ids[i])});
          if (i > 0) p_.code.push_back({Instr::any, 2});
        }
        return cond.ids.size() > 1 ? 2 : 1;
      }
      case CondKind::negation: {
        const std::size_t depth = emit(cond.children.at(0));
        p_.code.push_back({Instr::negate, 0});
        return depth;
      }
      case CondKind::all:
      case CondKind::any: {
        const Instr::Op op = cond.kind == CondKind::all ? Instr::all : Instr::any;
        std::size_t depth = 0;
        for (std::size_t i = 0; i < cond.children.size(); ++i) {
          depth = std::max(depth, emit(cond.children[i]) + (i > 0 ? 1 : 0));
          if (i > 0) p_.code.push_back({op, 2});
        }
        return depth;
      }
    }
    return 1;
  }

  // Gives the value of a rule's code when the atom at position i of `atoms` has bit i of
  // `values`.
  bool run_code(std::uint32_t begin, std::uint32_t end, const std::vector<std::uint32_t>& atoms,
                std::uint64_t values) const {
    const auto bit = [&](std::uint32_t n) -> std::uint64_t {
      const auto at = std::find(atoms.begin(), atoms.end(), n) - atoms.begin();
      return (values >> at) & 1U;
    };
    return run_condition(p_.code.data() + begin, p_.code.data() + end, bit);
  }

  // Turns a condition of up to six atoms into a truth table; wider ones stay code.
  void truth_table(HotRule& r, std::uint32_t begin, std::uint32_t end) const {
    if (begin == end) return;  // no condition: the table is all ones
    std::vector<std::uint32_t> atoms;
    for (std::uint32_t i = begin; i != end; ++i) {
      const Instr& in = p_.code[i];
      if (in.op == Instr::atom && std::find(atoms.begin(), atoms.end(), in.arg) == atoms.end()) {
        atoms.push_back(in.arg);
      }
    }
    if (atoms.size() > HotRule::table_atoms || p_.layout.never > 0xffffU) {
      r.coded = true;
      r.table = HotRule::code_range(begin, end);
      return;
    }
    // Unused atom slots read the bit that is never set, so only the low rows are reached.
    r.table = 0;
    for (std::uint64_t n = 0; n < (std::uint64_t{1} << atoms.size()); ++n) {
      if (run_code(begin, end, atoms, n)) r.table |= std::uint64_t{1} << n;
    }
    std::copy(atoms.begin(), atoms.end(), r.atoms.begin());
  }

  // Appends a text to the buffer that decisions point into.
  TextRef add_text(std::string_view text) {
    const auto at = static_cast<std::uint32_t>(p_.texts.size());
    p_.texts += text;
    return {at, static_cast<std::uint32_t>(text.size())};
  }

  void compile_rule(const dsl::CheckedRule& rule) {
    HotRule r;
    r.tier = rule.tier;
    r.effect = rule.effect;
    if (rule.consent >= 0) {
      r.consent =
          static_cast<std::int32_t>(p_.layout.consent(static_cast<std::uint32_t>(rule.consent)));
    }
    r.atoms.fill(static_cast<std::uint16_t>(std::min<std::uint32_t>(p_.layout.never, 0xffffU)));

    std::vector<Interval> data;
    if (rule.data.any) {
      data.push_back({0, static_cast<std::uint32_t>(c_.data.size())});
    } else {
      for (const std::uint32_t id : rule.data.ids)
        data.push_back({c_.data[id].first, c_.data[id].last});
    }
    data_.push_back(merged(std::move(data)));

    const auto code_begin = static_cast<std::uint32_t>(p_.code.size());
    if (rule.condition) {
      const std::size_t depth = emit(*rule.condition);
      if (depth > 64) {
        Diagnostic d;
        d.code = "E290";
        d.message = "this condition is too deeply nested to compile";
        d.span = rule.condition->span;
        d.help = "split it into several rules";
        errors_.push_back(std::move(d));
      }
    }
    truth_table(r, code_begin, static_cast<std::uint32_t>(p_.code.size()));
    // The table says it all; only wide conditions keep their code.
    if (!r.coded) p_.code.resize(code_begin);
    p_.rules.push_back(r);

    std::string text = one_line(p_.source.text, rule.span);
    if (const std::size_t cites = text.rfind(" cites \""); cites != std::string::npos) {
      text.resize(cites);  // the reason names the clause elsewhere
    }
    if (rule.named && text.starts_with(rule.id + ":")) {
      text.erase(0, std::min(text.size(), rule.id.size() + 2));  // the reason names the rule
    }
    const std::string consent =
        rule.consent >= 0 ? c_.consents[static_cast<std::size_t>(rule.consent)].name : "";
    std::string reason;
    std::string met_reason;
    switch (rule.tier) {
      case dsl::Tier::effective:
        reason = fmt::format("the policy is not yet in effect, by rule {}: {}", rule.id, text);
        break;
      case dsl::Tier::first:
        reason = rule.effect == Effect::allow
                     ? fmt::format("permitted first, by rule {}: {}", rule.id, text)
                 : rule.effect == Effect::deny
                     ? fmt::format("prohibited first, by rule {}: {}", rule.id, text)
                     : fmt::format("needs consent `{}` before any permission, by rule {}: {}",
                                   consent, rule.id, text);
        break;
      case dsl::Tier::exclusion:
        reason = fmt::format("outside the policy's scope, by rule {}: {}", rule.id, text);
        break;
      case dsl::Tier::prohibition:
        reason = fmt::format("prohibited by rule {}: {}", rule.id, text);
        break;
      case dsl::Tier::permission:
        reason = fmt::format("permitted by rule {}: {}", rule.id, text);
        break;
      case dsl::Tier::consent:
        reason = fmt::format("needs consent `{}`, by rule {}: {}", consent, rule.id, text);
        met_reason =
            fmt::format("consent `{}` is granted, as rule {} requires: {}", consent, rule.id, text);
        break;
      case dsl::Tier::fallback:
        if (rule.consent >= 0) {
          reason = fmt::format("no other rule decided; fall-back rule {} needs consent `{}`: {}",
                               rule.id, consent, text);
          met_reason = fmt::format(
              "no other rule decided; consent `{}` is granted, as fall-back rule {} requires: {}",
              consent, rule.id, text);
        } else {
          reason = fmt::format("no other rule decided; fall-back rule {} {}: {}", rule.id,
                               rule.effect == Effect::allow ? "permits it" : "denies it", text);
        }
        break;
    }
    reasons_.push_back({add_text(reason), add_text(met_reason)});
  }

  // What each rule's decisions say, made once; the hot path copies out views.
  void decision_texts() {
    p_.rule_texts.reserve(c_.rules.size());
    for (std::size_t i = 0; i < c_.rules.size(); ++i) {
      const dsl::CheckedRule& rule = c_.rules[i];
      RuleText t;
      t.reason = reasons_[i].first;
      // Every reason names its rule: point into it rather than keep the id twice.
      const std::size_t at = p_.text(t.reason).find(rule.id);
      t.rule = at == std::string_view::npos ? add_text(rule.id)
                                            : TextRef{t.reason.at + static_cast<std::uint32_t>(at),
                                                      static_cast<std::uint32_t>(rule.id.size())};
      t.met_reason_size = reasons_[i].second.size;  // written right after the reason
      t.effect = rule.effect;
      t.clause = rule.clause;
      t.met_clause = rule.clause;
      if (rule.consent >= 0) {
        const std::int32_t consent_clause =
            c_.consents[static_cast<std::size_t>(rule.consent)].clause;
        if (consent_clause >= 0) t.met_clause = static_cast<std::uint32_t>(consent_clause);
      }
      if (t.effect == Effect::require_consent) t.consent = rule.consent;
      t.obligations_at = static_cast<std::uint32_t>(obligation_refs.size());
      t.obligations_size = static_cast<std::uint32_t>(rule.obligations.size());
      for (const std::uint32_t o : rule.obligations)
        obligation_refs.push_back(obligation_text(o));
      p_.rule_texts.push_back(t);
    }
    p_.texts.shrink_to_fit();
    // Views only once the buffer has stopped moving.
    p_.obligation_views.reserve(obligation_refs.size());
    for (const TextRef ref : obligation_refs)
      p_.obligation_views.push_back(p_.text(ref));
  }

  // Each obligation's name is written into the texts once.
  TextRef obligation_text(std::uint32_t obligation) {
    if (obligation_texts_.size() < c_.obligations.size())
      obligation_texts_.resize(c_.obligations.size());
    if (!obligation_texts_[obligation])
      obligation_texts_[obligation] = add_text(c_.obligations[obligation].name);
    return *obligation_texts_[obligation];
  }
  std::vector<std::optional<TextRef>> obligation_texts_;
  std::vector<TextRef> obligation_refs;

  // Adds a rule (by rank) to a candidate list unless the list is closed to it.
  void offer(std::vector<std::uint32_t>& list, ListState& state, std::uint32_t rank,
             bool always_matches) const {
    const dsl::Tier tier = p_.rules[rank].tier;
    if (state == ListState::closed) return;
    if (state == ListState::no_fallback && tier == dsl::Tier::fallback) return;
    list.push_back(rank);
    if (always_matches) {
      state = tier == dsl::Tier::consent ? ListState::no_fallback : ListState::closed;
    }
  }

  bool unconditional(std::uint32_t rank) const {
    return !p_.rules[rank].coded && p_.rules[rank].table == ~std::uint64_t{0};
  }

  const std::vector<Interval>& data_of(std::uint32_t rank) const {
    return data_[p_.rules[rank].index];
  }

  // The requester nodes a rule names, as requester ids; `any` is the id one past the last.
  std::vector<std::uint32_t> named_requesters(const dsl::CheckedRule& rule) const {
    if (rule.requesters.any) return {static_cast<std::uint32_t>(c_.requesters.size())};
    std::vector<std::uint32_t> out = rule.requesters.ids;
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  std::uint32_t subtree_size(std::uint32_t node) const {
    if (node == c_.requesters.size()) return static_cast<std::uint32_t>(c_.requesters.size());
    return c_.requesters[node].last - c_.requesters[node].first;
  }

  // Nodes whose subtree is larger than `fold`, from `r` up to the root and then `any`.
  std::vector<std::uint32_t> big_ancestors(std::uint32_t r, std::uint32_t fold) const {
    std::vector<std::uint32_t> out;
    for (std::int32_t n = static_cast<std::int32_t>(r); n >= 0; n = c_.requesters[n].parent) {
      if (subtree_size(static_cast<std::uint32_t>(n)) > fold)
        out.push_back(static_cast<std::uint32_t>(n));
    }
    const auto any = static_cast<std::uint32_t>(c_.requesters.size());
    if (subtree_size(any) > fold) out.push_back(any);
    return out;
  }

  // Picks how far rules are copied down the requester tree. Copying a rule into the cell
  // of every requester it covers makes one cell per pair and the fastest lookup; when
  // that would make the index too large, rules naming large subtrees stay in one shared
  // cell that each requester below consults, in a chain of at most max_chain cells.
  std::uint32_t choose_fold(const std::vector<std::vector<std::uint32_t>>& names) const {
    const auto requesters = static_cast<std::uint32_t>(c_.requesters.size());
    // Six copies a rule, and an allowance that lets policies of up to about ten thousand
    // rules have one cell per pair; past that the allowance fades and memory stays near
    // 300 bytes a rule (docs/performance.md).
    const std::uint64_t rules = c_.rules.size();
    const std::uint64_t allowance = rules * 10 < (1U << 20) ? (1U << 20) - rules * 10 : 0;
    const std::uint64_t budget =
        options_.index_budget.value_or(6 * rules + std::max<std::uint64_t>(65536, allowance));
    const auto cost = [&](std::uint32_t fold) {
      std::uint64_t total = 0;
      for (std::size_t i = 0; i < c_.rules.size(); ++i) {
        const dsl::CheckedRule& rule = c_.rules[i];
        const std::uint64_t actions =
            rule.actions.any ? c_.actions.size() : rule.actions.ids.size();
        std::uint64_t copies = 0;
        for (const std::uint32_t n : names[i]) {
          const std::uint32_t size = subtree_size(n);
          copies += size <= fold ? size : 1;
        }
        total += actions * copies * data_[i].size();
      }
      return total;
    };
    std::uint32_t fold = requesters;
    while (fold > 1 && cost(fold) > budget)
      fold /= 2;
    // Keep every chain short enough for the evaluator's cursors.
    const auto longest = [&](std::uint32_t f) {
      std::size_t most = 0;
      for (std::uint32_t r = 0; r < requesters; ++r)
        most = std::max(most, big_ancestors(r, f).size() + 1);
      return most;
    };
    while (fold < requesters && longest(fold) > max_chain)
      fold = std::min(requesters, fold * 2);
    return fold;
  }

  void build_index() {
    const auto actions = static_cast<std::uint32_t>(c_.actions.size());
    const auto requesters = static_cast<std::uint32_t>(c_.requesters.size());
    p_.requester_count = requesters;
    p_.action_count = actions;
    const auto data_count = static_cast<std::uint32_t>(c_.data.size());
    while (data_count > 0 && ((data_count - 1) >> p_.block_shift) + 1 > max_blocks)
      ++p_.block_shift;
    p_.block_count = data_count == 0 ? 1 : ((data_count - 1) >> p_.block_shift) + 1;

    // Rules by rank: tier first, then file order.
    std::vector<std::uint32_t> order(p_.rules.size());
    for (std::uint32_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return p_.rules[a].tier < p_.rules[b].tier;
    });
    std::vector<HotRule> ranked;
    ranked.reserve(order.size());
    for (const std::uint32_t index : order) {
      ranked.push_back(p_.rules[index]);
      ranked.back().index = index;
    }
    p_.rules = std::move(ranked);

    std::vector<std::vector<std::uint32_t>> names(c_.rules.size());
    for (std::size_t i = 0; i < c_.rules.size(); ++i)
      names[i] = named_requesters(c_.rules[i]);
    const std::uint32_t fold = choose_fold(names);
    p_.fold_limit = fold;

    std::vector<std::vector<std::uint32_t>> by_action(actions);  // ranks
    for (std::uint32_t rank = 0; rank < p_.rules.size(); ++rank) {
      const dsl::CheckedRule& rule = c_.rules[p_.rules[rank].index];
      if (rule.actions.any) {
        for (auto& list : by_action)
          list.push_back(rank);
      } else {
        for (const std::uint32_t a : rule.actions.ids)
          by_action[a].push_back(rank);
      }
    }
    std::vector<std::vector<std::uint32_t>> ancestors(requesters);
    for (std::uint32_t r = 0; r < requesters; ++r)
      ancestors[r] = big_ancestors(r, fold);

    std::unordered_map<std::vector<std::uint32_t>, std::uint32_t, ListHash> cell_ids;
    const auto cell_for = [&](const std::vector<std::uint32_t>& candidates) {
      auto [it, added] = cell_ids.try_emplace(candidates, 0);
      if (added) it->second = build_cell(it->first);
      return it->second;
    };
    // When no requester consults a shared cell, each pair has exactly one cell, found
    // directly; otherwise each pair has a chain.
    const bool single =
        std::all_of(ancestors.begin(), ancestors.end(), [](const auto& a) { return a.empty(); });
    if (single) {
      p_.pair_cell.reserve(std::size_t{actions} * requesters);
    } else {
      p_.chain_begin.reserve(std::size_t{actions} * requesters + 1);
    }
    p_.cell_segments.push_back(0);
    std::vector<std::vector<std::uint32_t>> own(requesters);  // by preorder number
    std::vector<ListState> own_state(requesters);
    std::vector<std::vector<std::uint32_t>> shared(requesters + 1);  // by node; `any` last
    std::vector<ListState> shared_state(requesters + 1);
    for (std::uint32_t a = 0; a < actions; ++a) {
      for (auto& list : own)
        list.clear();
      for (auto& list : shared)
        list.clear();
      std::fill(own_state.begin(), own_state.end(), ListState::open);
      std::fill(shared_state.begin(), shared_state.end(), ListState::open);
      for (const std::uint32_t rank : by_action[a]) {
        const std::uint32_t index = p_.rules[rank].index;
        const bool always = unconditional(rank) && c_.rules[index].data.any;
        for (const std::uint32_t n : names[index]) {
          if (subtree_size(n) > fold) {
            offer(shared[n], shared_state[n], rank, always);
            continue;
          }
          const std::uint32_t first = n == requesters ? 0 : c_.requesters[n].first;
          for (std::uint32_t pos = first; pos < first + subtree_size(n); ++pos)
            offer(own[pos], own_state[pos], rank, always);
        }
      }
      std::vector<std::int64_t> shared_cell(requesters + 1, -1);
      for (std::uint32_t r = 0; r < requesters; ++r) {
        if (single) {
          p_.pair_cell.push_back(cell_ref(cell_for(own[c_.requesters[r].first])));
          continue;
        }
        p_.chain_begin.push_back(static_cast<std::uint32_t>(p_.chains.size()));
        const auto& mine = own[c_.requesters[r].first];
        if (!mine.empty()) p_.chains.push_back(cell_ref(cell_for(mine)));
        for (const std::uint32_t n : ancestors[r]) {
          if (shared[n].empty()) continue;
          if (shared_cell[n] < 0) shared_cell[n] = cell_for(shared[n]);
          p_.chains.push_back(cell_ref(static_cast<std::uint32_t>(shared_cell[n])));
        }
      }
    }
    if (!single) p_.chain_begin.push_back(static_cast<std::uint32_t>(p_.chains.size()));
    if (single) give_pairs_tables();
  }

  // Gives each pair its own block table when the tables take at most twice the room of
  // the shared ones and the pairs' cells: a lookup then reads neither the pair's cell nor,
  // for a block that one segment covers, a segment. Each cell's segments get a sentinel.
  void give_pairs_tables() {
    const std::size_t width = p_.block_count;
    const std::size_t pairs = p_.pair_cell.size();
    const std::size_t cells = p_.cell_segments.size() - 1;
    const std::size_t shared_bytes =
        cells * (width + 1) * sizeof(std::uint16_t) + pairs * sizeof(CellRef);
    if (pairs == 0 || pairs * width * sizeof(std::uint32_t) > 2 * shared_bytes) return;
    if (p_.lists.size() >= one_list || p_.segments.size() + cells >= one_list) return;
    if (std::any_of(p_.pair_cell.begin(), p_.pair_cell.end(),
                    [](CellRef c) { return c.blocks == no_blocks; })) {
      return;
    }
    std::vector<Segment> segments;
    segments.reserve(p_.segments.size() + cells);
    std::vector<std::uint32_t> moved(p_.segments.size() + 1);  // old place -> new place
    for (std::size_t c = 0; c < cells; ++c) {
      for (std::uint32_t s = p_.cell_segments[c]; s < p_.cell_segments[c + 1]; ++s) {
        moved[s] = static_cast<std::uint32_t>(segments.size());
        segments.push_back(p_.segments[s]);
      }
      segments.push_back({0xffffffffU, end_of_list});  // starts after every category
    }
    p_.pair_start.reserve(pairs * width);
    for (const CellRef cell : p_.pair_cell) {
      for (std::size_t b = 0; b < width; ++b) {
        const std::uint32_t from = cell.begin + p_.block_start[cell.blocks + b];
        const std::uint32_t to = cell.begin + p_.block_start[cell.blocks + b + 1];
        p_.pair_start.push_back(from == to ? one_list | p_.segments[from].list : moved[from]);
      }
    }
    for (std::size_t c = 0; c <= cells; ++c)
      p_.cell_segments[c] =
          static_cast<std::uint32_t>(c == cells ? segments.size() : moved[p_.cell_segments[c]]);
    p_.segments = std::move(segments);
    p_.block_start = std::vector<std::uint16_t>();
    p_.pair_cell = std::vector<CellRef>();
  }

  CellRef cell_ref(std::uint32_t cell) const {
    return {p_.cell_segments[cell], p_.cell_segments[cell + 1], cell_blocks_[cell]};
  }

  // Writes a cell's block table; gives where it starts, or no_blocks for a cell too large
  // for 16-bit entries.
  std::uint32_t block_table(std::uint32_t begin, std::uint32_t end) {
    const std::uint32_t count = end - begin;
    if (count > 0xffffU) return no_blocks;
    const auto at = static_cast<std::uint32_t>(p_.block_start.size());
    const auto first = p_.segments.begin() + begin;
    for (std::uint32_t b = 0; b < p_.block_count; ++b) {
      const std::uint32_t category = b << p_.block_shift;
      const auto holder =
          std::upper_bound(first, first + count, category,
                           [](std::uint32_t c, const Segment& s) { return c < s.first; }) -
          1;
      p_.block_start.push_back(static_cast<std::uint16_t>(holder - first));
    }
    p_.block_start.push_back(static_cast<std::uint16_t>(count - 1));
    return at;
  }

  // Splits a cell's candidate rules by data segment; gives the new cell's number.
  std::uint32_t build_cell(const std::vector<std::uint32_t>& candidates) {
    const auto data_count = static_cast<std::uint32_t>(c_.data.size());
    std::vector<std::uint32_t> cuts{0};
    for (const std::uint32_t rank : candidates) {
      for (const Interval i : data_of(rank)) {
        cuts.push_back(i.first);
        if (i.last < data_count) cuts.push_back(i.last);
      }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<std::uint32_t> list;
    const std::size_t cell_first = p_.segments.size();
    for (const std::uint32_t cut : cuts) {
      list.clear();
      ListState state = ListState::open;
      for (const std::uint32_t rank : candidates) {
        const auto& data = data_of(rank);
        const bool covers = std::any_of(data.begin(), data.end(),
                                        [&](Interval i) { return cut >= i.first && cut < i.last; });
        if (covers) offer(list, state, rank, unconditional(rank));
      }
      list.push_back(end_of_list);
      auto [it, added] = list_ids_.try_emplace(list, 0);
      if (added) {
        it->second = static_cast<std::uint32_t>(p_.lists.size());
        p_.lists.insert(p_.lists.end(), list.begin(), list.end());
      }
      // A segment that tries the same rules as the one before it only lengthens it.
      if (p_.segments.size() > cell_first && p_.segments.back().list == it->second) continue;
      p_.segments.push_back({cut, it->second});
    }
    p_.cell_segments.push_back(static_cast<std::uint32_t>(p_.segments.size()));
    cell_blocks_.push_back(block_table(static_cast<std::uint32_t>(cell_first),
                                       static_cast<std::uint32_t>(p_.segments.size())));
    return static_cast<std::uint32_t>(p_.cell_segments.size() - 2);
  }

  PolicyImpl& p_;
  const dsl::CheckedPolicy& c_;
  const CompileOptions& options_;
  std::vector<Diagnostic> errors_;
  std::vector<std::vector<Interval>> data_;           // by rule index: data covered, by preorder
  std::vector<std::pair<TextRef, TextRef>> reasons_;  // by rule index: its two reasons
  std::unordered_map<std::vector<std::uint32_t>, std::uint32_t, ListHash> list_ids_;
  std::vector<std::uint32_t> cell_blocks_;  // by cell: where its block table starts
};

}  // namespace
}  // namespace detail

namespace {

// Only an internal failure (such as running out of memory) lands here.
Failure<std::vector<Diagnostic>> internal_error(const std::exception& e) {
  return Failure{
      std::vector<Diagnostic>{{Severity::error,
                               "E001",
                               fmt::format("internal error while compiling: {}", e.what()),
                               Span{},
                               {},
                               {}}}};
}

}  // namespace

Result<Policy, std::vector<Diagnostic>> compile(const SourceFile& source, dsl::FrontEnd&& front,
                                                const CompileOptions& options) noexcept {
  try {
    if (has_errors(front.diagnostics) || !front.checked)
      return Failure{std::move(front.diagnostics)};
    auto impl = std::make_shared<detail::PolicyImpl>();
    impl->serial = detail::next_serial.fetch_add(1, std::memory_order_relaxed);
    impl->source = source;
    impl->hash = "sha256:" + detail::sha256_hex(source.text);
    impl->checked_ = std::move(*front.checked);
    impl->bounds = options.limits;
    impl->suppressions = std::move(front.tree.suppressions);
    std::vector<Diagnostic> errors = detail::Compiler(*impl, options).run();
    if (!errors.empty()) return Failure{std::move(errors)};
    errors = detail::load_documents(*impl, options);
    if (!errors.empty()) return Failure{std::move(errors)};
    if (!options.keep_rule_tree) {
      // Assigning {} would keep the capacity; fresh vectors give the memory back.
      impl->checked_.rules = std::vector<dsl::CheckedRule>();
      impl->checked_.assertions = std::vector<dsl::CheckedAssertion>();
      impl->rules_dropped_ = true;
    }
    impl->warnings = std::move(front.diagnostics);
    Policy policy;
    detail::Access::set_impl(policy, std::move(impl));
    return policy;
  } catch (const std::exception& e) {
    return internal_error(e);
  }
}

Result<Policy, std::vector<Diagnostic>> compile(const SourceFile& source,
                                                const CompileOptions& options) noexcept {
  try {
    return compile(source, dsl::analyze(source, detail::front_end_options(options.limits)),
                   options);
  } catch (const std::exception& e) {
    return internal_error(e);
  }
}

}  // namespace clause
