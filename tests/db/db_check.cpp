// clause_db_check: a plan's SQL filters, run on a real database, select exactly the rows
// that evaluating each completed request gives that outcome. Generates records from a seed,
// loads them into SQLite (in memory) or PostgreSQL, then for random partial requests runs
// every outcome's condition and every part's, and compares the ids with the decisions.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clause/clause.hpp"
#include "clause/plan.hpp"
#include "clause/sql.hpp"
#include "database.hpp"
#include "records.hpp"

namespace clause::db {
namespace {

constexpr std::string_view usage =
    "usage: clause_db_check [--verbose] --policy FILE --mapping FILE --dialect sqlite|postgres\n"
    "                       [--rows N] [--requests K] [--seed S] [--conninfo TEXT]\n";

struct Options {
  std::string policy;
  std::string mapping;
  SqlDialect dialect = SqlDialect::sqlite;
  std::size_t rows = 100'000;
  std::size_t requests = 10;
  std::uint64_t seed = 1;
  std::string conninfo;
  bool verbose = false;  // a line per request: how many rows each outcome selects
};

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  bool dialect = false;
  int i = 1;
  if (argc > 1 && std::string_view(argv[1]) == "--verbose") {
    o.verbose = true;
    ++i;
  }
  for (; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string value = argv[i + 1];
    const auto number = [&]() -> std::optional<std::uint64_t> {
      const auto n = parse_integer(value);
      if (!n || *n < 0) return std::nullopt;
      return static_cast<std::uint64_t>(*n);
    };
    if (flag == "--policy") {
      o.policy = value;
    } else if (flag == "--mapping") {
      o.mapping = value;
    } else if (flag == "--dialect") {
      const auto d = parse_sql_dialect(value);
      if (!d) return std::nullopt;
      o.dialect = *d;
      dialect = true;
    } else if (flag == "--conninfo") {
      o.conninfo = value;
    } else if (const auto n = number(); n && flag == "--rows") {
      o.rows = *n;
    } else if (n && flag == "--requests") {
      o.requests = *n;
    } else if (n && flag == "--seed") {
      o.seed = *n;
    } else {
      return std::nullopt;
    }
  }
  if (i != argc || o.policy.empty() || o.mapping.empty() || !dialect) return std::nullopt;
  return o;
}

std::string read(const std::string& path) {
  auto source = read_source(path);
  if (!source) throw std::runtime_error(source.error());
  return source->text;
}

std::string parameter_text(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return fmt::format("\"{}\"", *s);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  return std::get<bool>(v) ? "true" : "false";
}

std::string outcome_name(Effect effect, std::string_view consent) {
  return consent.empty() ? std::string(to_string(effect))
                         : fmt::format("{} `{}`", to_string(effect), consent);
}

// What evaluating one completed request gave.
struct Expected {
  Effect effect = Effect::deny;
  std::string_view consent;
  std::string_view rule;
};

bool gets(const Expected& e, const SqlOutcome& o) {
  return e.effect == o.effect && (o.effect != Effect::require_consent || e.consent == o.consent);
}

class Check {
 public:
  Check(const Options& options, const Policy& policy, World& world, Database& db)
      : options_(options), policy_(policy), world_(world), db_(db) {}

  // Runs one request; false, after printing what differs, when SQL and evaluation disagree.
  bool run(std::size_t number) {
    question_ = world_.question();
    number_ = number;
    auto plan = clause::plan(policy_, question_.partial);
    if (!plan) return failed("the plan is refused: " + plan.error().to_string());
    if (!plan->complete) return failed("the plan is incomplete");
    plan_ = std::move(*plan);
    auto filter = sql_filter(policy_, plan_, world_.mapping(), options_.dialect);
    if (!filter) return failed("the SQL filter is refused: " + filter.error().to_string());
    if (!filter->complete) return failed("the SQL filter is incomplete");
    const auto same = [](const SqlOutcome& a, const PlanOutcome& b) {
      return a.effect == b.effect && a.consent == b.consent;
    };
    if (!std::equal(filter->outcomes.begin(), filter->outcomes.end(), plan_.outcomes.begin(),
                    plan_.outcomes.end(), same))
      return failed("the SQL filter's outcomes are not the plan's");

    const auto start = std::chrono::steady_clock::now();
    const std::vector<Record>& records = world_.records();
    expected_.resize(records.size());
    Request completed;
    for (std::size_t i = 0; i < records.size(); ++i) {
      world_.complete(question_, records[i], completed);
      const Decision d = policy_.evaluate(completed);
      if (!d.error.empty())
        return failed(
            fmt::format("a completed request is invalid: {}\n  {}", d.error, describe(completed)));
      expected_[i] = Expected{d.effect, d.consent, d.rule};
    }
    evaluation_ += std::chrono::steady_clock::now() - start;
    rows_compared_ += records.size();
    ++requests_;

    std::vector<int> covered(records.size(), 0);
    std::vector<std::string> sizes;
    for (std::size_t o = 0; o < filter->outcomes.size(); ++o) {
      const SqlOutcome& outcome = filter->outcomes[o];
      const std::vector<std::int64_t> got = select(filter->table, outcome.condition);
      if (!agree(filter->table, o, outcome, outcome.condition, got, std::nullopt)) return false;
      for (const std::int64_t id : got)
        ++covered[static_cast<std::size_t>(id - 1)];
      sizes.push_back(fmt::format("{} {} ({} parts)", outcome_name(outcome.effect, outcome.consent),
                                  got.size(), outcome.parts.size()));
      // Each part selects rows its rule decides, and together they select the outcome's.
      std::vector<std::int64_t> joined;
      for (const SqlPart& part : outcome.parts) {
        const std::vector<std::int64_t> some = select(filter->table, part.condition);
        if (!agree(filter->table, o, outcome, part.condition, some, part.rule)) return false;
        joined.insert(joined.end(), some.begin(), some.end());
        ++parts_;
      }
      std::sort(joined.begin(), joined.end());
      joined.erase(std::unique(joined.begin(), joined.end()), joined.end());
      if (joined != got)
        return failed("the parts of " + outcome_name(outcome.effect, outcome.consent) +
                      " select other rows than its condition");
      ++outcomes_;
    }
    for (std::size_t i = 0; i < covered.size(); ++i) {
      if (covered[i] != 1)
        return failed(
            fmt::format("the outcomes do not partition the rows: record {} is selected "
                        "by {} of them\n  {}",
                        records[i].id, covered[i], world_.describe(records[i])));
    }
    if (options_.verbose)
      fmt::print("{} {} {}, open [{}]: {}\n", number + 1, question_.partial.known.requester,
                 question_.partial.known.action, fmt::join(question_.partial.unknown, ", "),
                 fmt::join(sizes, ", "));
    return true;
  }

  void summary(std::chrono::steady_clock::duration load,
               std::chrono::steady_clock::duration total) const {
    const auto seconds = [](std::chrono::steady_clock::duration d) {
      return std::chrono::duration<double>(d).count();
    };
    fmt::print(
        "clause_db_check: {} {} with {}, seed {}: {} rows, {} requests, {} outcomes and {} parts "
        "as SQL select what evaluation decides ({} decisions); load {:.1f} s, queries {:.1f} s, "
        "evaluation {:.1f} s, total {:.1f} s\n",
        to_string(options_.dialect), options_.policy, options_.mapping, options_.seed,
        world_.records().size(), requests_, outcomes_, parts_, rows_compared_, seconds(load),
        seconds(queries_), seconds(evaluation_), seconds(total));
  }

 private:
  std::vector<std::int64_t> select(const std::string& table, const SqlCondition& c) {
    const auto start = std::chrono::steady_clock::now();
    auto ids = db_.ids(fmt::format("SELECT id FROM {} WHERE {}", table, c.where), c.parameters);
    queries_ += std::chrono::steady_clock::now() - start;
    return ids;
  }

  // Compares the rows a condition selects with the rows that get the outcome (and, for a
  // part, with its rule); a part selects a subset, so only its rows are checked.
  bool agree(const std::string& table, std::size_t o, const SqlOutcome& outcome,
             const SqlCondition& condition, const std::vector<std::int64_t>& got,
             const std::optional<std::string>& rule) {
    const std::vector<Record>& records = world_.records();
    std::vector<std::size_t> wrong;  // indices of records
    std::vector<bool> selected(records.size(), false);
    for (const std::int64_t id : got) {
      const auto i = static_cast<std::size_t>(id - 1);
      selected[i] = true;
      if (!gets(expected_[i], outcome) || (rule && expected_[i].rule != *rule)) wrong.push_back(i);
    }
    if (!rule) {
      for (std::size_t i = 0; i < records.size(); ++i)
        if (!selected[i] && gets(expected_[i], outcome)) wrong.push_back(i);
    }
    if (wrong.empty()) return true;
    std::sort(wrong.begin(), wrong.end());

    std::string text = fmt::format(
        "{} of {} rows differ for {}{}\nSQL: SELECT id FROM {} WHERE {}\nparameters: [{}]\n",
        wrong.size(), records.size(), outcome_name(outcome.effect, outcome.consent),
        rule ? " (the part of rule " + *rule + ")" : "", table, condition.where,
        fmt::join(parameters(condition), ", "));
    text += "the plan's parts of this outcome:\n";
    for (const PlanPart& part : plan_.outcomes[o].parts)
      text += fmt::format("  {} [rule {}]\n", to_string(part), part.rule);
    Request completed;
    for (std::size_t n = 0; n < std::min<std::size_t>(wrong.size(), 5); ++n) {
      const std::size_t i = wrong[n];
      world_.complete(question_, records[i], completed);
      const Expected& e = expected_[i];
      bool in_plan = false;
      for (const PlanPart& part : plan_.outcomes[o].parts) {
        in_plan = in_plan || std::all_of(part.conditions.begin(), part.conditions.end(),
                                         [&](const PlanTest& t) { return holds(t, completed); });
      }
      text += fmt::format(
          "  row {}: SQL {}, evaluation gives {} (rule {}), the plan in memory {}\n    {}\n",
          records[i].id, selected[i] ? "selects it" : "does not select it",
          outcome_name(e.effect, e.consent), e.rule, in_plan ? "meets it" : "does not meet it",
          world_.describe(records[i]));
    }
    return failed(text);
  }

  static std::vector<std::string> parameters(const SqlCondition& c) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < c.parameters.size(); ++i)
      out.push_back(fmt::format("{}={}", i + 1, parameter_text(c.parameters[i])));
    return out;
  }

  bool failed(const std::string& what) const {
    fmt::print(stderr,
               "clause_db_check: {} {} with {}, seed {}, request {}: {}\nrequest: {}\nunknown: "
               "[{}]\n",
               to_string(options_.dialect), options_.policy, options_.mapping, options_.seed,
               number_ + 1, what, describe(question_.partial.known),
               fmt::join(question_.partial.unknown, ", "));
    return false;
  }

  const Options& options_;
  const Policy& policy_;
  World& world_;
  Database& db_;
  Question question_;
  Plan plan_;
  std::size_t number_ = 0;
  std::vector<Expected> expected_;
  std::size_t requests_ = 0, outcomes_ = 0, parts_ = 0, rows_compared_ = 0;
  std::chrono::steady_clock::duration queries_{}, evaluation_{};
};

int run(const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto policy = compile(SourceFile{options.policy, read(options.policy)});
  if (!policy) throw std::runtime_error(options.policy + " does not compile");
  auto mapping = read_sql_mapping(read(options.mapping));
  if (!mapping) throw std::runtime_error(options.mapping + ": " + mapping.error().to_string());
  World world(*policy, std::move(*mapping), options.seed);
  world.generate(options.rows);
  const std::unique_ptr<Database> db =
      options.dialect == SqlDialect::sqlite ? open_sqlite() : open_postgres(options.conninfo);
  for (const Table& table : world.tables())
    db->load(table);
  const auto load = std::chrono::steady_clock::now() - start;

  Check check(options, *policy, world, *db);
  for (std::size_t k = 0; k < options.requests; ++k)
    if (!check.run(k)) return 1;
  check.summary(load, std::chrono::steady_clock::now() - start);
  return 0;
}

}  // namespace
}  // namespace clause::db

int main(int argc, char** argv) {
  const auto options = clause::db::parse_options(argc, argv);
  if (!options) {
    fmt::print(stderr, "{}", clause::db::usage);
    return 2;
  }
  try {
    return clause::db::run(*options);
  } catch (const std::exception& e) {
    fmt::print(stderr, "clause_db_check: {}\n", e.what());
    return 2;
  }
}
