// Stage: every stage. Dates and date-times are read position by position over ASCII, so
// that hostile text (NUL bytes, non-ASCII, huge inputs) meets a plain refusal.
#include "clause/time.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <vector>

namespace clause {
namespace {

namespace chr = std::chrono;

constexpr std::int64_t micros_per_second = 1'000'000;
constexpr std::int64_t micros_per_day = 86'400 * micros_per_second;

constexpr std::int64_t first_day =
    chr::sys_days{chr::year{1} / chr::January / 1}.time_since_epoch().count();
constexpr std::int64_t last_day =
    chr::sys_days{chr::year{9999} / chr::December / 31}.time_since_epoch().count();
constexpr std::int64_t min_micros = first_day * micros_per_day;
constexpr std::int64_t max_micros = (last_day + 1) * micros_per_day - 1;
// More days or seconds than the whole range moves any instant past one of its ends.
constexpr std::int64_t span_days = last_day - first_day + 1;
constexpr std::int64_t span_seconds = span_days * 86'400;

constexpr std::array<const char*, 12> month_names = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

std::int64_t clamp_micros(std::int64_t micros) noexcept {
  return micros < min_micros ? min_micros : micros > max_micros ? max_micros : micros;
}

struct DayAndTime {
  std::int64_t day;          // days since 1970-01-01
  std::int64_t time_micros;  // 0 .. micros_per_day - 1
};

DayAndTime split(std::int64_t micros) noexcept {
  std::int64_t day = micros / micros_per_day;
  std::int64_t rest = micros % micros_per_day;
  if (rest < 0) {
    rest += micros_per_day;
    --day;
  }
  return {day, rest};
}

chr::year_month_day calendar_date(std::int64_t day) noexcept {
  return chr::year_month_day{chr::sys_days{chr::days{day}}};
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

/// Reads exactly `count` ASCII digits at `at`; false when any is missing or not a digit.
bool read_digits(std::string_view text, std::size_t at, std::size_t count, int& out) noexcept {
  if (text.size() < at + count) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (!is_digit(text[i])) return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

enum class Form : std::uint8_t { date, date_time, either };  // shape_error() indexes by it

std::string_view shape_error(Form form) noexcept {
  constexpr std::array<std::string_view, 3> expected = {
      "expected a date `YYYY-MM-DD`", "expected a date-time such as `2026-02-16T08:00:00Z`",
      "expected a date `YYYY-MM-DD` or a date-time such as `2026-02-16T08:00:00Z`"};
  return expected[static_cast<std::size_t>(form)];
}

/// Reads the `YYYY-MM-DD` that starts the text: days since 1970-01-01.
Result<std::int64_t, std::string> read_date(std::string_view text, Form form) noexcept {
  std::size_t year_digits = 0;
  while (year_digits < text.size() && is_digit(text[year_digits]))
    ++year_digits;
  // A five-digit year is a date past 9999, not a shapeless text.
  if (year_digits > 4 && year_digits < text.size() && text[year_digits] == '-') {
    return Failure{std::string("year must be 0001 to 9999")};
  }
  int year = 0;
  int month = 0;
  int day = 0;
  if (year_digits != 4 || !read_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' ||
      !read_digits(text, 5, 2, month) || text[7] != '-' || !read_digits(text, 8, 2, day)) {
    return Failure{std::string(shape_error(form))};
  }
  if (year == 0) return Failure{std::string("year must be 0001 to 9999")};
  if (month < 1 || month > 12) return Failure{std::string("month must be 01 to 12")};
  if (day < 1 || day > 31) return Failure{std::string("day must be 01 to 31")};
  const chr::year_month_day date{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                                 chr::day{static_cast<unsigned>(day)}};
  if (!date.ok()) {
    return Failure{fmt::format("day {} is not in {} {}", day, month_names[month - 1], year)};
  }
  return chr::sys_days{date}.time_since_epoch().count();
}

/// Reads `±HH:MM` at `at`: the offset east of UTC in seconds.
Result<std::int64_t, std::string> read_offset(std::string_view text, std::size_t at) noexcept {
  int hours = 0;
  int minutes = 0;
  if (!read_digits(text, at + 1, 2, hours) || text.size() < at + 6 || text[at + 3] != ':' ||
      !read_digits(text, at + 4, 2, minutes)) {
    return Failure{std::string("expected an offset such as `+02:00`")};
  }
  if (hours > 23) return Failure{std::string("offset hours must be 00 to 23")};
  if (minutes > 59) return Failure{std::string("offset minutes must be 00 to 59")};
  const std::int64_t seconds = hours * 3600 + minutes * 60;
  return text[at] == '-' ? -seconds : seconds;
}

/// Reads `THH:MM:SS[.frac](Z|±HH:MM)` from position 10 to the end: microseconds since the
/// start of the day in UTC (negative or past a day when the offset crosses midnight).
Result<std::int64_t, std::string> read_time(std::string_view text) noexcept {
  std::size_t at = 10;
  if (text[at] != 'T' && text[at] != 't') {
    return Failure{std::string("expected `T` between the date and the time")};
  }
  ++at;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!read_digits(text, at, 2, hour) || text.size() < at + 8 || text[at + 2] != ':' ||
      !read_digits(text, at + 3, 2, minute) || text[at + 5] != ':' ||
      !read_digits(text, at + 6, 2, second)) {
    return Failure{std::string("expected a time `HH:MM:SS` after `T`")};
  }
  if (hour > 23) return Failure{std::string("hour must be 00 to 23")};
  if (minute > 59) return Failure{std::string("minute must be 00 to 59")};
  if (second > 59) return Failure{std::string("second must be 00 to 59")};
  at += 8;
  std::int64_t fraction = 0;  // microseconds; digits past the sixth are dropped (toward the past)
  if (at < text.size() && text[at] == '.') {
    std::size_t digits = 0;
    while (at + 1 + digits < text.size() && is_digit(text[at + 1 + digits])) {
      if (digits < 6) fraction = fraction * 10 + (text[at + 1 + digits] - '0');
      ++digits;
    }
    if (digits < 1 || digits > 9) {
      return Failure{std::string("a fraction of a second needs 1 to 9 digits")};
    }
    for (std::size_t i = digits; i < 6; ++i)
      fraction *= 10;
    at += 1 + digits;
  }
  if (at == text.size()) {
    return Failure{std::string("a date-time needs `Z` or an offset such as `+02:00`")};
  }
  std::int64_t offset_seconds = 0;
  if (text[at] == 'Z' || text[at] == 'z') {
    at += 1;
  } else if (text[at] == '+' || text[at] == '-') {
    auto offset = read_offset(text, at);
    if (!offset) return Failure{std::move(offset.error())};
    offset_seconds = *offset;
    at += 6;
  } else {
    return Failure{std::string("expected `Z` or an offset such as `+02:00` after the time")};
  }
  if (at != text.size()) return Failure{std::string("unexpected text after the date-time")};
  const std::int64_t local_seconds = hour * 3600 + minute * 60 + second;
  return (local_seconds - offset_seconds) * micros_per_second + fraction;
}

Result<Instant, std::string> read_instant(std::string_view text, Form form) noexcept {
  auto day = read_date(text, form);
  if (!day) return Failure{std::move(day.error())};
  const std::int64_t midnight = *day * micros_per_day;
  if (text.size() == 10) {
    if (form == Form::date_time) {
      return Failure{std::string("a date-time needs a time after the date, such as `T08:00:00Z`")};
    }
    return Instant{midnight};
  }
  if (form == Form::date) return Failure{std::string(shape_error(form))};
  auto time_of_day = read_time(text);
  if (!time_of_day) return Failure{std::move(time_of_day.error())};
  const std::int64_t micros = midnight + *time_of_day;
  // An offset can carry the first or last day of the range across its end.
  if (micros < min_micros || micros > max_micros) {
    return Failure{std::string("a date-time must fall within the years 0001 to 9999 in UTC")};
  }
  return Instant{micros};
}

/// Adds `amount` units of `unit_micros`, saturating at the ends of the range.
std::int64_t add_fixed(std::int64_t micros, std::int64_t amount, std::int64_t span,
                       std::int64_t unit_micros) noexcept {
  if (amount > span) return max_micros;
  if (amount < -span) return min_micros;
  return clamp_micros(micros + amount * unit_micros);
}

std::string amount(std::int64_t n, const char* singular, const char* plural) {
  return fmt::format("{} {}", n, n == 1 || n == -1 ? singular : plural);
}

}  // namespace

Result<Instant, std::string> parse_date(std::string_view text) noexcept {
  return read_instant(text, Form::date);
}

Result<Instant, std::string> parse_date_time(std::string_view text) noexcept {
  return read_instant(text, Form::date_time);
}

Result<Instant, std::string> parse_time(std::string_view text) noexcept {
  return read_instant(text, Form::either);
}

Instant add(Instant at, const Duration& d) noexcept {
  std::int64_t micros = clamp_micros(at.micros);
  if (d.years != 0 || d.months != 0) {
    const auto [day, time_micros] = split(micros);
    const chr::year_month_day date = calendar_date(day);
    const std::int64_t month_index = std::int64_t{static_cast<int>(date.year())} * 12 +
                                     (static_cast<unsigned>(date.month()) - 1) +
                                     std::int64_t{d.years} * 12 + d.months;
    if (month_index < 1 * 12) return Instant{min_micros};
    if (month_index >= 10'000 * 12) return Instant{max_micros};
    const chr::year_month first{chr::year{static_cast<int>(month_index / 12)},
                                chr::month{static_cast<unsigned>(month_index % 12 + 1)}};
    // The day counts on from the first of the month, so a day past its end rolls over.
    const std::int64_t new_day = chr::sys_days{first / 1}.time_since_epoch().count() +
                                 (static_cast<unsigned>(date.day()) - 1);
    micros = clamp_micros(new_day * micros_per_day + time_micros);
  }
  micros = add_fixed(micros, d.days, span_days, micros_per_day);
  micros = add_fixed(micros, d.seconds, span_seconds, micros_per_second);
  return Instant{micros};
}

std::string format_date_time(Instant at) {
  const auto [day, time_micros] = split(clamp_micros(at.micros));
  const std::int64_t seconds = time_micros / micros_per_second;
  const std::int64_t fraction = time_micros % micros_per_second;
  std::string text = format_date(at);
  text += fmt::format("T{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
  if (fraction != 0) text += fmt::format(".{:06}", fraction);
  text += 'Z';
  return text;
}

std::string format_date(Instant at) {
  const chr::year_month_day date = calendar_date(split(clamp_micros(at.micros)).day);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

std::string format_instant(Instant at) {
  const std::int64_t into_day = ((at.micros % micros_per_day) + micros_per_day) % micros_per_day;
  return into_day == 0 ? format_date(at) : format_date_time(at);
}

std::string format_duration(const Duration& d) {
  std::vector<std::string> parts;
  if (d.years != 0) parts.push_back(amount(d.years, "year", "years"));
  if (d.months != 0) parts.push_back(amount(d.months, "month", "months"));
  if (d.days != 0) parts.push_back(amount(d.days, "day", "days"));
  if (d.seconds % 3600 == 0 && d.seconds != 0) {
    parts.push_back(amount(d.seconds / 3600, "hour", "hours"));
  } else if (d.seconds % 60 == 0 && d.seconds != 0) {
    parts.push_back(amount(d.seconds / 60, "minute", "minutes"));
  } else if (d.seconds != 0) {
    parts.push_back(amount(d.seconds, "second", "seconds"));
  }
  if (parts.empty()) return "0 days";
  std::string text = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i)
    text += ' ' + parts[i];
  return text;
}

}  // namespace clause
