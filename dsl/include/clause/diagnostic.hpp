// Stage: every stage. Source text, spans and diagnostics: the values that every stage
// reports with, kept apart from how they are rendered.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace clause {

/// Holds one policy file: the name shown in diagnostics and its whole text.
struct SourceFile {
  std::string name;
  std::string text;
};

/// Marks a half-open range of bytes [begin, end) in a SourceFile.
struct Span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

/// Names a 1-based line and a 1-based column (in bytes) of a text.
struct LineColumn {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

/// Finds the line and column of a byte offset in a text.
LineColumn line_column(std::string_view text, std::uint32_t offset);

/// Gives the length of the well-formed UTF-8 sequence at `at` (1 for ASCII), or 0 when
/// the bytes there are not one: a stray continuation byte, a cut sequence, an overlong
/// form, a surrogate, or a code point past U+10FFFF (RFC 3629).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

enum class Severity : std::uint8_t { error, warning };

/// Points at a related place, rendered as a `note:` under the main message.
struct Note {
  Span span;
  std::string message;
};

/// Describes one mistake (or one doubtful thing) in a policy, with a stable code.
struct Diagnostic {
  Severity severity = Severity::error;
  std::string code;     // stable, catalogued in docs/errors.md, e.g. "E201"
  std::string message;  // lower case, one line, user names in backticks
  Span span;
  std::vector<Note> notes;
  std::string help;  // a fix, when one can be guessed; empty otherwise
  // The name or clause id the diagnostic is about, when it is about one, for tools that
  // act on it (dropping cascades); not rendered.
  std::string subject{};
  // The file the span and notes point into when it is not the one being rendered: a JSON
  // document a policy reads (its own diagnostics name it).
  std::shared_ptr<const SourceFile> file{};
};

/// Tells whether any diagnostic in the list is an error.
bool has_errors(const std::vector<Diagnostic>& diagnostics);

/// Sorts diagnostics by position, errors before warnings at the same place.
void sort_by_position(std::vector<Diagnostic>& diagnostics);

/// Renders diagnostics like a compiler: `file:line:col: error[E201]: ...`, the source line,
/// a caret under the span, then notes and help.
std::string render_text(const SourceFile& file, const std::vector<Diagnostic>& diagnostics);

/// Renders diagnostics as a JSON array for editors and tools.
std::string render_json(const SourceFile& file, const std::vector<Diagnostic>& diagnostics);

}  // namespace clause
