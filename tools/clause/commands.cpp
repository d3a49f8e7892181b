// The commands `check` and `eval`.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "clause/clause.hpp"
#include "clause/detail.hpp"  // decode with the request's id, in one reading
#include "clause/dsl/check.hpp"
#include "clause/json.hpp"
#include "clause/lint.hpp"
#include "clause/log.hpp"
#include "cli.hpp"
#include "log_ship_options.hpp"
#include "sarif.hpp"

namespace clause::cli {
std::optional<DecisionLog> open_decision_log(const Args& args, bool block_when_full, bool& failed) {
  failed = false;
  const auto path = args.option("log");
  if (!path && !args.option("log-url")) return std::nullopt;
  DecisionLogOptions options;
  options.path = path.value_or("");
  options.block_when_full = block_when_full || args.flag("log-block");
  const auto max_bytes = args.count("log-max-bytes", 0);
  const auto keep = args.count("log-keep", options.keep_rotated);
  if (!max_bytes || !keep || *keep == 0) {
    fmt::print(stderr, "clause: error: {}\n",
               !max_bytes ? "--log-max-bytes takes a number of bytes (0: never rotate)"
                          : "--log-keep takes a positive number of files");
    failed = true;
    return std::nullopt;
  }
  if (const auto error = take_log_ship_options(args, options)) {
    fmt::print(stderr, "clause: error: {}\n", *error);
    failed = true;
    return std::nullopt;
  }
  options.rotate_bytes = *max_bytes;
  options.keep_rotated = *keep;
  // Losses are told once a burst, so that an operator hears of a full disk.
  options.report = [](const std::string& message) {
    fmt::print(stderr, "clause: warning: {}\n", message);
    std::fflush(stderr);
  };
  if (const auto fields = args.option("log-redact")) {
    std::string field;
    for (const char c : *fields + ",") {
      if (c != ',') {
        field += c;
      } else if (!field.empty()) {
        options.redact.push_back(std::exchange(field, ""));
      }
    }
  }
  auto log = DecisionLog::open(std::move(options));
  if (!log) {
    fmt::print(stderr, "clause: error: {}\n", log.error());
    failed = true;
    return std::nullopt;
  }
  return std::move(*log);
}

bool wants_help(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--help") != args.end() ||
         std::find(args.begin(), args.end(), "-h") != args.end();
}

// Reads a policy and compiles it, printing diagnostics; empty when it has errors.
std::optional<Policy> load_policy(const std::string& path, bool json_diagnostics,
                                  const CompileOptions* options) {
  auto source = read_policy_source(path);
  if (!source) {
    fmt::print(stderr, "clause: error: {}\n", source.error());
    return std::nullopt;
  }
  auto policy = compile(*source, options != nullptr ? *options : tool_options());
  if (!policy) {
    const std::string out = json_diagnostics ? render_json(*source, policy.error()) + "\n"
                                             : render_text(*source, policy.error());
    std::fputs(out.c_str(), json_diagnostics ? stdout : stderr);
    if (!json_diagnostics) {
      std::size_t errors = 0;
      for (const Diagnostic& d : policy.error())
        errors += d.severity == Severity::error ? 1 : 0;
      fmt::print(stderr, "{}: {} error{}\n", source->name, errors, errors == 1 ? "" : "s");
    }
    return std::nullopt;
  }
  return std::move(*policy);
}

namespace {

// Reads at most `cap` bytes: past the request limit the decoder refuses the text anyway,
// and what follows must not fill the memory.
std::string read_capped(std::istream& in, std::size_t cap) {
  std::string text;
  char chunk[1 << 16];
  while (in && text.size() < cap) {
    in.read(chunk, static_cast<std::streamsize>(std::min(sizeof chunk, cap - text.size())));
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  return text;
}

// Reads lines of at most `cap` bytes each, skipping the rest of a longer one. The input is
// read in large blocks, and a line that lies whole in one is given without a copy.
class LineReader {
 public:
  LineReader(std::istream& in, std::size_t cap) : in_(in), cap_(cap), block_(1U << 16) {}

  // The next line, without its '\n', valid until the next call; nothing at the end.
  std::optional<std::string_view> next() {
    line_.clear();
    bool any = false;
    for (;;) {
      if (at_ == size_ && !refill()) {
        if (!any) return std::nullopt;
        return std::string_view(line_);
      }
      const char* begin = block_.data() + at_;
      const std::size_t left = size_ - at_;
      const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', left));
      const std::size_t length =
          newline != nullptr ? static_cast<std::size_t>(newline - begin) : left;
      at_ += length + (newline != nullptr ? 1 : 0);
      if (newline != nullptr && !any) return std::string_view(begin, std::min(length, cap_));
      any = true;
      line_.append(begin, std::min(length, cap_ - std::min(cap_, line_.size())));
      if (newline != nullptr) return std::string_view(line_);
    }
  }

 private:
  bool refill() {
    at_ = 0;
    size_ = 0;
    if (!in_) return false;
    in_.read(block_.data(), static_cast<std::streamsize>(block_.size()));
    size_ = static_cast<std::size_t>(in_.gcount());
    return size_ > 0;
  }

  std::istream& in_;
  std::size_t cap_;
  std::vector<char> block_;
  std::size_t at_ = 0;
  std::size_t size_ = 0;
  std::string line_;  // a line that crosses blocks
};

}  // namespace

std::optional<std::string> read_request_text(const std::string& path) {
  // One byte past the limit is enough for the decoder to refuse the request.
  const std::size_t cap = tool_limits().max_request_bytes + 1;
  if (path == "-") return read_capped(std::cin, cap);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return read_capped(in, cap);
}

namespace {

// A consent given with dates, for people: `research (expires 2027-01-01)`.
std::string dated_consent(const nlohmann::json& record) {
  const auto text = [&](const char* key) {
    const auto it = record.find(key);
    return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string dates;
  for (const char* key : {"expires", "withdrawn"}) {
    if (!text(key).empty())
      dates += fmt::format("{}{} {}", dates.empty() ? "" : ", ", key, text(key));
  }
  const std::string id = text("id").empty() ? "?" : text("id");
  return dates.empty() ? id : fmt::format("{} ({})", id, dates);
}

// One decision for people: the request, the answer, the clause and its words.
std::string text_decision(const Policy& policy, std::string_view label, std::string_view json_text,
                          const Decision& d) {
  std::string out = fmt::format("{}\n", label);
  // A request nested deeper than any valid one is not parsed here: the JSON library's
  // recursive parts never meet hostile nesting.
  const auto request = json_nesting_exceeds(json_text, 64)
                           ? nlohmann::json(nlohmann::json::value_t::discarded)
                           : nlohmann::json::parse(json_text, nullptr, false);
  if (!request.is_discarded() && request.is_object()) {
    const auto name = [&](const char* a, const char* b) -> std::string {
      if (!request.contains(a)) return "?";
      const auto& v = b ? request[a].value(b, nlohmann::json()) : request[a];
      return v.is_string() ? v.get<std::string>() : "?";
    };
    std::string purpose;
    std::string facts;
    std::string consent;
    std::string objections;
    if (request.contains("context") && request["context"].is_object()) {
      for (const auto& [key, value] : request["context"].items()) {
        if (key == "purpose" && value.is_string()) purpose = value.get<std::string>();
        const auto add_fact = [&](const std::string& fact) {
          facts += (facts.empty() ? "" : ", ") + fact;
        };
        if (value.is_boolean() && value.get<bool>()) add_fact(key);
        // Facts may also come together in `context.facts`, as an object or a list.
        if (key == "facts" && value.is_object()) {
          for (const auto& [fact, holds] : value.items()) {
            if (holds.is_boolean() && holds.get<bool>()) add_fact(fact);
          }
        }
        if (key == "facts" && value.is_array()) {
          for (const auto& fact : value) {
            if (fact.is_string()) add_fact(fact.get<std::string>());
          }
        }
        if (key == "consent" && value.is_array()) {
          for (const auto& c : value) {
            if (c.is_string()) consent += (consent.empty() ? "" : ", ") + c.get<std::string>();
            if (c.is_object()) consent += (consent.empty() ? "" : ", ") + dated_consent(c);
          }
        }
        if (key == "objections" && value.is_array()) {
          for (const auto& o : value) {
            if (o.is_string())
              objections += (objections.empty() ? "" : ", ") + o.get<std::string>();
          }
        }
      }
    }
    // The declared attributes the request gives, as JSON writes them.
    std::string values;
    for (const dsl::AttributeInfo& a : policy.checked().attributes) {
      const std::size_t dot = a.path.find('.');
      const std::string root = a.path.substr(0, dot);
      const std::string field = a.path.substr(dot + 1);
      if (!request.contains(root) || !request[root].is_object() || !request[root].contains(field))
        continue;
      values += fmt::format(
          "{}{} {}", values.empty() ? "" : ", ", a.path,
          request[root][field].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (const auto id = request_id_json(json_text)) out += fmt::format("  id        {}\n", *id);
    out += fmt::format("  request   {} wants to {} {}\n", name("requester", "kind"),
                       name("action", nullptr), name("data", "category"));
    out += fmt::format("  context   purpose {}; facts {}; consent {}\n",
                       purpose.empty() ? "none" : purpose, facts.empty() ? "none" : facts,
                       consent.empty() ? "none" : consent);
    if (!objections.empty()) out += fmt::format("  objected  {}\n", objections);
    if (!values.empty()) out += fmt::format("  values    {}\n", values);
  }
  out += fmt::format("  decision  {}", to_string(d.effect));
  if (d.effect == Effect::require_consent) out += fmt::format(" (consent `{}`)", d.consent);
  out += '\n';
  if (!d.obligations.empty())
    out += fmt::format("  duties    {}\n", fmt::join(d.obligations, ", "));
  out += fmt::format("  clause    {}: \"{}\"\n", d.clause,
                     wrap_words(policy.clause_words(d.clause), 15, 96));
  if (!d.rule.empty()) {
    out += fmt::format("  rule      {}", d.rule);
    for (const dsl::CheckedRule& r : policy.checked().rules) {
      if (r.id != d.rule) continue;
      const LineColumn at = line_column(policy.source().text, r.span.begin);
      out += fmt::format(" at {}:{}:{}", policy.source().name, at.line, at.column);
    }
    out += '\n';
  }
  if (!d.error.empty()) out += fmt::format("  error     {}\n", d.error);
  out += fmt::format("  reason    {}\n", wrap_words(d.reason, 12, 96));
  if (!d.trace.empty()) {
    out += "  trace\n";
    for (const TraceStep& s : d.trace) {
      out += fmt::format("    {:<24} {:<12} {:<30} line {}{}\n", s.rule, to_string(s.tier),
                         to_string(s.outcome), s.position.line,
                         s.detail.empty() ? "" : ": " + s.detail);
    }
  }
  return out;
}

}  // namespace

namespace {

// Indents every line but the first by two blanks, to nest a rendered JSON value.
std::string indented(std::string_view text) {
  std::string out;
  for (const char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

}  // namespace

int run_check(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("check");
  }
  Args args(argv, "check");
  if (args.error()) return usage_error("check", *args.error());
  if (args.positional().size() != 1) return usage_error("check", "expected one policy file");
  const std::string format = args.format();
  const std::string& path = args.positional()[0];
  auto source = read_policy_source(path);
  if (!source) {
    fmt::print(stderr, "clause: error: {}\n", source.error());
    return exit_failed;
  }
  auto policy = compile(*source, tool_options());
  std::vector<Diagnostic> diagnostics;
  if (policy) {
    diagnostics.assign(policy->warnings().begin(), policy->warnings().end());
    const std::vector<Diagnostic> findings = lint(*policy);
    diagnostics.insert(diagnostics.end(), findings.begin(), findings.end());
    sort_by_position(diagnostics);
  } else {
    diagnostics = policy.error();
  }
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const Diagnostic& d : diagnostics) {
    (d.severity == Severity::error ? errors : warnings) += 1;
  }
  if (format == "sarif") {
    fmt::print("{}\n", sarif_diagnostics(*source, diagnostics).dump(2));
  } else if (format == "json") {
    // The diagnostics as the library renders them, in an object that carries the version.
    fmt::print("{{\n  \"schema_version\": {},\n  \"diagnostics\": {}\n}}\n", schema_version,
               indented(render_json(*source, diagnostics)));
  } else {
    std::fputs(render_text(*source, diagnostics).c_str(), stderr);
    if (errors + warnings > 0) {
      fmt::print(stderr, "{}: {} error{}, {} warning{}\n", source->name, errors,
                 errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    }
  }
  const bool failed = errors > 0 || (args.flag("werror") && warnings > 0);
  return failed ? exit_failed : exit_ok;
}

int run_eval(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("eval");
  }
  Args args(argv, "eval");
  if (args.error()) return usage_error("eval", *args.error());
  const auto policy_path = args.option("policy");
  if (!policy_path) return usage_error("eval", "--policy FILE is required");
  const std::string format = args.format("json");
  const bool jsonl = args.flag("jsonl");
  std::vector<std::string> inputs = args.positional();
  if (inputs.empty()) inputs.push_back("-");
  if (jsonl && inputs.size() != 1) return usage_error("eval", "--jsonl reads one FILE or `-`");
  if (std::count(inputs.begin(), inputs.end(), "-") + (*policy_path == "-" ? 1 : 0) > 1) {
    return usage_error("eval", "stdin (`-`) can be read only once");
  }

  // --as-of: the time of every request that gives none.
  std::optional<Instant> as_of;
  if (const auto when = args.option("as-of")) {
    auto at = parse_time(*when);
    if (!at) return usage_error("eval", fmt::format("--as-of {}: {}", *when, at.error()));
    as_of = *at;
  }

  const std::optional<Policy> policy = load_policy(*policy_path);
  if (!policy) return exit_failed;
  if (as_of && policy->checked().time_attribute == dsl::no_id) {
    return usage_error("eval", "--as-of needs a policy that declares `context.time`");
  }
  const EvalOptions options{.trace = args.flag("explain")};

  // The decision log: every record waits for room rather than being dropped.
  if (args.option("log-redact") && !args.option("log")) {
    return usage_error("eval", "--log-redact goes with --log FILE");
  }
  bool log_failed = false;
  std::optional<DecisionLog> log = open_decision_log(args, true, log_failed);
  if (log_failed) return exit_failed;

  // Writes what the log holds to disk; false when some of it could not be written.
  const auto close_log = [&] {
    if (!log) return true;
    log->close();
    const std::uint64_t missing = log->lost() + log->dropped();
    if (missing == 0 && log->write_errors() == 0) return true;
    fmt::print(stderr,
               "clause: error: the decision log `{}` lacks {} of {} decisions ({} failed writes)\n",
               *args.option("log"), missing, missing + log->written(), log->write_errors());
    return false;
  };

  // Decides one request's text, read as at --as-of when it gives no time.
  const auto decide_text = [&](std::string_view text) {
    if (!as_of) return policy->evaluate_json(text, options);
    auto resolved = policy->decode(text, as_of);
    if (resolved) return policy->evaluate(*resolved, options);
    Decision d;
    d.reason = "the request could not be decided";
    d.error = resolved.error().to_string();
    d.policy_version = policy->version();
    d.policy_hash = policy->content_hash();
    d.policy = *policy;
    return d;
  };

  bool all_valid = true;
  std::string out;
  const std::string schema_field = fmt::format(",\"schema_version\":{}}}", schema_version);
  const auto emit = [&](std::string_view label, std::string_view text, Decision d,
                        std::optional<std::string_view> id) {
    all_valid = all_valid && d.error.empty();
    if (log) log->record(text, d);
    if (format == "text") {
      out += text_decision(*policy, label, text, d);
      out += '\n';
    } else {
      // The request's own id first, so that answers can be matched by id, not by line.
      append_json_with_id(out, d, id);
      out.pop_back();  // the closing brace, written again after the version
      out += schema_field;
      out += '\n';
    }
    if (out.size() > (1U << 16)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  };

  if (jsonl) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (inputs[0] != "-") {
      file.open(inputs[0], std::ios::binary);
      if (!file) {
        fmt::print(stderr, "clause: error: cannot open `{}`\n", inputs[0]);
        return exit_failed;
      }
      in = &file;
    }
    LineReader lines(*in, tool_limits().max_request_bytes + 1);
    std::size_t number = 0;
    std::size_t invalid = 0;
    while (const auto next = lines.next()) {
      ++number;
      std::string_view line = *next;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      Decision d;
      // Decoding finds the request's own id too, rather than reading the line again.
      std::optional<std::string_view> id;
      auto resolved = detail::decode(*detail::Access::impl(*policy), line, as_of, &id);
      if (resolved) {
        d = policy->evaluate(*resolved, options);
      } else {
        RequestError e = std::move(resolved.error());
        if (e.position) {
          e.message += fmt::format(" (line {}, column {})", number, e.position->column);
          e.position.reset();
        } else {
          e.message += fmt::format(" (line {})", number);
        }
        d = Decision{};
        d.reason = "the request could not be decided";
        d.error = e.to_string();
        ++invalid;
      }
      // Only text output names the line.
      emit(format == "text" ? fmt::format("line {}", number) : std::string(), line, std::move(d),
           id);
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (invalid > 0) {
      fmt::print(stderr, "clause eval: {} of {} request{} {} not valid and denied\n", invalid,
                 number, number == 1 ? "" : "s", invalid == 1 ? "was" : "were");
    }
    if (!close_log()) return exit_failed;
    return invalid > 0 ? exit_invalid_input : exit_ok;
  }

  for (const std::string& input : inputs) {
    const auto text = read_request_text(input);
    if (!text) {
      Decision d;
      d.reason = "the request could not be decided";
      d.error = fmt::format("cannot read `{}`", input);
      emit(input, "", std::move(d), std::nullopt);
      continue;
    }
    emit(input == "-" ? "stdin" : input, *text, decide_text(*text), request_id_json(*text));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!close_log()) return exit_failed;
  return all_valid ? exit_ok : exit_invalid_input;
}

}  // namespace clause::cli
