// Stage: every stage. What a rule or a decision does, and the precedence tiers of rules:
// defined once for the front end and the engine.
#pragma once

#include <cstdint>

namespace clause {

/// The answer of a decision, and what a rule gives when it decides (an exclusion allows:
/// the request is outside the policy's scope).
enum class Effect : std::uint8_t { allow, deny, require_consent };

/// The precedence tiers of rules, highest first. `effective` holds the policy's
/// `effective from` date; `first` the rules an author marks to decide before the fixed
/// tiers, in file order.
enum class Tier : std::uint8_t {
  effective,
  first,
  exclusion,
  prohibition,
  permission,
  consent,
  fallback
};

}  // namespace clause
