// The command line: a small argument reader and the commands of the `clause` tool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "clause/clause.hpp"
#include "clause/dsl/parse.hpp"
#include "clause/log.hpp"
#include "clause/plan.hpp"
#include "clause/sql.hpp"
#include "help_pages.hpp"

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
/// rejects anything the command's description (help_pages.hpp) does not list, or a value
/// outside an option's choices.
class Args {
 public:
  Args(const std::vector<std::string>& args, const CommandSpec& command);
  /// For the command named `command` (one of command_specs()).
  Args(const std::vector<std::string>& args, std::string_view command);

  /// Gives the first error in the command line, if any.
  [[nodiscard]] const std::optional<std::string>& error() const { return error_; }
  [[nodiscard]] bool flag(std::string_view name) const;
  [[nodiscard]] std::optional<std::string> option(std::string_view name) const;
  /// Every value given to a repeatable `--name`, in order.
  [[nodiscard]] std::vector<std::string> options(std::string_view name) const;
  /// Reads the whole number given to `--name`: `fallback` when not given, empty when the
  /// value is not a whole number from `min` to `max`.
  [[nodiscard]] std::optional<std::size_t> count(std::string_view name, std::size_t fallback,
                                                 std::size_t min = 0,
                                                 std::size_t max = SIZE_MAX) const;
  /// The output format `--format` asks for, or `fallback`.
  [[nodiscard]] std::string format(std::string_view fallback = "text") const;
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
/// `--max-json-depth N`, `--max-documents N`, `--max-document-bytes N`,
/// `--max-document-depth N`) out of a command's arguments into tool_limits(); gives an
/// error for a value that is not a positive number.
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
int run_plan(const std::vector<std::string>& args);
int run_verify(const std::vector<std::string>& args);
int run_matrix(const std::vector<std::string>& args);
int run_analyze(const std::vector<std::string>& args);
int run_diff(const std::vector<std::string>& args);
int run_bundle(const std::vector<std::string>& args);
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

/// A whole number from `min` to `max`, read from all of `text`; empty otherwise.
std::optional<std::size_t> parse_count(std::string_view text, std::size_t min = 0,
                                       std::size_t max = SIZE_MAX);

/// Prints `clause COMMAND: MESSAGE` and where to find the usage; gives exit_usage.
int usage_error(std::string_view command, std::string_view message);

/// Prints the help of `command` and gives exit_ok.
int print_help(std::string_view command);

/// The version of the shape of every JSON output: a field renamed, removed or changed in
/// meaning makes it the next number; added fields keep it (docs/cli.md).
inline constexpr int schema_version = 1;

/// Tells whether the arguments ask for help (`--help` or `-h`).
bool wants_help(const std::vector<std::string>& args);

/// Reads a policy or test file, or stdin for "-" (named `<stdin>` in diagnostics).
Result<SourceFile, std::string> read_policy_source(const std::string& path);

/// Reads and compiles a policy, printing its diagnostics (on stdout as JSON when asked);
/// empty when it cannot be read or has errors. `options`: tool_options() unless given.
std::optional<clause::Policy> load_policy(const std::string& path, bool json_diagnostics = false,
                                          const clause::CompileOptions* options = nullptr);

/// Opens the decision log that `--log FILE` and `--log-redact FIELDS` ask for; empty
/// without --log. Sets `failed`, after printing why, when the log cannot be opened.
std::optional<clause::DecisionLog> open_decision_log(const Args& args, bool block_when_full,
                                                     bool& failed);

/// An attribute's value as a request's JSON writes it; null when absent.
nlohmann::json value_json(const clause::Value& value);

/// A plan as `clause plan --format json` prints it and `POST /v1/plan` answers it.
nlohmann::json plan_json_report(const clause::Plan& plan);

/// A plan's SQL filter as `clause plan --sql D --mapping M --format json` prints it and
/// `POST /v1/sql/D` answers it.
nlohmann::json sql_json_report(const clause::Plan& plan, const clause::SqlFilter& filter);

/// Writes a request as the JSON that `clause eval` reads.
nlohmann::json request_json(const clause::Request& request);

/// Joins names with ", ".
std::string join_names(const std::vector<std::string>& names);

/// Wraps words at `width` columns; lines after the first start after `indent` blanks.
std::string wrap_words(std::string_view text, std::size_t indent, std::size_t width);

/// Reads a whole file, or stdin for "-"; empty when it cannot be read.
std::optional<std::string> read_request_text(const std::string& path);

}  // namespace clause::cli
