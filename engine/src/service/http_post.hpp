// Stage: serve. A minimal HTTP/1.1 client for POSTing one body and reading the status: what
// log shipping needs, without a network library in the engine's link.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace clause::service {

/// An http:// URL taken apart.
struct HttpTarget {
  std::string host, port, path;  // path starts with '/'
};

/// Reads http://HOST[:PORT][/PATH] (an IPv6 host in brackets); the error says what is wrong.
bool parse_http_url(std::string_view url, HttpTarget& out, std::string& error);

/// POSTs `body` with the given header lines ("Name: value") on a new connection; the whole
/// exchange (connect, send, read the status line) ends by `deadline`, or soon after
/// `*cancel` becomes true (when given). Gives the status, or 0 with `error` set when there
/// is none (refused, timed out, cancelled, not HTTP). Resolving the host is not bounded.
int http_post(const HttpTarget& target, const std::vector<std::string>& headers,
              std::string_view body, std::chrono::steady_clock::time_point deadline,
              const std::atomic<bool>* cancel, std::string& error);

}  // namespace clause::service
