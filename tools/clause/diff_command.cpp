// The command `diff`: every decision that changes between two versions of a policy.
#include <fmt/format.h>

#include <cstdio>

#include "clause/diff.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

std::string side_text(const DiffSide& s) {
  std::string out(to_string(s.effect));
  if (!s.consent.empty()) out += fmt::format(" `{}`", s.consent);
  out += fmt::format(", citing {}", s.clause);
  if (!s.rule.empty()) out += fmt::format(" (rule {})", s.rule);
  if (!s.obligations.empty()) out += fmt::format(", obliging {}", join_names(s.obligations));
  return out;
}

nlohmann::json side_json(const DiffSide& s) {
  nlohmann::json j = {{"decision", to_string(s.effect)}, {"clause", s.clause}, {"rule", s.rule}};
  if (!s.consent.empty()) j["consent"] = s.consent;
  if (!s.obligations.empty()) j["obligations"] = s.obligations;
  return j;
}

// The names only one version declares, one line per kind and change.
std::string names_text(const std::vector<DiffNames>& names) {
  std::string out;
  for (const DiffNames& n : names) {
    for (const auto& [what, list] : {std::pair{"added", &n.added}, std::pair{"removed", &n.removed},
                                     std::pair{"changed", &n.changed}}) {
      if (!list->empty()) out += fmt::format("{} {}: {}\n", n.kind, what, join_names(*list));
    }
  }
  if (!out.empty()) {
    out += "requests valid under one version only are not compared\n\n";
  }
  return out;
}

}  // namespace

int run_diff(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("diff");
  }
  Args args(argv, "diff");
  if (args.error()) return usage_error("diff", *args.error());
  if (args.positional().size() != 2) {
    return usage_error("diff", "expected two policy files: OLD NEW");
  }
  if (args.positional()[0] == "-" && args.positional()[1] == "-") {
    return usage_error("diff", "stdin (`-`) can be read only once");
  }
  const std::optional<Policy> before = load_policy(args.positional()[0]);
  const std::optional<Policy> after = load_policy(args.positional()[1]);
  if (!before || !after) return exit_failed;
  const Diff d = diff_policies(*before, *after);
  if (args.format() == "json") {
    nlohmann::json regions = nlohmann::json::array();
    for (const auto& r : d.regions) {
      regions.push_back({{"actions", r.actions},
                         {"requesters", r.requesters},
                         {"data", r.data},
                         {"before", side_json(r.before)},
                         {"after", side_json(r.after)},
                         {"requests", r.requests},
                         {"attributes", r.attributes},
                         {"witness", request_json(r.witness)}});
    }
    nlohmann::json names = nlohmann::json::array();
    for (const DiffNames& n : d.names) {
      names.push_back(
          {{"kind", n.kind}, {"added", n.added}, {"removed", n.removed}, {"changed", n.changed}});
    }
    nlohmann::json out = {{"schema_version", schema_version}, {"names", std::move(names)},
                          {"changed_requests", d.changed},    {"total_requests", d.total},
                          {"complete", d.complete},           {"regions", std::move(regions)}};
    fmt::print("{}\n", out.dump(2));
  } else {
    std::string out = names_text(d.names);
    if (d.total == 0 && d.complete) {
      out += "no request is valid under both versions\n";
    } else {
      out += fmt::format("{} of {} requests change, in {} regions{}\n", d.changed, d.total,
                         d.regions.size(),
                         d.complete ? "" : " (some regions were too large to enumerate)");
    }
    for (const auto& r : d.regions) {
      out += fmt::format("\n{} of {} by {}: {} requests\n  before  {}\n  after   {}\n",
                         join_names(r.actions), join_names(r.data), join_names(r.requesters),
                         r.requests, side_text(r.before), side_text(r.after));
      if (!r.attributes.empty()) {
        out += fmt::format("  values  {} (the witness holds one class of them)\n",
                           join_names(r.attributes));
      }
      out += fmt::format("  witness {}\n", request_json(r.witness).dump());
    }
    std::fputs(out.c_str(), stdout);
  }
  return d.regions.empty() && d.names.empty() && d.complete ? exit_ok : exit_failed;
}

}  // namespace clause::cli
