// The command `diff`: every decision that changes between two versions of a policy, or
// between two versions of a data document under one policy (`--data NAME=FILE`).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "clause/diff.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

std::string side_text(const DiffSide& s) {
  std::string out(to_string(s.effect));
  if (!s.consent.empty()) out += fmt::format(" `{}`", s.consent);
  out += fmt::format(", citing {}", s.clause);
  if (!s.rule.empty()) out += fmt::format(" (rule {})", s.rule);
  if (!s.obligations.empty()) out += fmt::format(", obliging {}", join_names(s.obligations));
  if (!s.error.empty()) out += fmt::format(": {}", s.error);
  return out;
}

nlohmann::json side_json(const DiffSide& s) {
  nlohmann::json j = {{"decision", to_string(s.effect)}, {"clause", s.clause}, {"rule", s.rule}};
  if (!s.consent.empty()) j["consent"] = s.consent;
  if (!s.obligations.empty()) j["obligations"] = s.obligations;
  if (!s.error.empty()) j["error"] = s.error;
  return j;
}

// The keys of a data diff's region, the first few of a long list.
std::string keys_text(const std::vector<std::string>& keys) {
  constexpr std::size_t shown = 10;
  if (keys.size() <= shown) return join_names(keys);
  return fmt::format("{} and {} more",
                     join_names(std::vector<std::string>(keys.begin(), keys.begin() + shown)),
                     keys.size() - shown);
}

// A data diff's changed entries, one line each.
std::string entries_text(const Diff& d) {
  if (d.entries.empty()) {
    return fmt::format("document `{}`: no entry changed in a field the policy reads\n", d.document);
  }
  std::string out = fmt::format("document `{}`: {} entr{} changed\n", d.document, d.entries.size(),
                                d.entries.size() == 1 ? "y" : "ies");
  for (const DiffEntry& e : d.entries)
    out += fmt::format("  {} {}: {}\n", e.change, e.key, join_names(e.fields));
  return out + "only requests whose key names a changed entry can change\n\n";
}

// The policy compiled with one document read from another file: `spec` is NAME=FILE.
std::optional<Policy> with_document(const std::string& policy_path, const Policy& policy,
                                    const std::string& spec, std::string& error) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    error = fmt::format("--data takes NAME=FILE, not `{}`", spec);
    return std::nullopt;
  }
  const std::string name = spec.substr(0, eq);
  const std::string file = spec.substr(eq + 1);
  std::optional<std::string> declared;
  std::vector<std::string> names;
  for (const DocumentInfo& d : policy.documents()) {
    names.emplace_back(d.name);
    if (d.name == name) declared = std::string(d.path);
  }
  if (!declared) {
    error = names.empty() ? fmt::format("{} declares no document", policy_path)
                          : fmt::format("{} declares no document `{}` (it declares {})",
                                        policy_path, name, join_names(names));
    return std::nullopt;
  }
  // Read once up front, so that a file that cannot be read is named as given.
  if (auto readable = read_source(file, ReadOptions{.max_bytes = tool_limits().max_document_bytes,
                                                    .regular_file_only = true});
      !readable) {
    fmt::print(stderr, "clause diff: error: {}\n", readable.error());
    return std::nullopt;
  }
  CompileOptions options = tool_options();
  const std::filesystem::path folder = std::filesystem::path(policy_path).parent_path();
  const ReadOptions read{.max_bytes = tool_limits().max_document_bytes,
                         .regular_file_only = true,
                         .timeout = std::chrono::seconds(10)};
  options.read_document = [declared, file, folder, read](std::string_view path) {
    return read_source(path == *declared ? file : (folder / std::filesystem::path(path)).string(),
                       read);
  };
  return load_policy(policy_path, false, &options);
}

// The names only one version declares, one line per kind and change.
std::string names_text(const std::vector<DiffNames>& names) {
  std::string out;
  for (const DiffNames& n : names) {
    for (const auto& [what, list] : {std::pair{"added", &n.added}, std::pair{"removed", &n.removed},
                                     std::pair{"changed", &n.changed}}) {
      if (!list->empty()) out += fmt::format("{} {}: {}\n", n.kind, what, join_names(*list));
    }
  }
  if (!out.empty()) {
    out += "requests valid under one version only are not compared\n\n";
  }
  return out;
}

}  // namespace

int run_diff(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("diff");
  }
  Args args(argv, "diff");
  if (args.error()) return usage_error("diff", *args.error());
  const std::optional<std::string> data = args.option("data");
  std::optional<Policy> before, after;
  std::optional<Diff> compared;
  if (data) {
    if (args.positional().size() != 1) {
      return usage_error("diff", "with --data, expected one policy file: POLICY");
    }
    if (args.positional()[0] == "-") {
      return usage_error("diff", "with --data, the policy is read twice: give a file, not `-`");
    }
    before = load_policy(args.positional()[0]);
    if (!before) return exit_failed;
    std::string error;
    after = with_document(args.positional()[0], *before, *data, error);
    if (!error.empty()) return usage_error("diff", error);
    if (!after) return exit_failed;
    auto d = diff_data(*before, *after);
    if (!d) {
      fmt::print(stderr, "clause diff: error: {}\n", d.error());
      return exit_failed;
    }
    compared = std::move(*d);
    if (compared->document.empty()) compared->document = data->substr(0, data->find('='));
  } else {
    if (args.positional().size() != 2) {
      return usage_error("diff", "expected two policy files: OLD NEW");
    }
    if (args.positional()[0] == "-" && args.positional()[1] == "-") {
      return usage_error("diff", "stdin (`-`) can be read only once");
    }
    before = load_policy(args.positional()[0]);
    after = load_policy(args.positional()[1]);
    if (!before || !after) return exit_failed;
    compared = diff_policies(*before, *after);
  }
  const Diff& d = *compared;
  if (args.format() == "json") {
    nlohmann::json regions = nlohmann::json::array();
    for (const auto& r : d.regions) {
      regions.push_back({{"actions", r.actions},
                         {"requesters", r.requesters},
                         {"data", r.data},
                         {"before", side_json(r.before)},
                         {"after", side_json(r.after)},
                         {"requests", r.requests},
                         {"attributes", r.attributes},
                         {"witness", request_json(r.witness)}});
      if (!r.looked_up.empty()) {
        nlohmann::json looked_up = nlohmann::json::object();
        for (const Attribute& a : r.looked_up)
          looked_up[a.path] = value_json(a.value);
        regions.back()["looked_up"] = std::move(looked_up);
      }
      if (data) {
        regions.back()["key_attribute"] = r.key_attribute;
        regions.back()["keys"] = r.keys;
      }
    }
    nlohmann::json names = nlohmann::json::array();
    for (const DiffNames& n : d.names) {
      names.push_back(
          {{"kind", n.kind}, {"added", n.added}, {"removed", n.removed}, {"changed", n.changed}});
    }
    nlohmann::json out = {{"schema_version", schema_version}, {"names", std::move(names)},
                          {"changed_requests", d.changed},    {"total_requests", d.total},
                          {"complete", d.complete},           {"regions", std::move(regions)}};
    if (data) {
      nlohmann::json entries = nlohmann::json::array();
      for (const DiffEntry& e : d.entries)
        entries.push_back({{"key", e.key}, {"change", e.change}, {"fields", e.fields}});
      out["document"] = d.document;
      out["entries"] = std::move(entries);
    }
    fmt::print("{}\n", out.dump(2));
  } else {
    std::string out = names_text(d.names);
    if (data) out += entries_text(d);
    if (data && d.entries.empty()) {
      // entries_text said it: nothing the policy reads changed
    } else if (d.total == 0 && d.complete) {
      out += "no request is valid under both versions\n";
    } else {
      out += fmt::format("{} of {} requests change, in {} regions{}\n", d.changed, d.total,
                         d.regions.size(),
                         d.complete ? "" : " (some regions were too large to enumerate)");
    }
    for (const auto& r : d.regions) {
      const std::string where =
          r.keys.empty() ? "" : fmt::format(", where {} is {}", r.key_attribute, keys_text(r.keys));
      out += fmt::format("\n{} of {} by {}{}: {} requests\n  before  {}\n  after   {}\n",
                         join_names(r.actions), join_names(r.data), join_names(r.requesters), where,
                         r.requests, side_text(r.before), side_text(r.after));
      if (!r.attributes.empty()) {
        out += fmt::format("  values  {} (the witness holds one class of them)\n",
                           join_names(r.attributes));
      }
      out += fmt::format("  witness {}\n", request_json(r.witness).dump());
      if (!r.looked_up.empty()) {
        std::vector<std::string> values;
        for (const Attribute& a : r.looked_up)
          values.push_back(fmt::format("{} = {}", a.path, value_json(a.value).dump()));
        out += fmt::format("  looked up {} (the data gives these)\n", join_names(values));
      }
    }
    std::fputs(out.c_str(), stdout);
  }
  return d.regions.empty() && d.names.empty() && d.complete ? exit_ok : exit_failed;
}

}  // namespace clause::cli
