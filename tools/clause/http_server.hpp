// A small event-driven HTTP/1.1 server (Boost.Beast over Asio) for `clause serve`: exact
// routes, bounded reads (header and body sizes, chunked bodies too), per-connection
// timeouts, a connection cap, strict framing, keep-alive with pipelining, and a graceful
// stop. Handlers are plain functions; the server never lets their exceptions through.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clause::http {

struct Request {
  std::string method;
  std::string path;  // the target without its query
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote;  // the peer's address

  /// The first header of that name (case-insensitive), if any.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// A JSON answer `{"error": message}` with a final line break.
Response json_error(int status, std::string_view message);

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
bool has_json_body(const Request& request);

using Handler = std::function<void(const Request&, Response&)>;
/// Answers a request; called once, from any thread.
using Reply = std::function<void(Response)>;
/// A handler that may answer later (the connection waits, other connections go on).
using AsyncHandler = std::function<void(const Request&, Reply)>;

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;  // 0: any free port
  std::size_t threads = 2;
  std::size_t max_body = 1 << 20;
  std::size_t max_header = 16 * 1024;
  std::size_t max_connections = 256;
  std::chrono::milliseconds header_timeout{10'000};  // from a request's first byte
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive, between requests
  std::chrono::milliseconds write_timeout{30'000};
};

class Server {
 public:
  explicit Server(Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Routes by method and exact path; set before listen().
  void route(std::string method, std::string path, Handler handler);
  void route_async(std::string method, std::string path, AsyncHandler handler);
  /// Routes every path that starts with `prefix` (after the exact routes).
  void route_prefix(std::string method, std::string prefix, Handler handler);
  /// Told of every refusal the server makes itself (no route, too large, malformed).
  void on_refused(std::function<void(int status)> hook);

  /// Binds and listens; false with `error` set when it cannot.
  bool listen(std::string& error);
  [[nodiscard]] unsigned short port() const;
  /// Serves on `threads` threads (this one among them) until stop() has drained.
  void run();
  /// Stops accepting, closes idle connections, lets requests in flight finish, and closes
  /// whatever remains after `drain`. Safe from any thread, any number of times.
  void stop(std::chrono::milliseconds drain);

  struct Impl;  // the server's state, shared with its connections

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace clause::http
