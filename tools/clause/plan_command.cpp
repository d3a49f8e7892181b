// `clause plan`: for a request with some fields left unknown, the condition over those
// fields under which each outcome is given, each part citing its rule and clause.
#include <fmt/format.h>

#include "clause/plan.hpp"
#include "clause/sql.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

nlohmann::json sql_values_json(const std::vector<SqlValue>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (const SqlValue& v : values)
    std::visit([&](const auto& x) { out.push_back(x); }, v);
  return out;
}

}  // namespace

nlohmann::json sql_json_report(const Plan& plan, const SqlFilter& filter) {
  nlohmann::json outcomes = nlohmann::json::array();
  for (const SqlOutcome& o : filter.outcomes) {
    nlohmann::json parts = nlohmann::json::array();
    for (const SqlPart& part : o.parts) {
      parts.push_back({{"where", part.condition.where},
                       {"parameters", sql_values_json(part.condition.parameters)},
                       {"rule", part.rule},
                       {"clause", part.clause},
                       {"obligations", part.obligations}});
    }
    nlohmann::json outcome = {{"decision", to_string(o.effect)}};
    if (!o.consent.empty()) outcome["consent"] = o.consent;
    outcome["where"] = o.condition.where;
    outcome["parameters"] = sql_values_json(o.condition.parameters);
    outcome["parts"] = std::move(parts);
    outcomes.push_back(std::move(outcome));
  }
  return {{"schema_version", schema_version},
          {"unknown", plan.unknown},
          {"complete", filter.complete},
          {"dialect", to_string(filter.dialect)},
          {"table", filter.table},
          {"outcomes", std::move(outcomes)}};
}

namespace {

// The line under a part: who decides it, and the duties of an allow.
std::string citing_line(const std::string& rule, const std::string& clause,
                        const std::vector<std::string>& obligations) {
  std::string out = rule.empty() ? fmt::format("       citing {} (no rule matched)", clause)
                                 : fmt::format("       citing {} (rule {})", clause, rule);
  if (!obligations.empty()) out += fmt::format(", obliges {}", fmt::join(obligations, ", "));
  return out + '\n';
}

std::string plan_text(const Plan& plan) {
  std::string out;
  for (const PlanOutcome& o : plan.outcomes) {
    out += o.consent.empty() ? std::string(to_string(o.effect))
                             : fmt::format("{} `{}`", to_string(o.effect), o.consent);
    out += o.parts.empty() ? ": never\n" : " when\n";
    for (std::size_t i = 0; i < o.parts.size(); ++i) {
      const PlanPart& part = o.parts[i];
      out += fmt::format("  {} {}\n", i == 0 ? "  " : "or", to_string(part));
      out += citing_line(part.rule, part.clause, part.obligations);
    }
  }
  return out;
}

// A parameter as SQL would write it, for a person reading the filter.
std::string sql_literal(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    std::string out = "'";
    for (const char c : *s) {
      out += c;
      if (c == '\'') out += c;
    }
    return out + "'";
  }
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return std::get<bool>(v) ? "TRUE" : "FALSE";
}

// `with $1 = 'p-1', $2 = 18`, or nothing when there are no parameters.
std::string bound_text(const std::vector<SqlValue>& parameters, char mark) {
  std::vector<std::string> bound;
  for (std::size_t i = 0; i < parameters.size(); ++i)
    bound.push_back(fmt::format("{}{} = {}", mark, i + 1, sql_literal(parameters[i])));
  return bound.empty() ? std::string() : fmt::format(" with {}", fmt::join(bound, ", "));
}

std::string sql_text(const SqlFilter& filter) {
  const char mark = filter.dialect == SqlDialect::postgres ? '$' : '?';
  std::string out;
  for (const SqlOutcome& o : filter.outcomes) {
    out += o.consent.empty() ? std::string(to_string(o.effect))
                             : fmt::format("{} `{}`", to_string(o.effect), o.consent);
    if (o.parts.empty()) {
      out += ": no row\n";
      continue;
    }
    out += fmt::format(" where\n    {}\n", o.condition.where);
    if (!o.condition.parameters.empty())
      out += fmt::format("   {}\n", bound_text(o.condition.parameters, mark));
    out += "  each part alone:\n";
    for (const SqlPart& part : o.parts) {
      out += fmt::format("    {}{}\n", part.condition.where,
                         bound_text(part.condition.parameters, mark));
      out += "  " + citing_line(part.rule, part.clause, part.obligations);
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
  const auto dialect_name = args.option("sql");
  const auto mapping_path = args.option("mapping");
  const auto dialect = dialect_name ? parse_sql_dialect(*dialect_name) : std::nullopt;
  if (dialect_name && !dialect) {
    return usage_error("plan",
                       fmt::format("--sql takes `postgres` or `sqlite`, not `{}`", *dialect_name));
  }
  if (dialect_name.has_value() != mapping_path.has_value()) {
    return usage_error("plan",
                       "--sql and --mapping go together: the dialect, and where the "
                       "request's fields stand");
  }
  const bool json = args.format() == "json";
  const std::optional<Policy> policy = load_policy(*policy_path);
  if (!policy) return exit_failed;
  // A mistake in the input: the JSON error report, or a line on stderr.
  const auto refused = [json](const std::string& message) {
    if (json) {
      const nlohmann::json report = {{"schema_version", schema_version}, {"error", message}};
      fmt::print("{}\n", report.dump(2));
    } else {
      fmt::print(stderr, "clause plan: {}\n", message);
    }
    return exit_invalid_input;
  };
  std::optional<SqlMapping> mapping;
  if (mapping_path) {
    const auto mapping_text = read_request_text(*mapping_path);
    if (!mapping_text) {
      fmt::print(stderr, "clause plan: cannot read `{}`\n", *mapping_path);
      return exit_invalid_input;
    }
    auto read = read_sql_mapping(*policy, *mapping_text);
    if (!read) {
      return refused(
          fmt::format("{}: the mapping is not valid: {}", *mapping_path, read.error().to_string()));
    }
    mapping = std::move(*read);
  }
  const std::string input = args.positional().empty() ? "-" : args.positional()[0];
  const auto text = read_request_text(input);
  if (!text) {
    fmt::print(stderr, "clause plan: cannot read `{}`\n", input);
    return exit_invalid_input;
  }
  const auto plan = clause::plan_json(*policy, *text);
  if (!plan) {
    return json ? refused(plan.error().to_string())
                : refused("the request is not valid: " + plan.error().to_string());
  }
  if (mapping) {
    const auto filter = sql_filter(*policy, *plan, *mapping, *dialect);
    if (!filter) return refused(fmt::format("{}: {}", *mapping_path, filter.error().to_string()));
    if (json) {
      fmt::print("{}\n", sql_json_report(*plan, *filter).dump(2));
    } else if (plan->complete) {
      fmt::print("{}", sql_text(*filter));
    }
  } else if (json) {
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
