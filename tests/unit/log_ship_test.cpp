// Decision-log shipping: delivery in gzip'd JSON Lines, the buffer folder (bounded, kept
// across a restart, emptied only by a 2xx), retries of 5xx, refusal of 4xx.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "clause/log.hpp"
#include "clause/log_ship.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

namespace fs = std::filesystem;

std::string gunzip(const std::string& data) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out;
  char buffer[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  inflateEnd(&z);
  CHECK(rc == Z_STREAM_END);
  return out;
}

// A loopback collector: answers each POST with status(n) for the n-th request (from 0)
// and keeps the lines of the batches it answered 2xx.
class Collector {
 public:
  explicit Collector(std::function<int(int)> status) : status_(std::move(status)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { serve(); });
  }
  ~Collector() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/logs";
  }
  std::vector<std::string> lines() {
    const std::lock_guard lock(mutex_);
    return lines_;
  }
  int requests() const { return requests_.load(); }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string in;
      char buffer[65536];
      std::size_t need = std::string::npos;
      while (need == std::string::npos || in.size() < need) {
        const ssize_t n = ::recv(c, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        in.append(buffer, static_cast<std::size_t>(n));
        const std::size_t end = in.find("\r\n\r\n");
        if (need == std::string::npos && end != std::string::npos) {
          const std::size_t at = in.find("Content-Length: ");
          need = end + 4 + std::stoul(in.substr(at + 16));
        }
      }
      const int status = status_(requests_++);
      if (status / 100 == 2 && need != std::string::npos) {
        CHECK(in.find("Content-Encoding: gzip\r\n") != std::string::npos);
        CHECK(in.find("Content-Type: application/x-ndjson\r\n") != std::string::npos);
        const std::string text = gunzip(in.substr(in.find("\r\n\r\n") + 4));
        const std::lock_guard lock(mutex_);
        for (std::size_t at = 0; at < text.size();) {
          const std::size_t nl = text.find('\n', at);
          lines_.push_back(text.substr(at, nl - at));
          at = nl + 1;
        }
      }
      const std::string answer =
          "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
      ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::function<int(int)> status_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::vector<std::string> lines_;
  std::thread thread_;
};

// A loopback port with nothing listening: connections are refused.
std::string refused_url() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/logs";
}

LogShipOptions fast(const std::string& url, const fs::path& dir = {}) {
  LogShipOptions o;
  o.url = url;
  o.buffer_dir = dir.string();
  o.batch_records = 10;
  o.flush_ms = 50;
  o.timeout_ms = 1000;
  o.backoff_min_ms = 10;
  o.backoff_max_ms = 50;
  o.drain_ms = 300;
  return o;
}

std::size_t batch_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    n += e.path().filename().string().ends_with(".ndjson.gz") ? 1 : 0;
  return n;
}

bool wait_until(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

std::string line(int i) {
  return nlohmann::json{{"n", i}}.dump();
}

TEST_CASE("shipping delivers every line once, in gzip'd JSON Lines batches", "[log][ship]") {
  Collector collector([](int) { return 200; });
  auto ship = LogShipper::open(fast(collector.url()));
  REQUIRE(ship);
  for (int i = 0; i < 95; ++i)
    CHECK(ship->add(line(i)));
  REQUIRE(wait_until([&] { return ship->counts().shipped_records == 95; }));
  ship->close();
  const auto lines = collector.lines();
  REQUIRE(lines.size() == 95);
  for (int i = 0; i < 95; ++i)
    CHECK(lines[static_cast<std::size_t>(i)] == line(i));
  CHECK(ship->counts().buffered_records == 0);
  CHECK(ship->counts().failures == 0);
}

TEST_CASE(
    "batches wait in the buffer folder while the collector is down, and a restart sends "
    "them",
    "[log][ship]") {
  TempDir dir("clause-ship");
  {
    auto ship = LogShipper::open(fast(refused_url(), dir.path));
    REQUIRE(ship);
    for (int i = 0; i < 95; ++i)
      ship->add(line(i));
    REQUIRE(wait_until([&] { return ship->counts().failures >= 2; }));
    ship->close();
    CHECK(ship->counts().shipped_records == 0);
    CHECK(ship->counts().dropped_records == 0);
    CHECK(ship->counts().retries >= 2);
  }
  CHECK(batch_files(dir.path) == 10);  // 9 of 10 records and the last 5
  Collector collector([](int) { return 200; });
  auto ship = LogShipper::open(fast(collector.url(), dir.path));
  REQUIRE(ship);
  REQUIRE(wait_until([&] { return ship->counts().shipped_records == 95; }));
  ship->close();
  const auto lines = collector.lines();
  CHECK(std::set<std::string>(lines.begin(), lines.end()).size() == 95);
  CHECK(lines.size() == 95);
  CHECK(batch_files(dir.path) == 0);
}

TEST_CASE("a batch stays buffered until a 2xx: 500s and 429 are retried", "[log][ship]") {
  TempDir dir("clause-ship-retry");
  Collector collector([](int n) { return n < 2 ? 500 : n == 2 ? 429 : 200; });
  auto ship = LogShipper::open(fast(collector.url(), dir.path));
  REQUIRE(ship);
  for (int i = 0; i < 10; ++i)
    ship->add(line(i));
  REQUIRE(wait_until([&] { return ship->counts().shipped_records == 10; }));
  ship->close();
  CHECK(collector.lines().size() == 10);
  CHECK(ship->counts().failures == 3);
  CHECK(ship->counts().retries == 3);
  CHECK(batch_files(dir.path) == 0);
}

TEST_CASE("close() ends a POST that hangs at the end of the drain time; the batch stays",
          "[log][ship]") {
  TempDir dir("clause-ship-hang");
  std::atomic<bool> answered{false};
  Collector collector([&](int) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    answered = true;
    return 200;
  });
  auto options = fast(collector.url(), dir.path);
  options.timeout_ms = 10000;
  auto ship = LogShipper::open(options);
  REQUIRE(ship);
  for (int i = 0; i < 10; ++i)
    ship->add(line(i));
  REQUIRE(wait_until([&] { return collector.requests() == 1; }));  // the POST hangs
  const auto started = std::chrono::steady_clock::now();
  ship->close();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(1500));
  CHECK(!answered);
  CHECK(ship->counts().shipped_records == 0);
  CHECK(batch_files(dir.path) == 1);
}

TEST_CASE("a 400 drops its batch and counts it; the next batches go on", "[log][ship]") {
  Collector collector([](int n) { return n == 0 ? 400 : 204; });
  auto ship = LogShipper::open(fast(collector.url()));
  REQUIRE(ship);
  for (int i = 0; i < 20; ++i)
    ship->add(line(i));
  REQUIRE(wait_until([&] { return ship->counts().shipped_records == 10; }));
  ship->close();
  CHECK(ship->counts().dropped_records == 10);
  CHECK(ship->counts().failures == 1);
  CHECK(ship->counts().retries == 0);
  CHECK(collector.lines().size() == 10);
}

TEST_CASE("past its bound the buffer drops the oldest batches and counts them", "[log][ship]") {
  TempDir dir("clause-ship-bound");
  std::vector<std::string> reports;
  std::mutex reports_mutex;
  auto options = fast(refused_url(), dir.path);
  options.buffer_max_bytes = 1;  // keeps only the newest batch
  options.report = [&](const std::string& m) {
    const std::lock_guard lock(reports_mutex);
    reports.push_back(m);
  };
  {
    auto ship = LogShipper::open(options);
    REQUIRE(ship);
    for (int i = 0; i < 100; ++i)
      ship->add(line(i));
    ship->close();
    // The batch being sent when a newer one came is kept past the bound, for a while.
    CHECK(ship->counts().dropped_records + ship->counts().buffered_records == 100);
    CHECK(ship->counts().dropped_records >= 80);
  }
  CHECK(batch_files(dir.path) <= 2);
  Collector collector([](int) { return 200; });
  options.url = collector.url();
  auto ship = LogShipper::open(options);
  REQUIRE(ship);
  REQUIRE(wait_until([&] { return ship->counts().buffered_records == 0; }));
  ship->close();
  CHECK(collector.lines().back() == line(99));  // the newest batch was kept
  const std::lock_guard lock(reports_mutex);
  CHECK(std::any_of(reports.begin(), reports.end(),
                    [](const std::string& m) { return m.find("were dropped") != m.npos; }));
}

TEST_CASE("one buffer folder serves one process; a bad URL is refused", "[log][ship]") {
  TempDir dir("clause-ship-lock");
  auto first = LogShipper::open(fast(refused_url(), dir.path));
  REQUIRE(first);
  auto second = LogShipper::open(fast(refused_url(), dir.path));
  REQUIRE(!second);
  CHECK(second.error().find("in use by another process") != std::string::npos);
  for (const char* url :
       {"https://x/logs", "http://:80/", "http://h:0/", "http://h:99999/", "http://h/a b"}) {
    CAPTURE(url);
    CHECK(!LogShipper::open(fast(url)));
  }
}

TEST_CASE("a shipped decision log gives each record a record_id and keeps the request",
          "[log][ship]") {
  Collector collector([](int) { return 200; });
  DecisionLogOptions options;
  options.ship = fast(collector.url());
  const char* const request =
      R"({"id":"r-7","data":{"category":"contact_info","id":"d-9"},)"
      R"("requester":{"kind":"counterparty","id":"u-42"},"action":"access",)"
      R"("context":{"purpose":"service","in_transaction":true}})";
  const Decision d = privacy_policy().evaluate_json(request);
  std::set<std::string> ids;
  for (int round = 0; round < 2; ++round) {  // two openings: ids differ across restarts
    auto log = DecisionLog::open(options);
    REQUIRE(log);
    for (int i = 0; i < 25; ++i)
      CHECK(log->record(request, d));
    log->close();
    CHECK(log->written() == 0);
    CHECK(log->ship_counts()->shipped_records == 25);
  }
  const auto lines = collector.lines();
  REQUIRE(lines.size() == 50);
  for (const std::string& text : lines) {
    const auto record = nlohmann::json::parse(text);
    CHECK(record["request"]["id"] == "r-7");
    ids.insert(record["record_id"].get<std::string>());
  }
  CHECK(ids.size() == 50);
}

}  // namespace
}  // namespace clause::test
