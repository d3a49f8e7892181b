// Stage: evaluate (output). Decisions as one line of JSON each, written by hand: the
// fields are few and fixed, and this runs once per decision on the JSON path.
#include "clause/json.hpp"

#include <fmt/format.h>

namespace clause {
namespace {

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  append_string(out, value);
}

}  // namespace

void append_json(std::string& out, const Decision& d) {
  out += "{\"decision\":";
  append_string(out, to_string(d.effect));
  append_field(out, "clause", d.clause);
  if (!d.error.empty()) {
    append_field(out, "error", d.error);
    out += '}';
    return;
  }
  append_field(out, "rule", d.rule);
  if (d.effect == Effect::require_consent) append_field(out, "consent", d.consent);
  append_field(out, "reason", d.reason);
  if (!d.trace.empty()) {
    out += ",\"trace\":[";
    bool first = true;
    for (const TraceStep& step : d.trace) {
      if (!first) out += ',';
      first = false;
      out += "{\"rule\":";
      append_string(out, step.rule);
      append_field(out, "clause", step.clause);
      append_field(out, "tier", to_string(step.tier));
      append_field(out, "outcome", to_string(step.outcome));
      out += fmt::format(",\"line\":{},\"column\":{}", step.position.line, step.position.column);
      if (!step.detail.empty()) append_field(out, "detail", step.detail);
      out += '}';
    }
    out += ']';
  }
  out += '}';
}

std::string to_json(const Decision& decision) {
  std::string out;
  append_json(out, decision);
  return out;
}

bool json_nesting_exceeds(std::string_view text, std::size_t limit) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace clause
