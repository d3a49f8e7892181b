// Golden diagnostics: one broken policy per mistake an author can make, each with the exact
// text `clause check` would print for it. Run with CLAUSE_UPDATE_GOLDEN=1 to rewrite the
// `.expected` files, then review the change in the diff.
#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>

#include "support.hpp"

namespace clause::test {
namespace {

namespace fs = std::filesystem;

const char* const golden_dir = "tests/golden/diagnostics";

std::vector<fs::path> golden_cases() {
  std::vector<fs::path> out;
  for (const fs::directory_entry& e : fs::directory_iterator(source_dir() / golden_dir)) {
    if (e.is_regular_file() && e.path().extension() == ".policy") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What `clause check` reports: the errors, or the warnings of a policy that compiles.
std::vector<Diagnostic> diagnostics_of(const SourceFile& file) {
  auto policy = compile(file);
  if (!policy) return policy.error();
  const auto warnings = policy->warnings();
  return {warnings.begin(), warnings.end()};
}

// Whether a line is `  | ^^^`, a caret under a span. Matched by hand: std::regex recurses
// once per character and overflows the stack on a long line.
bool is_caret_line(std::string_view line) {
  const std::size_t bar = line.find_first_not_of(' ');
  if (bar == std::string_view::npos || !line.substr(bar).starts_with("| ")) return false;
  const std::string_view rest = line.substr(bar + 2);
  const std::size_t caret = rest.find_first_not_of(" \t");
  return caret != std::string_view::npos &&
         rest.find_first_not_of('^', caret) == std::string_view::npos;
}

std::size_t caret_lines(const std::string& rendered) {
  std::size_t n = 0;
  std::size_t begin = 0;
  while (begin < rendered.size()) {
    std::size_t end = rendered.find('\n', begin);
    if (end == std::string::npos) end = rendered.size();
    if (is_caret_line(std::string_view(rendered).substr(begin, end - begin))) ++n;
    begin = end + 1;
  }
  return n;
}

TEST_CASE("every broken policy gives its golden diagnostics", "[golden]") {
  const std::vector<fs::path> cases = golden_cases();
  CHECK(cases.size() >= 60);
  static const std::regex code(R"([EW][0-9]{3})");

  for (const fs::path& path : cases) {
    const std::string name = std::string(golden_dir) + "/" + path.filename().string();
    INFO("case " << name);
    const SourceFile file{name, read_file(path)};
    const std::vector<Diagnostic> diagnostics = diagnostics_of(file);
    CHECK_FALSE(diagnostics.empty());
    std::size_t spans = 0;
    for (const Diagnostic& d : diagnostics) {
      INFO("diagnostic " << d.code << ": " << d.message);
      CHECK(std::regex_match(d.code, code));
      CHECK(d.span.begin <= d.span.end);
      CHECK(d.span.end <= file.text.size());
      for (const Note& n : d.notes) {
        CHECK(n.span.begin <= n.span.end);
        CHECK(n.span.end <= file.text.size());
      }
      spans += 1 + d.notes.size();
    }

    const nlohmann::json json = nlohmann::json::parse(render_json(file, diagnostics));
    REQUIRE(json.is_array());
    CHECK(json.size() == diagnostics.size());
    for (std::size_t i = 0; i < json.size() && i < diagnostics.size(); ++i) {
      CHECK(json[i].at("code") == diagnostics[i].code);
      CHECK(json[i].at("message") == diagnostics[i].message);
    }

    const std::string rendered = render_text(file, diagnostics);
    CHECK(caret_lines(rendered) >= 1);
    CHECK(caret_lines(rendered) == spans);

    check_golden(path, rendered);
  }
}

TEST_CASE("every golden expectation has its policy", "[golden]") {
  check_no_stale_golden(source_dir() / golden_dir, ".policy");
}

TEST_CASE("a diagnostic on a very long line shows a window around the caret", "[diagnostic]") {
  // 300 two-byte characters, then the mistake, then 300 more: a window of at most 200
  // bytes, cut between characters, with `...` on each side.
  std::string line;
  for (int i = 0; i < 300; ++i)
    line += "\xc3\xa9";
  const std::size_t at = line.size();
  line += "MISTAKE";
  for (int i = 0; i < 300; ++i)
    line += "\xc3\xa9";
  Diagnostic d;
  d.code = "E101";
  d.message = "m";
  d.span = Span{static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(at + 7)};
  const std::string rendered = render_text(SourceFile{"long", line}, {d});
  const std::size_t first = rendered.find('\n') + 1;
  const std::size_t second = rendered.find('\n', first) + 1;
  const std::string source_line = rendered.substr(first, second - first - 1);
  const std::string caret_line = rendered.substr(second, rendered.find('\n', second) - second);
  CHECK(source_line.starts_with("1 | ..."));
  CHECK(source_line.ends_with("..."));
  CHECK(source_line.size() <= 4 + 3 + 200 + 3);
  CHECK(source_line.find("\xc3\xa9MISTAKE\xc3\xa9") != std::string::npos);
  // Every character shown is whole.
  CHECK(source_line[7] == '\xc3');
  CHECK(source_line[source_line.size() - 4] == '\xa9');
  // The caret stands under MISTAKE: as many blanks as bytes before it on the shown line.
  CHECK(caret_line.find('^') == source_line.find("MISTAKE"));
  CHECK(caret_line.ends_with("^^^^^^^"));
}

TEST_CASE("a diagnostic whose span lies past the text renders in a few lines", "[diagnostic]") {
  // Diagnostics kept after their file changed (a failed reload) can point past the text.
  Diagnostic d;
  d.code = "E101";
  d.message = "expected `version`";
  d.span = Span{10, 20};
  const std::string out = render_text(SourceFile{"gone.policy", ""}, {d});
  CHECK(out.size() < 200);
  CHECK_THAT(out, Catch::StartsWith("gone.policy:1:1: error[E101]: expected `version`"));
  const std::string shorter = render_text(SourceFile{"short.policy", "policy"}, {d});
  CHECK(shorter.size() < 200);
}

}  // namespace
}  // namespace clause::test
