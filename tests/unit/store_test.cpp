// The live policy: a store swaps in a new file only when it compiles, snapshots outlive
// reloads, and decisions under concurrent reloads come whole from one version or the other.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clause/detail.hpp"
#include "clause/log.hpp"
#include "clause/store.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

std::string version_of(const std::string& effect, const std::string& version) {
  return R"(policy "live" version ")" + version + R"("
clause "c" "The clause."
data info
requester company
action read
)" + effect +
         R"( read of info by company cites "c"
)";
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A file of its own in the temporary folder, removed at the end of the test.
struct TempPolicy {
  std::filesystem::path path;
  explicit TempPolicy(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             (name + "-" + std::to_string(::getpid()) + ".policy")) {}
  ~TempPolicy() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

Request read_request() {
  Request r;
  r.data = "info";
  r.requester = "company";
  r.action = "read";
  return r;
}

TEST_CASE("sha256 gives the standard digests", "[store][hash]") {
  CHECK(detail::sha256_hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(detail::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(detail::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(detail::sha256_hex(std::string(1000, '\0')) ==
        "541b3e9daa09b20bf85fa273e5cbd3e80185aa4ec298e765db87742b70138a53");
  CHECK(detail::sha256_hex(std::string(64, 'a')) ==
        "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("every decision names the policy's version and content hash", "[store][eval]") {
  const Policy p = must_compile(version_of("allow", "7"));
  CHECK(p.content_hash() == "sha256:" + detail::sha256_hex(version_of("allow", "7")));
  const Decision d = p.evaluate(read_request());
  CHECK(d.policy_version == "7");
  CHECK(d.policy_hash == p.content_hash());
  Request bad = read_request();
  bad.data = "nothing";
  const Decision refused = p.evaluate(bad);
  CHECK_FALSE(refused.error.empty());
  CHECK(refused.policy_hash == p.content_hash());
}

TEST_CASE("a store reloads a policy that compiles and keeps the old one otherwise", "[store]") {
  TempPolicy file("clause-store");
  write(file.path, version_of("allow", "1"));
  auto store = PolicyStore::open(file.path.string());
  REQUIRE(store);
  const Policy first = store->current();
  CHECK(first.evaluate(read_request()).effect == Effect::allow);

  write(file.path, version_of("deny", "2"));
  auto reloaded = store->reload();
  REQUIRE(reloaded);
  CHECK(store->current().version() == "2");
  CHECK(store->current().evaluate(read_request()).effect == Effect::deny);
  // The snapshot taken before still decides as it did.
  CHECK(first.evaluate(read_request()).effect == Effect::allow);
  CHECK(first.version() == "1");

  write(file.path, "policy \"live\" version \"3\"\nthis is not a rule\n");
  auto broken = store->reload();
  REQUIRE_FALSE(broken);
  CHECK(broken.error().front().code == "E101");
  CHECK(store->current().version() == "2");
  CHECK(store->reloads() == 1);
  CHECK(store->failed_reloads() == 1);

  std::filesystem::remove(file.path);
  auto missing = store->reload();
  REQUIRE_FALSE(missing);
  CHECK(missing.error().front().code == "E002");
  CHECK(store->current().version() == "2");
}

TEST_CASE("a decision outlives its policy's reloads and reads its texts", "[store][eval]") {
  TempPolicy file("clause-held");
  write(file.path, version_of("allow", "first"));
  auto store = PolicyStore::open(file.path.string());
  REQUIRE(store);
  // The snapshot is a temporary: only the decision keeps the first policy alive.
  const Decision held = store->current().evaluate(read_request());
  const Verdict verdict = store->current().decide(*store->current().resolve(read_request()));
  for (int i = 0; i < 1000; ++i) {
    std::string version = "v";  // appended, not `"v" + ...`: GCC 12 warns on that wrongly
    version += std::to_string(i);
    write(file.path, version_of(i % 2 == 0 ? "deny" : "allow", version));
    REQUIRE(store->reload());
  }
  CHECK(store->current().version() == "v999");
  CHECK(held.effect == Effect::allow);
  CHECK(held.clause == "c");
  CHECK(held.rule == "c/1");
  CHECK(held.reason.find("allow") != std::string_view::npos);
  CHECK(held.policy_version == "first");
  CHECK(held.policy_hash == held.policy.content_hash());
  CHECK(held.policy.texts(verdict).rule == "c/1");
  // A verdict is read only through the policy that made it.
  const VerdictTexts elsewhere = store->current().texts(verdict);
  CHECK(elsewhere.error == "the verdict was not made by this policy");
  CHECK(elsewhere.clause == "default");
  CHECK(elsewhere.rule.empty());
}

TEST_CASE("a FIFO in the policy's place cannot hang a reload", "[store][limits]") {
  TempPolicy file("clause-store-fifo");
  write(file.path, version_of("allow", "1"));
  auto store = PolicyStore::open(file.path.string());
  REQUIRE(store);
  std::filesystem::remove(file.path);
  REQUIRE(::mkfifo(file.path.c_str(), 0600) == 0);
  // No writer ever opens it: reading it would wait for ever.
  const auto start = std::chrono::steady_clock::now();
  auto reloaded = store->reload();
  REQUIRE_FALSE(reloaded);
  CHECK(reloaded.error().front().code == "E002");
  CHECK_THAT(reloaded.error().front().message,
             Catch::Contains("is a FIFO; a policy is read only from a regular file"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(store->current().version() == "1");
  // A device, likewise.
  CHECK_FALSE(PolicyStore::open("/dev/zero"));
}

TEST_CASE("read_source gives up on a pipe that never ends its text", "[limits]") {
  TempPolicy file("clause-read-stall");
  REQUIRE(::mkfifo(file.path.c_str(), 0600) == 0);
  // A writer that holds the FIFO open and writes half a policy, then nothing.
  const int writer = ::open(file.path.c_str(), O_RDWR | O_NONBLOCK);
  REQUIRE(writer >= 0);
  REQUIRE(::write(writer, "policy \"p\"", 10) == 10);
  const auto start = std::chrono::steady_clock::now();
  const auto read =
      read_source(file.path.string(), ReadOptions{.timeout = std::chrono::milliseconds(200)});
  ::close(writer);
  REQUIRE_FALSE(read);
  CHECK_THAT(read.error(), Catch::Contains("took longer than 200 ms"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  const auto missing = read_source("/nonexistent/p.policy");
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == "cannot open `/nonexistent/p.policy`: No such file or directory");
}

TEST_CASE("a store reloads when its file changes, and only then", "[store]") {
  TempPolicy file("clause-store-watch");
  write(file.path, version_of("allow", "1"));
  auto store = PolicyStore::open(file.path.string());
  REQUIRE(store);
  std::optional<Result<Policy, std::vector<Diagnostic>>> result;
  CHECK_FALSE(store->reload_if_changed(result));
  CHECK_FALSE(result.has_value());
  write(file.path, version_of("deny", "2"));
  REQUIRE(store->reload_if_changed(result));
  REQUIRE(result.has_value());
  REQUIRE(result->has_value());
  CHECK(store->current().version() == "2");
  result.reset();
  CHECK_FALSE(store->reload_if_changed(result));
  // A broken file is tried once, then left alone until it changes again.
  write(file.path, "policy \"live\"\n");
  REQUIRE(store->reload_if_changed(result));
  CHECK_FALSE(result->has_value());
  CHECK_FALSE(store->reload_if_changed(result));
  CHECK(store->current().version() == "2");
}

TEST_CASE("a store that cannot read its file says so", "[store]") {
  auto store = PolicyStore::open("/nonexistent/clause.policy");
  REQUIRE_FALSE(store);
  CHECK(store.error().front().code == "E002");
  CHECK_THAT(store.error().front().message, Catch::Contains("/nonexistent/clause.policy"));
}

TEST_CASE("a store without a file denies until a policy is installed", "[store]") {
  auto store = PolicyStore::empty();
  const Decision before = store.current().evaluate(read_request());
  CHECK(before.effect == Effect::deny);
  CHECK_FALSE(before.error.empty());
  std::optional<Result<Policy, std::vector<Diagnostic>>> watched;
  CHECK_FALSE(store.reload_if_changed(watched));
  const auto reloaded = store.reload();
  REQUIRE_FALSE(reloaded);
  CHECK(reloaded.error().front().code == "E002");

  const Policy held = store.current();
  store.install(must_compile(version_of("allow", "1")));
  CHECK(store.current().version() == "1");
  CHECK(store.current().evaluate(read_request()).effect == Effect::allow);
  CHECK(store.reloads() == 1);
  CHECK(store.failed_reloads() == 1);
  // A snapshot taken before still decides as it did.
  CHECK_FALSE(held.evaluate(read_request()).error.empty());
}

TEST_CASE("decisions under concurrent reloads come whole from one version", "[store][threads]") {
  TempPolicy file("clause-store-race");
  const std::string allow = version_of("allow", "a");
  const std::string deny = version_of("deny", "d");
  write(file.path, allow);
  auto store = PolicyStore::open(file.path.string());
  REQUIRE(store);
  const std::string allow_hash = "sha256:" + detail::sha256_hex(allow);
  const std::string deny_hash = "sha256:" + detail::sha256_hex(deny);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> decisions{0};
  std::atomic<std::uint64_t> mixed{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const Policy snapshot = store->current();
        const Decision d = snapshot.evaluate(read_request());
        const bool whole =
            (d.policy_hash == allow_hash && d.effect == Effect::allow && d.policy_version == "a") ||
            (d.policy_hash == deny_hash && d.effect == Effect::deny && d.policy_version == "d");
        if (!whole || !d.error.empty()) ++mixed;
        ++decisions;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    write(file.path, i % 2 == 0 ? deny : allow);
    REQUIRE(store->reload());
  }
  done = true;
  for (auto& t : readers)
    t.join();
  CHECK(mixed == 0);
  CHECK(decisions > 0);
  CHECK(store->reloads() == 200);
}

TEST_CASE("eight threads decide and log while the policy is reloaded", "[store][log][threads]") {
  TempPolicy file("clause-store-log-race");
  const std::string allow = version_of("allow", "a");
  const std::string deny = version_of("deny", "d");
  write(file.path, allow);
  auto store = PolicyStore::open(file.path.string());
  REQUIRE(store);
  DecisionLogOptions log_options;
  log_options.path = file.path.string() + ".log";
  log_options.block_when_full = true;
  log_options.queue_capacity = 256;
  auto log = DecisionLog::open(log_options);
  REQUIRE(log);
  const std::string request =
      R"({"data":{"category":"info"},"requester":{"kind":"company"},"action":"read"})";
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> decisions{0};
  std::atomic<std::uint64_t> mixed{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        // The decision's texts live in the policy: hold the snapshot while using them.
        const Policy snapshot = store->current();
        const Decision d = snapshot.evaluate_json(request);
        const bool whole = (d.policy_version == "a" && d.effect == Effect::allow) ||
                           (d.policy_version == "d" && d.effect == Effect::deny);
        if (!whole) ++mixed;
        if (!log->record(request, d)) ++mixed;
        ++decisions;
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    write(file.path, i % 2 == 0 ? deny : allow);
    REQUIRE(store->reload());
  }
  done = true;
  for (auto& t : readers)
    t.join();
  log->close();
  CHECK(mixed == 0);
  CHECK(log->written() == decisions);
  CHECK(log->dropped() == 0);
  std::ifstream in(log_options.path);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);)
    ++lines;
  CHECK(lines == decisions);
  std::filesystem::remove(log_options.path);
}

}  // namespace
}  // namespace clause::test
