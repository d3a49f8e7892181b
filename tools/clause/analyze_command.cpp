// The command `analyze`: where the policy's rules contradict each other, which rules never
// decide, which requests fall to the fail-closed default, and which permissions are wide.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "clause/analyze.hpp"
#include "clause/dsl/check.hpp"
#include "clause/lint.hpp"
#include "cli.hpp"
#include "sarif.hpp"

namespace clause::cli {
namespace {

std::string effect_word(const dsl::CheckedRule& r) {
  if (r.tier == Tier::exclusion) return "allow (out of scope)";
  switch (r.effect) {
    case ast::Effect::allow:
      return "allow";
    case ast::Effect::deny:
      return "deny";
    case ast::Effect::require_consent:
      return "require-consent";
  }
  return "deny";
}

}  // namespace

int run_analyze(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("analyze");
  }
  Args args(argv, "analyze");
  if (args.error()) return usage_error("analyze", *args.error());
  if (args.positional().size() != 1) return usage_error("analyze", "expected one policy file");
  const std::optional<Policy> policy = load_policy(args.positional()[0]);
  if (!policy) return exit_failed;
  const dsl::CheckedPolicy& c = policy->checked();
  const Analysis a = analyze(*policy);
  const auto line_of = [&](std::size_t rule) {
    return line_column(policy->source().text, c.rules[rule].span.begin).line;
  };
  const auto tier_of = [&](std::size_t rule) { return std::string(to_string(c.rules[rule].tier)); };
  // Rules that never decide: the linter's exact findings.
  std::vector<NeverDecides> never;
  LintOptions all;
  all.honour_ignore = false;
  for (const Diagnostic& d : lint(*policy, all)) {
    if (d.code != "W003" && d.code != "W004" && d.code != "W005") continue;
    for (std::size_t i = 0; i < c.rules.size(); ++i) {
      if (d.span.begin >= c.rules[i].span.begin && d.span.begin < c.rules[i].span.end) {
        never.push_back({i, d.code});
      }
    }
  }

  if (args.format() == "sarif") {
    fmt::print("{}\n", sarif_analysis(args.positional()[0], *policy, a, never).dump(2));
    return exit_ok;
  }
  if (args.format() == "json") {
    nlohmann::json out = {{"schema_version", schema_version},
                          {"policy", c.name},
                          {"version", c.version},
                          {"total_requests", a.total_requests},
                          {"complete", a.complete}};
    nlohmann::json conflicts = nlohmann::json::array();
    for (const auto& k : a.conflicts) {
      conflicts.push_back(
          {{"rules", {c.rules[k.first].id, c.rules[k.second].id}},
           {"effects", {effect_word(c.rules[k.first]), effect_word(c.rules[k.second])}},
           {"clauses",
            {c.clauses[c.rules[k.first].clause].id, c.clauses[c.rules[k.second].clause].id}},
           {"lines", {line_of(k.first), line_of(k.second)}},
           {"resolved_by", {{"rule", c.rules[k.decided_by].id}, {"tier", tier_of(k.decided_by)}}},
           {"requests", k.requests},
           {"witness", request_json(k.witness)}});
    }
    out["conflicts"] = std::move(conflicts);
    nlohmann::json never_json = nlohmann::json::array();
    for (const auto& [rule, code] : never) {
      never_json.push_back({{"rule", c.rules[rule].id}, {"code", code}, {"line", line_of(rule)}});
    }
    out["never_decide"] = std::move(never_json);
    nlohmann::json defaults = nlohmann::json::array();
    for (const auto& d : a.defaults) {
      defaults.push_back({{"actions", d.actions},
                          {"requesters", d.requesters},
                          {"data", d.data},
                          {"requests", d.requests},
                          {"witness", request_json(d.witness)}});
    }
    out["defaults"] = std::move(defaults);
    nlohmann::json wide = nlohmann::json::array();
    for (const auto& w : a.wide) {
      wide.push_back({{"rule", c.rules[w.rule].id},
                      {"clause", c.clauses[c.rules[w.rule].clause].id},
                      {"line", line_of(w.rule)},
                      {"pairs", w.pairs},
                      {"of", w.of},
                      {"witness", request_json(w.witness)}});
    }
    out["wide"] = std::move(wide);
    fmt::print("{}\n", out.dump(2));
    return exit_ok;
  }

  std::string out = fmt::format("Analysis of {} (version {}): {} requests in all{}\n", c.name,
                                c.version, a.total_requests,
                                a.complete ? "" : " (some regions were too large to enumerate)");
  out +=
      fmt::format("\nConflicts: {} pairs of rules with different effects match common requests\n",
                  a.conflicts.size());
  for (const auto& k : a.conflicts) {
    const auto& x = c.rules[k.first];
    const auto& y = c.rules[k.second];
    out += fmt::format("  {} ({}, {}, line {}) and {} ({}, {}, line {}): {} requests\n", x.id,
                       tier_of(k.first), effect_word(x), line_of(k.first), y.id, tier_of(k.second),
                       effect_word(y), line_of(k.second), k.requests);
    out += fmt::format("    clauses {} and {}; resolved by rule {} ({})\n", c.clauses[x.clause].id,
                       c.clauses[y.clause].id, c.rules[k.decided_by].id, tier_of(k.decided_by));
    out += fmt::format("    witness {}\n", request_json(k.witness).dump());
  }
  out += fmt::format("\nRules that can never decide: {}\n", never.size());
  for (const auto& [rule, code] : never) {
    out += fmt::format("  {} (line {}): {}\n", c.rules[rule].id, line_of(rule), code);
  }
  std::uint64_t defaulted = 0;
  for (const auto& d : a.defaults)
    defaulted += d.requests;
  out += fmt::format("\nRequests denied by default (no rule permits them): {} in {} groups\n",
                     defaulted, a.defaults.size());
  // The largest groups; `--format json` lists them all.
  std::vector<const DefaultRegion*> largest;
  for (const auto& d : a.defaults)
    largest.push_back(&d);
  std::stable_sort(largest.begin(), largest.end(),
                   [](const auto* x, const auto* y) { return x->requests > y->requests; });
  for (std::size_t i = 0; i < largest.size() && i < 12; ++i) {
    const DefaultRegion& d = *largest[i];
    out += fmt::format("  {} of {} by {}: {} requests\n    witness {}\n", join_names(d.actions),
                       join_names(d.data), join_names(d.requesters), d.requests,
                       request_json(d.witness).dump());
  }
  if (largest.size() > 12) {
    out += fmt::format("  ... and {} smaller groups (`--format json` lists them all)\n",
                       largest.size() - 12);
  }
  out += fmt::format(
      "\nWide permissions (covering a quarter or more of the in-scope data by requester pairs): "
      "{}\n",
      a.wide.size());
  for (const auto& w : a.wide) {
    out += fmt::format("  {} (clause {}, line {}): {} of {} pairs\n    witness {}\n",
                       c.rules[w.rule].id, c.clauses[c.rules[w.rule].clause].id, line_of(w.rule),
                       w.pairs, w.of, request_json(w.witness).dump());
  }
  std::fputs(out.c_str(), stdout);
  return exit_ok;
}

}  // namespace clause::cli
