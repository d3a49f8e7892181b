// Random concrete requests over the candidate grid of a policy made by
// random_attribute_policy, for tests that hold analyses against the decisions of requests.
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

#include "analysis/attribute_classes.hpp"
#include "clause/clause.hpp"
#include "clause/dsl/check.hpp"

namespace clause::test {

/// The candidate values of every attribute for all of the policy's tests; empty past the
/// bounds (the analyses then say incomplete).
inline std::vector<std::vector<Value>> whole_grid(const dsl::CheckedPolicy& c) {
  std::vector<std::uint32_t> all(c.tests.size());
  std::iota(all.begin(), all.end(), 0U);
  return detail::candidate_values(c, all);
}

/// A request of random names, purpose, facts, consent `k0` and objections, with a value
/// of the grid for each attribute.
template <class Rng>
Request grid_request(Rng& rng, const dsl::CheckedPolicy& c,
                     const std::vector<std::vector<Value>>& grid) {
  Request r;
  r.data = c.data[rng() % c.data.size()].name;
  r.requester = c.requesters[rng() % c.requesters.size()].name;
  r.action = c.actions[rng() % c.actions.size()].name;
  r.requester_id = "x";
  if (const auto purpose = rng() % 4; purpose < 3) r.purpose = c.purposes[purpose].name;
  for (const auto& f : c.facts) {
    if (rng() % 2) r.facts.push_back(f.name);
  }
  if (rng() % 2) r.consent.push_back("k0");
  for (const auto& o : c.objections) {
    if (rng() % 2) r.objections.push_back(o.name);
  }
  for (std::size_t a = 0; a < c.attributes.size(); ++a) {
    const Value& v = grid[a][rng() % grid[a].size()];
    if (v.index() != 0) r.attributes.push_back({c.attributes[a].path, v});
  }
  return r;
}

}  // namespace clause::test
