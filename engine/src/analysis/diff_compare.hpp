// Stage: analysis. The comparison under `clause diff`, shared by the diff of two policies
// and the diff of two versions of a policy's data. Internal: not installed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/attribute_classes.hpp"
#include "clause/diff.hpp"
#include "core/policy_impl.hpp"

namespace clause::detail {

/// What a data diff holds fixed: requests whose key attribute has one value, and the
/// attributes looked up by it, with each version's entry for it.
struct Pinning {
  std::uint32_t key = 0;                  // the key attribute (both versions share one text)
  std::string value;                      // the key
  std::vector<std::uint32_t> attributes;  // the looked-up attributes it feeds
  std::vector<Value> values[2];           // per version, by pinned attribute; monostate: absent
  std::optional<std::string> refused[2];  // per version: why it refuses every such request
};

/// The attributes a request valid under both versions may carry, and both versions' tests
/// over them: one grid of values answers every test of both.
struct Merged {
  dsl::CheckedPolicy grid;                 // only `attributes` and `tests` are filled
  std::vector<std::int32_t> test_of[2];    // own test -> grid test, or -1: always false
  std::map<std::string, std::int32_t> at;  // path -> grid attribute
  std::vector<bool> pinned;                // by grid attribute: held fixed by a data diff
  bool comparable = true;                  // false when no request is valid under both versions
};

/// Merges the attributes of two versions into one grid (diff_grid.cpp).
Merged merge_attributes(const dsl::CheckedPolicy& a, const dsl::CheckedPolicy& b);

/// Holds a data diff's key and looked-up attributes at each version's values: gives the
/// grid's fixed values.
FixedValues pin_attributes(Merged& m, const dsl::CheckedPolicy& c, const Pinning& pin);

/// Adds to `out` every region that `before` and `after` decide differently (with `pin`,
/// among the requests it fixes), and the requests compared to `out.total`.
void compare_versions(const PolicyImpl& before, const PolicyImpl& after, const Pinning* pin,
                      Diff& out);

}  // namespace clause::detail
