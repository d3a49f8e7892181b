// The command `verify`: proves a policy's assertions over every request, or shows a
// counterexample that `clause eval` confirms.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "clause/clause.hpp"
#include "clause/verify.hpp"
#include "cli.hpp"
#include "sarif.hpp"

namespace clause::cli {
int run_verify(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("verify");
  }
  Args args(argv, "verify");
  if (args.error()) return usage_error("verify", *args.error());
  if (args.positional().size() != 1) return usage_error("verify", "expected one policy file");
  const std::string& path = args.positional()[0];
  const std::optional<Policy> policy = load_policy(path);
  if (!policy) return exit_failed;
  const std::vector<AssertionResult> results = verify(*policy);
  std::size_t proved = 0;
  nlohmann::json json = nlohmann::json::array();
  std::string out;
  for (const AssertionResult& r : results) {
    proved += r.proved ? 1 : 0;
    const std::string where = fmt::format("{}:{}:{}", path, r.position.line, r.position.column);
    nlohmann::json item = {{"assertion", r.text},
                           {"line", r.position.line},
                           {"proved", r.proved},
                           {"regions", r.regions}};
    if (r.proved) {
      out += fmt::format("proved  {}: {}\n", where, r.text);
    } else if (r.counterexample) {
      const nlohmann::json request = request_json(*r.counterexample);
      item["counterexample"] = request;
      item["decision"] = {
          {"decision", to_string(r.effect)}, {"clause", r.clause}, {"rule", r.rule}};
      if (!r.consent.empty()) item["decision"]["consent"] = r.consent;
      out += fmt::format(
          "FAILED  {}: {}\n  counterexample  {}\n  decision        {}{}, citing {}{}\n\n", where,
          r.text, request.dump(), to_string(r.effect),
          r.consent.empty() ? "" : fmt::format(" `{}`", r.consent), r.clause,
          r.rule.empty() ? "" : fmt::format(", by rule {}", r.rule));
    } else {
      out += fmt::format("UNKNOWN {}: {}\n  too many facts to enumerate in one region\n\n", where,
                         r.text);
    }
    json.push_back(std::move(item));
  }
  if (args.format() == "sarif") {
    fmt::print("{}\n", sarif_verify(path, *policy, results).dump(2));
  } else if (args.format() == "json") {
    const nlohmann::json report = {
        {"schema_version", schema_version}, {"policy", path}, {"assertions", std::move(json)}};
    fmt::print("{}\n", report.dump(2));
  } else {
    std::fputs(out.c_str(), stdout);
    fmt::print("{} proved, {} not proved\n", proved, results.size() - proved);
  }
  return proved == results.size() ? exit_ok : exit_failed;
}

}  // namespace clause::cli
