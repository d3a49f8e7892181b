// Stage: serve. An audit log of decisions as JSON Lines, written off the hot path.
//
//   auto log = clause::DecisionLog::open({.path = "decisions.jsonl"});
//   log->record(request_json_text, decision);   // queues; never blocks by default
//   log->close();                               // drains, flushes and fsyncs
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clause/clause.hpp"
#include "clause/log_ship.hpp"

namespace clause {

/// How a decision log writes.
struct DecisionLogOptions {
  std::string path;  // the JSON Lines file, appended to; may be empty when `ship` is set
  std::size_t queue_capacity = 65536;  // records waiting for the writer
  // Bytes of records held, queued or being written (a request may be 1 MiB): past it a
  // record is dropped, or waits with block_when_full. A record larger than this is taken
  // when nothing else is held.
  std::size_t queue_max_bytes = 64 << 20;
  // Wait for room instead of dropping (and counting). A write that fails (a full disk) is
  // then retried for up to `retry_ms` before its records count as lost.
  bool block_when_full = false;
  std::uint64_t retry_ms = 10000;
  std::uint64_t rotate_bytes = 0;  // past this size, FILE becomes FILE.1 (0: never)
  std::size_t keep_rotated = 5;    // FILE.1 ... FILE.N are kept, older ones removed
  // Request fields written as "[redacted]": dotted paths such as "requester.id",
  // "data.id", "id" or "context.purpose"; "context.*" redacts every context field.
  std::vector<std::string> redact;
  // Told, from the writer thread, when records start to be lost (a failed write, a full
  // queue) and when writing works again: one message a burst, at most one every 5 s while
  // it lasts. A command prints it on stderr; none by default.
  std::function<void(const std::string& message)> report;
  // Also (or, without a path, only) ship every line to an HTTP collector (log_ship.hpp);
  // its report is this report when it has none.
  std::optional<LogShipOptions> ship;
};

/// Writes one JSON line per decision: `time` (UTC, RFC 3339 with milliseconds), `record_id`
/// (unique across records, restarts and processes: a random id of this log's opening, a
/// dash and the record's number, as "5f0c2a9e81d3b7c4-42"), `request`
/// (as given, redacted; a request that is not JSON, or nested deeper than 64 levels, is
/// kept as the string `request_text`), `decision`, `clause`, `rule`, `consent`, `error`,
/// `policy_version` and `policy_hash`. A writer thread does the formatting and the I/O;
/// record() only queues. Copies share one log; every member is thread-safe.
///
/// Nothing is lost silently: a record is written whole or not at all (a write cut short by
/// a full disk is cut back to the last whole line), and every record not written is
/// counted as dropped (full queue, or after close) or lost (its write failed).
class DecisionLog {
 public:
  /// Opens (or creates) the file and starts the writer; the error says why it could not.
  [[nodiscard]] static Result<DecisionLog, std::string> open(DecisionLogOptions options);

  /// Queues one decision with the request it answers (JSON text, as received). Gives
  /// false when the queue was full and the record was dropped (and counted); with
  /// block_when_full it waits instead. Never throws.
  bool record(std::string_view request_json, const Decision& decision) noexcept;

  /// Writes everything queued, flushes and fsyncs the file, and stops the writer. Records
  /// after close() are dropped. Called by the last copy's destructor too.
  void close() noexcept;

  /// Closes the file and opens its path again before the next write, so that a log moved
  /// away (by logrotate, say) is followed by a new file. For SIGHUP. Never throws.
  void reopen() noexcept;

  /// Counts records written to the file, dropped (full queue, or after close), lost
  /// (accepted but their write failed), and failed writes (system calls, not records).
  [[nodiscard]] std::uint64_t written() const noexcept;
  [[nodiscard]] std::uint64_t dropped() const noexcept;
  [[nodiscard]] std::uint64_t lost() const noexcept;
  [[nodiscard]] std::uint64_t write_errors() const noexcept;
  /// What shipping has done, when the log ships.
  [[nodiscard]] std::optional<LogShipCounts> ship_counts() const noexcept;

 private:
  struct State;
  explicit DecisionLog(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace clause
