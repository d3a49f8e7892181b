// Stage: check (beyond validity). Warnings about policies that compile but are doubtful:
// rules that can never decide, duplicates, conditions that can never hold, unused names.
#pragma once

#include <cstddef>
#include <vector>

#include "clause/clause.hpp"

namespace clause {

/// Bounds the linter's exact analysis, so that huge policies still lint in bounded time.
struct LintOptions {
  // A rule whose target spans more (action, requester, data) triples than this is not
  // analysed for shadowing.
  std::size_t max_triples_per_rule = 200'000;
  // Conditions reading more facts and consents than this together are not analysed.
  std::size_t max_atoms = 18;
  // Whether `@ignore` annotations silence warnings; analyses that list every finding for
  // review turn this off.
  bool honour_ignore = true;
};

/// Finds W002 (a name no rule names), W003 (a rule that repeats another), W004 (a rule
/// that rules of higher precedence always outrank), W005 (a condition that can never
/// be true) and W006 (a condition by which granting a consent can take an allow away),
/// honouring `@ignore` annotations. Never throws.
std::vector<Diagnostic> lint(const Policy& policy, const LintOptions& options = {}) noexcept;

}  // namespace clause
