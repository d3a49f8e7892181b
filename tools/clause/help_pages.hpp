// The help texts read as structured pages, so that the man page and the shell completions
// are made from the very text `--help` prints and cannot drift from it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace clause::cli {

/// One option of a command as its help lists it: `--format json|text  how to print`.
struct HelpOption {
  std::string flag;      // "--format"
  std::string argument;  // "json|text", "FILE", "N", or "" for a flag
  std::string description;
};

/// A command's help text, cut into its parts.
struct HelpPage {
  std::string command;             // "eval"; "" for the general help
  std::string summary;             // the one line the general help gives the command
  std::vector<std::string> usage;  // "clause eval --policy FILE [options] ..."
  std::vector<std::string> body;   // the lines between the usage and the options
  std::vector<HelpOption> options;
  std::vector<std::string> after;  // the lines after the options (notes, exit status)
};

/// Reads a help text as `clause COMMAND --help` prints it.
HelpPage parse_help(std::string_view command, std::string_view text);

/// Every command of the general help, in its order, with its summary and its page.
std::vector<HelpPage> help_pages();

/// The limit options every command takes, from the general help.
std::vector<HelpOption> limit_options();

/// The man page clause(1), in roff.
std::string man_page();

/// The completion script for bash or zsh.
std::string bash_completion();
std::string zsh_completion();

}  // namespace clause::cli
