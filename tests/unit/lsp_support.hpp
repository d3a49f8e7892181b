// What the language server's tests share: where a needle stands in a text, and the
// analysis options of the tool.
#pragma once

#include <string>

#include "language.hpp"
#include "support.hpp"

namespace clause::test {

inline std::uint32_t offset_of(const std::string& text, const std::string& needle,
                               std::size_t skip = 0) {
  const std::size_t at = text.find(needle);
  REQUIRE(at != std::string::npos);
  return static_cast<std::uint32_t>(at + skip);
}

inline lsp::AnalyzeOptions lsp_options() {
  lsp::AnalyzeOptions o;
  o.compile.keep_rule_tree = true;
  return o;
}

}  // namespace clause::test
