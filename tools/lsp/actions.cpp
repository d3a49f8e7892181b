#include "actions.hpp"

#include <fmt/format.h>

namespace clause::lsp {
namespace {

bool touches(Span a, Span b) {
  return a.begin <= b.end && b.begin <= a.end;
}

std::string guess_in(std::string_view text) {
  constexpr std::string_view marker = "did you mean `";
  const std::size_t at = text.find(marker);
  if (at == std::string_view::npos) return {};
  const std::size_t begin = at + marker.size();
  const std::size_t end = text.find("`?", begin);
  if (end == std::string_view::npos || end == begin) return {};
  return std::string(text.substr(begin, end - begin));
}

// The spans of a policy's statements, which `@ignore` is written before.
std::vector<Span> statements(const ast::Policy& p) {
  std::vector<Span> out;
  for (const auto& x : p.headers)
    out.push_back(x.span);
  for (const auto& x : p.clauses)
    out.push_back(x.span);
  for (const auto& x : p.decls)
    out.push_back(x.span);
  for (const auto& x : p.attributes)
    out.push_back(x.span);
  for (const auto& x : p.name_sets)
    out.push_back(x.span);
  for (const auto& x : p.documents)
    out.push_back(x.span);
  for (const auto& x : p.rules)
    out.push_back(x.span);
  for (const auto& x : p.assertions)
    out.push_back(x.span);
  return out;
}

std::size_t line_start(std::string_view text, std::size_t at) {
  while (at > 0 && text[at - 1] != '\n' && text[at - 1] != '\r')
    --at;
  return at;
}

// `@ignore CODE` on its own line before the statement, or `, CODE` added to the
// annotation already there.
Edit ignore_edit(const Document& doc, const Diagnostic& d) {
  const std::string_view text = doc.source().text;
  std::uint32_t begin = d.span.begin;
  for (const Span s : statements(doc.tree())) {
    if (s.begin <= d.span.begin && d.span.begin <= s.end && s.begin < begin) begin = s.begin;
  }
  const std::size_t line = line_start(text, begin);
  std::size_t indent_end = line;
  while (indent_end < text.size() && (text[indent_end] == ' ' || text[indent_end] == '\t'))
    ++indent_end;
  if (line > 0) {
    std::size_t eol = line - 1;  // the previous line's break
    if (eol > 0 && text[eol] == '\n' && text[eol - 1] == '\r') --eol;
    const std::size_t previous = line_start(text, eol);
    std::string_view above = text.substr(previous, eol - previous);
    while (!above.empty() && (above.front() == ' ' || above.front() == '\t'))
      above.remove_prefix(1);
    if (above.starts_with("@ignore")) {
      const auto at = static_cast<std::uint32_t>(eol);
      return Edit{Span{at, at}, ", " + d.code};
    }
  }
  const auto at = static_cast<std::uint32_t>(line);
  return Edit{Span{at, at},
              fmt::format("{}@ignore {}\n", text.substr(line, indent_end - line), d.code)};
}

}  // namespace

std::string guessed_name(const Diagnostic& d) {
  std::string guess = guess_in(d.help);
  return guess.empty() ? guess_in(d.message) : guess;
}

std::vector<Fix> code_actions(const Document& doc, Span range) {
  std::vector<Fix> out;
  const std::string& text = doc.source().text;
  for (const Diagnostic& d : doc.diagnostics()) {
    if (!touches(d.span, range)) continue;
    const std::string guess = guessed_name(d);
    if (!guess.empty() && d.span.begin < d.span.end) {
      const bool quoted = d.span.begin < text.size() && text[d.span.begin] == '"';
      out.push_back(Fix{fmt::format("Change to `{}`", guess),
                        {Edit{d.span, quoted ? "\"" + guess + "\"" : guess}},
                        true,
                        d});
    }
    if (d.severity == Severity::warning && doc.kind() == DocumentKind::policy && !d.code.empty()) {
      out.push_back(Fix{fmt::format("Add `@ignore {}`", d.code), {ignore_edit(doc, d)}, false, d});
    }
  }
  return out;
}

}  // namespace clause::lsp
