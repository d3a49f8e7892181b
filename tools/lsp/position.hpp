// LSP positions: 0-based lines and UTF-16 code units, converted from and to the byte
// offsets that the spans of diagnostics and syntax trees hold.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clause/diagnostic.hpp"

namespace clause::lsp {

/// A place in a document as LSP counts it: a 0-based line and a 0-based column in UTF-16
/// code units.
struct Position {
  std::uint32_t line = 0;
  std::uint32_t character = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

/// A half-open range between two positions.
struct Range {
  Position start;
  Position end;
  friend bool operator==(const Range&, const Range&) = default;
};

/// Knows where each line of a text starts, to convert between byte offsets and positions.
/// Lines end at "\n", "\r\n" or "\r", as LSP says. Bytes that are not well-formed UTF-8
/// count as one code unit each, as the U+FFFD an editor shows for them.
class LineIndex {
 public:
  explicit LineIndex(std::string text);

  /// The position of a byte offset; an offset inside a character gives that character's
  /// start, one past the end of the text gives the end.
  [[nodiscard]] Position position(std::uint32_t offset) const;
  /// The byte offset of a position; a column past the end of its line gives the line's
  /// end, a line past the last gives the end of the text.
  [[nodiscard]] std::uint32_t offset(Position position) const;
  [[nodiscard]] Range range(Span span) const;
  /// The position just past the last character: where a whole-document edit ends.
  [[nodiscard]] Position end() const;
  [[nodiscard]] const std::string& text() const { return text_; }

 private:
  // The offset where line `line`'s content ends, before its line break.
  [[nodiscard]] std::uint32_t line_end(std::size_t line) const;

  std::string text_;
  std::vector<std::uint32_t> starts_;  // the offset where each line starts
};

}  // namespace clause::lsp
