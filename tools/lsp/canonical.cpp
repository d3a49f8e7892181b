#include "canonical.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "clause/dsl/format.hpp"

namespace clause::tools {
namespace {

const ast::Policy& tree_of(const dsl::ParseResult& r) {
  return r.policy;
}
const ast::TestFile& tree_of(const dsl::TestParseResult& r) {
  return r.tests;
}

// Prints `tree`, parsed from `source`, then parses the print again to make sure it says
// the same.
template <typename Tree, typename Parse, typename Format>
Formatted format_tree(const SourceFile& source, const Tree& tree, Parse parse, Format format) {
  Formatted out;
  std::string text;
  try {
    text = format(source, tree);
  } catch (const std::invalid_argument& e) {
    out.error = e.what();
    return out;
  }
  const auto again = parse(SourceFile{source.name, text});
  if (!again.diagnostics.empty() || !dsl::same_tree(tree, tree_of(again)) ||
      !dsl::same_comments(tree.comments, tree_of(again).comments)) {
    out.error = fmt::format(
        "internal error: the new layout of `{}` would not say the same; it is left as it is",
        source.name);
    return out;
  }
  out.text = std::move(text);
  return out;
}

template <typename Tree, typename Parse, typename Format>
Formatted format_with(const SourceFile& source, Parse parse, Format format) {
  const auto parsed = parse(source);
  if (!parsed.diagnostics.empty()) {
    Formatted out;
    out.diagnostics = render_text(source, parsed.diagnostics);
    return out;
  }
  return format_tree<Tree>(source, tree_of(parsed), parse, format);
}

}  // namespace

Formatted format_source(const SourceFile& source, bool tests, const dsl::ParseLimits& limits) {
  if (tests) {
    return format_with<ast::TestFile>(
        source, [&](const SourceFile& s) { return dsl::parse_tests(s, limits); },
        dsl::format_tests);
  }
  return format_with<ast::Policy>(
      source, [&](const SourceFile& s) { return dsl::parse(s, limits); }, dsl::format_policy);
}

Formatted format_parsed(const SourceFile& source, const ast::Policy& tree,
                        const dsl::ParseLimits& limits) {
  return format_tree<ast::Policy>(
      source, tree, [&](const SourceFile& s) { return dsl::parse(s, limits); }, dsl::format_policy);
}

Formatted format_parsed(const SourceFile& source, const ast::TestFile& tree,
                        const dsl::ParseLimits& limits) {
  return format_tree<ast::TestFile>(
      source, tree, [&](const SourceFile& s) { return dsl::parse_tests(s, limits); },
      dsl::format_tests);
}

}  // namespace clause::tools
