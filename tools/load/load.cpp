// clause-load: a load generator for `clause serve`, and the check that reloads under load
// never mix two policies. Keep-alive connections, one per thread (cpp-httplib's client).
//
//   clause-load decide --port P --body REQ.json [--threads 4] [--seconds 5]
//   clause-load batch  --port P --body REQ.json --batch 1000 [--threads 2] [--seconds 5]
//   clause-load evaluation  --port P --body AUTHZEN.json [--threads 4] [--seconds 5]
//   clause-load evaluations --port P --body AUTHZEN.json --batch 100 [--threads 2]
//               (AuthZEN: /access/v1/evaluation, and `evaluations` of that item repeated)
//   clause-load reload-race --port P --body REQ.json --live FILE --a A.policy --b B.policy
//               --expect VERSION=EFFECT --expect VERSION=EFFECT [--reloads 1000] [--threads 4]
//               [--token FILE]  (the server's --admin-token file)
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string body;
  unsigned threads = 4;
  double seconds = 5;
  std::size_t batch = 1000;
  std::size_t reloads = 1000;
  std::string live, a, b;
  std::string token;                          // the bearer token of /v1/reload
  std::map<std::string, std::string> expect;  // version -> effect
};

int usage() {
  std::fputs(
      "usage: clause-load decide|batch|evaluation|evaluations|reload-race --port P\n"
      "         --body REQUEST.json [options]\n"
      "  --threads N  --seconds S  --batch N (batch, evaluations)  --host H\n"
      "  reload-race: --live FILE --a A.policy --b B.policy --expect V=EFFECT (twice)\n"
      "               --reloads N  --token FILE (the server's --admin-token)\n",
      stderr);
  return 64;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
  return v[at];
}

// Sends the same POST from each thread for the given time; reports rate and latencies.
int hammer(const Options& o, const std::string& path, const std::string& body,
           std::size_t decisions_per_call) {
  std::vector<std::vector<double>> latencies(o.threads);
  std::atomic<std::uint64_t> failed{0};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(o.seconds);
  for (unsigned t = 0; t < o.threads; ++t) {
    pool.emplace_back([&, t] {
      httplib::Client client(o.host, o.port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      while (Clock::now() < until) {
        const auto sent = Clock::now();
        auto res = client.Post(path, body, "application/json");
        latencies[t].push_back(std::chrono::duration<double>(Clock::now() - sent).count());
        if (!res || res->status != 200) ++failed;
      }
    });
  }
  for (auto& th : pool)
    th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies)
    all.insert(all.end(), l.begin(), l.end());
  const double calls = static_cast<double>(all.size());
  fmt::print(
      "{} calls in {:.1f} s with {} threads: {:.0f} calls/s, {:.0f} decisions/s; latency p50 "
      "{:.3f} ms, p99 {:.3f} ms; {} failed\n",
      all.size(), elapsed, o.threads, calls / elapsed,
      calls * static_cast<double>(decisions_per_call) / elapsed, percentile(all, 0.5) * 1e3,
      percentile(all, 0.99) * 1e3, failed.load());
  return failed == 0 ? 0 : 1;
}

int reload_race(const Options& o) {
  if (o.expect.size() != 2 || o.live.empty() || o.a.empty() || o.b.empty()) return usage();
  const std::string a = read(o.a);
  const std::string b = read(o.b);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> decided{0}, failed{0}, mixed{0};
  std::map<std::string, std::uint64_t> seen;
  std::mutex seen_mutex;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < o.threads; ++t) {
    pool.emplace_back([&] {
      httplib::Client client(o.host, o.port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      std::map<std::string, std::uint64_t> mine;
      while (!done) {
        auto res = client.Post("/v1/decide", o.body, "application/json");
        if (!res || res->status != 200) {
          ++failed;
          continue;
        }
        const auto d = nlohmann::json::parse(res->body, nullptr, false);
        const std::string version = d.value("policy_version", "");
        const auto it = o.expect.find(version);
        if (it == o.expect.end() || d.value("decision", "") != it->second) ++mixed;
        ++mine[version];
        ++decided;
      }
      const std::lock_guard lock(seen_mutex);
      for (const auto& [v, n] : mine)
        seen[v] += n;
    });
  }
  httplib::Client control(o.host, o.port);
  if (!o.token.empty()) control.set_bearer_token_auth(o.token.c_str());
  std::uint64_t reload_failures = 0;
  for (std::size_t i = 0; i < o.reloads; ++i) {
    {
      std::ofstream out(o.live + ".next", std::ios::binary | std::ios::trunc);
      out << (i % 2 == 0 ? b : a);
    }
    std::filesystem::rename(o.live + ".next", o.live);  // a whole file, never half of one
    auto res = control.Post("/v1/reload", "", "application/json");
    if (!res || res->status != 200) ++reload_failures;
  }
  done = true;
  for (auto& th : pool)
    th.join();
  std::string versions;
  for (const auto& [v, n] : seen)
    versions += fmt::format(" {}: {}", v, n);
  fmt::print(
      "{} reloads ({} failed) while {} threads decided {} requests ({} failed, {} mixed);"
      " answers by version:{}\n",
      o.reloads, reload_failures, o.threads, decided.load(), failed.load(), mixed.load(), versions);
  return failed == 0 && mixed == 0 && reload_failures == 0 && seen.size() == 2 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  Options o;
  o.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    try {
      if (key == "--port") {
        o.port = std::stoi(value);
      } else if (key == "--host") {
        o.host = value;
      } else if (key == "--body") {
        o.body = read(value);
      } else if (key == "--threads") {
        o.threads = static_cast<unsigned>(std::stoul(value));
      } else if (key == "--seconds") {
        o.seconds = std::stod(value);
      } else if (key == "--batch") {
        o.batch = std::stoul(value);
      } else if (key == "--reloads") {
        o.reloads = std::stoul(value);
      } else if (key == "--live") {
        o.live = value;
      } else if (key == "--a") {
        o.a = value;
      } else if (key == "--token") {
        o.token = read(value);
        while (!o.token.empty() && std::isspace(static_cast<unsigned char>(o.token.back())))
          o.token.pop_back();
      } else if (key == "--b") {
        o.b = value;
      } else if (key == "--expect") {
        const auto eq = value.find('=');
        if (eq == std::string::npos) return usage();
        o.expect[value.substr(0, eq)] = value.substr(eq + 1);
      } else {
        return usage();
      }
    } catch (const std::exception&) {
      return usage();
    }
  }
  if (o.port <= 0 || o.body.empty() || o.threads == 0) return usage();
  if (o.mode == "decide") return hammer(o, "/v1/decide", o.body, 1);
  if (o.mode == "batch") {
    std::string batch = "[";
    for (std::size_t i = 0; i < o.batch; ++i)
      batch += (i ? "," : "") + o.body;
    return hammer(o, "/v1/decide/batch", batch + "]", o.batch);
  }
  if (o.mode == "evaluation") return hammer(o, "/access/v1/evaluation", o.body, 1);
  if (o.mode == "evaluations") {
    std::string batch = R"({"evaluations":[)";
    for (std::size_t i = 0; i < o.batch; ++i)
      batch += (i ? "," : "") + o.body;
    return hammer(o, "/access/v1/evaluations", batch + "]}", o.batch);
  }
  if (o.mode == "reload-race") return reload_race(o);
  return usage();
}
