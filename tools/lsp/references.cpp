#include "references.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "clause/dsl/check.hpp"
#include "clause/dsl/keywords.hpp"

namespace clause::lsp {
namespace {

using ast::DeclKind;

bool inside(std::uint32_t offset, Span span) {
  return span.begin <= offset && offset <= span.end && span.begin < span.end;
}

// A name a test file writes, with the kind its place takes.
struct Written {
  const ast::Name* name;
  DeclKind kind;
};

std::vector<Written> written_names(const ast::TestFile& t) {
  std::vector<Written> out;
  const auto one = [&](const std::optional<ast::Name>& n, DeclKind k) {
    if (n) out.push_back({&*n, k});
  };
  for (const ast::TestCase& c : t.cases) {
    one(c.data, DeclKind::data);
    one(c.requester, DeclKind::requester);
    one(c.action, DeclKind::action);
    one(c.purpose, DeclKind::purpose);
    for (const ast::Name& f : c.facts)
      out.push_back({&f, DeclKind::fact});
    for (const ast::TestConsent& k : c.consent)
      out.push_back({&k.name, DeclKind::consent});
    for (const ast::Name& o : c.objections)
      out.push_back({&o, DeclKind::objection});
    if (c.expect) {
      one(c.expect->consent, DeclKind::consent);
      for (const ast::Name& o : c.expect->obligations)
        out.push_back({&o, DeclKind::obligation});
    }
  }
  return out;
}

std::optional<Target> policy_target(const Document& doc, std::uint32_t offset) {
  const ast::Policy& p = doc.tree();
  for (const ast::AttrPath* path : attribute_paths(p)) {
    if (inside(offset, path->span))
      return Target{TargetKind::attribute, DeclKind::data, path->text(), path->field.span};
  }
  for (const ast::NameSetDecl& n : p.name_sets) {
    if (inside(offset, n.name.span))
      return Target{TargetKind::name_set, DeclKind::data, n.name.text, n.name.span};
  }
  for (const ast::AttributeDecl& a : p.attributes) {
    for (const ast::Name* type : {&a.type, a.element ? &*a.element : nullptr}) {
      if (type == nullptr || !inside(offset, type->span)) continue;
      const auto named = [&](const ast::NameSetDecl& n) { return n.name.text == type->text; };
      if (std::any_of(p.name_sets.begin(), p.name_sets.end(), named))
        return Target{TargetKind::name_set, DeclKind::data, type->text, type->span};
    }
  }
  for (const ast::DocumentDecl& d : p.documents) {
    if (inside(offset, d.name.span))
      return Target{TargetKind::document, DeclKind::data, d.name.text, d.name.span};
  }
  for (const ast::AttributeDecl& a : p.attributes) {
    if (a.lookup && inside(offset, a.lookup->document.span)) {
      return Target{TargetKind::document, DeclKind::data, a.lookup->document.text,
                    a.lookup->document.span};
    }
  }
  const Reference* best = nullptr;
  for (const Reference& r : doc.references()) {
    // Where two touch (`a,b`), the one that starts at the cursor wins.
    if (inside(offset, r.span) && (best == nullptr || r.span.begin > best->span.begin)) best = &r;
  }
  if (best == nullptr) return std::nullopt;
  return Target{best->clause ? TargetKind::clause : TargetKind::name, best->kind, best->text,
                best->span};
}

std::optional<Target> test_target(const Document& doc, std::uint32_t offset) {
  const ast::TestFile& t = doc.tests();
  for (const Written& w : written_names(t)) {
    if (inside(offset, w.name->span))
      return Target{TargetKind::name, w.kind, w.name->text, w.name->span};
  }
  for (const ast::TestCase& c : t.cases) {
    if (c.expect && inside(offset, c.expect->cites.span)) {
      return Target{TargetKind::clause, DeclKind::data, c.expect->cites.value,
                    c.expect->cites.span};
    }
    for (const ast::TestAttribute& a : c.with) {
      if (inside(offset, a.path.span))
        return Target{TargetKind::attribute, DeclKind::data, a.path.text(), a.path.field.span};
    }
  }
  return std::nullopt;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool is_reserved(std::string_view s) {
  return std::any_of(dsl::keywords.begin(), dsl::keywords.end(),
                     [&](const dsl::Keyword& k) { return k.reserved && k.word == s; });
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

std::vector<TestName> test_names(const ast::TestFile& tests) {
  std::vector<TestName> out;
  for (const Written& w : written_names(tests))
    out.push_back({w.name->span, w.kind});
  return out;
}

std::optional<Target> target_at(const Document& doc, std::uint32_t offset) {
  return doc.kind() == DocumentKind::tests ? test_target(doc, offset) : policy_target(doc, offset);
}

std::vector<Occurrence> occurrences(const Document& doc, const Target& target) {
  std::vector<Occurrence> out;
  const std::string& text = doc.source().text;
  const auto quoted = [&](Span s) { return s.begin < text.size() && text[s.begin] == '"'; };
  const auto clause = [&](const ast::Text& t, bool declaration) {
    if (t.value == target.text && t.span.begin < t.span.end)
      out.push_back({t.span, quoted(t.span), declaration});
  };
  const auto path = [&](const ast::AttrPath& p, bool declaration) {
    if (p.text() == target.text) out.push_back({p.field.span, false, declaration});
  };
  const auto name = [&](const ast::Name& n, bool declaration) {
    if (n.text == target.text) out.push_back({n.span, false, declaration});
  };
  if (doc.kind() == DocumentKind::tests) {
    const ast::TestFile& t = doc.tests();
    if (target.what == TargetKind::name) {
      for (const Written& w : written_names(t)) {
        if (w.kind == target.kind) name(*w.name, false);
      }
    }
    for (const ast::TestCase& c : t.cases) {
      if (target.what == TargetKind::clause && c.expect) clause(c.expect->cites, false);
      if (target.what != TargetKind::attribute) continue;
      for (const ast::TestAttribute& a : c.with)
        path(a.path, false);
    }
  } else {
    const ast::Policy& p = doc.tree();
    switch (target.what) {
      case TargetKind::name:
      case TargetKind::clause:
        for (const Reference& r : doc.references()) {
          if (r.text != target.text || r.clause != (target.what == TargetKind::clause)) continue;
          if (!r.clause && r.kind != target.kind) continue;
          out.push_back({r.span, r.clause && quoted(r.span), r.declaration});
        }
        break;
      case TargetKind::attribute: {
        for (const ast::AttributeDecl& a : p.attributes)
          path(a.path, true);
        for (const ast::AttrPath* at : attribute_paths(p)) {
          const bool declared =
              std::any_of(p.attributes.begin(), p.attributes.end(),
                          [&](const ast::AttributeDecl& a) { return &a.path == at; });
          if (!declared) path(*at, false);
        }
        break;
      }
      case TargetKind::name_set:
        for (const ast::NameSetDecl& n : p.name_sets)
          name(n.name, true);
        for (const ast::AttributeDecl& a : p.attributes) {
          name(a.type, false);
          if (a.element) name(*a.element, false);
        }
        break;
      case TargetKind::document:
        for (const ast::DocumentDecl& d : p.documents)
          name(d.name, true);
        for (const ast::AttributeDecl& a : p.attributes) {
          if (a.lookup) name(a.lookup->document, false);
        }
        break;
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Occurrence& a, const Occurrence& b) { return a.span.begin < b.span.begin; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Occurrence& a, const Occurrence& b) {
                          return a.span.begin == b.span.begin;
                        }),
            out.end());
  return out;
}

std::string replacement(const Occurrence& o, const std::string& new_name) {
  return o.quoted ? "\"" + new_name + "\"" : new_name;
}

std::optional<std::string> rename_refusal(const Target& target, const std::string& new_name,
                                          const Vocabulary& declared, const ast::Policy& policy) {
  if (target.what == TargetKind::clause) {
    if (new_name.empty() || new_name.find_first_of("\"\\\r\n") != std::string::npos) {
      return fmt::format(
          "`{}` is not a valid clause id: it must be a non-empty line without "
          "quotes or backslashes",
          new_name);
    }
    if (has(declared.clauses, new_name))
      return fmt::format("clause `{}` is already declared", new_name);
    return std::nullopt;
  }
  if (!is_identifier(new_name))
    return fmt::format(
        "`{}` is not a valid name: letters, digits and `_`, not starting with a digit", new_name);
  if (is_reserved(new_name)) return fmt::format("`{}` is a keyword", new_name);
  switch (target.what) {
    case TargetKind::name:
      if (has(declared.names[static_cast<std::size_t>(target.kind)], new_name)) {
        return fmt::format("{} `{}` is already declared", dsl::kind_noun(target.kind), new_name);
      }
      break;
    case TargetKind::attribute: {
      const std::string path = target.text.substr(0, target.text.find('.') + 1) + new_name;
      for (const AttributeName& a : declared.attributes) {
        if (a.path == path) return fmt::format("attribute `{}` is already declared", path);
      }
      break;
    }
    case TargetKind::name_set:
      for (const ast::NameSetDecl& n : policy.name_sets) {
        if (n.name.text == new_name)
          return fmt::format("name set `{}` is already declared", new_name);
      }
      break;
    case TargetKind::document:
      for (const ast::DocumentDecl& d : policy.documents) {
        if (d.name.text == new_name)
          return fmt::format("document `{}` is already declared", new_name);
      }
      break;
    case TargetKind::clause:
      break;
  }
  return std::nullopt;
}

}  // namespace clause::lsp
