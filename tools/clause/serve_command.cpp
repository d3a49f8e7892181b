// The command `serve`: an HTTP/JSON decision service (cpp-httplib from Debian). Handlers
// never throw to the library: bad input gets a 4xx with an error naming the field, and
// only an internal failure (out of memory) could give a 500.
#include <fmt/format.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "clause/json.hpp"
#include "clause/log.hpp"
#include "clause/store.hpp"
#include "cli.hpp"
#include "playground.hpp"

namespace clause::cli {
namespace {

using Clock = std::chrono::steady_clock;

int usage_error(std::string_view message) {
  fmt::print(stderr, "clause serve: {}\nrun `clause serve --help` for usage\n", message);
  return exit_usage;
}

// Upper bounds of the latency histogram, in seconds.
constexpr std::array<double, 10> latency_bounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                   0.0025,  0.005,  0.01,    0.05,   0.25};

class Metrics {
 public:
  void decided(const Decision& d) {
    effects_[static_cast<std::size_t>(d.effect)].fetch_add(1, std::memory_order_relaxed);
    if (!d.error.empty()) errors_.fetch_add(1, std::memory_order_relaxed);
  }
  void by_clause(const std::map<std::string, std::uint64_t, std::less<>>& counts) {
    const std::lock_guard lock(mutex_);
    for (const auto& [clause, n] : counts)
      clauses_[clause] += n;
  }
  void latency(double seconds) {
    std::size_t i = 0;
    while (i < latency_bounds.size() && seconds > latency_bounds[i])
      ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    // Microseconds, so that an integer adds without a lock.
    sum_us_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }
  void bad_request() { bad_requests_.fetch_add(1, std::memory_order_relaxed); }

  std::string text(const PolicyStore& store, const std::optional<DecisionLog>& log) const {
    std::string out;
    out += "# HELP clause_decisions_total Decisions made, by effect.\n";
    out += "# TYPE clause_decisions_total counter\n";
    for (const Effect e : {Effect::allow, Effect::deny, Effect::require_consent}) {
      out += fmt::format("clause_decisions_total{{effect=\"{}\"}} {}\n", to_string(e),
                         effects_[static_cast<std::size_t>(e)].load());
    }
    out += "# HELP clause_decisions_by_clause_total Decisions made, by the clause cited.\n";
    out += "# TYPE clause_decisions_by_clause_total counter\n";
    {
      const std::lock_guard lock(mutex_);
      for (const auto& [clause, n] : clauses_)
        out += fmt::format("clause_decisions_by_clause_total{{clause=\"{}\"}} {}\n", clause, n);
    }
    out += "# HELP clause_request_errors_total Requests that could not be decided (denied).\n";
    out += "# TYPE clause_request_errors_total counter\n";
    out += fmt::format("clause_request_errors_total {}\n", errors_.load());
    out += "# HELP clause_bad_http_requests_total HTTP requests refused with a 4xx.\n";
    out += "# TYPE clause_bad_http_requests_total counter\n";
    out += fmt::format("clause_bad_http_requests_total {}\n", bad_requests_.load());
    out += "# HELP clause_reloads_total Policy reloads, by result.\n";
    out += "# TYPE clause_reloads_total counter\n";
    out += fmt::format("clause_reloads_total{{result=\"ok\"}} {}\n", store.reloads());
    out += fmt::format("clause_reloads_total{{result=\"failed\"}} {}\n", store.failed_reloads());
    out += "# HELP clause_http_request_seconds Time to answer a decide call.\n";
    out += "# TYPE clause_http_request_seconds histogram\n";
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < latency_bounds.size(); ++i) {
      running += buckets_[i].load();
      out += fmt::format("clause_http_request_seconds_bucket{{le=\"{}\"}} {}\n", latency_bounds[i],
                         running);
    }
    running += buckets_.back().load();
    out += fmt::format("clause_http_request_seconds_bucket{{le=\"+Inf\"}} {}\n", running);
    out += fmt::format("clause_http_request_seconds_sum {}\n",
                       static_cast<double>(sum_us_.load()) / 1e6);
    out += fmt::format("clause_http_request_seconds_count {}\n", running);
    if (log) {
      out += "# HELP clause_log_dropped_total Decision log records dropped for a full queue.\n";
      out += "# TYPE clause_log_dropped_total counter\n";
      out += fmt::format("clause_log_dropped_total {}\n", log->dropped());
      out += "# TYPE clause_log_written_total counter\n";
      out += fmt::format("clause_log_written_total {}\n", log->written());
    }
    return out;
  }

 private:
  std::array<std::atomic<std::uint64_t>, 3> effects_{};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> bad_requests_{0};
  std::array<std::atomic<std::uint64_t>, latency_bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> sum_us_{0};
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t, std::less<>> clauses_;
};

// Cuts a JSON array's text into the texts of its elements, without parsing them: each is
// decoded where it stands, and its own mistakes are its own. Empty when the text is not
// one array (unbalanced brackets or quotes, or text after it).
std::optional<std::vector<std::string_view>> split_array(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  std::size_t i = 0;
  while (i < text.size() && is_space(text[i]))
    ++i;
  if (i == text.size() || text[i] != '[') return std::nullopt;
  ++i;
  std::vector<std::string_view> items;
  std::size_t start = i;
  int depth = 0;
  bool in_string = false;
  bool closed = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (depth == 0 && (c == ',' || c == ']')) {
      std::string_view item = text.substr(start, i - start);
      while (!item.empty() && is_space(item.front()))
        item.remove_prefix(1);
      while (!item.empty() && is_space(item.back()))
        item.remove_suffix(1);
      if (item.empty() && !(c == ']' && items.empty())) return std::nullopt;  // `[1,,2]`, `[1,]`
      if (!item.empty()) items.push_back(item);
      start = i + 1;
      if (c == ']') {
        closed = true;
        ++i;
        break;
      }
    }
  }
  while (i < text.size() && is_space(text[i]))
    ++i;
  if (!closed || in_string || i != text.size()) return std::nullopt;
  return items;
}

// A decision as the service answers it: the decision JSON plus the policy it came from.
void append_decision(std::string& out, const Decision& d) {
  append_json(out, d);
  out.pop_back();  // the closing brace: the policy fields go inside
  out += fmt::format(R"(,"policy_version":{},"policy_hash":{}}})",
                     nlohmann::json(std::string(d.policy_version)).dump(),
                     nlohmann::json(std::string(d.policy_hash)).dump());
}

void json_error(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", std::string(message)}}.dump() + "\n",
                  "application/json");
}

struct Service {
  PolicyStore store;
  std::optional<DecisionLog> log;
  Metrics metrics;
  std::size_t max_batch = 10000;

  Decision decide(const Policy& policy, std::string_view text,
                  std::map<std::string, std::uint64_t, std::less<>>& clauses) {
    Decision d = policy.evaluate_json(text);
    metrics.decided(d);
    ++clauses[std::string(d.clause)];
    if (log) log->record(text, d);
    return d;
  }

  void decide_one(const httplib::Request& req, httplib::Response& res) {
    const auto start = Clock::now();
    const Policy policy = store.current();  // one snapshot for the whole call
    std::map<std::string, std::uint64_t, std::less<>> clauses;
    const Decision d = decide(policy, req.body, clauses);
    metrics.by_clause(clauses);
    std::string out;
    append_decision(out, d);
    out += '\n';
    // A request that cannot be decided is the caller's mistake: 400, with the denial.
    res.status = d.error.empty() ? 200 : 400;
    if (!d.error.empty()) metrics.bad_request();
    res.set_content(out, "application/json");
    metrics.latency(std::chrono::duration<double>(Clock::now() - start).count());
  }

  void decide_batch(const httplib::Request& req, httplib::Response& res) {
    const auto start = Clock::now();
    const auto items = split_array(req.body);
    if (!items) {
      metrics.bad_request();
      return json_error(res, 400, "a batch is a JSON array of requests");
    }
    if (items->size() > max_batch) {
      metrics.bad_request();
      return json_error(res, 413,
                        fmt::format("a batch holds at most {} requests; this one has {}", max_batch,
                                    items->size()));
    }
    const Policy policy = store.current();  // every item decided by the same version
    std::map<std::string, std::uint64_t, std::less<>> clauses;
    std::string out = "{\"decisions\":[";
    out.reserve(items->size() * 256);
    for (std::size_t i = 0; i < items->size(); ++i) {
      if (i > 0) out += ',';
      append_decision(out, decide(policy, (*items)[i], clauses));
    }
    out += "]}\n";
    metrics.by_clause(clauses);
    res.set_content(out, "application/json");
    metrics.latency(std::chrono::duration<double>(Clock::now() - start).count());
  }

  void policy_info(httplib::Response& res) {
    const Policy policy = store.current();
    nlohmann::json clauses = nlohmann::json::array();
    for (const auto& [id, words] : policy.clauses())
      clauses.push_back({{"id", std::string(id)}, {"words", std::string(words)}});
    res.set_content(nlohmann::json{{"name", std::string(policy.name())},
                                   {"version", std::string(policy.version())},
                                   {"hash", std::string(policy.content_hash())},
                                   {"clauses", std::move(clauses)}}
                            .dump() +
                        "\n",
                    "application/json");
  }

  void reload(httplib::Response& res) {
    auto reloaded = store.reload();
    if (!reloaded) {
      // The file as it is now, for the source lines; it may have changed again since.
      auto source = read_source(store.path(), tool_limits().max_policy_bytes);
      const SourceFile file = source ? *source : SourceFile{store.path(), ""};
      nlohmann::json errors = nlohmann::json::array();
      for (const Diagnostic& d : reloaded.error())
        errors.push_back(render_text(file, {d}));
      const Policy kept = store.current();
      res.status = 422;
      res.set_content(nlohmann::json{{"reloaded", false},
                                     {"version", std::string(kept.version())},
                                     {"hash", std::string(kept.content_hash())},
                                     {"errors", std::move(errors)}}
                              .dump() +
                          "\n",
                      "application/json");
      return;
    }
    res.set_content(nlohmann::json{{"reloaded", true},
                                   {"version", std::string(reloaded->version())},
                                   {"hash", std::string(reloaded->content_hash())}}
                            .dump() +
                        "\n",
                    "application/json");
  }
};

// Any handler's failure becomes a JSON answer, never an exception into the library.
httplib::Server::Handler guarded(
    std::function<void(const httplib::Request&, httplib::Response&)> f) {
  return [f = std::move(f)](const httplib::Request& req, httplib::Response& res) {
    try {
      f(req, res);
    } catch (const std::exception& e) {
      json_error(res, 500, fmt::format("internal error: {}", e.what()));
    }
  };
}

}  // namespace

int run_serve(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    std::fputs(std::string(help_text("serve")).c_str(), stdout);
    return exit_ok;
  }
  Args args(
      argv, {"playground"},
      {"policy", "host", "port", "max-body", "max-batch", "threads", "log", "log-redact", "watch"});
  if (args.error()) return usage_error(*args.error());
  if (!args.positional().empty()) return usage_error("takes no positional arguments");
  const auto policy_path = args.option("policy");
  if (!policy_path) return usage_error("--policy FILE is required");
  const auto number = [&](std::string_view name, std::size_t fallback, std::size_t& out) {
    const auto given = args.count(name, fallback);
    out = given.value_or(0);
    return given.has_value();
  };
  std::size_t port = 0;
  std::size_t max_body = 0;
  std::size_t max_batch = 0;
  std::size_t threads = 0;
  if (!number("port", 8181, port) || port > 65535) return usage_error("--port takes 0 to 65535");
  if (!number("max-body", 1 << 20, max_body) || max_body == 0) {
    return usage_error("--max-body takes a positive number of bytes");
  }
  if (!number("max-batch", tool_limits().max_batch, max_batch) || max_batch == 0) {
    return usage_error("--max-batch takes a positive number");
  }
  if (!number("threads", 8, threads) || threads == 0) {
    return usage_error("--threads takes a positive number");
  }
  std::size_t watch_ms = 0;
  if (!number("watch", 0, watch_ms)) return usage_error("--watch takes milliseconds");
  const std::string host = args.option("host").value_or("127.0.0.1");

  // Signals go to one thread that waits for them: SIGHUP reloads, SIGTERM and SIGINT stop.
  // They are blocked before any thread starts (the log's writer too), so all inherit it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  CompileOptions compile_options;
  compile_options.limits = tool_limits();
  compile_options.limits.max_batch = max_batch;
  auto store = PolicyStore::open(*policy_path, compile_options);
  if (!store) {
    auto source = read_source(*policy_path, tool_limits().max_policy_bytes);
    std::fputs(render_text(source ? *source : SourceFile{*policy_path, ""}, store.error()).c_str(),
               stderr);
    return exit_failed;
  }
  Service service{std::move(*store), std::nullopt, {}, max_batch};
  // Records are dropped (and counted in /metrics) rather than hold a decision up.
  bool log_failed = false;
  service.log = open_decision_log(args, false, log_failed);
  if (log_failed) return exit_failed;

  httplib::Server server;
  server.set_payload_max_length(max_body);
  server.set_tcp_nodelay(true);  // small answers go out at once, not after a delayed ACK
  server.new_task_queue = [threads] {
    return std::make_unique<httplib::ThreadPool>(threads).release();
  };
  server.Post("/v1/decide",
              guarded([&](const auto& req, auto& res) { service.decide_one(req, res); }));
  server.Post("/v1/decide/batch",
              guarded([&](const auto& req, auto& res) { service.decide_batch(req, res); }));
  server.Get("/v1/policy", guarded([&](const auto&, auto& res) { service.policy_info(res); }));
  server.Post("/v1/reload", guarded([&](const auto&, auto& res) { service.reload(res); }));
  server.Get("/healthz", [](const auto&, auto& res) { res.set_content("ok\n", "text/plain"); });
  // Only on request: the page compiles whatever text it is sent.
  if (args.flag("playground")) add_playground_routes(server, service.store);
  server.Get("/metrics", guarded([&](const auto&, auto& res) {
               res.set_content(service.metrics.text(service.store, service.log),
                               "text/plain; version=0.0.4");
             }));
  // Refusals made by the library itself (no route, body too large, malformed HTTP) get a
  // JSON body too; the handlers' own answers pass through untouched.
  server.set_error_handler([&](const auto& req, auto& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      json_error(res, 404, fmt::format("no route {} {}", req.method, req.path));
    } else if (res.status == 413) {
      json_error(res, 413, fmt::format("the body is larger than {} bytes", max_body));
    } else {
      json_error(res, res.status, fmt::format("the request was refused ({})", res.status));
    }
    service.metrics.bad_request();
  });

  const int bound =
      port == 0 ? server.bind_to_any_port(host)
                : (server.bind_to_port(host, static_cast<int>(port)) ? static_cast<int>(port) : -1);
  if (bound < 0) {
    fmt::print(stderr, "clause serve: cannot listen on {}:{}\n", host, port);
    return exit_failed;
  }
  fmt::print("clause serve: listening on {}:{}, policy {} version {}\n", host, bound, *policy_path,
             service.store.current().version());
  if (args.flag("playground"))
    fmt::print("clause serve: playground at http://{}:{}/\n", host, bound);
  std::fflush(stdout);

  std::atomic<bool> stopping{false};
  std::thread signal_thread([&] {
    for (;;) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (signal == SIGHUP) {
        auto reloaded = service.store.reload();
        fmt::print(stderr, "clause serve: reload {}\n",
                   reloaded ? fmt::format("to version {}", reloaded->version())
                            : std::string("failed; the policy in force stays"));
        continue;
      }
      stopping = true;
      server.stop();  // in-flight requests are answered; then listen_after_bind returns
      return;
    }
  });
  // Watching: poll the file's time and size; a change reloads it, as SIGHUP does.
  std::mutex watch_mutex;
  std::condition_variable watch_wake;
  std::thread watcher;
  if (watch_ms > 0) {
    watcher = std::thread([&] {
      std::unique_lock lock(watch_mutex);
      while (!watch_wake.wait_for(lock, std::chrono::milliseconds(watch_ms),
                                  [&] { return stopping.load(); })) {
        std::optional<Result<Policy, std::vector<Diagnostic>>> result;
        if (service.store.reload_if_changed(result)) {
          fmt::print(stderr, "clause serve: the file changed; reload {}\n",
                     *result ? fmt::format("to version {}", (*result)->version())
                             : std::string("failed; the policy in force stays"));
        }
      }
    });
  }
  const bool listened = server.listen_after_bind();
  if (!stopping) kill(getpid(), SIGTERM);  // the server stopped on its own: end the waiter
  signal_thread.join();
  if (watcher.joinable()) {
    {
      const std::lock_guard lock(watch_mutex);  // so the wake-up cannot be missed
    }
    watch_wake.notify_all();
    watcher.join();
  }
  if (service.log) service.log->close();
  fmt::print(stderr, "clause serve: stopped\n");
  return listened || stopping ? exit_ok : exit_failed;
}

}  // namespace clause::cli
