// Stage: serve. A policy file that can be replaced while requests flow.
//
//   auto store = clause::PolicyStore::open("policies/privacy.policy");
//   clause::Policy policy = store->current();   // a snapshot; use it for as long as needed
//   auto reloaded = store->reload();            // on errors the old policy stays in force
//
// A policy that comes from elsewhere (a signed bundle fetched over HTTP) goes into a store
// made by PolicyStore::empty() with install().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clause/clause.hpp"

namespace clause {

/// Holds the compiled policy of one file and swaps in a new one only when it compiles.
/// Copies share one store; every member is safe to call from many threads at once.
class PolicyStore {
 public:
  /// Reads and compiles the file; gives its diagnostics when it cannot be used (a file
  /// that cannot be read gives one diagnostic saying why).
  [[nodiscard]] static Result<PolicyStore, std::vector<Diagnostic>> open(
      std::string path, CompileOptions options = {});

  /// Makes a store with no file: until install() gives it a policy, it holds an empty one,
  /// which denies every request with an error; reload() fails.
  [[nodiscard]] static PolicyStore empty(CompileOptions options = {});

  /// Swaps in a policy compiled elsewhere, as a reload that succeeded does (counted among
  /// reloads()). Serialized with reloads; readers never wait for it.
  void install(Policy policy);

  /// Gives the policy in force now. The snapshot stays valid, and decides as it did,
  /// however many reloads follow; take a new one for each request or batch.
  [[nodiscard]] Policy current() const;

  /// Reads and compiles the file again. When it compiles, it is swapped in and returned;
  /// when it does not (or cannot be read), the policy in force stays and the diagnostics
  /// are returned. Reloads are serialized; readers never wait for a compile.
  [[nodiscard]] Result<Policy, std::vector<Diagnostic>> reload();

  /// Reloads when the file's modification time or size differs from the last one read
  /// (for watching a file by polling); gives whether it tried, and sets `result` then.
  bool reload_if_changed(std::optional<Result<Policy, std::vector<Diagnostic>>>& result);

  /// Gives the file the store reads.
  [[nodiscard]] const std::string& path() const;

  /// Counts the reloads that swapped in a policy, and those that failed.
  [[nodiscard]] std::uint64_t reloads() const;
  [[nodiscard]] std::uint64_t failed_reloads() const;

 private:
  struct State;
  explicit PolicyStore(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace clause
