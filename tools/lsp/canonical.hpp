// The canonical layout of a policy or test file, as `clause fmt` writes it and the language
// server's formatting gives it: one code path for both.
#pragma once

#include <optional>
#include <string>

#include "clause/diagnostic.hpp"
#include "clause/dsl/parse.hpp"

namespace clause::tools {

/// What formatting one file gave: the new text, or the reason there is none.
struct Formatted {
  std::optional<std::string> text;
  std::string diagnostics;  // rendered syntax errors
  std::string error;        // anything else
};

/// Formats a policy (or, with `tests`, a test file) in the canonical layout, then parses
/// the result again: a layout that would change the tree or lose a comment is refused.
/// A file with syntax errors gives no text. Never throws but for lack of memory.
Formatted format_source(const SourceFile& source, bool tests, const dsl::ParseLimits& limits);

/// Formats a file already parsed without errors into `tree`, as format_source does, so
/// that the same text is not parsed twice.
Formatted format_parsed(const SourceFile& source, const ast::Policy& tree,
                        const dsl::ParseLimits& limits);
Formatted format_parsed(const SourceFile& source, const ast::TestFile& tree,
                        const dsl::ParseLimits& limits);

}  // namespace clause::tools
