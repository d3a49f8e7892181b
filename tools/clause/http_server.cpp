// The HTTP server of `clause serve`. Every connection is a Session on a strand of its own:
// it reads one request at a time (bounded in size and time), answers it, and reads the
// next from the bytes already buffered, so pipelined requests are answered in order.
// Beast's parser enforces the header and body limits while it reads, chunked bodies
// included, and refuses conflicting framing; the checks here add what it lets through.
#include "http_server.hpp"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

namespace clause::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// After a final answer the connection is closed gracefully: the server stops sending,
// then reads and drops what the client still sends (bounded), so that closing with
// unread bytes does not reset the connection before the client has read the answer.
constexpr std::size_t linger_bytes = 1 << 20;
constexpr auto linger_time = 500ms;

struct Route {
  std::string method;
  std::string path;
  bool prefix = false;
  Handler handler;
  AsyncHandler async;
};

bool digits_only(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

Response json_error(int status, std::string_view message) {
  Response res;
  res.status = status;
  // Invalid UTF-8 (a path, say) is replaced rather than thrown on.
  res.body = nlohmann::json{{"error", std::string(message)}}.dump(
                 -1, ' ', false, nlohmann::json::error_handler_t::replace) +
             "\n";
  return res;
}

bool has_json_body(const Request& request) {
  const auto type = request.header("Content-Type");
  if (!type) return false;
  std::string_view media = type->substr(0, type->find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t'))
    media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t'))
    media.remove_prefix(1);
  return beast::iequals(media, std::string_view("application/json"));
}

class Session;

struct Server::Impl {
  explicit Impl(Options o) : options(std::move(o)) {}

  Options options;
  std::vector<Route> routes;
  std::function<void(int)> refused;
  std::mutex mutex;  // guards sessions
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::atomic<bool> stopping{false};
  unsigned short bound_port = 0;
  Clock::time_point drain_deadline{};
  // Declared last, so that it is destroyed first: sessions it still holds unregister
  // themselves from the members above.
  net::io_context io;
  tcp::acceptor acceptor{net::make_strand(io)};
  net::steady_timer control_timer{acceptor.get_executor()};  // accept retries, the drain

  const Route* find(std::string_view method, std::string_view path) const {
    for (const auto& r : routes) {
      if (!r.prefix && r.method == method && r.path == path) return &r;
    }
    for (const auto& r : routes) {
      if (r.prefix && r.method == method && path.starts_with(r.path)) return &r;
    }
    return nullptr;
  }
  void refuse(int status) const {
    if (refused) refused(status);
  }
  void accept();
  void admit(tcp::socket socket);
  void forget(Session* s) {
    const std::lock_guard lock(mutex);
    sessions.erase(s);
  }
  std::vector<std::shared_ptr<Session>> live() {
    std::vector<std::shared_ptr<Session>> out;
    const std::lock_guard lock(mutex);
    for (auto& [key, weak] : sessions) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }
  void begin_stop(std::chrono::milliseconds drain);
  void poll_drain();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
  }
  ~Session() { server_.forget(this); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->next_request(); });
  }
  // On stop: a connection waiting between requests is closed; one mid-request finishes.
  void close_if_idle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->stream_.close();
    });
  }
  void force_close() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->stream_.close(); });
  }

 private:
  void next_request() {
    if (server_.stopping) return stream_.close();
    if (buffer_.size() > 0) return read_header();  // a pipelined request is waiting
    // Idle (keep-alive) until the first byte, then the header's own deadline.
    idle_ = true;
    stream_.expires_after(server_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_ = false;
                              if (ec) return self->stream_.close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header));
    parser_->body_limit(server_.options.max_body);
    stream_.expires_after(server_.options.header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_error(ec);
    const auto& req = parser_->get();
    // Framing Beast lets through but a proxy in front might read differently: a repeated
    // Content-Length (even with equal values), a list, or a coding other than chunked.
    const auto lengths = req.count(bhttp::field::content_length);
    if (lengths > 1 ||
        (lengths == 1 && !digits_only(std::string_view(req[bhttp::field::content_length])))) {
      return refuse(400, "the request's Content-Length is invalid or repeated");
    }
    const auto codings = req.count(bhttp::field::transfer_encoding);
    if (codings > 1 || (codings == 1 && !beast::iequals(req[bhttp::field::transfer_encoding],
                                                        std::string_view("chunked")))) {
      return refuse(400, "the request's Transfer-Encoding is not `chunked` alone");
    }
    if (parser_->is_done()) return handle();
    if (beast::iequals(req[bhttp::field::expect], std::string_view("100-continue"))) {
      // The client waits for this before it sends the body.
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(server_.options.write_timeout);
      return net::async_write(stream_, net::buffer(go_on.data(), go_on.size()),
                              [self = shared_from_this()](beast::error_code e, std::size_t) {
                                if (e) return self->stream_.close();
                                self->read_body();
                              });
    }
    read_body();
  }

  void read_body() {
    stream_.expires_after(server_.options.body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->on_error(ec);
                        self->handle();
                      });
  }

  void on_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return refuse(413, fmt::format("the body is larger than {} bytes", server_.options.max_body));
    }
    if (ec == bhttp::error::header_limit) {
      return refuse(431, fmt::format("the request header is larger than {} bytes",
                                     server_.options.max_header));
    }
    // The client went away or was too slow: nobody to answer.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::bad_descriptor) {
      return stream_.close();
    }
    refuse(400, fmt::format("malformed request: {}", ec.message()));
  }

  // The server's own refusal; the connection is closed after it.
  void refuse(int status, std::string_view message) {
    server_.refuse(status);
    keep_alive_ = false;
    send(json_error(status, message));
  }

  void handle() {
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.path = request.target.substr(0, request.target.find('?'));
    request.headers.reserve(8);
    for (const auto& field : req) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(req.body());
    request.remote = remote_;
    parser_.reset();

    const Route* route = server_.find(request.method, request.path);
    if (route == nullptr) {
      server_.refuse(404);
      return send(json_error(404, fmt::format("no route {} {}", request.method, request.path)));
    }
    if (route->handler) {
      Response res;
      try {
        route->handler(request, res);
      } catch (const std::exception& e) {
        res = json_error(500, fmt::format("internal error: {}", e.what()));
      } catch (...) {
        res = json_error(500, "internal error");
      }
      return send(std::move(res));
    }
    // An answer that comes later, from another thread: back onto this connection's strand.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Reply reply = [self = shared_from_this(), answered](Response res) {
      if (answered->exchange(true)) return;
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
    };
    try {
      route->async(request, reply);
    } catch (const std::exception& e) {
      reply(json_error(500, fmt::format("internal error: {}", e.what())));
    } catch (...) {
      reply(json_error(500, "internal error"));
    }
  }

  void send(Response r) {
    if (!stream_.socket().is_open()) return;  // closed meanwhile (a forced stop)
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(r.status));
    if (!r.content_type.empty()) res_.set(bhttp::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers)
      res_.set(name, value);
    res_.body() = std::move(r.body);
    const bool keep = keep_alive_ && !server_.stopping;
    res_.keep_alive(keep);
    res_.prepare_payload();
    stream_.expires_after(server_.options.write_timeout);
    bhttp::async_write(stream_, res_,
                       [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                         if (ec) return self->stream_.close();
                         if (!keep) return self->linger();
                         self->next_request();
                       });
  }

  void linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return stream_.close();
    buffer_.consume(buffer_.size());
    stream_.expires_after(linger_time);
    drain();
  }
  void drain() {
    stream_.async_read_some(buffer_.prepare(16384),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > linger_bytes) {
                                return self->stream_.close();
                              }
                              self->drain();
                            });
  }

  beast::tcp_stream stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> res_;
  std::string remote_;
  bool keep_alive_ = true;
  bool idle_ = false;
  std::size_t lingered_ = 0;
};

void Server::Impl::accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors, say: try again a little later rather than spin.
      control_timer.expires_after(50ms);
      control_timer.async_wait([this](beast::error_code) {
        if (!stopping) accept();
      });
      return;
    }
    admit(std::move(socket));
    accept();
  });
}

void Server::Impl::admit(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);  // small answers go out at once
  std::size_t open = 0;
  {
    const std::lock_guard lock(mutex);
    open = sessions.size();
  }
  if (open >= options.max_connections) {
    // Over the cap: a short refusal (it fits any fresh socket's buffer), then close.
    static const std::string body = "{\"error\":\"too many open connections\"}\n";
    static const std::string full = fmt::format(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.size(), body);
    socket.non_blocking(true, ec);
    net::write(socket, net::buffer(full.data(), full.size()), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    refuse(503);
    return;
  }
  auto session = std::make_shared<Session>(std::move(socket), *this);
  {
    const std::lock_guard lock(mutex);
    sessions.emplace(session.get(), session);
  }
  session->start();
}

void Server::Impl::begin_stop(std::chrono::milliseconds drain) {
  if (stopping.exchange(true)) return;
  beast::error_code ec;
  acceptor.close(ec);
  control_timer.cancel();
  for (auto& s : live())
    s->close_if_idle();
  drain_deadline = Clock::now() + drain;
  poll_drain();
}

// Waits for the connections to finish; past the deadline, closes whatever remains. When
// none is left nothing more is queued here, and the I/O threads return.
void Server::Impl::poll_drain() {
  auto left = live();
  if (left.empty()) return;
  if (Clock::now() >= drain_deadline) {
    for (auto& s : left)
      s->force_close();
    return;
  }
  left.clear();
  control_timer.expires_after(10ms);
  control_timer.async_wait([this](beast::error_code) { poll_drain(); });
}

Server::Server(Options options) : impl_(std::make_shared<Impl>(std::move(options))) {}

Server::~Server() = default;

void Server::route(std::string method, std::string path, Handler handler) {
  impl_->routes.push_back({std::move(method), std::move(path), false, std::move(handler), {}});
}

void Server::route_async(std::string method, std::string path, AsyncHandler handler) {
  impl_->routes.push_back({std::move(method), std::move(path), false, {}, std::move(handler)});
}

void Server::route_prefix(std::string method, std::string prefix, Handler handler) {
  impl_->routes.push_back({std::move(method), std::move(prefix), true, std::move(handler), {}});
}

void Server::on_refused(std::function<void(int)> hook) {
  impl_->refused = std::move(hook);
}

bool Server::listen(std::string& error) {
  beast::error_code ec;
  tcp::resolver resolver(impl_->io);
  const auto found = resolver.resolve(impl_->options.host, std::to_string(impl_->options.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || found.empty()) {
    error = ec ? ec.message() : "no address";
    return false;
  }
  const tcp::endpoint at = found.begin()->endpoint();
  auto& acceptor = impl_->acceptor;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error = ec.message();
    beast::error_code ignored;
    acceptor.close(ignored);
    return false;
  }
  impl_->bound_port = acceptor.local_endpoint(ec).port();
  return true;
}

unsigned short Server::port() const {
  return impl_->bound_port;
}

void Server::run() {
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] { impl->accept(); });
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->options.threads; ++i)
    threads.emplace_back([impl = impl_.get()] { impl->io.run(); });
  impl_->io.run();
  for (auto& t : threads)
    t.join();
}

void Server::stop(std::chrono::milliseconds drain) {
  net::post(impl_->acceptor.get_executor(),
            [impl = impl_.get(), drain] { impl->begin_stop(drain); });
}

}  // namespace clause::http
