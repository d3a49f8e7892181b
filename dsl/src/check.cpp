// Stage: check. Resolves every name of a parsed policy, builds the two hierarchies and
// reports every mistake it finds, each with the place and, where it can, a fix.
#include "clause/dsl/check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <unordered_map>
#include <unordered_set>

namespace clause::dsl {

namespace {

// Each kind of name: the keyword that declares it and the noun an author uses for it.
struct KindWords {
  std::string_view keyword;
  std::string_view noun;
};
constexpr KindWords kind_words[] = {{"data", "data category"},  {"requester", "requester kind"},
                                    {"action", "action"},       {"purpose", "purpose"},
                                    {"fact", "fact"},           {"consent", "consent"},
                                    {"objection", "objection"}, {"obligation", "obligation"}};

}  // namespace

std::string_view kind_keyword(ast::DeclKind kind) {
  return kind_words[static_cast<std::size_t>(kind)].keyword;
}

std::string_view kind_noun(ast::DeclKind kind) {
  return kind_words[static_cast<std::size_t>(kind)].noun;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view article(std::string_view noun) {
  return noun.find_first_of("aeiou") == 0 ? "an" : "a";
}

}  // namespace

std::string closest_name(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  // Close enough to be a slip, and never a rewrite of the whole word.
  std::size_t best_distance = std::min(std::max<std::size_t>(2, word.size() / 3) + 1, word.size());
  for (const std::string_view c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  if (best.empty() && word.size() >= 4) {
    // A name cut short or run on: `personal` for `personal_info`.
    for (const std::string_view c : candidates) {
      if (c.starts_with(word) || word.starts_with(c)) return std::string(c);
    }
  }
  return std::string(best);
}

namespace {

class Checker {
 public:
  explicit Checker(const ast::Policy& policy) : ast_(policy) {}

  CheckResult run() {
    check_header();
    declare_clauses();
    declare_names();
    declare_attributes();
    build_trees();
    resolve_decl_citations();
    check_rules();
    check_assertions();
    warn_uncited_clauses();
    sort_by_position(diagnostics_);
    CheckResult result;
    if (!has_errors(diagnostics_)) result.policy = std::move(out_);
    result.diagnostics = std::move(diagnostics_);
    return result;
  }

 private:
  // Where a declared name lives: its kind and its index among names of that kind.
  struct Entry {
    ast::DeclKind kind;
    std::uint32_t index;
    Span span;
  };

  Diagnostic& error(std::string code, Span span, std::string message) {
    diagnostics_.push_back({Severity::error, std::move(code), std::move(message), span, {}, {}});
    return diagnostics_.back();
  }
  Diagnostic& warning(std::string code, Span span, std::string message) {
    diagnostics_.push_back({Severity::warning, std::move(code), std::move(message), span, {}, {}});
    return diagnostics_.back();
  }

  std::vector<Term>& terms(ast::DeclKind kind) {
    switch (kind) {
      case ast::DeclKind::data:
        return out_.data;
      case ast::DeclKind::requester:
        return out_.requesters;
      case ast::DeclKind::action:
        return out_.actions;
      case ast::DeclKind::purpose:
        return out_.purposes;
      case ast::DeclKind::fact:
        return out_.facts;
      case ast::DeclKind::consent:
        return out_.consents;
      case ast::DeclKind::objection:
        return out_.objections;
      case ast::DeclKind::obligation:
        return out_.obligations;
    }
    return out_.data;
  }

  void check_header() {
    if (ast_.headers.empty()) {
      Diagnostic& d = error("E201", Span{0, 0}, "the policy has no header");
      d.help = "start the file with `policy \"NAME\" version \"VERSION\"`";
      return;
    }
    out_.name = ast_.headers.front().name.value;
    out_.version = ast_.headers.front().version.value;
    for (std::size_t i = 1; i < ast_.headers.size(); ++i) {
      Diagnostic& d = error("E202", ast_.headers[i].span, "the policy has a second header");
      d.notes.push_back({ast_.headers.front().span, "the first header is here"});
      d.help = "a policy file has exactly one `policy ... version ...` line";
    }
  }

  void declare_clauses() {
    for (const ast::ClauseDecl& c : ast_.clauses) {
      if (c.id.value.empty()) {
        error("E204", c.id.span, "a clause id cannot be empty").help =
            "give the clause the id the document uses, such as `clause \"2.a\" \"...\"`";
        continue;
      }
      auto [it, fresh] = clause_index_.emplace(c.id.value, out_.clauses.size());
      if (!fresh) {
        Diagnostic& d =
            error("E203", c.id.span, fmt::format("clause `{}` is declared twice", c.id.value));
        d.notes.push_back({clause_id_spans_[it->second], "first declared here"});
        d.help = "give each clause its own id, or remove one of the two";
        continue;
      }
      clause_id_spans_.push_back(c.id.span);
      out_.clauses.push_back({c.id.value, c.words.value, c.span, true, {}, {}});
    }
    auto it = clause_index_.find(std::string(default_clause_id));
    if (it == clause_index_.end()) {
      clause_index_.emplace(std::string(default_clause_id), out_.clauses.size());
      out_.default_clause = static_cast<std::uint32_t>(out_.clauses.size());
      out_.clauses.push_back({std::string(default_clause_id),
                              std::string(default_clause_words),
                              Span{},
                              false,
                              {},
                              {}});
    } else {
      out_.default_clause = static_cast<std::uint32_t>(it->second);
    }
    cited_.assign(out_.clauses.size(), false);
    cited_[out_.default_clause] = true;
  }

  // Each kind of name has its own namespace: `partner_marketing` may be both a purpose
  // and a consent, as it is in the privacy policy.
  std::unordered_map<std::string, Entry>& names(ast::DeclKind kind) {
    return names_[static_cast<std::size_t>(kind)];
  }

  void declare_names() {
    for (const ast::Decl& decl : ast_.decls) {
      auto [it, fresh] =
          names(decl.kind).emplace(decl.name.text, Entry{decl.kind, 0, decl.name.span});
      if (!fresh) {
        Diagnostic& d =
            error("E210", decl.name.span,
                  fmt::format("{} `{}` is declared twice", kind_noun(decl.kind), decl.name.text));
        d.notes.push_back({it->second.span, "first declared here"});
        d.help = "remove one of the two declarations";
        continue;
      }
      std::vector<Term>& list = terms(decl.kind);
      it->second.index = static_cast<std::uint32_t>(list.size());
      Term term;
      term.name = decl.name.text;
      term.span = decl.name.span;
      list.push_back(std::move(term));
      decl_of_.push_back(&decl);
      decl_kind_index_.emplace_back(decl.kind, it->second.index);
    }
  }

  // Resolves `name` expected to be of `kind`; reports unknown and wrong-kind names.
  std::optional<std::uint32_t> resolve(const ast::Name& name, ast::DeclKind kind,
                                       std::string_view slot) {
    auto it = names(kind).find(name.text);
    if (it != names(kind).end()) return it->second.index;
    // Not of this kind: perhaps of another, which says more than "unknown".
    for (std::size_t k = 0; k < names_.size(); ++k) {
      auto other = names_[k].find(name.text);
      if (other == names_[k].end()) continue;
      const ast::DeclKind found = other->second.kind;
      Diagnostic& d = error(
          "E212", name.span,
          fmt::format("`{}` is {} {}, but {} must name {} {}", name.text, article(kind_noun(found)),
                      kind_noun(found), slot, article(kind_noun(kind)), kind_noun(kind)));
      d.notes.push_back({other->second.span, "declared here"});
      d.help = wrong_kind_help(name.text, found, kind, slot);
      return std::nullopt;
    }
    {
      Diagnostic& d =
          error("E211", name.span, fmt::format("unknown {} `{}`", kind_noun(kind), name.text));
      d.subject = name.text;
      std::vector<std::string_view> candidates;
      for (const Term& t : terms(kind))
        candidates.push_back(t.name);
      const std::string guess = closest_name(name.text, candidates);
      if (!guess.empty()) {
        d.help = fmt::format("did you mean `{}`?", guess);
      } else {
        d.help = fmt::format("declare it with `{} {}`", kind_keyword(kind), name.text);
      }
      return std::nullopt;
    }
  }

  // Suggests the way to write what the author most likely meant.
  static std::string wrong_kind_help(const std::string& name, ast::DeclKind found,
                                     ast::DeclKind wanted, std::string_view slot) {
    using K = ast::DeclKind;
    if (slot.find("condition") != std::string_view::npos) {
      switch (found) {
        case K::purpose:
          return fmt::format("to test the purpose, write `purpose is {}`", name);
        case K::consent:
          return fmt::format("to test a granted consent, write `consent {}`", name);
        case K::fact:
          return fmt::format("to test the fact, write `{}` alone", name);
        default:
          break;
      }
    }
    if (wanted == K::consent || wanted == K::purpose || wanted == K::fact) {
      return fmt::format(
          "names of different kinds may be the same: declare `{} {}` if you "
          "meant one",
          kind_keyword(wanted), name);
    }
    return fmt::format("name {} {} here", article(kind_noun(wanted)), kind_noun(wanted));
  }

  std::optional<std::uint32_t> resolve_clause(const ast::Text& cites) {
    auto it = clause_index_.find(cites.value);
    if (it == clause_index_.end()) {
      Diagnostic& d =
          error("E220", cites.span, fmt::format("cites undeclared clause `{}`", cites.value));
      d.subject = cites.value;
      std::vector<std::string_view> ids;
      for (const ClauseInfo& c : out_.clauses)
        ids.push_back(c.id);
      const std::string guess = closest_name(cites.value, ids);
      d.help = guess.empty()
                   ? fmt::format("declare it with `clause \"{}\" \"...its words...\"`", cites.value)
                   : fmt::format("did you mean `{}`?", guess);
      return std::nullopt;
    }
    cited_[it->second] = true;
    return static_cast<std::uint32_t>(it->second);
  }

  void build_trees() {
    for (std::size_t i = 0; i < decl_of_.size(); ++i) {
      const ast::Decl& decl = *decl_of_[i];
      if (!decl.parent) continue;
      const auto [kind, index] = decl_kind_index_[i];
      const auto slot =
          fmt::format("the parent of {} {}", article(kind_noun(kind)), kind_noun(kind));
      if (decl.parent->text == decl.name.text) {
        Diagnostic& d =
            error("E213", decl.parent->span,
                  fmt::format("{} `{}` is declared under itself", kind_noun(kind), decl.name.text));
        d.help = fmt::format("remove `under {}`", decl.name.text);
        continue;
      }
      if (auto parent = resolve(*decl.parent, kind, slot)) {
        terms(kind)[index].parent = static_cast<std::int32_t>(*parent);
      }
    }
    number_tree(ast::DeclKind::data);
    number_tree(ast::DeclKind::requester);
    number_tree(ast::DeclKind::purpose);
  }

  // Finds cycles, then numbers each tree in preorder so a subtree is one interval.
  void number_tree(ast::DeclKind kind) {
    std::vector<Term>& list = terms(kind);
    const std::size_t n = list.size();
    std::vector<std::uint8_t> state(n, 0);  // 0 unseen, 1 on the current path, 2 done
    for (std::size_t start = 0; start < n; ++start) {
      std::vector<std::size_t> path;
      std::size_t at = start;
      while (state[at] == 0) {
        state[at] = 1;
        path.push_back(at);
        if (list[at].parent == no_id) break;
        at = static_cast<std::size_t>(list[at].parent);
      }
      if (state[at] == 1 && list[at].parent != no_id &&
          std::find(path.begin(), path.end(), at) != path.end()) {
        // `at` is on the path twice: report the loop once, at its first member.
        auto loop_begin = std::find(path.begin(), path.end(), at);
        std::string chain;
        for (auto p = loop_begin; p != path.end(); ++p)
          chain += list[*p].name + " → ";
        chain += list[at].name;
        Diagnostic& d = error(
            "E213", list[at].span,
            fmt::format("{} `{}` is its own ancestor: {}", kind_noun(kind), list[at].name, chain));
        for (auto p = loop_begin + 1; p != path.end(); ++p) {
          d.notes.push_back({list[*p].span, fmt::format("`{}` is in the loop", list[*p].name)});
        }
        d.help = "remove one `under` from the loop";
        for (auto p = loop_begin; p != path.end(); ++p)
          list[*p].parent = no_id;  // break it
      }
      for (const std::size_t p : path)
        state[p] = 2;
    }
    std::vector<std::vector<std::uint32_t>> children(n);
    std::vector<std::uint32_t> roots;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (list[i].parent == no_id) {
        roots.push_back(i);
      } else {
        children[static_cast<std::size_t>(list[i].parent)].push_back(i);
      }
    }
    // Iterative preorder walk: deep hierarchies cannot exhaust the stack.
    std::uint32_t counter = 0;
    std::vector<std::pair<std::uint32_t, bool>> stack;
    for (auto r = roots.rbegin(); r != roots.rend(); ++r)
      stack.emplace_back(*r, false);
    while (!stack.empty()) {
      auto [node, closing] = stack.back();
      stack.pop_back();
      if (closing) {
        list[node].last = counter;
        continue;
      }
      list[node].first = counter++;
      stack.emplace_back(node, true);
      for (auto c = children[node].rbegin(); c != children[node].rend(); ++c) {
        stack.emplace_back(*c, false);
      }
    }
  }

  void resolve_decl_citations() {
    for (std::size_t i = 0; i < decl_of_.size(); ++i) {
      const ast::Decl& decl = *decl_of_[i];
      if (!decl.cites) continue;
      const auto [kind, index] = decl_kind_index_[i];
      if (auto clause = resolve_clause(*decl.cites)) {
        if (*clause == out_.default_clause) {
          // A granted consent citing `default` would allow, citing "no clause permits it".
          Diagnostic& d = error("E221", decl.cites->span,
                                "only a `deny` rule may cite `default`, the fail-closed clause");
          d.help = "cite the clause of the document that the declaration comes from";
          continue;
        }
        terms(kind)[index].clause = static_cast<std::int32_t>(*clause);
      }
    }
  }

  IdSet resolve_set(const ast::NameSet& set, ast::DeclKind kind, std::string_view slot) {
    IdSet out;
    out.any = set.any;
    for (const ast::Name& n : set.names) {
      if (auto id = resolve(n, kind, slot)) {
        if (std::find(out.ids.begin(), out.ids.end(), *id) == out.ids.end()) out.ids.push_back(*id);
      }
    }
    return out;
  }

  CheckedCond resolve_cond(const ast::Cond& cond) {
    CheckedCond out;
    out.kind = cond.kind;
    out.span = cond.span;
    if (cond.kind == ast::CondKind::compare || cond.kind == ast::CondKind::member ||
        cond.kind == ast::CondKind::attribute) {
      out.kind = ast::CondKind::attribute;
      if (auto test = attribute_test(cond)) out.ids.push_back(add_test(*test));
      return out;
    }
    for (const ast::Name& n : cond.names) {
      std::optional<std::uint32_t> id;
      switch (cond.kind) {
        case ast::CondKind::fact:
          id = resolve(n, ast::DeclKind::fact, "a bare name in a condition");
          break;
        case ast::CondKind::consent:
          id = resolve(n, ast::DeclKind::consent, "`consent` in a condition");
          break;
        case ast::CondKind::objected:
          id = resolve(n, ast::DeclKind::objection, "`objected` in a condition");
          break;
        default:
          id = resolve(n, ast::DeclKind::purpose, "`purpose is` in a condition");
          break;
      }
      if (id) out.ids.push_back(*id);
    }
    for (const ast::Cond& child : cond.children)
      out.children.push_back(resolve_cond(child));
    return out;
  }

  static Tier tier_of(const ast::Rule& rule) {
    if (rule.effective) return Tier::effective;
    if (rule.first) return Tier::first;
    if (rule.fallback) return Tier::fallback;
    if (rule.exclusion) return Tier::exclusion;
    switch (rule.effect) {
      case ast::Effect::deny:
        return Tier::prohibition;
      case ast::Effect::allow:
        return Tier::permission;
      case ast::Effect::require_consent:
        return Tier::consent;
    }
    return Tier::prohibition;
  }

  void check_rules() {
    std::unordered_map<std::string, Span> rule_names;
    std::vector<std::uint32_t> per_clause(out_.clauses.size(), 0);
    for (const ast::Rule& rule : ast_.rules) {
      CheckedRule r;
      r.tier = tier_of(rule);
      r.effect = rule.effect;
      r.span = rule.span;
      if (rule.consent) {
        if (auto id = resolve(*rule.consent, ast::DeclKind::consent, "`require consent`")) {
          r.consent = static_cast<std::int32_t>(*id);
        }
      }
      r.actions = resolve_set(rule.actions, ast::DeclKind::action, "a rule's action list");
      r.data = resolve_set(rule.data, ast::DeclKind::data, "`of`");
      r.requesters = resolve_set(rule.requesters, ast::DeclKind::requester, "`by`");
      if (rule.condition) r.condition = resolve_cond(*rule.condition);
      const auto clause = resolve_clause(rule.cites);
      fold_dates(rule, clause, r);
      if (rule.first && rule.effect == ast::Effect::require_consent && r.consent >= 0) {
        // A first-tier requirement is a gate: met, it steps aside for the tiers below.
        CheckedCond granted;
        granted.kind = ast::CondKind::consent;
        granted.ids.push_back(static_cast<std::uint32_t>(r.consent));
        granted.span = rule.consent->span;
        CheckedCond unmet;
        unmet.kind = ast::CondKind::negation;
        unmet.span = rule.consent->span;
        unmet.children.push_back(std::move(granted));
        conjoin(r.condition, std::move(unmet));
      }
      for (const ast::Name& o : rule.obligations) {
        if (auto id = resolve(o, ast::DeclKind::obligation, "`obliges`")) {
          if (std::find(r.obligations.begin(), r.obligations.end(), *id) == r.obligations.end())
            r.obligations.push_back(*id);
        }
      }
      if (!rule.obligations.empty() && (rule.effect != ast::Effect::allow || rule.exclusion)) {
        Diagnostic& d = error("E249", rule.obligations.front().span,
                              "only an `allow` rule can carry obligations");
        d.help = "duties come with a permission; a met consent requirement allows without them";
      }
      if (clause) {
        r.clause = *clause;
        if (*clause == out_.default_clause && rule.effect != ast::Effect::deny) {
          Diagnostic& d = error("E221", rule.cites.span,
                                "only a `deny` rule may cite `default`, the fail-closed clause");
          d.help = "cite the clause that grants this, or make the rule `deny`";
        }
      }
      if (rule.name) {
        auto [it, fresh] = rule_names.emplace(rule.name->text, rule.name->span);
        if (!fresh) {
          Diagnostic& d = error("E230", rule.name->span,
                                fmt::format("rule name `{}` is used twice", rule.name->text));
          d.notes.push_back({it->second, "first used here"});
        }
        r.id = rule.name->text;
        r.named = true;
      }
      if (clause) {
        const std::uint32_t n = ++per_clause[*clause];
        if (!r.named) r.id = fmt::format("{}/{}", out_.clauses[*clause].id, n);
      }
      out_.rules.push_back(std::move(r));
    }
  }

  // Adds `c` to a rule's condition with `and`.
  static void conjoin(std::optional<CheckedCond>& condition, CheckedCond c) {
    if (!condition) {
      condition = std::move(c);
      return;
    }
    if (condition->kind != ast::CondKind::all) {
      CheckedCond all;
      all.kind = ast::CondKind::all;
      all.span = condition->span;
      all.children.push_back(std::move(*condition));
      condition = std::move(all);
    }
    condition->children.push_back(std::move(c));
  }

  // A test of `context.time` against an instant: `>=` for `from`, `<` for `until`.
  std::optional<CheckedCond> time_test(ast::CompareOp op, Instant at, Span span,
                                       std::string_view what) {
    if (out_.time_attribute == no_id) {
      Diagnostic& d = error("E248", span,
                            fmt::format("{} compares `context.time` with a date, and the policy "
                                        "declares no `context.time`",
                                        what));
      d.help = "declare `attribute context.time time`";
      return std::nullopt;
    }
    AttributeTest t;
    t.kind = AttributeTest::Kind::compare;
    t.lhs = static_cast<std::uint32_t>(out_.time_attribute);
    t.op = op;
    t.constant = at;
    CheckedCond c;
    c.kind = ast::CondKind::attribute;
    c.ids.push_back(add_test(t));
    c.span = span;
    return c;
  }

  std::optional<Instant> read_time(const ast::TimeText& t) {
    auto at = parse_time(t.text);
    if (!at) {
      Diagnostic& d = error("E246", t.span,
                            fmt::format("`{}` is not a date or date-time: {}", t.text, at.error()));
      d.help = "write a date as `2026-02-16` or a date-time as `2026-02-16T08:00:00Z`";
      return std::nullopt;
    }
    return *at;
  }

  // Folds `from`/`until` of the rule and of the clause it cites into its condition, and
  // makes `effective from DATE` a denial of every request before DATE.
  void fold_dates(const ast::Rule& rule, std::optional<std::uint32_t> clause, CheckedRule& r) {
    if (rule.effective) {
      if (effective_seen_) {
        Diagnostic& d = error("E250", rule.span, "the policy has a second `effective from`");
        d.notes.push_back({*effective_seen_, "the first is here"});
        d.help = "a policy takes effect once; keep one";
      }
      effective_seen_ = rule.span;
      if (auto at = read_time(*rule.from)) {
        if (auto c = time_test(ast::CompareOp::lt, *at, rule.from->span, "`effective from`"))
          conjoin(r.condition, std::move(*c));
      }
      return;
    }
    if (rule.from) {
      if (auto at = read_time(*rule.from)) {
        if (auto c = time_test(ast::CompareOp::ge, *at, rule.from->span, "`from`"))
          conjoin(r.condition, std::move(*c));
      }
    }
    if (rule.until) {
      if (auto at = read_time(*rule.until)) {
        if (auto c = time_test(ast::CompareOp::lt, *at, rule.until->span, "`until`"))
          conjoin(r.condition, std::move(*c));
      }
    }
    if (!clause) return;
    const ClauseInfo& info = out_.clauses[*clause];
    const ast::ClauseDecl* decl = clause_decl(*clause);
    if (info.from && decl != nullptr && decl->from) {
      if (auto c = time_test(ast::CompareOp::ge, *info.from, decl->from->span, "`from`"))
        conjoin(r.condition, std::move(*c));
    }
    if (info.until && decl != nullptr && decl->until) {
      if (auto c = time_test(ast::CompareOp::lt, *info.until, decl->until->span, "`until`"))
        conjoin(r.condition, std::move(*c));
    }
  }

  const ast::ClauseDecl* clause_decl(std::uint32_t clause) const {
    for (const ast::ClauseDecl& c : ast_.clauses) {
      if (c.id.value == out_.clauses[clause].id) return &c;
    }
    return nullptr;
  }

  // Attributes: each declared once, on `data`, `requester` or `context`, with a type.
  void declare_attributes() {
    // Fields the request format already gives a meaning.
    static constexpr std::string_view built_in[] = {"data.category",   "requester.kind",
                                                    "context.purpose", "context.facts",
                                                    "context.consent", "context.objections"};
    for (const ast::AttributeDecl& a : ast_.attributes) {
      const std::string path = a.path.text();
      if (std::find(std::begin(built_in), std::end(built_in), path) != std::end(built_in)) {
        Diagnostic& d =
            error("E247", a.path.span,
                  fmt::format("`{}` is a field of every request, not an attribute", path));
        d.help = "choose another name for the attribute";
        continue;
      }
      std::optional<AttrType> type;
      const std::string& word = a.type.text;
      if (a.list) {
        if (a.element && a.element->text == "string") type = AttrType::string_list;
      } else if (word == "string") {
        type = AttrType::string;
      } else if (word == "integer") {
        type = AttrType::integer;
      } else if (word == "boolean") {
        type = AttrType::boolean;
      } else if (word == "date") {
        type = AttrType::date;
      } else if (word == "time") {
        type = AttrType::time;
      }
      if (!type) {
        const ast::Name& at = a.list && a.element ? *a.element : a.type;
        Diagnostic& d = error("E242", at.span, fmt::format("unknown attribute type `{}`", at.text));
        d.subject = at.text;
        ill_typed_.insert(path);  // not reported again where a condition reads it
        d.help = a.list ? std::string("lists hold strings: write `list of string`") : [&] {
          std::string guess = type_alias(at.text);
          if (guess.empty())
            guess = closest_name(at.text, {"string", "integer", "boolean", "date", "time"});
          return guess.empty() ? std::string(
                                     "the types are string, integer, boolean, "
                                     "date, time and `list of string`")
                               : fmt::format("did you mean `{}`?", guess);
        }();
        continue;
      }
      auto [it, fresh] = attribute_index_.emplace(path, out_.attributes.size());
      if (!fresh) {
        Diagnostic& d =
            error("E241", a.path.span, fmt::format("attribute `{}` is declared twice", path));
        d.notes.push_back({out_.attributes[it->second].span, "first declared here"});
        d.help = "remove one of the two declarations";
        continue;
      }
      if (path == "context.time" && *type != AttrType::time) {
        Diagnostic& d = error("E243", a.type.span, "`context.time` is a `time`");
        d.help = "declare it as `attribute context.time time`";
      }
      if (path == "context.time")
        out_.time_attribute = static_cast<std::int32_t>(out_.attributes.size());
      out_.attributes.push_back({path, *type, a.optional, a.path.span});
    }
    for (const ast::ClauseDecl& c : ast_.clauses) {
      auto it = clause_index_.find(c.id.value);
      if (it == clause_index_.end() || clause_id_spans_[it->second].begin != c.id.span.begin)
        continue;
      if (c.from) out_.clauses[it->second].from = read_time(*c.from);
      if (c.until) out_.clauses[it->second].until = read_time(*c.until);
      if ((c.from || c.until) && out_.time_attribute == no_id) {
        Diagnostic& d = error("E248", c.from ? c.from->span : c.until->span,
                              "a clause's dates compare `context.time` with a date, and the "
                              "policy declares no `context.time`");
        d.help = "declare `attribute context.time time`";
      }
    }
  }

  // The type that other languages' names for a type mean, or "".
  static std::string type_alias(std::string_view word) {
    static constexpr std::pair<std::string_view, std::string_view> aliases[] = {
        {"int", "integer"},  {"number", "integer"}, {"bool", "boolean"},  {"str", "string"},
        {"text", "string"},  {"id", "string"},      {"datetime", "time"}, {"timestamp", "time"},
        {"instant", "time"}, {"date_time", "time"},
    };
    for (const auto& [alias, type] : aliases) {
      if (alias == word) return std::string(type);
    }
    return "";
  }

  std::optional<std::uint32_t> resolve_attribute(const ast::AttrPath& path) {
    const std::string text = path.text();
    auto it = attribute_index_.find(text);
    if (it != attribute_index_.end()) return static_cast<std::uint32_t>(it->second);
    if (ill_typed_.contains(text)) return std::nullopt;  // its declaration is reported
    Diagnostic& d = error("E240", path.span, fmt::format("unknown attribute `{}`", text));
    d.subject = text;
    std::vector<std::string_view> candidates;
    for (const AttributeInfo& a : out_.attributes)
      candidates.push_back(a.path);
    const std::string guess = closest_name(text, candidates);
    d.help = guess.empty() ? fmt::format("declare it with `attribute {} TYPE`", text)
                           : fmt::format("did you mean `{}`?", guess);
    return std::nullopt;
  }

  std::uint32_t add_test(const AttributeTest& t) {
    auto it = std::find(out_.tests.begin(), out_.tests.end(), t);
    if (it != out_.tests.end()) return static_cast<std::uint32_t>(it - out_.tests.begin());
    out_.tests.push_back(t);
    return static_cast<std::uint32_t>(out_.tests.size() - 1);
  }

  static bool is_time(AttrType t) { return t == AttrType::date || t == AttrType::time; }

  static std::string_view noun(AttrType t) {
    switch (t) {
      case AttrType::string:
        return "a string";
      case AttrType::integer:
        return "an integer";
      case AttrType::boolean:
        return "a boolean";
      case AttrType::date:
        return "a date";
      case AttrType::time:
        return "a time";
      case AttrType::string_list:
        return "a list of strings";
    }
    return "a string";
  }

  static std::string_view operand_noun(ast::Operand::Kind k) {
    switch (k) {
      case ast::Operand::Kind::attribute:
        return "an attribute";
      case ast::Operand::Kind::integer:
        return "an integer";
      case ast::Operand::Kind::string:
        return "a string";
      case ast::Operand::Kind::time:
        return "a date";
      case ast::Operand::Kind::boolean:
        return "a boolean";
    }
    return "a value";
  }

  std::optional<Duration> read_duration(const ast::DurationText& d) {
    std::string unit = d.unit.text;
    if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
    constexpr std::int64_t limit = 1'000'000;
    if (d.amount > limit || d.amount < -limit) {
      error("E245", d.span, "the duration is too long").help = "durations are up to 1000000 units";
      return std::nullopt;
    }
    const auto n = d.amount;
    Duration out;
    if (unit == "year") {
      out.years = static_cast<std::int32_t>(n);
    } else if (unit == "month") {
      out.months = static_cast<std::int32_t>(n);
    } else if (unit == "day") {
      out.days = static_cast<std::int32_t>(n);
    } else if (unit == "hour") {
      out.seconds = n * 3600;
    } else if (unit == "minute") {
      out.seconds = n * 60;
    } else if (unit == "second") {
      out.seconds = n;
    } else {
      Diagnostic& d2 =
          error("E245", d.unit.span, fmt::format("unknown unit of time `{}`", d.unit.text));
      d2.subject = d.unit.text;
      const std::string guess =
          closest_name(d.unit.text, {"years", "months", "days", "hours", "minutes", "seconds"});
      d2.help = guess.empty() ? std::string(
                                    "the units are years, months, days, hours, minutes "
                                    "and seconds")
                              : fmt::format("did you mean `{}`?", guess);
      return std::nullopt;
    }
    return out;
  }

  // Checks a comparison's types and makes it a test; reports each mistake once.
  std::optional<AttributeTest> attribute_test(const ast::Cond& cond) {
    const auto lhs = resolve_attribute(*cond.attribute);
    if (!lhs) return std::nullopt;
    const AttributeInfo& left = out_.attributes[*lhs];
    AttributeTest t;
    t.lhs = *lhs;
    if (cond.kind == ast::CondKind::attribute) {
      if (left.type != AttrType::boolean) {
        Diagnostic& d =
            error("E243", cond.span,
                  fmt::format("`{}` is {}, not a condition by itself", left.path, noun(left.type)));
        d.help = fmt::format("compare it: `{} = ...`", left.path);
        return std::nullopt;
      }
      t.kind = AttributeTest::Kind::truth;
      return t;
    }
    const ast::Operand& o = *cond.operand;
    if (cond.kind == ast::CondKind::member) {
      t.kind = AttributeTest::Kind::member;
      const auto rhs = resolve_attribute(o.attribute);
      if (!rhs) return std::nullopt;
      const AttributeInfo& right = out_.attributes[*rhs];
      if (right.type != AttrType::string_list) {
        Diagnostic& d =
            error("E243", o.span,
                  fmt::format("`in` needs a list, but `{}` is {}", right.path, noun(right.type)));
        d.help = fmt::format("to compare two values, write `{} = {}`", left.path, right.path);
        return std::nullopt;
      }
      if (left.type != AttrType::string) {
        error("E243", cond.attribute->span,
              fmt::format("`in` looks for a string in a list, but `{}` is {}", left.path,
                          noun(left.type)));
        return std::nullopt;
      }
      t.rhs = static_cast<std::int32_t>(*rhs);
      return t;
    }
    t.kind = AttributeTest::Kind::compare;
    t.op = cond.op;
    if (left.type == AttrType::string_list) {
      Diagnostic& d =
          error("E244", cond.span,
                fmt::format("`{}` is a list: it can only be searched with `in`", left.path));
      d.help = fmt::format("write `requester.id in {}`, say", left.path);
      return std::nullopt;
    }
    const bool ordered = left.type == AttrType::integer || is_time(left.type);
    if (!ordered && cond.op != ast::CompareOp::eq && cond.op != ast::CompareOp::ne) {
      Diagnostic& d = error("E244", cond.span,
                            fmt::format("`{}` is {}: it can only be compared with `=` or `!=`",
                                        left.path, noun(left.type)));
      d.help = left.type == AttrType::string
                   ? "strings and ids have no order; compare integers, dates or times"
                   : "use `=` or `!=`";
      return std::nullopt;
    }
    if (o.shift && !is_time(left.type)) {
      Diagnostic& d =
          error("E245", o.shift->span,
                fmt::format("a duration can only be added to a date or time, and `{}` is {}",
                            left.path, noun(left.type)));
      d.help = "remove the duration";
      return std::nullopt;
    }
    if (o.shift) {
      if (auto d = read_duration(*o.shift)) {
        t.shift = *d;
      } else {
        return std::nullopt;
      }
    }
    const auto mismatch = [&](std::string_view right) -> std::optional<AttributeTest> {
      Diagnostic& d = error(
          "E243", o.span,
          fmt::format("`{}` is {}, but it is compared with {}", left.path, noun(left.type), right));
      if (is_time(left.type) && o.kind == ast::Operand::Kind::string) {
        d.help = fmt::format("write the date without quotes: `{}`", o.text);
      } else if (left.type == AttrType::integer && o.kind == ast::Operand::Kind::string) {
        d.help = "write the number without quotes";
      } else if (left.type == AttrType::string && o.kind != ast::Operand::Kind::attribute) {
        d.help = "quote the value: `\"...\"`";
      }
      return std::nullopt;
    };
    switch (o.kind) {
      case ast::Operand::Kind::attribute: {
        const auto rhs = resolve_attribute(o.attribute);
        if (!rhs) return std::nullopt;
        const AttributeInfo& right = out_.attributes[*rhs];
        const bool same = left.type == right.type || (is_time(left.type) && is_time(right.type));
        if (!same) return mismatch(fmt::format("`{}`, {}", right.path, noun(right.type)));
        t.rhs = static_cast<std::int32_t>(*rhs);
        return t;
      }
      case ast::Operand::Kind::integer: {
        if (left.type != AttrType::integer) return mismatch("an integer");
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(o.text.data(), o.text.data() + o.text.size(), value);
        if (ec != std::errc{} || end != o.text.data() + o.text.size()) {
          error("E243", o.span, "the number is out of range").help =
              "integers are 64-bit signed numbers";
          return std::nullopt;
        }
        t.constant = value;
        return t;
      }
      case ast::Operand::Kind::string:
        if (left.type != AttrType::string) return mismatch("a string");
        t.constant = o.text;
        return t;
      case ast::Operand::Kind::boolean:
        if (left.type != AttrType::boolean) return mismatch("a boolean");
        t.constant = o.boolean;
        return t;
      case ast::Operand::Kind::time: {
        if (!is_time(left.type)) return mismatch("a date");
        auto at = read_time(ast::TimeText{o.text, o.span});
        if (!at) return std::nullopt;
        t.constant = *at;
        return t;
      }
    }
    return std::nullopt;
  }

  void check_assertions() {
    for (const ast::Assertion& a : ast_.assertions) {
      CheckedAssertion out;
      out.always = a.always;
      out.effect = a.body.effect;
      out.span = a.span;
      if (a.body.consent) {
        if (auto id = resolve(*a.body.consent, ast::DeclKind::consent, "`require consent`")) {
          out.consent = static_cast<std::int32_t>(*id);
        }
      }
      out.actions = resolve_set(a.body.actions, ast::DeclKind::action, "an assertion's actions");
      out.data = resolve_set(a.body.data, ast::DeclKind::data, "`of`");
      out.requesters = resolve_set(a.body.requesters, ast::DeclKind::requester, "`by`");
      if (a.body.condition) out.when = resolve_cond(*a.body.condition);
      if (a.unless) out.unless = resolve_cond(*a.unless);
      out_.assertions.push_back(std::move(out));
    }
  }

  void warn_uncited_clauses() {
    for (std::size_t i = 0; i < out_.clauses.size(); ++i) {
      if (cited_[i] || !out_.clauses[i].declared) continue;
      const ast::ClauseDecl* decl = nullptr;
      for (const ast::ClauseDecl& c : ast_.clauses) {
        if (c.id.value == out_.clauses[i].id) decl = &c;
      }
      Diagnostic& d =
          warning("W001", decl ? decl->id.span : out_.clauses[i].span,
                  fmt::format("clause `{}` is declared but nothing cites it", out_.clauses[i].id));
      d.subject = out_.clauses[i].id;
      d.help = "cite it from a rule or a declaration, or remove it";
    }
  }

  const ast::Policy& ast_;
  CheckedPolicy out_;
  std::vector<Diagnostic> diagnostics_;
  std::unordered_map<std::string, std::size_t> clause_index_;
  std::array<std::unordered_map<std::string, Entry>, 8> names_;
  std::vector<const ast::Decl*> decl_of_;
  std::vector<std::pair<ast::DeclKind, std::uint32_t>> decl_kind_index_;
  std::vector<bool> cited_;
  std::vector<Span> clause_id_spans_;  // where each declared clause's id is written
  std::unordered_map<std::string, std::size_t> attribute_index_;
  std::unordered_set<std::string> ill_typed_;  // declared with an unknown type
  std::optional<Span> effective_seen_;
};

}  // namespace

CheckResult check(const ast::Policy& policy) {
  return Checker(policy).run();
}

}  // namespace clause::dsl
