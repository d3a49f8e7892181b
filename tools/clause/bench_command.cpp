// The command `bench`: how fast a policy decides, measured the way docs/performance.md
// reports it. Requests are decoded once; the typed path then evaluates them again and
// again, and the JSON path runs text to decision text as `clause eval --jsonl` does.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "clause/detail.hpp"  // the one internal header: facts of the index
#include "clause/json.hpp"
#include "cli.hpp"
#include "handwritten_privacy.hpp"

namespace clause::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Decisions feed this, so that the optimizer cannot drop them.
volatile std::size_t kept_sink = 0;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Keeps the compiler from dropping decisions nobody reads.
std::size_t checksum(const Verdict& v) {
  return static_cast<std::size_t>(v.effect) + static_cast<std::size_t>(v.rule + 1);
}

// Decides `count` verdicts (the hot loop's value; texts on demand) cycling over the requests; gives
// the seconds taken.
double typed_run(const Policy& policy, const std::vector<ResolvedRequest>& requests,
                 std::size_t count, std::size_t offset, std::size_t& sink) {
  const auto start = Clock::now();
  const std::size_t n = requests.size();
  std::size_t i = offset % n;
  for (std::size_t k = 0; k < count; ++k) {
    sink += checksum(policy.decide(requests[i]));
    if (++i == n) i = 0;
  }
  return seconds_since(start);
}

// Text to decision text, as `clause eval --jsonl` does it; gives the seconds taken.
double json_run(const Policy& policy, const std::vector<std::string>& lines, std::size_t count,
                std::size_t& sink) {
  std::string out;
  out.reserve(1U << 17);
  const auto start = Clock::now();
  std::size_t i = 0;
  for (std::size_t k = 0; k < count; ++k) {
    append_json(out, policy.evaluate_json(lines[i]));
    out += '\n';
    if (out.size() > (1U << 16)) {
      sink += out.size();
      out.clear();
    }
    if (++i == lines.size()) i = 0;
  }
  sink += out.size();
  return seconds_since(start);
}

// Decisions per second with `threads` threads evaluating on one shared Policy.
double threaded_rate(const Policy& policy, const std::vector<ResolvedRequest>& requests,
                     std::size_t per_thread, unsigned threads) {
  std::vector<std::size_t> sinks(threads * 16);  // one cache line apart
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back(
        [&, t] { (void)typed_run(policy, requests, per_thread, t * 997, sinks[t * 16]); });
  }
  for (std::thread& th : pool)
    th.join();
  return static_cast<double>(per_thread) * threads / seconds_since(start);
}

// The privacy policy's hand-written decision function (tests/bench/handwritten_privacy.hpp)
// over the same requests, in ns per decision, when the policy is that one: every request is
// first checked to be decided alike by both. Nothing when a request is outside its names
// or decided differently.
std::optional<double> handwritten_ns(const Policy& policy,
                                     const std::vector<ResolvedRequest>& resolved,
                                     std::size_t iterations, std::size_t repetitions,
                                     std::size_t& sink) {
  namespace hw = handwritten;
  std::vector<hw::PrivacyRequest> requests;
  for (const ResolvedRequest& r : resolved) {
    const auto q = hw::to_privacy_request(policy.names(r));
    if (!q) return std::nullopt;
    const Verdict v = policy.decide(r);
    const VerdictTexts t = policy.texts(v);
    const hw::PrivacyDecision d = hw::decide_privacy(*q);
    if (to_string(v.effect) != hw::to_string(d.effect) || t.clause != hw::to_string(d.clause) ||
        t.consent != hw::to_string(d.consent)) {
      return std::nullopt;
    }
    requests.push_back(*q);
  }
  std::vector<double> ns;
  for (std::size_t r = 0; r < repetitions; ++r) {
    const auto start = Clock::now();
    std::size_t i = 0;
    for (std::size_t k = 0; k < iterations; ++k) {
      const hw::PrivacyDecision d = hw::decide_privacy(requests[i]);
      sink += static_cast<std::size_t>(d.effect) + static_cast<std::size_t>(d.clause);
      if (++i == requests.size()) i = 0;
    }
    ns.push_back(seconds_since(start) * 1e9 / static_cast<double>(iterations));
  }
  return median(ns);
}

std::string human_rate(double per_second) {
  if (per_second >= 1e6) return fmt::format("{:.2f} M", per_second / 1e6);
  if (per_second >= 1e3) return fmt::format("{:.1f} k", per_second / 1e3);
  return fmt::format("{:.0f} ", per_second);
}

std::string human_bytes(double bytes) {
  if (bytes >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024));
  if (bytes >= 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.0f} B", bytes);
}

}  // namespace

int run_bench(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("bench");
  }
  Args args(argv, "bench");
  if (args.error()) return usage_error("bench", *args.error());
  if (!args.positional().empty()) return usage_error("bench", "takes no positional arguments");
  const auto policy_path = args.option("policy");
  if (!policy_path) return usage_error("bench", "--policy FILE is required");
  if (*policy_path == "-" && args.option("jsonl") == "-") {
    return usage_error("bench", "stdin (`-`) can be read only once");
  }
  // A positive number given to `--name`, or `fallback`; false when it is not one.
  const auto count_option = [&](std::string_view name, std::size_t fallback,
                                std::size_t& value) -> bool {
    const auto given = args.count(name, fallback, 1);
    value = given.value_or(0);
    return given.has_value();
  };
  std::size_t iterations = 0;
  std::size_t repetitions = 0;
  std::size_t max_threads = 0;
  if (!count_option("iterations", 2'000'000, iterations)) {
    return usage_error("bench", "--iterations takes a positive number");
  }
  if (!count_option("repetitions", 11, repetitions)) {
    return usage_error("bench", "--repetitions takes a positive number");
  }
  if (!count_option("threads", std::max(1U, std::thread::hardware_concurrency()), max_threads)) {
    return usage_error("bench", "--threads takes a positive number");
  }
  CompileOptions compile_options;
  compile_options.limits = tool_limits();
  if (args.option("index-budget")) {
    const auto budget = args.count("index-budget", 0);
    if (!budget) return usage_error("bench", "--index-budget takes a number");
    compile_options.index_budget = *budget;
  }

  auto source = read_policy_source(*policy_path);
  if (!source) {
    fmt::print(stderr, "clause: error: {}\n", source.error());
    return exit_failed;
  }
  // Compile: the fastest of a few runs (at least one), and the heap the result holds.
  std::optional<Policy> policy;
  double compile_seconds = 0;
  std::size_t compiled_bytes = 0;
  for (int run = 0; run < 5; ++run) {
    policy.reset();
    const std::size_t heap_before = detail::heap_in_use();
    const auto start = Clock::now();
    auto compiled = compile(*source, compile_options);
    const double seconds = seconds_since(start);
    if (!compiled) {
      std::fputs(render_text(*source, compiled.error()).c_str(), stderr);
      return exit_failed;
    }
    policy = std::move(*compiled);
    compiled_bytes = detail::heap_in_use() - heap_before;
    compile_seconds = run == 0 ? seconds : std::min(compile_seconds, seconds);
    if (compile_seconds > 0.2) break;  // large policies: one or two runs say enough
  }
  const std::size_t rules = detail::Access::impl(*policy)->rule_texts.size();
  const std::size_t index_bytes = detail::Access::impl(*policy)->index_bytes();

  // The requests, as JSON lines and as resolved requests.
  std::vector<std::string> lines;
  std::vector<ResolvedRequest> resolved;
  std::size_t invalid = 0;
  std::string origin;
  if (const auto path = args.option("jsonl")) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (*path != "-") {
      file.open(*path, std::ios::binary);
      if (!file) {
        fmt::print(stderr, "clause: error: cannot open `{}`\n", *path);
        return exit_failed;
      }
      in = &file;
    }
    std::string line;
    while (std::getline(*in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      auto r = policy->decode(line);
      if (!r) {
        ++invalid;
        continue;
      }
      resolved.push_back(std::move(*r));
      lines.push_back(std::move(line));
    }
    origin = fmt::format("{} from {}", resolved.size(), *path);
    if (invalid > 0) origin += fmt::format(" ({} invalid ones left out)", invalid);
  } else {
    for (const Request& q : detail::request_mix(*policy, 4096, 42)) {
      lines.push_back(request_json(q).dump());
      resolved.push_back(*policy->resolve(q));
    }
    origin = fmt::format("{} generated over the policy's names", resolved.size());
  }
  if (resolved.empty()) {
    fmt::print(stderr, "clause bench: no valid request to run\n");
    return exit_failed;
  }

  std::size_t sink = 0;
  (void)typed_run(*policy, resolved, std::min<std::size_t>(iterations, 200'000), 0, sink);
  std::vector<double> typed_ns;
  for (std::size_t r = 0; r < repetitions; ++r) {
    typed_ns.push_back(typed_run(*policy, resolved, iterations, 0, sink) * 1e9 /
                       static_cast<double>(iterations));
  }
  const double typed_median = median(typed_ns);
  const auto [typed_min, typed_max] = std::minmax_element(typed_ns.begin(), typed_ns.end());

  const std::optional<double> handwritten =
      handwritten_ns(*policy, resolved, iterations, repetitions, sink);

  const std::size_t json_count = std::max<std::size_t>(iterations / 20, lines.size());
  std::vector<double> json_ns;
  for (std::size_t r = 0; r < std::min<std::size_t>(repetitions, 5); ++r) {
    json_ns.push_back(json_run(*policy, lines, json_count, sink) * 1e9 /
                      static_cast<double>(json_count));
  }
  const double json_median = median(json_ns);

  // Each thread count: the median of three runs, each long enough to hide thread start-up.
  std::vector<std::pair<unsigned, double>> scaling;
  const std::size_t per_thread = std::max<std::size_t>(iterations, 2'000'000);
  for (unsigned t = 1; t <= max_threads; t *= 2) {
    std::vector<double> rates;
    for (int run = 0; run < 3; ++run)
      rates.push_back(threaded_rate(*policy, resolved, per_thread, t));
    scaling.emplace_back(t, median(rates));
  }

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto peak_rss = static_cast<std::size_t>(usage.ru_maxrss) * 1024;
  const double per_rule = static_cast<double>(compiled_bytes) / static_cast<double>(rules);

  if (args.flag("json") || args.format() == "json") {
    nlohmann::json out = {
        {"schema_version", schema_version},
        {"policy", *policy_path},
        {"rules", rules},
        {"requests", resolved.size()},
        {"iterations", iterations},
        {"repetitions", repetitions},
        {"typed_ns_per_decision", typed_median},
        {"typed_ns_min", *typed_min},
        {"typed_ns_max", *typed_max},
        {"typed_decisions_per_second", 1e9 / typed_median},
        {"json_ns_per_decision", json_median},
        {"json_decisions_per_second", 1e9 / json_median},
        {"compile_ms", compile_seconds * 1e3},
        {"compiled_bytes", compiled_bytes},
        {"compiled_bytes_per_rule", per_rule},
        {"index_bytes", index_bytes},
        {"index_bytes_per_rule", static_cast<double>(index_bytes) / static_cast<double>(rules)},
        {"peak_rss_bytes", peak_rss},
        {"threads", nlohmann::json::array()},
        {"checksum", sink % 1000},
    };
    if (handwritten) {
      out["handwritten_ns_per_decision"] = *handwritten;
      out["typed_to_handwritten"] = typed_median / *handwritten;
    }
    for (const auto& [threads, rate] : scaling) {
      out["threads"].push_back({{"threads", threads},
                                {"decisions_per_second", rate},
                                {"speedup", rate / scaling.front().second}});
    }
    fmt::print("{}\n", out.dump(2));
    return exit_ok;
  }
  fmt::print("policy    {}: {} rules\n", *policy_path, rules);
  fmt::print("requests  {}\n", origin);
  fmt::print(
      "typed     median {:.1f} ns per decision ({}decisions/s); {} repetitions of {}: {:.1f} to "
      "{:.1f} ns\n",
      typed_median, human_rate(1e9 / typed_median), repetitions, iterations, *typed_min,
      *typed_max);
  if (handwritten) {
    fmt::print(
        "hand      median {:.1f} ns per decision by the hand-written function; typed is "
        "{:.2f}× it\n",
        *handwritten, typed_median / *handwritten);
  }
  fmt::print("json      median {:.0f} ns per decision ({}decisions/s): decode, evaluate, encode\n",
             json_median, human_rate(1e9 / json_median));
  std::string threads_line;
  for (const auto& [threads, rate] : scaling) {
    threads_line += fmt::format("{}{} → {}decisions/s ({:.2f}×)", threads_line.empty() ? "" : ", ",
                                threads, human_rate(rate), rate / scaling.front().second);
  }
  fmt::print("threads   {}\n", threads_line);
  fmt::print("compile   {:.2f} ms\n", compile_seconds * 1e3);
  fmt::print(
      "memory    decision index {} ({:.0f} bytes per rule); whole policy, source text "
      "included, {} ({:.0f} bytes per rule)\n",
      human_bytes(static_cast<double>(index_bytes)),
      static_cast<double>(index_bytes) / static_cast<double>(rules),
      human_bytes(static_cast<double>(compiled_bytes)), per_rule);
  fmt::print("          peak resident {}\n", human_bytes(static_cast<double>(peak_rss)));
  const detail::PolicyImpl& impl = *detail::Access::impl(*policy);
  fmt::print(
      "index     {} cells, {:.2f} per (action, requester) pair, {} segments, {} list entries\n",
      impl.cell_segments.size() - 1,
      impl.chain_begin.empty() ? 1.0
                               : static_cast<double>(impl.chains.size()) /
                                     static_cast<double>(impl.chain_begin.size() - 1),
      impl.segments.size(), impl.lists.size());
  fmt::print("          rules are copied into requester subtrees of up to {} kinds\n",
             impl.fold_limit);
  kept_sink = sink;  // read, so the work above stays
  return exit_ok;
}

}  // namespace clause::cli
