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

template <typename Tree, typename Parse, typename Format>
Formatted format_with(const SourceFile& source, Parse parse, Format format) {
  Formatted out;
  const auto parsed = parse(source);
  if (!parsed.diagnostics.empty()) {
    out.diagnostics = render_text(source, parsed.diagnostics);
    return out;
  }
  const Tree& tree = tree_of(parsed);
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

}  // namespace clause::tools
