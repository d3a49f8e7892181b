// Stage: analysis. The decision matrix: per action, the decision for every data category
// and requester kind, or what it depends on.
#pragma once

#include <cstdint>
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

/// What to hold fixed and what to split by. Each `fix` is `PATH=VALUE` for a declared
/// attribute, typed by its declaration (`12`, `p-7` or `"p-7"`, `true`, `2026-03-01`, a
/// comma list `a,b` for a list, `absent` for an optional one), or `consent:NAME`,
/// `objected:NAME`, `fact:NAME`, optionally `=true` or `=false`.
struct MatrixOptions {
  std::vector<std::string> fix;
  std::string vary;  // an attribute path; empty for one matrix
};

/// One matrix of a split: the requests whose varied attribute is in one class.
struct MatrixClass {
  std::string label;  // e.g. "data.subject_age < 18"; empty when nothing is varied
  Matrix matrix;
};

/// Why a matrix could not be computed as asked.
struct MatrixError {
  enum class Kind : std::uint8_t {
    bad_option,  // an unknown name or a value its declaration does not take
    too_large,   // more classes to split by, or to hold fixed, than are enumerated
  };
  Kind kind = Kind::bad_option;
  std::string input;    // the `fix` or `vary` text at fault
  std::string message;  // one line, lower case; names a close name when there is one
};

/// The most classes `vary` splits a matrix into.
inline constexpr std::size_t max_matrix_classes = 64;

/// Computes the matrix of the requests that carry every fixed value, once per class of the
/// varied attribute's values that the policy's tests tell apart (in order of value). Exact:
/// classes come from the constants and attributes the tests compare with, never sampled.
Result<std::vector<MatrixClass>, MatrixError> decision_matrices(
    const Policy& policy, const MatrixOptions& options) noexcept;

}  // namespace clause
