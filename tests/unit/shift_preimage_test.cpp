// The instants whose shifted value passes a comparison, held against add() itself at every
// boundary the ranges give and around every day where the answer could change.
#include "analysis/shift_preimage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace clause::test {
namespace {

using detail::InstantRange;
using Op = PlanTest::Op;

constexpr std::int64_t second = 1'000'000;
constexpr std::int64_t day = 86'400 * second;
constexpr std::int64_t first = -62'135'596'800 * second;     // 0001-01-01T00:00Z
constexpr std::int64_t last = 253'402'300'800 * second - 1;  // 9999-12-31T23:59:59.999999Z
constexpr Op all_ops[] = {Op::eq, Op::ne, Op::lt, Op::le, Op::gt, Op::ge};

Instant at(std::string_view text) {
  auto parsed = parse_time(text);
  INFO(text);
  REQUIRE(parsed.has_value());
  return *parsed;
}

bool compare(std::int64_t left, Op op, std::int64_t right) {
  switch (op) {
    case Op::eq:
      return left == right;
    case Op::ne:
      return left != right;
    case Op::lt:
      return left < right;
    case Op::le:
      return left <= right;
    case Op::gt:
      return left > right;
    case Op::ge:
      return left >= right;
  }
  return false;
}

bool inside(const std::vector<InstantRange>& ranges, std::int64_t x) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const InstantRange& r) {
    return (!r.from || r.from->micros <= x) && (!r.until || x < r.until->micros);
  });
}

std::string describe(const std::vector<InstantRange>& ranges) {
  std::string out;
  for (const InstantRange& r : ranges)
    out += fmt::format("[{}, {}) ", r.from ? format_date_time(*r.from) : "-",
                       r.until ? format_date_time(*r.until) : "-");
  return out.empty() ? "none" : out;
}

// Sorted, disjoint, non-adjacent, not empty; unbounded only at the outer ends.
bool well_formed(const std::vector<InstantRange>& ranges) {
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const InstantRange& r = ranges[i];
    if (r.from && r.until && *r.from >= *r.until) return false;
    if (!r.from && i != 0) return false;
    if (!r.until && i + 1 != ranges.size()) return false;
    if (i > 0 && ranges[i - 1].until->micros >= r.from->micros) return false;
  }
  return true;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t m) {
  return ((a % m) + m) % m;
}

// Checks every op for one shift and value at the given points plus each op's own boundaries.
void check(const Duration& shift, Instant value, std::vector<std::int64_t> points) {
  for (const Op op : all_ops) {
    const auto ranges = detail::shifted_preimage(shift, op, value);
    INFO(fmt::format("add(x, {}) {} {}: {}", format_duration(shift), to_string(op),
                     format_date_time(value), describe(ranges)));
    REQUIRE(well_formed(ranges));
    std::vector<std::int64_t> xs = points;
    for (const InstantRange& r : ranges)
      for (const auto& end : {r.from, r.until})
        if (end)
          for (const std::int64_t delta : {-1, 0, 1})
            xs.push_back(end->micros + delta);
    for (const std::int64_t x : xs) {
      const bool expected = compare(add(Instant{x}, shift).micros, op, value.micros);
      if (inside(ranges, x) != expected) {
        INFO(fmt::format("x = {} ({}), add = {}", format_date_time(Instant{x}), x,
                         format_date_time(add(Instant{x}, shift))));
        REQUIRE(inside(ranges, x) == expected);
      }
    }
  }
}

// The points around where add(x, shift) meets value: midnights ±1 µs across ±100 days of
// value - shift, and in each of those days the times of day that land on value's time of day;
// midnights across whole years around it; random instants; the ends of the range and past.
std::vector<std::int64_t> points_for(const Duration& shift, Instant value, std::mt19937_64& rng) {
  std::vector<std::int64_t> points;
  const Duration back{-shift.years, -shift.months, -shift.days, -shift.seconds};
  const std::int64_t center = add(value, back).micros;
  const std::int64_t center_day = center - floor_mod(center, day);
  // Each part taken modulo a day first: value may be an int64's end, past the range.
  const std::int64_t landing =
      floor_mod(floor_mod(value.micros, day) - floor_mod(shift.seconds * second, day), day);
  for (std::int64_t d = -100; d <= 100; ++d) {
    for (const std::int64_t time : {std::int64_t{0}, landing})
      for (const std::int64_t delta : {-1, 0, 1})
        points.push_back(center_day + d * day + time + delta);
  }
  for (std::int64_t d = -2 * 366; d <= 2 * 366; ++d)
    points.push_back(center_day + d * day);
  std::uniform_int_distribution<std::int64_t> anywhere(first, last);
  std::uniform_int_distribution<std::int64_t> modern(at("1900-01-01").micros,
                                                     at("2100-01-01").micros);
  for (int i = 0; i < 50; ++i) {
    points.push_back(anywhere(rng));
    points.push_back(modern(rng));
  }
  for (std::int64_t d = 0; d < 3; ++d) {
    for (const std::int64_t delta : {-1, 0, 1}) {
      points.push_back(first + d * day + delta);
      points.push_back(last - d * day + delta);
    }
  }
  points.push_back(std::numeric_limits<std::int64_t>::min());
  points.push_back(std::numeric_limits<std::int64_t>::max());
  return points;
}

TEST_CASE("A shifted comparison holds exactly on the ranges it gives", "[plan][sql]") {
  std::mt19937_64 rng(20261203);
  const auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  // Each field zero a third of the time, so that pure years, months, days and seconds occur.
  const auto field = [&](std::int64_t lo, std::int64_t hi) {
    return pick(0, 2) == 0 ? 0 : pick(lo, hi);
  };
  const auto time_of_day = [&] { return pick(0, 3) == 0 ? 0 : pick(0, day - 1); };
  const auto month_end = [&] {
    const int year = static_cast<int>(pick(1900, 2100));
    const unsigned month = static_cast<unsigned>(pick(1, 12));
    const auto last_day = std::chrono::year{year} / std::chrono::month{month} / std::chrono::last;
    // Feb 29 of a leap year or a month's last day, or a day or two before.
    const std::int64_t days =
        std::chrono::sys_days{last_day}.time_since_epoch().count() - pick(0, 2);
    return days * day + time_of_day();
  };
  for (int round = 0; round < 1200; ++round) {
    const Duration shift{static_cast<std::int32_t>(field(-3, 8)),
                         static_cast<std::int32_t>(field(-14, 14)),
                         static_cast<std::int32_t>(field(-40, 40)), field(-2 * 86'400, 2 * 86'400)};
    std::int64_t value = 0;
    switch (pick(0, 5)) {
      case 0:
        value = first + pick(0, 5) * day + time_of_day();
        break;
      case 1:
        value = last - pick(0, 5) * day - time_of_day();
        break;
      case 2:
      case 3:
        value = month_end();
        break;
      default:
        value = at("1900-01-01").micros + pick(0, 200 * 365) * day + time_of_day();
    }
    check(shift, Instant{value}, points_for(shift, Instant{value}, rng));
  }
}

TEST_CASE("Shifted comparisons at the ends of the range and beyond", "[plan][sql]") {
  std::mt19937_64 rng(7);
  for (const Duration& shift :
       {Duration{}, Duration{1, 0, 0, 0}, Duration{-1, 0, 0, 0}, Duration{0, 1, 0, 0},
        Duration{0, -1, 0, 0}, Duration{0, 0, 1, 0}, Duration{0, 0, 0, -1},
        Duration{10'000, 0, 0, 0}, Duration{0, 0, -4'000'000, 0}, Duration{0, 1, 0, -86'400}}) {
    for (const std::int64_t value :
         {first - 1, first, first + 1, last - 1, last, last + 1, first + day, last - day,
          std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()})
      check(shift, Instant{value}, points_for(shift, Instant{value}, rng));
  }
}

TEST_CASE("Shifted comparisons: the ranges a plan writes", "[plan][sql]") {
  using Ranges = std::vector<InstantRange>;
  // `context.time >= data.last_visit + 6 years`: every visit before the day six years back.
  CHECK(detail::shifted_preimage({6, 0, 0, 0}, Op::lt, at("2026-02-16")) ==
        Ranges{{std::nullopt, at("2020-02-16")}});
  // One month on from Jan 30 is Mar 2 and from Jan 31 Mar 3, but from Feb 1 it is Mar 1.
  CHECK(detail::shifted_preimage({0, 1, 0, 0}, Op::lt, at("2023-03-02")) ==
        Ranges{{std::nullopt, at("2023-01-30")}, {at("2023-02-01"), at("2023-02-02")}});
  const Instant just_after_jan_31 = Instant{at("2023-01-31").micros + 1};
  const Instant just_after_feb_3 = Instant{at("2023-02-03").micros + 1};
  CHECK(detail::shifted_preimage({0, 1, 0, 0}, Op::eq, at("2023-03-03")) ==
        Ranges{{at("2023-01-31"), just_after_jan_31}, {at("2023-02-03"), just_after_feb_3}});
  CHECK(detail::shifted_preimage({0, 1, 0, 0}, Op::ne, at("2023-03-03")) ==
        Ranges{{std::nullopt, at("2023-01-31")},
               {just_after_jan_31, at("2023-02-03")},
               {just_after_feb_3, std::nullopt}});
  // Saturation: nothing lands past the last instant, everything at or before it.
  CHECK(detail::shifted_preimage({1, 0, 0, 0}, Op::gt, Instant{last}).empty());
  CHECK(detail::shifted_preimage({1, 0, 0, 0}, Op::le, Instant{last}) ==
        Ranges{{std::nullopt, std::nullopt}});
}

TEST_CASE("Ranges kept to a column's resolution", "[plan][sql]") {
  using Ranges = std::vector<InstantRange>;
  const auto i = [](std::int64_t micros) { return std::optional<Instant>{Instant{micros}}; };
  // A date column: the midnights inside; a range between two midnights holds none.
  CHECK(detail::at_resolution({{std::nullopt, at("2020-02-16")}}, day) ==
        Ranges{{std::nullopt, at("2020-02-16")}});
  CHECK(detail::at_resolution({{std::nullopt, i(at("2020-02-16").micros + 1)}}, day) ==
        Ranges{{std::nullopt, at("2020-02-17")}});
  CHECK(detail::at_resolution({{i(at("2023-01-31").micros + 1), i(at("2023-02-01").micros)}}, day)
            .empty());
  // Rounded ends that meet are merged; before 1970 too (floor, not toward zero).
  CHECK(detail::at_resolution({{i(-3 * day - 5), i(-2 * day - 7)}, {i(-2 * day - 3), i(-day)}},
                              day) == Ranges{{i(-3 * day), i(-day)}});
  CHECK(detail::at_resolution({{i(-1), i(1)}, {i(second + 1), std::nullopt}}, second) ==
        Ranges{{i(0), i(second)}, {i(2 * second), std::nullopt}});
  // One microsecond: nothing changes.
  const Ranges fine{{i(-7), i(3)}, {i(5), std::nullopt}};
  CHECK(detail::at_resolution(fine, 1) == fine);
  // Against brute force: exactly the multiples inside.
  std::mt19937_64 rng(11);
  for (int round = 0; round < 500; ++round) {
    const std::int64_t resolution = round % 2 == 0 ? day : second;
    std::vector<std::int64_t> ends;
    for (int k = 0; k < 6; ++k)
      ends.push_back(
          std::uniform_int_distribution<std::int64_t>(-5 * resolution, 5 * resolution)(rng));
    std::sort(ends.begin(), ends.end());
    ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
    Ranges ranges;
    for (std::size_t k = 0; k + 1 < ends.size(); k += 2)
      ranges.push_back({i(ends[k]), i(ends[k + 1])});
    if (round % 3 == 0 && !ranges.empty()) ranges.front().from = std::nullopt;
    if (round % 5 == 0 && !ranges.empty()) ranges.back().until = std::nullopt;
    const Ranges rounded = detail::at_resolution(ranges, resolution);
    INFO(describe(ranges) + "-> " + describe(rounded));
    REQUIRE(well_formed(rounded));
    for (std::int64_t m = -7; m <= 7; ++m)
      REQUIRE(inside(rounded, m * resolution) == inside(ranges, m * resolution));
    for (const InstantRange& r : rounded)
      for (const auto& end : {r.from, r.until})
        if (end) REQUIRE(end->micros % resolution == 0);
  }
}

}  // namespace
}  // namespace clause::test
