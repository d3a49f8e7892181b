// Stage: analysis. The findings of `clause analyze`: conflicts between rules, rules that
// never decide, the requests that fall to the fail-closed default, and rules whose match
// is wide. Every finding carries a witness request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clause/clause.hpp"

namespace clause {

/// Two rules with different effects that both match some request.
struct Conflict {
  std::size_t first = 0;  // rule indices, first < second
  std::size_t second = 0;
  Request witness;
  std::size_t decided_by = 0;  // the rule that decides the witness
  std::uint64_t requests = 0;  // how many requests both rules match
};

/// Requests that no rule permits, grouped by the classes of names that share them.
struct DefaultRegion {
  std::vector<std::string> actions, requesters, data;
  std::vector<std::string> when;  // the facts, consents and purpose of the region
  Request witness;
  std::uint64_t requests = 0;
};

/// A permission whose match covers much of the space its actions span.
struct WideRule {
  std::size_t rule = 0;
  std::uint64_t pairs = 0;  // (data, requester) pairs it covers for its actions
  std::uint64_t of = 0;     // the in-scope pairs there are
  Request witness;
};

/// The findings of `clause analyze`, over `total_requests` requests.
struct Analysis {
  std::vector<Conflict> conflicts;
  std::vector<DefaultRegion> defaults;
  std::vector<WideRule> wide;
  std::uint64_t total_requests = 0;
  bool complete = true;
};

/// Analyses a policy exactly over every request. Never throws: when memory runs out, the
/// findings so far are dropped and `complete` is false.
Analysis analyze(const Policy& policy) noexcept;

}  // namespace clause
