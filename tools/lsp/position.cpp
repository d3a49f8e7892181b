#include "position.hpp"

#include <algorithm>

namespace clause::lsp {
namespace {

// Code points past U+FFFF take two UTF-16 code units: exactly the 4-byte UTF-8 sequences.
std::uint32_t utf16_units(std::size_t utf8_length) {
  return utf8_length == 4 ? 2 : 1;
}

}  // namespace

LineIndex::LineIndex(std::string text) : text_(std::move(text)) {
  starts_.push_back(0);
  for (std::size_t i = 0; i < text_.size(); ++i) {
    const char c = text_[i];
    if (c == '\n' || (c == '\r' && (i + 1 == text_.size() || text_[i + 1] != '\n'))) {
      starts_.push_back(static_cast<std::uint32_t>(i + 1));
    }
  }
}

std::uint32_t LineIndex::line_end(std::size_t line) const {
  if (line + 1 >= starts_.size()) return static_cast<std::uint32_t>(text_.size());
  std::uint32_t end = starts_[line + 1];
  if (end > starts_[line] && text_[end - 1] == '\n') --end;
  if (end > starts_[line] && text_[end - 1] == '\r') --end;
  return end;
}

Position LineIndex::position(std::uint32_t offset) const {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text_.size()));
  const auto after = std::upper_bound(starts_.begin(), starts_.end(), offset);
  const auto line = static_cast<std::size_t>(after - starts_.begin()) - 1;
  // An offset inside a "\r\n" stands at the end of its line.
  const std::uint32_t stop = std::min(offset, line_end(line));
  std::uint32_t units = 0;
  std::size_t i = starts_[line];
  while (i < stop) {
    const std::size_t length = utf8_sequence_length(text_, i);
    if (length == 0) {
      ++units;
      ++i;
      continue;
    }
    if (i + length > stop) break;  // the offset is inside this character
    units += utf16_units(length);
    i += length;
  }
  return Position{static_cast<std::uint32_t>(line), units};
}

std::uint32_t LineIndex::offset(Position position) const {
  if (position.line >= starts_.size()) return static_cast<std::uint32_t>(text_.size());
  const std::uint32_t stop = line_end(position.line);
  std::uint32_t units = 0;
  std::size_t i = starts_[position.line];
  while (i < stop && units < position.character) {
    const std::size_t length = std::max<std::size_t>(utf8_sequence_length(text_, i), 1);
    const std::uint32_t width = length == 1 ? 1 : utf16_units(length);
    if (units + width > position.character) break;  // inside a surrogate pair
    units += width;
    i += length;
  }
  return static_cast<std::uint32_t>(i);
}

Range LineIndex::range(Span span) const {
  return Range{position(span.begin), position(std::max(span.begin, span.end))};
}

Position LineIndex::end() const {
  return position(static_cast<std::uint32_t>(text_.size()));
}

}  // namespace clause::lsp
