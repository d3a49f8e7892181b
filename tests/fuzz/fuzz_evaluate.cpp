// Fuzz target: the bytes choose a valid random policy (tests/random_policy.hpp), the index
// budget it is compiled with, and the requests; every decision of the index must be the
// reference loop's. With a budget of 0 no rule is copied and pairs consult chains of cells;
// with small budgets some are copied and some are not.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "clause/clause.hpp"
#include "fuzz_support.hpp"
#include "random_policy.hpp"

namespace clause::fuzz {
namespace {

void run(const std::uint8_t* data, std::size_t size) {
  ByteSource rng(data, size);
  const int rules = 1 + static_cast<int>(rng() % 48);
  CompileOptions options;
  switch (rng() % 8) {
    case 0:
    case 1:
      break;  // the default budget
    case 2:
    case 3:
      options.index_budget = 0;
      break;
    case 4:
      options.index_budget = rng() % 8;
      break;
    case 5:
      options.index_budget = static_cast<std::size_t>(rules) * (1 + rng() % 4);
      break;
    case 6:
      options.index_budget = rng() % 256;
      break;
    default:
      options.index_budget = static_cast<std::size_t>(rules) * 6;
      break;
  }
  options.keep_rule_tree = rng() % 2 == 0;
  const std::string text = test::random_policy(rng, rules);
  const auto compiled = compile(SourceFile{"random.policy", text}, options);
  if (!compiled)
    fail("a generated policy does not compile:\n" +
             render_text(SourceFile{"random.policy", text}, compiled.error()),
         text);
  const Policy& p = *compiled;
  const dsl::CheckedPolicy& c = detail::Access::impl(p)->vocabulary();
  const std::string budget =
      options.index_budget ? std::to_string(*options.index_budget) : std::string("default");

  // Every (data, requester, action) triple once, each in a context the bytes choose.
  for (const dsl::Term& d : c.data) {
    for (const dsl::Term& q : c.requesters) {
      for (const dsl::Term& a : c.actions) {
        const int purpose = static_cast<int>(rng() % 4) - 1;
        const int bits = static_cast<int>(rng() % 64);
        const Request r = test::small_request(d.name, q.name, a.name, purpose, bits);
        const auto resolved = p.resolve(r);
        if (!resolved) fail("a request does not resolve: " + resolved.error().to_string(), text);
        check_reference(
            p, *resolved,
            [&] {
              return fmt::format("budget {}, request {} {} {} purpose {} bits {:06b}", budget,
                                 r.data, r.requester, r.action, purpose, bits);
            },
            text);
      }
    }
  }
  // A few more, every way the engine decides them.
  for (int i = 0; i < 4; ++i) {
    const Request r = test::small_request(
        c.data[rng() % c.data.size()].name, c.requesters[rng() % c.requesters.size()].name,
        c.actions[rng() % c.actions.size()].name, static_cast<int>(rng() % 4) - 1,
        static_cast<int>(rng() % 64));
    check_request(p, r, text);
  }
}

}  // namespace
}  // namespace clause::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  clause::fuzz::run(data, size);
  return 0;
}
