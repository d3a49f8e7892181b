// Stage: every stage. Dates, date-times and calendar durations: reading them strictly,
// adding a duration, writing them back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "clause/result.hpp"

namespace clause {

/// An instant in UTC, in microseconds since 1970-01-01T00:00:00Z. Parsing and add() keep it
/// within the years 0001..9999 (UTC), the range a date-time can be written in.
struct Instant {
  std::int64_t micros = 0;
  friend auto operator<=>(const Instant&, const Instant&) = default;
};

/// A calendar duration: years and months move the calendar date (a day past the end of
/// the month rolls over: 2024-02-29 + 1 year is 2025-03-01, 2024-01-31 + 1 month is
/// 2024-03-02), then days, hours, minutes and seconds are added as fixed lengths. Fields
/// may be negative. Rolling over rather than clamping to the month's last day keeps
/// "+ 1 month" from ever landing before the same day number of the next month.
struct Duration {
  std::int32_t years = 0, months = 0, days = 0;
  std::int64_t seconds = 0;  // hours and minutes folded in
  friend bool operator==(const Duration&, const Duration&) = default;
};

/// Reads `YYYY-MM-DD` strictly (4-digit year 0001..9999, real calendar day): 00:00 UTC.
Result<Instant, std::string> parse_date(std::string_view text) noexcept;

/// Reads an RFC 3339 date-time strictly: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; `T` or `t`,
/// `Z` or `z`; seconds 00..59 (a leap second 60 is refused); fraction 1..9 digits, kept to
/// microseconds rounding toward the past; an offset is required and honoured (converted to
/// UTC); `-00:00` is UTC. A date-time whose UTC instant falls outside the years 0001..9999
/// is refused.
Result<Instant, std::string> parse_date_time(std::string_view text) noexcept;

/// Reads either: a bare date means 00:00 UTC of that day.
Result<Instant, std::string> parse_time(std::string_view text) noexcept;

/// Adds a duration with the calendar rules above; saturates at 0001-01-01T00:00:00Z and
/// 9999-12-31T23:59:59.999999Z instead of overflowing.
Instant add(Instant at, const Duration& d) noexcept;

/// Writes an instant as RFC 3339 in UTC: `2026-02-16T00:00:00Z`, with `.ffffff` only when
/// the fraction is not zero. Instants outside the years 0001..9999 are written as the
/// nearest end of that range.
std::string format_date_time(Instant at);

/// Writes the UTC calendar date of an instant: `2026-02-16` (clamped as above).
std::string format_date(Instant at);

/// Writes an instant the shortest way that reads back as it: the date alone at midnight
/// UTC (which `date` and `time` attributes both take), the date-time otherwise.
std::string format_instant(Instant at);

/// Writes a duration as a policy writes it: "6 years", "1 year 2 months", "30 days",
/// "90 seconds"; zero is "0 days". Each field is written as it is; the seconds in the
/// largest unit that holds them exactly ("2 hours", "90 minutes", "90 seconds").
std::string format_duration(const Duration& d);

}  // namespace clause
