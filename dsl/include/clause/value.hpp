// Stage: every stage. The types of request attributes and their values, for the checker
// (constants in conditions), the engine (requests) and the analyses (witnesses).
#pragma once

#include <cstdint>
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

/// One attribute's value in a request; monostate when the request leaves it out.
using Value = std::variant<std::monostate, bool, std::int64_t, std::string,
                           std::vector<std::string>, Instant>;

}  // namespace clause
