// Stage: every stage. The types of request attributes and their values, for the checker
// (constants in conditions), the engine (requests) and the analyses (witnesses).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "clause/time.hpp"

namespace clause {

/// The type of a declared attribute. `date` takes `YYYY-MM-DD` only; `time` takes a date
/// or an RFC 3339 date-time. Both hold an Instant.
enum class AttrType : std::uint8_t { string, integer, boolean, date, time, string_list };

/// Names a type as a policy writes it: "string", "integer", ..., "list of string".
std::string_view to_string(AttrType type) noexcept;

/// Where a type's noun is said: in a policy's diagnostics, or in a request's errors, which
/// speak of JSON values ("true or false", "an array of strings").
enum class NounFor : std::uint8_t { policy, request };

/// Names a type with its article, as a message says what a value is or should be: "a
/// string", "an integer", "a list of strings".
std::string_view type_noun(AttrType type, NounFor where = NounFor::policy) noexcept;

/// Reads a whole 64-bit signed integer written in decimal; nothing when it is out of range
/// or not all digits.
std::optional<std::int64_t> parse_integer(std::string_view text) noexcept;

/// One attribute's value in a request; monostate when the request leaves it out.
using Value = std::variant<std::monostate, bool, std::int64_t, std::string,
                           std::vector<std::string>, Instant>;

}  // namespace clause
