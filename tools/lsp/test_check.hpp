// The diagnostics of a test file against the policy it tests: the names, clause ids and
// attributes its cases write that the policy does not declare, as `clause test` would
// find when running them.
#pragma once

#include <vector>

#include "language.hpp"

namespace clause::lsp {

/// The mistakes of `tests` against the names `policy` declares.
std::vector<Diagnostic> check_tests(const ast::TestFile& tests, const Vocabulary& policy);

}  // namespace clause::lsp
