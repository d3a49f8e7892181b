// The help texts, the man page and the shell completions, made from the descriptions of
// the commands (command_specs.cpp).
#include "help_pages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "cli.hpp"

namespace clause::cli {
namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

void drop_blank_ends(std::vector<std::string>& lines) {
  while (!lines.empty() && trim(lines.back()).empty())
    lines.pop_back();
  while (!lines.empty() && trim(lines.front()).empty())
    lines.erase(lines.begin());
}

// An option as the man page and the completions show it: one entry per flag, its
// choices joined (`md|json|html`), its description in one line.
struct HelpOption {
  std::string flag;
  std::string argument;
  std::string description;
};

// A command as the man page and the completions show it.
struct HelpPage {
  std::string command;
  std::string summary;
  std::vector<std::string> usage;
  std::vector<std::string> body;
  std::vector<HelpOption> options;
  std::vector<std::string> after;
};

std::vector<std::string> text_lines(std::string_view text) {
  std::vector<std::string> out;
  for (const std::string_view line : lines_of(text))
    out.emplace_back(line);
  if (!out.empty() && out.back().empty()) out.pop_back();
  drop_blank_ends(out);
  return out;
}

std::string one_line(const std::vector<std::string_view>& lines) {
  std::string out;
  for (const std::string_view line : lines) {
    if (!out.empty()) out += ' ';
    out += line;
  }
  return out;
}

HelpOption help_option(const OptionSpec& spec) {
  return {std::string(spec.flag), std::string(spec.argument), one_line(spec.description)};
}

// Options listed once per value (`--format md`, `--format json`) become one with choices.
std::vector<HelpOption> merged_options(const std::vector<OptionSpec>& specs) {
  std::vector<HelpOption> options;
  for (const OptionSpec& spec : specs) {
    HelpOption option = help_option(spec);
    const auto known = std::find_if(options.begin(), options.end(),
                                    [&](const HelpOption& o) { return o.flag == option.flag; });
    if (known == options.end()) {
      options.push_back(std::move(option));
      continue;
    }
    known->argument += "|" + option.argument;
    known->description += "; " + option.argument + ": " + option.description;
  }
  return options;
}

std::vector<HelpPage> help_pages() {
  std::vector<HelpPage> pages;
  for (const CommandSpec& spec : command_specs()) {
    HelpPage page{std::string(spec.name), std::string(spec.summary),    {},
                  text_lines(spec.body),  merged_options(spec.options), text_lines(spec.after)};
    for (const std::string_view usage : spec.usage)
      page.usage.emplace_back(usage);
    pages.push_back(std::move(page));
  }
  return pages;
}

std::vector<HelpOption> limit_help_options() {
  std::vector<HelpOption> out;
  for (const OptionSpec& spec : limit_options())
    out.push_back(help_option(spec));
  return out;
}

std::vector<std::string> choices_of(std::string_view argument) {
  std::vector<std::string> out;
  if (argument.empty() || !std::all_of(argument.begin(), argument.end(),
                                       [](char c) { return (c >= 'a' && c <= 'z') || c == '|'; })) {
    return out;
  }
  std::string word;
  for (const char c : std::string(argument) + "|") {
    if (c == '|') {
      out.push_back(std::exchange(word, ""));
    } else {
      word += c;
    }
  }
  return out;
}

std::vector<std::string> choices(const HelpOption& option) {
  if (option.argument.find('|') == std::string::npos) return {};
  return choices_of(option.argument);
}

bool takes_files(const HelpOption& option) {
  return option.argument.find("FILE") != std::string::npos ||
         option.argument.find("FOLDER") != std::string::npos;
}

// roff: a backslash is \e, a minus sign \-, and a line may not start with a control character.
std::string roff(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
  return out;
}

// Text lines as roff: indented lines (examples, lists) keep their layout, the rest flows.
void roff_lines(std::string& out, const std::vector<std::string>& lines) {
  bool literal = false;
  for (const std::string& line : lines) {
    const bool indented = line.starts_with(" ");
    if (indented != literal) {
      out += indented ? ".RS 2\n.nf\n" : ".fi\n.RE\n";
      literal = indented;
    }
    if (trim(line).empty()) {
      out += literal ? "\n" : ".PP\n";
    } else {
      out += roff(literal ? std::string_view(line).substr(2) : std::string_view(line)) + "\n";
    }
  }
  if (literal) out += ".fi\n.RE\n";
}

void roff_options(std::string& out, const std::vector<HelpOption>& options) {
  for (const HelpOption& o : options) {
    out += ".TP\n";
    out += o.argument.empty() ? fmt::format(".B {}\n", roff(o.flag))
                              : fmt::format(".BI {} \" {}\"\n", roff(o.flag), roff(o.argument));
    out += roff(o.description) + "\n";
  }
}

// zsh: an _arguments description, in single quotes, with `[`, `]` and `:` escaped.
std::string zsh_quoted(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, std::min<std::size_t>(text.size(), 70))) {
    if (c == '\'') {
      out += "'\\''";
    } else if (c == '[' || c == ']' || c == ':' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string zsh_spec(const HelpOption& o) {
  std::string spec = fmt::format("'{}[{}]", o.flag, zsh_quoted(o.description));
  if (takes_files(o)) {
    spec += fmt::format(":{}:_files", o.argument);
  } else if (const auto words = choices(o); !words.empty()) {
    std::string list;
    for (const std::string& w : words)
      list += (list.empty() ? "" : " ") + w;
    spec += fmt::format(":{}:({})", o.argument, list);
  } else if (!o.argument.empty()) {
    spec += fmt::format(":{}: ", o.argument);
  }
  return spec + "'";
}

// The words a command takes in place of files, from its usage: `bash|zsh`.
std::vector<std::string> positional_choices(const HelpPage& page) {
  for (const std::string& usage : page.usage) {
    const std::string_view last = trim(std::string_view(usage).substr(usage.rfind(' ') + 1));
    const bool words = std::all_of(last.begin(), last.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || c == '|'; });
    if (words && last.find('|') != std::string_view::npos) {
      return choices(HelpOption{"", std::string(last), ""});
    }
  }
  return {};
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words)
    out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

std::string man_page() {
  std::string out = fmt::format(
      ".\\\" The help texts of `clause`, as a man page; `clause man` writes it.\n"
      ".TH CLAUSE 1 \"\" \"clause {}\" \"User Commands\"\n"
      ".SH NAME\n"
      "clause \\- a policy\\-rules engine: rules that cite the clauses of a privacy policy\n"
      ".SH SYNOPSIS\n.nf\n",
      version);
  const std::vector<HelpPage> pages = help_pages();
  for (const HelpPage& page : pages) {
    for (const std::string& usage : page.usage)
      out += roff(usage) + "\n";
  }
  out += ".fi\n.SH DESCRIPTION\n";
  roff_lines(out, text_lines(general_intro()));
  out += ".SH COMMANDS\n";
  for (const HelpPage& page : pages) {
    out += fmt::format(".SS \"clause {}\"\n", page.command);
    out += roff(page.summary) + ".\n.PP\n";
    roff_lines(out, page.body);
    if (!page.options.empty()) {
      out += ".PP\nOptions:\n";
      roff_options(out, page.options);
    }
    if (!page.after.empty()) {
      out += ".PP\n";
      roff_lines(out, page.after);
    }
  }
  out += ".SH LIMITS\nEvery command takes these options; each takes a positive number.\n";
  roff_options(out, limit_help_options());
  out +=
      ".SH EXIT STATUS\n"
      ".TP\n.B 0\nsuccess\n"
      ".TP\n.B 1\nthe policy has errors, a check failed, or a file cannot be read\n"
      ".TP\n.B 2\nsome request was not valid, and was denied\n"
      ".TP\n.B 64\nthe command line is wrong\n"
      ".SH SEE ALSO\n"
      "The documentation in the source tree: docs/cli.md (every command), docs/language.md "
      "(the policy language), docs/errors.md (every diagnostic), docs/reliability.md (the "
      "limits).\n";
  return out;
}

std::string bash_completion() {
  const std::vector<HelpPage> pages = help_pages();
  std::string commands;
  for (const HelpPage& page : pages)
    commands += (commands.empty() ? "" : " ") + page.command;
  std::string limits;
  for (const HelpOption& o : limit_help_options())
    limits += (limits.empty() ? "" : " ") + o.flag;
  std::string out = fmt::format(
      "# bash completion for clause, made from its help texts by `clause completion bash`.\n"
      "_clause() {{\n"
      "  local cur=\"${{COMP_WORDS[COMP_CWORD]}}\" prev=\"${{COMP_WORDS[COMP_CWORD-1]}}\"\n"
      "  local commands=\"{0}\" limits=\"{1}\" options=\"\"\n"
      "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
      "    COMPREPLY=($(compgen -W \"$commands help --help --version\" -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  case \"$prev\" in\n"
      "    --max-*) return ;;\n"
      "  esac\n"
      "  case \"${{COMP_WORDS[1]}}\" in\n"
      "    help)\n"
      "      [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W \"$commands\" -- \"$cur\"))\n"
      "      return\n"
      "      ;;\n",
      commands, limits);
  for (const HelpPage& page : pages) {
    std::string flags;
    std::string files;
    std::string values;
    std::string chosen;
    for (const HelpOption& o : page.options) {
      flags += (flags.empty() ? "" : " ") + o.flag;
      if (o.argument.empty()) continue;
      if (takes_files(o)) {
        files += (files.empty() ? "" : "|") + o.flag;
      } else if (const auto words = choices(o); !words.empty()) {
        std::string list;
        for (const std::string& w : words)
          list += (list.empty() ? "" : " ") + w;
        chosen += fmt::format(
            "        {}) COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return ;;\n", o.flag, list);
      } else {
        values += (values.empty() ? "" : "|") + o.flag;
      }
    }
    out += fmt::format("    {})\n      options=\"{}\"\n", page.command, flags);
    if (const auto words = positional_choices(page); !words.empty()) {
      out += fmt::format(
          "      [[ \"$cur\" == -* ]] || {{ COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return; "
          "}}\n",
          joined(words));
    }
    if (!files.empty() || !values.empty() || !chosen.empty()) {
      out += "      case \"$prev\" in\n";
      if (!files.empty()) {
        out += fmt::format("        {}) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", files);
      }
      out += chosen;
      if (!values.empty()) out += fmt::format("        {}) return ;;\n", values);
      out += "      esac\n";
    }
    out += "      ;;\n";
  }
  out +=
      "  esac\n"
      "  if [[ \"$cur\" == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$options $limits\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  fi\n"
      "}\n"
      "complete -o filenames -o bashdefault -F _clause clause\n";
  return out;
}

std::string zsh_completion() {
  const std::vector<HelpPage> pages = help_pages();
  std::string out =
      "#compdef clause\n"
      "# zsh completion for clause, made from its help texts by `clause completion zsh`.\n"
      "_clause() {\n"
      "  local -a commands limits\n"
      "  commands=(\n";
  for (const HelpPage& page : pages)
    out += fmt::format("    '{}:{}'\n", page.command, zsh_quoted(page.summary));
  out += "  )\n  limits=(\n";
  for (const HelpOption& o : limit_help_options())
    out += "    " + zsh_spec(o) + "\n";
  out +=
      "  )\n"
      "  if (( CURRENT == 2 )); then\n"
      "    _describe -t commands 'clause command' commands\n"
      "    return\n"
      "  fi\n"
      "  local command=$words[2]\n"
      "  shift words\n"
      "  (( CURRENT-- ))\n"
      "  case $command in\n"
      "    help) _describe -t commands 'clause command' commands ;;\n";
  for (const HelpPage& page : pages) {
    out += fmt::format("    {})\n      _arguments \\\n", page.command);
    for (const HelpOption& o : page.options)
      out += "        " + zsh_spec(o) + " \\\n";
    const auto words = positional_choices(page);
    out += words.empty() ? "        $limits \\\n        '*:file:_files'\n      ;;\n"
                         : fmt::format("        $limits \\\n        '1:word:({})'\n      ;;\n",
                                       joined(words));
  }
  out += "  esac\n}\n_clause \"$@\"\n";
  return out;
}

std::vector<std::string> choices(const OptionSpec& option) {
  return choices_of(option.argument);
}

const CommandSpec* find_command(std::string_view name) {
  for (const CommandSpec& spec : command_specs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::vector<std::string_view> command_names() {
  std::vector<std::string_view> out;
  for (const CommandSpec& spec : command_specs())
    out.push_back(spec.name);
  return out;
}

bool is_command(std::string_view name) {
  return find_command(name) != nullptr;
}

namespace {

// `  --format text|json   how to print`, the description at the command's column; a
// flag too long for it stands on its own line.
void add_option_lines(std::string& out, const OptionSpec& o, std::size_t column) {
  std::string spec = "  " + std::string(o.flag);
  if (!o.argument.empty()) spec += " " + std::string(o.argument);
  std::size_t first = 0;
  if (spec.size() + 1 > column || o.description.empty()) {
    out += spec + "\n";
  } else {
    out += spec + std::string(column - spec.size(), ' ') + std::string(o.description[0]) + "\n";
    first = 1;
  }
  for (std::size_t i = first; i < o.description.size(); ++i)
    out += std::string(column, ' ') + std::string(o.description[i]) + "\n";
}

std::string general_help() {
  std::string out = "usage: clause COMMAND [options]\n\n" + std::string(general_intro());
  out += "\ncommands:\n";
  for (const CommandSpec& spec : command_specs()) {
    std::string name(spec.name);
    name.resize(std::max<std::size_t>(name.size() + 2, 12), ' ');
    out += "  " + name + std::string(spec.summary) + "\n";
  }
  out += "\nlimits, taken by every command (docs/reliability.md):\n";
  for (const OptionSpec& o : limit_options())
    add_option_lines(out, o, 27);
  out += "\nRun `clause COMMAND --help` for a command's options.\n";
  return out;
}

}  // namespace

std::string help_text(std::string_view command) {
  const CommandSpec* spec = find_command(command);
  if (spec == nullptr) return general_help();
  std::string out;
  for (const std::string_view usage : spec->usage)
    out += (out.empty() ? "usage: " : "       ") + std::string(usage) + "\n";
  out += "\n" + std::string(spec->body) + "\noptions:\n";
  for (const OptionSpec& o : spec->options)
    add_option_lines(out, o, spec->option_column);
  if (!spec->after.empty()) out += "\n" + std::string(spec->after);
  return out;
}

int run_man(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    return print_help("man");
  }
  if (!args.empty()) return usage_error("man", "takes no arguments");
  std::fputs(man_page().c_str(), stdout);
  return exit_ok;
}

int run_completion(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    return print_help("completion");
  }
  if (args.size() != 1 || (args[0] != "bash" && args[0] != "zsh")) {
    return usage_error("completion", "name a shell: bash or zsh");
  }
  std::fputs((args[0] == "bash" ? bash_completion() : zsh_completion()).c_str(), stdout);
  return exit_ok;
}

}  // namespace clause::cli
