// Stage: check. Policy documents: their declarations, and the attributes read from them.
#include <fmt/format.h>

#include <algorithm>

#include "checker.hpp"

namespace clause::dsl::checking {

namespace {

// Why a document's path cannot be read next to the policy, or nothing: it must stay
// inside the policy's folder, so that a policy cannot read any file of the machine.
std::optional<std::string> path_problem(std::string_view path) {
  if (path.empty()) return "a document's path is empty";
  if (path.front() == '/' || path.front() == '\\' ||
      (path.size() > 1 && path[1] == ':' && std::isalpha(static_cast<unsigned char>(path[0])) != 0))
    return fmt::format("a document's path is relative to the policy's folder; `{}` is absolute",
                       path);
  std::size_t at = 0;
  while (at <= path.size()) {
    const std::size_t end = std::min(path.find_first_of("/\\", at), path.size());
    if (path.substr(at, end - at) == "..")
      return fmt::format("a document's path cannot leave the policy's folder: `{}` has `..`", path);
    at = end + 1;
  }
  return std::nullopt;
}

}  // namespace

void Checker::declare_documents() {
  for (const ast::DocumentDecl& d : ast_.documents) {
    if (auto problem = path_problem(d.path.value)) {
      error("E254", d.path.span, std::move(*problem)).help =
          "put the document in the policy's folder or below it, and write its path from there, "
          "as in `\"data/users.json\"`";
      continue;
    }
    auto [it, fresh] = document_index_.emplace(d.name.text, out_.documents.size());
    if (!fresh) {
      Diagnostic& e = error("E254", d.name.span,
                            fmt::format("the document `{}` is declared twice", d.name.text));
      e.notes.push_back({out_.documents[it->second].span, "first declared here"});
      e.help = "give each document its own name";
      continue;
    }
    std::optional<std::string> key;
    if (d.key_field) key = d.key_field->value;
    out_.documents.push_back({d.name.text, d.path.value, std::move(key), d.span, d.path.span});
  }
}

void Checker::resolve_lookups() {
  for (const ast::AttributeDecl& a : ast_.attributes) {
    if (!a.lookup) continue;
    const auto self = attribute_index_.find(a.path.text());
    if (self == attribute_index_.end() ||
        out_.attributes[self->second].span.begin != a.path.span.begin)
      continue;  // the declaration was refused, and reported
    const ast::Lookup& l = *a.lookup;
    if (a.path.text() == "context.time") {
      error("E255", l.span, "`context.time` is the time of the request, not read from a document")
          .help = "remove `from ...`; declare another attribute for the document's time";
      continue;
    }
    const auto doc = document_index_.find(l.document.text);
    if (doc == document_index_.end()) {
      Diagnostic& d =
          error("E255", l.document.span, fmt::format("unknown document `{}`", l.document.text));
      d.subject = l.document.text;
      std::vector<std::string_view> names;
      for (const DeclaredDocument& known : out_.documents)
        names.push_back(known.name);
      const std::string guess = closest_name(l.document.text, names);
      d.help = !guess.empty() ? fmt::format("did you mean `{}`?", guess)
                              : fmt::format("declare it: `document {} from \"{}.json\"`",
                                            l.document.text, l.document.text);
      continue;
    }
    const std::string key_path = l.key.text();
    const auto key = attribute_index_.find(key_path);
    if (key == attribute_index_.end()) {
      if (ill_typed_.contains(key_path)) continue;
      Diagnostic& d = error("E255", l.key.span,
                            fmt::format("the key `{}` is not a declared attribute", key_path));
      d.subject = key_path;
      std::vector<std::string_view> paths;
      for (const AttributeInfo& known : out_.attributes) {
        if (known.type == AttrType::string && known.path != a.path.text())
          paths.push_back(known.path);
      }
      const std::string guess = closest_name(key_path, paths);
      d.help = !guess.empty() ? fmt::format("did you mean `{}`?", guess)
                              : fmt::format("declare it: `attribute {} string`", key_path);
      continue;
    }
    const AttributeInfo& k = out_.attributes[key->second];
    if (k.type != AttrType::string) {
      Diagnostic& d =
          error("E255", l.key.span,
                fmt::format("the key `{}` is {}; a document's entries are found by a string",
                            key_path, type_noun(k.type)));
      d.notes.push_back({k.span, "declared here"});
      d.help = fmt::format("key the document by an attribute of type `string` or a name set");
      continue;
    }
    if (key->second == self->second || std::any_of(ast_.attributes.begin(), ast_.attributes.end(),
                                                   [&](const ast::AttributeDecl& b) {
                                                     return b.lookup && b.path.text() == key_path &&
                                                            b.path.span.begin == k.span.begin;
                                                   })) {
      Diagnostic& d = error("E255", l.key.span,
                            fmt::format("the key `{}` is itself read from a document", key_path));
      d.notes.push_back({k.span, "declared here"});
      d.help = "key the lookup by an attribute that the request gives";
      continue;
    }
    if (l.field.value.empty()) {
      error("E255", l.field.span, "the field to read is empty").help =
          "name the entry's field, as in `users[requester.id].roles`";
      continue;
    }
    out_.attributes[self->second].lookup =
        AttributeLookup{static_cast<std::uint32_t>(doc->second),
                        static_cast<std::uint32_t>(key->second), l.field.value, l.span};
  }
}

}  // namespace clause::dsl::checking
