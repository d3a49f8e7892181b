// The command `verify`: proves a policy's assertions over every request, or shows a
// counterexample that `clause eval` confirms.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "clause/clause.hpp"
#include "clause/verify.hpp"
#include "cli.hpp"

namespace clause::cli {
int run_verify(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    std::fputs(std::string(help_text("verify")).c_str(), stdout);
    return exit_ok;
  }
  Args args(argv, {"json"}, {});
  if (args.error() || args.positional().size() != 1) {
    fmt::print(stderr, "clause verify: {}\nrun `clause verify --help` for usage\n",
               args.error() ? *args.error() : "expected one policy file");
    return exit_usage;
  }
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
  if (args.flag("json")) {
    fmt::print("{}\n", json.dump(2));
  } else {
    std::fputs(out.c_str(), stdout);
    fmt::print("{} proved, {} not proved\n", proved, results.size() - proved);
  }
  return proved == results.size() ? exit_ok : exit_failed;
}

}  // namespace clause::cli
