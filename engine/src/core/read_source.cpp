// Reading a policy file: bounded in bytes and time, refusing what is not a file.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "clause/clause.hpp"

namespace clause {
namespace {

std::string_view file_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Closes a file descriptor at the end of a scope.
struct FileDescriptor {
  int fd = -1;
  explicit FileDescriptor(int descriptor) : fd(descriptor) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

Result<SourceFile, std::string> read_file(const std::string& path, const ReadOptions& options) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const std::size_t max_bytes = options.max_bytes;
  const auto too_long = [&](std::string size) -> Result<SourceFile, std::string> {
    return Failure{fmt::format("`{}` is {} bytes long; the limit for a {} file is {} (`{}`)", path,
                               size, options.kind, max_bytes, options.limit_option)};
  };
  const auto not_a_file = [&]() -> Result<SourceFile, std::string> {
    return Failure{fmt::format("`{}` is a folder, not a {} file", path, options.kind)};
  };
  // Not blocking when only regular files will do: opening a FIFO with no writer would wait.
  const FileDescriptor file{
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (options.regular_file_only ? O_NONBLOCK : 0))};
  if (file.fd < 0) {
    if (errno == EISDIR) return not_a_file();
    return Failure{fmt::format("cannot open `{}`: {}", path, std::strerror(errno))};
  }
  // The opened file's own kind and size, not the path's: the path may change meanwhile.
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) {
    return Failure{fmt::format("cannot read `{}`: {}", path, std::strerror(errno))};
  }
  if (S_ISDIR(info.st_mode)) return not_a_file();
  const bool regular = S_ISREG(info.st_mode);
  if (!regular && options.regular_file_only) {
    return Failure{fmt::format("`{}` is {}; a {} is read only from a regular file", path,
                               file_kind(info.st_mode), options.kind)};
  }
  if (regular && static_cast<std::uintmax_t>(info.st_size) > max_bytes) {
    return too_long(std::to_string(info.st_size));
  }
  const auto timed_out = [&]() -> Result<SourceFile, std::string> {
    return Failure{
        fmt::format("reading `{}` took longer than {} ms; gave up", path, options.timeout.count())};
  };
  const auto remaining_ms = [&]() -> int {
    if (options.timeout.count() <= 0) return -1;
    const auto left = options.timeout -
                      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
  };
  // Read at most one byte past the limit, so that not even an endless stream (a pipe,
  // /dev/zero) or a file that grows while read is taken into memory.
  std::string text;
  if (regular) text.reserve(static_cast<std::size_t>(info.st_size));
  std::array<char, 1 << 16> chunk{};
  while (text.size() <= max_bytes) {
    const int wait = remaining_ms();
    if (wait == 0) return timed_out();
    if (!regular && wait > 0) {
      pollfd ready{file.fd, POLLIN, 0};
      const int n = ::poll(&ready, 1, wait);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return timed_out();
    }
    const ssize_t n = ::read(file.fd, chunk.data(),
                             std::min<std::size_t>(chunk.size(), max_bytes + 1 - text.size()));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return Failure{fmt::format("cannot read `{}`: {}", path, std::strerror(errno))};
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
  if (text.size() > max_bytes) return too_long(fmt::format("more than {}", max_bytes));
  return SourceFile{path, std::move(text)};
}

}  // namespace

Result<SourceFile, std::string> read_source(const std::string& path,
                                            const ReadOptions& options) noexcept {
  try {
    return read_file(path, options);
  } catch (const std::exception& e) {
    return Failure{fmt::format("cannot read `{}`: {}", path, e.what())};
  }
}

Result<SourceFile, std::string> read_source(const std::string& path,
                                            std::size_t max_bytes) noexcept {
  return read_source(path, ReadOptions{.max_bytes = max_bytes});
}

}  // namespace clause
