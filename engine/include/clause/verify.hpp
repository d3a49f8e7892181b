// Stage: analysis. Proofs of the promises a policy makes (`assert always|never ...`), over
// every possible request.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "clause/clause.hpp"

namespace clause {

/// The outcome of one assertion.
struct AssertionResult {
  std::string text;                       // the assertion as written, on one line
  LineColumn position;                    // where it stands in the policy file
  bool proved = false;                    // it holds for every request
  bool complete = true;                   // false when a region read too many facts to enumerate
  std::size_t regions = 0;                // regions of the request space examined
  std::optional<Request> counterexample;  // a request that breaks it, when not proved
  Effect effect = Effect::deny;           // the decision on the counterexample
  std::string clause;
  std::string rule;
  std::string consent;
};

/// Proves each assertion of the policy over every request, or finds a counterexample.
/// Exact: the request space is split into the regions the rules and the assertion tell
/// apart, and each region is decided once. Never throws.
std::vector<AssertionResult> verify(const Policy& policy) noexcept;

}  // namespace clause
