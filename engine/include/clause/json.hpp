// Stage: evaluate (output). Decisions as JSON text, kept apart from the core API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "clause/clause.hpp"

namespace clause {

/// Encodes a decision as one line of JSON: `decision`, `clause`, `rule`, `consent` (only
/// for require-consent), `reason`, and `trace` when one was recorded. A decision for an
/// invalid request is `{"decision":"deny","clause":"default","error":"..."}`.
std::string to_json(const Decision& decision);

/// Appends the JSON of a decision to `out`, for callers that reuse one buffer.
void append_json(std::string& out, const Decision& decision);

/// Whether JSON text nests arrays and objects more than `limit` deep, read in one pass
/// without recursion (brackets inside strings do not count). For callers that hand text
/// to a recursive JSON library: check first, and treat deeper text as text.
[[nodiscard]] bool json_nesting_exceeds(std::string_view text, std::size_t limit) noexcept;

}  // namespace clause
