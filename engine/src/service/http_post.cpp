// Stage: serve. One POST on a fresh connection, with non-blocking sockets and poll(), so
// that every step keeps to the caller's deadline: a collector that hangs costs a timeout.
#include "service/http_post.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

namespace clause::service {
namespace {

using Clock = std::chrono::steady_clock;

// Closes the socket when it goes out of scope.
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

// Waits for `events` on fd until the deadline; false on a timeout, an error, or `cancel`
// (looked at every 50 ms).
bool wait_for(int fd, short events, Clock::time_point deadline, const std::atomic<bool>* cancel,
              std::string& error) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || (cancel != nullptr && cancel->load())) {
      error = left <= 0 ? "timed out" : "cancelled";
      return false;
    }
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 50)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::strerror(errno);
      return false;
    }
    if (n > 0) return true;
  }
}

// Connects to one of the host's addresses by the deadline.
bool connect_to(const HttpTarget& target, Socket& socket, Clock::time_point deadline,
                const std::atomic<bool>* cancel, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(target.host.c_str(), target.port.c_str(), &hints, &found);
      rc != 0) {
    error = std::string("cannot resolve: ") + ::gai_strerror(rc);
    return false;
  }
  const std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, ::freeaddrinfo);
  error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Socket s;
    s.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (s.fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    if (::connect(s.fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        error = std::strerror(errno);
        continue;
      }
      if (!wait_for(s.fd, POLLOUT, deadline, cancel, error)) continue;
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
        error = std::strerror(so_error != 0 ? so_error : errno);
        continue;
      }
    }
    std::swap(socket.fd, s.fd);
    return true;
  }
  return false;
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline,
              const std::atomic<bool>* cancel, std::string& error) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline, cancel, error)) return false;
    } else {
      error = std::strerror(errno);
      return false;
    }
  }
  return true;
}

}  // namespace

bool parse_http_url(std::string_view url, HttpTarget& out, std::string& error) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) {
    error = "the URL must start with http:// (https is not supported; use a local proxy)";
    return false;
  }
  url.remove_prefix(scheme.size());
  // It goes into the request line and the Host header as it is.
  if (std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; })) {
    error = "the URL holds a space or a control character";
    return false;
  }
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  std::string_view port = "80";
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "the URL's IPv6 host lacks its `]`";
      return false;
    }
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        error = "the URL has text after its host";
        return false;
      }
      port = authority.substr(close + 2);
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (out.host.empty() || out.host.find('@') != std::string::npos) {
    error = "the URL names no host (or has user information, which is not supported)";
    return false;
  }
  if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
    error = "the URL's port is not a number from 1 to 65535";
    return false;
  }
  out.port = std::string(port);
  return true;
}

int http_post(const HttpTarget& target, const std::vector<std::string>& headers,
              std::string_view body, Clock::time_point deadline, const std::atomic<bool>* cancel,
              std::string& error) {
  try {
    Socket socket;
    if (!connect_to(target, socket, deadline, cancel, error)) return 0;
    const bool v6 = target.host.find(':') != std::string::npos;
    std::string head = "POST " + target.path + " HTTP/1.1\r\nHost: " + (v6 ? "[" : "") +
                       target.host + (v6 ? "]" : "") + ":" + target.port + "\r\n";
    for (const std::string& h : headers)
      head += h + "\r\n";
    head += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    if (!send_all(socket.fd, head, deadline, cancel, error) ||
        !send_all(socket.fd, body, deadline, cancel, error)) {
      return 0;
    }
    // Only the status line matters; the rest of the answer is not read.
    std::string answer;
    char buffer[512];
    while (answer.find("\r\n") == std::string::npos && answer.size() < 4096) {
      const ssize_t n = ::recv(socket.fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        answer.append(buffer, static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (!wait_for(socket.fd, POLLIN, deadline, cancel, error)) return 0;
      } else {
        error = n == 0 ? "the connection was closed without an answer" : std::strerror(errno);
        return 0;
      }
    }
    // "HTTP/1.1 200 OK"
    int status = 0;
    if (answer.size() >= 12 && answer.compare(0, 5, "HTTP/") == 0) {
      const std::size_t space = answer.find(' ');
      if (space != std::string::npos && space + 4 <= answer.size()) {
        std::from_chars(answer.data() + space + 1, answer.data() + space + 4, status);
      }
    }
    if (status < 100 || status > 599) {
      error = "the answer is not HTTP";
      return 0;
    }
    return status;
  } catch (...) {
    error = "out of memory";
    return 0;
  }
}

}  // namespace clause::service
