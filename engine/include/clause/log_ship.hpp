// Stage: serve. Ships decision-log lines to an HTTP collector in gzip'd JSON Lines batches,
// through a bounded buffer (on disk when given a folder), at least once.
//
//   auto ship = clause::LogShipper::open({.url = "http://127.0.0.1:9000/logs",
//                                         .buffer_dir = "/var/lib/clause/ship"});
//   ship->add(line);   // one JSON line; appends to the open batch, never waits on the network
//   ship->close();     // delivers for drain_ms at most; the rest stays in the folder
//
// A DecisionLog ships its lines when DecisionLogOptions::ship is set (clause/log.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "clause/clause.hpp"

namespace clause {

/// Where and how decision-log batches are shipped.
struct LogShipOptions {
  // http://HOST[:PORT][/PATH]: each batch is POSTed there, gzip'd JSON Lines
  // (Content-Type: application/x-ndjson, Content-Encoding: gzip).
  std::string url;
  // Batches not yet acknowledged (2xx) are kept here, one file each, and sent again by the
  // next start; empty: kept in memory only, and lost with the process.
  std::string buffer_dir;
  std::uint64_t buffer_max_bytes = 256ULL << 20;  // compressed; past it the oldest go
  std::size_t batch_records = 500;                // a batch is sealed at this many records
  std::uint64_t flush_ms = 1000;                  // or when its first record is this old
  std::uint64_t timeout_ms = 5000;                // per POST: connect, send, status line
  std::uint64_t backoff_min_ms = 100;             // retries wait min, 2 min, ... max,
  std::uint64_t backoff_max_ms = 30000;           // each with jitter (half to all of it)
  std::uint64_t drain_ms = 5000;                  // close(): time left for delivery
  // Told, from the shipping thread, when delivery starts failing (at most one message
  // every 5 s while it lasts), when it works again, and of batches refused or dropped.
  std::function<void(const std::string& message)> report;
};

/// What a shipper has done; buffered_* are gauges, the rest counters.
struct LogShipCounts {
  std::uint64_t shipped_records = 0;   // acknowledged by the collector (2xx)
  std::uint64_t buffered_records = 0;  // sealed or open, not yet acknowledged
  std::uint64_t buffered_bytes = 0;    // compressed bytes of the sealed batches
  std::uint64_t dropped_records = 0;   // refused (4xx), past the bound, or unwritable
  std::uint64_t failures = 0;          // POSTs that did not end in a 2xx
  std::uint64_t retries = 0;           // failed POSTs whose batch is sent again
};

/// Batches lines and POSTs them from a thread of its own. Copies share one shipper; every
/// member is thread-safe and never throws.
///
/// A batch leaves the buffer only when the collector answers 2xx, so after a failure, a
/// timeout or a restart it may arrive twice: records carry ids for the collector to drop
/// duplicates (DecisionLog's `record_id`). 5xx, 408, 429, timeouts and refused connections
/// are retried with capped exponential backoff; any other status is final for that batch
/// (dropped, counted, reported).
class LogShipper {
 public:
  /// Checks the URL, takes the buffer folder (created if needed; one process at a time),
  /// loads the batches it holds, and starts shipping; the error says why it could not.
  [[nodiscard]] static Result<LogShipper, std::string> open(LogShipOptions options);

  /// Appends one JSON line (with or without its "\n") to the open batch; seals the batch
  /// when full. False when the shipper is closed (the line is dropped and counted).
  bool add(std::string_view line) noexcept;

  /// Seals the open batch, delivers what it can within drain_ms, and stops. What is left
  /// stays in the buffer folder (or, without one, is counted dropped).
  void close() noexcept;

  [[nodiscard]] LogShipCounts counts() const noexcept;

 private:
  struct State;
  explicit LogShipper(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace clause
