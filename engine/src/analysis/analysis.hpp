// Stage: analysis. The exact analysis of a compiled policy over its finite request space:
// assignments of the facts, consents and purposes that conditions read, and the regions of
// requests that the rules cannot tell apart, each decided once through a witness request.
// Shared by the linter and `clause verify`. Internal: not installed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "analysis/attribute_classes.hpp"
#include "core/policy_impl.hpp"

namespace clause::detail {

// One assignment of everything a condition can read.
struct Assignment {
  std::vector<bool> facts;
  std::vector<bool> consents;
  std::vector<bool> objections;
  std::vector<bool> tests;          // the answers of the policy's attribute tests
  std::int32_t purpose = -1;        // -1: no purpose
  std::uint64_t purpose_count = 1;  // how many purposes (or none) `purpose` stands for
  const std::vector<dsl::Term>* purposes = nullptr;  // the purpose tree, for `purpose is`
  const std::vector<Value>* values = nullptr;        // by attribute: values that answer `tests` so
};

/// Tells whether purpose `id` is `ancestor` or a kind of it.
inline bool purpose_under(const std::vector<dsl::Term>& purposes, std::int32_t id,
                          std::uint32_t ancestor) {
  for (; id >= 0; id = purposes[static_cast<std::size_t>(id)].parent) {
    if (static_cast<std::uint32_t>(id) == ancestor) return true;
  }
  return false;
}

inline bool holds(const dsl::CheckedCond& c, const Assignment& a) {
  using ast::CondKind;
  switch (c.kind) {
    case CondKind::fact:
      return a.facts[c.ids.at(0)];
    case CondKind::consent:
      return a.consents[c.ids.at(0)];
    case CondKind::objected:
      return a.objections[c.ids.at(0)];
    case CondKind::attribute:
      return a.tests[c.ids.at(0)];
    case CondKind::compare:
    case CondKind::member:
    case CondKind::contains:
      return false;  // the checker makes every comparison an `attribute` leaf
    case CondKind::purpose_is:
    case CondKind::purpose_in:
      return std::any_of(c.ids.begin(), c.ids.end(), [&](std::uint32_t id) {
        return a.purposes != nullptr ? purpose_under(*a.purposes, a.purpose, id)
                                     : a.purpose == static_cast<std::int32_t>(id);
      });
    case CondKind::negation:
      return !holds(c.children.at(0), a);
    case CondKind::all:
      return std::all_of(c.children.begin(), c.children.end(),
                         [&](const dsl::CheckedCond& x) { return holds(x, a); });
    case CondKind::any:
      return std::any_of(c.children.begin(), c.children.end(),
                         [&](const dsl::CheckedCond& x) { return holds(x, a); });
  }
  return false;
}

inline bool holds(const std::optional<dsl::CheckedCond>& c, const Assignment& a) {
  return !c || holds(*c, a);
}

// The facts, consents and purposes a condition reads.
struct Atoms {
  std::set<std::uint32_t> facts, consents, purposes, objections, tests;
  void add(const dsl::CheckedCond& c) {
    using ast::CondKind;
    switch (c.kind) {
      case CondKind::fact:
        facts.insert(c.ids.at(0));
        break;
      case CondKind::objected:
        objections.insert(c.ids.at(0));
        break;
      case CondKind::attribute:
        tests.insert(c.ids.at(0));
        break;
      case CondKind::consent:
        consents.insert(c.ids.at(0));
        break;
      case CondKind::purpose_is:
      case CondKind::purpose_in:
        purposes.insert(c.ids.begin(), c.ids.end());
        break;
      default:
        break;
    }
    for (const auto& child : c.children)
      add(child);
  }
  void add(const std::optional<dsl::CheckedCond>& c) {
    if (c) add(*c);
  }
};

/// One purpose of each class that the named purposes cannot tell apart (a purpose under a
/// named one answers `purpose is` as its ancestor does), with the class's size; first
/// {-1, 1}: no purpose. Named purposes' classes come first, in id order.
std::vector<std::pair<std::int32_t, std::uint64_t>> purpose_classes(
    const std::vector<dsl::Term>& purposes, const std::set<std::uint32_t>& named);

// Calls `visit` with every assignment of the atoms that some request can give; stops when
// it returns false. Returns false when there are too many to enumerate.
template <typename Visit>
bool for_each_assignment(const dsl::CheckedPolicy& p, const Atoms& atoms, std::size_t max_atoms,
                         TestClassCache& cache, Visit&& visit) {
  const std::vector<std::uint32_t> facts(atoms.facts.begin(), atoms.facts.end());
  const std::vector<std::uint32_t> consents(atoms.consents.begin(), atoms.consents.end());
  const std::vector<std::uint32_t> objections(atoms.objections.begin(), atoms.objections.end());
  const std::size_t bits = facts.size() + consents.size() + objections.size();
  if (bits > max_atoms) return false;
  const TestClasses& classes =
      cache.of(std::vector<std::uint32_t>(atoms.tests.begin(), atoms.tests.end()));
  if (!classes.complete || classes.classes.size() > (std::uint64_t{1} << max_atoms) >> bits)
    return false;
  const auto purposes = purpose_classes(p.purposes, atoms.purposes);
  Assignment a;
  a.facts.assign(p.facts.size(), false);
  a.consents.assign(p.consents.size(), false);
  a.objections.assign(p.objections.size(), false);
  a.purposes = &p.purposes;
  for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << bits); ++mask) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < facts.size(); ++i)
      a.facts[facts[i]] = ((mask >> at++) & 1U) != 0;
    for (std::size_t i = 0; i < consents.size(); ++i)
      a.consents[consents[i]] = ((mask >> at++) & 1U) != 0;
    for (std::size_t i = 0; i < objections.size(); ++i)
      a.objections[objections[i]] = ((mask >> at++) & 1U) != 0;
    for (const TestClass& c : classes.classes) {
      a.tests = c.answers;
      a.values = &c.values;
      for (const auto& [purpose, count] : purposes) {
        a.purpose = purpose;
        a.purpose_count = count;
        if (!visit(a)) return true;
      }
    }
  }
  return true;
}

template <typename Visit>
bool for_each_assignment(const dsl::CheckedPolicy& p, const Atoms& atoms, std::size_t max_atoms,
                         Visit&& visit) {
  TestClassCache cache(p);
  return for_each_assignment(p, atoms, max_atoms, cache, std::forward<Visit>(visit));
}

/// Tells whether a set of names covers `id` (for trees: `id` or any name under it).
inline bool covers(const dsl::IdSet& set, const std::vector<dsl::Term>& terms, std::uint32_t id,
                   bool hierarchical) {
  if (set.any) return true;
  return std::any_of(set.ids.begin(), set.ids.end(), [&](std::uint32_t m) {
    return hierarchical ? terms[id].first >= terms[m].first && terms[id].first < terms[m].last
                        : id == m;
  });
}

/// Writes an assignment's objections and attribute values into a request by names.
void add_values(const dsl::CheckedPolicy& policy, const Assignment& a, Request& r);

/// Writes a resolved request back as names, e.g. to show a witness.
Request request_names(const dsl::CheckedPolicy& policy, const ResolvedRequest& request);

/// A target and conditions that an analysis asks about besides the rules (an assertion):
/// regions are split wherever it tells requests apart too.
struct Probe {
  dsl::IdSet actions, data, requesters;
  std::vector<const dsl::CheckedCond*> conditions;
  std::int32_t consent = -1;
};

/// One region: a class of actions, of requester kinds and of data categories that no rule
/// (and no probe) tells apart, and one assignment of everything their conditions read.
struct Region {
  std::span<const std::uint32_t> actions, requesters, data;
  const Assignment& assignment;
  const ResolvedRequest& witness;      // the first member of each class, and the assignment
  std::span<const std::size_t> rules;  // the rules whose targets cover the region
};

/// Visits the regions that every probe's target covers (all regions when there is no
/// probe). Stops when `visit` returns false. Returns false when a region reads more than
/// `max_atoms` facts and consents, or the whole visit would exceed 300,000 region
/// assignments: the answer is then incomplete.
/// With `fixed`, every request carries the fixed values.
bool for_each_region(const PolicyImpl& policy, std::span<const Probe> probes, std::size_t max_atoms,
                     const std::function<bool(const Region&)>& visit,
                     const FixedValues& fixed = {});

/// Runs an analysis; when it throws (out of memory), gives an empty result marked
/// incomplete, so that no exception leaves the library.
template <class Out, class Run>
Out whole_or_incomplete(Run run) noexcept {
  try {
    return run();
  } catch (...) {
    Out out;
    out.complete = false;
    return out;
  }
}

/// Runs an analysis of one policy as whole_or_incomplete does; an empty policy gives an
/// empty result.
template <class Out>
Out analyse_policy(const Policy& policy, Out (*run)(const PolicyImpl&)) noexcept {
  return whole_or_incomplete<Out>([&] {
    const PolicyImpl* impl = Access::impl(policy);
    return impl == nullptr ? Out{} : run(*impl);
  });
}

}  // namespace clause::detail
