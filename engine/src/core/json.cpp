// Stage: evaluate (output). Decisions as one line of JSON each, written by hand: the
// fields are few and fixed, and this runs once per decision on the JSON path.
#include "clause/json.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>

namespace clause {
namespace {

// The bytes that must be escaped in a JSON string, as a table: one load a byte.
constexpr std::array<bool, 256> needs_escape = [] {
  std::array<bool, 256> table{};
  for (std::size_t c = 0; c < 0x20; ++c)
    table[c] = true;
  table['"'] = true;
  table['\\'] = true;
  return table;
}();

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  append_json_string(out, value);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  // Runs of bytes that need no escape (nearly all of them) are copied whole.
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!needs_escape[static_cast<unsigned char>(c)]) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
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
        out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_json(std::string& out, const Decision& d) {
  out += "{\"decision\":";
  append_json_string(out, to_string(d.effect));
  append_field(out, "clause", d.clause);
  if (!d.error.empty()) {
    append_field(out, "error", d.error);
    out += '}';
    return;
  }
  append_field(out, "rule", d.rule);
  if (d.effect == Effect::require_consent) append_field(out, "consent", d.consent);
  if (!d.obligations.empty()) {
    out += ",\"obligations\":[";
    for (std::size_t i = 0; i < d.obligations.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, d.obligations[i]);
    }
    out += ']';
  }
  append_field(out, "reason", d.reason);
  if (!d.trace.empty()) {
    out += ",\"trace\":[";
    bool first = true;
    for (const TraceStep& step : d.trace) {
      if (!first) out += ',';
      first = false;
      out += "{\"rule\":";
      append_json_string(out, step.rule);
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

std::size_t json_string_end(std::string_view text, std::size_t open_quote) noexcept {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* at = begin + open_quote + 1;
  while (at < end) {
    const auto* quote =
        static_cast<const char*>(std::memchr(at, '"', static_cast<std::size_t>(end - at)));
    if (quote == nullptr) return std::string_view::npos;
    // Escaped when an odd number of backslashes stands just before it.
    std::size_t slashes = 0;
    for (const char* p = quote; p > begin + open_quote + 1 && p[-1] == '\\'; --p)
      ++slashes;
    if (slashes % 2 == 0) return static_cast<std::size_t>(quote - begin) + 1;
    at = quote + 1;
  }
  return std::string_view::npos;
}

// The bytes that matter while a value is skipped: quotes, brackets, braces and commas.
constexpr std::array<bool, 256> structural = [] {
  std::array<bool, 256> table{};
  for (const char c : std::string_view("\"[]{},"))
    table[static_cast<unsigned char>(c)] = true;
  return table;
}();

std::optional<std::string_view> request_id_json(std::string_view text) noexcept {
  const auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  std::size_t i = 0;
  const auto skip_space = [&] {
    while (i < text.size() && space(text[i]))
      ++i;
  };
  // Most requests name no id at all: one search (vectorised by the library) says so.
  if (text.find("\"id\"") == std::string_view::npos) return std::nullopt;
  const auto string_end = [&](std::size_t at) { return json_string_end(text, at); };
  skip_space();
  if (i >= text.size() || text[i] != '{') return std::nullopt;
  ++i;
  for (;;) {
    skip_space();
    if (i >= text.size() || text[i] != '"') return std::nullopt;
    const std::size_t key_end = string_end(i);
    if (key_end == std::string_view::npos) return std::nullopt;
    const std::string_view key = text.substr(i + 1, key_end - i - 2);
    i = key_end;
    skip_space();
    if (i >= text.size() || text[i] != ':') return std::nullopt;
    ++i;
    skip_space();
    const std::size_t value_begin = i;
    // Skip the value: a string, or anything up to the next `,` or `}` outside brackets and
    // strings (counted, not recursed into).
    std::size_t depth = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (!structural[static_cast<unsigned char>(c)]) {
        ++i;
        continue;
      }
      if (c == '"') {
        i = string_end(i);
        if (i == std::string_view::npos) return std::nullopt;
        continue;
      }
      if (c == '[' || c == '{') {
        ++depth;
      } else if (c == ']' || c == '}') {
        if (depth == 0) break;
        --depth;
      } else if (c == ',' && depth == 0) {
        break;
      }
      ++i;
    }
    if (i >= text.size()) return std::nullopt;
    std::string_view value = text.substr(value_begin, i - value_begin);
    while (!value.empty() && space(value.back()))
      value.remove_suffix(1);
    if (key == "id") {
      if (value.empty()) return std::nullopt;
      const char first = value.front();
      const bool scalar =
          first == '"' || first == '-' || (first >= '0' && first <= '9') || value == "null";
      if (!scalar) return std::nullopt;
      if (first == '"' && string_end(value_begin) != value_begin + value.size()) {
        return std::nullopt;
      }
      if (first != '"') {
        for (const char c : value) {
          const bool number_char = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
                                   c == 'e' || c == 'E' || value == "null";
          if (!number_char) return std::nullopt;
        }
      }
      return value;
    }
    if (text[i] == '}') return std::nullopt;
    ++i;  // the comma
  }
}

void append_json_with_id(std::string& out, const Decision& decision,
                         std::optional<std::string_view> id_json) {
  if (!id_json) return append_json(out, decision);
  out += "{\"id\":";
  out += *id_json;
  out += ',';
  const std::size_t at = out.size();
  append_json(out, decision);
  out.erase(at, 1);  // the decision's own opening brace
}

}  // namespace clause
