// One description per command, from which come the options the argument reader accepts,
// the `--help` text, the command list, the man page and the shell completions, so that
// none of them can drift from another.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace clause::cli {

/// One option of a command: `--format text|json  how to print`.
struct OptionSpec {
  std::string_view flag;      // "--format"
  std::string_view argument;  // "text|json" (choices), "FILE", "N", or "" for a flag
  std::vector<std::string_view> description;  // the lines as the help wraps them
  bool repeatable = false;                    // given twice, each counts (else the last wins)
};

/// A command as `clause COMMAND --help` shows it.
struct CommandSpec {
  std::string_view name;                // "eval"
  std::string_view summary;             // its line in the general help
  std::vector<std::string_view> usage;  // "clause eval --policy FILE [options] ..."
  std::string_view body;                // the text between the usage and the options
  std::size_t option_column = 0;        // where the option descriptions start
  // An option named twice with different values (`--format md`, `--format json`) is one
  // option whose choices are those values.
  std::vector<OptionSpec> options;
  std::string_view after;  // the text after the options (notes, exit status)
  int (*run)(const std::vector<std::string>& args) = nullptr;  // runs it; gives the exit code
};

/// Every command, in the order of the general help.
const std::vector<CommandSpec>& command_specs();

/// The command named `name`; null when there is none.
const CommandSpec* find_command(std::string_view name);

/// What the general help says before the list of commands.
std::string_view general_intro();

/// The limit options every command takes.
const std::vector<OptionSpec>& limit_options();

/// The values an option takes when its argument lists them (`text|json`); empty otherwise.
std::vector<std::string> choices(const OptionSpec& option);

/// The help text of a command, or of the whole tool for "".
std::string help_text(std::string_view command);

/// The man page clause(1), in roff.
std::string man_page();

/// The completion script for bash or zsh.
std::string bash_completion();
std::string zsh_completion();

}  // namespace clause::cli
