// The decision log: every accepted record reaches the file by close(), redaction, the
// accounting of a full queue, rotation by size, and a clean shutdown under load.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "clause/log.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const char* const request_text =
    R"({"data":{"category":"contact_info","id":"d-9"},"requester":{"kind":"counterparty","id":"u-42"},)"
    R"("action":"access","context":{"purpose":"service","in_transaction":true}})";

// Options for a log in `file`; tests set the rest by name.
DecisionLogOptions options_for(const std::filesystem::path& file) {
  DecisionLogOptions o;
  o.path = file.string();
  return o;
}

std::vector<nlohmann::json> lines_of(const std::filesystem::path& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST_CASE("the log writes every decision with its request and policy", "[log]") {
  TempDir dir("clause-log");
  const Policy& p = privacy_policy();
  auto log = DecisionLog::open(options_for(dir.path / "d.jsonl"));
  REQUIRE(log);
  const Decision d = p.evaluate_json(request_text);
  for (int i = 0; i < 100; ++i)
    CHECK(log->record(request_text, d));
  CHECK(log->record("not json", p.evaluate_json("not json")));
  log->close();
  CHECK(log->written() == 101);
  CHECK(log->dropped() == 0);
  const auto lines = lines_of(dir.path / "d.jsonl");
  REQUIRE(lines.size() == 101);
  const nlohmann::json& first = lines.front();
  CHECK(first["decision"] == "allow");
  CHECK(first["clause"] == "6.b");
  CHECK(first["rule"] == std::string(d.rule));
  CHECK(first["policy_hash"] == std::string(p.content_hash()));
  CHECK(first["policy_version"] == std::string(p.version()));
  CHECK(first["request"]["requester"]["id"] == "u-42");
  CHECK(std::string(first["time"]).size() == 24);  // 2026-11-29T06:30:00.123Z
  CHECK(lines.back()["request_text"] == "not json");
  CHECK(lines.back()["decision"] == "deny");
  CHECK(lines.back().contains("error"));
  // After close, records are refused and counted.
  CHECK_FALSE(log->record(request_text, d));
  CHECK(log->dropped() == 1);
}

TEST_CASE("the log redacts the fields it is told to", "[log]") {
  TempDir dir("clause-log-redact");
  DecisionLogOptions options = options_for(dir.path / "d.jsonl");
  options.redact = {"requester.id", "context.*", "data.id"};
  auto log = DecisionLog::open(options);
  REQUIRE(log);
  CHECK(log->record(request_text, privacy_policy().evaluate_json(request_text)));
  log->close();
  const auto lines = lines_of(dir.path / "d.jsonl");
  REQUIRE(lines.size() == 1);
  const nlohmann::json& request = lines[0]["request"];
  CHECK(request["requester"]["id"] == "[redacted]");
  CHECK(request["requester"]["kind"] == "counterparty");
  CHECK(request["data"]["id"] == "[redacted]");
  CHECK(request["context"]["purpose"] == "[redacted]");
  CHECK(request["context"]["in_transaction"] == "[redacted]");
}

TEST_CASE("a full queue drops and counts, or waits when told to", "[log][threads]") {
  TempDir dir("clause-log-full");
  const Decision d = privacy_policy().evaluate_json(request_text);
  for (const bool block : {false, true}) {
    const auto file = dir.path / (block ? "block.jsonl" : "drop.jsonl");
    DecisionLogOptions options = options_for(file);
    options.queue_capacity = 4;
    options.block_when_full = block;
    auto log = DecisionLog::open(options);
    REQUIRE(log);
    std::vector<std::thread> threads;
    std::atomic<std::uint64_t> accepted{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 5000; ++i)
          accepted += log->record(request_text, d) ? 1 : 0;
      });
    }
    for (auto& t : threads)
      t.join();
    log->close();
    CHECK(accepted + log->dropped() == 20000);
    CHECK(log->written() == accepted);
    CHECK(lines_of(file).size() == accepted);
    if (block) CHECK(log->dropped() == 0);
  }
}

TEST_CASE("the log rotates by size and keeps the newest files", "[log]") {
  TempDir dir("clause-log-rotate");
  const auto file = dir.path / "d.jsonl";
  const Decision d = privacy_policy().evaluate_json(request_text);
  DecisionLogOptions options = options_for(file);
  options.block_when_full = true;
  options.rotate_bytes = 4000;
  options.keep_rotated = 3;
  auto log = DecisionLog::open(options);
  REQUIRE(log);
  for (int i = 0; i < 200; ++i)
    REQUIRE(log->record(request_text, d));
  log->close();
  CHECK(log->written() == 200);
  std::size_t lines = 0;
  for (const char* suffix : {"", ".1", ".2", ".3"}) {
    const std::filesystem::path part = file.string() + suffix;
    REQUIRE(std::filesystem::exists(part));
    CHECK(std::filesystem::file_size(part) <= 4000);
    lines += lines_of(part).size();
  }
  CHECK_FALSE(std::filesystem::exists(file.string() + ".4"));
  CHECK(lines < 200);  // the oldest went
}

// Every line of the file is one whole JSON record; gives how many there are.
std::size_t whole_lines(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!text.empty()) REQUIRE(text.back() == '\n');
  std::size_t n = 0;
  std::size_t start = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos;
       start = end + 1, end = text.find('\n', start)) {
    REQUIRE_FALSE(
        nlohmann::json::parse(text.substr(start, end - start), nullptr, false).is_discarded());
    ++n;
  }
  return n;
}

// A file size limit for this process (what a full disk does to a write: the first part is
// written, the rest refused), lifted at the end of the scope.
struct FileSizeLimit {
  rlimit before{};
  void (*old_handler)(int) = nullptr;
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler = ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
    ::getrlimit(RLIMIT_FSIZE, &before);
    set(bytes);
  }
  void set(rlim_t bytes) const {
    rlimit limit = before;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &before);
    ::signal(SIGXFSZ, old_handler);
  }
};

// Collects what the log reports, from its writer thread.
struct Reports {
  std::mutex mutex;
  std::vector<std::string> messages;
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& m) {
      const std::lock_guard lock(mutex);
      messages.push_back(m);
    };
  }
  std::string all() {
    const std::lock_guard lock(mutex);
    std::string out;
    for (const auto& m : messages)
      out += m + "\n";
    return out;
  }
};

TEST_CASE("a request nested a million levels deep is logged as text, not recursed into",
          "[log][property]") {
  TempDir dir("clause-log-deep");
  auto log = DecisionLog::open(options_for(dir.path / "d.jsonl"));
  REQUIRE(log);
  const Policy& p = privacy_policy();
  for (const char* open_close : {"[]", "{}"}) {
    std::string deep;
    const std::size_t levels = 1000000;
    for (std::size_t i = 0; i < levels; ++i)
      deep += open_close[0] == '[' ? "[" : R"({"x":)";
    deep += "1";
    deep.append(levels, open_close[1]);
    const std::string request =
        R"({"data":{"category":"contact_info"},"context":{"x":)" + deep + "}}";
    CHECK(log->record(request, p.evaluate_json(request)));
  }
  // At the limit, still parsed and written as JSON.
  std::string nested = "1";
  for (int i = 0; i < 60; ++i)
    nested = "[" + nested + "]";
  const std::string shallow = R"({"context":{"x":)" + nested + "}}";
  CHECK(log->record(shallow, p.evaluate_json(shallow)));
  log->close();
  CHECK(log->written() == 3);
  const auto lines = lines_of(dir.path / "d.jsonl");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["request_text"].get<std::string>().size() > 2000000);
  CHECK(lines[0]["decision"] == "deny");
  CHECK(lines[1].contains("request_text"));
  CHECK(lines[2]["request"]["context"].contains("x"));
}

TEST_CASE("a full disk loses no line silently and tears none", "[log]") {
  TempDir dir("clause-log-disk");
  const auto file = dir.path / "d.jsonl";
  const Decision d = privacy_policy().evaluate_json(request_text);
  Reports reports;
  DecisionLogOptions options = options_for(file);
  options.report = reports.sink();
  auto log = DecisionLog::open(options);
  REQUIRE(log);
  std::uint64_t accepted = 0;
  {
    const FileSizeLimit limit(4096);  // about 12 records
    for (int i = 0; i < 200; ++i) {
      accepted += log->record(request_text, d) ? 1 : 0;
      if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    log->close();  // the writer is done before the limit is lifted
  }
  CHECK(accepted == 200);
  CHECK(log->lost() > 0);
  CHECK(log->write_errors() > 0);
  CHECK(log->written() + log->lost() == accepted);
  CHECK(whole_lines(file) == log->written());
  CHECK(std::filesystem::file_size(file) <= 4096);
  const std::string said = reports.all();
  CHECK_THAT(said, Catch::Contains("records are being lost"));
  CHECK_THAT(said, Catch::Contains("File too large"));
  // One message a burst, not one a record.
  CHECK(reports.messages.size() <= 3);
}

TEST_CASE("a blocking log waits out a full disk instead of losing records", "[log][threads]") {
  TempDir dir("clause-log-wait");
  const auto file = dir.path / "d.jsonl";
  const Decision d = privacy_policy().evaluate_json(request_text);
  Reports reports;
  DecisionLogOptions options = options_for(file);
  options.block_when_full = true;
  options.queue_capacity = 8;
  options.report = reports.sink();
  auto log = DecisionLog::open(options);
  REQUIRE(log);
  {
    const FileSizeLimit limit(2048);
    std::thread freer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      limit.set(RLIM_INFINITY);  // room again, as when an operator frees the disk
    });
    for (int i = 0; i < 100; ++i)
      REQUIRE(log->record(request_text, d));
    freer.join();
    log->close();
  }
  CHECK(log->lost() == 0);
  CHECK(log->dropped() == 0);
  CHECK(log->written() == 100);
  CHECK(whole_lines(file) == 100);
  CHECK(log->write_errors() > 0);
  const std::string said = reports.all();
  CHECK_THAT(said, Catch::Contains("cannot write (File too large); retrying"));
  CHECK_THAT(said, Catch::Contains("writing again; 0 records were lost in all"));
}

TEST_CASE("the log holds at most its bound in bytes, however large the requests",
          "[log][threads]") {
  TempDir dir("clause-log-bytes");
  const auto file = dir.path / "d.jsonl";
  const std::string big = "\"" + std::string(1 << 20, 'a') + "\"";  // 1 MiB, not a request
  const Decision d = privacy_policy().evaluate_json(big);
  DecisionLogOptions options = options_for(file);
  options.block_when_full = true;
  options.queue_max_bytes = 3 << 20;
  auto log = DecisionLog::open(options);
  REQUIRE(log);
  std::atomic<int> accepted{0};
  {
    // The writer cannot write (a full disk) and holds what it has; the caller must wait.
    const FileSizeLimit limit(1);
    std::thread producer([&] {
      for (int i = 0; i < 12; ++i) {
        if (log->record(big, d)) ++accepted;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    CHECK(accepted.load() <= 4);  // 3 MiB and the record that waits
    limit.set(RLIM_INFINITY);
    producer.join();
    log->close();
  }
  CHECK(accepted.load() == 12);
  CHECK(log->written() == 12);
  CHECK(log->dropped() == 0);
  CHECK(whole_lines(file) == 12);
}

TEST_CASE("a log that cannot be written at all counts every record", "[log]") {
  auto log = DecisionLog::open(options_for("/dev/full"));
  REQUIRE(log);
  const Decision d = privacy_policy().evaluate_json(request_text);
  for (int i = 0; i < 50; ++i)
    CHECK(log->record(request_text, d));
  log->close();
  CHECK(log->written() == 0);
  CHECK(log->lost() == 50);
}

TEST_CASE("reopen follows a log that was moved away", "[log]") {
  TempDir dir("clause-log-reopen");
  const auto file = dir.path / "d.jsonl";
  const Decision d = privacy_policy().evaluate_json(request_text);
  DecisionLogOptions options = options_for(file);
  options.block_when_full = true;
  auto log = DecisionLog::open(options);
  REQUIRE(log);
  for (int i = 0; i < 10; ++i)
    REQUIRE(log->record(request_text, d));
  // Wait until the writer has them, so that the move below takes exactly those.
  for (int i = 0; i < 500 && log->written() < 10; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  REQUIRE(log->written() == 10);
  std::filesystem::rename(file, file.string() + ".old");
  log->reopen();
  for (int i = 0; i < 7; ++i)
    REQUIRE(log->record(request_text, d));
  log->close();
  CHECK(whole_lines(file.string() + ".old") == 10);
  CHECK(whole_lines(file) == 7);
}

TEST_CASE("the log cannot open a file in a missing folder, and says so", "[log]") {
  auto log = DecisionLog::open(options_for("/nonexistent/folder/d.jsonl"));
  REQUIRE_FALSE(log);
  CHECK_THAT(log.error(), Catch::Contains("/nonexistent/folder/d.jsonl"));
}

}  // namespace
}  // namespace clause::test
