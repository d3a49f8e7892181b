// The benchmark suite (Google Benchmark): evaluation on the privacy policy and on synthetic
// policies of 100 to 100,000 rules, compile times, JSON decode and encode, and throughput
// with several threads sharing one Policy. docs/performance.md has the results and the
// commands; this suite and `clause bench` measure the same request mix.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "clause/clause.hpp"
#include "clause/detail.hpp"
#include "clause/json.hpp"
#include "clause/lint.hpp"
#include "clause/plan.hpp"
#include "clause/sql.hpp"
#include "generator.hpp"
#include "handwritten_privacy.hpp"

namespace {

using clause::Policy;
using clause::ResolvedRequest;

std::string privacy_text() {
  auto source = clause::read_source(CLAUSE_SOURCE_DIR "/policies/privacy.policy");
  return source ? source->text : std::string();
}

// A policy's text by size; 0 is the privacy policy.
const std::string& policy_text(std::int64_t rules) {
  static std::map<std::int64_t, std::string> texts;
  auto it = texts.find(rules);
  if (it == texts.end()) {
    const std::string text =
        rules == 0 ? privacy_text()
                   : clause::gen::synthetic_policy({static_cast<std::size_t>(rules), 1, 0, false});
    it = texts.emplace(rules, text).first;
  }
  return it->second;
}

// A compiled policy and its requests, made once and shared by every benchmark and thread.
struct Workload {
  Policy policy;
  std::vector<ResolvedRequest> requests;
  std::vector<std::string> lines;  // the same requests as JSON text
};

const Workload& workload(std::int64_t rules) {
  static std::map<std::int64_t, std::unique_ptr<Workload>> loaded;
  auto it = loaded.find(rules);
  if (it == loaded.end()) {
    auto w = std::make_unique<Workload>();
    auto compiled = clause::compile(clause::SourceFile{"bench.policy", policy_text(rules)});
    if (compiled) w->policy = std::move(*compiled);
    for (const clause::Request& r : clause::detail::request_mix(w->policy, 4096, 42)) {
      w->requests.push_back(*w->policy.resolve(r));
      std::string line = R"({"data":{"category":")" + r.data + R"("},"requester":{"kind":")" +
                         r.requester + R"("},"action":")" + r.action + R"(","context":{)";
      line += r.purpose ? R"("purpose":")" + *r.purpose + "\"" : R"("purpose":null)";
      line += R"(,"consent":[)";
      for (std::size_t i = 0; i < r.consent.size(); ++i)
        line += (i ? ",\"" : "\"") + r.consent[i] + "\"";
      line += "]";
      for (const std::string& f : r.facts)
        line += ",\"" + f + "\":true";
      line += "}}";
      w->lines.push_back(std::move(line));
    }
    it = loaded.emplace(rules, std::move(w)).first;
  }
  return *it->second;
}

// Typed requests: the hot path alone, as Policy::decide gives it (a Verdict, texts on
// demand). Argument: rules (0: the privacy policy).
void typed(benchmark::State& state) {
  const Workload& w = workload(state.range(0));
  if (w.requests.empty()) {
    state.SkipWithError("the policy did not compile");
    return;
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 997 % w.requests.size();
  for (auto _ : state) {
    clause::Verdict v = w.policy.decide(w.requests[i]);
    benchmark::DoNotOptimize(v);
    if (++i == w.requests.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// The privacy policy decided by the hand-written function of handwritten_privacy.hpp, on the
// requests of typed/rules:0 in the same order (request_mix with the same count and seed),
// so that the two times divide into the ratio docs/performance.md reports. Before timing,
// every request is checked against the engine's decision.
void handwritten_privacy(benchmark::State& state) {
  namespace hw = clause::handwritten;
  const Workload& w = workload(0);
  std::vector<hw::PrivacyRequest> requests;
  for (const clause::Request& r : clause::detail::request_mix(w.policy, 4096, 42)) {
    const auto q = hw::to_privacy_request(r);
    if (!q) {
      state.SkipWithError("a request has a name outside the hand-written vocabulary");
      return;
    }
    requests.push_back(*q);
  }
  if (requests.size() != w.requests.size()) {
    state.SkipWithError("the request mixes differ");
    return;
  }
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const clause::Decision want = w.policy.evaluate(w.requests[k]);
    const hw::PrivacyDecision got = hw::decide_privacy(requests[k]);
    if (clause::to_string(want.effect) != hw::to_string(got.effect) ||
        want.clause != hw::to_string(got.clause) || want.consent != hw::to_string(got.consent)) {
      state.SkipWithError("the hand-written function disagrees with the engine");
      return;
    }
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 997 % requests.size();
  for (auto _ : state) {
    hw::PrivacyDecision d = hw::decide_privacy(requests[i]);
    benchmark::DoNotOptimize(d);
    if (++i == requests.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void compile_time(benchmark::State& state) {
  const clause::SourceFile source{"bench.policy", policy_text(state.range(0))};
  for (auto _ : state) {
    auto policy = clause::compile(source);
    benchmark::DoNotOptimize(policy);
  }
  state.SetItemsProcessed(state.iterations());
}

// What `clause check` does after compiling: every warning, decided exactly. It stays
// near-linear in the rules (each rule meets only the rules that share a data category).
void lint_time(benchmark::State& state) {
  const clause::SourceFile source{"bench.policy", policy_text(state.range(0))};
  const auto policy = clause::compile(source);
  for (auto _ : state) {
    auto findings = clause::lint(*policy);
    benchmark::DoNotOptimize(findings);
  }
  state.SetItemsProcessed(state.iterations());
}

void decode_json(benchmark::State& state) {
  const Workload& w = workload(0);
  std::size_t i = 0;
  for (auto _ : state) {
    auto q = w.policy.decode(w.lines[i]);
    benchmark::DoNotOptimize(q);
    if (++i == w.lines.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void encode_json(benchmark::State& state) {
  const Workload& w = workload(0);
  std::vector<clause::Decision> decisions;
  for (const ResolvedRequest& q : w.requests)
    decisions.push_back(w.policy.evaluate(q));
  std::string out;
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    clause::append_json(out, decisions[i]);
    benchmark::DoNotOptimize(out.data());
    if (++i == decisions.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// Text to decision text, as `clause eval --jsonl` does.
void json_path(benchmark::State& state) {
  const Workload& w = workload(0);
  std::string out;
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    clause::append_json(out, w.policy.evaluate_json(w.lines[i]));
    benchmark::DoNotOptimize(out.data());
    if (++i == w.lines.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// Plans with data.category open (issue 16's "Speed"): the requester and action of the first
// 8 distinct pairs of the request mix, planned in turn; rules 0 is the privacy policy.
void plan_category_open(benchmark::State& state, std::int64_t rules) {
  const Workload& w = workload(rules);
  std::vector<clause::PartialRequest> partials;
  for (const clause::Request& r : clause::detail::request_mix(w.policy, 4096, 42)) {
    const bool seen = std::any_of(partials.begin(), partials.end(), [&](const auto& p) {
      return p.known.requester == r.requester && p.known.action == r.action;
    });
    if (seen) continue;
    clause::PartialRequest p;
    p.known.requester = r.requester;
    p.known.action = r.action;
    p.unknown = {"data.category"};
    partials.push_back(std::move(p));
    if (partials.size() == 8) break;
  }
  for (const clause::PartialRequest& p : partials) {
    const auto planned = clause::plan(w.policy, p);
    if (!planned || !planned->complete) {
      state.SkipWithError("a request could not be planned");
      return;
    }
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto planned = clause::plan(w.policy, partials[i]);
    benchmark::DoNotOptimize(planned);
    if (++i == partials.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// The clinic's person asking what they may access, the data left open, read from the same
// JSON as `clause plan` reads policies/plans/clinic-person-access.json.
void plan_clinic(benchmark::State& state) {
  auto source = clause::read_source(CLAUSE_SOURCE_DIR "/policies/clinic.policy");
  auto partial = clause::read_source(CLAUSE_SOURCE_DIR "/policies/plans/clinic-person-access.json");
  Policy policy;
  if (source) {
    auto compiled = clause::compile(*source);
    if (compiled) policy = std::move(*compiled);
  }
  const auto first = clause::plan_json(policy, partial ? partial->text : std::string());
  if (!partial || !first || !first->complete) {
    state.SkipWithError("the clinic's policy or request did not load or plan");
    return;
  }
  for (auto _ : state) {
    auto planned = clause::plan_json(policy, partial->text);
    benchmark::DoNotOptimize(planned);
  }
  state.SetItemsProcessed(state.iterations());
}

// The same question written as SQL for PostgreSQL, as `POST /v1/sql/postgres` answers it:
// the plan, then the filter over the mapping of tests/bench/clinic.mapping.json.
void plan_clinic_sql(benchmark::State& state) {
  auto source = clause::read_source(CLAUSE_SOURCE_DIR "/policies/clinic.policy");
  auto partial = clause::read_source(CLAUSE_SOURCE_DIR "/policies/plans/clinic-person-access.json");
  auto mapping_text = clause::read_source(CLAUSE_SOURCE_DIR "/tests/bench/clinic.mapping.json");
  Policy policy;
  if (source) {
    auto compiled = clause::compile(*source);
    if (compiled) policy = std::move(*compiled);
  }
  const auto mapping = clause::read_sql_mapping(policy, mapping_text ? mapping_text->text : "");
  const auto plan = clause::plan_json(policy, partial ? partial->text : std::string());
  if (!mapping || !plan || !plan->complete ||
      !clause::sql_filter(policy, *plan, *mapping, clause::SqlDialect::postgres)) {
    state.SkipWithError("the clinic's policy, request or mapping did not load or plan");
    return;
  }
  for (auto _ : state) {
    auto planned = clause::plan_json(policy, partial->text);
    auto filter = clause::sql_filter(policy, *planned, *mapping, clause::SqlDialect::postgres);
    benchmark::DoNotOptimize(filter);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(typed)->ArgName("rules")->Arg(0)->Arg(100)->Arg(1000)->Arg(10000)->Arg(100000);
BENCHMARK(typed)
    ->Name("typed/threads")
    ->ArgName("rules")
    ->Arg(0)
    ->Arg(10000)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(handwritten_privacy)->Name("handwritten/privacy");
BENCHMARK(compile_time)
    ->ArgName("rules")
    ->Arg(0)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(lint_time)->ArgName("rules")->Arg(1000)->Arg(10000)->Arg(100000)->Unit(
    benchmark::kMillisecond);
BENCHMARK(decode_json);
BENCHMARK(encode_json);
BENCHMARK(json_path);
BENCHMARK_CAPTURE(plan_category_open, seed, 0)->Name("plan/seed")->Unit(benchmark::kMicrosecond);
BENCHMARK(plan_clinic)->Name("plan/clinic")->Unit(benchmark::kMicrosecond);
BENCHMARK(plan_clinic_sql)->Name("plan/clinic-sql")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(plan_category_open, synthetic10k, 10000)
    ->Name("plan/synthetic10k")
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
