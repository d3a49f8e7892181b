// Stage: analysis. The search behind a plan: every completion of a partial request's open
// fields falls in one class (data categories no rule tells apart, one answer for each open
// fact, consent, objection and attribute test, a class of purposes); each class is decided
// once by the engine itself, and the classes of each deciding rule are then grown into as
// few, as wide conditions as stay clear of every class decided otherwise. Internal.
#pragma once

#include <set>
#include <vector>

#include "clause/plan.hpp"
#include "core/policy_impl.hpp"

namespace clause::detail {

// What the request leaves open.
struct Open {
  bool category = false;
  bool purpose = false;
  bool consents = false;
  bool objections = false;
  std::set<std::uint32_t> facts;
  std::vector<bool> attributes;  // by declared index
};

/// Plans a resolved request whose open fields hold stand-ins (their values are ignored).
Plan plan_resolved(const Policy& policy, const PolicyImpl& impl, const Open& open,
                   ResolvedRequest base, std::uint64_t max_work);

// The plan's operators are the language's, in the same order.
static_assert(static_cast<int>(PlanTest::Op::ne) == static_cast<int>(ast::CompareOp::ne) &&
              static_cast<int>(PlanTest::Op::ge) == static_cast<int>(ast::CompareOp::ge));
inline PlanTest::Op plan_op(ast::CompareOp op) {
  return static_cast<PlanTest::Op>(op);
}
inline ast::CompareOp engine_op(PlanTest::Op op) {
  return static_cast<ast::CompareOp>(op);
}

}  // namespace clause::detail
