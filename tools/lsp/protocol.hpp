// The JSON shapes of LSP shared by the protocol layer and the features: responses,
// positions and ranges.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "clause/diagnostic.hpp"
#include "position.hpp"

namespace clause::lsp {

/// A request refused with an error response that the client shows (a rename to a taken
/// name): `code` is a JSON-RPC error code.
struct RequestError : std::runtime_error {
  RequestError(int error_code, const std::string& message)
      : std::runtime_error(message), code(error_code) {}
  int code;
};

inline nlohmann::json response(const nlohmann::json& id, nlohmann::json result) {
  return nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

inline nlohmann::json error_response(const nlohmann::json& id, int code, std::string message) {
  return nlohmann::json{
      {"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", std::move(message)}}}};
}

inline nlohmann::json position_json(Position p) {
  return nlohmann::json{{"line", p.line}, {"character", p.character}};
}

inline nlohmann::json range_json(Range r) {
  return nlohmann::json{{"start", position_json(r.start)}, {"end", position_json(r.end)}};
}

inline Position position_of(const nlohmann::json& j) {
  return Position{j.at("line").get<std::uint32_t>(), j.at("character").get<std::uint32_t>()};
}

/// A diagnostic as LSP shows it; its help, when any, ends the message.
inline nlohmann::json diagnostic_json(const Diagnostic& d, const LineIndex& lines,
                                      const std::string& uri) {
  std::string message = d.message;
  if (!d.help.empty()) message += "\nhelp: " + d.help;
  nlohmann::json out{{"range", range_json(lines.range(d.span))},
                     {"severity", d.severity == Severity::error ? 1 : 2},
                     {"code", d.code},
                     {"source", "clause"},
                     {"message", std::move(message)}};
  if (!d.notes.empty()) {
    nlohmann::json related = nlohmann::json::array();
    for (const Note& n : d.notes) {
      related.push_back({{"location", {{"uri", uri}, {"range", range_json(lines.range(n.span))}}},
                         {"message", n.message}});
    }
    out["relatedInformation"] = std::move(related);
  }
  return out;
}

}  // namespace clause::lsp
