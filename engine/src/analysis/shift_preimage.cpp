// Stage: analysis. The instants whose shifted value passes a comparison, found exactly from
// the shape of add(): non-decreasing within each day, and across days at most a few days
// back at month ends.
#include "analysis/shift_preimage.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

namespace clause::detail {
namespace {

namespace chr = std::chrono;

constexpr std::int64_t micros_per_day = std::int64_t{86'400} * 1'000'000;
constexpr std::int64_t first_day = chr::sys_days{chr::year{1} / 1 / 1}.time_since_epoch().count();
constexpr std::int64_t last_day =
    chr::sys_days{chr::year{9999} / 12 / 31}.time_since_epoch().count();
// The instants add() keeps to: [domain_begin, domain_end).
constexpr std::int64_t domain_begin = first_day * micros_per_day;
constexpr std::int64_t domain_end = (last_day + 1) * micros_per_day;

// For x in day d and x' in day d' >= d + window_days, add(x', shift) >= add(x, shift). Years
// and months map day k of a month to the k-th day counted from the first of the target
// month, so the days of one month keep their order, and from one month to the next the
// target steps back at most 3 days (a 31-day month onto a 28-day one). Forty days on, x' is
// at least 9 day numbers further into the next month (or in a later one), whose target
// starts 28 or more days after the current target month: its day is strictly later. Running
// out of the years saturates in the same order, and the fixed days and seconds and the
// clamping after them keep order. 32 would do; 40 leaves room.
constexpr std::int64_t window_days = 40;

// Half-open spans of microseconds within the domain: sorted, disjoint, non-adjacent.
struct Span {
  std::int64_t lo, hi;
};
using Spans = std::vector<Span>;

void append(Spans& spans, std::int64_t lo, std::int64_t hi) {
  if (lo >= hi) return;
  if (!spans.empty() && spans.back().hi >= lo) {
    spans.back().hi = std::max(spans.back().hi, hi);
    return;
  }
  spans.push_back({lo, hi});
}

Spans complement(const Spans& spans) {
  Spans out;
  std::int64_t at = domain_begin;
  for (const Span& s : spans) {
    append(out, at, s.lo);
    at = s.hi;
  }
  append(out, at, domain_end);
  return out;
}

Spans intersect(const Spans& a, const Spans& b) {
  Spans out;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    append(out, std::max(a[i].lo, b[j].lo), std::min(a[i].hi, b[j].hi));
    if (a[i].hi < b[j].hi) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

// The instants x with add(x, shift) < bound.
class Below {
 public:
  Below(const Duration& shift, std::int64_t bound) : shift_(shift), bound_(bound) {}

  Spans spans() const {
    // A day p whose every instant is below, followed by one that is not: those at or past
    // p + 1 + window_days are all not, those at or before p - window_days all are. The
    // days just outside the range count as below before it and not below after it.
    std::int64_t below = first_day - 1, not_below = last_day + 1;
    while (not_below - below > 1) {
      const std::int64_t mid = below + (not_below - below) / 2;
      (whole_day(mid) ? below : not_below) = mid;
    }
    const std::int64_t scan_from = std::max(first_day, below - window_days + 1);
    const std::int64_t scan_to = std::min(last_day, below + window_days);
    Spans out;
    append(out, domain_begin, scan_from * micros_per_day);
    for (std::int64_t day = scan_from; day <= scan_to; ++day)
      append(out, day * micros_per_day, day * micros_per_day + prefix(day));
    return out;
  }

 private:
  bool holds(std::int64_t micros) const { return add(Instant{micros}, shift_).micros < bound_; }
  bool whole_day(std::int64_t day) const { return holds((day + 1) * micros_per_day - 1); }

  // Within a day add() is non-decreasing, so the instants below form a prefix of it: its
  // length in microseconds.
  std::int64_t prefix(std::int64_t day) const {
    const std::int64_t start = day * micros_per_day;
    if (!holds(start)) return 0;
    if (whole_day(day)) return micros_per_day;
    std::int64_t in = 0, out = micros_per_day - 1;
    while (out - in > 1) {
      const std::int64_t mid = in + (out - in) / 2;
      (holds(start + mid) ? in : out) = mid;
    }
    return out;
  }

  const Duration& shift_;
  std::int64_t bound_;
};

// The multiple of r at or above a, if an int64 holds it.
std::optional<std::int64_t> ceil_multiple(std::int64_t a, std::int64_t r) {
  std::int64_t q = a / r;  // toward zero: the ceiling for negative a
  if (a % r > 0) ++q;
  if (q > std::numeric_limits<std::int64_t>::max() / r) return std::nullopt;
  return q * r;
}

}  // namespace

std::vector<InstantRange> shifted_preimage(const Duration& shift, PlanTest::Op op, Instant value) {
  // add() stays within the domain, so a value beyond it compares as one just past it; this
  // keeps value + 1 from overflowing.
  const std::int64_t v = std::clamp(value.micros, domain_begin - 1, domain_end);
  // x op v as sets of x: below(v) is { x : add(x) < v }, and <= v is < v + 1.
  const auto below = [&](std::int64_t bound) { return Below(shift, bound).spans(); };
  Spans spans;
  switch (op) {
    case PlanTest::Op::lt:
      spans = below(v);
      break;
    case PlanTest::Op::le:
      spans = below(v + 1);
      break;
    case PlanTest::Op::gt:
      spans = complement(below(v + 1));
      break;
    case PlanTest::Op::ge:
      spans = complement(below(v));
      break;
    case PlanTest::Op::eq:
      spans = intersect(below(v + 1), complement(below(v)));
      break;
    case PlanTest::Op::ne:
      spans = complement(intersect(below(v + 1), complement(below(v))));
      break;
  }
  std::vector<InstantRange> ranges;
  ranges.reserve(spans.size());
  for (const Span& s : spans) {
    // add() reads an instant outside the domain as its nearest end: a span reaching an
    // end holds for everything past it too.
    ranges.push_back({s.lo == domain_begin ? std::nullopt : std::optional<Instant>{Instant{s.lo}},
                      s.hi == domain_end ? std::nullopt : std::optional<Instant>{Instant{s.hi}}});
  }
  return ranges;
}

std::vector<InstantRange> at_resolution(std::vector<InstantRange> ranges, std::int64_t micros) {
  if (micros < 2) return ranges;
  std::vector<InstantRange> out;
  for (const InstantRange& r : ranges) {
    InstantRange rounded;
    if (r.from) {
      const auto from = ceil_multiple(r.from->micros, micros);
      if (!from) break;  // no multiple left: neither here nor in any later range
      rounded.from = Instant{*from};
    }
    if (r.until) {
      // Past the largest multiple: every multiple from `from` on is inside.
      if (const auto until = ceil_multiple(r.until->micros, micros))
        rounded.until = Instant{*until};
    }
    if (rounded.from && rounded.until && *rounded.from >= *rounded.until) continue;
    if (!out.empty() &&
        (!out.back().until || !rounded.from || *rounded.from <= *out.back().until)) {
      if (out.back().until && (!rounded.until || *rounded.until > *out.back().until))
        out.back().until = rounded.until;
      continue;
    }
    out.push_back(rounded);
  }
  return out;
}

}  // namespace clause::detail
