// Stage: analysis. Regions of the request space: names are grouped into classes by which
// rules (and probes) cover them, so a region is decided once for all of its members.
#include "analysis/analysis.hpp"

#include <map>

namespace clause::detail {
namespace {

// Groups the names of one kind by which rules and probes cover them.
std::vector<std::vector<std::uint32_t>> classes(
    const std::vector<dsl::Term>& terms, bool hierarchical,
    const std::function<const dsl::IdSet&(std::size_t)>& set_of, std::size_t sets) {
  std::map<std::vector<bool>, std::size_t> index;
  std::vector<std::vector<std::uint32_t>> out;
  for (std::uint32_t id = 0; id < terms.size(); ++id) {
    std::vector<bool> signature(sets);
    for (std::size_t k = 0; k < sets; ++k)
      signature[k] = covers(set_of(k), terms, id, hierarchical);
    auto [it, fresh] = index.emplace(std::move(signature), out.size());
    if (fresh) out.emplace_back();
    out[it->second].push_back(id);
  }
  return out;
}

}  // namespace

Request request_names(const dsl::CheckedPolicy& c, const ResolvedRequest& q) {
  const AtomLayout layout = AtomLayout::of(c);
  Request r;
  r.data = c.data[Access::data(q)].name;
  r.requester = c.requesters[Access::requester(q)].name;
  r.action = c.actions[Access::action(q)].name;
  r.requester_id = "witness";
  if (Access::purpose(q) >= 0) {
    r.purpose = c.purposes[static_cast<std::size_t>(Access::purpose(q))].name;
  }
  for (std::uint32_t i = 0; i < c.facts.size(); ++i) {
    if (fact_true(q, layout, i)) r.facts.push_back(c.facts[i].name);
  }
  for (std::uint32_t i = 0; i < c.consents.size(); ++i) {
    if (consent_granted(q, layout, i)) r.consent.push_back(c.consents[i].name);
  }
  return r;
}

bool for_each_region(const PolicyImpl& impl, std::span<const Probe> probes, std::size_t max_atoms,
                     const std::function<bool(const Region&)>& visit) {
  const dsl::CheckedPolicy& p = impl.checked();
  const std::size_t rules = p.rules.size();
  const std::size_t sets = rules + probes.size();
  using Pick = const dsl::IdSet& (*)(const dsl::CheckedRule&);
  const auto set_getter = [&](Pick rule_set, const dsl::IdSet Probe::*probe_set) {
    return [&p, &probes, rules, rule_set, probe_set](std::size_t k) -> const dsl::IdSet& {
      return k < rules ? rule_set(p.rules[k]) : probes[k - rules].*probe_set;
    };
  };
  const auto action_classes =
      classes(p.actions, false,
              set_getter([](const dsl::CheckedRule& r) -> const dsl::IdSet& { return r.actions; },
                         &Probe::actions),
              sets);
  const auto requester_classes = classes(
      p.requesters, true,
      set_getter([](const dsl::CheckedRule& r) -> const dsl::IdSet& { return r.requesters; },
                 &Probe::requesters),
      sets);
  const auto data_classes =
      classes(p.data, true,
              set_getter([](const dsl::CheckedRule& r) -> const dsl::IdSet& { return r.data; },
                         &Probe::data),
              sets);

  bool complete = true;
  // A bound on the work, so that a huge policy gives an incomplete answer in seconds
  // rather than an exact one in hours.
  constexpr std::uint64_t max_visits = 300'000;
  std::uint64_t visits = 0;
  for (const auto& actions : action_classes) {
    for (const auto& requesters : requester_classes) {
      for (const auto& data : data_classes) {
        const std::uint32_t a = actions.front();
        const std::uint32_t q = requesters.front();
        const std::uint32_t d = data.front();
        const bool probed = std::all_of(probes.begin(), probes.end(), [&](const Probe& probe) {
          return covers(probe.actions, p.actions, a, false) &&
                 covers(probe.requesters, p.requesters, q, true) &&
                 covers(probe.data, p.data, d, true);
        });
        if (!probed) continue;
        std::vector<std::size_t> in;
        Atoms atoms;
        for (std::size_t k = 0; k < rules; ++k) {
          const dsl::CheckedRule& r = p.rules[k];
          if (covers(r.actions, p.actions, a, false) &&
              covers(r.requesters, p.requesters, q, true) && covers(r.data, p.data, d, true)) {
            in.push_back(k);
            atoms.add(r.condition);
            if (r.consent >= 0) atoms.consents.insert(static_cast<std::uint32_t>(r.consent));
          }
        }
        for (const Probe& probe : probes) {
          for (const dsl::CheckedCond* c : probe.conditions)
            atoms.add(*c);
          if (probe.consent >= 0) atoms.consents.insert(static_cast<std::uint32_t>(probe.consent));
        }
        // A purpose no condition names stands for all of them.
        std::int32_t other_purpose = -1;
        for (std::uint32_t id = 0; id < p.purposes.size(); ++id) {
          if (atoms.purposes.count(id) == 0) {
            other_purpose = static_cast<std::int32_t>(id);
            break;
          }
        }
        ResolvedRequest witness;
        clear_request(witness, impl.serial, impl.layout);
        Access::action(witness) = a;
        Access::requester(witness) = q;
        Access::data(witness) = d;
        bool go_on = true;
        const bool enumerated = for_each_assignment(p, atoms, max_atoms, [&](const Assignment& x) {
          clear_request(witness, impl.serial, impl.layout);
          set_purpose(witness, impl.layout, impl.vocabulary().purposes,
                      x.purpose == -2 ? other_purpose : x.purpose);
          for (std::uint32_t f = 0; f < x.facts.size(); ++f) {
            if (x.facts[f]) set_bit(Access::atoms(witness), impl.layout.fact(f));
          }
          for (std::uint32_t c = 0; c < x.consents.size(); ++c) {
            if (x.consents[c]) set_bit(Access::atoms(witness), impl.layout.consent(c));
          }
          if (++visits > max_visits) {
            complete = false;
            go_on = false;
            return false;
          }
          go_on = visit(Region{actions, requesters, data, x, witness, in});
          return go_on;
        });
        complete = complete && enumerated;
        if (!go_on) return complete;
      }
    }
  }
  return complete;
}

}  // namespace clause::detail
