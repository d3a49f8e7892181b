// `clause serve --bundle-url`: the policy comes from a signed bundle fetched over HTTP every
// --poll milliseconds, and is swapped in only when it verifies and compiles (docs/deploy.md).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "bundle.hpp"
#include "clause/store.hpp"
#include "cli.hpp"
#include "http_server.hpp"

namespace clause::cli {

/// Where the bundles come from and how they are checked.
struct BundleSource {
  std::string url;      // http://HOST[:PORT]/PATH
  std::string key_pem;  // the public key the bundles must be signed with
  std::chrono::milliseconds poll{10000};
  std::chrono::milliseconds timeout{10000};  // for one whole fetch, connect to last byte
  bundle::Limits limits;                     // the archive's size among them
  CompileOptions options;
  // What else a compiled policy must fit before it is swapped in (the gateway mapping):
  // the error says why it does not. None: every policy that compiles is taken.
  std::function<std::optional<std::string>(const Policy&)> accept;
};

/// Reads `--bundle-url`, `--bundle-key`, `--poll` and `--bundle-timeout` into `out` (left
/// empty without --bundle-url; its compile options are tool_options()); gives the exit
/// status when they cannot be used.
std::optional<int> read_bundle_options(const Args& args, std::optional<BundleSource>& out);

/// Fetches the bundle on a thread of its own and installs each new one that verifies and
/// compiles into the store; any failure leaves the policy in force and is recorded.
/// Every member is safe to call from many threads at once.
class BundlePoller {
 public:
  BundlePoller(PolicyStore& store, BundleSource source);
  ~BundlePoller();  // stops, then joins
  BundlePoller(const BundlePoller&) = delete;
  BundlePoller& operator=(const BundlePoller&) = delete;

  /// Asks the thread to end and cuts a fetch in flight short; does not wait.
  void stop();

  /// Whether a bundle is in force (until then, the store denies everything).
  [[nodiscard]] bool active() const;

  /// The answer to a decision asked for before any bundle is in force: 503, denied, and why.
  [[nodiscard]] http::Response not_ready() const;

  /// Adds the bundle's state to an answer of GET /v1/policy (503 before any bundle).
  void annotate_policy(http::Response& res) const;

  /// The bundle's lines of /metrics (Prometheus text).
  [[nodiscard]] std::string metrics() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace clause::cli
