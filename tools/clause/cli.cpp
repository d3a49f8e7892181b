// The argument reader and the help texts of the `clause` tool.
#include "cli.hpp"

#include "clause/dsl/check.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

namespace clause::cli {

Args::Args(const std::vector<std::string>& args, std::string_view command) {
  const CommandSpec* spec = find_command(command);
  if (spec == nullptr) {
    error_ = "unknown command `" + std::string(command) + "`";
    return;
  }
  *this = Args(args, *spec);
}

Args::Args(const std::vector<std::string>& args, const CommandSpec& command) {
  const auto find = [&](std::string_view name) -> const OptionSpec* {
    for (const OptionSpec& o : command.options) {
      if (o.flag.substr(2) == name) return &o;
    }
    return nullptr;
  };
  bool only_positional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positional || a == "-" || !a.starts_with("--")) {
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    const std::size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const OptionSpec* spec = find(name);
    if (spec == nullptr) {
      error_ = "unknown option `" + a + "`";
      std::vector<std::string_view> names;
      for (const OptionSpec& o : command.options)
        names.push_back(o.flag.substr(2));
      if (const std::string guess = dsl::closest_name(name, names); !guess.empty()) {
        *error_ += "; did you mean `--" + guess + "`?";
      }
      return;
    }
    if (spec->argument.empty()) {
      if (eq != std::string::npos) {
        error_ = "--" + name + " takes no value";
        return;
      }
      given_.emplace_back(name, "");
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      error_ = "--" + name + " needs a value";
      return;
    }
    // The values an option takes, gathered from every line of the help that names it.
    std::vector<std::string> allowed;
    for (const OptionSpec& o : command.options) {
      if (o.flag != spec->flag) continue;
      const std::vector<std::string> words = choices(o);
      allowed.insert(allowed.end(), words.begin(), words.end());
    }
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      error_ = "--" + name + " takes ";
      for (std::size_t k = 0; k < allowed.size(); ++k) {
        *error_ += (k == 0                    ? ""
                    : k + 1 == allowed.size() ? " or "
                                              : ", ") +
                   ("`" + allowed[k] + "`");
      }
      return;
    }
    given_.emplace_back(name, std::move(value));
  }
}

bool Args::flag(std::string_view name) const {
  return std::any_of(given_.begin(), given_.end(), [&](const auto& g) { return g.first == name; });
}

std::optional<std::string> Args::option(std::string_view name) const {
  std::optional<std::string> value;
  for (const auto& g : given_) {
    if (g.first == name) value = g.second;  // the last one given wins
  }
  return value;
}

std::vector<std::string> Args::options(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& g : given_) {
    if (g.first == name) values.push_back(g.second);
  }
  return values;
}

std::optional<std::size_t> parse_count(std::string_view text, std::size_t min, std::size_t max) {
  std::size_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || stop != end || text.empty() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::size_t> Args::count(std::string_view name, std::size_t fallback, std::size_t min,
                                       std::size_t max) const {
  const auto text = option(name);
  if (!text) return fallback;
  return parse_count(*text, min, max);
}

std::string Args::format(std::string_view fallback) const {
  return option("format").value_or(std::string(fallback));
}

int usage_error(std::string_view command, std::string_view message) {
  fmt::print(stderr, "clause {}: {}\nrun `clause {} --help` for usage\n", command, message,
             command);
  return exit_usage;
}

int print_help(std::string_view command) {
  std::fputs(help_text(command).c_str(), stdout);
  return exit_ok;
}

Result<SourceFile, std::string> read_policy_source(const std::string& path) {
  if (path != "-") return read_source(path, tool_limits().max_policy_bytes);
  auto source = read_source("/dev/stdin", tool_limits().max_policy_bytes);
  if (source) source->name = "<stdin>";
  return source;
}

clause::Limits& tool_limits() {
  static clause::Limits limits;
  return limits;
}

std::optional<std::string> take_limit_options(std::vector<std::string>& args) {
  const std::pair<std::string_view, std::size_t clause::Limits::*> fields[] = {
      {"max-policy-bytes", &clause::Limits::max_policy_bytes},
      {"max-name-length", &clause::Limits::max_name_length},
      {"max-condition-depth", &clause::Limits::max_condition_depth},
      {"max-rules", &clause::Limits::max_rules},
      {"max-request-bytes", &clause::Limits::max_request_bytes},
      {"max-json-depth", &clause::Limits::max_json_depth},
      {"max-documents", &clause::Limits::max_documents},
      {"max-document-bytes", &clause::Limits::max_document_bytes},
      {"max-document-depth", &clause::Limits::max_document_depth}};
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    bool taken = false;
    for (const auto& [name, field] : fields) {
      const std::string flag = "--" + std::string(name);
      std::string value;
      if (a == flag) {
        if (i + 1 == args.size()) return flag + " needs a value";
        value = args[++i];
      } else if (a.starts_with(flag + "=")) {
        value = a.substr(flag.size() + 1);
      } else {
        continue;
      }
      const auto number = parse_count(value, 1);
      if (!number) return flag + " takes a positive number";
      tool_limits().*field = *number;
      taken = true;
      break;
    }
    if (!taken) rest.push_back(a);
  }
  args = std::move(rest);
  return std::nullopt;
}

clause::CompileOptions tool_options() {
  clause::CompileOptions options;
  options.limits = tool_limits();
  options.keep_rule_tree = true;
  return options;
}

clause::dsl::ParseLimits tool_parse_limits() {
  const clause::Limits limits = tool_limits();
  clause::dsl::ParseLimits out;
  out.max_condition_depth = limits.max_condition_depth;
  out.max_name_length = limits.max_name_length;
  return out;
}

std::vector<std::string> gather_files(const std::vector<std::string>& inputs,
                                      std::initializer_list<std::string_view> extensions,
                                      std::string& error) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(input, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string ext = it->path().extension().string();
        if (it->is_regular_file(ec) &&
            std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) {
          found.push_back(it->path().generic_string());
        }
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(input, ec)) {
      files.push_back(input);
    } else {
      error = "no such file or folder: `" + input + "`";
      return {};
    }
  }
  return files;
}

// A request as the JSON that `clause eval` reads.
nlohmann::json request_json(const Request& r) {
  nlohmann::json context = nlohmann::json::object();
  if (r.purpose) context["purpose"] = *r.purpose;
  context["consent"] = r.consent;
  for (const ConsentRecord& record : r.consent_records) {
    nlohmann::json entry = {{"id", record.id}};
    if (record.expires) entry["expires"] = format_instant(*record.expires);
    if (record.withdrawn) entry["withdrawn"] = format_instant(*record.withdrawn);
    context["consent"].push_back(std::move(entry));
  }
  if (!r.objections.empty()) context["objections"] = r.objections;
  for (const std::string& f : r.facts)
    context[f] = true;
  nlohmann::json out = {{"data", {{"category", r.data}}},
                        {"requester", {{"kind", r.requester}, {"id", r.requester_id}}},
                        {"action", r.action},
                        {"context", std::move(context)}};
  for (const Attribute& a : r.attributes) {
    const std::size_t dot = a.path.find('.');
    if (dot == std::string::npos || std::holds_alternative<std::monostate>(a.value)) continue;
    out[a.path.substr(0, dot)][a.path.substr(dot + 1)] = value_json(a.value);
  }
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string wrap_words(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out;
  std::size_t column = indent;
  bool first = true;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n'))
      ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n')
      ++j;
    if (j == i) break;
    const std::string_view word = text.substr(i, j - i);
    if (!first && column + 1 + word.size() > width) {
      out += '\n';
      out += std::string(indent, ' ');
      column = indent;
    } else if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
    i = j;
  }
  return out;
}

}  // namespace clause::cli
