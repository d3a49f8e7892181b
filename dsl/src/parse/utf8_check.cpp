// Stage: parse. The UTF-8 check of a whole file.
#include <fmt/format.h>

#include <algorithm>

#include "parse/recovery.hpp"

namespace clause::dsl::parsing {

// Text that is not UTF-8 would reach clause words, reasons and JSON output: refused (E103),
// one error per run of bad bytes.
void check_utf8(std::string_view text, std::size_t max_errors, std::vector<Diagnostic>& out) {
  std::vector<Diagnostic> bad;
  std::size_t found = 0;
  for (std::size_t at = 0; at < text.size() && found < max_errors;) {
    if (static_cast<unsigned char>(text[at]) < 0x80) {
      ++at;
      continue;
    }
    const std::size_t length = utf8_sequence_length(text, at);
    if (length > 0) {
      at += length;
      continue;
    }
    std::size_t end = at + 1;
    while (end < text.size() && static_cast<unsigned char>(text[end]) >= 0x80 &&
           utf8_sequence_length(text, end) == 0)
      ++end;
    Diagnostic d;
    d.code = "E103";
    d.message = fmt::format("the text is not valid UTF-8: byte {:#04x}{}",
                            static_cast<unsigned>(static_cast<unsigned char>(text[at])),
                            end - at > 1 ? fmt::format(" and {} more", end - at - 1) : "");
    d.span = Span{static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(end)};
    d.help = "save the file as UTF-8";
    bad.push_back(std::move(d));
    ++found;
    at = end;
  }
  if (bad.empty()) return;
  // The parser stumbles on the same bytes; the encoding is the mistake to report.
  std::erase_if(out, [&](const Diagnostic& d) {
    return std::any_of(bad.begin(), bad.end(), [&](const Diagnostic& b) {
      return d.span.begin >= b.span.begin && d.span.begin < b.span.end;
    });
  });
  out.insert(out.end(), bad.begin(), bad.end());
  sort_by_position(out);
  if (out.size() > max_errors) out.resize(max_errors);
}

}  // namespace clause::dsl::parsing
