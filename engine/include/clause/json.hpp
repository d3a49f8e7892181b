// Stage: evaluate (output). Decisions as JSON text, kept apart from the core API.
#pragma once

#include <string>

#include "clause/clause.hpp"

namespace clause {

/// Encodes a decision as one line of JSON: `decision`, `clause`, `rule`, `consent` (only
/// for require-consent), `reason`, and `trace` when one was recorded. A decision for an
/// invalid request is `{"decision":"deny","clause":"default","error":"..."}`.
std::string to_json(const Decision& decision);

/// Appends the JSON of a decision to `out`, for callers that reuse one buffer.
void append_json(std::string& out, const Decision& decision);

}  // namespace clause
