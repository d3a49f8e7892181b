#include "analysis/workload.hpp"

#include <malloc.h>

#include <random>

#include "core/policy_impl.hpp"

namespace clause::detail {

std::vector<Request> request_mix(const Policy& policy, std::size_t count, std::uint64_t seed) {
  std::vector<Request> out;
  const PolicyImpl* p = Access::impl(policy);
  if (p == nullptr) return out;
  const dsl::CheckedPolicy& c = p->vocabulary();
  if (c.data.empty() || c.requesters.empty() || c.actions.empty()) return out;
  std::mt19937_64 rng(seed);
  const auto pick = [&](const std::vector<dsl::Term>& terms) -> const std::string& {
    return terms[rng() % terms.size()].name;
  };
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    Request q;
    q.data = pick(c.data);
    q.requester = pick(c.requesters);
    q.requester_id = "bench";
    q.action = pick(c.actions);
    if (!c.purposes.empty() && rng() % 5 != 0) q.purpose = pick(c.purposes);
    for (const dsl::Term& f : c.facts) {
      if (rng() % 2 == 0) q.facts.push_back(f.name);
    }
    for (const dsl::Term& k : c.consents) {
      if (rng() % 2 == 0) q.consent.push_back(k.name);
    }
    out.push_back(std::move(q));
  }
  return out;
}

std::size_t heap_in_use() noexcept {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;  // small blocks plus blocks mapped on their own
}

}  // namespace clause::detail
