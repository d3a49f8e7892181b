// Evaluate allocates nothing without a trace: every allocation of the process is counted,
// and the count must not move while typed requests are decided. A program of its own, so
// that replacing the global allocator touches nothing else.
#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "clause/clause.hpp"
#include "clause/detail.hpp"
#include "generator.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
// The nothrow forms too (std::stable_sort's buffer uses them): every new must pair with
// the delete below.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

// Decides every request many times, as a Decision and as a Verdict with its texts; gives
// how many allocations that took.
std::size_t allocations_while_deciding(const clause::Policy& policy,
                                       const std::vector<clause::ResolvedRequest>& requests,
                                       std::size_t& allowed) {
  const std::size_t before = allocations.load();
  for (int round = 0; round < 20; ++round) {
    for (const clause::ResolvedRequest& q : requests) {
      const clause::Decision d = policy.evaluate(q);
      allowed += d.effect == clause::Effect::allow ? 1 : 0;
      const clause::Verdict v = policy.decide(q);
      const clause::VerdictTexts t = policy.texts(v);
      if (v.effect != d.effect || t.clause != d.clause || t.rule != d.rule) return 1'000'000;
    }
  }
  return allocations.load() - before;
}

int check(const std::string& name, const std::string& text, std::optional<std::size_t> budget) {
  clause::CompileOptions options;
  options.index_budget = budget;
  auto policy = clause::compile(clause::SourceFile{name, text}, options);
  if (!policy) {
    std::fprintf(stderr, "%s does not compile\n", name.c_str());
    return 1;
  }
  std::vector<clause::ResolvedRequest> requests;
  for (const clause::Request& r : clause::detail::request_mix(*policy, 2000, 7)) {
    requests.push_back(*policy->resolve(r));
  }
  std::size_t allowed = 0;
  const std::size_t count = allocations_while_deciding(*policy, requests, allowed);
  // The trace is allowed to allocate; this shows the counter sees evaluate's allocations.
  const std::size_t before = allocations.load();
  (void)policy->evaluate(requests[0], clause::EvalOptions{.trace = true});
  const bool counter_works = allocations.load() > before;
  fmt::print("{}: {} decisions and verdicts ({} allowed), {} allocations\n", name,
             requests.size() * 20, allowed, count);
  if (!counter_works) {
    std::fprintf(stderr, "the allocation counter does not count\n");
    return 1;
  }
  return count == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: no_allocation_test POLICY...\n");
    return 64;
  }
  int failed = 0;
  for (int i = 1; i < argc; ++i) {
    auto source = clause::read_source(argv[i]);
    if (!source) return 1;
    failed += check(argv[i], source->text, std::nullopt);
  }
  const std::string synthetic = clause::gen::synthetic_policy({2000, 1, 0, false});
  failed += check("synthetic 2000 rules", synthetic, std::nullopt);
  failed += check("synthetic 2000 rules, chained cells", synthetic, 0);
  failed += check("synthetic 2000 rules with attributes",
                  clause::gen::synthetic_policy({2000, 1, 0, true}), std::nullopt);
  return failed == 0 ? 0 : 1;
}
