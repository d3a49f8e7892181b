// Stage: serve. One deflate call over the whole input, into a buffer of deflateBound.
#include "service/gzip.hpp"

#include <zlib.h>

namespace clause::service {

std::optional<std::string> gzip(std::string_view data, int level) {
  try {
    z_stream z{};
    // 15 window bits, +16 for the gzip wrapper.
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return std::nullopt;
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return std::nullopt;
    return out;
  } catch (...) {
    return std::nullopt;  // out of memory
  }
}

}  // namespace clause::service
