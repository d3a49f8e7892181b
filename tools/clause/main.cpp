// The `clause` command-line tool: dispatches to one command.
#include <signal.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "clause/dsl/check.hpp"
#include "cli.hpp"

int main(int argc, char** argv) {
  // Past a file size limit a write fails with EFBIG, which the decision log counts and
  // reports, instead of the signal ending the process with records still queued.
  ::signal(SIGXFSZ, SIG_IGN);
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      const std::string topic = args.size() > 1 && args[0] == "help" ? args[1] : "";
      if (!topic.empty() && !clause::cli::is_command(topic)) {
        std::fprintf(stderr, "clause: no help on `%s`; run `clause --help`\n", topic.c_str());
        return clause::cli::exit_usage;
      }
      std::fputs(std::string(clause::cli::help_text(topic)).c_str(), stdout);
      return args.empty() ? clause::cli::exit_usage : clause::cli::exit_ok;
    }
    if (args[0] == "--version") {
      std::printf("clause %s\n", std::string(clause::cli::version).c_str());
      return clause::cli::exit_ok;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (const auto error = clause::cli::take_limit_options(args)) {
      std::fprintf(stderr, "clause %s: %s\nrun `clause --help` for usage\n", command.c_str(),
                   error->c_str());
      return clause::cli::exit_usage;
    }
    if (command == "check") return clause::cli::run_check(args);
    if (command == "eval") return clause::cli::run_eval(args);
    if (command == "test") return clause::cli::run_test(args);
    if (command == "explain") return clause::cli::run_explain(args);
    if (command == "verify") return clause::cli::run_verify(args);
    if (command == "matrix") return clause::cli::run_matrix(args);
    if (command == "analyze") return clause::cli::run_analyze(args);
    if (command == "diff") return clause::cli::run_diff(args);
    if (command == "fmt") return clause::cli::run_fmt(args);
    if (command == "bench") return clause::cli::run_bench(args);
    if (command == "serve") return clause::cli::run_serve(args);
    if (command == "lsp") return clause::cli::run_lsp(args);
    if (command == "man") return clause::cli::run_man(args);
    if (command == "completion") return clause::cli::run_completion(args);
    const std::string guess = clause::dsl::closest_name(command, clause::cli::command_names());
    std::fprintf(stderr, "clause: unknown command `%s`;%s run `clause --help`\n", command.c_str(),
                 guess.empty() ? "" : (" did you mean `" + guess + "`?").c_str());
    return clause::cli::exit_usage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "clause: internal error: %s\n", e.what());
    return clause::cli::exit_failed;
  }
}
