// Stage: analysis. `clause diff`: names from both versions are grouped into classes that
// no rule of either version tells apart; each class and each assignment of what the
// relevant conditions read is decided once by both versions.
#include "diff.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "analysis.hpp"
#include "policy_impl.hpp"

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

void add_atoms(const dsl::CheckedPolicy& c, const dsl::CheckedCond& cond,
               std::set<std::string>& facts, std::set<std::string>& consents,
               std::set<std::string>& purposes) {
  using ast::CondKind;
  switch (cond.kind) {
    case CondKind::fact:
      facts.insert(c.facts[cond.ids.at(0)].name);
      break;
    case CondKind::consent:
      consents.insert(c.consents[cond.ids.at(0)].name);
      break;
    case CondKind::purpose_is:
    case CondKind::purpose_in:
      for (const auto id : cond.ids)
        purposes.insert(c.purposes[id].name);
      break;
    default:
      break;
  }
  for (const auto& child : cond.children)
    add_atoms(c, child, facts, consents, purposes);
}

std::string fmt_key(const DiffSide& x, const DiffSide& y) {
  return std::string(to_string(x.effect)) + "|" + x.clause + "|" + x.consent + "|" +
         std::string(to_string(y.effect)) + "|" + y.clause + "|" + y.consent;
}

DiffSide side_of(const Decision& d) {
  return {d.effect, std::string(d.clause), std::string(d.consent), std::string(d.rule)};
}

}  // namespace

Diff diff_policies(const Policy& before, const Policy& after) {
  Diff out;
  const PolicyImpl* pa = Access::impl(before);
  const PolicyImpl* pb = Access::impl(after);
  if (pa == nullptr || pb == nullptr) return out;
  const dsl::CheckedPolicy& a = pa->checked;
  const dsl::CheckedPolicy& b = pb->checked;
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
  std::map<std::tuple<std::size_t, std::size_t, std::size_t, std::string>, std::size_t> region_at;
  const bool same_vocabulary = odd_facts.empty() && odd_consents.empty() && odd_purposes.empty();

  // Each rule as a key both versions share: the same key means the same rule.
  std::map<std::string, std::uint32_t> interned;
  const auto rule_keys = [&](const PolicyImpl& p) {
    std::vector<std::uint32_t> keys;
    for (const auto& r : p.checked.rules) {
      std::string key(p.source.text.substr(r.span.begin, r.span.end - r.span.begin));
      std::string folded;
      for (const char ch : key) {
        const bool blank = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
        if (blank && (folded.empty() || folded.back() == ' ')) continue;
        folded += blank ? ' ' : ch;
      }
      if (r.consent >= 0) {
        const std::int32_t met = p.checked.consents[static_cast<std::size_t>(r.consent)].clause;
        folded += " met:" + (met >= 0 ? p.checked.clauses[static_cast<std::size_t>(met)].id : "");
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
        // What the rules relevant to this class triple read, in either version.
        std::set<std::string> facts = odd_facts, consents = odd_consents, purposes = odd_purposes;
        for (const dsl::CheckedPolicy* c : {&a, &b}) {
          const auto find = [](const std::vector<dsl::Term>& terms, const std::string& n) {
            auto it = std::find_if(terms.begin(), terms.end(),
                                   [&](const dsl::Term& t) { return t.name == n; });
            return it == terms.end() ? -1 : static_cast<int>(it - terms.begin());
          };
          const int x = find(c->actions, action), y = find(c->requesters, requester),
                    z = find(c->data, data);
          if (x < 0 || y < 0 || z < 0) continue;
          for (const auto& r : c->rules) {
            if (!covers(r.actions, c->actions, static_cast<std::uint32_t>(x), false) ||
                !covers(r.requesters, c->requesters, static_cast<std::uint32_t>(y), true) ||
                !covers(r.data, c->data, static_cast<std::uint32_t>(z), true)) {
              continue;
            }
            if (r.condition) add_atoms(*c, *r.condition, facts, consents, purposes);
            if (r.consent >= 0)
              consents.insert(c->consents[static_cast<std::size_t>(r.consent)].name);
          }
        }
        const std::vector<std::string> fv(facts.begin(), facts.end());
        const std::vector<std::string> kv(consents.begin(), consents.end());
        if (fv.size() + kv.size() > 20) {
          out.complete = false;
          continue;
        }
        std::vector<std::optional<std::string>> purpose_choices = {std::nullopt};
        for (const auto& pname : purposes)
          purpose_choices.emplace_back(pname);
        std::optional<std::string> other;
        for (const auto& pname : all_purposes) {
          if (purposes.count(pname) == 0) {
            other = pname;
            break;
          }
        }
        if (other) purpose_choices.push_back(other);
        const std::uint64_t class_size =
            action_classes[ai].size() * requester_classes[qi].size() * data_classes[di].size();
        const std::uint64_t free_bits =
            (all_facts.size() - fv.size()) + (all_consents.size() - kv.size());
        for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << (fv.size() + kv.size())); ++mask) {
          for (const auto& purpose : purpose_choices) {
            Request r;
            r.action = action;
            r.requester = requester;
            r.data = data;
            r.requester_id = "witness";
            r.purpose = purpose;
            for (std::size_t i = 0; i < fv.size(); ++i) {
              if ((mask >> i) & 1U) r.facts.push_back(fv[i]);
            }
            for (std::size_t i = 0; i < kv.size(); ++i) {
              if ((mask >> (fv.size() + i)) & 1U) r.consent.push_back(kv[i]);
            }
            const std::uint64_t purposes_here =
                purpose && purpose == other ? all_purposes.size() - purposes.size() : 1;
            const std::uint64_t size = class_size * purposes_here * (std::uint64_t{1} << free_bits);
            out.total += size;
            const DiffSide x = side_of(before.evaluate(r));
            const DiffSide y = side_of(after.evaluate(r));
            if (x == y) continue;
            out.changed += size;
            const std::string key = fmt_key(x, y);
            auto [it, fresh] = region_at.emplace(std::tuple{ai, qi, di, key}, out.regions.size());
            if (fresh) {
              out.regions.push_back(
                  {action_classes[ai], requester_classes[qi], data_classes[di], x, y, r, 0});
            }
            out.regions[it->second].requests += size;
          }
        }
      }
    }
  }
  return out;
}

}  // namespace clause::detail
