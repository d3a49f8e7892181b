// Stage: parse. Source text to syntax tree. The grammar behind it is private.
#pragma once

#include <string_view>
#include <vector>

#include "clause/diagnostic.hpp"
#include "clause/dsl/ast.hpp"

namespace clause::dsl {

/// Bounds the parser keeps to, so that hostile input gives an error instead of a crash.
struct ParseLimits {
  std::size_t max_condition_depth = 32;  // nested `not` and parentheses
  std::size_t max_name_length = 128;     // characters in one name
  std::size_t max_errors = 50;           // parse errors reported before giving up
};

/// Carries the syntax tree and the parse errors; the tree holds every statement that parsed.
struct ParseResult {
  ast::Policy policy;
  std::vector<Diagnostic> diagnostics;
  std::vector<Span> skipped;  // text passed over after each error, up to the next statement
};

/// Parses a policy file; on an error it reports it and resumes at the next statement.
ParseResult parse(const SourceFile& file, const ParseLimits& limits = {});

/// Carries a parsed test file and its errors.
struct TestParseResult {
  ast::TestFile tests;
  std::vector<Diagnostic> diagnostics;
};

/// Parses a test file (`tests for "POLICY"` then `case` blocks), resuming after errors.
TestParseResult parse_tests(const SourceFile& file, const ParseLimits& limits = {});

/// Names the kind of a value a test case gives, for messages: "a string", "an integer"...
inline std::string_view value_noun(ast::TestValue::Kind kind) {
  switch (kind) {
    case ast::TestValue::Kind::string:
      return "a string";
    case ast::TestValue::Kind::integer:
      return "an integer";
    case ast::TestValue::Kind::boolean:
      return "a boolean";
    case ast::TestValue::Kind::time:
      return "a date";
    case ast::TestValue::Kind::list:
      return "a list";
  }
  return "a value";
}

}  // namespace clause::dsl
