// Stage: analysis. The feasible answers of a policy's attribute tests: tests are not
// independent bits (`age < 18` and `age < 21`; `time >= last_visit + 6 years`), so the
// analyses enumerate the combinations of answers that some request's values give, each with
// those values as its witness. Internal: not installed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "clause/dsl/check.hpp"

namespace clause::detail {

/// One feasible combination of test answers and values that give it.
struct TestClass {
  std::vector<bool> answers;  // by test index (every test of the policy; unasked ones false)
  std::vector<Value> values;  // by declared attribute; valid for its type, absent only if optional
};

/// The classes of a set of tests: every combination of their answers that values can give.
/// Incomplete when the candidate values grow past a bound: never sampled.
struct TestClasses {
  bool complete = true;
  std::vector<TestClass> classes;
};

/// The most value combinations tried for one group of connected attributes.
inline constexpr std::uint64_t max_value_combinations = 400'000;

/// Finds the classes of `tests` (indices into p.tests). With no tests, one class whose
/// values are the defaults every request may carry.
TestClasses attribute_classes(const dsl::CheckedPolicy& p, std::span<const std::uint32_t> tests);

/// The same, with some attributes' values known (by declared index; nullopt: open): a known
/// value is one more cut point for the attributes related to it, and its only candidate.
TestClasses attribute_classes(const dsl::CheckedPolicy& p, std::span<const std::uint32_t> tests,
                              std::span<const std::optional<Value>> known);

/// The candidate values of each attribute of the group `tests` reads (by declared index;
/// attributes not read get only their default): the grid attribute_classes enumerates.
std::vector<std::vector<Value>> candidate_values(const dsl::CheckedPolicy& p,
                                                 std::span<const std::uint32_t> tests);

/// A value of an attribute that no test reads: absent when optional, else a plain value.
Value default_value(const dsl::AttributeInfo& a);

/// Remembers the classes of the test sets asked for, as regions repeat them.
class TestClassCache {
 public:
  explicit TestClassCache(const dsl::CheckedPolicy& p) : p_(p) {}
  const TestClasses& of(const std::vector<std::uint32_t>& tests);

 private:
  const dsl::CheckedPolicy& p_;
  std::map<std::vector<std::uint32_t>, TestClasses> cache_;
};

}  // namespace clause::detail
