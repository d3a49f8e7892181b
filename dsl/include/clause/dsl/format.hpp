// Stage: parse, in reverse. A syntax tree printed back as source text in one canonical
// layout, with the comments and annotations of the file it came from (docs/formatting.md).
#pragma once

#include <cstddef>
#include <string>

#include "clause/diagnostic.hpp"
#include "clause/dsl/ast.hpp"

namespace clause::dsl {

/// The column that formatted lines keep within wherever they can be broken.
inline constexpr std::size_t format_width = 92;

/// Prints a policy in the canonical layout, keeping every comment, every `@ignore`
/// annotation, and one blank line wherever the source had blank lines between statements.
/// `policy` must be what `parse(file)` gave without errors: comments and blank lines are
/// placed through its spans. Throws std::invalid_argument when the text holds something
/// the tree does not, as a file with syntax errors does.
std::string format_policy(const SourceFile& file, const ast::Policy& policy);

/// Prints a test file in the canonical layout; as format_policy, for `parse_tests(file)`.
std::string format_tests(const SourceFile& file, const ast::TestFile& tests);

/// Tells whether two trees say the same, spans aside: the same statements in the same
/// order, with the same names, strings, conditions and annotations, and each `any` written
/// where the other writes it.
bool same_tree(const ast::Policy& a, const ast::Policy& b);
bool same_tree(const ast::TestFile& a, const ast::TestFile& b);

/// Tells whether two files hold the same comments, in any order, but for blanks at their
/// ends (the only thing the layout changes in a comment).
bool same_comments(const std::vector<ast::Comment>& a, const std::vector<ast::Comment>& b);

}  // namespace clause::dsl
