// Stage: serve. The decision log: callers copy a record into a bounded queue; one writer
// thread formats batches, writes them with one system call, rotates by size, and on close
// drains the queue and fsyncs, so that every record accepted is on disk.
#include "clause/log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "clause/json.hpp"

namespace clause {
namespace {

using Clock = std::chrono::system_clock;

struct Record {
  Clock::time_point time;
  Effect effect = Effect::deny;
  std::string request, clause, rule, consent, error, version, hash;
  std::string obligations;  // comma-separated; empty when there are none
  // What the record holds in memory, for the log's bound in bytes.
  [[nodiscard]] std::size_t bytes() const {
    return sizeof(Record) + request.size() + clause.size() + rule.size() + consent.size() +
           error.size() + version.size() + hash.size() + obligations.size();
  }
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
  std::uint64_t size = 0;  // bytes in the current file, all of them whole lines
  std::mutex mutex;
  std::condition_variable has_records;
  std::condition_variable has_room;
  std::deque<Record> queue;
  std::size_t held_bytes = 0;  // of the records queued and of the batch being written
  bool closing = false;
  std::atomic<bool> reopen_requested{false};
  std::thread writer;
  std::mutex close_mutex;
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> lost{0};
  std::atomic<std::uint64_t> errors{0};
  // The writer's account of a run of losses, for report(); touched by the writer only
  // (and by stop() once the writer has ended).
  struct Burst {
    bool active = false;
    std::uint64_t losses_before = 0;  // lost + dropped when it began
    std::uint64_t reported = 0;       // lost + dropped when last reported
    std::chrono::steady_clock::time_point last_report{};
    std::string cause;  // the last failed write's error
  } burst;
  // While writes fail: until when a blocking log retries them.
  std::optional<std::chrono::steady_clock::time_point> retry_until;
  std::optional<LogShipper> shipper;
  // record_id: this opening's random id and a count, so that ids stay unique across
  // restarts and replicas, for a collector that drops duplicates.
  std::string instance;
  std::uint64_t next_record = 0;  // the writer's only

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
    report_losses(true, true);
    if (shipper) shipper->close();
  }

  bool is_closing() {
    const std::lock_guard lock(mutex);
    return closing;
  }

  std::string format(const Record& r) {
    nlohmann::ordered_json line = nlohmann::ordered_json::object();
    line["time"] = utc_time(r.time);
    line["record_id"] = fmt::format("{}-{}", instance, next_record++);
    // Deeper than any request shape: kept as text, so that nothing recursive (the JSON
    // library's writer) ever meets a hostile nesting.
    constexpr std::size_t max_depth = 64;
    auto request = json_nesting_exceeds(r.request, max_depth)
                       ? nlohmann::ordered_json(nlohmann::ordered_json::value_t::discarded)
                       : nlohmann::ordered_json::parse(r.request, nullptr, false);
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
    if (!r.obligations.empty()) {
      auto& list = line["obligations"] = nlohmann::ordered_json::array();
      for (std::size_t at = 0; at <= r.obligations.size();) {
        const std::size_t comma = std::min(r.obligations.find(',', at), r.obligations.size());
        list.push_back(r.obligations.substr(at, comma - at));
        at = comma + 1;
      }
    }
    if (!r.error.empty()) line["error"] = r.error;
    line["policy_version"] = r.version;
    line["policy_hash"] = r.hash;
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  }

  // Opens the path (again), appending; `size` is what it already holds.
  void open_file() {
    if (fd >= 0) {
      if (::fsync(fd) != 0) errors.fetch_add(1);
      ::close(fd);
    }
    fd = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    size = 0;
    struct stat info {};
    if (fd >= 0 && ::fstat(fd, &info) == 0) size = static_cast<std::uint64_t>(info.st_size);
  }

  // FILE becomes FILE.1, FILE.1 becomes FILE.2 ..., the oldest beyond keep_rotated goes.
  void rotate() {
    const std::string& path = options.path;
    const std::size_t keep = std::max<std::size_t>(1, options.keep_rotated);
    std::remove(fmt::format("{}.{}", path, keep).c_str());
    for (std::size_t i = keep; i > 1; --i) {
      std::rename(fmt::format("{}.{}", path, i - 1).c_str(), fmt::format("{}.{}", path, i).c_str());
    }
    std::rename(path.c_str(), fmt::format("{}.1", path).c_str());
    open_file();
  }

  // One attempt to append `text`, a run of whole lines. A write cut short (a full disk, a
  // file size limit) is cut back to its last whole line, so that no reader ever sees half
  // a record. Gives how many bytes, all whole lines, are in the file.
  std::size_t append_lines(std::string_view text) {
    if (fd < 0) open_file();
    if (fd < 0) {
      burst.cause = fmt::format("cannot open: {}", std::strerror(errno));
      return 0;
    }
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        burst.cause = n < 0 ? std::strerror(errno) : "the file takes no more bytes";
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    if (done < text.size()) {
      const std::size_t last_line = text.rfind('\n', done == 0 ? 0 : done - 1);
      const std::size_t whole =
          done == 0 || last_line == std::string_view::npos ? 0 : last_line + 1;
      if (whole < done && ::ftruncate(fd, static_cast<off_t>(size + whole)) != 0) {
        // Cannot cut back: what follows starts on a line of its own, at least.
        size += done;
        return done;
      }
      done = whole;
    }
    size += done;
    return done;
  }

  // Writes `count` records' lines, keeping whatever whole lines fit; what does not is
  // retried (a blocking log, for a while) or counted lost.
  void write_records(std::string_view text, std::uint64_t count) {
    if (text.empty()) return;
    if (options.rotate_bytes > 0 && size > 0 && size + text.size() > options.rotate_bytes) {
      rotate();
    }
    using std::chrono::milliseconds;
    auto pause = milliseconds(20);
    for (;;) {
      const std::size_t kept = append_lines(text);
      const auto lines =
          static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + kept, '\n'));
      written.fetch_add(lines);
      count -= lines;
      text.remove_prefix(kept);
      if (text.empty()) {
        retry_until.reset();
        return;
      }
      errors.fetch_add(1);
      // The wait is for the whole run of failures, not for each batch: past it, every
      // batch has one try until a write succeeds again.
      const auto now = std::chrono::steady_clock::now();
      if (!retry_until) {
        retry_until = now + milliseconds(options.block_when_full ? options.retry_ms : 0);
      }
      if (now + pause > *retry_until || is_closing()) break;
      report_losses(false);  // says that writing fails even before anything is lost
      std::unique_lock lock(mutex);
      has_room.wait_for(lock, pause, [&] { return closing; });
      pause = std::min(pause * 2, milliseconds(1000));
    }
    lost.fetch_add(count);
  }

  // One message when writing starts to fail or records start to be lost, then at most one
  // every 5 s while that goes on, and one when a write succeeds again or the log closes.
  void report_losses(bool wrote, bool closed = false) noexcept {
    try {
      const std::uint64_t losses = lost.load() + dropped.load();
      const auto now = std::chrono::steady_clock::now();
      const auto say = [&](const std::string& message) {
        if (options.report)
          options.report(fmt::format("decision log `{}`: {}", options.path, message));
      };
      const std::string cause = burst.cause.empty() ? "" : fmt::format(" ({})", burst.cause);
      if (!burst.active) {
        if (losses == burst.reported && wrote) return;
        burst.active = true;
        burst.losses_before = burst.reported;
      } else if (closed || (wrote && losses == burst.reported)) {
        burst.active = false;
        burst.reported = losses;
        say(fmt::format("{}; {} records were lost in all{}", closed ? "closed" : "writing again",
                        losses - burst.losses_before, cause));
        burst.cause.clear();
        return;
      } else if (losses == burst.reported || now - burst.last_report < std::chrono::seconds(5)) {
        return;
      }
      burst.last_report = now;
      burst.reported = losses;
      if (losses == burst.losses_before) {
        say(fmt::format("cannot write{}; retrying while records wait", cause));
      } else {
        say(fmt::format(
            "records are being lost: {} so far ({} in all lost to failed writes{}, {} dropped "
            "for a full queue or after close)",
            losses - burst.losses_before, lost.load(), cause, dropped.load()));
      }
      if (closed) report_losses(true, true);
    } catch (...) {
      // A report that cannot be made (out of memory) changes nothing counted.
    }
  }

  void run() {
    std::deque<Record> batch;
    std::string text;
    for (;;) {
      {
        std::unique_lock lock(mutex);
        has_records.wait(lock,
                         [&] { return closing || !queue.empty() || reopen_requested.load(); });
        if (queue.empty() && closing) return;
        batch.swap(queue);
      }
      has_room.notify_all();  // room by count; the bytes are given back once written
      if (reopen_requested.exchange(false) && !options.path.empty()) open_file();
      text.clear();
      std::uint64_t count = 0;
      const std::uint64_t lost_before = lost.load();
      for (const Record& r : batch) {
        try {
          std::string line = format(r);
          if (shipper) shipper->add(line);
          if (options.path.empty()) continue;
          // A batch that would cross the rotation size is written in two parts.
          if (options.rotate_bytes > 0 && !text.empty() &&
              size + text.size() + line.size() > options.rotate_bytes) {
            write_records(text, count);
            text.clear();
            count = 0;
          }
          text += line;
          ++count;
        } catch (...) {
          errors.fetch_add(1);
          lost.fetch_add(1);
        }
      }
      write_records(text, count);
      std::size_t freed = 0;
      for (const Record& r : batch)
        freed += r.bytes();
      batch.clear();
      {
        const std::lock_guard lock(mutex);
        held_bytes -= std::min(held_bytes, freed);
      }
      has_room.notify_all();
      report_losses(lost.load() == lost_before);
    }
  }
};

DecisionLog::DecisionLog(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<DecisionLog, std::string> DecisionLog::open(DecisionLogOptions options) {
  if (options.path.empty() && !options.ship) {
    return Failure{std::string("the decision log needs a file or a URL to ship to")};
  }
  auto state = std::make_shared<State>();
  options.queue_capacity = std::max<std::size_t>(1, options.queue_capacity);
  state->options = std::move(options);
  if (!state->options.path.empty()) {
    state->open_file();
    if (state->fd < 0) {
      return Failure{
          fmt::format("cannot open `{}`: {}", state->options.path, std::strerror(errno))};
    }
  }
  try {
    std::random_device random;
    state->instance = fmt::format("{:08x}{:08x}", random(), random());
  } catch (...) {
    // No entropy source: the time and the process id still tell openings apart.
    state->instance = fmt::format("{:x}-{}", Clock::now().time_since_epoch().count(), ::getpid());
  }
  if (state->options.ship) {
    LogShipOptions ship = *state->options.ship;
    if (!ship.report) ship.report = state->options.report;
    auto shipper = LogShipper::open(std::move(ship));
    if (!shipper) return Failure{shipper.error()};
    state->shipper = std::move(*shipper);
  }
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
             std::string(d.policy_hash),
             {}};
    for (const std::string_view o : d.obligations) {
      if (!r.obligations.empty()) r.obligations += ',';
      r.obligations.append(o);
    }
    const std::size_t bytes = r.bytes();
    {
      std::unique_lock lock(s.mutex);
      const auto room = [&] {
        return s.queue.size() < s.options.queue_capacity &&
               (s.held_bytes == 0 || s.held_bytes + bytes <= s.options.queue_max_bytes);
      };
      if (s.options.block_when_full) s.has_room.wait(lock, [&] { return s.closing || room(); });
      if (s.closing || !room()) {
        s.dropped.fetch_add(1);
        return false;
      }
      s.held_bytes += bytes;
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

void DecisionLog::reopen() noexcept {
  State& s = *state_;
  s.reopen_requested = true;
  {
    const std::lock_guard lock(s.mutex);  // so the writer cannot miss the wake-up
  }
  s.has_records.notify_one();
}

std::uint64_t DecisionLog::written() const noexcept {
  return state_->written.load();
}
std::uint64_t DecisionLog::dropped() const noexcept {
  return state_->dropped.load();
}
std::uint64_t DecisionLog::lost() const noexcept {
  return state_->lost.load();
}
std::uint64_t DecisionLog::write_errors() const noexcept {
  return state_->errors.load();
}
std::optional<LogShipCounts> DecisionLog::ship_counts() const noexcept {
  if (!state_->shipper) return std::nullopt;
  return state_->shipper->counts();
}

}  // namespace clause
