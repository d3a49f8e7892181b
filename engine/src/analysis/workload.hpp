// Stage: benchmarks. A reproducible mix of requests over a policy's vocabulary, shared by
// `clause bench` and the benchmark suite so that both measure the same work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "clause/clause.hpp"

namespace clause::detail {

/// Makes `count` requests over the policy's names: every data category, requester kind
/// and action equally likely, a purpose four times in five, each fact and each consent
/// true half of the time, each objection a quarter of the time, every declared attribute
/// a value of its type (near the policy's constants half of the time; an optional one
/// left out one time in five). The same seed gives the same requests.
std::vector<Request> request_mix(const Policy& policy, std::size_t count, std::uint64_t seed);

/// Allocated heap bytes of the whole process, as the C library counts them.
std::size_t heap_in_use() noexcept;

}  // namespace clause::detail
