// Stage: analysis. `clause diff`: names from both versions are grouped into classes that
// no rule of either version tells apart; each class and each assignment of what the
// relevant conditions read is decided once by both versions.
#include "clause/diff.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "analysis/analysis.hpp"
#include "core/policy_impl.hpp"

namespace clause::detail {
namespace {

const std::vector<dsl::Term>& terms_of(const dsl::CheckedPolicy& c, int kind) {
  return kind == 0 ? c.actions : kind == 1 ? c.requesters : c.data;
}
const dsl::IdSet& set_of(const dsl::CheckedRule& r, int kind) {
  return kind == 0 ? r.actions : kind == 1 ? r.requesters : r.data;
}

// The names of one kind in either version, grouped by which rules of each version cover them.
std::vector<std::vector<std::string>> classes(const dsl::CheckedPolicy& a,
                                              const dsl::CheckedPolicy& b, int kind) {
  std::set<std::string> names;
  for (const auto& t : terms_of(a, kind))
    names.insert(t.name);
  for (const auto& t : terms_of(b, kind))
    names.insert(t.name);
  std::map<std::vector<int>, std::size_t> index;
  std::vector<std::vector<std::string>> out;
  for (const std::string& name : names) {
    std::vector<int> signature;
    for (const dsl::CheckedPolicy* c : {&a, &b}) {
      const auto& terms = terms_of(*c, kind);
      auto it = std::find_if(terms.begin(), terms.end(),
                             [&](const dsl::Term& t) { return t.name == name; });
      if (it == terms.end()) {
        signature.push_back(-1);  // unknown to this version: every request naming it is denied
        continue;
      }
      const auto id = static_cast<std::uint32_t>(it - terms.begin());
      for (const auto& r : c->rules)
        signature.push_back(covers(set_of(r, kind), terms, id, kind != 0) ? 1 : 0);
    }
    auto [it, fresh] = index.emplace(std::move(signature), out.size());
    if (fresh) out.emplace_back();
    out[it->second].push_back(name);
  }
  return out;
}

std::string fmt_key(const DiffSide& x, const DiffSide& y) {
  return std::string(to_string(x.effect)) + "|" + x.clause + "|" + x.consent + "|" +
         std::string(to_string(y.effect)) + "|" + y.clause + "|" + y.consent;
}

}  // namespace

// One version, seen through the facts, consents and purposes both versions know (the
// "union" vocabulary), so that one partial assignment serves both.
struct Version {
  const PolicyImpl* p = nullptr;
  std::vector<int> fact_of, consent_of, purpose_of;     // own id -> union index
  std::vector<int> own_fact, own_consent, own_purpose;  // union index -> own id, or -1
};

// What is known of a request so far: -1 unknown, 0 false, 1 true; the purpose -2 when
// unknown, -1 when there is none, else a union index.
struct Partial {
  std::vector<int> facts, consents;
  int purpose = -2;
};

// The next thing to learn about the request, when a version cannot decide yet.
struct Split {
  int kind = 0;  // 0 fact, 1 consent, 2 purpose
  int index = 0;
};

// Three-valued truth of a condition: 0, 1, or 2 for "not known yet" (with what to learn).
int truth(const Version& v, const dsl::CheckedCond& c, const Partial& q, Split& need) {
  using ast::CondKind;
  switch (c.kind) {
    case CondKind::fact: {
      const int u = v.fact_of[c.ids.at(0)];
      if (q.facts[static_cast<std::size_t>(u)] < 0) need = {0, u};
      return q.facts[static_cast<std::size_t>(u)] < 0 ? 2 : q.facts[static_cast<std::size_t>(u)];
    }
    case CondKind::consent: {
      const int u = v.consent_of[c.ids.at(0)];
      if (q.consents[static_cast<std::size_t>(u)] < 0) need = {1, u};
      return q.consents[static_cast<std::size_t>(u)] < 0 ? 2
                                                         : q.consents[static_cast<std::size_t>(u)];
    }
    case CondKind::objected:
    case CondKind::attribute:
    case CondKind::compare:
    case CondKind::member:
      // Not read here: diff_impl declines policies with objections or attribute tests.
      return 0;
    case CondKind::purpose_is:
    case CondKind::purpose_in:
      if (q.purpose == -2) {
        need = {2, 0};
        return 2;
      }
      return std::any_of(c.ids.begin(), c.ids.end(),
                         [&](std::uint32_t id) { return v.purpose_of[id] == q.purpose; })
                 ? 1
                 : 0;
    case CondKind::negation: {
      const int t = truth(v, c.children.at(0), q, need);
      return t == 2 ? 2 : 1 - t;
    }
    case CondKind::all:
    case CondKind::any: {
      const int stop = c.kind == CondKind::all ? 0 : 1;
      int result = 1 - stop;
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
        result = 2;
      }
      return result;
    }
  }
  return 0;
}

// Decides the request as far as it is known, with the reference evaluator's semantics, or
// says what must be learnt first. `rules` are the version's rules covering the request's
// names, in file order; `known` is false when the version does not know one of the names.
std::optional<DiffSide> decide(const Version& v, const std::vector<std::size_t>& rules, bool known,
                               const Partial& q, Split& need) {
  const dsl::CheckedPolicy& c = v.p->checked();
  const DiffSide invalid{Effect::deny, "default", "", ""};
  if (!known) return invalid;
  // A fact, consent or purpose this version does not declare makes the request invalid.
  for (std::size_t u = 0; u < v.own_fact.size(); ++u) {
    if (v.own_fact[u] >= 0) continue;
    if (q.facts[u] == 1) return invalid;
    if (q.facts[u] < 0) {
      need = {0, static_cast<int>(u)};
      return std::nullopt;
    }
  }
  for (std::size_t u = 0; u < v.own_consent.size(); ++u) {
    if (v.own_consent[u] >= 0) continue;
    if (q.consents[u] == 1) return invalid;
    if (q.consents[u] < 0) {
      need = {1, static_cast<int>(u)};
      return std::nullopt;
    }
  }
  const bool odd_purposes =
      std::any_of(v.own_purpose.begin(), v.own_purpose.end(), [](int id) { return id < 0; });
  if (odd_purposes && q.purpose == -2) {
    need = {2, 0};
    return std::nullopt;
  }
  if (q.purpose >= 0 && v.own_purpose[static_cast<std::size_t>(q.purpose)] < 0) return invalid;

  const auto side = [&](std::size_t r, Effect e, std::uint32_t clause) {
    const dsl::CheckedRule& rule = c.rules[r];
    return DiffSide{
        e, c.clauses[clause].id,
        e == Effect::require_consent ? c.consents[static_cast<std::size_t>(rule.consent)].name : "",
        rule.id};
  };
  const auto granted = [&](const dsl::CheckedRule& r) {
    return q.consents[static_cast<std::size_t>(v.consent_of[static_cast<std::size_t>(r.consent)])];
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
      const int g = has_consent ? granted(rule) : 0;
      if (has_consent && g < 0 && tier >= dsl::Tier::consent) {
        need = {1, v.consent_of[static_cast<std::size_t>(rule.consent)]};
        return std::nullopt;
      }
      switch (tier) {
        case dsl::Tier::effective:
        case dsl::Tier::first:
          return side(r, rule.effect, rule.clause);
        case dsl::Tier::exclusion:
        case dsl::Tier::permission:
          return side(r, Effect::allow, rule.clause);
        case dsl::Tier::prohibition:
          return side(r, Effect::deny, rule.clause);
        case dsl::Tier::consent:
          if (g == 0) return side(r, Effect::require_consent, rule.clause);
          if (!first_granted) first_granted = r;
          break;
        case dsl::Tier::fallback:
          if (has_consent) {
            return g == 1 ? side(r, Effect::allow, met_clause(rule))
                          : side(r, Effect::require_consent, rule.clause);
          }
          return side(r, rule.effect == ast::Effect::allow ? Effect::allow : Effect::deny,
                      rule.clause);
      }
    }
    if (first_granted) {
      return side(*first_granted, Effect::allow, met_clause(c.rules[*first_granted]));
    }
  }
  return DiffSide{Effect::deny, c.clauses[c.default_clause].id, "", ""};
}

Diff diff_impl(const Policy& before, const Policy& after) {
  Diff out;
  const PolicyImpl* pa = Access::impl(before);
  const PolicyImpl* pb = Access::impl(after);
  if (pa == nullptr || pb == nullptr) return out;
  const dsl::CheckedPolicy& a = pa->checked();
  const dsl::CheckedPolicy& b = pb->checked();
  if (!a.tests.empty() || !b.tests.empty() || !a.objections.empty() || !b.objections.empty() ||
      !a.attributes.empty() || !b.attributes.empty()) {
    out.complete = false;  // attributes and objections are not compared yet
    return out;
  }
  const auto action_classes = classes(a, b, 0);
  const auto requester_classes = classes(a, b, 1);
  const auto data_classes = classes(a, b, 2);
  std::set<std::string> all_facts, all_consents, all_purposes;
  for (const dsl::CheckedPolicy* c : {&a, &b}) {
    for (const auto& t : c->facts)
      all_facts.insert(t.name);
    for (const auto& t : c->consents)
      all_consents.insert(t.name);
    for (const auto& t : c->purposes)
      all_purposes.insert(t.name);
  }
  // A fact, consent or purpose only one version declares makes a request that names it
  // invalid, and so denied, in the other: it matters everywhere.
  const auto one_sided = [](const std::vector<dsl::Term>& x, const std::vector<dsl::Term>& y) {
    std::set<std::string> in_x, in_y, odd;
    for (const auto& t : x)
      in_x.insert(t.name);
    for (const auto& t : y)
      in_y.insert(t.name);
    for (const auto& n : in_x) {
      if (in_y.count(n) == 0) odd.insert(n);
    }
    for (const auto& n : in_y) {
      if (in_x.count(n) == 0) odd.insert(n);
    }
    return odd;
  };
  const std::set<std::string> odd_facts = one_sided(a.facts, b.facts);
  const std::set<std::string> odd_consents = one_sided(a.consents, b.consents);
  const std::set<std::string> odd_purposes = one_sided(a.purposes, b.purposes);
  const std::vector<std::string> fact_names(all_facts.begin(), all_facts.end());
  const std::vector<std::string> consent_names(all_consents.begin(), all_consents.end());
  const std::vector<std::string> purpose_names(all_purposes.begin(), all_purposes.end());
  const auto version = [&](const PolicyImpl* p) {
    Version v;
    v.p = p;
    const auto map = [](const std::vector<dsl::Term>& own, const std::vector<std::string>& names,
                        std::vector<int>& to_union, std::vector<int>& from_union) {
      from_union.assign(names.size(), -1);
      for (const auto& t : own) {
        const auto u =
            static_cast<int>(std::lower_bound(names.begin(), names.end(), t.name) - names.begin());
        to_union.push_back(u);
        from_union[static_cast<std::size_t>(u)] = static_cast<int>(to_union.size() - 1);
      }
    };
    map(p->checked().facts, fact_names, v.fact_of, v.own_fact);
    map(p->checked().consents, consent_names, v.consent_of, v.own_consent);
    map(p->checked().purposes, purpose_names, v.purpose_of, v.own_purpose);
    return v;
  };
  const Version va = version(pa);
  const Version vb = version(pb);
  std::map<std::tuple<std::size_t, std::size_t, std::size_t, std::string>, std::size_t> region_at;
  const bool same_vocabulary = odd_facts.empty() && odd_consents.empty() && odd_purposes.empty();

  // Each rule as a key both versions share: the same key means the same rule.
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
      keys.push_back(
          interned.emplace(folded, static_cast<std::uint32_t>(interned.size())).first->second);
    }
    return keys;
  };
  const std::vector<std::uint32_t> keys_a = rule_keys(*pa);
  const std::vector<std::uint32_t> keys_b = rule_keys(*pb);
  // Per version and class, the rules covering the class's first name (all rules when the
  // version does not know the name: then nothing is skipped).
  using Bits = std::vector<std::uint64_t>;
  const auto coverage = [](const dsl::CheckedPolicy& c, int kind,
                           const std::vector<std::vector<std::string>>& cls) {
    std::vector<std::optional<Bits>> result;
    const auto& terms = terms_of(c, kind);
    for (const auto& members : cls) {
      auto it = std::find_if(terms.begin(), terms.end(),
                             [&](const dsl::Term& t) { return t.name == members.front(); });
      if (it == terms.end()) {
        result.emplace_back(std::nullopt);
        continue;
      }
      const auto id = static_cast<std::uint32_t>(it - terms.begin());
      Bits bits((c.rules.size() + 63) / 64, 0);
      for (std::size_t r = 0; r < c.rules.size(); ++r) {
        if (covers(set_of(c.rules[r], kind), terms, id, kind != 0))
          bits[r / 64] |= std::uint64_t{1} << (r % 64);
      }
      result.emplace_back(std::move(bits));
    }
    return result;
  };
  const std::vector<std::optional<Bits>> cover_a[3] = {coverage(a, 0, action_classes),
                                                       coverage(a, 1, requester_classes),
                                                       coverage(a, 2, data_classes)};
  const std::vector<std::optional<Bits>> cover_b[3] = {coverage(b, 0, action_classes),
                                                       coverage(b, 1, requester_classes),
                                                       coverage(b, 2, data_classes)};
  // The keys of the rules that cover a class triple, in file order; empty when unknown.
  const auto relevant = [](const std::vector<std::optional<Bits>>* cover,
                           const std::vector<std::uint32_t>& keys, std::size_t x, std::size_t y,
                           std::size_t z) -> std::optional<std::vector<std::uint32_t>> {
    if (!cover[0][x] || !cover[1][y] || !cover[2][z]) return std::nullopt;
    std::vector<std::uint32_t> keys_here;
    for (std::size_t w = 0; w < cover[0][x]->size(); ++w) {
      std::uint64_t word = (*cover[0][x])[w] & (*cover[1][y])[w] & (*cover[2][z])[w];
      while (word != 0) {
        const auto bit = static_cast<std::size_t>(__builtin_ctzll(word));
        keys_here.push_back(keys[w * 64 + bit]);
        word &= word - 1;
      }
    }
    return keys_here;
  };
  const std::uint64_t requests_per_name_triple =
      (all_purposes.size() + 1) * (std::uint64_t{1} << (all_facts.size() + all_consents.size()));

  for (std::size_t ai = 0; ai < action_classes.size(); ++ai) {
    for (std::size_t qi = 0; qi < requester_classes.size(); ++qi) {
      for (std::size_t di = 0; di < data_classes.size(); ++di) {
        const std::string& action = action_classes[ai].front();
        const std::string& requester = requester_classes[qi].front();
        const std::string& data = data_classes[di].front();
        if (same_vocabulary) {
          // The same rules, in the same order, decide alike: nothing to enumerate.
          const auto ra = relevant(cover_a, keys_a, ai, qi, di);
          const auto rb = relevant(cover_b, keys_b, ai, qi, di);
          if (ra && rb && *ra == *rb) {
            out.total += action_classes[ai].size() * requester_classes[qi].size() *
                         data_classes[di].size() * requests_per_name_triple;
            continue;
          }
        }
        // Decide the class triple by learning facts, consents and the purpose only as the
        // two versions need them; each leaf is a region of requests decided alike.
        const auto indices = [](const std::vector<std::optional<Bits>>* cover, std::size_t x,
                                std::size_t y, std::size_t z, std::vector<std::size_t>& rules) {
          if (!cover[0][x] || !cover[1][y] || !cover[2][z]) return false;
          for (std::size_t w = 0; w < cover[0][x]->size(); ++w) {
            std::uint64_t word = (*cover[0][x])[w] & (*cover[1][y])[w] & (*cover[2][z])[w];
            while (word != 0) {
              rules.push_back(w * 64 + static_cast<std::size_t>(__builtin_ctzll(word)));
              word &= word - 1;
            }
          }
          return true;
        };
        std::vector<std::size_t> rules_a, rules_b;
        const bool known_a = indices(cover_a, ai, qi, di, rules_a);
        const bool known_b = indices(cover_b, ai, qi, di, rules_b);
        const std::uint64_t class_size =
            action_classes[ai].size() * requester_classes[qi].size() * data_classes[di].size();
        Partial q;
        q.facts.assign(fact_names.size(), -1);
        q.consents.assign(consent_names.size(), -1);
        std::function<void(Partial&)> search = [&](Partial& now) {
          Split need_a, need_b;
          const std::optional<DiffSide> x = decide(va, rules_a, known_a, now, need_a);
          const std::optional<DiffSide> y = decide(vb, rules_b, known_b, now, need_b);
          if (x && y) {
            std::uint64_t free_bits = 0;
            for (const int f : now.facts)
              free_bits += f < 0 ? 1 : 0;
            for (const int k : now.consents)
              free_bits += k < 0 ? 1 : 0;
            const std::uint64_t purposes_here = now.purpose == -2 ? purpose_names.size() + 1 : 1;
            const std::uint64_t size = class_size * purposes_here * (std::uint64_t{1} << free_bits);
            out.total += size;
            if (*x == *y) return;
            out.changed += size;
            const std::string key = fmt_key(*x, *y);
            auto [it, fresh] = region_at.emplace(std::tuple{ai, qi, di, key}, out.regions.size());
            if (fresh) {
              Request w;
              w.action = action;
              w.requester = requester;
              w.data = data;
              w.requester_id = "witness";
              if (now.purpose >= 0)
                w.purpose = purpose_names[static_cast<std::size_t>(now.purpose)];
              for (std::size_t f = 0; f < now.facts.size(); ++f) {
                if (now.facts[f] == 1) w.facts.push_back(fact_names[f]);
              }
              for (std::size_t k = 0; k < now.consents.size(); ++k) {
                if (now.consents[k] == 1) w.consent.push_back(consent_names[k]);
              }
              out.regions.push_back({action_classes[ai], requester_classes[qi], data_classes[di],
                                     *x, *y, std::move(w), 0});
            }
            out.regions[it->second].requests += size;
            return;
          }
          const Split need = x ? need_b : need_a;
          if (need.kind == 2) {
            for (int purpose = -1; purpose < static_cast<int>(purpose_names.size()); ++purpose) {
              now.purpose = purpose;
              search(now);
            }
            now.purpose = -2;
            return;
          }
          std::vector<int>& slot = need.kind == 0 ? now.facts : now.consents;
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
  return out;
}

}  // namespace clause::detail

namespace clause {

Diff diff_policies(const Policy& before, const Policy& after) noexcept {
  return detail::whole_or_incomplete<Diff>([&] { return detail::diff_impl(before, after); });
}

}  // namespace clause
