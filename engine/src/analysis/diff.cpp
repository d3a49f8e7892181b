// Stage: analysis. `clause diff`: only requests valid under both versions are compared.
// Names both versions know are grouped into classes that no rule of either version tells
// apart; each class and each assignment of what the relevant conditions read (facts,
// consents, objections, the purpose, the class of attribute values) is decided once by
// both versions.
#include "clause/diff.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <set>

#include "analysis/analysis.hpp"
#include "analysis/attribute_classes.hpp"
#include "analysis/diff_compare.hpp"

namespace clause::detail {
namespace {

const std::vector<dsl::Term>& terms_of(const dsl::CheckedPolicy& c, int kind) {
  return kind == 0 ? c.actions : kind == 1 ? c.requesters : c.data;
}
const dsl::IdSet& set_of(const dsl::CheckedRule& r, int kind) {
  return kind == 0 ? r.actions : kind == 1 ? r.requesters : r.data;
}

std::map<std::string, std::uint32_t> ids_by_name(const std::vector<dsl::Term>& terms) {
  std::map<std::string, std::uint32_t> out;
  for (std::uint32_t i = 0; i < terms.size(); ++i)
    out.emplace(terms[i].name, i);
  return out;
}

// The names of one kind both versions know, grouped by which rules of each version cover
// them; with each class, the first member's id in each version.
struct NameClass {
  std::vector<std::string> names;
  std::uint32_t id[2] = {0, 0};
};

std::vector<NameClass> classes(const dsl::CheckedPolicy& a, const dsl::CheckedPolicy& b, int kind) {
  const auto in_b = ids_by_name(terms_of(b, kind));
  std::map<std::vector<bool>, std::size_t> index;
  std::vector<NameClass> out;
  std::vector<std::pair<std::string, std::array<std::uint32_t, 2>>> common;
  for (std::uint32_t i = 0; i < terms_of(a, kind).size(); ++i) {
    const std::string& name = terms_of(a, kind)[i].name;
    if (auto it = in_b.find(name); it != in_b.end()) common.push_back({name, {i, it->second}});
  }
  std::sort(common.begin(), common.end());
  for (const auto& [name, ids] : common) {
    std::vector<bool> signature;
    signature.reserve(a.rules.size() + b.rules.size());
    for (int v = 0; v < 2; ++v) {
      const dsl::CheckedPolicy& c = v == 0 ? a : b;
      for (const auto& r : c.rules)
        signature.push_back(covers(set_of(r, kind), terms_of(c, kind), ids[v], kind != 0));
    }
    auto [it, fresh] = index.emplace(std::move(signature), out.size());
    if (fresh) out.push_back({{}, {ids[0], ids[1]}});
    out[it->second].names.push_back(name);
  }
  return out;
}

// What one version declares and the other does not, for the report.
DiffNames name_changes(std::string kind, const std::vector<dsl::Term>& before,
                       const std::vector<dsl::Term>& after) {
  DiffNames out;
  out.kind = std::move(kind);
  const auto old_ids = ids_by_name(before);
  const auto new_ids = ids_by_name(after);
  const auto parent = [](const std::vector<dsl::Term>& terms, std::uint32_t id) {
    const std::int32_t p = terms[id].parent;
    return p < 0 ? std::string() : terms[static_cast<std::size_t>(p)].name;
  };
  for (const auto& [name, id] : old_ids) {
    auto it = new_ids.find(name);
    if (it == new_ids.end()) {
      out.removed.push_back(name);
    } else if (parent(before, id) != parent(after, it->second)) {
      out.changed.push_back(name);  // moved in the tree
    }
  }
  for (const auto& [name, id] : new_ids) {
    if (old_ids.count(name) == 0) out.added.push_back(name);
  }
  return out;
}

std::string fmt_key(const DiffSide& x, const DiffSide& y) {
  std::string key;
  for (const DiffSide* s : {&x, &y}) {
    key += std::string(to_string(s->effect)) + "|" + s->clause + "|" + s->consent + "|" + s->error +
           "|";
    for (const std::string& o : s->obligations)
      key += o + ",";
    key += "|";
  }
  return key;
}

}  // namespace

// One version, seen through the facts, consents, objections and purposes both versions
// know (the common vocabulary), so that one partial assignment serves both.
struct Version {
  const dsl::CheckedPolicy* c = nullptr;
  // own id -> common index, or -1: a request valid under both never names it
  std::vector<int> fact_of, consent_of, objection_of, purpose_of;
  std::vector<int> own_purpose;                        // common index -> own id
  const std::vector<std::int32_t>* test_of = nullptr;  // own test -> grid test, or -1
  std::optional<DiffSide> refused;  // a data diff's version without the entry: every decision
};

// What is known of a request so far: -1 unknown, 0 false, 1 true; the purpose -2 when
// unknown, -1 when there is none, else a common index; the class of attribute values -1
// when unknown, else an index into `classes`.
struct Partial {
  std::vector<int> facts, consents, objections;
  int purpose = -2;
  int values = -1;
  const std::vector<TestClass>* classes = nullptr;
};

// The next thing to learn about the request, when a version cannot decide yet.
enum class Learn : std::uint8_t { fact, consent, purpose, objection, values };
struct Split {
  Learn kind = Learn::fact;
  int index = 0;
};

// Three-valued truth of a bit of the request: 0, 1, or 2 for "not known yet".
int bit(const std::vector<int>& known, int u, Learn kind, Split& need) {
  if (u < 0) return 0;  // not in the common vocabulary: never set
  const int value = known[static_cast<std::size_t>(u)];
  if (value >= 0) return value;
  need = {kind, u};
  return 2;
}

// Three-valued truth of a condition: 0, 1, or 2 for "not known yet" (with what to learn).
int truth(const Version& v, const dsl::CheckedCond& c, const Partial& q, Split& need) {
  using ast::CondKind;
  switch (c.kind) {
    case CondKind::fact:
      return bit(q.facts, v.fact_of[c.ids.at(0)], Learn::fact, need);
    case CondKind::consent:
      return bit(q.consents, v.consent_of[c.ids.at(0)], Learn::consent, need);
    case CondKind::objected:
      return bit(q.objections, v.objection_of[c.ids.at(0)], Learn::objection, need);
    case CondKind::attribute: {
      const std::int32_t t = (*v.test_of)[c.ids.at(0)];
      if (t < 0) return 0;  // reads an attribute compared requests leave out
      if (q.values < 0) {
        need = {Learn::values, 0};
        return 2;
      }
      return (*q.classes)[static_cast<std::size_t>(q.values)].answers[static_cast<std::size_t>(t)]
                 ? 1
                 : 0;
    }
    case CondKind::compare:
    case CondKind::member:
    case CondKind::contains:
      return 0;  // the checker makes every comparison an `attribute` leaf
    case CondKind::purpose_is:
    case CondKind::purpose_in: {
      if (q.purpose == -2) {
        need = {Learn::purpose, 0};
        return 2;
      }
      if (q.purpose == -1) return 0;
      const int own = v.own_purpose[static_cast<std::size_t>(q.purpose)];
      return std::any_of(c.ids.begin(), c.ids.end(),
                         [&](std::uint32_t id) { return purpose_under(v.c->purposes, own, id); })
                 ? 1
                 : 0;
    }
    case CondKind::negation: {
      const int t = truth(v, c.children.at(0), q, need);
      return t == 2 ? 2 : 1 - t;
    }
    case CondKind::all:
    case CondKind::any: {
      const int stop = c.kind == CondKind::all ? 0 : 1;
      Split first;
      bool unknown = false;
      for (const auto& child : c.children) {
        Split here;
        const int t = truth(v, child, q, here);
        if (t == stop) return stop;
        if (t == 2 && !unknown) {
          unknown = true;
          first = here;
        }
      }
      if (unknown) {
        need = first;
        return 2;
      }
      return 1 - stop;
    }
  }
  return 0;
}

// Decides the request as far as it is known, with the reference evaluator's semantics, or
// says what must be learnt first. `rules` are the version's rules covering the request's
// names, in file order.
std::optional<DiffSide> decide(const Version& v, const std::vector<std::size_t>& rules,
                               const Partial& q, Split& need) {
  if (v.refused) return v.refused;
  const dsl::CheckedPolicy& c = *v.c;
  const auto side = [&](std::size_t r, Effect e, std::uint32_t clause, bool own_allow) {
    const dsl::CheckedRule& rule = c.rules[r];
    DiffSide s{
        e,
        c.clauses[clause].id,
        e == Effect::require_consent ? c.consents[static_cast<std::size_t>(rule.consent)].name : "",
        rule.id,
        {},
        {}};
    // Only a rule's own allow carries its duties; a met consent requirement does not.
    if (own_allow && e == Effect::allow) {
      for (const std::uint32_t o : rule.obligations)
        s.obligations.push_back(c.obligations[o].name);
      std::sort(s.obligations.begin(), s.obligations.end());
    }
    return s;
  };
  const auto met_clause = [&](const dsl::CheckedRule& r) {
    const std::int32_t m = c.consents[static_cast<std::size_t>(r.consent)].clause;
    return m >= 0 ? static_cast<std::uint32_t>(m) : r.clause;
  };
  for (const dsl::Tier tier :
       {dsl::Tier::effective, dsl::Tier::first, dsl::Tier::exclusion, dsl::Tier::prohibition,
        dsl::Tier::permission, dsl::Tier::consent, dsl::Tier::fallback}) {
    std::optional<std::size_t> first_granted;
    for (const std::size_t r : rules) {
      const dsl::CheckedRule& rule = c.rules[r];
      if (rule.tier != tier) continue;
      const int t = rule.condition ? truth(v, *rule.condition, q, need) : 1;
      if (t == 2) return std::nullopt;
      if (t == 0) continue;
      const bool has_consent = rule.consent >= 0;
      int g = 0;
      if (has_consent && tier >= dsl::Tier::consent) {
        g = bit(q.consents, v.consent_of[static_cast<std::size_t>(rule.consent)], Learn::consent,
                need);
        if (g == 2) return std::nullopt;
      }
      switch (tier) {
        case dsl::Tier::effective:
        case dsl::Tier::first:
          return side(r, rule.effect, rule.clause, true);
        case dsl::Tier::exclusion:
        case dsl::Tier::permission:
          return side(r, Effect::allow, rule.clause, true);
        case dsl::Tier::prohibition:
          return side(r, Effect::deny, rule.clause, false);
        case dsl::Tier::consent:
          if (g == 0) return side(r, Effect::require_consent, rule.clause, false);
          if (!first_granted) first_granted = r;
          break;
        case dsl::Tier::fallback:
          if (has_consent) {
            return g == 1 ? side(r, Effect::allow, met_clause(rule), false)
                          : side(r, Effect::require_consent, rule.clause, false);
          }
          return side(r, rule.effect == ast::Effect::allow ? Effect::allow : Effect::deny,
                      rule.clause, true);
      }
    }
    if (first_granted) {
      return side(*first_granted, Effect::allow, met_clause(c.rules[*first_granted]), false);
    }
  }
  return DiffSide{Effect::deny, c.clauses[c.default_clause].id, "", "", {}, {}};
}

Diff diff_impl(const Policy& before, const Policy& after) {
  Diff out;
  const PolicyImpl* pa = Access::impl(before);
  const PolicyImpl* pb = Access::impl(after);
  if (pa == nullptr || pb == nullptr) return out;
  const dsl::CheckedPolicy& a = pa->checked();
  const dsl::CheckedPolicy& b = pb->checked();

  for (DiffNames n : {name_changes("actions", a.actions, b.actions),
                      name_changes("requesters", a.requesters, b.requesters),
                      name_changes("data", a.data, b.data), name_changes("facts", a.facts, b.facts),
                      name_changes("consents", a.consents, b.consents),
                      name_changes("purposes", a.purposes, b.purposes),
                      name_changes("objections", a.objections, b.objections),
                      name_changes("obligations", a.obligations, b.obligations)}) {
    if (!n.added.empty() || !n.removed.empty() || !n.changed.empty()) out.names.push_back(n);
  }
  {
    DiffNames n;
    n.kind = "attributes";
    std::map<std::string, const dsl::AttributeInfo*> old_attributes;
    for (const auto& info : a.attributes)
      old_attributes.emplace(info.path, &info);
    for (const auto& info : b.attributes) {
      auto it = old_attributes.find(info.path);
      if (it == old_attributes.end()) {
        n.added.push_back(info.path);
        continue;
      }
      if (it->second->type != info.type || it->second->optional != info.optional)
        n.changed.push_back(info.path);
      old_attributes.erase(it);
    }
    for (const auto& [path, info] : old_attributes)
      n.removed.push_back(path);
    std::sort(n.added.begin(), n.added.end());
    std::sort(n.changed.begin(), n.changed.end());
    if (!n.added.empty() || !n.removed.empty() || !n.changed.empty()) out.names.push_back(n);
  }

  compare_versions(*pa, *pb, nullptr, out);
  return out;
}

void compare_versions(const PolicyImpl& before, const PolicyImpl& after, const Pinning* pin,
                      Diff& out) {
  const dsl::CheckedPolicy& a = before.checked();
  const dsl::CheckedPolicy& b = after.checked();
  Merged merged = merge_attributes(a, b);
  if (!merged.comparable) return;  // no request is valid under both versions
  FixedValues fixed = pin != nullptr ? pin_attributes(merged, a, *pin) : FixedValues{};
  TestClassCache value_classes(merged.grid, std::move(fixed));
  const TestClasses& no_tests = value_classes.of({});

  const auto action_classes = classes(a, b, 0);
  const auto requester_classes = classes(a, b, 1);
  const auto data_classes = classes(a, b, 2);
  // The facts, consents, objections and purposes both versions know, sorted.
  const auto common = [](const std::vector<dsl::Term>& x, const std::vector<dsl::Term>& y) {
    const auto in_y = ids_by_name(y);
    std::vector<std::string> names;
    for (const auto& t : x) {
      if (in_y.count(t.name) != 0) names.push_back(t.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::vector<std::string> fact_names = common(a.facts, b.facts);
  const std::vector<std::string> consent_names = common(a.consents, b.consents);
  const std::vector<std::string> objection_names = common(a.objections, b.objections);
  const std::vector<std::string> purpose_names = common(a.purposes, b.purposes);
  const auto version = [&](const dsl::CheckedPolicy& c, int side) {
    Version v;
    v.c = &c;
    v.test_of = &merged.test_of[side];
    const auto map = [](const std::vector<dsl::Term>& own, const std::vector<std::string>& names,
                        std::vector<int>& to_common) {
      for (const auto& t : own) {
        auto it = std::lower_bound(names.begin(), names.end(), t.name);
        to_common.push_back(
            it != names.end() && *it == t.name ? static_cast<int>(it - names.begin()) : -1);
      }
    };
    map(c.facts, fact_names, v.fact_of);
    map(c.consents, consent_names, v.consent_of);
    map(c.objections, objection_names, v.objection_of);
    map(c.purposes, purpose_names, v.purpose_of);
    v.own_purpose.assign(purpose_names.size(), -1);
    for (std::size_t id = 0; id < v.purpose_of.size(); ++id) {
      if (v.purpose_of[id] >= 0)
        v.own_purpose[static_cast<std::size_t>(v.purpose_of[id])] = static_cast<int>(id);
    }
    return v;
  };
  Version va = version(a, 0);
  Version vb = version(b, 1);
  if (pin != nullptr) {
    for (int side = 0; side < 2; ++side) {
      if (!pin->refused[side]) continue;
      const dsl::CheckedPolicy& c = side == 0 ? a : b;
      (side == 0 ? va : vb).refused =
          DiffSide{Effect::deny, c.clauses[c.default_clause].id, "", "", {}, *pin->refused[side]};
    }
  }

  // The same rule in both versions decides the same requests alike, as long as the words
  // its conditions use mean the same: the purpose tree and the attributes.
  const auto same_terms = [](const std::vector<dsl::Term>& x, const std::vector<dsl::Term>& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                      [](const dsl::Term& s, const dsl::Term& t) {
                        return s.name == t.name && s.parent == t.parent;
                      });
  };
  const bool same_meaning =
      same_terms(a.purposes, b.purposes) &&
      std::equal(a.attributes.begin(), a.attributes.end(), b.attributes.begin(), b.attributes.end(),
                 [](const dsl::AttributeInfo& x, const dsl::AttributeInfo& y) {
                   return x.path == y.path && x.type == y.type && x.optional == y.optional;
                 });
  // Each rule as a key both versions share: the same key means the same rule. The checked
  // condition is part of it, as a clause's dates are folded in there.
  std::map<std::string, std::uint32_t> interned;
  const auto rule_keys = [&](const PolicyImpl& p) {
    std::vector<std::uint32_t> keys;
    for (const auto& r : p.checked().rules) {
      std::string key(p.source.text.substr(r.span.begin, r.span.end - r.span.begin));
      std::string folded;
      for (const char ch : key) {
        const bool blank = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
        if (blank && (folded.empty() || folded.back() == ' ')) continue;
        folded += blank ? ' ' : ch;
      }
      if (r.consent >= 0) {
        const std::int32_t met = p.checked().consents[static_cast<std::size_t>(r.consent)].clause;
        folded += " met:" + (met >= 0 ? p.checked().clauses[static_cast<std::size_t>(met)].id : "");
      }
      if (r.condition) folded += " if:" + condition_text(p.checked(), *r.condition);
      keys.push_back(
          interned.emplace(folded, static_cast<std::uint32_t>(interned.size())).first->second);
    }
    return keys;
  };
  const std::vector<std::uint32_t> keys_a = rule_keys(before);
  const std::vector<std::uint32_t> keys_b = rule_keys(after);
  // The grid tests each rule's condition reads.
  const auto tests_read = [](const Version& v) {
    std::vector<std::vector<std::uint32_t>> per_rule;
    for (const auto& r : v.c->rules) {
      Atoms atoms;
      atoms.add(r.condition);
      std::vector<std::uint32_t> mine;
      for (const std::uint32_t t : atoms.tests) {
        if ((*v.test_of)[t] >= 0) mine.push_back(static_cast<std::uint32_t>((*v.test_of)[t]));
      }
      per_rule.push_back(std::move(mine));
    }
    return per_rule;
  };
  const auto tests_a = tests_read(va);
  const auto tests_b = tests_read(vb);
  // A data diff: the rules reading what it pins decide differently with each version's
  // entry, even where the texts agree.
  std::vector<bool> reads_pinned(a.rules.size(), false);
  for (std::size_t r = 0; r < a.rules.size() && !merged.pinned.empty(); ++r) {
    for (const std::uint32_t t : tests_a[r]) {
      const dsl::AttributeTest& test = merged.grid.tests[t];
      if (merged.pinned[test.lhs] ||
          (test.rhs >= 0 && merged.pinned[static_cast<std::size_t>(test.rhs)]))
        reads_pinned[r] = true;
    }
  }
  const bool refused = va.refused || vb.refused;
  // Per version and class, the rules covering the class's first name.
  using Bits = std::vector<std::uint64_t>;
  const auto coverage = [](const dsl::CheckedPolicy& c, int kind, int side,
                           const std::vector<NameClass>& cls) {
    std::vector<Bits> result;
    const auto& terms = terms_of(c, kind);
    for (const auto& members : cls) {
      Bits bits((c.rules.size() + 63) / 64, 0);
      for (std::size_t r = 0; r < c.rules.size(); ++r) {
        if (covers(set_of(c.rules[r], kind), terms, members.id[side], kind != 0))
          bits[r / 64] |= std::uint64_t{1} << (r % 64);
      }
      result.push_back(std::move(bits));
    }
    return result;
  };
  const std::vector<Bits> cover_a[3] = {coverage(a, 0, 0, action_classes),
                                        coverage(a, 1, 0, requester_classes),
                                        coverage(a, 2, 0, data_classes)};
  const std::vector<Bits> cover_b[3] = {coverage(b, 0, 1, action_classes),
                                        coverage(b, 1, 1, requester_classes),
                                        coverage(b, 2, 1, data_classes)};
  // The rules that cover a class triple, in file order.
  const auto covering = [](const std::vector<Bits>* cover, std::size_t x, std::size_t y,
                           std::size_t z) {
    std::vector<std::size_t> rules;
    for (std::size_t w = 0; w < cover[0][x].size(); ++w) {
      std::uint64_t word = cover[0][x][w] & cover[1][y][w] & cover[2][z][w];
      while (word != 0) {
        rules.push_back(w * 64 + static_cast<std::size_t>(__builtin_ctzll(word)));
        word &= word - 1;
      }
    }
    return rules;
  };
  const std::uint64_t requests_per_name_triple =
      (purpose_names.size() + 1) *
      (std::uint64_t{1} << (fact_names.size() + consent_names.size() + objection_names.size()));
  std::map<std::tuple<std::size_t, std::size_t, std::size_t, std::string>, std::size_t> region_at;
  const std::vector<std::size_t> no_rules;  // without attribute tests, nothing to collect

  for (std::size_t ai = 0; ai < action_classes.size(); ++ai) {
    for (std::size_t qi = 0; qi < requester_classes.size(); ++qi) {
      for (std::size_t di = 0; di < data_classes.size(); ++di) {
        const std::vector<std::size_t> rules_a = covering(cover_a, ai, qi, di);
        const std::vector<std::size_t> rules_b = covering(cover_b, ai, qi, di);
        // The classes of attribute values the rules here tell apart: each counts as one
        // request.
        std::set<std::uint32_t> read;
        for (const std::size_t r : merged.grid.tests.empty() ? no_rules : rules_a)
          read.insert(tests_a[r].begin(), tests_a[r].end());
        for (const std::size_t r : merged.grid.tests.empty() ? no_rules : rules_b)
          read.insert(tests_b[r].begin(), tests_b[r].end());
        const TestClasses& values =
            read.empty() ? no_tests
                         : value_classes.of(std::vector<std::uint32_t>(read.begin(), read.end()));
        if (!values.complete) {
          out.complete = false;  // too many values to enumerate: never sampled
          continue;
        }
        const std::uint64_t class_size = action_classes[ai].names.size() *
                                         requester_classes[qi].names.size() *
                                         data_classes[di].names.size();
        if (same_meaning && !refused &&
            std::none_of(rules_a.begin(), rules_a.end(),
                         [&](std::size_t r) { return reads_pinned[r]; }) &&
            std::equal(rules_a.begin(), rules_a.end(), rules_b.begin(), rules_b.end(),
                       [&](std::size_t x, std::size_t y) { return keys_a[x] == keys_b[y]; })) {
          // The same rules, in the same order, decide alike: nothing to enumerate.
          out.total += class_size * requests_per_name_triple * values.classes.size();
          continue;
        }
        // Decide the class triple by learning facts, consents, objections, the purpose and
        // the class of values only as the two versions need them; each leaf is a region of
        // requests decided alike.
        // A concrete request of the leaf: the first name of each class, the bits learnt
        // true, and the values of its class of values (any class, when none was needed).
        const auto witness = [&](const Partial& now, const std::vector<TestClass>& cls,
                                 std::vector<Attribute>& looked_up) {
          Request w;
          w.action = action_classes[ai].names.front();
          w.requester = requester_classes[qi].names.front();
          w.data = data_classes[di].names.front();
          w.requester_id = "witness";
          if (now.purpose >= 0) w.purpose = purpose_names[static_cast<std::size_t>(now.purpose)];
          for (std::size_t f = 0; f < now.facts.size(); ++f) {
            if (now.facts[f] == 1) w.facts.push_back(fact_names[f]);
          }
          for (std::size_t k = 0; k < now.consents.size(); ++k) {
            if (now.consents[k] == 1) w.consent.push_back(consent_names[k]);
          }
          for (std::size_t o = 0; o < now.objections.size(); ++o) {
            if (now.objections[o] == 1) w.objections.push_back(objection_names[o]);
          }
          const std::vector<Value>& given =
              cls[static_cast<std::size_t>(std::max(now.values, 0))].values;
          for (std::size_t i = 0; i < given.size(); ++i) {
            if (!merged.pinned.empty() && merged.pinned[i]) continue;  // read from the data
            const std::string& path = merged.grid.attributes[i].path;
            // The request's own id carries `requester.id`: a version that does not declare
            // it ignores the id, where it would refuse an attribute it does not know.
            if (path == "requester.id") {
              const auto* id = std::get_if<std::string>(&given[i]);
              w.requester_id = id != nullptr ? *id : "";
            } else if (merged.grid.attributes[i].lookup) {
              // A request cannot give it: the data must hold it.
              if (!std::holds_alternative<std::monostate>(given[i]))
                looked_up.push_back({path, given[i]});
            } else if (!std::holds_alternative<std::monostate>(given[i])) {
              w.attributes.push_back({path, given[i]});
            }
          }
          return w;
        };
        Partial q;
        q.facts.assign(fact_names.size(), -1);
        q.consents.assign(consent_names.size(), -1);
        q.objections.assign(objection_names.size(), -1);
        q.classes = &values.classes;
        std::function<void(Partial&)> search = [&](Partial& now) {
          Split need_a, need_b;
          const std::optional<DiffSide> x = decide(va, rules_a, now, need_a);
          const std::optional<DiffSide> y = decide(vb, rules_b, now, need_b);
          if (x && y) {
            std::uint64_t free_bits = 0;
            for (const std::vector<int>* bits : {&now.facts, &now.consents, &now.objections}) {
              for (const int known : *bits)
                free_bits += known < 0 ? 1 : 0;
            }
            const std::uint64_t purposes_here = now.purpose == -2 ? purpose_names.size() + 1 : 1;
            const std::uint64_t values_here = now.values < 0 ? values.classes.size() : 1;
            const std::uint64_t size =
                class_size * purposes_here * values_here * (std::uint64_t{1} << free_bits);
            out.total += size;
            if (*x == *y) return;
            out.changed += size;
            auto [it, fresh] =
                region_at.emplace(std::tuple{ai, qi, di, fmt_key(*x, *y)}, out.regions.size());
            if (fresh) {
              std::vector<Attribute> looked_up;
              Request w = witness(now, values.classes, looked_up);
              out.regions.push_back({action_classes[ai].names,
                                     requester_classes[qi].names,
                                     data_classes[di].names,
                                     *x,
                                     *y,
                                     std::move(w),
                                     0,
                                     {},
                                     std::move(looked_up),
                                     {},
                                     {}});
            }
            DiffRegion& region = out.regions[it->second];
            region.requests += size;
            if (now.values >= 0) {
              for (const std::uint32_t t : read) {
                const dsl::AttributeTest& test = merged.grid.tests[t];
                for (const std::int32_t at : {static_cast<std::int32_t>(test.lhs), test.rhs}) {
                  if (at < 0) continue;
                  // A data diff's pinned values are one value each, not classes.
                  if (!merged.pinned.empty() && merged.pinned[static_cast<std::size_t>(at)])
                    continue;
                  const std::string& path =
                      merged.grid.attributes[static_cast<std::size_t>(at)].path;
                  if (std::find(region.attributes.begin(), region.attributes.end(), path) ==
                      region.attributes.end())
                    region.attributes.push_back(path);
                }
              }
            }
            return;
          }
          const Split need = x ? need_b : need_a;
          switch (need.kind) {
            case Learn::purpose:
              for (int purpose = -1; purpose < static_cast<int>(purpose_names.size()); ++purpose) {
                now.purpose = purpose;
                search(now);
              }
              now.purpose = -2;
              return;
            case Learn::values:
              for (int k = 0; k < static_cast<int>(values.classes.size()); ++k) {
                now.values = k;
                search(now);
              }
              now.values = -1;
              return;
            default:
              break;
          }
          std::vector<int>& slot = need.kind == Learn::fact      ? now.facts
                                   : need.kind == Learn::consent ? now.consents
                                                                 : now.objections;
          for (const int value : {0, 1}) {
            slot[static_cast<std::size_t>(need.index)] = value;
            search(now);
          }
          slot[static_cast<std::size_t>(need.index)] = -1;
        };
        search(q);
      }
    }
  }
}

}  // namespace clause::detail

namespace clause {

Diff diff_policies(const Policy& before, const Policy& after) noexcept {
  return detail::whole_or_incomplete<Diff>([&] { return detail::diff_impl(before, after); });
}

}  // namespace clause
