// The command `lsp`: a language server for editors, over stdin and stdout.
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "server.hpp"

namespace clause::cli {

int run_lsp(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("lsp");
  }
  // Editors' clients often pass `--stdio`; it is the only transport there is.
  Args args(argv, "lsp");
  if (args.error()) return usage_error("lsp", *args.error());
  if (!args.positional().empty()) {
    return usage_error("lsp", "takes no file; the editor sends the documents");
  }
  // A client that goes away must end the loop with an error, not kill it with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::ios::sync_with_stdio(false);
  const lsp::AnalyzeOptions options{tool_options(), tool_parse_limits()};
  return lsp::serve(std::cin, std::cout, std::cerr, options, std::string(version));
}

}  // namespace clause::cli
