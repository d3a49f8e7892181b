// Stage: analysis. The other values one attribute of a request could take that the policy
// tells apart from its own: what `explain` tries for its near misses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "clause/clause.hpp"

namespace clause {

/// One value of a class of an attribute's values that the policy's tests answer alike.
struct OtherValue {
  Value value;        // the member nearest the request's own value
  std::string label;  // the class, e.g. "data.subject_age >= 18"
};

/// For the attribute `path` of `request`, one value of each class of its values that the
/// policy's tests (and, for the policy's time, the dates of the request's consents) tell
/// apart from its own, the request's other values held. Exact: the classes are cut at the
/// constants and the other values the tests compare it with, never sampled. Empty when the
/// path is not declared, no test reads it, or the request is not valid.
std::vector<OtherValue> other_values(const Policy& policy, const Request& request,
                                     std::string_view path) noexcept;

/// The request with the attribute `path` set to `value` (left out when absent); for
/// `requester.id`, its id too.
Request with_value(Request request, std::string_view path, const Value& value);

}  // namespace clause
