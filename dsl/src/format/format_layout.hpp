// Stage: parse, in reverse. What the policy and test-file printers share: statements as
// items with their comments, and the layout that places them. Private to the formatter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clause/diagnostic.hpp"
#include "clause/dsl/ast.hpp"

namespace clause::dsl::formatting {

// Pieces of a statement that are never broken inside; a line may break between two.
using Chunks = std::vector<std::string>;

// Statements that line up in columns with their neighbours of the same kind.
enum class Align : std::uint8_t { none, data, requester, purpose, attribute, exclude };

// One statement, with the comments that go with it.
struct Item {
  std::uint32_t begin = 0;  // of its annotation, or else of the statement
  std::uint32_t code = 0;   // of the statement
  std::uint32_t end = 0;
  const ast::Suppression* annotation = nullptr;
  std::uint32_t annotation_end = 0;  // after its last warning code
  Align align = Align::none;
  std::vector<std::string> cells;  // an aligned statement's columns; empty cells are left out
  std::vector<std::string> lines;  // any other statement's lines
  std::vector<std::string> above_annotation;
  std::string annotation_comment;
  std::vector<std::string> hoisted;  // comments from inside the statement, put above it
  std::string trailing;              // the comment that ends its last line
  std::uint32_t extent_end = 0;      // the end of the statement or of its trailing comment
};

bool is_blank(char c);
bool has_line_break(std::string_view text, std::uint32_t begin, std::uint32_t end);

/// A comment's text without its trailing blanks; the rest is kept byte for byte.
std::string comment_text(const ast::Comment& c);

/// A value as a string literal, escaped.
std::string quote(std::string_view value);

/// Puts each chunk on the current line when it fits, else starts a line `indent` deep.
void fill_lines(std::vector<std::string>& lines, const Chunks& chunks, std::size_t indent);

/// `prefix` and the names, as chunks separated by commas.
Chunks list_chunks(const std::string& prefix, const std::vector<ast::Name>& names);

/// A left-out set has an empty span; a written `any` has the span of the word.
bool written(const ast::NameSet& set);

/// Makes sure that printing the items and comments loses nothing: outside the statements
/// there are only blanks and comments. Throws std::invalid_argument otherwise.
void check_coverage(const SourceFile& file, const std::vector<Span>& items,
                    const std::vector<ast::Comment>& comments);

/// Prints the items in source order with their comments.
std::string layout(std::string_view text, std::vector<Item> items,
                   const std::vector<ast::Comment>& comments);

/// The spans of the items, from annotation to end.
std::vector<Span> spans_of(const std::vector<Item>& items);

}  // namespace clause::dsl::formatting
