// Helpers shared by the tests: compiling policies from text and reading repository files.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "clause/clause.hpp"

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

inline const Policy& privacy_policy() {
  static const Policy policy = [] {
    const auto path = source_dir() / "policies" / "privacy.policy";
    return must_compile(read_file(path), "policies/privacy.policy");
  }();
  return policy;
}

}  // namespace clause::test
