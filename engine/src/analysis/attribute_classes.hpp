// Stage: analysis. The feasible answers of a policy's attribute tests: tests are not
// independent bits (`age < 18` and `age < 21`; `time >= last_visit + 6 years`), so the
// analyses enumerate the combinations of answers that some request's values give, each with
// those values as its witness. Internal: not installed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
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

/// Values held fixed, by declared attribute (empty, or one entry per attribute): a fixed
/// attribute takes only its value, and its value cuts the domains of the attributes
/// compared with it.
using FixedValues = std::vector<std::optional<Value>>;

/// Finds the classes of `tests` (indices into p.tests). With no tests, one class whose
/// values are the defaults every request may carry.
TestClasses attribute_classes(const dsl::CheckedPolicy& p, std::span<const std::uint32_t> tests,
                              const FixedValues& fixed = {});

/// The candidate values of each attribute of the group `tests` reads (by declared index;
/// attributes not read get only their default): the grid attribute_classes enumerates.
std::vector<std::vector<Value>> candidate_values(const dsl::CheckedPolicy& p,
                                                 std::span<const std::uint32_t> tests,
                                                 const FixedValues& fixed = {});

/// Names the class of attribute `a`'s values whose answers to `tests` (every test reading
/// `a`) are `answers` (by test index): an interval where the constants order the values
/// (`data.age < 18`, `2026-01-01 <= context.time < 2026-02-16`), else the tests as answered
/// (`requester.id = data.subject`, `requester.id not in data.team`).
std::string class_label(const dsl::CheckedPolicy& p, std::uint32_t a,
                        std::span<const std::uint32_t> tests, const std::vector<bool>& answers);

/// The tests that read attribute `a`, on either side.
std::vector<std::uint32_t> tests_reading(const dsl::CheckedPolicy& p, std::uint32_t a);

/// A value of an attribute that no test reads: absent when optional, else a plain value.
Value default_value(const dsl::AttributeInfo& a);

/// Remembers the classes of the test sets asked for, as regions repeat them.
class TestClassCache {
 public:
  explicit TestClassCache(const dsl::CheckedPolicy& p, FixedValues fixed = {})
      : p_(p), fixed_(std::move(fixed)) {}
  const TestClasses& of(const std::vector<std::uint32_t>& tests);

 private:
  const dsl::CheckedPolicy& p_;
  FixedValues fixed_;
  std::map<std::vector<std::uint32_t>, TestClasses> cache_;
};

}  // namespace clause::detail
