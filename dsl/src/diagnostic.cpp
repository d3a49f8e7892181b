// Stage: every stage. Rendering of diagnostics, as text for people and JSON for tools.
#include "clause/diagnostic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

namespace clause {

LineColumn line_column(std::string_view text, std::uint32_t offset) {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
  LineColumn lc;
  std::uint32_t line_start = 0;
  for (std::uint32_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      line_start = i + 1;
    }
  }
  lc.column = offset - line_start + 1;
  return lc;
}

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0U;
  };
  const unsigned b0 = byte(at);
  if (b0 < 0x80) return 1;
  const auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return byte(i) >= lo && byte(i) <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(at + 1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
    return cont(at + 1, lo, hi) && cont(at + 2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return cont(at + 1, lo, hi) && cont(at + 2) && cont(at + 3) ? 4 : 0;
  }
  return 0;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::error; });
}

void sort_by_position(std::vector<Diagnostic>& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     if (a.span.begin != b.span.begin) return a.span.begin < b.span.begin;
                     return a.severity < b.severity;
                   });
}

namespace {

// Where each line of a text starts, so that a position is found by binary search: a file
// with thousands of diagnostics is rendered in linear time, not one scan per position.
class LineStarts {
 public:
  explicit LineStarts(std::string_view text) : size_(static_cast<std::uint32_t>(text.size())) {
    starts_.push_back(0);
    for (std::size_t i = text.find('\n'); i != std::string_view::npos; i = text.find('\n', i + 1))
      starts_.push_back(static_cast<std::uint32_t>(i + 1));
  }
  // As line_column(text, offset).
  [[nodiscard]] LineColumn at(std::uint32_t offset) const {
    offset = std::min(offset, size_);
    // The last line start at or before the offset; a line break at the offset itself
    // belongs to the line it ends.
    const auto next = std::upper_bound(starts_.begin(), starts_.end(), offset);
    const auto line = static_cast<std::uint32_t>(next - starts_.begin());
    return LineColumn{line, offset - *(next - 1) + 1};
  }

 private:
  std::vector<std::uint32_t> starts_;
  std::uint32_t size_;
};

std::string_view severity_word(Severity s) {
  return s == Severity::error ? "error" : "warning";
}

// The text of the line holding `offset`, without its line break.
std::string_view line_at(std::string_view text, std::uint32_t offset, std::uint32_t* line_begin) {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
  // The line starts after the last line break before `offset` (none before offset 0).
  std::size_t begin = offset == 0 ? std::string_view::npos : text.rfind('\n', offset - 1);
  begin = begin == std::string_view::npos ? 0 : begin + 1;
  std::size_t end = text.find('\n', begin);
  if (end == std::string_view::npos) end = text.size();
  std::string_view line = text.substr(begin, end - begin);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  *line_begin = static_cast<std::uint32_t>(begin);
  return line;
}

// Appends the numbered source line and a caret line under [span.begin, span.end).
void append_snippet(std::string& out, std::string_view text, const LineStarts& lines, Span span,
                    std::size_t gutter) {
  // A span past the text (the file changed since) is shown at the text's end.
  const std::uint32_t begin =
      std::min<std::uint32_t>(span.begin, static_cast<std::uint32_t>(text.size()));
  std::uint32_t line_begin = 0;
  const std::string_view line = line_at(text, begin, &line_begin);
  const LineColumn lc = lines.at(begin);
  const std::uint32_t col = begin - line_begin;
  std::uint32_t width = 1;
  const std::uint32_t line_end = line_begin + static_cast<std::uint32_t>(line.size());
  if (span.end > begin && line_end > begin) width = std::min(span.end, line_end) - begin;
  // A very long line (generated text, a minified file) is shown as a window around the
  // caret, cut at character boundaries, with `...` where text is left out.
  constexpr std::uint32_t shown = 200;
  constexpr std::uint32_t before = 100;
  std::uint32_t from = 0;
  auto to = static_cast<std::uint32_t>(line.size());
  if (line.size() > shown) {
    const auto continuation = [&](std::uint32_t i) {
      return i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80;
    };
    from = std::min(col, to) > before ? std::min(col, to) - before : 0;
    while (from > 0 && continuation(from))
      --from;
    to = std::min(to, from + shown);
    while (to > from && continuation(to))
      --to;
    width = std::max<std::uint32_t>(1, std::min(width, to > col ? to - col : 1));
  }
  const std::string_view head = from > 0 ? "..." : "";
  const std::string_view tail = to < line.size() ? "..." : "";
  // Tabs in the source keep the caret aligned only if the caret line uses them too.
  std::string pad(head.size(), ' ');
  for (std::uint32_t i = from; i < col && i < to; ++i)
    pad += line[i] == '\t' ? '\t' : ' ';
  for (std::uint32_t i = std::max(from, to); i < col; ++i)
    pad += ' ';
  out +=
      fmt::format("{:>{}} | {}{}{}\n", lc.line, gutter, head, line.substr(from, to - from), tail);
  out += fmt::format("{:>{}} | {}{}\n", "", gutter, pad, std::string(width, '^'));
}

}  // namespace

std::string render_text(const SourceFile& file, const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  const LineStarts policy_lines(file.text);
  for (const Diagnostic& d : diagnostics) {
    const SourceFile& shown = d.file ? *d.file : file;
    const std::optional<LineStarts> own =
        d.file ? std::optional<LineStarts>(shown.text) : std::nullopt;
    const LineStarts& lines = own ? *own : policy_lines;
    const LineColumn lc = lines.at(d.span.begin);
    std::size_t gutter = std::to_string(lc.line).size();
    for (const Note& n : d.notes) {
      gutter = std::max(gutter, std::to_string(lines.at(n.span.begin).line).size());
    }
    out += fmt::format("{}:{}:{}: {}[{}]: {}\n", shown.name, lc.line, lc.column,
                       severity_word(d.severity), d.code, d.message);
    append_snippet(out, shown.text, lines, d.span, gutter);
    for (const Note& n : d.notes) {
      const LineColumn nlc = lines.at(n.span.begin);
      out += fmt::format("{:>{}} = note: {}:{}:{}: {}\n", "", gutter, shown.name, nlc.line,
                         nlc.column, n.message);
      append_snippet(out, shown.text, lines, n.span, gutter);
    }
    if (!d.help.empty()) out += fmt::format("{:>{}} = help: {}\n", "", gutter, d.help);
  }
  return out;
}

namespace {

nlohmann::json span_json(const SourceFile& file, const LineStarts& lines, Span span) {
  const LineColumn b = lines.at(span.begin);
  const LineColumn e = lines.at(span.end);
  return {{"file", file.name},
          {"begin", {{"offset", span.begin}, {"line", b.line}, {"column", b.column}}},
          {"end", {{"offset", span.end}, {"line", e.line}, {"column", e.column}}}};
}

}  // namespace

std::string render_json(const SourceFile& file, const std::vector<Diagnostic>& diagnostics) {
  nlohmann::json out = nlohmann::json::array();
  const LineStarts policy_lines(file.text);
  for (const Diagnostic& d : diagnostics) {
    const SourceFile& shown = d.file ? *d.file : file;
    const std::optional<LineStarts> own =
        d.file ? std::optional<LineStarts>(shown.text) : std::nullopt;
    const LineStarts& lines = own ? *own : policy_lines;
    nlohmann::json notes = nlohmann::json::array();
    for (const Note& n : d.notes) {
      notes.push_back({{"message", n.message}, {"span", span_json(shown, lines, n.span)}});
    }
    nlohmann::json item = {{"severity", severity_word(d.severity)},
                           {"code", d.code},
                           {"message", d.message},
                           {"span", span_json(shown, lines, d.span)},
                           {"notes", std::move(notes)}};
    if (!d.help.empty()) item["help"] = d.help;
    out.push_back(std::move(item));
  }
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace clause
