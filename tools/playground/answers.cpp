// The playground's answers, shared by the server's routes and the WebAssembly build.
// Posted policies are compiled with the caller's limits and thrown away after the answer.
#include "answers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "clause/dsl/check.hpp"
#include "clause/json.hpp"
#include "clause/lint.hpp"
#include "clause/matrix.hpp"
#include "clause/plan.hpp"
#include "cli.hpp"  // plan_json_report

namespace clause::playground_api {
namespace {

using nlohmann::json;

Answer refuse(int status, std::string_view message) {
  return {status, json{{"error", std::string(message)}}};
}

// The 1-based first and last lines of a span.
json lines(std::string_view text, Span span) {
  const std::uint32_t last = span.end > span.begin ? span.end - 1 : span.begin;
  return json::array({line_column(text, span.begin).line, line_column(text, last).line});
}

// A posted policy, compiled; `diagnostics` as `clause check` gives them (warnings and
// lint findings too when it compiles).
struct Compiled {
  SourceFile source;
  std::optional<Policy> policy;
  json diagnostics = json::array();
};

Compiled compile_posted(std::string text, CompileOptions options) {
  Compiled out{SourceFile{"playground.policy", std::move(text)}, std::nullopt, json::array()};
  // A posted policy has no folder: it reads no file of the server's.
  options.read_document = [](std::string_view) -> Result<SourceFile, std::string> {
    return Failure{std::string("documents cannot be read here")};
  };
  auto compiled = compile(out.source, options);
  std::vector<Diagnostic> diagnostics;
  if (compiled) {
    diagnostics.assign(compiled->warnings().begin(), compiled->warnings().end());
    const std::vector<Diagnostic> findings = lint(*compiled);
    diagnostics.insert(diagnostics.end(), findings.begin(), findings.end());
    sort_by_position(diagnostics);
    out.policy = std::move(*compiled);
  } else {
    diagnostics = compiled.error();
  }
  // The JSON of `clause check --format json`, each with its text rendering as well.
  out.diagnostics = json::parse(render_json(out.source, diagnostics));
  for (std::size_t i = 0; i < diagnostics.size() && i < out.diagnostics.size(); ++i) {
    out.diagnostics[i]["text"] = render_text(out.source, {diagnostics[i]});
  }
  return out;
}

json names(const std::vector<dsl::Term>& terms) {
  json out = json::array();
  for (const auto& t : terms)
    out.push_back(t.name);
  return out;
}

json vocabulary(const dsl::CheckedPolicy& c) {
  json attributes = json::array();
  for (const dsl::AttributeInfo& a : c.attributes) {
    json attribute = {
        {"path", a.path}, {"type", std::string(to_string(a.type))}, {"optional", a.optional}};
    // A name set's names fill a select; a range bounds a number.
    if (!a.name_set.empty()) attribute["names"] = a.members;
    if (a.range) {
      attribute["min"] = a.range->low;
      attribute["max"] = a.range->high;
    }
    attributes.push_back(std::move(attribute));
  }
  return {{"data", names(c.data)},
          {"requesters", names(c.requesters)},
          {"actions", names(c.actions)},
          {"purposes", names(c.purposes)},
          {"facts", names(c.facts)},
          {"consents", names(c.consents)},
          {"objections", names(c.objections)},
          {"attributes", std::move(attributes)}};
}

json clauses(const dsl::CheckedPolicy& c, std::string_view text) {
  json out = json::array();
  for (const auto& clause : c.clauses) {
    json item = {{"id", clause.id}, {"words", clause.words}};
    if (clause.declared) item["lines"] = lines(text, clause.span);
    out.push_back(std::move(item));
  }
  return out;
}

// A rule's source on one line, blanks folded, as `clause explain` shows it.
std::string rule_text(std::string_view text, Span span) {
  std::string folded;
  for (char ch : text.substr(span.begin, span.end - span.begin)) {
    if (ch == '\n' || ch == '\t') ch = ' ';
    if (ch == ' ' && !folded.empty() && folded.back() == ' ') continue;
    folded += ch;
  }
  return folded;
}

// The matrix of one action, as `clause matrix` gives it: per data category (row) and
// requester kind (column), every decision the cell can take.
json action_matrix(const Policy& policy, std::string_view action) {
  const Matrix m = decision_matrix(policy);
  const auto at = std::find(m.actions.begin(), m.actions.end(), action);
  if (at == m.actions.end()) return nullptr;
  const auto a = static_cast<std::size_t>(at - m.actions.begin());
  json rows = json::array();
  for (std::size_t d = 0; d < m.data.size(); ++d) {
    json cells = json::array();
    for (std::size_t r = 0; r < m.requesters.size(); ++r) {
      const MatrixCell& cell = m.at(a, d, r);
      json outcomes = json::array();
      for (const auto& o : cell.outcomes) {
        json item = {
            {"decision", to_string(o.effect)}, {"clause", o.clause}, {"purposes", o.purposes}};
        if (!o.consent.empty()) item["consent"] = o.consent;
        if (!o.when.empty()) item["when"] = o.when;
        outcomes.push_back(std::move(item));
      }
      cells.push_back({{"outcomes", std::move(outcomes)}, {"depends_on", cell.depends_on}});
    }
    rows.push_back({{"data", m.data[d]}, {"cells", std::move(cells)}});
  }
  return {{"action", std::string(action)},
          {"requesters", m.requesters},
          {"complete", m.complete},
          {"rows", std::move(rows)}};
}

Answer compile_answer(const json& body, const CompileOptions& options) {
  const Compiled c = compile_posted(body["policy"].get<std::string>(), options);
  json out = {{"ok", c.policy.has_value()}, {"diagnostics", c.diagnostics}};
  if (c.policy) {
    const dsl::CheckedPolicy& checked = c.policy->checked();
    out["name"] = checked.name;
    out["version"] = checked.version;
    out["vocabulary"] = vocabulary(checked);
    out["clauses"] = clauses(checked, c.source.text);
  }
  return {200, std::move(out)};
}

Answer decide_answer(const json& body, const CompileOptions& options) {
  const auto request = body.find("request");
  if (request == body.end() || !request->is_object()) {
    return refuse(400, "`request` must be a request object, as `clause eval` reads");
  }
  const Compiled c = compile_posted(body["policy"].get<std::string>(), options);
  if (!c.policy) return {200, json{{"ok", false}, {"diagnostics", c.diagnostics}}};
  const Policy& policy = *c.policy;
  const dsl::CheckedPolicy& checked = policy.checked();
  const std::string_view text = c.source.text;

  const Decision d = policy.evaluate_json(request->dump(), EvalOptions{.trace = true});
  std::string decision_text;
  append_json(decision_text, d);
  json decision = json::parse(decision_text);
  decision.erase("trace");  // given below, with the rules' places and texts
  if (!d.error.empty()) {
    // Fails closed: the denial is shown, but the request was the caller's mistake.
    return {400, json{{"error", d.error}, {"decision", std::move(decision)}}};
  }
  json out = {{"ok", true}, {"diagnostics", c.diagnostics}, {"decision", decision}};
  for (const auto& clause : checked.clauses) {
    if (clause.id != d.clause) continue;
    out["clause"] = {{"id", clause.id}, {"words", clause.words}};
    if (clause.declared) out["clause"]["lines"] = lines(text, clause.span);
  }
  json trace = json::array();
  for (std::size_t i = 0; i < d.trace.size() && i < checked.rules.size(); ++i) {
    const TraceStep& step = d.trace[i];
    const Span span = checked.rules[i].span;
    json item = {{"rule", std::string(step.rule)}, {"clause", std::string(step.clause)},
                 {"tier", to_string(step.tier)},   {"outcome", to_string(step.outcome)},
                 {"detail", step.detail},          {"lines", lines(text, span)},
                 {"text", rule_text(text, span)}};
    if (step.outcome == Outcome::decided) out["rule"] = item;
    trace.push_back(std::move(item));
  }
  out["trace"] = std::move(trace);
  out["matrix"] = action_matrix(policy, request->value("action", std::string()));
  return {200, std::move(out)};
}

// A plan of the posted text for a partial request: an object, or its JSON text, so that
// the error's position points into the text the page shows.
Answer plan_answer(const json& body, const CompileOptions& options) {
  const auto request = body.find("request");
  if (request == body.end() || !(request->is_object() || request->is_string())) {
    return refuse(400,
                  "`request` must be a partial request (an object or its JSON text), as "
                  "`clause plan` reads it");
  }
  const Compiled c = compile_posted(body["policy"].get<std::string>(), options);
  if (!c.policy) return {200, json{{"ok", false}, {"diagnostics", c.diagnostics}}};
  const std::string text = request->is_string() ? request->get<std::string>() : request->dump();
  const auto plan = plan_json(*c.policy, text);
  if (!plan) {
    const RequestError& e = plan.error();
    json error = {{"error", e.to_string()}, {"field", e.field}, {"message", e.message}};
    if (e.position)
      error["position"] = {{"line", e.position->line}, {"column", e.position->column}};
    return {400, std::move(error)};
  }
  return {200, json{{"ok", true},
                    {"diagnostics", c.diagnostics},
                    {"plan", cli::plan_json_report(*plan)},
                    {"categories", names(c.policy->checked().data)}}};
}

}  // namespace

Answer answer(std::string_view route, std::string_view text,
              const CompileOptions& options) noexcept {
  try {
    // The body's own object is one level above the request's. Checked without recursion,
    // so that no later dump or copy of the parsed value recurses deeper than the limit.
    const std::size_t limit = options.limits.max_json_depth;
    if (json_nesting_exceeds(text, limit + 1)) {
      return refuse(400, fmt::format("the request is nested more than {} levels deep", limit));
    }
    json body = json::parse(text, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return refuse(400, "the body is not a JSON object");
    const auto policy = body.find("policy");
    if (policy == body.end() || !policy->is_string()) {
      return refuse(400, "`policy` must be the policy's text, a string");
    }
    if (policy->get_ref<const std::string&>().size() > options.limits.max_policy_bytes) {
      return refuse(
          413, fmt::format("the policy is larger than {} bytes", options.limits.max_policy_bytes));
    }
    if (route == "compile") return compile_answer(body, options);
    if (route == "decide") return decide_answer(body, options);
    if (route == "plan") return plan_answer(body, options);
    return refuse(404, fmt::format("no playground route {}", route));
  } catch (const std::exception& e) {
    return refuse(500, fmt::format("the playground failed: {}", e.what()));
  } catch (...) {
    return refuse(500, "the playground failed");
  }
}

}  // namespace clause::playground_api
