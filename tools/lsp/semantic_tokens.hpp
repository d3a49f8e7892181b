// Semantic tokens (textDocument/semanticTokens/full): keywords, strings, comments and
// numbers by their spelling; names by what the policy declares them to be.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "language.hpp"

namespace clause::lsp {

/// The token types, in the order of the legend the server advertises.
enum class TokenType : std::uint8_t {
  keyword,
  string,
  comment,
  number,
  type,         // a declared data category, requester kind, action, ... and name sets
  variable,     // an attribute
  function,     // a rule's label
  namespace_,   // a clause id
  enum_member,  // a name of a name set
};

inline constexpr std::array<std::string_view, 9> token_types = {
    "keyword",  "string",   "comment",   "number",    "type",
    "variable", "function", "namespace", "enumMember"};
/// The one modifier: where a name is declared.
inline constexpr std::array<std::string_view, 1> token_modifiers = {"declaration"};

struct SemanticToken {
  Span span;  // on one line
  TokenType type = TokenType::keyword;
  bool declaration = false;
};

/// The tokens of a document, in the order of the text, none overlapping.
std::vector<SemanticToken> semantic_tokens(const Document& doc);

/// The LSP encoding: five numbers per token, relative to the token before.
std::vector<std::uint32_t> encode(const std::vector<SemanticToken>& tokens, const LineIndex& lines);

}  // namespace clause::lsp
