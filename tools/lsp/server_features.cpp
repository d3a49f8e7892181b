// The requests of the features beyond hover, definition, completion and formatting:
// outline, references and rename, code actions, semantic tokens.
#include <fmt/format.h>

#include <deque>
#include <filesystem>
#include <set>

#include "actions.hpp"
#include "protocol.hpp"
#include "references.hpp"
#include "semantic_tokens.hpp"
#include "server.hpp"
#include "symbols.hpp"

namespace clause::lsp {
namespace {

using json = nlohmann::json;

json symbol_json(const Symbol& s, const LineIndex& lines) {
  json out{{"name", s.name.empty() ? std::string("(unnamed)") : s.name},
           {"detail", s.detail},
           {"kind", static_cast<int>(s.kind)},
           {"range", range_json(lines.range(s.span))},
           {"selectionRange", range_json(lines.range(s.selection))}};
  if (!s.children.empty()) {
    json children = json::array();
    for (const Symbol& c : s.children)
      children.push_back(symbol_json(c, lines));
    out["children"] = std::move(children);
  }
  return out;
}

}  // namespace

// A policy and its test files: the open ones, and the `.test` files beside the policy
// that name it. Files not open are read from disk and kept here.
struct Server::Family {
  struct Member {
    std::string uri;
    const Document* doc = nullptr;
  };
  std::optional<Member> policy;
  std::vector<Member> tests;
  std::deque<Document> loaded;

  [[nodiscard]] std::vector<Member> all() const {
    std::vector<Member> out;
    if (policy) out.push_back(*policy);
    out.insert(out.end(), tests.begin(), tests.end());
    return out;
  }
};

namespace {

namespace fs = std::filesystem;

std::string path_to_uri(const fs::path& path) {
  std::string out = "file://";
  for (const char c : path.generic_string()) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("/-._~").find(c) != std::string_view::npos;
    if (plain) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

// The policy a test file names, as a normal path; empty when it cannot be told.
fs::path tested_path(const std::string& uri, const Document& doc) {
  const std::string path = uri_to_path(uri);
  if (path.empty() || !doc.tested_policy()) return {};
  return (fs::path(path).parent_path() / *doc.tested_policy()).lexically_normal();
}

}  // namespace

Server::Family Server::family(const std::string& uri, const Document& doc) const {
  Family f;
  fs::path policy_path;
  if (doc.kind() == DocumentKind::policy) {
    f.policy = Family::Member{uri, &doc};
    policy_path = fs::path(uri_to_path(uri)).lexically_normal();
    if (uri_to_path(uri).empty()) return f;  // an unsaved buffer has no test files
  } else {
    policy_path = tested_path(uri, doc);
    if (policy_path.empty()) {
      f.tests.push_back({uri, &doc});
      return f;
    }
  }
  std::set<std::string> seen;
  for (const auto& [other_uri, other] : documents_) {
    const std::string other_path = uri_to_path(other_uri);
    if (other.kind() == DocumentKind::policy) {
      if (!f.policy && !other_path.empty() &&
          fs::path(other_path).lexically_normal() == policy_path)
        f.policy = Family::Member{other_uri, &other};
    } else if (tested_path(other_uri, other) == policy_path) {
      f.tests.push_back({other_uri, &other});
    }
    if (!other_path.empty()) seen.insert(fs::path(other_path).lexically_normal().string());
  }
  const std::uint64_t max_bytes = options_.compile.limits.max_policy_bytes;
  if (!f.policy) {
    if (auto source = read_source(policy_path.string(), max_bytes)) {
      f.loaded.emplace_back(DocumentKind::policy, std::move(*source), options_);
      f.policy = Family::Member{path_to_uri(policy_path), &f.loaded.back()};
    }
  }
  // The test files beside the policy that are not open.
  std::error_code ec;
  for (fs::directory_iterator it(policy_path.parent_path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const fs::path p = it->path().lexically_normal();
    if (p.extension() != ".test" || seen.contains(p.string())) continue;
    auto source = read_source(p.string(), max_bytes);
    if (!source) continue;
    Document test(DocumentKind::tests, std::move(*source), options_);
    const std::string test_uri = path_to_uri(p);
    if (tested_path(test_uri, test) != policy_path) continue;
    f.loaded.push_back(std::move(test));
    f.tests.push_back({test_uri, &f.loaded.back()});
  }
  return f;
}

json Server::references(const json& params) const {
  json out = json::array();
  const Document* doc = document(params);
  if (doc == nullptr) return out;
  const auto target = target_at(*doc, doc->lines().offset(position_of(params.at("position"))));
  if (!target) return out;
  bool declarations = true;
  if (params.contains("context"))
    declarations = params["context"].value("includeDeclaration", true);
  const Family f = family(params.at("textDocument").at("uri").get<std::string>(), *doc);
  for (const Family::Member& m : f.all()) {
    for (const Occurrence& o : occurrences(*m.doc, *target)) {
      if (o.declaration && !declarations) continue;
      out.push_back({{"uri", m.uri}, {"range", range_json(m.doc->lines().range(o.span))}});
    }
  }
  return out;
}

json Server::prepare_rename(const json& params) const {
  const Document* doc = document(params);
  if (doc == nullptr) return nullptr;
  const auto target = target_at(*doc, doc->lines().offset(position_of(params.at("position"))));
  if (!target) return nullptr;
  return json{
      {"range", range_json(doc->lines().range(target->span))},
      {"placeholder", target->text.substr(
                          target->what == TargetKind::attribute ? target->text.find('.') + 1 : 0)}};
}

json Server::rename(const json& params) const {
  const Document* doc = document(params);
  if (doc == nullptr) throw RequestError(error_code::invalid_params, "the document is not open");
  const auto target = target_at(*doc, doc->lines().offset(position_of(params.at("position"))));
  if (!target) throw RequestError(error_code::invalid_params, "nothing to rename here");
  const std::string new_name = params.at("newName").get<std::string>();
  const Family f = family(params.at("textDocument").at("uri").get<std::string>(), *doc);
  if (!f.policy) {
    throw RequestError(error_code::invalid_params,
                       "the tested policy cannot be read: its names cannot be renamed");
  }
  // A statement that does not parse is not in the tree: its names would be left behind.
  for (const Family::Member& m : f.all()) {
    if (!m.doc->syntax_ok()) {
      throw RequestError(error_code::invalid_params,
                         "`" + m.doc->source().name + "` has syntax errors: fix them first");
    }
  }
  if (auto why =
          rename_refusal(*target, new_name, f.policy->doc->vocabulary(), f.policy->doc->tree())) {
    throw RequestError(error_code::invalid_params, "newName: " + *why);
  }
  json changes = json::object();
  for (const Family::Member& m : f.all()) {
    json edits = json::array();
    for (const Occurrence& o : occurrences(*m.doc, *target)) {
      edits.push_back({{"range", range_json(m.doc->lines().range(o.span))},
                       {"newText", replacement(o, new_name)}});
    }
    if (!edits.empty()) changes[m.uri] = std::move(edits);
  }
  return json{{"changes", std::move(changes)}};
}

json Server::symbols(const json& params) const {
  json out = json::array();
  const Document* doc = document(params);
  if (doc == nullptr) return out;
  for (const Symbol& s : document_symbols(*doc))
    out.push_back(symbol_json(s, doc->lines()));
  return out;
}

json Server::code_actions(const json& params) const {
  json out = json::array();
  const Document* doc = document(params);
  if (doc == nullptr) return out;
  const std::string uri = params.at("textDocument").at("uri").get<std::string>();
  const json& range = params.at("range");
  const Span span{doc->lines().offset(position_of(range.at("start"))),
                  doc->lines().offset(position_of(range.at("end")))};
  for (const Fix& fix : lsp::code_actions(*doc, span)) {
    json edits = json::array();
    for (const Edit& e : fix.edits)
      edits.push_back({{"range", range_json(doc->lines().range(e.span))}, {"newText", e.text}});
    json action{{"title", fix.title},
                {"kind", "quickfix"},
                {"diagnostics", json::array({diagnostic_json(fix.diagnostic, doc->lines(), uri)})},
                {"edit", {{"changes", {{uri, std::move(edits)}}}}}};
    if (fix.preferred) action["isPreferred"] = true;
    out.push_back(std::move(action));
  }
  return out;
}

json Server::semantic_tokens(const json& params) const {
  const Document* doc = document(params);
  if (doc == nullptr) return json{{"data", json::array()}};
  return json{{"data", encode(lsp::semantic_tokens(*doc), doc->lines())}};
}

}  // namespace clause::lsp
