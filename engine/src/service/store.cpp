// Stage: serve. The store compiles outside any lock, then swaps a shared pointer under a
// short one, so a reader either sees the old policy or the new one, never a mix.
#include "clause/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>

namespace clause {
namespace {

// What tells a changed file apart when polling: its modification time and size.
struct FileStamp {
  std::filesystem::file_time_type time{};
  std::uintmax_t size = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::string& path) {
  std::error_code ec;
  FileStamp s;
  s.time = std::filesystem::last_write_time(path, ec);
  s.size = ec ? 0 : std::filesystem::file_size(path, ec);
  return s;
}

// The stamps of a policy file and of the documents a policy read next to it: a change to
// any of them is a change to what decides.
std::vector<FileStamp> stamps_of(const std::string& path, const Policy& policy) {
  std::vector<FileStamp> out{stamp_of(path)};
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  for (const DocumentInfo& d : policy.documents())
    out.push_back(stamp_of((folder / std::filesystem::path(d.path)).string()));
  return out;
}

}  // namespace

struct PolicyStore::State {
  std::string path;
  CompileOptions options;
  mutable std::mutex current_mutex;  // guards `current` only: held for a copy or a swap
  Policy current;
  std::mutex reload_mutex;  // one reload at a time
  std::atomic<std::uint64_t> reloads{0};
  // Of the file and its documents as last read; guarded by reload_mutex. The documents
  // are those of the policy in force.
  std::vector<FileStamp> stamps;
  std::atomic<std::uint64_t> failed{0};
};

namespace {

Result<Policy, std::vector<Diagnostic>> load(const std::string& path,
                                             const CompileOptions& options) {
  if (path.empty()) {
    Diagnostic d;
    d.code = "E002";
    d.message = "this policy store reads no file: its policy is installed from elsewhere";
    return Failure{std::vector<Diagnostic>{std::move(d)}};
  }
  // A service must not hang on its policy: a FIFO or a device put in the file's place is
  // refused, and a read that stalls (a slow network file system) gives up.
  auto source = read_source(path, ReadOptions{.max_bytes = options.limits.max_policy_bytes,
                                              .regular_file_only = true,
                                              .timeout = std::chrono::seconds(10)});
  if (!source) {
    Diagnostic d;
    d.code = "E002";
    d.message = source.error();
    return Failure{std::vector<Diagnostic>{std::move(d)}};
  }
  return compile(*source, options);
}

}  // namespace

PolicyStore::PolicyStore(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<PolicyStore, std::vector<Diagnostic>> PolicyStore::open(std::string path,
                                                               CompileOptions options) {
  auto policy = load(path, options);
  if (!policy) return Failure{std::move(policy.error())};
  auto state = std::make_shared<State>();
  state->stamps = stamps_of(path, *policy);
  state->path = std::move(path);
  state->options = options;
  state->current = std::move(*policy);
  return PolicyStore(std::move(state));
}

PolicyStore PolicyStore::empty(CompileOptions options) {
  auto state = std::make_shared<State>();
  state->options = options;
  return PolicyStore(std::move(state));
}

void PolicyStore::install(Policy policy) {
  const std::lock_guard serial(state_->reload_mutex);
  Policy old;
  {
    const std::lock_guard lock(state_->current_mutex);
    old = std::exchange(state_->current, std::move(policy));
  }
  // `old` is released here, outside the lock; readers holding it keep it alive.
  state_->reloads.fetch_add(1, std::memory_order_relaxed);
}

Policy PolicyStore::current() const {
  const std::lock_guard lock(state_->current_mutex);
  return state_->current;
}

Result<Policy, std::vector<Diagnostic>> PolicyStore::reload() {
  const std::lock_guard serial(state_->reload_mutex);
  // Stamped before reading, so that a change made while reading is seen next time.
  state_->stamps = stamps_of(state_->path, current());
  auto policy = load(state_->path, state_->options);
  if (!policy) {
    state_->failed.fetch_add(1, std::memory_order_relaxed);
    return Failure{std::move(policy.error())};
  }
  if (policy->documents().size() != current().documents().size() ||
      !std::equal(policy->documents().begin(), policy->documents().end(),
                  current().documents().begin(),
                  [](const DocumentInfo& a, const DocumentInfo& b) { return a.path == b.path; }))
    state_->stamps = stamps_of(state_->path, *policy);  // other documents: watch those
  Policy old;
  {
    const std::lock_guard lock(state_->current_mutex);
    old = std::exchange(state_->current, *policy);
  }
  // `old` is released here, outside the lock; readers holding it keep it alive.
  state_->reloads.fetch_add(1, std::memory_order_relaxed);
  return std::move(*policy);
}

bool PolicyStore::reload_if_changed(
    std::optional<Result<Policy, std::vector<Diagnostic>>>& result) {
  {
    const std::lock_guard serial(state_->reload_mutex);
    if (state_->path.empty()) return false;  // no file to watch
    if (stamps_of(state_->path, current()) == state_->stamps) return false;
  }
  result.emplace(reload());
  return true;
}

const std::string& PolicyStore::path() const {
  return state_->path;
}

std::uint64_t PolicyStore::reloads() const {
  return state_->reloads.load(std::memory_order_relaxed);
}

std::uint64_t PolicyStore::failed_reloads() const {
  return state_->failed.load(std::memory_order_relaxed);
}

}  // namespace clause
