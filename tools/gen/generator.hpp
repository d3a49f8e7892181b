// Synthetic policies of any size, written as ordinary policy files: for `clause-gen`,
// the benchmark suite and the tests that hold the index to the reference evaluator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace clause::gen {

struct SyntheticOptions {
  std::size_t rules = 100;
  std::uint64_t seed = 1;
  std::size_t vary = 0;  // rules changed, for a second version to diff against
  // Declare typed attributes, objections and obligations, and let conditions compare
  // attributes (ids, lists, integers, booleans, dates with durations) and rules be `first`.
  bool attributes = false;
};

/// Writes a policy of `rules` rules over a vocabulary that grows with it: data categories
/// and requester kinds in trees, 12 actions, 8 purposes, 24 facts, 6 consents, rules/10
/// clauses, rules of every tier with conditions. Up to 100 rules, a fifth name any action
/// and a tenth any data or any requester; larger policies keep about that many wide rules
/// and are otherwise specific. With `attributes`, it also declares the attributes of
/// synthetic_attributes below, 4 objections and 2 obligations, and conditions read them.
/// The same options give the same text.
std::string synthetic_policy(const SyntheticOptions& options);

/// The attribute declarations of a synthetic policy with attributes, one per line.
inline constexpr const char* synthetic_attributes =
    "attribute context.time time\n"
    "attribute requester.id string\n"
    "attribute data.subject string\n"
    "attribute data.team   list of string\n"
    "names region: CA, US, FR, DE\n"
    "attribute context.region region\n"
    "attribute data.age    integer 0..150\n"
    "attribute data.since  date\n"
    "attribute data.flag   boolean\n";

}  // namespace clause::gen
