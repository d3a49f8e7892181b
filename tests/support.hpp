// Helpers shared by the tests: compiling policies from text and reading repository files.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "clause/clause.hpp"
#include "clause/diff.hpp"

namespace clause::test {

inline std::filesystem::path source_dir() {
  return CLAUSE_SOURCE_DIR;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

/// Whether golden files are to be rewritten rather than compared: CLAUSE_UPDATE_GOLDEN=1.
inline bool updating_golden() {
  const char* v = std::getenv("CLAUSE_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

/// Writes a file byte for byte, replacing it.
inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out.good());
  out << text;
  REQUIRE(out.good());
}

/// Compares `actual` with the golden file beside `input` (its `.expected`), or rewrites that
/// file when updating_golden().
inline void check_golden(const std::filesystem::path& input, const std::string& actual) {
  std::filesystem::path expected = input;
  expected.replace_extension(".expected");
  if (updating_golden()) {
    write_file(expected, actual);
  } else if (!std::filesystem::exists(expected)) {
    FAIL_CHECK("no " << expected.filename().string() << ": run with CLAUSE_UPDATE_GOLDEN=1");
  } else {
    CHECK(actual == read_file(expected));
  }
}

/// Checks that every `.expected` file in `folder` still has its input, named with `extension`.
inline void check_no_stale_golden(const std::filesystem::path& folder,
                                  const std::string& extension) {
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    if (e.path().extension() != ".expected") continue;
    std::filesystem::path input = e.path();
    input.replace_extension(extension);
    INFO("stale expectation " << e.path().filename().string());
    CHECK(std::filesystem::exists(input));
  }
}

/// Compiles a policy that must be valid; fails the test with its diagnostics otherwise.
inline Policy must_compile(const std::string& text, const std::string& name = "test.policy") {
  const SourceFile file{name, text};
  auto policy = compile(file);
  if (!policy) FAIL(render_text(file, policy.error()));
  return std::move(*policy);
}

/// Compiles a policy that must fail and gives its rendered diagnostics.
inline std::vector<Diagnostic> must_fail(const std::string& text) {
  auto policy = compile(SourceFile{"test.policy", text});
  REQUIRE_FALSE(policy.has_value());
  return policy.error();
}

/// Compiles with documents given in memory, by their declared path.
inline Result<Policy, std::vector<Diagnostic>> compile_with(
    const std::string& text, std::map<std::string, std::string> files, Limits limits = {}) {
  CompileOptions options;
  options.limits = limits;
  options.read_document =
      [files = std::move(files)](std::string_view path) -> Result<SourceFile, std::string> {
    const auto it = files.find(std::string(path));
    if (it == files.end()) return Failure{std::string("no such file")};
    return SourceFile{"data/" + it->first, it->second};
  };
  return compile(SourceFile{"docs.policy", text}, options);
}

/// Checks that each region's witness, decided by each version, gives the region's sides.
inline void check_diff_witnesses(const Policy& before, const Policy& after, const Diff& d) {
  for (const DiffRegion& r : d.regions) {
    const Decision x = before.evaluate(r.witness);
    const Decision y = after.evaluate(r.witness);
    CHECK(x.effect == r.before.effect);
    CHECK(x.clause == r.before.clause);
    CHECK(y.effect == r.after.effect);
    CHECK(y.clause == r.after.clause);
    CHECK(x.error == r.before.error);
    CHECK(y.error == r.after.error);
  }
}

inline const Policy& privacy_policy() {
  static const Policy policy = [] {
    const auto path = source_dir() / "policies" / "privacy.policy";
    return must_compile(read_file(path), "policies/privacy.policy");
  }();
  return policy;
}

// A folder of its own in the temporary folder, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace clause::test
