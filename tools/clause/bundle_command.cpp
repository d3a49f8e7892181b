// The command `bundle`: `build` packs a policy with its data and test files into one signed
// archive; `verify` checks one and compiles what it holds (docs/deploy.md).
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bundle.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

Result<SourceFile, std::string> read_file(const std::string& path, std::size_t max_bytes) {
  return read_source(path, ReadOptions{.max_bytes = max_bytes, .regular_file_only = true});
}

// A path inside the bundle: FILE relative to the policy's folder, which must hold it.
std::optional<std::string> inside(const std::filesystem::path& folder, const std::string& file) {
  std::error_code ec;
  const auto base = std::filesystem::weakly_canonical(folder.empty() ? "." : folder, ec);
  const auto full = std::filesystem::weakly_canonical(file, ec);
  if (ec) return std::nullopt;
  const auto relative = full.lexically_relative(base);
  if (relative.empty() || *relative.begin() == "..") return std::nullopt;
  return relative.generic_string();
}

int build(const Args& args) {
  const auto key_path = args.option("key");
  if (!key_path) return usage_error("bundle", "build needs --key PRIVATE.pem");
  if (args.positional().size() < 2) return usage_error("bundle", "build needs a POLICY file");
  const std::string policy_path = args.positional()[1];
  if (policy_path == "-")
    return usage_error("bundle", "build reads the policy from a file, not `-`");
  const std::optional<Policy> policy = load_policy(policy_path);
  if (!policy) return exit_failed;
  const auto key = read_file(*key_path, 64 * 1024);
  if (!key) {
    fmt::print(stderr, "clause bundle: error: {}\n", key.error());
    return exit_failed;
  }
  const std::filesystem::path folder = std::filesystem::path(policy_path).parent_path();
  std::vector<bundle::File> files;
  const auto add = [&](const std::string& file, std::size_t max_bytes) {
    const auto path = inside(folder, file);
    if (!path) {
      fmt::print(stderr, "clause bundle: error: `{}` is not in the policy's folder\n", file);
      return false;
    }
    auto text = read_file(file, max_bytes);
    if (!text) {
      fmt::print(stderr, "clause bundle: error: {}\n", text.error());
      return false;
    }
    files.push_back({*path, std::move(text->text)});
    return true;
  };
  if (!add(policy_path, tool_limits().max_policy_bytes)) return exit_failed;
  for (const DocumentInfo& d : policy->documents()) {
    if (!add((folder / std::filesystem::path(d.path)).string(), tool_limits().max_document_bytes))
      return exit_failed;
  }
  for (std::size_t i = 2; i < args.positional().size(); ++i) {
    if (!add(args.positional()[i], tool_limits().max_policy_bytes)) return exit_failed;
  }
  bundle::Manifest manifest;
  manifest.name = std::string(policy->name());
  manifest.version = std::string(policy->version());
  manifest.policy = files.front().path;
  manifest.content_hash = std::string(policy->content_hash());
  const std::size_t count = files.size();
  auto archive = bundle::pack(std::move(manifest), std::move(files), key->text);
  if (!archive) {
    fmt::print(stderr, "clause bundle: error: {}\n", archive.error());
    return exit_failed;
  }
  const std::string output = args.option("output").value_or(
      std::filesystem::path(policy_path).stem().string() + ".bundle.tar.gz");
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  out << *archive;
  out.close();
  if (!out) {
    fmt::print(stderr, "clause bundle: error: cannot write `{}`\n", output);
    return exit_failed;
  }
  fmt::print("{}: {} files, {} bytes, policy {}, signed by key {}\n", output, count,
             archive->size(), policy->content_hash(), bundle::key_id(key->text));
  return exit_ok;
}

int verify(const Args& args) {
  const auto key_path = args.option("key");
  if (!key_path) return usage_error("bundle", "verify needs --key PUBLIC.pem");
  if (args.positional().size() != 2) return usage_error("bundle", "verify needs one BUNDLE file");
  const std::string path = args.positional()[1];
  const auto key = read_file(*key_path, 64 * 1024);
  const bundle::Limits limits;
  const auto archive = read_file(path, limits.max_archive_bytes);
  const auto fail = [&](const std::string& why) {
    fmt::print(stderr, "clause bundle: {}: refused: {}\n", path, why);
    return exit_failed;
  };
  if (!key) return fail(key.error());
  if (!archive) return fail(archive.error());
  auto opened = bundle::open(archive->text, key->text, limits);
  if (!opened) return fail(opened.error());
  auto policy = bundle::compile_bundle(*opened, tool_options());
  if (!policy) return fail(policy.error());
  const bundle::Manifest& m = opened->manifest;
  if (args.format() == "json") {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : m.files)
      files.push_back({{"path", f.path}, {"sha256", f.sha256}, {"bytes", f.bytes}});
    const nlohmann::json out = {{"schema_version", schema_version},
                                {"verified", true},
                                {"name", m.name},
                                {"version", m.version},
                                {"policy", m.policy},
                                {"content_hash", m.content_hash},
                                {"key_id", opened->key_id},
                                {"files", std::move(files)}};
    fmt::print("{}\n", out.dump(2));
    return exit_ok;
  }
  std::vector<std::string> names;
  for (const auto& f : m.files)
    names.push_back(f.path);
  fmt::print(
      "{}: verified\n  policy  {} (\"{}\" version \"{}\")\n  hash    {}\n  key     {}\n"
      "  files   {}\n",
      path, m.policy, m.name, m.version, m.content_hash, opened->key_id, join_names(names));
  return exit_ok;
}

}  // namespace

int run_bundle(const std::vector<std::string>& argv) {
  if (wants_help(argv)) return print_help("bundle");
  Args args(argv, "bundle");
  if (args.error()) return usage_error("bundle", *args.error());
  const std::string verb = args.positional().empty() ? "" : args.positional()[0];
  if (verb == "build") return build(args);
  if (verb == "verify") return verify(args);
  return usage_error(
      "bundle", verb.empty() ? "expected `build` or `verify`"
                             : fmt::format("unknown `{}`: expected `build` or `verify`", verb));
}

}  // namespace clause::cli
