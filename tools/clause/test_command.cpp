// The command `test`: runs policy test files and reports failures and coverage.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "clause/clause.hpp"
#include "clause/dsl/check.hpp"
#include "clause/dsl/parse.hpp"
#include "cli.hpp"
#include "test_reports.hpp"

namespace clause::cli {
namespace {

namespace fs = std::filesystem;

// Counts, per clause and per rule, the cases that reached them.
struct Coverage {
  // Keyed by the policy's source name, then by id, in the policy's own order.
  struct PerPolicy {
    std::optional<Policy> policy;  // kept, so that its checked tree stays
    std::vector<std::size_t> clause_hits;
    std::vector<std::size_t> rule_hits;     // the rule matched the case's request
    std::vector<std::size_t> rule_decided;  // the rule gave the decision
  };
  std::map<std::string, PerPolicy> policies;

  PerPolicy& of(const Policy& policy) {
    PerPolicy& p = policies[policy.source().name];
    if (!p.policy) {
      p.policy = policy;
      p.clause_hits.assign(policy.checked().clauses.size(), 0);
      p.rule_hits.assign(policy.checked().rules.size(), 0);
      p.rule_decided.assign(policy.checked().rules.size(), 0);
    }
    return p;
  }

  // Records one evaluated case: the rules that matched, the clause cited, and the clauses
  // that the request's own names (and their ancestors) cite.
  void record(const Policy& policy, const Request& request, const Decision& d) {
    PerPolicy& p = of(policy);
    const dsl::CheckedPolicy& c = p.policy->checked();
    std::vector<bool> reached(c.clauses.size(), false);
    const auto cite = [&](std::string_view id) {
      for (std::size_t i = 0; i < c.clauses.size(); ++i) {
        if (c.clauses[i].id == id) reached[i] = true;
      }
    };
    cite(d.clause);
    for (std::size_t i = 0; i < d.trace.size() && i < c.rules.size(); ++i) {
      const Outcome o = d.trace[i].outcome;
      if (o == Outcome::decided || o == Outcome::outranked || o == Outcome::consent_granted) {
        ++p.rule_hits[i];
        reached[c.rules[i].clause] = true;
      }
      if (o == Outcome::decided) ++p.rule_decided[i];
    }
    const auto cite_term = [&](const std::vector<dsl::Term>& terms, const std::string& name) {
      for (std::size_t i = 0; i < terms.size(); ++i) {
        if (terms[i].name != name) continue;
        for (auto at = static_cast<std::int32_t>(i); at != dsl::no_id;
             at = terms[static_cast<std::size_t>(at)].parent) {
          const std::int32_t clause = terms[static_cast<std::size_t>(at)].clause;
          if (clause >= 0) reached[static_cast<std::size_t>(clause)] = true;
        }
      }
    };
    cite_term(c.data, request.data);
    cite_term(c.requesters, request.requester);
    for (const std::string& granted : request.consent)
      cite_term(c.consents, granted);
    for (const ConsentRecord& granted : request.consent_records)
      cite_term(c.consents, granted.id);
    for (std::size_t i = 0; i < reached.size(); ++i)
      p.clause_hits[i] += reached[i] ? 1 : 0;
  }

  std::string text() const {
    std::string out;
    for (const auto& [name, p] : policies) {
      const dsl::CheckedPolicy& c = p.policy->checked();
      out += fmt::format("coverage of {}\n  clauses\n", name);
      std::vector<std::string> missed;
      for (std::size_t i = 0; i < c.clauses.size(); ++i) {
        out += fmt::format("    {:<10} {:>6} case{}\n", c.clauses[i].id, p.clause_hits[i],
                           p.clause_hits[i] == 1 ? "" : "s");
        if (p.clause_hits[i] == 0) missed.push_back("clause " + c.clauses[i].id);
      }
      out += "  rules (cases matched, cases decided)\n";
      for (std::size_t i = 0; i < c.rules.size(); ++i) {
        const LineColumn at = line_column(p.policy->source().text, c.rules[i].span.begin);
        out += fmt::format("    {:<24} {:>6} {:>6}   line {}\n", c.rules[i].id, p.rule_hits[i],
                           p.rule_decided[i], at.line);
        if (p.rule_hits[i] == 0) {
          missed.push_back(fmt::format("rule {} (line {})", c.rules[i].id, at.line));
        }
      }
      if (missed.empty()) {
        out += "  every clause and every rule was reached\n";
      } else {
        out += "  never reached:\n";
        for (const std::string& m : missed)
          out += "    " + m + "\n";
      }
    }
    return out;
  }

  nlohmann::json json() const {
    nlohmann::json out = nlohmann::json::object();
    nlohmann::json clauses = nlohmann::json::array();
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& [name, p] : policies) {
      const dsl::CheckedPolicy& c = p.policy->checked();
      for (std::size_t i = 0; i < c.clauses.size(); ++i) {
        clauses.push_back({{"id", c.clauses[i].id}, {"hits", p.clause_hits[i]}, {"policy", name}});
      }
      for (std::size_t i = 0; i < c.rules.size(); ++i) {
        rules.push_back({{"id", c.rules[i].id},
                         {"hits", p.rule_hits[i]},
                         {"decided", p.rule_decided[i]},
                         {"line", line_column(p.policy->source().text, c.rules[i].span.begin).line},
                         {"policy", name}});
      }
    }
    out["clauses"] = std::move(clauses);
    out["rules"] = std::move(rules);
    return out;
  }
};

std::string describe(Effect effect, std::string_view consent, std::string_view clause,
                     const std::vector<std::string>& obligations) {
  std::string out = effect == Effect::require_consent
                        ? fmt::format("require consent {} cites \"{}\"", consent, clause)
                        : fmt::format("{} cites \"{}\"", to_string(effect), clause);
  for (std::size_t i = 0; i < obligations.size(); ++i)
    out += (i == 0 ? " obliges " : ", ") + obligations[i];
  return out;
}

// Names, sorted and without repeats: obligations compare as sets.
std::vector<std::string> as_set(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// A mistake in a case's request, where it is written.
struct CaseError {
  Span span;
  std::string message;
};

// Reads a date or date-time of a case.
Result<Instant, CaseError> case_time(const ast::TimeText& t) {
  auto at = parse_time(t.text);
  if (!at) {
    return Failure{
        CaseError{t.span, fmt::format("`{}` is not a date or date-time: {}", t.text, at.error())}};
  }
  return *at;
}

// A value of `with` as the attribute's declared type wants it.
Result<Value, CaseError> typed_value(const dsl::AttributeInfo& a, const ast::TestValue& v) {
  using Kind = ast::TestValue::Kind;
  const auto wrong = [&] {
    return Failure{
        CaseError{v.span, fmt::format("`{}` is declared `{}`, but the case gives {}", a.path,
                                      dsl::type_text(a), dsl::value_noun(v.kind))}};
  };
  switch (a.type) {
    case AttrType::string:
      if (v.kind != Kind::string) return wrong();
      return Value{v.text};
    case AttrType::integer: {
      if (v.kind != Kind::integer) return wrong();
      const auto n = parse_integer(v.text);
      if (!n) return Failure{CaseError{v.span, "the number is out of range"}};
      return Value{*n};
    }
    case AttrType::boolean:
      if (v.kind != Kind::boolean) return wrong();
      return Value{v.boolean};
    case AttrType::date:
    case AttrType::time: {
      if (v.kind != Kind::time) return wrong();
      auto at = a.type == AttrType::date ? parse_date(v.text) : parse_time(v.text);
      if (!at)
        return Failure{CaseError{v.span, fmt::format("`{}` is declared `{}`: {}", a.path,
                                                     to_string(a.type), at.error())}};
      return Value{*at};
    }
    case AttrType::string_list:
      if (v.kind != Kind::list) return wrong();
      return Value{v.items};
  }
  return wrong();
}

const dsl::AttributeInfo* declared(const dsl::CheckedPolicy& c, std::string_view path) {
  for (const dsl::AttributeInfo& a : c.attributes) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

// Fills the request's attributes, consents and objections from the case.
std::optional<CaseError> fill_request(const dsl::CheckedPolicy& c, const ast::TestCase& tc,
                                      Request& request) {
  for (const ast::TestAttribute& pair : tc.with) {
    const std::string path = pair.path.text();
    const dsl::AttributeInfo* a = declared(c, path);
    if (a == nullptr) {
      std::vector<std::string_view> candidates;
      for (const dsl::AttributeInfo& d : c.attributes)
        candidates.push_back(d.path);
      const std::string guess = dsl::closest_name(path, candidates);
      return CaseError{
          pair.path.span,
          fmt::format("the policy declares no attribute `{}`{}", path,
                      guess.empty() ? "" : fmt::format("; did you mean `{}`?", guess))};
    }
    auto value = typed_value(*a, pair.value);
    if (!value) return value.error();
    if (auto why = dsl::not_taken(*a, *value)) {
      return CaseError{pair.value.span, fmt::format("`{}` is declared `{}`: {} {}", path,
                                                    dsl::type_text(*a), pair.value.text, *why)};
    }
    request.attributes.push_back({path, std::move(*value)});
  }
  if (tc.at) {
    if (declared(c, "context.time") == nullptr) {
      return CaseError{tc.at->span, "the policy declares no `context.time` for `at`"};
    }
    auto at = case_time(*tc.at);
    if (!at) return at.error();
    request.attributes.push_back({"context.time", *at});
  }
  for (const ast::TestConsent& k : tc.consent) {
    if (!k.expires && !k.withdrawn) {
      request.consent.push_back(k.name.text);
      continue;
    }
    ConsentRecord record{k.name.text, {}, {}};
    for (auto [text, slot] :
         {std::pair{&k.expires, &record.expires}, std::pair{&k.withdrawn, &record.withdrawn}}) {
      if (!*text) continue;
      auto at = case_time(**text);
      if (!at) return at.error();
      *slot = *at;
    }
    request.consent_records.push_back(std::move(record));
  }
  for (const ast::Name& o : tc.objections)
    request.objections.push_back(o.text);
  return std::nullopt;
}

// Where the deciding rule stands, for the failure report.
std::string rule_location(const Policy& policy, std::string_view rule) {
  for (const dsl::CheckedRule& r : policy.checked().rules) {
    if (r.id != rule) continue;
    const LineColumn at = line_column(policy.source().text, r.span.begin);
    return fmt::format("{}:{}:{}", policy.source().name, at.line, at.column);
  }
  return "";
}

}  // namespace

int run_test(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("test");
  }
  Args args(argv, "test");
  if (args.error()) return usage_error("test", *args.error());
  std::vector<std::string> inputs = args.positional();
  if (inputs.empty()) inputs.push_back(".");
  // A test file from stdin names its policy relative to the current folder.
  const bool from_stdin = std::find(inputs.begin(), inputs.end(), "-") != inputs.end();
  if (from_stdin && inputs.size() > 1) {
    return usage_error("test", "`-` (stdin) cannot be mixed with files");
  }
  std::string error;
  const std::vector<std::string> files =
      from_stdin ? inputs : gather_files(inputs, {".test"}, error);
  if (!error.empty()) {
    fmt::print(stderr, "clause test: {}\n", error);
    return exit_usage;
  }
  if (files.empty()) {
    fmt::print(stderr, "clause test: no `*.test` file found\n");
    return exit_failed;
  }
  const std::string format = args.format();
  const bool verbose = args.flag("verbose");
  // JSON, JUnit and TAP keep stdout for the report alone.
  FILE* report = format == "text" ? stdout : stderr;
  std::vector<FileReport> reports;
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };

  std::map<std::string, std::optional<Policy>> compiled;
  Coverage coverage;
  std::size_t passed = 0;
  std::size_t failed = 0;
  bool broken = false;
  for (const std::string& path : files) {
    const Clock::time_point file_start = Clock::now();
    FileReport& file_report = reports.emplace_back();
    file_report.file = path;
    auto source = read_policy_source(path);
    if (!source) {
      fmt::print(stderr, "clause test: {}\n", source.error());
      file_report.error = source.error();
      broken = true;
      continue;
    }
    file_report.file = source->name;
    const dsl::TestParseResult parsed = dsl::parse_tests(*source, tool_parse_limits());
    if (!parsed.diagnostics.empty()) {
      std::fputs(render_text(*source, parsed.diagnostics).c_str(), stderr);
      file_report.error =
          fmt::format("the test file has {} error{} (on stderr)", parsed.diagnostics.size(),
                      parsed.diagnostics.size() == 1 ? "" : "s");
      broken = true;
      continue;
    }
    if (!parsed.tests.policy) {
      file_report.error = "the test file names no policy";
      std::vector<Diagnostic> d{{Severity::error,
                                 "E401",
                                 "the test file names no policy",
                                 Span{},
                                 {},
                                 "start it with `tests for \"POLICY FILE\"`"}};
      std::fputs(render_text(*source, d).c_str(), stderr);
      broken = true;
      continue;
    }
    const std::string policy_path = (fs::path(path).parent_path() / parsed.tests.policy->value)
                                        .lexically_normal()
                                        .generic_string();
    auto [slot, fresh] = compiled.emplace(policy_path, std::nullopt);
    if (fresh) {
      auto policy_source = read_source(policy_path, tool_limits().max_policy_bytes);
      if (!policy_source) {
        std::vector<Diagnostic> d{
            {Severity::error, "E402", policy_source.error(), parsed.tests.policy->span, {}, ""}};
        std::fputs(render_text(*source, d).c_str(), stderr);
      } else if (auto policy = compile(*policy_source, tool_options())) {
        slot->second = std::move(*policy);
      } else {
        std::fputs(render_text(*policy_source, policy.error()).c_str(), stderr);
      }
    }
    if (!slot->second) {
      broken = true;
      failed += parsed.tests.cases.size();
      for (const ast::TestCase& c : parsed.tests.cases) {
        const LineColumn at = line_column(source->text, c.span.begin);
        const std::string message =
            fmt::format("the policy `{}` cannot be read or has errors", policy_path);
        file_report.cases.push_back(
            {.name = c.name.value,
             .where = fmt::format("{}:{}:{}", source->name, at.line, at.column),
             .line = at.line,
             .status = CaseReport::Status::error,
             .message = message,
             .expected = "",
             .actual = "",
             .detail = message,
             .seconds = 0});
      }
      file_report.seconds = seconds_since(file_start);
      continue;
    }
    const Policy& policy = *slot->second;

    for (const ast::TestCase& c : parsed.tests.cases) {
      const Clock::time_point case_start = Clock::now();
      const LineColumn at = line_column(source->text, c.span.begin);
      const std::string where = fmt::format("{}:{}:{}", source->name, at.line, at.column);
      CaseReport& case_report = file_report.cases.emplace_back();
      case_report.name = c.name.value;
      case_report.where = where;
      case_report.line = at.line;
      // Every way out of the case below fills in its report; the time is taken here.
      struct Stopwatch {
        CaseReport& report;
        Clock::time_point start;
        ~Stopwatch() {
          report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        }
      } stopwatch{case_report, case_start};
      std::vector<std::string> missing;
      if (!c.data) missing.push_back("data");
      if (!c.requester) missing.push_back("requester");
      if (!c.action) missing.push_back("action");
      if (!missing.empty()) {
        ++failed;
        std::string list;
        for (const auto& m : missing)
          list += (list.empty() ? "`" : ", `") + m + "`";
        case_report.status = CaseReport::Status::failed;
        case_report.message = fmt::format("the case has no {}", list);
        case_report.detail = case_report.message;
        fmt::print(report, "FAIL {}: {}\n  the case has no {}\n\n", where, c.name.value, list);
        continue;
      }
      Request request;
      request.data = c.data->text;
      request.requester = c.requester->text;
      request.action = c.action->text;
      request.requester_id = "test";
      if (c.purpose) request.purpose = c.purpose->text;
      for (const auto& f : c.facts)
        request.facts.push_back(f.text);
      if (auto mistake = fill_request(policy.checked(), c, request)) {
        ++failed;
        const LineColumn lc = line_column(source->text, mistake->span.begin);
        case_report.status = CaseReport::Status::failed;
        case_report.message =
            fmt::format("{}:{}:{}: {}", source->name, lc.line, lc.column, mistake->message);
        case_report.detail = case_report.message;
        fmt::print(report, "FAIL {}:{}:{}: {}\n  {}\n\n", source->name, lc.line, lc.column,
                   c.name.value, mistake->message);
        continue;
      }
      const Decision d = policy.evaluate(request, EvalOptions{.trace = true});
      if (d.error.empty()) coverage.record(policy, request, d);

      const ast::Expectation& e = *c.expect;
      const Effect want = e.effect;
      const std::string want_consent = e.consent ? e.consent->text : "";
      std::vector<std::string> want_obligations;
      for (const ast::Name& o : e.obligations)
        want_obligations.push_back(o.text);
      want_obligations = as_set(std::move(want_obligations));
      const std::vector<std::string> got_obligations =
          as_set({d.obligations.begin(), d.obligations.end()});
      const bool ok = d.error.empty() && d.effect == want && d.clause == e.cites.value &&
                      d.consent == want_consent && got_obligations == want_obligations;
      if (ok) {
        ++passed;
        if (verbose) fmt::print(report, "ok   {}: {}\n", where, c.name.value);
        continue;
      }
      ++failed;
      case_report.status = CaseReport::Status::failed;
      case_report.expected = describe(want, want_consent, e.cites.value, want_obligations);
      case_report.actual = d.error.empty()
                               ? describe(d.effect, d.consent, d.clause, got_obligations)
                               : fmt::format("an invalid request: {}", d.error);
      case_report.message =
          fmt::format("expected {}, got {}", case_report.expected, case_report.actual);
      std::string out = fmt::format("FAIL {}: {}\n", where, c.name.value);
      out +=
          fmt::format("  expected  {}\n  got       {}\n", case_report.expected, case_report.actual);
      if (d.error.empty()) {
        if (!d.rule.empty()) {
          out +=
              fmt::format("  decided   by rule {} at {}\n", d.rule, rule_location(policy, d.rule));
        }
        out += fmt::format("  reason    {}\n", d.reason);
      }
      case_report.detail = out.substr(out.find('\n') + 1);
      fmt::print(report, "{}\n", out);
    }
    file_report.seconds = seconds_since(file_start);
  }

  if (format == "junit") {
    std::fputs(junit_report(reports).c_str(), stdout);
  } else if (format == "tap") {
    std::fputs(tap_report(reports).c_str(), stdout);
  } else if (format == "json") {
    nlohmann::json out = args.flag("coverage") ? coverage.json() : nlohmann::json::object();
    out["schema_version"] = schema_version;
    out["passed"] = passed;
    out["failed"] = failed;
    fmt::print("{}\n", out.dump(2));
  } else if (args.flag("coverage")) {
    fmt::print(report, "{}", coverage.text());
  }
  fmt::print(report, "{} passed, {} failed\n", passed, failed);
  return failed > 0 || broken ? exit_failed : exit_ok;
}

}  // namespace clause::cli
