// Stage: check. Resolves every name of a parsed policy, builds the two hierarchies and
// reports every mistake it finds, each with the place and, where it can, a fix.
#include "clause/dsl/check.hpp"

#include "checker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
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

namespace checking {

Diagnostic& Checker::error(std::string code, Span span, std::string message) {
  diagnostics_.push_back({Severity::error, std::move(code), std::move(message), span, {}, {}});
  return diagnostics_.back();
}

Diagnostic& Checker::warning(std::string code, Span span, std::string message) {
  diagnostics_.push_back({Severity::warning, std::move(code), std::move(message), span, {}, {}});
  return diagnostics_.back();
}

std::vector<Term>& Checker::terms(ast::DeclKind kind) {
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

void Checker::check_header() {
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

void Checker::declare_clauses() {
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
    out_.clauses.push_back(
        {std::string(default_clause_id), std::string(default_clause_words), Span{}, false, {}, {}});
  } else {
    out_.default_clause = static_cast<std::uint32_t>(it->second);
  }
  cited_.assign(out_.clauses.size(), false);
  cited_[out_.default_clause] = true;
}

// Each kind of name has its own namespace: `partner_marketing` may be both a purpose
// and a consent, as it is in the privacy policy.
std::unordered_map<std::string, Checker::Entry>& Checker::names(ast::DeclKind kind) {
  return names_[static_cast<std::size_t>(kind)];
}

void Checker::declare_names() {
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
std::optional<std::uint32_t> Checker::resolve(const ast::Name& name, ast::DeclKind kind,
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
std::string Checker::wrong_kind_help(const std::string& name, ast::DeclKind found,
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

std::optional<std::uint32_t> Checker::resolve_clause(const ast::Text& cites) {
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

void Checker::build_trees() {
  for (std::size_t i = 0; i < decl_of_.size(); ++i) {
    const ast::Decl& decl = *decl_of_[i];
    if (!decl.parent) continue;
    const auto [kind, index] = decl_kind_index_[i];
    const auto slot = fmt::format("the parent of {} {}", article(kind_noun(kind)), kind_noun(kind));
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
void Checker::number_tree(ast::DeclKind kind) {
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

void Checker::resolve_decl_citations() {
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

IdSet Checker::resolve_set(const ast::NameSet& set, ast::DeclKind kind, std::string_view slot) {
  IdSet out;
  out.any = set.any;
  for (const ast::Name& n : set.names) {
    if (auto id = resolve(n, kind, slot)) {
      if (std::find(out.ids.begin(), out.ids.end(), *id) == out.ids.end()) out.ids.push_back(*id);
    }
  }
  return out;
}

CheckedCond Checker::resolve_cond(const ast::Cond& cond) {
  CheckedCond out;
  out.kind = cond.kind;
  out.span = cond.span;
  if (cond.kind == ast::CondKind::compare || cond.kind == ast::CondKind::member ||
      cond.kind == ast::CondKind::contains || cond.kind == ast::CondKind::attribute) {
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

Tier Checker::tier_of(const ast::Rule& rule) {
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

void Checker::check_rules() {
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
void Checker::conjoin(std::optional<CheckedCond>& condition, CheckedCond c) {
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

void Checker::check_assertions() {
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

void Checker::warn_uncited_clauses() {
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

}  // namespace checking

CheckResult check(const ast::Policy& policy) {
  return checking::Checker(policy).run();
}

}  // namespace clause::dsl
