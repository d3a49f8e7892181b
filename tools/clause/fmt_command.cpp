// The command `fmt`: rewrites policy and test files in the canonical layout.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "canonical.hpp"
#include "clause/clause.hpp"
#include "clause/dsl/parse.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

namespace fs = std::filesystem;

// The layout that the language server's formatting gives too (tools/lsp/canonical.hpp).
tools::Formatted format_source(const SourceFile& source, bool tests) {
  return tools::format_source(source, tests, tool_parse_limits());
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
    return print_help("fmt");
  }
  Args args(argv, "fmt");
  const auto usage = [](std::string_view message) { return usage_error("fmt", message); };
  if (args.error()) return usage(*args.error());
  const std::vector<std::string>& inputs = args.positional();
  if (inputs.empty()) return usage("no file given; name files or folders, or `-` for stdin");
  const bool check = args.flag("check");
  const bool from_stdin = std::find(inputs.begin(), inputs.end(), "-") != inputs.end();
  if (from_stdin && inputs.size() > 1) return usage("`-` (stdin) cannot be mixed with files");

  if (from_stdin) {
    std::ostringstream s;
    s << std::cin.rdbuf();
    const SourceFile source{"<stdin>", std::move(s).str()};
    const tools::Formatted f = format_source(source, false);
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
    const tools::Formatted f = format_source(*source, fs::path(path).extension() == ".test");
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
