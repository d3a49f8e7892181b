// Stage: serve. gzip in memory (zlib): shipped decision-log batches, and policy bundles
// (tools/bundle, through clause::engine_detail).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace clause::service {

/// The gzip member of `data` at zlib's `level` (1 to 9); empty when zlib fails.
std::optional<std::string> gzip(std::string_view data, int level);

}  // namespace clause::service
