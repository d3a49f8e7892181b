// The decision-log shipping options of `clause serve` (--log-url and its companions) and
// their lines in /metrics.
#pragma once

#include <optional>
#include <string>

#include "clause/log.hpp"
#include "cli.hpp"

namespace clause::cli {

/// Sets options.ship from --log-url, --log-buffer, --log-buffer-bytes, --log-batch,
/// --log-flush (and --drain-timeout, the time left to deliver on stop); the error names
/// the option that is wrong. Without --log-url, nothing.
std::optional<std::string> take_log_ship_options(const Args& args, DecisionLogOptions& options);

/// The shipping counters in Prometheus text; empty when the log does not ship.
std::string log_ship_metrics(const DecisionLog& log);

}  // namespace clause::cli
