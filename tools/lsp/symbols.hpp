// The outline of a document (textDocument/documentSymbol): a policy's statements, a test
// file's cases, each with the span it covers and the span of its name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "language.hpp"

namespace clause::lsp {

/// The LSP SymbolKind values the outline uses.
enum class SymbolKind : std::uint8_t {
  file = 1,
  module = 2,
  namespace_ = 3,
  class_ = 5,
  method = 6,
  property = 7,
  field = 8,
  enum_ = 10,
  interface = 11,
  function = 12,
  constant = 14,
  boolean = 17,
  enum_member = 22,
  event = 24,
};

/// One entry of the outline; its children lie inside its span.
struct Symbol {
  std::string name;
  std::string detail;
  SymbolKind kind = SymbolKind::constant;
  Span span;       // the whole statement
  Span selection;  // its name
  std::vector<Symbol> children;
};

/// The outline of a document, in the order of its text.
std::vector<Symbol> document_symbols(const Document& doc);

}  // namespace clause::lsp
