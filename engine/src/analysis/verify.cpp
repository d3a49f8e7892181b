// Stage: analysis. `assert` statements proved over the regions of the request space.
#include "clause/verify.hpp"

#include <fmt/format.h>

#include "analysis/analysis.hpp"

namespace clause {
namespace {

using detail::Access;

}  // namespace

std::vector<AssertionResult> verify(const Policy& policy) noexcept {
  std::vector<AssertionResult> out;
  const detail::PolicyImpl* impl = detail::Access::impl(policy);
  if (impl == nullptr) return out;
  try {
    const dsl::CheckedPolicy& c = impl->checked();
    for (const dsl::CheckedAssertion& a : c.assertions) {
      AssertionResult result;
      result.text = detail::one_line(impl->source.text, a.span);
      result.position = line_column(impl->source.text, a.span.begin);
      detail::Probe probe{a.actions, a.data, a.requesters, {}, a.consent};
      if (a.when) probe.conditions.push_back(&*a.when);
      if (a.unless) probe.conditions.push_back(&*a.unless);
      const Effect promised = a.effect;
      const auto matches = [&](const detail::ReferenceVerdict& v) {
        return v.effect == promised && (a.consent < 0 || v.consent == a.consent);
      };
      result.complete = detail::for_each_region(
          *impl, std::span(&probe, 1), 20, [&](const detail::Region& region) {
            if (!detail::holds(a.when, region.assignment)) return true;
            if (a.unless && detail::holds(*a.unless, region.assignment)) return true;
            ++result.regions;
            const detail::ReferenceVerdict v =
                detail::verdict_of(*impl, detail::fast_verdict(*impl, region.witness));
            if (matches(v) == a.always) return true;
            result.counterexample = detail::request_names(c, region.witness);
            result.effect = v.effect;
            result.clause = impl->clause_id(v.clause);
            if (v.rule >= 0) result.rule = c.rules[static_cast<std::size_t>(v.rule)].id;
            if (v.consent >= 0)
              result.consent = c.consents[static_cast<std::size_t>(v.consent)].name;
            return false;
          });
      result.proved = result.complete && !result.counterexample;
      out.push_back(std::move(result));
    }
  } catch (...) {
    // Out of memory: what was proved so far stands; the rest is reported unproved.
  }
  return out;
}

}  // namespace clause
