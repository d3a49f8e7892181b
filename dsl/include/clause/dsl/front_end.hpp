// The front end: source text to syntax tree, checked policy and diagnostics, in one call.
// Every tool that reads a policy (the compiler, `clause check`, the language server, the
// playground) goes through it, so that all of them report the same diagnostics.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

#include "clause/diagnostic.hpp"
#include "clause/dsl/ast.hpp"
#include "clause/dsl/check.hpp"
#include "clause/dsl/parse.hpp"

namespace clause::dsl {

/// Bounds on the text the front end takes in.
struct FrontEndOptions {
  ParseLimits parse{};
  std::size_t max_policy_bytes = std::numeric_limits<std::size_t>::max();  // E003 past it
  std::size_t max_rules = std::numeric_limits<std::size_t>::max();         // E291 past it
};

/// Everything the front end learns from one policy text.
struct FrontEnd {
  ast::Policy tree;  // every statement that parsed; empty when the text is too long
  std::optional<CheckedPolicy> checked;  // present when no diagnostic is an error
  std::vector<Diagnostic> diagnostics;   // parse and check, cascades and @ignore dropped, sorted
  bool syntax_ok = false;                // the parser found no mistake
};

/// Parses and checks a policy file: limit checks, parse, check, cascade filtering,
/// `@ignore` suppressions, sorting.
FrontEnd analyze(const SourceFile& file, const FrontEndOptions& options = {});

}  // namespace clause::dsl
