// SHA-256, for the content hash a policy carries into every decision and log line: a
// reader can tell exactly which text decided. OpenSSL's libcrypto computes it.
#pragma once

#include <string>
#include <string_view>

namespace clause::detail {

/// Gives the SHA-256 digest of `data` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace clause::detail
