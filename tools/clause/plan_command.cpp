// `clause plan`: for a request with some fields left unknown, the condition over those
// fields under which each outcome is given, each part citing its rule and clause.
#include <fmt/format.h>

#include "clause/plan.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

nlohmann::json operand_json(const PlanOperand& o) {
  if (!o.path.empty()) return {{"attribute", o.path}};
  return {{"value", value_json(o.value)}};
}

std::string_view kind_name(PlanTest::Kind kind) {
  static constexpr std::string_view names[] = {"category",  "purpose", "fact",   "consent",
                                               "objection", "compare", "member", "truth"};
  return names[static_cast<std::size_t>(kind)];
}

nlohmann::json test_json(const PlanTest& t) {
  nlohmann::json out = {{"kind", kind_name(t.kind)}, {"negated", t.negated}};
  switch (t.kind) {
    case PlanTest::Kind::category:
    case PlanTest::Kind::fact:
    case PlanTest::Kind::consent:
    case PlanTest::Kind::objection:
      out["names"] = t.names;
      break;
    case PlanTest::Kind::purpose:
      out["names"] = t.names;
      out["or_absent"] = t.absent;
      break;
    case PlanTest::Kind::compare:
      out["left"] = operand_json(t.left);
      out["op"] = to_string(t.op);
      out["right"] = operand_json(t.right);
      if (!(t.shift == Duration{})) out["shift"] = format_duration(t.shift);
      break;
    case PlanTest::Kind::member:
      out["left"] = operand_json(t.left);
      out["right"] = operand_json(t.right);
      break;
    case PlanTest::Kind::truth:
      out["left"] = operand_json(t.left);
      break;
  }
  out["text"] = to_string(t);
  return out;
}

}  // namespace

nlohmann::json plan_json_report(const Plan& plan) {
  nlohmann::json outcomes = nlohmann::json::array();
  for (const PlanOutcome& o : plan.outcomes) {
    nlohmann::json parts = nlohmann::json::array();
    for (const PlanPart& part : o.parts) {
      nlohmann::json conditions = nlohmann::json::array();
      for (const PlanTest& t : part.conditions)
        conditions.push_back(test_json(t));
      parts.push_back({{"condition", to_string(part)},
                       {"conditions", std::move(conditions)},
                       {"rule", part.rule},
                       {"clause", part.clause},
                       {"obligations", part.obligations}});
    }
    nlohmann::json outcome = {{"decision", to_string(o.effect)}};
    if (!o.consent.empty()) outcome["consent"] = o.consent;
    outcome["parts"] = std::move(parts);
    outcomes.push_back(std::move(outcome));
  }
  return {{"schema_version", schema_version},
          {"unknown", plan.unknown},
          {"complete", plan.complete},
          {"outcomes", std::move(outcomes)}};
}

namespace {

std::string plan_text(const Plan& plan) {
  std::string out;
  for (const PlanOutcome& o : plan.outcomes) {
    out += o.consent.empty() ? std::string(to_string(o.effect))
                             : fmt::format("{} `{}`", to_string(o.effect), o.consent);
    out += o.parts.empty() ? ": never\n" : " when\n";
    for (std::size_t i = 0; i < o.parts.size(); ++i) {
      const PlanPart& part = o.parts[i];
      out += fmt::format("  {} {}\n", i == 0 ? "  " : "or", to_string(part));
      out += part.rule.empty() ? fmt::format("       citing {} (no rule matched)", part.clause)
                               : fmt::format("       citing {} (rule {})", part.clause, part.rule);
      if (!part.obligations.empty())
        out += fmt::format(", obliges {}", fmt::join(part.obligations, ", "));
      out += '\n';
    }
  }
  return out;
}

}  // namespace

int run_plan(const std::vector<std::string>& argv) {
  if (wants_help(argv)) return print_help("plan");
  Args args(argv, "plan");
  if (args.error()) return usage_error("plan", *args.error());
  const auto policy_path = args.option("policy");
  if (policy_path == "-" && (args.positional().empty() || args.positional()[0] == "-")) {
    return usage_error("plan", "stdin (`-`) can be read only once: name the request file");
  }
  if (!policy_path || args.positional().size() > 1) {
    return usage_error("plan", "expected --policy FILE and one REQUEST.json (or `-`)");
  }
  const bool json = args.format() == "json";
  const std::optional<Policy> policy = load_policy(*policy_path);
  if (!policy) return exit_failed;
  const std::string input = args.positional().empty() ? "-" : args.positional()[0];
  const auto text = read_request_text(input);
  if (!text) {
    fmt::print(stderr, "clause plan: cannot read `{}`\n", input);
    return exit_invalid_input;
  }
  const auto plan = clause::plan_json(*policy, *text);
  if (!plan) {
    if (json) {
      const nlohmann::json report = {{"schema_version", schema_version},
                                     {"error", plan.error().to_string()}};
      fmt::print("{}\n", report.dump(2));
    } else {
      fmt::print(stderr, "clause plan: the request is not valid: {}\n", plan.error().to_string());
    }
    return exit_invalid_input;
  }
  if (json) {
    fmt::print("{}\n", plan_json_report(*plan).dump(2));
  } else if (plan->complete) {
    fmt::print("{}", plan_text(*plan));
  }
  if (!plan->complete) {
    fmt::print(stderr,
               "clause plan: the unknown fields span more classes of requests than a plan "
               "enumerates; decide the requests one by one\n");
    return exit_failed;
  }
  return exit_ok;
}

}  // namespace clause::cli
