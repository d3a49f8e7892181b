// SARIF 2.1.0 logs of `check`, `analyze` and `verify` (`--format sarif`), for code-scanning
// tools; docs/cli.md, "SARIF", gives the mapping.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clause/analyze.hpp"
#include "clause/clause.hpp"
#include "clause/verify.hpp"

namespace clause::cli {

/// The diagnostics of `clause check` as a SARIF log.
nlohmann::ordered_json sarif_diagnostics(const SourceFile& file,
                                         const std::vector<Diagnostic>& diagnostics);

/// The assertions `clause verify` proved or refuted, as a SARIF log.
nlohmann::ordered_json sarif_verify(const std::string& path, const Policy& policy,
                                    const std::vector<AssertionResult>& results);

/// One rule that can never decide, with the code of the lint finding that says so.
struct NeverDecides {
  std::size_t rule = 0;
  std::string code;
};

/// The findings of `clause analyze` as a SARIF log.
nlohmann::ordered_json sarif_analysis(const std::string& path, const Policy& policy,
                                      const Analysis& a, const std::vector<NeverDecides>& never);

}  // namespace clause::cli
