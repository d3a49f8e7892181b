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
    std::vector<std::uint32_t> facts, consents, objections, tests;
    std::map<std::vector<std::int32_t>, std::size_t> outcome_of;  // key -> outcome index
    std::map<std::vector<bool>, std::int32_t> test_class;         // the tests' answers, numbered
    MatrixCell cell;
  };
  std::vector<Seen> per_region;
  std::vector<std::size_t> region_of(m.cells.size());
  std::vector<bool> reached(m.cells.size(), false);  // cells left empty when incomplete
  // The key: one bit per fact, consent and objection (flipped one at a time below), then
  // the class of the tests' answers, then the purpose.
  const auto key_of = [](Seen& s, const Assignment& a) {
    std::vector<std::int32_t> key;
    for (const auto f : s.facts)
      key.push_back(a.facts[f] ? 1 : 0);
    for (const auto k : s.consents)
      key.push_back(a.consents[k] ? 1 : 0);
    for (const auto o : s.objections)
      key.push_back(a.objections[o] ? 1 : 0);
    std::vector<bool> answers;
    for (const auto t : s.tests)
      answers.push_back(a.tests[t]);
    key.push_back(s.test_class.emplace(answers, static_cast<std::int32_t>(s.test_class.size()))
                      .first->second);
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
      s.objections.assign(atoms.objections.begin(), atoms.objections.end());
      s.tests.assign(atoms.tests.begin(), atoms.tests.end());
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
      const std::size_t n_consents = s.consents.size();
      const std::size_t bits = n_facts + n_consents + s.objections.size();
      for (std::size_t bit = 0; bit < bits; ++bit) {
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
            : bit < n_facts + n_consents
                ? fmt::format("consent {}", c.consents[s.consents[bit - n_facts]].name)
                : fmt::format("objection {}",
                              c.objections[s.objections[bit - n_facts - n_consents]].name));
      }
      // The tests' class (position `bits`) and the purpose (the last) matter when changing
      // only them changes the outcome.
      const auto differs_only_at = [&](std::size_t at) {
        for (const auto& [key, outcome] : s.outcome_of) {
          for (const auto& [other, other_outcome] : s.outcome_of) {
            if (outcome == other_outcome) continue;
            bool same = true;
            for (std::size_t i = 0; i < key.size() && same; ++i)
              same = i == at || key[i] == other[i];
            if (same) return true;
          }
        }
        return false;
      };
      if (!s.tests.empty() && differs_only_at(bits)) {
        std::vector<std::string> paths;
        for (const auto t : s.tests) {
          const dsl::AttributeTest& test = c.tests[t];
          for (const std::int32_t a : {static_cast<std::int32_t>(test.lhs), test.rhs}) {
            if (a < 0) continue;
            const std::string& path = c.attributes[static_cast<std::size_t>(a)].path;
            if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
          }
        }
        s.cell.depends_on.insert(s.cell.depends_on.end(), paths.begin(), paths.end());
      }
      const bool purpose_matters = differs_only_at(bits + 1);
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
