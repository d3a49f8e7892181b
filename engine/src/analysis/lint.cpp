// Stage: check (beyond validity). The linter reads the checked policy and decides its
// questions exactly: the request space is finite, so "can this rule ever decide?" is
// answered by walking the (action, requester, data) triples a rule covers and, for each
// distinct set of rules that outrank it there, every assignment of the facts, consents and
// purposes those rules read.
#include "clause/lint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "analysis/analysis.hpp"
#include "core/policy_impl.hpp"

namespace clause {
namespace {

using detail::Assignment;
using detail::Atoms;
using detail::covers;
using detail::for_each_assignment;
using detail::holds;
using dsl::CheckedCond;
using dsl::CheckedPolicy;
using dsl::CheckedRule;
using dsl::Tier;

// Whether rule `j`, matching together with rule `i`, can keep `i` from deciding.
bool can_rival(const CheckedPolicy& p, std::size_t j, std::size_t i) {
  const Tier ti = p.rules[i].tier;
  const Tier tj = p.rules[j].tier;
  if (ti == Tier::fallback) return tj != Tier::fallback || j < i;
  if (ti == Tier::consent) return tj <= Tier::consent;  // other requirements interleave
  return tj < ti || (tj == ti && j < i);
}

// Whether rule `j`, matching under `a` together with rule `i`, keeps `i` from deciding.
// In the consent tier every matching requirement is weighed: the first unmet one is asked
// for, and when all are met the first is cited.
bool beats(const CheckedPolicy& p, std::size_t j, std::size_t i, const Assignment& a) {
  const CheckedRule& rj = p.rules[j];
  const CheckedRule& ri = p.rules[i];
  if (!holds(rj.condition, a)) return false;
  if (ri.tier != Tier::consent || rj.tier != Tier::consent) return true;
  const bool j_met = a.consents[static_cast<std::size_t>(rj.consent)];
  const bool i_met = a.consents[static_cast<std::size_t>(ri.consent)];
  return j < i ? (!j_met || i_met) : (!j_met && i_met);
}

// The names of a vocabulary in the order of their place in the tree (`first`), so that
// the names under one are found by binary search rather than a scan.
struct TreeOrder {
  std::vector<std::uint32_t> ids;
  std::vector<std::uint32_t> firsts;
  explicit TreeOrder(const std::vector<dsl::Term>& terms) {
    ids.resize(terms.size());
    for (std::uint32_t i = 0; i < terms.size(); ++i)
      ids[i] = i;
    std::sort(ids.begin(), ids.end(),
              [&](std::uint32_t x, std::uint32_t y) { return terms[x].first < terms[y].first; });
    for (const std::uint32_t id : ids)
      firsts.push_back(terms[id].first);
  }
};

// The names a set covers: for a tree (`order` given), each named name and all under it.
std::vector<std::uint32_t> expand(const dsl::IdSet& set, const std::vector<dsl::Term>& terms,
                                  const TreeOrder* order) {
  std::vector<std::uint32_t> out;
  if (set.any) {
    for (std::uint32_t i = 0; i < terms.size(); ++i)
      out.push_back(i);
    return out;
  }
  for (const std::uint32_t id : set.ids) {
    if (order == nullptr) {
      out.push_back(id);
      continue;
    }
    const auto from = std::lower_bound(order->firsts.begin(), order->firsts.end(), terms[id].first);
    const auto to = std::lower_bound(from, order->firsts.end(), terms[id].last);
    for (auto it = from; it != to; ++it)
      out.push_back(order->ids[static_cast<std::size_t>(it - order->firsts.begin())]);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool same_cond(const CheckedCond& a, const CheckedCond& b) {
  if (a.kind != b.kind || a.ids != b.ids || a.children.size() != b.children.size()) return false;
  for (std::size_t i = 0; i < a.children.size(); ++i) {
    if (!same_cond(a.children[i], b.children[i])) return false;
  }
  return true;
}

bool same_set(dsl::IdSet a, dsl::IdSet b) {
  std::sort(a.ids.begin(), a.ids.end());
  std::sort(b.ids.begin(), b.ids.end());
  return a.any == b.any && a.ids == b.ids;
}

// Hashes that agree whenever same_cond, same_set and the rest of a rule agree.
std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  return (h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2))) * 0x100000001b3ULL;
}

std::uint64_t cond_hash(const CheckedCond& c) {
  std::uint64_t h = mix(static_cast<std::uint64_t>(c.kind), c.children.size());
  for (const auto id : c.ids)
    h = mix(h, id);
  for (const CheckedCond& child : c.children)
    h = mix(h, cond_hash(child));
  return h;
}

std::uint64_t set_hash(std::uint64_t h, const dsl::IdSet& set) {
  h = mix(h, set.any ? 1 : 2);
  // Order-free, as same_set compares sorted ids.
  std::uint64_t sum = 0;
  std::uint64_t product = 1;
  for (const std::uint32_t id : set.ids) {
    sum += mix(0, id);
    product *= mix(1, id) | 1;
  }
  return mix(mix(mix(h, set.ids.size()), sum), product);
}

std::uint64_t rule_hash(const CheckedRule& r) {
  std::uint64_t h = mix(static_cast<std::uint64_t>(r.tier), static_cast<std::uint64_t>(r.effect));
  h = mix(h, static_cast<std::uint64_t>(r.consent + 1));
  h = set_hash(set_hash(set_hash(h, r.actions), r.data), r.requesters);
  return mix(h, r.condition ? cond_hash(*r.condition) : 0);
}

class Linter {
 public:
  Linter(const detail::PolicyImpl& impl, const LintOptions& options)
      : impl_(impl), p_(impl.checked()), options_(options) {}

  std::vector<Diagnostic> run() {
    unused_names();
    duplicates();
    never_true();
    shadowed();
    consent_restricts();
    if (options_.honour_ignore) ast::apply_suppressions(impl_.suppressions, out_);
    sort_by_position(out_);
    return std::move(out_);
  }

 private:
  Diagnostic& warn(std::string code, Span span, std::string message) {
    out_.push_back({Severity::warning, std::move(code), std::move(message), span, {}, {}});
    return out_.back();
  }

  void unused_names() {
    // Names written anywhere a rule or a condition can read them.
    std::vector<bool> data(p_.data.size()), requesters(p_.requesters.size()),
        actions(p_.actions.size()), purposes(p_.purposes.size()), facts(p_.facts.size()),
        consents(p_.consents.size());
    const auto mark = [](std::vector<bool>& used, const dsl::IdSet& set) {
      for (const std::uint32_t id : set.ids)
        used[id] = true;
    };
    for (const CheckedRule& r : p_.rules) {
      mark(data, r.data);
      mark(requesters, r.requesters);
      mark(actions, r.actions);
      if (r.consent >= 0) consents[static_cast<std::size_t>(r.consent)] = true;
      Atoms atoms;
      atoms.add(r.condition);
      for (const auto id : atoms.facts)
        facts[id] = true;
      for (const auto id : atoms.consents)
        consents[id] = true;
      for (const auto id : atoms.purposes)
        purposes[id] = true;
    }
    // In a tree, a name is in use when a rule names it, an ancestor or a descendant.
    const auto tree_used = [](const std::vector<dsl::Term>& terms, const std::vector<bool>& named,
                              std::uint32_t id) {
      for (std::uint32_t k = 0; k < terms.size(); ++k) {
        if (!named[k]) continue;
        const bool below = terms[k].first >= terms[id].first && terms[k].first < terms[id].last;
        const bool above = terms[id].first >= terms[k].first && terms[id].first < terms[k].last;
        if (below || above) return true;
      }
      return false;
    };
    const auto report = [&](const std::vector<dsl::Term>& terms, const std::vector<bool>& used,
                            ast::DeclKind kind, bool tree) {
      for (std::uint32_t i = 0; i < terms.size(); ++i) {
        if (used[i] || (tree && tree_used(terms, used, i))) continue;
        Diagnostic& d =
            warn("W002", terms[i].span,
                 fmt::format("no rule names {} `{}`{}", dsl::kind_noun(kind), terms[i].name,
                             tree ? ", nor any name above or below it" : ""));
        d.help =
            "requests may still use it; if that is the intent, write `@ignore W002` "
            "before its declaration";
      }
    };
    report(p_.data, data, ast::DeclKind::data, true);
    report(p_.requesters, requesters, ast::DeclKind::requester, true);
    report(p_.actions, actions, ast::DeclKind::action, false);
    report(p_.purposes, purposes, ast::DeclKind::purpose, true);
    report(p_.facts, facts, ast::DeclKind::fact, false);
    report(p_.consents, consents, ast::DeclKind::consent, false);
  }

  // Rules are grouped by a hash of everything that makes two rules the same, so that only
  // rules in one group are compared: linear in the rules, not quadratic.
  void duplicates() {
    std::unordered_map<std::uint64_t, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < p_.rules.size(); ++i) {
      const CheckedRule& b = p_.rules[i];
      std::vector<std::size_t>& group = groups[rule_hash(b)];
      for (const std::size_t j : group) {
        const CheckedRule& a = p_.rules[j];
        const bool same_condition =
            (!a.condition && !b.condition) ||
            (a.condition && b.condition && same_cond(*a.condition, *b.condition));
        if (a.tier != b.tier || a.effect != b.effect || a.consent != b.consent ||
            !same_set(a.actions, b.actions) || !same_set(a.data, b.data) ||
            !same_set(a.requesters, b.requesters) || !same_condition) {
          continue;
        }
        Diagnostic& d = warn("W003", b.span, fmt::format("rule {} repeats rule {}", b.id, a.id));
        d.notes.push_back({a.span, fmt::format("rule {} is here", a.id)});
        d.help = a.clause == b.clause ? "remove one of the two"
                                      : "they cite different clauses; keep the one that decides "
                                        "and remove the other";
        duplicate_.insert(i);
        break;
      }
      group.push_back(i);
    }
  }

  void never_true() {
    for (std::size_t i = 0; i < p_.rules.size(); ++i) {
      const CheckedRule& r = p_.rules[i];
      if (!r.condition) continue;
      Atoms atoms;
      atoms.add(r.condition);
      bool satisfiable = false;
      const bool done =
          for_each_assignment(p_, atoms, options_.max_atoms, [&](const Assignment& a) {
            satisfiable = holds(*r.condition, a);
            return !satisfiable;
          });
      if (done && !satisfiable) {
        Diagnostic& d = warn("W005", r.condition->span,
                             fmt::format("the condition of rule {} can never be true", r.id));
        d.help = "the rule never matches; fix the condition or remove the rule";
        never_.insert(i);
      }
    }
  }

  // Granting a consent should only ever allow more. A consent read where granting it makes
  // a rule match more, in a rule that restricts (a prohibition, a requirement), or match
  // less, in a rule that gives allow (a permission, or a requirement, which gives allow when
  // met), breaks that: a person who consents can then get deny or require-consent where
  // they had allow. A prohibition that holds only while a consent is missing (`deny ...
  // when not consent X`) is the safe way round.
  void consent_restricts() {
    for (const CheckedRule& r : p_.rules) {
      if (!r.condition) continue;
      // A first-tier requirement never allows: met, it steps aside (a gate).
      const bool gives_allow =
          r.effect == ast::Effect::allow ||
          (r.effect == ast::Effect::require_consent && r.tier != dsl::Tier::first);
      const bool restricts = r.effect != ast::Effect::allow;
      const CheckedCond* found = nullptr;
      bool negated = false;
      const auto walk = [&](const auto& self, const CheckedCond& c, bool positive) -> void {
        if (found != nullptr) return;
        if (c.kind == ast::CondKind::consent && (positive ? restricts : gives_allow)) {
          found = &c;
          negated = !positive;
          return;
        }
        for (const CheckedCond& child : c.children)
          self(self, child, c.kind == ast::CondKind::negation ? !positive : positive);
      };
      walk(walk, *r.condition, true);
      if (found == nullptr) continue;
      const std::string& consent = p_.consents[found->ids.at(0)].name;
      const std::string_view effect = r.effect == ast::Effect::deny ? "denies"
                                      : r.effect == ast::Effect::require_consent
                                          ? "asks for consent"
                                          : "allows";
      Diagnostic& d = warn(
          "W006", found->span,
          negated ? fmt::format("rule {} {} only while consent `{}` is not granted: granting "
                                "it can take an allow away",
                                r.id, effect, consent)
                  : fmt::format("rule {} {} when consent `{}` is granted: granting it can take "
                                "an allow away",
                                r.id, effect, consent));
      const std::string_view fix =
          r.effect == ast::Effect::deny
              ? "to deny until the consent is given, write `when not consent {0}`, or ask for it "
                "with `require consent {0} for ...`"
          : r.effect == ast::Effect::allow
              ? "to allow once the consent is given, write `when consent {0}`, or ask for it "
                "with `require consent {0} for ...`"
              : "a met requirement gives allow, so a consent in its condition can switch that "
                "allow off; test `{0}` in a `deny ... when not consent {0}` or an `allow ... "
                "when consent {0}` rule instead";
      d.help = fmt::format(fmt::runtime(fix), consent) +
               "; write `@ignore W006` before the rule if a granted consent is meant to restrict";
    }
  }

  void shadowed() {
    // Only a rule that covers one of a rule's data categories can outrank it there: the
    // rules by the categories they cover (and those naming any data) give each rule its
    // rivals without a scan of the whole policy.
    std::vector<std::vector<std::uint32_t>> data_of(p_.rules.size());
    std::vector<std::vector<std::size_t>> by_data(p_.data.size());
    std::vector<std::size_t> any_data;
    for (std::size_t j = 0; j < p_.rules.size(); ++j) {
      if (p_.rules[j].data.any) {
        any_data.push_back(j);
        continue;
      }
      data_of[j] = expand(p_.rules[j].data, p_.data, &data_order_);
      for (const std::uint32_t d : data_of[j])
        by_data[d].push_back(j);
    }
    // In precedence order, so that the first rival that matches is the one that decides;
    // within a tier, in the policy's order.
    const auto precedes = [&](std::size_t x, std::size_t y) {
      const Tier tx = p_.rules[x].tier;
      const Tier ty = p_.rules[y].tier;
      return tx != ty ? tx < ty : x < y;
    };
    for (std::size_t i = 0; i < p_.rules.size(); ++i) {
      if (duplicate_.count(i) != 0 || never_.count(i) != 0) continue;
      const CheckedRule& r = p_.rules[i];
      const auto actions = expand(r.actions, p_.actions, nullptr);
      const auto requesters = expand(r.requesters, p_.requesters, &requester_order_);
      const auto data = r.data.any ? expand(r.data, p_.data, &data_order_) : data_of[i];
      if (actions.size() * requesters.size() * data.size() > options_.max_triples_per_rule)
        continue;
      // Each distinct set of outranking rules is decided once.
      std::map<std::vector<std::size_t>, bool> decided;
      std::map<std::size_t, std::size_t> blame;  // outranking rule -> triples it covers
      // Triple by triple, data category first: the rivals there are the rules that cover
      // the category (and those naming any data), narrowed by requester, then by action.
      // Most rules meet a triple no rival covers at their first category, and stop.
      bool shadow = true;
      std::vector<std::size_t> of_d;
      std::vector<std::size_t> of_dq;
      std::vector<std::size_t> over;
      for (const std::uint32_t d : data) {
        of_d.clear();
        for (const auto* list : {&by_data[d], &any_data}) {
          for (const std::size_t j : *list) {
            if (j != i && can_rival(p_, j, i)) of_d.push_back(j);
          }
        }
        std::sort(of_d.begin(), of_d.end(), precedes);
        for (const std::uint32_t q : requesters) {
          of_dq.clear();
          for (const std::size_t j : of_d) {
            if (covers(p_.rules[j].requesters, p_.requesters, q, true)) of_dq.push_back(j);
          }
          for (const std::uint32_t a : actions) {
            over.clear();
            for (const std::size_t j : of_dq) {
              if (covers(p_.rules[j].actions, p_.actions, a, false)) over.push_back(j);
            }
            auto [it, fresh] = decided.emplace(over, false);
            if (fresh) it->second = always_outranked(r, over, blame);
            if (!it->second) {
              shadow = false;
              break;
            }
          }
          if (!shadow) break;
        }
        if (!shadow) break;
      }
      if (!shadow || actions.empty() || requesters.empty() || data.empty()) continue;
      Diagnostic& d = warn("W004", r.span,
                           fmt::format("rule {} can never decide: rules of higher precedence "
                                       "decide every request it matches",
                                       r.id));
      auto most = std::max_element(blame.begin(), blame.end(), [](const auto& x, const auto& y) {
        return x.second < y.second;
      });
      if (most != blame.end()) {
        const CheckedRule& o = p_.rules[most->first];
        d.notes.push_back(
            {o.span, fmt::format("rule {} ({}) decides first", o.id, to_string(o.tier))});
      }
      d.help =
          "remove the rule, narrow the rules above it, or write `@ignore W004` before it "
          "if it is kept on purpose";
    }
  }

  // Whether, whenever rule `r`'s condition holds, one of `over` matches too; counts in
  // `blame` which of them matches first in each case.
  bool always_outranked(const CheckedRule& r, const std::vector<std::size_t>& over,
                        std::map<std::size_t, std::size_t>& blame) const {
    if (over.empty()) return false;
    Atoms atoms;
    atoms.add(r.condition);
    const auto add_consent = [&](const CheckedRule& x) {
      if (x.consent >= 0) atoms.consents.insert(static_cast<std::uint32_t>(x.consent));
    };
    add_consent(r);
    for (const std::size_t j : over) {
      atoms.add(p_.rules[j].condition);
      add_consent(p_.rules[j]);
    }
    const auto i = static_cast<std::size_t>(&r - p_.rules.data());
    bool always = true;
    const bool done = for_each_assignment(p_, atoms, options_.max_atoms, [&](const Assignment& a) {
      if (!holds(r.condition, a)) return true;
      const auto first =
          std::find_if(over.begin(), over.end(), [&](std::size_t j) { return beats(p_, j, i, a); });
      always = first != over.end();
      if (always) ++blame[*first];
      return always;
    });
    return done && always;
  }

  const detail::PolicyImpl& impl_;
  const CheckedPolicy& p_;
  const LintOptions& options_;
  TreeOrder data_order_{p_.data};
  TreeOrder requester_order_{p_.requesters};
  std::vector<Diagnostic> out_;
  std::set<std::size_t> duplicate_;
  std::set<std::size_t> never_;
};

}  // namespace

std::vector<Diagnostic> lint(const Policy& policy, const LintOptions& options) noexcept {
  const detail::PolicyImpl* impl = detail::Access::impl(policy);
  if (impl == nullptr) return {};
  try {
    return Linter(*impl, options).run();
  } catch (const std::exception& e) {
    return {{Severity::warning,
             "W000",
             fmt::format("the linter stopped: {}", e.what()),
             Span{},
             {},
             {}}};
  }
}

}  // namespace clause
