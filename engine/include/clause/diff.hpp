// Stage: analysis. Every decision that differs between two versions of a policy, grouped
// into regions of requests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clause/clause.hpp"

namespace clause {

/// One decision as the diff reports it.
struct DiffSide {
  Effect effect = Effect::deny;
  std::string clause;
  std::string consent;
  std::string rule;
  std::vector<std::string> obligations;  // the duties an allow carries, sorted
  bool operator==(const DiffSide& o) const {
    return effect == o.effect && clause == o.clause && consent == o.consent &&
           obligations == o.obligations;
  }
};

/// A region of requests that the old and the new policy decide differently.
struct DiffRegion {
  std::vector<std::string> actions, requesters, data;
  DiffSide before;
  DiffSide after;
  Request witness;
  std::uint64_t requests = 0;
  std::vector<std::string> attributes;  // split on classes of their values; the witness holds one
};

/// The names of one kind that only one version declares.
struct DiffNames {
  std::string kind;  // "actions", "requesters", "data", "facts", "consents", "purposes",
                     // "objections", "obligations" or "attributes"
  std::vector<std::string> added, removed;
  std::vector<std::string> changed;  // declared by both, differently (type, optionality, parent)
};

/// Every region that changed, and how many of the `total` requests did. Only requests
/// valid under both versions are compared; `names` lists what makes the others invalid
/// in one of them.
struct Diff {
  std::vector<DiffNames> names;  // the kinds whose names differ
  std::vector<DiffRegion> regions;
  std::uint64_t changed = 0;
  std::uint64_t total = 0;
  bool complete = true;
};

/// Compares two policies over every request both accept. Never throws: when memory runs
/// out, the regions so far are dropped and `complete` is false.
Diff diff_policies(const Policy& before, const Policy& after) noexcept;

}  // namespace clause
