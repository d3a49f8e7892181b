// Stage: analysis. The grid of attribute values `clause diff` enumerates: the attributes a
// request valid under both versions may carry, both versions' tests over them, and what a
// data diff holds fixed.
#include <algorithm>
#include <set>

#include "analysis/diff_compare.hpp"

namespace clause::detail {
namespace {

// An attribute both versions declare with one type, taking only the values both take: a
// name in both sets, an integer in both ranges; required when either requires it.
dsl::AttributeInfo accepted_by_both(const dsl::AttributeInfo& one, const dsl::AttributeInfo& two) {
  dsl::AttributeInfo out;
  out.path = one.path;
  out.type = one.type;
  out.optional = one.optional && two.optional;
  out.lookup = one.lookup ? one.lookup : two.lookup;  // read from the data in either version
  if (!one.name_set.empty() || !two.name_set.empty()) {
    const dsl::AttributeInfo& first = one.name_set.empty() ? two : one;
    const dsl::AttributeInfo& second = one.name_set.empty() ? one : two;
    out.name_set = first.name_set;
    for (const std::string& m : first.members) {
      if (second.name_set.empty() ||
          std::find(second.members.begin(), second.members.end(), m) != second.members.end())
        out.members.push_back(m);
    }
  }
  if (one.range || two.range) {
    dsl::IntRange r = one.range ? *one.range : *two.range;
    if (one.range && two.range) {
      r.low = std::max(one.range->low, two.range->low);
      r.high = std::min(one.range->high, two.range->high);
    }
    out.range = r;
  }
  return out;
}

}  // namespace

Merged merge_attributes(const dsl::CheckedPolicy& a, const dsl::CheckedPolicy& b) {
  Merged m;
  std::map<std::string, const dsl::AttributeInfo*> declared[2];
  for (int v = 0; v < 2; ++v) {
    for (const auto& info : (v == 0 ? a : b).attributes)
      declared[v].emplace(info.path, &info);
  }
  std::set<std::string> paths;
  for (const auto& d : declared) {
    for (const auto& [path, info] : d)
      paths.insert(path);
  }
  std::map<std::string, std::int32_t>& at = m.at;
  for (const std::string& path : paths) {
    const auto x = declared[0].find(path);
    const auto y = declared[1].find(path);
    const dsl::AttributeInfo* one = x != declared[0].end() ? x->second : nullptr;
    const dsl::AttributeInfo* two = y != declared[1].end() ? y->second : nullptr;
    if (one != nullptr && two != nullptr && one->type == two->type) {
      at[path] = static_cast<std::int32_t>(m.grid.attributes.size());
      m.grid.attributes.push_back(accepted_by_both(*one, *two));
      continue;
    }
    // A request's own id is read by a version that declares it, ignored by the other.
    const dsl::AttributeInfo* only = one != nullptr ? one : two;
    if ((one == nullptr || two == nullptr) && path == "requester.id" &&
        only->type == AttrType::string) {
      at[path] = static_cast<std::int32_t>(m.grid.attributes.size());
      dsl::AttributeInfo own = *only;
      own.span = {};
      m.grid.attributes.push_back(std::move(own));
      continue;
    }
    // Known to one version only, or with another type: a request valid under both leaves
    // it out, which a version that requires it refuses.
    if ((one != nullptr && !one->optional) || (two != nullptr && !two->optional))
      m.comparable = false;
  }
  for (int v = 0; v < 2; ++v) {
    const dsl::CheckedPolicy& c = v == 0 ? a : b;
    const auto mapped = [&](std::int32_t own) -> std::int32_t {
      auto it = at.find(c.attributes[static_cast<std::size_t>(own)].path);
      return it == at.end() ? -1 : it->second;
    };
    for (const dsl::AttributeTest& own : c.tests) {
      dsl::AttributeTest t = own;
      const std::int32_t lhs = mapped(static_cast<std::int32_t>(own.lhs));
      const std::int32_t rhs = own.rhs == dsl::no_id ? dsl::no_id : mapped(own.rhs);
      if (lhs < 0 || (own.rhs != dsl::no_id && rhs < 0)) {
        m.test_of[v].push_back(-1);  // reads an attribute compared requests leave out
        continue;
      }
      t.lhs = static_cast<std::uint32_t>(lhs);
      t.rhs = rhs;
      auto it = std::find(m.grid.tests.begin(), m.grid.tests.end(), t);
      m.test_of[v].push_back(static_cast<std::int32_t>(it - m.grid.tests.begin()));
      if (it == m.grid.tests.end()) m.grid.tests.push_back(std::move(t));
    }
  }
  return m;
}

// Holds a data diff's attributes fixed: the key takes its value, and each looked-up
// attribute it feeds becomes two grid attributes, one per version, each with that
// version's value; the second version's tests read the second copy.
FixedValues pin_attributes(Merged& m, const dsl::CheckedPolicy& c, const Pinning& pin) {
  FixedValues fixed(m.grid.attributes.size());
  fixed[static_cast<std::size_t>(m.at.at(c.attributes[pin.key].path))] = Value(pin.value);
  m.pinned.assign(m.grid.attributes.size(), false);
  for (std::size_t i = 0; i < pin.attributes.size(); ++i) {
    const auto own = static_cast<std::uint32_t>(m.at.at(c.attributes[pin.attributes[i]].path));
    const auto copy = static_cast<std::uint32_t>(m.grid.attributes.size());
    m.grid.attributes.push_back(m.grid.attributes[own]);
    fixed[own] = pin.values[0][i];
    fixed.push_back(pin.values[1][i]);
    m.pinned[own] = true;
    m.pinned.push_back(true);
    for (std::int32_t& t : m.test_of[1]) {
      if (t < 0) continue;
      dsl::AttributeTest test = m.grid.tests[static_cast<std::size_t>(t)];
      if (test.lhs != own && test.rhs != static_cast<std::int32_t>(own)) continue;
      if (test.lhs == own) test.lhs = copy;
      if (test.rhs == static_cast<std::int32_t>(own)) test.rhs = static_cast<std::int32_t>(copy);
      auto it = std::find(m.grid.tests.begin(), m.grid.tests.end(), test);
      t = static_cast<std::int32_t>(it - m.grid.tests.begin());
      if (it == m.grid.tests.end()) m.grid.tests.push_back(std::move(test));
    }
  }
  return fixed;
}

}  // namespace clause::detail
