// Stage: parse. Recovery after a parse error: what was found, where the caret goes, and
// where the parse resumes.
#include "parse/recovery.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "clause/dsl/keywords.hpp"

namespace clause::dsl::parsing {
namespace {

// The end of the code on the line [begin, end): before a `#` comment (outside strings),
// without trailing blanks. Equal to `begin` when the line holds no code.
std::size_t code_end(std::string_view text, std::size_t begin, std::size_t end) {
  bool in_string = false;
  std::size_t last = begin;
  for (std::size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (c == '"' && (i == begin || text[i - 1] != '\\')) in_string = !in_string;
    if (!in_string && c == '#') break;
    if (c != ' ' && c != '\t' && c != '\r') last = i + 1;
  }
  return last;
}
}  // namespace

std::string describe_found(std::string_view text, std::size_t at) {
  if (at >= text.size()) return "end of file";
  const auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  if (text[at] == '\n' || text[at] == '\r') return "end of line";
  if (static_cast<unsigned char>(text[at]) >= 0x80) return "a character that is not ASCII";
  if (static_cast<unsigned char>(text[at]) < 0x20 || text[at] == 0x7f) {
    return fmt::format("a control character (byte {:#04x})",
                       static_cast<unsigned>(static_cast<unsigned char>(text[at])));
  }
  std::size_t end = at;
  if (is_word(text[at])) {
    while (end < text.size() && is_word(text[end]))
      ++end;
  } else if (text[at] == '"') {
    end = text.find_first_of("\"\n", at + 1);
    end = end == std::string_view::npos ? text.size() : end + (text[end] == '"' ? 1 : 0);
    if (end - at > 24) return "a string";
  } else {
    end = at + 1;
  }
  return fmt::format("`{}`", text.substr(at, end - at));
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

std::size_t end_of_code_before(std::string_view text, std::size_t statement, std::size_t at) {
  std::size_t line_begin = text.rfind('\n', at == 0 ? 0 : at - 1);
  line_begin = (at == 0 || line_begin == std::string_view::npos) ? 0 : line_begin + 1;
  if (code_end(text, line_begin, at) > line_begin) return at;  // code before it on its line
  while (line_begin > statement) {
    const std::size_t prev_end = line_begin - 1;  // the line break
    std::size_t prev_begin = text.rfind('\n', prev_end == 0 ? 0 : prev_end - 1);
    prev_begin = (prev_end == 0 || prev_begin == std::string_view::npos) ? 0 : prev_begin + 1;
    const std::size_t end = code_end(text, std::max(prev_begin, statement), prev_end);
    if (end > std::max(prev_begin, statement)) return end;
    line_begin = prev_begin;
  }
  return at;
}

std::string_view token_at(std::string_view text, std::size_t at) {
  if (at >= text.size()) return {};
  std::size_t end = at;
  if (is_word_char(text[at])) {
    while (end < text.size() && (is_word_char(text[end]) || text[end] == '.'))
      ++end;
  } else {
    end = at + 1;
  }
  return text.substr(at, end - at);
}

bool has_code_before_on_line(std::string_view text, std::size_t at) {
  if (at == 0) return false;
  const std::size_t nl = text.rfind('\n', at - 1);
  const std::size_t line_begin = nl == std::string_view::npos ? 0 : nl + 1;
  return code_end(text, line_begin, at) > line_begin;
}

std::size_t next_statement(std::string_view text, std::size_t from, bool test_file) {
  std::size_t pos = text.find('\n', from);
  while (pos != std::string_view::npos) {
    std::size_t line = pos + 1;
    while (line < text.size() && (text[line] == ' ' || text[line] == '\t'))
      ++line;
    const std::string_view rest = text.substr(line);
    for (const Keyword& k : keywords) {
      const std::string_view word = k.word;
      if (!(test_file ? k.starts_test : k.starts_statement)) continue;
      if (rest.starts_with(word) &&
          (rest.size() == word.size() ||
           !(std::isalnum(static_cast<unsigned char>(rest[word.size()])) ||
             rest[word.size()] == '_'))) {
        return line;
      }
    }
    // A labelled rule starts with `name:`.
    std::size_t n = 0;
    while (n < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_'))
      ++n;
    if (!test_file && n > 0 && n < rest.size() && rest[n] == ':') return line;
    pos = text.find('\n', line);
  }
  return text.size();
}

}  // namespace clause::dsl::parsing
