// A plan as JSON (`clause plan --format json`, `POST /v1/plan`, the playground), apart from
// the rest of the tool so that the WebAssembly build (tools/wasm) links it alone.
#include "clause/plan.hpp"
#include "cli.hpp"

namespace clause::cli {

nlohmann::json value_json(const Value& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* l = std::get_if<std::vector<std::string>>(&v)) return *l;
  if (const auto* t = std::get_if<Instant>(&v)) return format_instant(*t);
  return nullptr;
}

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

}  // namespace clause::cli
