// The reports of `clause test` for CI: JUnit XML and TAP version 14 (docs/cli.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace clause::cli {

/// One case of a test file, as it ran.
struct CaseReport {
  enum class Status : std::uint8_t { passed, failed, error };
  std::string name;
  std::string where;  // file:line:column of the case
  std::uint32_t line = 0;
  Status status = Status::passed;
  std::string message;   // one line: why it failed
  std::string expected;  // the expectation, when the case got as far as deciding
  std::string actual;    // what came
  std::string detail;    // the failure as the text report shows it
  double seconds = 0;
};

/// One test file: its cases, or why none could run.
struct FileReport {
  std::string file;
  std::vector<CaseReport> cases;
  std::string error;  // the file could not be run (syntax errors, no policy)
  double seconds = 0;
};

/// JUnit XML: <testsuites>, a <testsuite> per file, a <testcase> per case.
std::string junit_report(const std::vector<FileReport>& files);

/// TAP version 14: the plan, a line per case, a YAML block under each failure.
std::string tap_report(const std::vector<FileReport>& files);

}  // namespace clause::cli
