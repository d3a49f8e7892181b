// The command `fmt`: rewrites policy and test files in the canonical layout.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "clause/clause.hpp"
#include "clause/dsl/format.hpp"
#include "clause/dsl/parse.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

namespace fs = std::filesystem;

// What formatting one file gave: the new text, or the reason there is none.
struct Formatted {
  std::optional<std::string> text;
  std::string diagnostics;  // rendered syntax errors
  std::string error;        // anything else
};

const ast::Policy& tree_of(const dsl::ParseResult& r) {
  return r.policy;
}
const ast::TestFile& tree_of(const dsl::TestParseResult& r) {
  return r.tests;
}

// Formats a parsed file, then parses the result again: a layout that would change the tree
// or lose a comment is refused rather than written.
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

Formatted format_source(const SourceFile& source, bool tests) {
  if (tests) {
    return format_with<ast::TestFile>(
        source, [](const SourceFile& s) { return dsl::parse_tests(s, tool_parse_limits()); },
        dsl::format_tests);
  }
  return format_with<ast::Policy>(
      source, [](const SourceFile& s) { return dsl::parse(s, tool_parse_limits()); },
      dsl::format_policy);
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

}  // namespace

int run_fmt(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    std::fputs(std::string(help_text("fmt")).c_str(), stdout);
    return exit_ok;
  }
  Args args(argv, {"check"}, {});
  const auto usage = [](std::string_view message) {
    fmt::print(stderr, "clause fmt: {}\nrun `clause fmt --help` for usage\n", message);
    return exit_usage;
  };
  if (args.error()) return usage(*args.error());
  const std::vector<std::string>& inputs = args.positional();
  if (inputs.empty()) return usage("no file given; name files or folders, or `-` for stdin");
  const bool check = args.flag("check");
  const bool from_stdin = std::find(inputs.begin(), inputs.end(), "-") != inputs.end();
  if (from_stdin && inputs.size() > 1) return usage("`-` (stdin) cannot be mixed with files");

  if (from_stdin) {
    std::ostringstream s;
    s << std::cin.rdbuf();
    const SourceFile source{"stdin", std::move(s).str()};
    const Formatted f = format_source(source, false);
    if (!f.text) {
      std::fputs(f.diagnostics.c_str(), stderr);
      if (!f.error.empty()) fmt::print(stderr, "clause fmt: {}\n", f.error);
      return exit_failed;
    }
    if (check) {
      if (*f.text == source.text) return exit_ok;
      fmt::print("stdin\n");
      return exit_failed;
    }
    fmt::print("{}", *f.text);
    return exit_ok;
  }

  std::string error;
  const std::vector<std::string> files = gather_files(inputs, {".policy", ".test"}, error);
  if (!error.empty()) return usage(error);
  if (files.empty()) {
    fmt::print(stderr, "clause fmt: no `*.policy` or `*.test` file found\n");
    return exit_failed;
  }
  bool failed = false;
  for (const std::string& path : files) {
    auto source = read_source(path, tool_limits().max_policy_bytes);
    if (!source) {
      fmt::print(stderr, "clause fmt: {}\n", source.error());
      failed = true;
      continue;
    }
    const Formatted f = format_source(*source, fs::path(path).extension() == ".test");
    if (!f.text) {
      std::fputs(f.diagnostics.c_str(), stderr);
      if (!f.error.empty()) fmt::print(stderr, "clause fmt: {}\n", f.error);
      failed = true;
      continue;
    }
    if (*f.text == source->text) continue;
    if (check) {
      fmt::print("{}\n", path);
      failed = true;
    } else if (!write_file(path, *f.text)) {
      fmt::print(stderr, "clause fmt: cannot write `{}`\n", path);
      failed = true;
    }
  }
  return failed ? exit_failed : exit_ok;
}

}  // namespace clause::cli
