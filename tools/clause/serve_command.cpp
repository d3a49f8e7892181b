// The command `serve`: an HTTP/JSON decision service on the event-driven server of
// http_server.hpp. Bad input gets a 4xx with an error naming the field; only an internal
// failure (out of memory) could give a 500, which the server makes of any exception.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "bundle_poller.hpp"
#include "clause/authzen.hpp"
#include "clause/json.hpp"
#include "clause/log.hpp"
#include "clause/store.hpp"
#include "cli.hpp"
#include "gateway.hpp"
#include "http_server.hpp"
#include "log_ship_options.hpp"
#include "playground.hpp"

namespace clause::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Upper bounds of the latency histogram, in seconds.
constexpr std::array<double, 10> latency_bounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                   0.0025,  0.005,  0.01,    0.05,   0.25};

// The counts of one call (one request, or one batch), added to the metrics once: threads
// deciding side by side do not share a counter per decision.
struct Tally {
  std::array<std::uint64_t, 3> effects{};
  std::uint64_t errors = 0;
  std::vector<std::pair<std::string, std::uint64_t>> clauses;  // a policy cites few

  void add(const Decision& d) {
    ++effects[static_cast<std::size_t>(d.effect)];
    if (!d.error.empty()) ++errors;
    for (auto& [clause, n] : clauses) {
      if (clause == d.clause) {
        ++n;
        return;
      }
    }
    clauses.emplace_back(std::string(d.clause), 1);
  }
};

class Metrics {
 public:
  void add(const Tally& t) {
    for (std::size_t i = 0; i < t.effects.size(); ++i) {
      if (t.effects[i] > 0) effects_[i].fetch_add(t.effects[i], std::memory_order_relaxed);
    }
    if (t.errors > 0) errors_.fetch_add(t.errors, std::memory_order_relaxed);
    const std::lock_guard lock(mutex_);
    for (const auto& [clause, n] : t.clauses)
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
      out += "# HELP clause_log_lost_total Decision log records whose write failed.\n";
      out += "# TYPE clause_log_lost_total counter\n";
      out += fmt::format("clause_log_lost_total {}\n", log->lost());
      out += "# HELP clause_log_write_errors_total Failed writes to the decision log.\n";
      out += "# TYPE clause_log_write_errors_total counter\n";
      out += fmt::format("clause_log_write_errors_total {}\n", log->write_errors());
      out += "# HELP clause_log_written_total Decision log records written.\n";
      out += "# TYPE clause_log_written_total counter\n";
      out += fmt::format("clause_log_written_total {}\n", log->written());
      out += log_ship_metrics(*log);
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
  bool closed = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      // Strings, most of a batch, are skipped by memchr.
      const std::size_t end = json_string_end(text, i);
      if (end == std::string_view::npos) return std::nullopt;
      i = end - 1;
      continue;
    }
    if (c == '[' || c == '{') {
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
  if (!closed || i != text.size()) return std::nullopt;
  return items;
}

// What every decision of one policy ends with: its version and hash, written once per call.
std::string policy_fields(const Policy& policy) {
  return fmt::format(R"(,"policy_version":{},"policy_hash":{}}})",
                     nlohmann::json(std::string(policy.version())).dump(),
                     nlohmann::json(std::string(policy.content_hash())).dump());
}

// A decision as the service answers it: the request's id (when it has one), the decision
// JSON, and the policy it came from.
void append_decision(std::string& out, std::string_view request, const Decision& d,
                     std::string_view fields) {
  append_json_with_id(out, d, request_id_json(request));
  out.pop_back();  // the closing brace: the policy fields go inside
  out += fields;
}

http::Response json_answer(int status, const nlohmann::json& body) {
  http::Response res;
  res.status = status;
  res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return res;
}

using ReloadResult = Result<Policy, std::vector<Diagnostic>>;

// A refused reload's diagnostics as `clause check` prints them, each with its source lines:
// the policy file's as it is now (it may have changed again since), or the document's
// that a diagnostic in a document carries.
std::vector<std::string> reload_errors(const PolicyStore& store,
                                       const std::vector<Diagnostic>& diagnostics) {
  // Read as the store reads it: a FIFO put in the file's place cannot hang the reloads.
  auto source = read_source(store.path(), ReadOptions{.max_bytes = tool_limits().max_policy_bytes,
                                                      .regular_file_only = true,
                                                      .timeout = std::chrono::seconds(10)});
  const SourceFile file = source ? *source : SourceFile{store.path(), ""};
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics)
    out.push_back(render_text(file, {d}));
  return out;
}

// What a reload by signal or by `--watch` says on stderr after `clause serve: ...reload `:
// the version now in force, or that the old one stays and why, so that an operator who
// sees no HTTP answer still learns which file and line to fix.
std::string reload_outcome(const PolicyStore& store, const ReloadResult& result) {
  if (result) return fmt::format("to version {}\n", result->version());
  std::string out = "failed; the policy in force stays\n";
  for (const std::string& error : reload_errors(store, result.error()))
    out += error;
  return out;
}

// Reloads run on this one thread, so that nothing else ever waits for one: signals,
// health checks and decisions go on while a reload reads a slow file. Requests that come
// while one runs are served together by the next (coalesced); `--watch` polls here too.
class ReloadWorker {
 public:
  // Told the result; null when the worker stopped before it ran.
  using Done = std::function<void(const ReloadResult*)>;

  ReloadWorker(PolicyStore& store, std::size_t watch_ms) : store_(store), watch_ms_(watch_ms) {
    thread_ = std::thread([this] { loop(); });
  }
  ~ReloadWorker() {
    // Only reached once the thread has ended (see wait()); never joins a stuck reload.
    if (thread_.joinable()) thread_.join();
  }
  ReloadWorker(const ReloadWorker&) = delete;
  ReloadWorker& operator=(const ReloadWorker&) = delete;

  void request(Done done) {
    {
      const std::lock_guard lock(mutex_);
      if (!stopping_) {
        pending_.push_back(std::move(done));
        wake_.notify_all();
        return;
      }
    }
    done(nullptr);
  }
  // Asks the thread to end; waiters not yet served are told so.
  void stop() {
    std::vector<Done> left;
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
      left.swap(pending_);
      wake_.notify_all();
    }
    for (auto& done : left)
      done(nullptr);
  }
  // Whether the thread ended by `deadline` (it is joined then).
  bool wait(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (!finished_wake_.wait_until(lock, deadline, [this] { return finished_; })) return false;
    lock.unlock();
    thread_.join();
    return true;
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (pending_.empty()) {
        const auto ready = [this] { return stopping_ || !pending_.empty(); };
        if (watch_ms_ == 0) {
          wake_.wait(lock, ready);
        } else if (!wake_.wait_for(lock, std::chrono::milliseconds(watch_ms_), ready)) {
          lock.unlock();
          std::optional<ReloadResult> result;
          if (store_.reload_if_changed(result)) {
            fmt::print(stderr, "clause serve: the file changed; reload {}",
                       reload_outcome(store_, *result));
          }
          lock.lock();
        }
        continue;
      }
      std::vector<Done> batch;
      batch.swap(pending_);
      lock.unlock();
      const ReloadResult result = store_.reload();
      for (auto& done : batch)
        done(&result);
      lock.lock();
    }
    finished_ = true;
    finished_wake_.notify_all();
  }

  PolicyStore& store_;
  std::size_t watch_ms_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable finished_wake_;
  std::vector<Done> pending_;
  bool stopping_ = false;
  bool finished_ = false;
  std::thread thread_;
};

struct Service {
  PolicyStore store;
  std::optional<DecisionLog> log;
  Metrics metrics;
  std::size_t max_batch = 10000;
  std::optional<SqlMapping> mapping;  // --mapping: where plans' fields stand in a database
  bool authzen_context = true;        // --authzen-context
  std::optional<std::string> authzen_issuer;
  std::mutex evaluator_mutex;
  std::shared_ptr<const authzen::Evaluator> reader;  // for the policy in force
  const BundlePoller* bundles = nullptr;             // --bundle-url

  // The AuthZEN reader of the policy in force, made again after a reload. A policy's hash
  // text lives in its compiled form, which the reader keeps alive: the same address is
  // the same compiled policy.
  std::shared_ptr<const authzen::Evaluator> authzen_evaluator() {
    const Policy policy = store.current();
    const std::lock_guard lock(evaluator_mutex);
    if (!reader || reader->policy().content_hash().data() != policy.content_hash().data()) {
      reader = std::make_shared<const authzen::Evaluator>(policy);
    }
    return reader;
  }

  void record(const authzen::Evaluation& e, std::string_view body, Tally& tally) {
    tally.add(e.decision);
    if (log) log->record(e.request.empty() ? body : std::string_view(e.request), e.decision);
  }

  void authzen_one(const http::Request& req, http::Response& res) {
    const auto start = Clock::now();
    const auto evaluator = authzen_evaluator();
    const auto evaluation = evaluator->evaluate(req.body);
    if (!evaluation) {
      res = refuse(400, evaluation.error().to_string());
      return;
    }
    Tally tally;
    record(*evaluation, req.body, tally);
    metrics.add(tally);
    res.body.reserve(384);
    authzen::append_json(res.body, *evaluation, authzen_context);
    res.body += '\n';
    metrics.latency(std::chrono::duration<double>(Clock::now() - start).count());
  }

  void authzen_batch(const http::Request& req, http::Response& res) {
    const auto start = Clock::now();
    const auto evaluator = authzen_evaluator();
    const auto evaluations = evaluator->evaluate_all(req.body, max_batch);
    if (!evaluations) {
      res = refuse(400, evaluations.error().to_string());
      return;
    }
    Tally tally;
    for (const auto& e : evaluations->items)
      record(e, req.body, tally);
    metrics.add(tally);
    std::string out;
    out.reserve(evaluations->items.size() * (authzen_context ? 384 : 20) + 32);
    if (evaluations->single) {
      authzen::append_json(out, evaluations->items.front(), authzen_context);
    } else {
      out += "{\"evaluations\":[";
      for (std::size_t i = 0; i < evaluations->items.size(); ++i) {
        if (i > 0) out += ',';
        authzen::append_json(out, evaluations->items[i], authzen_context);
      }
      out += "]}";
    }
    out += '\n';
    res.body = std::move(out);
    metrics.latency(std::chrono::duration<double>(Clock::now() - start).count());
  }

  // A search decides one request per candidate: each counts as a decision; the log, which
  // holds one record per request decided, is not written a record per candidate.
  void authzen_search(const http::Request& req, http::Response& res, authzen::SearchKind kind) {
    const auto start = Clock::now();
    const auto evaluator = authzen_evaluator();
    const auto search = evaluator->search(kind, req.body);
    if (!search) {
      res = refuse(400, search.error().to_string());
      return;
    }
    Tally tally;
    tally.effects[static_cast<std::size_t>(Effect::allow)] = search->total;
    tally.effects[static_cast<std::size_t>(Effect::deny)] = search->decided - search->total;
    if (search->error) tally.errors = 1;
    metrics.add(tally);
    res.body.reserve(search->ids.size() * 40 + 64);
    authzen::append_json(res.body, *search, authzen_context);
    res.body += '\n';
    metrics.latency(std::chrono::duration<double>(Clock::now() - start).count());
  }

  // The AuthZEN metadata: the base URL is --authzen-issuer, or the one the client used.
  http::Response authzen_metadata(const http::Request& req, std::string_view own_host) const {
    std::string base;
    if (authzen_issuer) {
      base = *authzen_issuer;
    } else {
      const auto host = req.header("Host");
      // Only a host name, an address and a port: anything else is not echoed.
      const bool plain = host && !host->empty() && host->size() <= 255 &&
                         std::all_of(host->begin(), host->end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                                  c == '-' || c == ':' || c == '[' || c == ']';
                         });
      base = fmt::format("http://{}", plain ? *host : own_host);
    }
    return json_answer(200, nlohmann::json{
                                {"policy_decision_point", base},
                                {"access_evaluation_endpoint", base + "/access/v1/evaluation"},
                                {"access_evaluations_endpoint", base + "/access/v1/evaluations"},
                                {"search_subject_endpoint", base + "/access/v1/search/subject"},
                                {"search_resource_endpoint", base + "/access/v1/search/resource"},
                                {"search_action_endpoint", base + "/access/v1/search/action"},
                            });
  }

  Decision decide(const Policy& policy, std::string_view text, Tally& tally) {
    Decision d = policy.evaluate_json(text);
    tally.add(d);
    if (log) log->record(text, d);
    return d;
  }

  // A decision of the gateway routes (gateway.hpp), logged and counted as the others are.
  void record_gateway(std::string_view text, const Decision& d, double seconds) {
    Tally tally;
    tally.add(d);
    metrics.add(tally);
    if (log) log->record(text, d);
    metrics.latency(seconds);
  }

  http::Response refuse(int status, std::string_view message) {
    metrics.bad_request();
    return http::json_error(status, message);
  }

  void decide_one(const http::Request& req, http::Response& res) {
    const auto start = Clock::now();
    const Policy policy = store.current();  // one snapshot for the whole call
    Tally tally;
    const Decision d = decide(policy, req.body, tally);
    metrics.add(tally);
    res.body.reserve(320);
    append_decision(res.body, req.body, d, policy_fields(policy));
    res.body += '\n';
    // A request that cannot be decided is the caller's mistake: 400, with the denial.
    res.status = d.error.empty() ? 200 : 400;
    if (!d.error.empty()) metrics.bad_request();
    metrics.latency(std::chrono::duration<double>(Clock::now() - start).count());
  }

  void decide_batch(const http::Request& req, http::Response& res) {
    const auto start = Clock::now();
    const auto items = split_array(req.body);
    if (!items) {
      res = refuse(400, "a batch is a JSON array of requests");
      return;
    }
    if (items->size() > max_batch) {
      res = refuse(413, fmt::format("a batch holds at most {} requests; this one has {}", max_batch,
                                    items->size()));
      return;
    }
    const Policy policy = store.current();  // every item decided by the same version
    Tally tally;
    std::string out = "{\"decisions\":[";
    out.reserve(items->size() * 256);
    const std::string fields = policy_fields(policy);
    for (std::size_t i = 0; i < items->size(); ++i) {
      if (i > 0) out += ',';
      append_decision(out, (*items)[i], decide(policy, (*items)[i], tally), fields);
    }
    out += "]}\n";
    metrics.add(tally);
    res.body = std::move(out);
    metrics.latency(std::chrono::duration<double>(Clock::now() - start).count());
  }

  // A plan is not a decision: it is neither logged nor counted as one.
  void plan_one(const http::Request& req, http::Response& res) {
    const Policy policy = store.current();  // one snapshot for the whole call
    const auto plan = clause::plan_json(policy, req.body);
    if (!plan) {
      res = refuse(400, plan.error().to_string());
      return;
    }
    res = json_answer(200, plan_json_report(*plan));
  }

  // A plan as a SQL filter over the columns of --mapping.
  void sql_one(const http::Request& req, http::Response& res, SqlDialect dialect) {
    const Policy policy = store.current();
    const auto plan = clause::plan_json(policy, req.body);
    if (!plan) {
      res = refuse(400, plan.error().to_string());
      return;
    }
    const auto filter = sql_filter(policy, *plan, *mapping, dialect);
    if (!filter) {
      // An entry of the mapping that no longer fits the policy in force (a reload changed
      // its fields) is the server's setup; a field the request leaves open that the
      // mapping does not map, the request's.
      if (filter.error().field.starts_with("fields[")) {
        res = http::json_error(500, "the mapping: " + filter.error().to_string());
      } else {
        res = refuse(400, filter.error().to_string());
      }
      return;
    }
    res = json_answer(200, sql_json_report(*plan, *filter));
  }

  http::Response policy_info() const {
    const Policy policy = store.current();
    nlohmann::json clauses = nlohmann::json::array();
    for (const auto& [id, words] : policy.clauses())
      clauses.push_back({{"id", std::string(id)}, {"words", std::string(words)}});
    return json_answer(200, nlohmann::json{{"name", std::string(policy.name())},
                                           {"version", std::string(policy.version())},
                                           {"hash", std::string(policy.content_hash())},
                                           {"clauses", std::move(clauses)}});
  }

  http::Response reload_answer(const ReloadResult* reloaded) const {
    if (reloaded == nullptr) return http::json_error(503, "the server is stopping");
    if (!*reloaded) {
      const Policy kept = store.current();
      return json_answer(422, nlohmann::json{{"reloaded", false},
                                             {"version", std::string(kept.version())},
                                             {"hash", std::string(kept.content_hash())},
                                             {"errors", reload_errors(store, reloaded->error())}});
    }
    return json_answer(200, nlohmann::json{{"reloaded", true},
                                           {"version", std::string((*reloaded)->version())},
                                           {"hash", std::string((*reloaded)->content_hash())}});
  }
};

// Equal texts, in a time that does not depend on where they first differ.
bool same_secret(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = given.empty() ? '\0' : given[i % given.size()];
    diff |= static_cast<unsigned char>(g ^ expected[i]);
  }
  return diff == 0;
}

// Who may reach the admin and playground routes: a browser page from elsewhere must not
// (DNS rebinding names another host; a cross-site form sends another Origin), and reload
// needs the bearer token of --admin-token.
struct Gate {
  std::vector<std::string> hosts;  // the Host values that name this server
  std::optional<std::string> token;
  Metrics* metrics = nullptr;

  std::optional<http::Response> refuse(int status, std::string_view message) const {
    metrics->bad_request();
    return http::json_error(status, message);
  }
  std::optional<http::Response> same_origin(const http::Request& req, bool json_body) const {
    const auto host = req.header("Host");
    const auto named = [&](std::string_view h) {
      return std::any_of(hosts.begin(), hosts.end(), [&](const std::string& allowed) {
        return h.size() == allowed.size() &&
               std::equal(h.begin(), h.end(), allowed.begin(), [](char a, char b) {
                 return std::tolower(static_cast<unsigned char>(a)) ==
                        std::tolower(static_cast<unsigned char>(b));
               });
      });
    };
    if (!host || !named(*host)) {
      return refuse(403, fmt::format("the Host header must name this server ({})", hosts.front()));
    }
    if (const auto origin = req.header("Origin")) {
      const std::string_view scheme = "http://";
      if (!origin->starts_with(scheme) || !named(origin->substr(scheme.size()))) {
        return refuse(
            403, fmt::format("the Origin header must be this server's (http://{})", hosts.front()));
      }
    }
    if (json_body && !http::has_json_body(req)) {
      return refuse(415, "the body must be JSON: send Content-Type: application/json");
    }
    return std::nullopt;
  }
  std::optional<http::Response> admin(const http::Request& req) const {
    if (auto refused = same_origin(req, false)) return refused;
    const auto auth = req.header("Authorization");
    const std::string_view scheme = "Bearer ";
    if (!auth || auth->size() < scheme.size() ||
        !std::equal(scheme.begin(), scheme.end(), auth->begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      auto res = refuse(401, "reload needs the header Authorization: Bearer TOKEN (--admin-token)");
      res->headers.emplace_back("WWW-Authenticate", "Bearer");
      return res;
    }
    if (!same_secret(auth->substr(scheme.size()), *token)) {
      return refuse(403, "the bearer token is not the admin token");
    }
    if (!http::has_json_body(req)) {
      return refuse(415, "the body must be JSON: send Content-Type: application/json");
    }
    return std::nullopt;
  }
};

// Wraps a handler of a route that takes a JSON body.
http::Handler json_route(Service& service,
                         std::function<void(const http::Request&, http::Response&)> f) {
  return [&service, f = std::move(f)](const http::Request& req, http::Response& res) {
    if (!http::has_json_body(req)) {
      res = service.refuse(415, "the body must be JSON: send Content-Type: application/json");
      return;
    }
    if (service.bundles && !service.bundles->active()) {
      res = service.bundles->not_ready();  // fail closed until a bundle is in force
      return;
    }
    f(req, res);
  };
}

// AuthZEN answers carry the caller's X-Request-ID, refusals too.
void echo_request_id(const http::Request& req, http::Response& res) {
  if (const auto id = req.header("X-Request-ID")) {
    res.headers.emplace_back("X-Request-ID", std::string(*id));
  }
}

// Wraps a handler of an AuthZEN route: a JSON body, and the request id echoed.
http::Handler authzen_route(Service& service,
                            std::function<void(const http::Request&, http::Response&)> f) {
  return
      [inner = json_route(service, std::move(f))](const http::Request& req, http::Response& res) {
        inner(req, res);
        echo_request_id(req, res);
      };
}

bool is_loopback(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]" ||
         host.starts_with("127.");
}

}  // namespace

int run_serve(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("serve");
  }
  Args args(argv, "serve");
  if (args.error()) return usage_error("serve", *args.error());
  if (!args.positional().empty()) return usage_error("serve", "takes no positional arguments");
  const auto policy_path = args.option("policy");
  std::optional<BundleSource> bundle_source;
  if (const auto refused = read_bundle_options(args, bundle_source)) return *refused;
  if (!policy_path && !bundle_source)
    return usage_error("serve", "--policy FILE or --bundle-url URL is required");
  // Reads `--name` into `out` (from `min` to `max`); false when the value is not one.
  const auto number = [&](std::string_view name, std::size_t fallback, std::size_t min,
                          std::size_t max, std::size_t& out) {
    const auto given = args.count(name, fallback, min, max);
    out = given.value_or(0);
    return given.has_value();
  };
  constexpr std::size_t any = SIZE_MAX;
  std::size_t port = 0;
  std::size_t max_body = 0;
  std::size_t max_batch = 0;
  std::size_t threads = 0;
  if (!number("port", 8181, 0, 65535, port)) return usage_error("serve", "--port takes 0 to 65535");
  if (!number("max-body", 1 << 20, 1, any, max_body)) {
    return usage_error("serve", "--max-body takes a positive number of bytes");
  }
  if (!number("max-batch", tool_limits().max_batch, 1, any, max_batch)) {
    return usage_error("serve", "--max-batch takes a positive number");
  }
  if (!number("threads", 2, 1, 256, threads)) {
    return usage_error("serve", "--threads takes 1 to 256");
  }
  std::size_t watch_ms = 0;
  if (!number("watch", 0, 0, any, watch_ms))
    return usage_error("serve", "--watch takes milliseconds");
  http::Options options;
  std::size_t drain_ms = 0;
  std::size_t max_connections = 0;
  std::size_t header_ms = 0;
  std::size_t body_ms = 0;
  std::size_t idle_ms = 0;
  if (!number("drain-timeout", 5000, 0, any, drain_ms)) {
    return usage_error("serve", "--drain-timeout takes milliseconds");
  }
  if (!number("max-connections", 256, 1, any, max_connections)) {
    return usage_error("serve", "--max-connections takes a positive number");
  }
  if (!number("header-timeout", 10000, 1, any, header_ms) ||
      !number("body-timeout", 30000, 1, any, body_ms) ||
      !number("idle-timeout", 60000, 1, any, idle_ms)) {
    return usage_error(
        "serve", "--header-timeout, --body-timeout and --idle-timeout take positive milliseconds");
  }
  const std::string host = args.option("host").value_or("127.0.0.1");
  const bool playground = args.flag("playground");
  if (playground && !is_loopback(host) && !args.flag("allow-remote-playground")) {
    return usage_error(
        "serve",
        "--playground serves only on a loopback address (add --allow-remote-playground to "
        "serve it on " +
            host + ")");
  }
  std::optional<std::string> admin_token;
  if (const auto token_path = args.option("admin-token")) {
    auto text = read_request_text(*token_path);
    std::string token = text.value_or("");
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
      token.pop_back();
    if (token.empty()) {
      fmt::print(stderr, "clause serve: cannot read an admin token from {}\n", *token_path);
      return exit_failed;
    }
    admin_token = std::move(token);
  }
  options.host = host;
  options.port = static_cast<unsigned short>(port);
  options.threads = threads;
  options.max_body = max_body;
  options.max_connections = max_connections;
  options.header_timeout = std::chrono::milliseconds(header_ms);
  options.body_timeout = std::chrono::milliseconds(body_ms);
  options.idle_timeout = std::chrono::milliseconds(idle_ms);
  options.write_timeout = std::chrono::milliseconds(body_ms);
  const auto drain = std::chrono::milliseconds(drain_ms);

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
  if (bundle_source) bundle_source->options = compile_options;
  auto store =
      bundle_source
          ? Result<PolicyStore, std::vector<Diagnostic>>(PolicyStore::empty(compile_options))
          : PolicyStore::open(*policy_path, compile_options);
  if (!store) {
    auto source = read_source(*policy_path, tool_limits().max_policy_bytes);
    std::fputs(render_text(source ? *source : SourceFile{*policy_path, ""}, store.error()).c_str(),
               stderr);
    return exit_failed;
  }
  Service service{std::move(*store), std::nullopt, {},      max_batch, std::nullopt, true,
                  std::nullopt,      {},           nullptr, nullptr};
  if (const auto context = args.option("authzen-context")) {
    if (*context != "on" && *context != "off") {
      return usage_error("serve", "--authzen-context takes on or off");
    }
    service.authzen_context = *context == "on";
  }
  if (auto issuer = args.option("authzen-issuer")) {
    while (issuer->ends_with('/'))
      issuer->pop_back();
    if (!(issuer->starts_with("https://") || issuer->starts_with("http://")) ||
        issuer->find_first_of("?# ") != std::string::npos) {
      return usage_error("serve",
                         "--authzen-issuer takes an http:// or https:// URL without query or "
                         "fragment");
    }
    service.authzen_issuer = std::move(*issuer);
  }
  if (const auto mapping_path = args.option("mapping")) {
    const auto text = read_request_text(*mapping_path);
    if (!text) {
      fmt::print(stderr, "clause serve: cannot read the mapping `{}`\n", *mapping_path);
      return exit_failed;
    }
    auto mapping = read_sql_mapping(service.store.current(), *text);
    if (!mapping) {
      fmt::print(stderr, "clause serve: {}: the mapping is not valid: {}\n", *mapping_path,
                 mapping.error().to_string());
      return exit_failed;
    }
    service.mapping = std::move(*mapping);
  }
  std::optional<gateway::MappingSource> gateway_mappings;
  if (const auto gateway_path = args.option("gateway")) {
    const auto text = read_request_text(*gateway_path);
    if (!text) {
      fmt::print(stderr, "clause serve: cannot read the gateway mapping `{}`\n", *gateway_path);
      return exit_failed;
    }
    gateway_mappings.emplace(*gateway_path, *text);
    if (bundle_source) {
      // No policy yet: each bundle is checked against the mapping before it is swapped in.
      bundle_source->accept = [mappings = *gateway_mappings](const Policy& policy) {
        auto built = mappings.for_policy(policy);
        return built ? std::optional<std::string>() : std::optional<std::string>(built.error());
      };
    } else if (auto built = gateway_mappings->for_policy(service.store.current()); !built) {
      fmt::print(stderr, "clause serve: {}\n", built.error());
      return exit_failed;
    }
  }
  // Records are dropped (and counted in /metrics) rather than hold a decision up, unless
  // --log-block asks deciding to wait for the log.
  for (const char* option : {"log-max-bytes", "log-keep"}) {
    if (args.option(option) && !args.option("log")) {
      return usage_error("serve", fmt::format("--{} goes with --log FILE", option));
    }
  }
  for (const char* option : {"log-buffer", "log-buffer-bytes", "log-batch", "log-flush"}) {
    if (args.option(option) && !args.option("log-url")) {
      return usage_error("serve", fmt::format("--{} goes with --log-url URL", option));
    }
  }
  if ((args.flag("log-block") || args.option("log-redact")) && !args.option("log") &&
      !args.option("log-url")) {
    return usage_error("serve", "--log-block and --log-redact go with --log FILE or --log-url");
  }
  bool log_failed = false;
  service.log = open_decision_log(args, false, log_failed);
  if (log_failed) return exit_failed;

  http::Server server(options);
  std::string listen_error;
  if (!server.listen(listen_error)) {
    fmt::print(stderr, "clause serve: cannot listen on {}:{}: {}\n", host, port, listen_error);
    return exit_failed;
  }
  const unsigned short bound = server.port();
  Gate gate;
  gate.metrics = &service.metrics;
  gate.token = admin_token;
  const std::string given = host.find(':') != std::string::npos && !host.starts_with('[')
                                ? fmt::format("[{}]:{}", host, bound)
                                : fmt::format("{}:{}", host, bound);
  gate.hosts = {given, fmt::format("127.0.0.1:{}", bound), fmt::format("localhost:{}", bound),
                fmt::format("[::1]:{}", bound)};

  server.on_refused([&service](int) { service.metrics.bad_request(); });
  server.route("POST", "/v1/decide", json_route(service, [&](const auto& req, auto& res) {
                 service.decide_one(req, res);
               }));
  server.route("POST", "/v1/decide/batch", json_route(service, [&](const auto& req, auto& res) {
                 service.decide_batch(req, res);
               }));
  server.route("POST", "/v1/plan", json_route(service, [&](const auto& req, auto& res) {
                 service.plan_one(req, res);
               }));
  if (service.mapping) {
    for (const SqlDialect dialect : {SqlDialect::postgres, SqlDialect::sqlite}) {
      server.route("POST", fmt::format("/v1/sql/{}", to_string(dialect)),
                   json_route(service, [&service, dialect](const auto& req, auto& res) {
                     service.sql_one(req, res, dialect);
                   }));
    }
  }
  if (gateway_mappings) {
    gateway::add_routes(server, *gateway_mappings,
                        {[&service] { return service.store.current(); },
                         [&service](std::string_view text, const Decision& d, double seconds) {
                           service.record_gateway(text, d, seconds);
                         }});
  }
  server.route(
      "POST", "/access/v1/evaluation",
      authzen_route(service, [&](const auto& req, auto& res) { service.authzen_one(req, res); }));
  server.route(
      "POST", "/access/v1/evaluations",
      authzen_route(service, [&](const auto& req, auto& res) { service.authzen_batch(req, res); }));
  for (const auto kind :
       {authzen::SearchKind::subject, authzen::SearchKind::resource, authzen::SearchKind::action}) {
    server.route("POST", fmt::format("/access/v1/search/{}", authzen::to_string(kind)),
                 authzen_route(service, [&service, kind](const auto& req, auto& res) {
                   service.authzen_search(req, res, kind);
                 }));
  }
  server.route("GET", "/.well-known/authzen-configuration",
               [&](const http::Request& req, http::Response& res) {
                 res = service.authzen_metadata(req, given);
                 echo_request_id(req, res);
               });
  std::optional<BundlePoller> bundles;
  server.route("GET", "/v1/policy", [&](const http::Request&, http::Response& res) {
    res = service.policy_info();
    if (bundles) bundles->annotate_policy(res);
  });
  server.route("GET", "/healthz", [&](const http::Request&, http::Response& res) {
    res.content_type = "text/plain";
    const bool ready = !bundles || bundles->active();  // a load balancer waits for a bundle
    res.status = ready ? 200 : 503;
    res.body = ready ? "ok\n" : "no policy bundle is in force yet\n";
  });
  server.route("GET", "/metrics", [&](const http::Request&, http::Response& res) {
    res.content_type = "text/plain; version=0.0.4";
    res.body = service.metrics.text(service.store, service.log);
    if (bundles) res.body += bundles->metrics();
  });
  ReloadWorker reloader(service.store, watch_ms);
  // Only with a token: anyone who can reach the port could swap the policy otherwise.
  if (admin_token) {
    server.route_async("POST", "/v1/reload", [&](const http::Request& req, http::Reply reply) {
      if (auto refused = gate.admin(req)) return reply(std::move(*refused));
      reloader.request(
          [&service, reply](const ReloadResult* result) { reply(service.reload_answer(result)); });
    });
  }
  // Only on request: the page compiles whatever text it is sent.
  if (playground) {
    add_playground_routes(server, service.store, [&gate](const http::Request& req, bool json_body) {
      return gate.same_origin(req, json_body);
    });
  }

  if (bundle_source) {
    fmt::print("clause serve: listening on {}:{}, policy from bundle {} every {} ms\n", host, bound,
               bundle_source->url, bundle_source->poll.count());
    service.bundles = &bundles.emplace(service.store, std::move(*bundle_source));
  } else {
    fmt::print("clause serve: listening on {}:{}, policy {} version {}\n", host, bound,
               *policy_path, service.store.current().version());
  }
  if (playground) fmt::print("clause serve: playground at http://{}/\n", given);
  std::fflush(stdout);

  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> stopped_at{0};  // steady-clock ticks of the stop signal
  std::thread signal_thread([&] {
    for (;;) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (signal == SIGHUP) {
        // A log moved away (by logrotate) is followed by a new file at its path.
        if (service.log) service.log->reopen();
        reloader.request([&service](const ReloadResult* reloaded) {
          if (reloaded == nullptr) return;
          fmt::print(stderr, "clause serve: reload {}", reload_outcome(service.store, *reloaded));
        });
        continue;
      }
      stopped_at = Clock::now().time_since_epoch().count();
      stopping = true;
      // Neither waits: a reload that hangs cannot hold the stop up.
      server.stop(drain);
      reloader.stop();
      if (bundles) bundles->stop();
      return;
    }
  });
  server.run();
  if (!stopping) kill(getpid(), SIGTERM);  // the server stopped on its own: end the waiter
  signal_thread.join();
  const auto deadline = Clock::time_point(Clock::duration(stopped_at.load())) + drain;
  const bool reload_ended = reloader.wait(std::max(deadline, Clock::now()));
  if (service.log) service.log->close();
  if (!reload_ended) {
    // A reload is stuck reading the file: end without it rather than wait forever. Nothing
    // else runs; the log is written and closed.
    fmt::print(stderr, "clause serve: a reload did not finish; stopped without it\n");
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(exit_ok);
  }
  fmt::print(stderr, "clause serve: stopped\n");
  return exit_ok;
}

}  // namespace clause::cli
