// Code actions: the fixes a diagnostic's `did you mean` help names, and `@ignore` for a
// policy's warnings.
#pragma once

#include <string>
#include <vector>

#include "language.hpp"

namespace clause::lsp {

/// One replacement of a span of the document.
struct Edit {
  Span span;
  std::string text;
};

/// One code action on the document, about one of its diagnostics.
struct Fix {
  std::string title;
  std::vector<Edit> edits;
  bool preferred = false;
  Diagnostic diagnostic;
};

/// The fixes for the diagnostics of `doc` that touch `range`.
std::vector<Fix> code_actions(const Document& doc, Span range);

/// The name a help or a message proposes (`did you mean `X`?`), or "".
std::string guessed_name(const Diagnostic& d);

}  // namespace clause::lsp
