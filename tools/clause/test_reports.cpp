// JUnit XML and TAP version 14 reports of `clause test`.
#include "test_reports.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string_view>

namespace clause::cli {
namespace {

// Text as XML character data or an attribute value. Characters XML 1.0 cannot carry (the
// control characters but tab and line breaks) become U+FFFD.
std::string xml_escaped(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') {
          out += "\xEF\xBF\xBD";
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string seconds_text(double seconds) {
  return fmt::format("{:.3f}", seconds);
}

struct Counts {
  std::size_t tests = 0;
  std::size_t failures = 0;
  std::size_t errors = 0;
};

Counts count(const FileReport& f) {
  Counts c;
  for (const CaseReport& k : f.cases) {
    ++c.tests;
    if (k.status == CaseReport::Status::failed) ++c.failures;
    if (k.status == CaseReport::Status::error) ++c.errors;
  }
  // A file that could not run is one test in error.
  if (f.cases.empty() && !f.error.empty()) {
    ++c.tests;
    ++c.errors;
  }
  return c;
}

// A TAP description: `#` would start a directive and `\` escapes, so both are escaped; a
// line break would end the line.
std::string tap_description(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '#' || ch == '\\') out += '\\';
    out += ch == '\n' || ch == '\r' ? ' ' : ch;
  }
  return out;
}

// A YAML scalar: a JSON string is one (YAML 1.2 reads JSON).
std::string yaml_string(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string junit_report(const std::vector<FileReport>& files) {
  Counts all;
  double seconds = 0;
  for (const FileReport& f : files) {
    const Counts c = count(f);
    all.tests += c.tests;
    all.failures += c.failures;
    all.errors += c.errors;
    seconds += f.seconds;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<testsuites name=\"clause test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
      "time=\"{}\">\n",
      all.tests, all.failures, all.errors, seconds_text(seconds));
  for (const FileReport& f : files) {
    const Counts c = count(f);
    const std::string file = xml_escaped(f.file);
    out += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" "
        "time=\"{}\">\n",
        file, c.tests, c.failures, c.errors, seconds_text(f.seconds));
    if (f.cases.empty() && !f.error.empty()) {
      out += fmt::format(
          "    <testcase name=\"(the test file)\" classname=\"{}\" file=\"{}\" time=\"0.000\">\n"
          "      <error message=\"{}\" type=\"error\"/>\n    </testcase>\n",
          file, file, xml_escaped(f.error));
    }
    for (const CaseReport& k : f.cases) {
      out += fmt::format(
          "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{}\"",
          xml_escaped(k.name), file, file, k.line, seconds_text(k.seconds));
      if (k.status == CaseReport::Status::passed) {
        out += "/>\n";
        continue;
      }
      const bool error = k.status == CaseReport::Status::error;
      out += fmt::format(">\n      <{} message=\"{}\" type=\"{}\">{}</{}>\n    </testcase>\n",
                         error ? "error" : "failure", xml_escaped(k.message),
                         error ? "error" : "mismatch", xml_escaped(k.detail),
                         error ? "error" : "failure");
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

std::string tap_report(const std::vector<FileReport>& files) {
  std::string lines;
  std::size_t n = 0;
  const auto yaml = [](std::string& out,
                       const std::vector<std::pair<std::string, std::string>>& fields) {
    out += "  ---\n";
    for (const auto& [key, value] : fields) {
      if (!value.empty()) out += fmt::format("  {}: {}\n", key, yaml_string(value));
    }
    out += "  ...\n";
  };
  for (const FileReport& f : files) {
    if (f.cases.empty() && !f.error.empty()) {
      lines += fmt::format("not ok {} - {}\n", ++n, tap_description(f.file));
      yaml(lines, {{"message", f.error}, {"severity", "error"}, {"file", f.file}});
    }
    for (const CaseReport& k : f.cases) {
      const bool ok = k.status == CaseReport::Status::passed;
      lines += fmt::format("{} {} - {}: {}\n", ok ? "ok" : "not ok", ++n, tap_description(k.where),
                           tap_description(k.name));
      if (ok) continue;
      yaml(lines, {{"message", k.message},
                   {"severity", k.status == CaseReport::Status::error ? "error" : "fail"},
                   {"at", k.where},
                   {"expected", k.expected},
                   {"got", k.actual}});
    }
  }
  return fmt::format("TAP version 14\n1..{}\n{}", n, lines);
}

}  // namespace clause::cli
