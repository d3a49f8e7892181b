// Stage: evaluate (output). Decisions as JSON text, kept apart from the core API.
#pragma once

#include <cstddef>
#include <optional>
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

/// Appends `text` as a JSON string, quoted and escaped (the text is UTF-8).
void append_json_string(std::string& out, std::string_view text);

/// Whether JSON text nests arrays and objects more than `limit` deep, read in one pass
/// without recursion (brackets inside strings do not count). For callers that hand text
/// to a recursive JSON library: check first, and treat deeper text as text.
[[nodiscard]] bool json_nesting_exceeds(std::string_view text, std::size_t limit) noexcept;

/// Where the JSON string that opens at `open_quote` ends (one past its closing quote), or
/// npos when it does not end; escapes are honoured. Finds quotes with memchr, so a scan
/// of JSON text spends little time inside strings.
[[nodiscard]] std::size_t json_string_end(std::string_view text, std::size_t open_quote) noexcept;

/// The JSON text of a request's top-level `id` when it is a string, a number or `null`,
/// found in one pass without parsing the rest (and whether or not the rest is a valid
/// request), so that an answer can echo the id of the request it answers.
[[nodiscard]] std::optional<std::string_view> request_id_json(std::string_view text) noexcept;

/// Appends a decision as append_json does, with `"id":ID` first when `id_json` is given.
void append_json_with_id(std::string& out, const Decision& decision,
                         std::optional<std::string_view> id_json);

}  // namespace clause
