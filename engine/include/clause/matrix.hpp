// Stage: analysis. The decision matrix: per action, the decision for every data category
// and requester kind, or what it depends on.
#pragma once

#include <string>
#include <vector>

#include "clause/clause.hpp"

namespace clause {

/// One decision a cell can take, and the purposes under which it can come.
struct MatrixOutcome {
  Effect effect = Effect::deny;
  std::string clause;
  std::string consent;
  std::vector<std::string> purposes;  // "" stands for a request with no purpose
  std::vector<std::string> when;      // e.g. "encrypted", "not cookies_refused", "consent ok"
};

/// The decisions of one (action, data category, requester kind).
struct MatrixCell {
  std::vector<MatrixOutcome> outcomes;  // one when the decision depends on nothing else
  std::vector<std::string> depends_on;  // facts, consents and "purpose" that change it
};

/// The whole matrix, cells indexed [action][data][requester].
struct Matrix {
  std::vector<std::string> actions, data, requesters, purposes;
  std::vector<MatrixCell> cells;
  bool complete = true;  // false when the policy was too large to enumerate every cell
  const MatrixCell& at(std::size_t a, std::size_t d, std::size_t r) const {
    return cells[(a * data.size() + d) * requesters.size() + r];
  }
};

/// Computes the matrix exactly, region by region. Never throws: when memory runs out, the
/// matrix has no cells and `complete` is false.
Matrix decision_matrix(const Policy& policy) noexcept;

}  // namespace clause
