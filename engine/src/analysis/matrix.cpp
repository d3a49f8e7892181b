// Stage: analysis. The decision matrix, from the regions of the request space.
#include "clause/matrix.hpp"

#include <fmt/format.h>

#include <map>

#include "analysis/analysis.hpp"

namespace clause::detail {

Matrix matrix_impl(const PolicyImpl& impl) {
  const dsl::CheckedPolicy& c = impl.checked();
  Matrix m;
  for (const auto& t : c.actions)
    m.actions.push_back(t.name);
  for (const auto& t : c.data)
    m.data.push_back(t.name);
  for (const auto& t : c.requesters)
    m.requesters.push_back(t.name);
  for (const auto& t : c.purposes)
    m.purposes.push_back(t.name);
  m.cells.resize(m.actions.size() * m.data.size() * m.requesters.size());

  // Every region's decisions, keyed by the values of the atoms its rules read.
  struct Seen {
    std::vector<std::uint32_t> facts, consents;
    std::map<std::vector<std::int32_t>, std::size_t> outcome_of;  // key -> outcome index
    MatrixCell cell;
  };
  std::vector<Seen> per_region;
  std::vector<std::size_t> region_of(m.cells.size());
  std::vector<bool> reached(m.cells.size(), false);  // cells left empty when incomplete
  const auto key_of = [](const Seen& s, const Assignment& a) {
    std::vector<std::int32_t> key;
    for (const auto f : s.facts)
      key.push_back(a.facts[f] ? 1 : 0);
    for (const auto k : s.consents)
      key.push_back(a.consents[k] ? 1 : 0);
    key.push_back(a.purpose);
    return key;
  };
  // Consecutive visits of one region share its class spans.
  const std::uint32_t* last[3] = {nullptr, nullptr, nullptr};
  m.complete = for_each_region(impl, {}, 20, [&](const Region& region) {
    const std::uint32_t* now[3] = {region.actions.data(), region.requesters.data(),
                                   region.data.data()};
    if (!std::equal(now, now + 3, last)) {
      std::copy(now, now + 3, last);
      Seen s;
      Atoms atoms;
      for (const std::size_t r : region.rules) {
        atoms.add(c.rules[r].condition);
        if (c.rules[r].consent >= 0)
          atoms.consents.insert(static_cast<std::uint32_t>(c.rules[r].consent));
      }
      s.facts.assign(atoms.facts.begin(), atoms.facts.end());
      s.consents.assign(atoms.consents.begin(), atoms.consents.end());
      per_region.push_back(std::move(s));
      for (const auto a : region.actions) {
        for (const auto d : region.data) {
          for (const auto q : region.requesters) {
            const std::size_t cell = (a * m.data.size() + d) * m.requesters.size() + q;
            region_of[cell] = per_region.size() - 1;
            reached[cell] = true;
          }
        }
      }
    }
    Seen& s = per_region.back();
    const ReferenceVerdict v = verdict_of(impl, fast_verdict(impl, region.witness));
    const std::string clause(impl.clause_id(v.clause));
    const std::string consent =
        v.consent >= 0 ? c.consents[static_cast<std::size_t>(v.consent)].name : "";
    std::size_t index = 0;
    for (; index < s.cell.outcomes.size(); ++index) {
      const MatrixOutcome& o = s.cell.outcomes[index];
      if (o.effect == v.effect && o.clause == clause && o.consent == consent) break;
    }
    if (index == s.cell.outcomes.size()) {
      s.cell.outcomes.push_back({v.effect, clause, consent, {}, {}});
    }
    MatrixOutcome& o = s.cell.outcomes[index];
    // The purposes this assignment stands for.
    const std::int32_t purpose = region.assignment.purpose;
    const auto add_purpose = [&](const std::string& name) {
      if (std::find(o.purposes.begin(), o.purposes.end(), name) == o.purposes.end()) {
        o.purposes.push_back(name);
      }
    };
    if (purpose == -1) {
      add_purpose("");
    } else {
      // Every purpose the rules cannot tell from this one.
      Atoms named;
      for (const std::size_t r : region.rules)
        named.add(c.rules[r].condition);
      const auto same = [&](std::uint32_t id) {
        return std::all_of(named.purposes.begin(), named.purposes.end(), [&](std::uint32_t n) {
          return purpose_under(c.purposes, static_cast<std::int32_t>(id), n) ==
                 purpose_under(c.purposes, purpose, n);
        });
      };
      for (std::uint32_t id = 0; id < c.purposes.size(); ++id) {
        if (same(id)) add_purpose(c.purposes[id].name);
      }
    }
    s.outcome_of[key_of(s, region.assignment)] = index;
    return true;
  });

  // What each region's decision depends on: an atom matters when flipping it alone changes
  // the outcome somewhere.
  for (Seen& s : per_region) {
    if (s.cell.outcomes.size() > 1) {
      const std::size_t n_facts = s.facts.size();
      for (std::size_t bit = 0; bit < n_facts + s.consents.size(); ++bit) {
        bool matters = false;
        for (const auto& [key, outcome] : s.outcome_of) {
          std::vector<std::int32_t> other = key;
          other[bit] = 1 - other[bit];
          auto it = s.outcome_of.find(other);
          if (it != s.outcome_of.end() && it->second != outcome) matters = true;
        }
        if (!matters) continue;
        s.cell.depends_on.push_back(
            bit < n_facts ? c.facts[s.facts[bit]].name
                          : fmt::format("consent {}", c.consents[s.consents[bit - n_facts]].name));
      }
      bool purpose_matters = false;
      for (const auto& [key, outcome] : s.outcome_of) {
        for (const auto& [other, other_outcome] : s.outcome_of) {
          if (outcome != other_outcome &&
              std::equal(key.begin(), key.end() - 1, other.begin(), other.end() - 1)) {
            purpose_matters = true;
          }
        }
      }
      if (purpose_matters) s.cell.depends_on.emplace_back("purpose");
    }
  }
  for (std::size_t i = 0; i < m.cells.size(); ++i) {
    if (reached[i]) m.cells[i] = per_region[region_of[i]].cell;
  }
  return m;
}

}  // namespace clause::detail

namespace clause {

Matrix decision_matrix(const Policy& policy) noexcept {
  return detail::analyse_policy<Matrix>(policy, &detail::matrix_impl);
}

}  // namespace clause
