// The decision-log shipping options of `clause serve` and their /metrics lines.
#include "log_ship_options.hpp"

#include <fmt/format.h>

namespace clause::cli {

std::optional<std::string> take_log_ship_options(const Args& args, DecisionLogOptions& options) {
  const auto url = args.option("log-url");
  if (!url) return std::nullopt;
  LogShipOptions ship;
  ship.url = *url;
  ship.buffer_dir = args.option("log-buffer").value_or("");
  const auto bytes = args.count("log-buffer-bytes", ship.buffer_max_bytes, 1);
  const auto batch = args.count("log-batch", ship.batch_records, 1, 1000000);
  const auto flush = args.count("log-flush", ship.flush_ms, 1);
  const auto drain = args.count("drain-timeout", ship.drain_ms);
  if (!bytes) return std::string("--log-buffer-bytes takes a positive number of bytes");
  if (!batch) return std::string("--log-batch takes a number of records from 1 to 1000000");
  if (!flush) return std::string("--log-flush takes a positive number of milliseconds");
  if (!drain) return std::string("--drain-timeout takes milliseconds");
  ship.buffer_max_bytes = *bytes;
  ship.batch_records = *batch;
  ship.flush_ms = *flush;
  ship.drain_ms = *drain;
  options.ship = std::move(ship);
  return std::nullopt;
}

std::string log_ship_metrics(const DecisionLog& log) {
  const auto c = log.ship_counts();
  if (!c) return {};
  std::string out;
  const auto metric = [&](const char* name, const char* type, const char* help,
                          std::uint64_t value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  metric("clause_log_shipped_records_total", "counter",
         "Decision log records the collector acknowledged (2xx).", c->shipped_records);
  metric("clause_log_buffered_records", "gauge",
         "Decision log records waiting to be shipped, in the buffer or the open batch.",
         c->buffered_records);
  metric("clause_log_buffered_bytes", "gauge", "Compressed bytes of the batches waiting.",
         c->buffered_bytes);
  metric("clause_log_ship_dropped_records_total", "counter",
         "Decision log records not shipped: refused (4xx), or past the buffer's bound.",
         c->dropped_records);
  metric("clause_log_ship_failures_total", "counter",
         "POSTs to the collector that did not end in a 2xx.", c->failures);
  metric("clause_log_ship_retries_total", "counter",
         "Failed POSTs whose batch is sent again, after a backoff.", c->retries);
  return out;
}

}  // namespace clause::cli
