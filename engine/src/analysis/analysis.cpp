// Stage: analysis. Regions of the request space: names are grouped into classes by which
// rules (and probes) cover them, so a region is decided once for all of its members.
#include "analysis/analysis.hpp"

#include <map>

#include "core/attribute_test.hpp"

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

void add_attributes(const dsl::CheckedPolicy& c, const std::vector<Value>& values, Request& r) {
  for (std::size_t i = 0; i < values.size() && i < c.attributes.size(); ++i) {
    if (std::holds_alternative<std::monostate>(values[i])) continue;
    // The request's own id field is where `requester.id` is read from.
    const std::string* id = std::get_if<std::string>(&values[i]);
    if (c.attributes[i].path == "requester.id" && id != nullptr) r.requester_id = *id;
    r.attributes.push_back({c.attributes[i].path, values[i]});
  }
}

}  // namespace

void add_values(const dsl::CheckedPolicy& c, const Assignment& a, Request& r) {
  for (std::uint32_t i = 0; i < a.objections.size(); ++i) {
    if (a.objections[i]) r.objections.push_back(c.objections[i].name);
  }
  if (a.values != nullptr) add_attributes(c, *a.values, r);
}

std::vector<std::pair<std::int32_t, std::uint64_t>> purpose_classes(
    const std::vector<dsl::Term>& purposes, const std::set<std::uint32_t>& named) {
  std::vector<std::pair<std::int32_t, std::uint64_t>> out = {{-1, 1}};
  std::map<std::vector<bool>, std::size_t> index;
  const auto signature = [&](std::uint32_t id) {
    std::vector<bool> s;
    for (const std::uint32_t n : named)
      s.push_back(purpose_under(purposes, static_cast<std::int32_t>(id), n));
    return s;
  };
  const auto place = [&](std::uint32_t id) {
    auto [it, fresh] = index.emplace(signature(id), out.size());
    if (fresh) out.emplace_back(static_cast<std::int32_t>(id), 0);
    return it->second;
  };
  for (const std::uint32_t n : named)
    place(n);
  for (std::uint32_t id = 0; id < purposes.size(); ++id)
    ++out[place(id)].second;
  return out;
}

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
  for (std::uint32_t i = 0; i < c.objections.size(); ++i) {
    if (test_bit(Access::atoms(q), layout.objection(i)))
      r.objections.push_back(c.objections[i].name);
  }
  add_attributes(c, Access::attributes(q), r);
  return r;
}

bool for_each_region(const PolicyImpl& impl, std::span<const Probe> probes, std::size_t max_atoms,
                     const std::function<bool(const Region&)>& visit, const FixedValues& fixed) {
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
  TestClassCache classes(p, fixed);
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
        ResolvedRequest witness;
        clear_request(witness, impl.serial, impl.layout);
        Access::action(witness) = a;
        Access::requester(witness) = q;
        Access::data(witness) = d;
        bool go_on = true;
        const bool enumerated =
            for_each_assignment(p, atoms, max_atoms, classes, [&](const Assignment& x) {
              clear_request(witness, impl.serial, impl.layout);
              set_purpose(witness, impl.layout, impl.vocabulary().purposes, x.purpose);
              for (std::uint32_t f = 0; f < x.facts.size(); ++f) {
                if (x.facts[f]) set_bit(Access::atoms(witness), impl.layout.fact(f));
              }
              for (std::uint32_t c = 0; c < x.consents.size(); ++c) {
                if (x.consents[c]) set_bit(Access::atoms(witness), impl.layout.consent(c));
              }
              for (std::uint32_t o = 0; o < x.objections.size(); ++o) {
                if (x.objections[o]) set_bit(Access::atoms(witness), impl.layout.objection(o));
              }
              // The witness is a whole request: every test answered from its values, as
              // resolving it would.
              Access::attributes(witness) = *x.values;
              for (std::uint32_t t = 0; t < p.tests.size(); ++t) {
                if (run_test(p.tests[t], *x.values))
                  set_bit(Access::atoms(witness), impl.layout.test(t));
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
