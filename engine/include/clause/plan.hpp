// Stage: analysis. "What may this requester do, and with which data?": a request with some
// fields left unknown gives, for each outcome, the exact condition over those fields under
// which a completed request gets it, each part citing its rule and clause.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clause/clause.hpp"

namespace clause {

/// A request with some fields left open. `unknown` names them as the request JSON does:
/// "data" (the category and every `data.` attribute), "data.category", an attribute's path
/// ("data.subject_age", "context.time"), a fact ("context.emergency"), "context.purpose",
/// "context.consent" (every consent) or "context.objections" (every objection). A field
/// named there must not be given in `known`.
struct PartialRequest {
  Request known;
  std::vector<std::string> unknown;
};

/// One side of a comparison in a plan: an attribute the request leaves open (`path`), or a
/// value (a constant of the policy, or what the request gave for a known attribute).
struct PlanOperand {
  std::string path;  // empty: `value`
  Value value;
};

/// One condition of a residual, in the policy's own terms.
struct PlanTest {
  enum class Kind : std::uint8_t {
    category,   // data.category is one of `names`
    purpose,    // context.purpose is one of `names` (or absent, when `absent` is set)
    fact,       // the fact `names[0]` is true
    consent,    // the consent `names[0]` is granted
    objection,  // the person objected to `names[0]`
    compare,    // `left op right` (+ `shift` on the right), as run on the completed request
    member,     // `left in right`, right a list (left a constant for `"admin" in ...`)
    truth,      // the boolean attribute `left` is true
  };
  enum class Op : std::uint8_t { eq, ne, lt, le, gt, ge };
  Kind kind = Kind::category;
  bool negated = false;  // the condition is `not` of the above
  std::vector<std::string> names;
  bool absent = false;  // purpose: also holds when the request gives no purpose
  PlanOperand left;
  Op op = Op::eq;
  PlanOperand right;
  Duration shift;
};

/// Writes an operator as the policy would: `=`, `!=`, `<`, `<=`, `>`, `>=`.
std::string_view to_string(PlanTest::Op op);

/// Writes a condition as the policy would: `data.category in (lab_result, note)`,
/// `not consent share_record`, `data.subject = "p-7"`.
std::string to_string(const PlanTest& test);

/// One way to reach an outcome: every condition holds (none: always), and then `rule`
/// decides, citing `clause`, with `obligations`.
struct PlanPart {
  std::vector<PlanTest> conditions;
  std::string rule;
  std::string clause;
  std::vector<std::string> obligations;
};

/// Writes a part's conditions joined by `and`; "true" when it has none.
std::string to_string(const PlanPart& part);

/// An outcome and its residual: the request gets it exactly when one of `parts` holds
/// (none: never).
struct PlanOutcome {
  Effect effect = Effect::deny;
  std::string consent;  // for require_consent: the consent asked for
  std::vector<PlanPart> parts;
  // The same residual whichever rule decides: its terms joined by `or`, each the `and` of
  // its tests (none: always). Fewer and larger than the parts where rules decide alike;
  // for a caller that asks only for the outcome, as the SQL filter's `where` does.
  std::vector<std::vector<PlanTest>> condition;
};

/// Every outcome a completion of the request can get (allow and deny always; each consent
/// asked for), in that order. The residuals exclude each other and together cover every
/// completion. Incomplete (no outcomes) when the open fields span more classes than the
/// analyses enumerate: a caller must then treat every request as denied.
struct Plan {
  std::vector<PlanOutcome> outcomes;
  std::vector<std::string> unknown;  // the open fields, as given
  std::optional<Instant> time;       // context.time as given: when a dated consent counts
  bool complete = true;
};

/// Bounds on the work of one plan, so that no request keeps a service busy.
struct PlanOptions {
  // Growing the conditions, in classes compared: the default is about a second on one
  // core. Past it the plan is incomplete.
  std::uint64_t max_work = 400'000'000;
};

/// Plans a partial request. A field that is unknown to the policy, given and also listed
/// as unknown, or a name the policy does not declare gives the error, naming the field.
/// Never throws.
[[nodiscard]] Result<Plan, RequestError> plan(const Policy& policy, const PartialRequest& request,
                                              const PlanOptions& options = {}) noexcept;

/// Plans a partial request written as JSON: a request as `clause eval` reads it, with
/// `"unknown": [FIELD, ...]` naming the fields it leaves out. A mistake names the field and
/// where it stands, as for a request. Never throws.
[[nodiscard]] Result<Plan, RequestError> plan_json(const Policy& policy, std::string_view json_text,
                                                   const PlanOptions& options = {}) noexcept;

/// Tells whether a completed request meets a condition of a plan. For tests and callers
/// that filter in memory what they cannot filter elsewhere.
[[nodiscard]] bool holds(const PlanTest& test, const Request& completed) noexcept;

}  // namespace clause
