// The decision log: every accepted record reaches the file by close(), redaction, the
// accounting of a full queue, rotation by size, and a clean shutdown under load.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "clause/log.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const char* const request_text =
    R"({"data":{"category":"contact_info","id":"d-9"},"requester":{"kind":"counterparty","id":"u-42"},)"
    R"("action":"access","context":{"purpose":"service","in_transaction":true}})";

// A folder of its own in the temporary folder, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

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

TEST_CASE("the log cannot open a file in a missing folder, and says so", "[log]") {
  auto log = DecisionLog::open(options_for("/nonexistent/folder/d.jsonl"));
  REQUIRE_FALSE(log);
  CHECK_THAT(log.error(), Catch::Contains("/nonexistent/folder/d.jsonl"));
}

}  // namespace
}  // namespace clause::test
