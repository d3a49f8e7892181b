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
    if (const clause::cli::CommandSpec* spec = clause::cli::find_command(command)) {
      return spec->run(args);
    }
    const std::string guess = clause::dsl::closest_name(command, clause::cli::command_names());
    std::fprintf(stderr, "clause: unknown command `%s`;%s run `clause --help`\n", command.c_str(),
                 guess.empty() ? "" : (" did you mean `" + guess + "`?").c_str());
    return clause::cli::exit_usage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "clause: internal error: %s\n", e.what());
    return clause::cli::exit_failed;
  }
}
