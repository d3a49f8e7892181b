// The man page and the shell completions, made from the help texts (help_pages.hpp).
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

// `  --format json|text   how to print`: the flag, its argument, then two blanks.
HelpOption option_of(std::string_view line) {
  line = trim(line);
  HelpOption option;
  const std::size_t gap = line.find("  ");
  const std::string_view spec = line.substr(0, gap);
  option.description = gap == std::string_view::npos ? "" : std::string(trim(line.substr(gap)));
  const std::size_t blank = spec.find(' ');
  option.flag = std::string(spec.substr(0, blank));
  if (blank != std::string_view::npos) option.argument = std::string(trim(spec.substr(blank)));
  return option;
}

// Options listed once per value (`--format md`, `--format json`) become one with choices.
void add_option(std::vector<HelpOption>& options, HelpOption option) {
  for (HelpOption& known : options) {
    if (known.flag != option.flag) continue;
    known.argument += "|" + option.argument;
    known.description += "; " + option.argument + ": " + option.description;
    return;
  }
  options.push_back(std::move(option));
}

// The lines under a heading of the general help (`commands:`), up to a blank line.
std::vector<std::string_view> section(std::string_view heading) {
  std::vector<std::string_view> out;
  bool in = false;
  for (const std::string_view line : lines_of(help_text(""))) {
    if (!in) {
      in = line.starts_with(heading);
      continue;
    }
    if (trim(line).empty()) break;
    out.push_back(line);
  }
  return out;
}

bool takes_files(const HelpOption& option) {
  return option.argument.find("FILE") != std::string::npos ||
         option.argument.find("FOLDER") != std::string::npos;
}

std::vector<std::string> choices(const HelpOption& option) {
  std::vector<std::string> out;
  if (option.argument.find('|') == std::string::npos) return out;
  std::string word;
  for (const char c : option.argument + "|") {
    if (c == '|') {
      out.push_back(std::exchange(word, ""));
    } else {
      word += c;
    }
  }
  return out;
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

HelpPage parse_help(std::string_view command, std::string_view text) {
  HelpPage page;
  page.command = std::string(command);
  enum class Part { usage, body, options, after } part = Part::usage;
  for (const std::string_view line : lines_of(text)) {
    switch (part) {
      case Part::usage:
        if (line.starts_with("usage: ")) {
          page.usage.emplace_back(line.substr(7));
          continue;
        }
        if (!page.usage.empty() && line.starts_with("       clause")) {
          page.usage.emplace_back(trim(line));
          continue;
        }
        part = Part::body;
        [[fallthrough]];
      case Part::body:
        if (line == "options:") {
          part = Part::options;
        } else {
          page.body.emplace_back(line);
        }
        break;
      case Part::options:
        if (trim(line).empty()) {
          part = Part::after;
        } else if (trim(line).starts_with("-")) {
          add_option(page.options, option_of(line));
        } else if (!page.options.empty()) {
          page.options.back().description += " " + std::string(trim(line));
        }
        break;
      case Part::after:
        page.after.emplace_back(line);
        break;
    }
  }
  drop_blank_ends(page.body);
  drop_blank_ends(page.after);
  return page;
}

std::vector<HelpPage> help_pages() {
  std::vector<HelpPage> pages;
  for (const std::string_view line : section("commands:")) {
    const std::string_view entry = trim(line);
    const std::size_t gap = entry.find(' ');
    const std::string_view name = entry.substr(0, gap);
    HelpPage page = parse_help(name, help_text(name));
    page.summary = std::string(trim(entry.substr(gap)));
    pages.push_back(std::move(page));
  }
  return pages;
}

std::vector<HelpOption> limit_options() {
  std::vector<HelpOption> out;
  for (const std::string_view line : section("limits")) {
    out.push_back(option_of(line));
  }
  return out;
}

std::string man_page() {
  const HelpPage general = parse_help("", help_text(""));
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
  std::vector<std::string> intro;
  for (const std::string& line : general.body) {
    if (line.starts_with("commands:")) break;
    intro.push_back(line);
  }
  drop_blank_ends(intro);
  roff_lines(out, intro);
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
  roff_options(out, limit_options());
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
  for (const HelpOption& o : limit_options())
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
  for (const HelpOption& o : limit_options())
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

std::vector<std::string_view> command_names() {
  std::vector<std::string_view> out;
  for (const std::string_view line : section("commands:")) {
    const std::string_view entry = trim(line);
    if (!entry.empty()) out.push_back(entry.substr(0, entry.find(' ')));
  }
  return out;
}

bool is_command(std::string_view name) {
  const auto names = command_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

int run_man(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(std::string(help_text("man")).c_str(), stdout);
    return exit_ok;
  }
  if (!args.empty()) {
    std::fputs("clause man: takes no arguments\nrun `clause man --help` for usage\n", stderr);
    return exit_usage;
  }
  std::fputs(man_page().c_str(), stdout);
  return exit_ok;
}

int run_completion(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(std::string(help_text("completion")).c_str(), stdout);
    return exit_ok;
  }
  if (args.size() != 1 || (args[0] != "bash" && args[0] != "zsh")) {
    std::fputs(
        "clause completion: name a shell: bash or zsh\nrun `clause completion --help` "
        "for usage\n",
        stderr);
    return exit_usage;
  }
  std::fputs((args[0] == "bash" ? bash_completion() : zsh_completion()).c_str(), stdout);
  return exit_ok;
}

}  // namespace clause::cli
