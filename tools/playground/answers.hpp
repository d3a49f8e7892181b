// The playground's answers: what `clause serve --playground` sends for its POST routes, and
// what the WebAssembly build (tools/wasm) gives the page in the browser, from one code.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "clause/clause.hpp"

namespace clause::playground_api {

/// An HTTP status and its JSON body; a refusal is `{"error": "..."}`.
struct Answer {
  int status = 200;
  nlohmann::json body;
};

/// Answers `route` ("compile", "decide" or "plan") for `body`, the posted JSON text:
/// `{"policy": TEXT}`, with `"request"` for decide and plan. The policy is compiled with
/// `options` (its limits bound the body too). Throws nothing: an unexpected failure is a 500.
Answer answer(std::string_view route, std::string_view body,
              const CompileOptions& options) noexcept;

}  // namespace clause::playground_api
