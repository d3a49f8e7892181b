// Stage: serve. The decision log: callers copy a record into a bounded queue; one writer
// thread formats batches, writes them with one system call, rotates by size, and on close
// drains the queue and fsyncs, so that every record accepted is on disk.
#include "clause/log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace clause {
namespace {

using Clock = std::chrono::system_clock;

struct Record {
  Clock::time_point time;
  Effect effect = Effect::deny;
  std::string request, clause, rule, consent, error, version, hash;
};

std::string utc_time(Clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(ms.count() % 1000));
}

// Replaces the fields named by dotted paths with "[redacted]"; `context.*` takes them all.
void redact(nlohmann::ordered_json& request, const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    nlohmann::ordered_json* at = &request;
    std::string_view rest = path;
    while (at != nullptr && at->is_object()) {
      const std::size_t dot = rest.find('.');
      const std::string key(rest.substr(0, dot));
      if (key == "*") {
        for (auto& [name, value] : at->items())
          value = "[redacted]";
        break;
      }
      auto it = at->find(key);
      if (it == at->end()) break;
      if (dot == std::string_view::npos) {
        *it = "[redacted]";
        break;
      }
      at = &*it;
      rest = rest.substr(dot + 1);
    }
  }
}

}  // namespace

struct DecisionLog::State {
  DecisionLogOptions options;
  int fd = -1;
  std::uint64_t size = 0;  // bytes in the current file
  std::mutex mutex;
  std::condition_variable has_records;
  std::condition_variable has_room;
  std::deque<Record> queue;
  bool closing = false;
  std::thread writer;
  std::mutex close_mutex;
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> errors{0};

  ~State() { stop(); }

  void stop() noexcept {
    const std::lock_guard once(close_mutex);
    {
      const std::lock_guard lock(mutex);
      closing = true;
    }
    has_records.notify_all();
    has_room.notify_all();
    if (writer.joinable()) writer.join();
    if (fd >= 0) {
      if (::fsync(fd) != 0) errors.fetch_add(1);
      ::close(fd);
      fd = -1;
    }
  }

  std::string format(const Record& r) const {
    nlohmann::ordered_json line = nlohmann::ordered_json::object();
    line["time"] = utc_time(r.time);
    auto request = nlohmann::ordered_json::parse(r.request, nullptr, false);
    if (request.is_discarded()) {
      // Not JSON: kept as text, since the log must show what was asked.
      line["request_text"] = options.redact.empty() ? r.request : "[redacted]";
    } else {
      redact(request, options.redact);
      line["request"] = std::move(request);
    }
    line["decision"] = std::string(to_string(r.effect));
    line["clause"] = r.clause;
    line["rule"] = r.rule;
    if (!r.consent.empty()) line["consent"] = r.consent;
    if (!r.error.empty()) line["error"] = r.error;
    line["policy_version"] = r.version;
    line["policy_hash"] = r.hash;
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  }

  // FILE becomes FILE.1, FILE.1 becomes FILE.2 ..., the oldest beyond keep_rotated goes.
  void rotate() {
    if (fd >= 0) {
      if (::fsync(fd) != 0) errors.fetch_add(1);
      ::close(fd);
    }
    const std::string& path = options.path;
    const std::size_t keep = std::max<std::size_t>(1, options.keep_rotated);
    std::remove(fmt::format("{}.{}", path, keep).c_str());
    for (std::size_t i = keep; i > 1; --i) {
      std::rename(fmt::format("{}.{}", path, i - 1).c_str(), fmt::format("{}.{}", path, i).c_str());
    }
    std::rename(path.c_str(), fmt::format("{}.1", path).c_str());
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    size = 0;
    if (fd < 0) errors.fetch_add(1);
  }

  void write_all(const std::string& text, std::uint64_t records) {
    if (options.rotate_bytes > 0 && size > 0 && size + text.size() > options.rotate_bytes) {
      rotate();
    }
    std::size_t done = 0;
    while (fd >= 0 && done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        errors.fetch_add(1);
        return;
      }
      done += static_cast<std::size_t>(n);
    }
    if (fd < 0) {
      errors.fetch_add(1);
      return;
    }
    size += text.size();
    written.fetch_add(records);
  }

  void run() {
    std::deque<Record> batch;
    std::string text;
    for (;;) {
      {
        std::unique_lock lock(mutex);
        has_records.wait(lock, [&] { return closing || !queue.empty(); });
        if (queue.empty() && closing) return;
        batch.swap(queue);
      }
      has_room.notify_all();
      text.clear();
      std::uint64_t count = 0;
      for (const Record& r : batch) {
        try {
          std::string line = format(r);
          // A batch that would cross the rotation size is written in two parts.
          if (options.rotate_bytes > 0 && !text.empty() &&
              size + text.size() + line.size() > options.rotate_bytes) {
            write_all(text, count);
            text.clear();
            count = 0;
          }
          text += line;
          ++count;
        } catch (...) {
          errors.fetch_add(1);
        }
      }
      write_all(text, count);
      batch.clear();
    }
  }
};

DecisionLog::DecisionLog(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<DecisionLog, std::string> DecisionLog::open(DecisionLogOptions options) {
  if (options.path.empty()) return Failure{std::string("the decision log needs a file")};
  auto state = std::make_shared<State>();
  state->fd = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (state->fd < 0) {
    return Failure{fmt::format("cannot open `{}`: {}", options.path, std::strerror(errno))};
  }
  struct stat info {};
  if (::fstat(state->fd, &info) == 0) state->size = static_cast<std::uint64_t>(info.st_size);
  options.queue_capacity = std::max<std::size_t>(1, options.queue_capacity);
  state->options = std::move(options);
  state->writer = std::thread([s = state.get()] { s->run(); });
  return DecisionLog(std::move(state));
}

bool DecisionLog::record(std::string_view request_json, const Decision& d) noexcept {
  State& s = *state_;
  try {
    Record r{Clock::now(),
             d.effect,
             std::string(request_json),
             std::string(d.clause),
             std::string(d.rule),
             std::string(d.consent),
             d.error,
             std::string(d.policy_version),
             std::string(d.policy_hash)};
    {
      std::unique_lock lock(s.mutex);
      if (s.options.block_when_full) {
        s.has_room.wait(lock,
                        [&] { return s.closing || s.queue.size() < s.options.queue_capacity; });
      }
      if (s.closing || s.queue.size() >= s.options.queue_capacity) {
        s.dropped.fetch_add(1);
        return false;
      }
      s.queue.push_back(std::move(r));
    }
    s.has_records.notify_one();
    return true;
  } catch (...) {
    s.dropped.fetch_add(1);
    return false;
  }
}

void DecisionLog::close() noexcept {
  state_->stop();
}

std::uint64_t DecisionLog::written() const noexcept {
  return state_->written.load();
}
std::uint64_t DecisionLog::dropped() const noexcept {
  return state_->dropped.load();
}
std::uint64_t DecisionLog::write_errors() const noexcept {
  return state_->errors.load();
}

}  // namespace clause
