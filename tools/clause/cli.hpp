// The command line: a small argument reader and the commands of the `clause` tool.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "clause/clause.hpp"
#include "clause/dsl/parse.hpp"
#include "clause/log.hpp"

namespace clause::cli {

/// The version `clause --version` prints, the project's.
inline constexpr std::string_view version = CLAUSE_VERSION;

/// Tells whether `name` is a command of the general help.
bool is_command(std::string_view name);
/// The commands, as the main help lists them (for did-you-mean).
std::vector<std::string_view> command_names();

/// Exit codes shared by every command.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;         // the policy has errors, or a check failed
inline constexpr int exit_invalid_input = 2;  // some request could not be decided
inline constexpr int exit_usage = 64;         // the command line itself is wrong

/// Reads `--flag`, `--option value`, `--option=value` and positional arguments, and
/// rejects anything a command does not know.
class Args {
 public:
  Args(std::vector<std::string> args, std::vector<std::string> flags,
       std::vector<std::string> options);

  /// Gives the first error in the command line, if any.
  [[nodiscard]] const std::optional<std::string>& error() const { return error_; }
  [[nodiscard]] bool flag(std::string_view name) const;
  [[nodiscard]] std::optional<std::string> option(std::string_view name) const;
  /// Reads the whole number given to `--name`: `fallback` when not given, empty when the
  /// value is not a whole number.
  [[nodiscard]] std::optional<std::size_t> count(std::string_view name, std::size_t fallback) const;
  [[nodiscard]] const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::vector<std::pair<std::string, std::string>> given_;
  std::vector<std::string> positional_;
  std::optional<std::string> error_;
};

/// The limits every command keeps to: the defaults, or what `--max-...` options set.
clause::Limits& tool_limits();

/// Takes the limit options (`--max-policy-bytes N`, `--max-name-length N`,
/// `--max-condition-depth N`, `--max-rules N`, `--max-request-bytes N`,
/// `--max-json-depth N`) out of a command's arguments into tool_limits(); gives an error
/// for a value that is not a positive number.
std::optional<std::string> take_limit_options(std::vector<std::string>& args);

/// The compile options of the tools: tool_limits(), with the rules kept in memory (the
/// tools read them right away, for lint, tests and traces).
clause::CompileOptions tool_options();

/// The parser's share of tool_limits(), for commands that parse without compiling.
clause::dsl::ParseLimits tool_parse_limits();

/// Runs one command; each returns its exit code.
int run_check(const std::vector<std::string>& args);
int run_eval(const std::vector<std::string>& args);
int run_test(const std::vector<std::string>& args);
int run_explain(const std::vector<std::string>& args);
int run_verify(const std::vector<std::string>& args);
int run_matrix(const std::vector<std::string>& args);
int run_analyze(const std::vector<std::string>& args);
int run_diff(const std::vector<std::string>& args);
int run_fmt(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_serve(const std::vector<std::string>& args);
int run_lsp(const std::vector<std::string>& args);
int run_man(const std::vector<std::string>& args);
int run_completion(const std::vector<std::string>& args);

/// Gathers files: each FILE as given, and under each FOLDER every file whose extension is
/// one of `extensions`, sorted. Sets `error` for an input that does not exist.
std::vector<std::string> gather_files(const std::vector<std::string>& inputs,
                                      std::initializer_list<std::string_view> extensions,
                                      std::string& error);

/// Tells whether the arguments ask for help (`--help` or `-h`).
bool wants_help(const std::vector<std::string>& args);

/// Reads and compiles a policy, printing its diagnostics (on stdout as JSON when asked);
/// empty when it cannot be read or has errors.
std::optional<clause::Policy> load_policy(const std::string& path, bool json_diagnostics = false);

/// Opens the decision log that `--log FILE` and `--log-redact FIELDS` ask for; empty
/// without --log. Sets `failed`, after printing why, when the log cannot be opened.
std::optional<clause::DecisionLog> open_decision_log(const Args& args, bool block_when_full,
                                                     bool& failed);

/// Writes a request as the JSON that `clause eval` reads.
nlohmann::json request_json(const clause::Request& request);

/// Joins names with ", ".
std::string join_names(const std::vector<std::string>& names);

/// Wraps words at `width` columns; lines after the first start after `indent` blanks.
std::string wrap_words(std::string_view text, std::size_t indent, std::size_t width);

/// Reads a whole file, or stdin for "-"; empty when it cannot be read.
std::optional<std::string> read_request_text(const std::string& path);

/// The help text of a command, or of the whole tool for "".
std::string_view help_text(std::string_view command);

}  // namespace clause::cli
