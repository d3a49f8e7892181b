#include "analysis/workload.hpp"

#include <malloc.h>

#include <algorithm>
#include <random>

#include "core/policy_impl.hpp"

namespace clause::detail {

namespace {

// The constants the policy's tests compare an attribute with: values near them are the ones
// that change answers.
std::vector<const Value*> constants_of(const dsl::CheckedPolicy& c, std::uint32_t attribute) {
  std::vector<const Value*> out;
  for (const dsl::AttributeTest& t : c.tests) {
    if (t.lhs == attribute && t.rhs == dsl::no_id &&
        !std::holds_alternative<std::monostate>(t.constant))
      out.push_back(&t.constant);
  }
  return out;
}

// Gives every declared attribute a value (optional ones, four times in five): ids from a
// pool of three, so that equalities and memberships hold often; integers, dates and times
// near the policy's constants or anywhere in a plausible range.
void add_attributes(const dsl::CheckedPolicy& c, std::mt19937_64& rng, Request& q) {
  static constexpr const char* pool[] = {"id-1", "id-2", "id-3"};
  constexpr std::int64_t day = std::int64_t{86'400} * 1'000'000;
  const Instant base = *parse_date("2025-01-01");
  for (std::uint32_t i = 0; i < c.attributes.size(); ++i) {
    const dsl::AttributeInfo& a = c.attributes[i];
    if (a.optional && rng() % 5 == 0) continue;
    const std::vector<const Value*> near = constants_of(c, i);
    const Value* constant = near.empty() || rng() % 2 == 0 ? nullptr : near[rng() % near.size()];
    Value v;
    switch (a.type) {
      case AttrType::string:
        if (constant != nullptr && rng() % 2 == 0) {
          v = *constant;
        } else {
          v = std::string(pool[rng() % 3]);
        }
        break;
      case AttrType::string_list: {
        std::vector<std::string> list;
        for (const char* id : pool) {
          if (rng() % 2 == 0) list.emplace_back(id);
        }
        v = std::move(list);
        break;
      }
      case AttrType::integer: {
        const auto* n = constant != nullptr ? std::get_if<std::int64_t>(constant) : nullptr;
        v = n != nullptr ? *n + static_cast<std::int64_t>(rng() % 3) - 1
                         : static_cast<std::int64_t>(rng() % 100);
        break;
      }
      case AttrType::boolean:
        v = rng() % 2 == 0;
        break;
      case AttrType::date:
      case AttrType::time: {
        const auto* at = constant != nullptr ? std::get_if<Instant>(constant) : nullptr;
        Instant t = at != nullptr
                        ? Instant{at->micros + (static_cast<std::int64_t>(rng() % 3) - 1) * day}
                        : Instant{base.micros + static_cast<std::int64_t>(rng() % 3650) * day};
        if (a.type == AttrType::time && at == nullptr)
          t.micros += static_cast<std::int64_t>(rng() % 86'400) * 1'000'000;
        v = t;
        break;
      }
    }
    // Only values the attribute takes: a name of its set, an integer inside its range.
    if (auto* s = std::get_if<std::string>(&v); s && dsl::not_taken(a, v))
      *s = a.members[rng() % a.members.size()];
    if (auto* n = std::get_if<std::int64_t>(&v); n && a.range)
      *n = std::clamp(*n, a.range->low, a.range->high);
    if (a.path == "requester.id") {
      q.requester_id = std::get<std::string>(v);
    } else {
      q.attributes.push_back({a.path, std::move(v)});
    }
  }
}

}  // namespace

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
    for (const dsl::Term& o : c.objections) {
      if (rng() % 4 == 0) q.objections.push_back(o.name);
    }
    add_attributes(c, rng, q);
    out.push_back(std::move(q));
  }
  return out;
}

std::size_t heap_in_use() noexcept {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;  // small blocks plus blocks mapped on their own
}

}  // namespace clause::detail
