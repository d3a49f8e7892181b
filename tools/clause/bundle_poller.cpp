// The bundle poller of `clause serve --bundle-url`. A fetch runs on the poller's thread with
// cpp-httplib's client; a watchdog cuts it off at --bundle-timeout (or at stop), so a server
// that hangs, or sends a byte a minute, costs one timeout and never holds a stop up.
#include "bundle_poller.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <httplib.h>

#include <array>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

namespace clause::cli {
namespace {

using SystemClock = std::chrono::system_clock;

// What one poll came to, as /metrics counts it.
enum class Outcome : std::size_t {
  activated,      // a new bundle verified, compiled and swapped in
  not_modified,   // 304
  unchanged,      // a body whose content hash is the one in force
  fetch_error,    // no answer, a timeout, an HTTP status other than 200 and 304, too large
  verify_error,   // the signature, the manifest, a file's hash, the archive itself
  compile_error,  // the policy does not compile, or not to the manifest's hash
  check_error,    // it compiles, but does not fit what serving needs (the gateway mapping)
};
constexpr std::array<std::string_view, 7> outcome_names = {
    "activated",    "not_modified",  "unchanged",  "fetch_error",
    "verify_error", "compile_error", "check_error"};

std::string_view stage_of(Outcome o) {
  switch (o) {
    case Outcome::verify_error:
      return "verify";
    case Outcome::compile_error:
      return "compile";
    case Outcome::check_error:
      return "check";
    default:
      return "fetch";
  }
}

std::string rfc3339(SystemClock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(SystemClock::to_time_t(t)));
}

double unix_seconds(SystemClock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// A Prometheus label value: backslash, quote and newline escaped.
std::string label(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"' || c == '\n') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

// Why a fetch got no answer, in words.
std::string why_no_answer(httplib::Error error, std::string_view base) {
  switch (error) {
    case httplib::Error::Connection:
      return fmt::format("cannot connect to {}", base);
    case httplib::Error::Read:
      return fmt::format("the answer of {} could not be read", base);
    case httplib::Error::Write:
      return fmt::format("the request to {} could not be sent", base);
    default:
      return fmt::format("no answer from {} ({})", base, httplib::to_string(error));
  }
}

struct Active {
  std::string name, version, hash, etag, key_id;
  std::size_t bytes = 0;
  SystemClock::time_point at;
};

struct FailureRecord {
  SystemClock::time_point at;
  std::string stage;
  std::string message;
};

// Splits `http://HOST[:PORT]/PATH` into the client's `http://HOST[:PORT]` and the path.
std::optional<std::pair<std::string, std::string>> split_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme) || url.find_first_of(" #") != std::string_view::npos)
    return std::nullopt;
  const std::size_t slash = url.find('/', scheme.size());
  const std::string_view authority =
      url.substr(scheme.size(), slash == std::string_view::npos ? url.npos : slash - scheme.size());
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  return std::pair{
      std::string(url.substr(0, scheme.size() + authority.size())),
      slash == std::string_view::npos ? std::string("/") : std::string(url.substr(slash))};
}

}  // namespace

struct BundlePoller::State {
  State(PolicyStore s, BundleSource src) : store(std::move(s)), source(std::move(src)) {
    const auto parts = split_url(source.url);  // checked by read_bundle_options
    if (parts) std::tie(base, path) = *parts;
  }

  PolicyStore store;
  BundleSource source;
  std::string base, path;  // the URL split for the client

  mutable std::mutex mutex;  // guards everything below
  std::condition_variable wake;
  bool stopping = false;
  std::optional<Active> active;
  std::optional<FailureRecord> failure;
  bool failing = false;  // the last poll failed
  std::array<std::uint64_t, outcome_names.size()> counts{};

  // What one fetch gave: the status and body, or why there was none.
  struct Fetched {
    int status = 0;
    std::string body, etag, error;
  };

  Fetched fetch(const std::string& etag) {
    httplib::Client client(base);
    const auto timeout = source.timeout;
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_keep_alive(false);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // The watchdog: ends the fetch at the deadline or at stop, whichever comes first.
    bool done = false;
    bool cut = false;
    std::thread watchdog([&] {
      std::unique_lock lock(mutex);
      wake.wait_until(lock, deadline, [&] { return done || stopping; });
      if (!done) {
        cut = true;
        lock.unlock();
        client.stop();
      }
    });
    Fetched out;
    bool too_large = false;
    httplib::Headers headers;
    if (!etag.empty()) headers.emplace("If-None-Match", etag);
    const std::size_t max_bytes = source.limits.max_archive_bytes;
    auto res = client.Get(
        path, headers, [](const httplib::Response&) { return true; },
        [&](const char* data, std::size_t n) {
          if (out.body.size() + n > max_bytes) {
            too_large = true;
            return false;
          }
          out.body.append(data, n);
          return true;
        });
    {
      const std::lock_guard lock(mutex);
      done = true;
    }
    wake.notify_all();
    watchdog.join();
    if (too_large) {
      out.error = fmt::format("the bundle is larger than {} bytes", max_bytes);
    } else if (cut) {
      out.error = fmt::format("no whole answer within {} ms (--bundle-timeout)", timeout.count());
    } else if (!res) {
      out.error = why_no_answer(res.error(), base);
    } else {
      out.status = res->status;
      out.etag = res->get_header_value("ETag");
    }
    return out;
  }

  // Verifies and compiles `archive`; installs it when it is new.
  Outcome take(const std::string& archive, const std::string& etag, std::string& error) {
    auto opened = bundle::open(archive, source.key_pem, source.limits);
    if (!opened) {
      error = opened.error();
      return Outcome::verify_error;
    }
    {
      const std::lock_guard lock(mutex);
      if (active && active->hash == opened->manifest.content_hash) {
        active->etag = etag;
        return Outcome::unchanged;
      }
    }
    auto policy = bundle::compile_bundle(*opened, source.options);
    if (!policy) {
      error = policy.error();
      return Outcome::compile_error;
    }
    if (source.accept) {
      if (auto refused = source.accept(*policy)) {
        error = std::move(*refused);
        return Outcome::check_error;
      }
    }
    Active now{std::string(policy->name()),
               std::string(policy->version()),
               std::string(policy->content_hash()),
               etag,
               opened->key_id,
               archive.size(),
               SystemClock::now()};
    const std::lock_guard lock(mutex);
    if (stopping) return Outcome::unchanged;
    // Swapped under the same lock as `active`, so /v1/policy never shows a hash that does
    // not decide.
    store.install(std::move(*policy));
    active = std::move(now);
    return Outcome::activated;
  }

  void poll_once() {
    std::string etag;
    {
      const std::lock_guard lock(mutex);
      if (active) etag = active->etag;  // a rejected bundle is fetched (and refused) again
    }
    const Fetched got = fetch(etag);
    Outcome outcome = Outcome::fetch_error;
    std::string error = got.error;
    if (error.empty()) {
      if (got.status == 304 && !etag.empty()) {
        outcome = Outcome::not_modified;
      } else if (got.status != 200) {
        error = fmt::format("HTTP status {} from {}", got.status, source.url);
      } else {
        outcome = take(got.body, got.etag, error);
      }
    }
    const std::lock_guard lock(mutex);
    if (stopping && outcome == Outcome::fetch_error) return;  // cut short by the stop
    ++counts[static_cast<std::size_t>(outcome)];
    if (!error.empty()) {
      // Said once while it lasts: a bundle server that is down for an hour is not a line a
      // poll.
      const bool again = failing && failure->message == error;
      failing = true;
      failure = FailureRecord{SystemClock::now(), std::string(stage_of(outcome)), error};
      if (!again)
        fmt::print(stderr, "clause serve: bundle {}: {}; {}\n", source.url, error,
                   active ? "the policy in force stays" : "no policy is in force yet");
      return;
    }
    failing = false;
    if (outcome == Outcome::activated) {
      fmt::print(stderr, "clause serve: bundle {}: version {} ({}) in force\n", source.url,
                 active->version, active->hash);
    }
  }

  void loop() {
    for (;;) {
      poll_once();
      std::unique_lock lock(mutex);
      if (wake.wait_for(lock, source.poll, [this] { return stopping; })) return;
    }
  }

  nlohmann::json status() const {
    nlohmann::json out = {{"url", source.url}, {"poll_ms", source.poll.count()}};
    out["active"] = active ? nlohmann::json{{"name", active->name},
                                            {"version", active->version},
                                            {"hash", active->hash},
                                            {"etag", active->etag},
                                            {"key_id", active->key_id},
                                            {"bytes", active->bytes},
                                            {"activated_at", rfc3339(active->at)}}
                           : nlohmann::json(nullptr);
    out["last_failure"] = failure ? nlohmann::json{{"at", rfc3339(failure->at)},
                                                   {"stage", failure->stage},
                                                   {"message", failure->message}}
                                  : nlohmann::json(nullptr);
    nlohmann::json fetches = nlohmann::json::object();
    for (std::size_t i = 0; i < outcome_names.size(); ++i)
      fetches[std::string(outcome_names[i])] = counts[i];
    out["fetches"] = std::move(fetches);
    return out;
  }

  std::string reason() const {
    if (failure) {
      return fmt::format("no policy bundle is in force yet: the last fetch of {} failed: {}",
                         source.url, failure->message);
    }
    return fmt::format("no policy bundle is in force yet: the first fetch of {} has not ended",
                       source.url);
  }
};

std::optional<int> read_bundle_options(const Args& args, std::optional<BundleSource>& out) {
  const auto url = args.option("bundle-url");
  if (!url) {
    for (const char* option : {"bundle-key", "poll", "bundle-timeout"}) {
      if (args.option(option)) {
        return usage_error("serve", fmt::format("--{} goes with --bundle-url URL", option));
      }
    }
    return std::nullopt;
  }
  // These read a file, or read the policy before it exists.
  for (const char* option : {"policy", "watch", "mapping"}) {
    if (args.option(option)) {
      return usage_error("serve", fmt::format("--{} and --bundle-url exclude each other", option));
    }
  }
  if (!split_url(*url)) {
    return usage_error("serve", "--bundle-url takes an http://HOST[:PORT]/PATH URL");
  }
  const auto key_path = args.option("bundle-key");
  if (!key_path) return usage_error("serve", "--bundle-url needs --bundle-key PUBLIC.pem");
  const auto poll = args.count("poll", 10000, 1, 24 * 3600 * 1000);
  const auto timeout = args.count("bundle-timeout", 10000, 1, 3600 * 1000);
  if (!poll || !timeout) {
    return usage_error("serve", "--poll and --bundle-timeout take positive milliseconds");
  }
  std::ifstream file(*key_path, std::ios::binary);
  std::ostringstream key;
  key << file.rdbuf();
  if (!file || key.str().size() > 64 * 1024 || bundle::key_id(key.str()).empty()) {
    fmt::print(stderr, "clause serve: cannot read a public key from {}\n", *key_path);
    return exit_failed;
  }
  out = BundleSource{.url = *url,
                     .key_pem = key.str(),
                     .poll = std::chrono::milliseconds(*poll),
                     .timeout = std::chrono::milliseconds(*timeout),
                     .limits = {},
                     .options = tool_options(),
                     .accept = {}};
  return std::nullopt;
}

BundlePoller::BundlePoller(PolicyStore& store, BundleSource source)
    : state_(std::make_shared<State>(store, std::move(source))) {
  thread_ = std::thread([state = state_] { state->loop(); });
}

BundlePoller::~BundlePoller() {
  stop();
  thread_.join();
}

void BundlePoller::stop() {
  {
    const std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
}

bool BundlePoller::active() const {
  const std::lock_guard lock(state_->mutex);
  return state_->active.has_value();
}

http::Response BundlePoller::not_ready() const {
  const std::lock_guard lock(state_->mutex);
  http::Response res;
  res.status = 503;
  res.body = nlohmann::json{{"effect", "deny"}, {"error", state_->reason()}}.dump(
                 -1, ' ', false, nlohmann::json::error_handler_t::replace) +
             "\n";
  res.headers.emplace_back("Retry-After", "1");
  return res;
}

void BundlePoller::annotate_policy(http::Response& res) const {
  const std::lock_guard lock(state_->mutex);
  auto body = nlohmann::json::parse(res.body, nullptr, false);
  if (!state_->active) {
    res.status = 503;
    body = nlohmann::json{{"error", state_->reason()}};
  }
  body["bundle"] = state_->status();
  res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string BundlePoller::metrics() const {
  const std::lock_guard lock(state_->mutex);
  const State& s = *state_;
  std::string out;
  out += "# HELP clause_bundle_active_info The policy bundle in force.\n";
  out += "# TYPE clause_bundle_active_info gauge\n";
  if (s.active) {
    out += fmt::format("clause_bundle_active_info{{name=\"{}\",version=\"{}\",hash=\"{}\"}} 1\n",
                       label(s.active->name), label(s.active->version), label(s.active->hash));
  }
  out += "# HELP clause_bundle_fetches_total Polls of the bundle URL, by result.\n";
  out += "# TYPE clause_bundle_fetches_total counter\n";
  for (std::size_t i = 0; i < outcome_names.size(); ++i)
    out += fmt::format("clause_bundle_fetches_total{{result=\"{}\"}} {}\n", outcome_names[i],
                       s.counts[i]);
  out += "# HELP clause_bundle_activated_timestamp_seconds When the bundle in force was.\n";
  out += "# TYPE clause_bundle_activated_timestamp_seconds gauge\n";
  out += fmt::format("clause_bundle_activated_timestamp_seconds {}\n",
                     s.active ? unix_seconds(s.active->at) : 0.0);
  out +=
      "# HELP clause_bundle_last_failure_timestamp_seconds When a poll last failed (0: "
      "never).\n";
  out += "# TYPE clause_bundle_last_failure_timestamp_seconds gauge\n";
  out += fmt::format("clause_bundle_last_failure_timestamp_seconds {}\n",
                     s.failure ? unix_seconds(s.failure->at) : 0.0);
  return out;
}

}  // namespace clause::cli
