// Stage: serve. Log shipping: lines gather into an open batch; a full (or old enough) batch
// is gzip'd and sealed into the buffer (a file in the buffer folder, or memory); one thread
// POSTs the oldest sealed batch and removes it only on a 2xx, so delivery is at least once.
#include "clause/log_ship.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "service/gzip.hpp"
#include "service/http_post.hpp"

namespace clause {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A sealed batch: gzip'd JSON Lines, in `data` or (with a buffer folder) in its file.
struct Batch {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::string data;
  std::string file;  // empty: in memory
};

// A batch's file: its sequence number (so that names sort in order) and its record count.
std::string batch_name(std::uint64_t seq, std::uint64_t records) {
  return fmt::format("{:020}-{}.ndjson.gz", seq, records);
}

// Reads a batch file's name back; false for anything else in the folder.
bool parse_batch_name(const std::string& name, std::uint64_t& seq, std::uint64_t& records) {
  constexpr std::string_view suffix = ".ndjson.gz";
  if (name.size() < 22 + suffix.size() || name[20] != '-' ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  try {
    std::size_t used = 0;
    seq = std::stoull(name.substr(0, 20), &used);
    if (used != 20) return false;
    const std::string count = name.substr(21, name.size() - 21 - suffix.size());
    records = std::stoull(count, &used);
    return used == count.size();
  } catch (...) {
    return false;
  }
}

}  // namespace

struct LogShipper::State {
  LogShipOptions options;
  service::HttpTarget target;
  int lock_fd = -1;  // holds the buffer folder against a second process

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::string open_text;  // the open batch's lines
  std::uint64_t open_records = 0;
  Clock::time_point open_since{};
  std::uint64_t next_seq = 0;
  std::map<std::uint64_t, Batch> sealed;  // by sequence: the oldest first
  std::optional<std::uint64_t> in_flight;
  std::uint64_t sealed_records = 0, sealed_bytes = 0;
  bool closing = false;
  bool sender_done = false;
  std::atomic<bool> cancel{false};  // ends a POST still going at the drain's end
  Clock::time_point drain_until{};
  std::thread sender;
  std::mutex close_mutex;

  std::atomic<std::uint64_t> shipped{0}, dropped{0}, failures{0}, retries{0};

  // Reporting, by the sending thread only.
  bool failing = false;
  Clock::time_point last_report{};

  ~State() { stop(); }

  void say(const std::string& message) noexcept {
    try {
      if (options.report)
        options.report(fmt::format("log shipping to {}: {}", options.url, message));
    } catch (...) {
      // A report that cannot be made changes nothing counted.
    }
  }

  // Removes a sealed batch (lock held); its file too.
  void remove_batch(std::map<std::uint64_t, Batch>::iterator it) {
    sealed_records -= it->second.records;
    sealed_bytes -= it->second.bytes;
    if (!it->second.file.empty()) {
      std::error_code ec;
      fs::remove(it->second.file, ec);
    }
    sealed.erase(it);
  }

  // Past the bound, the oldest batches go (not the one being sent, nor the newest).
  std::uint64_t enforce_bound() {
    std::uint64_t lost = 0;
    auto it = sealed.begin();
    while (sealed_bytes > options.buffer_max_bytes && sealed.size() > 1 && it != sealed.end() &&
           std::next(it) != sealed.end()) {
      if (in_flight && it->first == *in_flight) {
        ++it;
        continue;
      }
      lost += it->second.records;
      const auto next = std::next(it);
      remove_batch(it);
      it = next;
    }
    dropped.fetch_add(lost);
    return lost;
  }

  // Seals `text` (lock not held) as batch `seq`: gzip'd, written to its file when there is
  // a folder, then put in the buffer.
  void seal(std::uint64_t seq, const std::string& text, std::uint64_t records) {
    Batch batch;
    batch.records = records;
    auto data = service::gzip(text, Z_DEFAULT_COMPRESSION);
    if (!data) {
      dropped.fetch_add(records);
      say(fmt::format("{} records dropped: they could not be compressed", records));
      return;
    }
    batch.bytes = data->size();
    if (!options.buffer_dir.empty()) {
      const fs::path file = fs::path(options.buffer_dir) / batch_name(seq, records);
      const fs::path temp = fs::path(options.buffer_dir) / fmt::format(".tmp-{}", seq);
      // Written aside and renamed, so that a start after a crash never reads half a batch.
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out.write(data->data(), static_cast<std::streamsize>(data->size()));
      out.close();
      std::error_code ec;
      if (out && (fs::rename(temp, file, ec), !ec)) {
        batch.file = file.string();
      } else {
        fs::remove(temp, ec);
        say(fmt::format("cannot write a batch to `{}`; it is kept in memory", options.buffer_dir));
      }
    }
    if (batch.file.empty()) batch.data = std::move(*data);
    std::uint64_t lost = 0;
    {
      const std::lock_guard lock(mutex);
      sealed_records += batch.records;
      sealed_bytes += batch.bytes;
      sealed.emplace(seq, std::move(batch));
      lost = enforce_bound();
    }
    wake.notify_all();
    if (lost > 0) {
      say(fmt::format("the buffer is past {} bytes: the oldest {} records were dropped",
                      options.buffer_max_bytes, lost));
    }
  }

  // Takes the open batch out for sealing (lock held); false when it is empty.
  bool take_open(std::uint64_t& seq, std::string& text, std::uint64_t& records) {
    if (open_records == 0) return false;
    seq = next_seq++;
    text.swap(open_text);
    open_text.clear();
    records = std::exchange(open_records, 0);
    return true;
  }

  void load_folder() {
    for (const auto& entry : fs::directory_iterator(options.buffer_dir)) {
      const std::string name = entry.path().filename().string();
      std::uint64_t seq = 0, records = 0;
      std::error_code ec;
      if (name.rfind(".tmp-", 0) == 0) {
        fs::remove(entry.path(), ec);  // a batch whose writing a crash cut short
      } else if (parse_batch_name(name, seq, records) && entry.is_regular_file(ec)) {
        Batch b;
        b.records = records;
        b.bytes = entry.file_size(ec);
        b.file = entry.path().string();
        sealed_records += b.records;
        sealed_bytes += b.bytes;
        sealed.emplace(seq, std::move(b));
        next_seq = std::max(next_seq, seq + 1);
      }
    }
    enforce_bound();
  }

  // What to do with a batch after one POST.
  enum class Outcome { delivered, refused, retry };

  Outcome post(const Batch& batch, std::string& error, int& status) {
    std::string data = batch.data;
    if (!batch.file.empty()) {
      std::ifstream in(batch.file, std::ios::binary);
      data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) {
        error = "its file cannot be read";
        return Outcome::refused;
      }
    }
    auto deadline = Clock::now() + milliseconds(options.timeout_ms);
    {
      const std::lock_guard lock(mutex);
      if (closing) deadline = std::min(deadline, drain_until);
    }
    status = service::http_post(target,
                                {"Content-Type: application/x-ndjson", "Content-Encoding: gzip",
                                 fmt::format("X-Clause-Records: {}", batch.records)},
                                data, deadline, &cancel, error);
    if (status >= 200 && status < 300) return Outcome::delivered;
    if (status == 0 || status >= 500 || status == 408 || status == 429) return Outcome::retry;
    return Outcome::refused;
  }

  void run() {
    std::mt19937_64 random(std::random_device{}());
    milliseconds backoff(0);
    Clock::time_point next_try = Clock::now();
    std::unique_lock lock(mutex);
    for (;;) {
      const auto flush_at = open_since + milliseconds(options.flush_ms);
      auto until = Clock::time_point::max();
      if (open_records > 0) until = std::min(until, flush_at);
      if (!sealed.empty()) until = std::min(until, next_try);
      if (closing) until = std::min(until, drain_until);
      const auto ready = [&] {
        const auto now = Clock::now();
        return (closing && (open_records > 0 || sealed.empty() || now >= drain_until)) ||
               (open_records > 0 && now >= flush_at) || (!sealed.empty() && now >= next_try);
      };
      if (until == Clock::time_point::max()) {
        wake.wait(lock, ready);
      } else {
        wake.wait_until(lock, until, ready);
      }
      const auto now = Clock::now();
      std::uint64_t seq = 0, records = 0;
      std::string text;
      if ((closing || now >= open_since + milliseconds(options.flush_ms)) &&
          take_open(seq, text, records)) {
        lock.unlock();
        seal(seq, text, records);
        lock.lock();
        continue;
      }
      if (closing && (sealed.empty() || now >= drain_until)) {
        sender_done = true;
        wake.notify_all();
        return;
      }
      if (sealed.empty() || now < next_try) continue;

      const auto it = sealed.begin();
      const std::uint64_t sending = it->first;
      Batch copy{it->second.records, it->second.bytes, it->second.data, it->second.file};
      in_flight = sending;
      lock.unlock();
      std::string error;
      int status = 0;
      const Outcome outcome = post(copy, error, status);
      lock.lock();
      in_flight.reset();
      const auto still = sealed.find(sending);
      if (outcome == Outcome::retry) {
        failures.fetch_add(1);
        retries.fetch_add(1);  // this batch goes again
        backoff =
            std::clamp(backoff * 2, milliseconds(options.backoff_min_ms),
                       milliseconds(std::max(options.backoff_min_ms, options.backoff_max_ms)));
        // Jitter: half to all of the backoff, so that replicas do not retry in step.
        const auto half = backoff.count() / 2;
        next_try =
            Clock::now() + milliseconds(half + static_cast<long long>(random() % (half + 1)));
        const auto at = Clock::now();
        if (!failing || at - last_report >= std::chrono::seconds(5)) {
          failing = true;
          last_report = at;
          const std::string why = status == 0 ? error : fmt::format("status {}", status);
          lock.unlock();
          say(fmt::format("cannot deliver ({}); {} records wait, retrying in up to {} ms", why,
                          sealed_records, backoff.count()));
          lock.lock();
        }
        continue;
      }
      backoff = milliseconds(0);
      next_try = Clock::now();
      if (still != sealed.end()) {
        if (outcome == Outcome::delivered) {
          shipped.fetch_add(still->second.records);
        } else {
          failures.fetch_add(1);
          dropped.fetch_add(still->second.records);
        }
        remove_batch(still);
      }
      const bool was_failing = std::exchange(failing, false);
      lock.unlock();
      if (outcome == Outcome::refused) {
        const std::string why = status == 0 ? error : fmt::format("status {}", status);
        say(fmt::format("a batch of {} records was refused ({}) and dropped", copy.records, why));
      } else if (was_failing) {
        say("delivering again");
      }
      lock.lock();
    }
  }

  void stop() noexcept {
    const std::lock_guard once(close_mutex);
    {
      const std::lock_guard lock(mutex);
      if (!closing) drain_until = Clock::now() + milliseconds(options.drain_ms);
      closing = true;
    }
    wake.notify_all();
    if (sender.joinable()) {
      {
        std::unique_lock lock(mutex);
        wake.wait_until(lock, drain_until, [&] { return sender_done; });
      }
      cancel = true;  // a POST that hangs past the drain time is cut short
      sender.join();
    }
    std::uint64_t left = 0;
    {
      const std::lock_guard lock(mutex);
      left = sealed_records;
      if (options.buffer_dir.empty()) {
        dropped.fetch_add(left);
        while (!sealed.empty())
          remove_batch(sealed.begin());
      }
    }
    if (left > 0 && !sealed_reported) {
      sealed_reported = true;
      say(options.buffer_dir.empty()
              ? fmt::format("closed with {} records undelivered; they are lost", left)
              : fmt::format("closed with {} records undelivered; they stay in `{}` for the next "
                            "start",
                            left, options.buffer_dir));
    }
    if (lock_fd >= 0) {
      ::close(lock_fd);
      lock_fd = -1;
    }
  }
  bool sealed_reported = false;
};

LogShipper::LogShipper(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<LogShipper, std::string> LogShipper::open(LogShipOptions options) {
  const std::string url = options.url;  // for the error, once options are moved
  try {
    auto state = std::make_shared<State>();
    std::string error;
    if (!service::parse_http_url(options.url, state->target, error)) {
      return Failure{fmt::format("log shipping URL `{}`: {}", options.url, error)};
    }
    options.batch_records = std::max<std::size_t>(1, options.batch_records);
    state->options = std::move(options);
    const std::string& dir = state->options.buffer_dir;
    if (!dir.empty()) {
      std::error_code ec;
      fs::create_directories(dir, ec);
      const std::string lock_path = (fs::path(dir) / ".lock").string();
      state->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (state->lock_fd < 0) {
        return Failure{fmt::format("log shipping buffer `{}`: cannot open {}: {}", dir, lock_path,
                                   std::strerror(errno))};
      }
      if (::flock(state->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        return Failure{fmt::format("log shipping buffer `{}` is in use by another process", dir)};
      }
      state->load_folder();
    }
    state->sender = std::thread([s = state.get()] { s->run(); });
    return LogShipper(std::move(state));
  } catch (const std::exception& e) {
    return Failure{fmt::format("log shipping to `{}`: {}", url, e.what())};
  }
}

bool LogShipper::add(std::string_view line) noexcept {
  State& s = *state_;
  try {
    std::uint64_t seq = 0, records = 0;
    std::string text;
    {
      const std::lock_guard lock(s.mutex);
      if (s.closing) {
        s.dropped.fetch_add(1);
        return false;
      }
      if (s.open_records == 0) s.open_since = Clock::now();
      s.open_text.append(line);
      if (line.empty() || line.back() != '\n') s.open_text += '\n';
      ++s.open_records;
      if (s.open_records < s.options.batch_records) {
        if (s.open_records == 1) s.wake.notify_all();  // the flush timer starts
        return true;
      }
      s.take_open(seq, text, records);
    }
    s.seal(seq, text, records);
    return true;
  } catch (...) {
    s.dropped.fetch_add(1);
    return false;
  }
}

void LogShipper::close() noexcept {
  state_->stop();
}

LogShipCounts LogShipper::counts() const noexcept {
  const State& s = *state_;
  LogShipCounts c;
  {
    const std::lock_guard lock(s.mutex);
    c.buffered_records = s.sealed_records + s.open_records;
    c.buffered_bytes = s.sealed_bytes;
  }
  c.shipped_records = s.shipped.load();
  c.dropped_records = s.dropped.load();
  c.failures = s.failures.load();
  c.retries = s.retries.load();
  return c;
}

}  // namespace clause
