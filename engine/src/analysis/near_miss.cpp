// Stage: analysis. The other classes of one attribute's value in a request: the values are
// cut where a test's answer can change (its constants, and the other values it compares
// with), each cut tried with its neighbours, and one member kept per distinct answer.
#include "clause/near_miss.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "analysis/attribute_classes.hpp"
#include "core/attribute_test.hpp"
#include "core/policy_impl.hpp"

namespace clause {
namespace {

constexpr std::int64_t micros_per_day = 86'400'000'000;
constexpr std::size_t max_pool = 12;  // ids a list is tried with: 2^12 subsets

Instant day_floor(Instant at) {
  std::int64_t days = at.micros / micros_per_day;
  if (at.micros % micros_per_day < 0) --days;
  return Instant{days * micros_per_day};
}

Duration negated(const Duration& d) {
  return {-d.years, -d.months, -d.days, -d.seconds};
}

// Where the answers of the tests reading `a` can change, the other values held.
struct Cuts {
  std::set<std::int64_t> integers;
  std::set<Instant> instants;
  std::vector<std::string> strings;  // ids the value may equal
  void add_string(const std::string& s) {
    if (std::find(strings.begin(), strings.end(), s) == strings.end()) strings.push_back(s);
  }
};

Cuts cuts_of(const dsl::CheckedPolicy& c, std::uint32_t a, const std::vector<std::uint32_t>& tests,
             const std::vector<Value>& values) {
  Cuts cuts;
  for (const std::uint32_t t : tests) {
    const dsl::AttributeTest& test = c.tests[t];
    const bool left = test.lhs == a;
    const Value* other = &test.constant;
    if (test.rhs != dsl::no_id)
      other = &values[left ? static_cast<std::size_t>(test.rhs) : test.lhs];
    if (const auto* n = std::get_if<std::int64_t>(other)) cuts.integers.insert(*n);
    if (const auto* s = std::get_if<std::string>(other)) cuts.add_string(*s);
    if (const auto* l = std::get_if<std::vector<std::string>>(other)) {
      for (const std::string& s : *l)
        cuts.add_string(s);
    }
    if (const auto* at = std::get_if<Instant>(other)) {
      if (left) {
        cuts.instants.insert(add(*at, test.shift));
        continue;
      }
      // `x op a + shift`: calendar arithmetic is not invertible, so the days around the
      // inverse are tried too.
      const Instant back = add(*at, negated(test.shift));
      for (std::int64_t k = -3; k <= 3; ++k)
        cuts.instants.insert(Instant{back.micros + k * micros_per_day});
    }
  }
  return cuts;
}

// The values tried: every cut and its neighbours, and the request's own.
std::vector<Value> candidates(const dsl::AttributeInfo& info, const Cuts& cuts, const Value& own) {
  std::vector<Value> out = {own};
  switch (info.type) {
    case AttrType::boolean:
      out.insert(out.end(), {false, true});
      break;
    case AttrType::integer:
      for (const std::int64_t n : cuts.integers) {
        for (const std::int64_t k : {-1, 0, 1}) {
          std::int64_t v = 0;
          if (!__builtin_add_overflow(n, k, &v)) out.emplace_back(v);
        }
      }
      if (info.range) out.insert(out.end(), {info.range->low, info.range->high});
      break;
    case AttrType::date:
      for (const Instant at : cuts.instants) {
        for (const std::int64_t k : {-1, 0, 1, 2})
          out.emplace_back(Instant{day_floor(at).micros + k * micros_per_day});
      }
      break;
    case AttrType::time:
      // A microsecond either side decides; a day either side reads better when it agrees.
      for (const Instant at : cuts.instants) {
        for (const std::int64_t k :
             {-micros_per_day, std::int64_t{-1}, std::int64_t{0}, std::int64_t{1}, micros_per_day})
          out.emplace_back(Instant{at.micros + k});
      }
      break;
    case AttrType::string: {
      for (const std::string& s : cuts.strings)
        out.emplace_back(s);
      if (!info.name_set.empty()) {
        // One of the set's names that no test mentions, if any.
        for (const std::string& m : info.members) {
          if (std::find(cuts.strings.begin(), cuts.strings.end(), m) != cuts.strings.end())
            continue;
          out.emplace_back(m);
          break;
        }
        break;
      }
      for (std::size_t n = 1;; ++n) {
        std::string fresh = "other-" + std::to_string(n);
        if (std::find(cuts.strings.begin(), cuts.strings.end(), fresh) != cuts.strings.end())
          continue;
        out.emplace_back(std::move(fresh));
        break;
      }
      break;
    }
    case AttrType::string_list: {
      // The request's list with each subset of the ids the tests look for.
      const auto* mine = std::get_if<std::vector<std::string>>(&own);
      if (cuts.strings.size() > max_pool) break;
      for (std::uint32_t mask = 0; mask < (1U << cuts.strings.size()); ++mask) {
        std::vector<std::string> list;
        if (mine != nullptr) {
          for (const std::string& s : *mine) {
            if (std::find(cuts.strings.begin(), cuts.strings.end(), s) == cuts.strings.end())
              list.push_back(s);
          }
        }
        for (std::size_t i = 0; i < cuts.strings.size(); ++i) {
          if (((mask >> i) & 1U) != 0) list.push_back(cuts.strings[i]);
        }
        out.emplace_back(std::move(list));
      }
      break;
    }
  }
  // Only values a request may carry: inside the attribute's set or range.
  std::erase_if(out, [&](const Value& v) { return dsl::not_taken(info, v).has_value(); });
  if (info.optional) out.emplace_back(std::monostate{});
  return out;
}

// How far a value is from the request's own: the nearest member stands for its class.
std::uint64_t distance(const Value& v, const Value& own, const Cuts& cuts) {
  if (std::holds_alternative<std::monostate>(v)) return UINT64_MAX;
  if (const auto* n = std::get_if<std::int64_t>(&v)) {
    const auto* m = std::get_if<std::int64_t>(&own);
    return m == nullptr ? 0 : static_cast<std::uint64_t>(*n > *m ? *n - *m : *m - *n);
  }
  if (const auto* at = std::get_if<Instant>(&v)) {
    const auto* mine = std::get_if<Instant>(&own);
    // A time at midnight or at a cut reads better than one a microsecond off.
    const bool round = at->micros % micros_per_day == 0 || cuts.instants.contains(*at);
    const std::uint64_t off = round ? 0 : 2 * static_cast<std::uint64_t>(micros_per_day);
    if (mine == nullptr) return off;
    return off + static_cast<std::uint64_t>(at->micros > mine->micros ? at->micros - mine->micros
                                                                      : mine->micros - at->micros);
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    // An id the tests compare with reads better than a made-up one.
    return std::find(cuts.strings.begin(), cuts.strings.end(), *s) != cuts.strings.end() ? 0 : 1;
  }
  if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
    const auto* mine = std::get_if<std::vector<std::string>>(&own);
    std::uint64_t changed = 0;
    for (const std::string& s : cuts.strings) {
      const bool in = std::find(l->begin(), l->end(), s) != l->end();
      const bool was = mine != nullptr && std::find(mine->begin(), mine->end(), s) != mine->end();
      changed += in != was ? 1 : 0;
    }
    return changed;
  }
  return 0;
}

}  // namespace

Request with_value(Request request, std::string_view path, const Value& value) {
  std::erase_if(request.attributes, [&](const Attribute& x) { return x.path == path; });
  if (!std::holds_alternative<std::monostate>(value))
    request.attributes.push_back({std::string(path), value});
  if (path == "requester.id") {
    const auto* id = std::get_if<std::string>(&value);
    request.requester_id = id != nullptr ? *id : "";
  }
  return request;
}

std::vector<OtherValue> other_values(const Policy& policy, const Request& request,
                                     std::string_view path) noexcept {
  try {
    const detail::PolicyImpl* impl = detail::Access::impl(policy);
    if (impl == nullptr) return {};
    const dsl::CheckedPolicy& c = impl->checked();
    const auto found = std::find_if(c.attributes.begin(), c.attributes.end(),
                                    [&](const dsl::AttributeInfo& x) { return x.path == path; });
    if (found == c.attributes.end()) return {};
    const auto a = static_cast<std::uint32_t>(found - c.attributes.begin());
    const auto resolved = policy.resolve(request);
    if (!resolved) return {};
    std::vector<Value> values = detail::Access::attributes(*resolved);
    const Value own = values[a];
    const std::vector<std::uint32_t> tests = detail::tests_reading(c, a);
    if (tests.empty()) return {};
    Cuts cuts = cuts_of(c, a, tests, values);
    // The policy's time also decides which dated consents count.
    const bool is_time = static_cast<std::int32_t>(a) == c.time_attribute;
    if (is_time) {
      for (const ConsentRecord& r : request.consent_records) {
        for (const auto& end : {r.expires, r.withdrawn}) {
          if (end) cuts.instants.insert(*end);
        }
      }
    }
    const auto key_of = [&](const Value& v) {
      values[a] = v;
      std::vector<bool> key;
      for (const std::uint32_t t : tests)
        key.push_back(detail::run_test(c.tests[t], values));
      if (is_time) {
        const auto* now = std::get_if<Instant>(&v);
        for (const ConsentRecord& r : request.consent_records) {
          for (const auto& end : {r.expires, r.withdrawn})
            key.push_back(!end || (now != nullptr && *now < *end));
        }
      }
      return key;
    };
    const std::vector<bool> own_key = key_of(own);
    std::map<std::vector<bool>, std::pair<std::uint64_t, Value>> best;
    for (const Value& v : candidates(*found, cuts, own)) {
      const std::vector<bool> key = key_of(v);
      if (key == own_key) continue;
      const std::uint64_t d = distance(v, own, cuts);
      auto [it, fresh] = best.emplace(key, std::pair{d, v});
      if (!fresh && d < it->second.first) it->second = {d, v};
    }
    std::vector<OtherValue> out;
    for (const auto& [key, chosen] : best) {
      // The label names only the tests whose answers change.
      std::vector<bool> answers(c.tests.size(), false);
      std::vector<std::uint32_t> changed;
      for (std::size_t i = 0; i < tests.size(); ++i) {
        answers[tests[i]] = key[i];
        if (key[i] != own_key[i]) changed.push_back(tests[i]);
      }
      std::string label = changed.empty() ? "" : detail::class_label(c, a, changed, answers);
      // Which dated consents the time makes count, where that differs from the request's.
      std::size_t at = tests.size();
      for (const ConsentRecord& r :
           is_time ? request.consent_records : std::vector<ConsentRecord>{}) {
        for (int end = 0; end < 2; ++end, ++at) {
          if (key[at] == own_key[at]) continue;
          label += fmt::format("{}consent `{}` {}", label.empty() ? "" : ", ", r.id,
                               key[at]    ? "still counts"
                               : end == 0 ? "has expired"
                                          : "is withdrawn");
        }
      }
      out.push_back({chosen.second, std::move(label)});
    }
    // Nearest first.
    std::stable_sort(out.begin(), out.end(), [&](const OtherValue& x, const OtherValue& y) {
      return distance(x.value, own, cuts) < distance(y.value, own, cuts);
    });
    return out;
  } catch (...) {
    return {};
  }
}

}  // namespace clause
