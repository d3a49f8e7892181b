// Stage: analysis. `clause analyze`, region by region.
#include "clause/analyze.hpp"

#include <fmt/format.h>

#include <map>

#include "analysis/analysis.hpp"

namespace clause::detail {
namespace {

// The effect a rule stands for when it matches.
int effect_class(const dsl::CheckedRule& r) {
  switch (r.effect) {
    case ast::Effect::allow:
      return 0;
    case ast::Effect::deny:
      return 1;
    case ast::Effect::require_consent:
      return 2 + r.consent;
  }
  return 1;
}

}  // namespace

Analysis analyze_impl(const PolicyImpl& impl) {
  const dsl::CheckedPolicy& c = impl.checked();
  Analysis out;
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> conflict_at;
  std::map<std::vector<const std::uint32_t*>, std::size_t> default_at;
  out.complete = for_each_region(impl, {}, 20, [&](const Region& region) {
    Atoms atoms;
    for (const std::size_t r : region.rules) {
      atoms.add(c.rules[r].condition);
      if (c.rules[r].consent >= 0)
        atoms.consents.insert(static_cast<std::uint32_t>(c.rules[r].consent));
    }
    // How many concrete requests this region stands for.
    const std::uint64_t purposes = region.assignment.purpose_count;
    const std::uint64_t free_bits =
        (c.facts.size() - atoms.facts.size()) + (c.consents.size() - atoms.consents.size());
    const std::uint64_t size = region.actions.size() * region.requesters.size() *
                               region.data.size() * purposes * (std::uint64_t{1} << free_bits);
    out.total_requests += size;

    const ReferenceVerdict v = verdict_of(impl, fast_verdict(impl, region.witness));
    std::vector<std::size_t> matched;
    for (const std::size_t r : region.rules) {
      if (holds(c.rules[r].condition, region.assignment)) matched.push_back(r);
    }
    for (std::size_t x = 0; x < matched.size(); ++x) {
      for (std::size_t y = x + 1; y < matched.size(); ++y) {
        const dsl::CheckedRule& a = c.rules[matched[x]];
        const dsl::CheckedRule& b = c.rules[matched[y]];
        // A fall-back applies only when no other rule matched: it contradicts no rule.
        if ((a.tier == dsl::Tier::fallback) != (b.tier == dsl::Tier::fallback)) continue;
        if (effect_class(a) == effect_class(b)) continue;
        auto [it, fresh] =
            conflict_at.emplace(std::pair{matched[x], matched[y]}, out.conflicts.size());
        if (fresh) {
          out.conflicts.push_back({matched[x], matched[y], request_names(c, region.witness),
                                   static_cast<std::size_t>(std::max(v.rule, 0)), 0});
        }
        out.conflicts[it->second].requests += size;
      }
    }
    if (v.clause == c.default_clause) {
      const std::vector<const std::uint32_t*> key = {region.actions.data(),
                                                     region.requesters.data(), region.data.data()};
      auto [it, fresh] = default_at.emplace(key, out.defaults.size());
      if (fresh) {
        DefaultRegion d;
        for (const auto a : region.actions)
          d.actions.push_back(c.actions[a].name);
        for (const auto q : region.requesters)
          d.requesters.push_back(c.requesters[q].name);
        for (const auto x : region.data)
          d.data.push_back(c.data[x].name);
        d.witness = request_names(c, region.witness);
        out.defaults.push_back(std::move(d));
      }
      out.defaults[it->second].requests += size;
    }
    return true;
  });

  // Wide permissions: those covering at least half of the in-scope (data, requester) pairs
  // of their actions.
  std::uint64_t in_scope = 0;
  std::vector<bool> excluded(c.data.size(), false);
  for (const dsl::CheckedRule& r : c.rules) {
    if (r.tier != dsl::Tier::exclusion) continue;
    for (std::uint32_t d = 0; d < c.data.size(); ++d) {
      for (const auto id : r.data.ids) {
        if (c.data[d].first >= c.data[id].first && c.data[d].first < c.data[id].last)
          excluded[d] = true;
      }
      if (r.data.any) excluded[d] = true;
    }
  }
  for (std::uint32_t d = 0; d < c.data.size(); ++d)
    in_scope += excluded[d] ? 0 : 1;
  in_scope *= c.requesters.size();
  for (std::size_t i = 0; i < c.rules.size(); ++i) {
    const dsl::CheckedRule& r = c.rules[i];
    if (r.tier != dsl::Tier::permission) continue;
    std::uint64_t pairs = 0;
    std::uint32_t first_d = 0, first_q = 0;
    for (std::uint32_t d = 0; d < c.data.size(); ++d) {
      if (excluded[d]) continue;
      const bool data_in =
          r.data.any || std::any_of(r.data.ids.begin(), r.data.ids.end(), [&](std::uint32_t m) {
            return c.data[d].first >= c.data[m].first && c.data[d].first < c.data[m].last;
          });
      if (!data_in) continue;
      for (std::uint32_t q = 0; q < c.requesters.size(); ++q) {
        const bool q_in =
            r.requesters.any ||
            std::any_of(r.requesters.ids.begin(), r.requesters.ids.end(), [&](std::uint32_t m) {
              return c.requesters[q].first >= c.requesters[m].first &&
                     c.requesters[q].first < c.requesters[m].last;
            });
        if (!q_in) continue;
        if (pairs == 0) {
          first_d = d;
          first_q = q;
        }
        ++pairs;
      }
    }
    if (in_scope == 0 || pairs * 4 < in_scope) continue;  // a quarter or more is wide
    Request w;
    w.data = c.data[first_d].name;
    w.requester = c.requesters[first_q].name;
    w.action = r.actions.any ? c.actions.front().name : c.actions[r.actions.ids.front()].name;
    w.requester_id = "witness";
    // Facts, consents and purpose under which the rule's condition holds.
    Atoms atoms;
    atoms.add(r.condition);
    for_each_assignment(c, atoms, 20, [&](const Assignment& a) {
      if (!holds(r.condition, a)) return true;
      if (a.purpose >= 0) w.purpose = c.purposes[static_cast<std::size_t>(a.purpose)].name;
      for (std::uint32_t f = 0; f < a.facts.size(); ++f) {
        if (a.facts[f]) w.facts.push_back(c.facts[f].name);
      }
      for (std::uint32_t k = 0; k < a.consents.size(); ++k) {
        if (a.consents[k]) w.consent.push_back(c.consents[k].name);
      }
      add_values(c, a, w);
      return false;
    });
    out.wide.push_back({i, pairs, in_scope, std::move(w)});
  }
  return out;
}

}  // namespace clause::detail

namespace clause {

Analysis analyze(const Policy& policy) noexcept {
  return detail::analyse_policy<Analysis>(policy, &detail::analyze_impl);
}

}  // namespace clause
