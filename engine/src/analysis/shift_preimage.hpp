// Stage: analysis. The exact set of instants x for which `add(x, shift) op value` holds, as
// ranges of x, so that a shifted comparison on a stored column can be written as plain
// comparisons of that column with bound values. Internal.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "clause/plan.hpp"
#include "clause/time.hpp"

namespace clause::detail {

// [from, until): a missing end is unbounded.
struct InstantRange {
  std::optional<Instant> from;
  std::optional<Instant> until;
  friend bool operator==(const InstantRange&, const InstantRange&) = default;
};

/// The instants x for which compare(add(x, shift), op, value) holds, as sorted, disjoint,
/// non-adjacent ranges; empty: none. Exact at microsecond resolution for every x: add()
/// treats an instant outside the years 0001..9999 as the nearest end of that range, so a
/// range that reaches an end of it is left unbounded on that side.
std::vector<InstantRange> shifted_preimage(const Duration& shift, PlanTest::Op op, Instant value);

/// Keeps exactly the multiples of `micros` (counted from 1970, negative ones too) inside the
/// ranges, for a column that holds only such instants (a date: one day; Unix seconds: one
/// second): [a, b) becomes [ceil(a/R)*R, ceil(b/R)*R); empty ranges are dropped, touching
/// ones merged. The ranges must be sorted and disjoint; `micros` below 2 changes nothing.
std::vector<InstantRange> at_resolution(std::vector<InstantRange> ranges, std::int64_t micros);

}  // namespace clause::detail
