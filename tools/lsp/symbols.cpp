#include "symbols.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "clause/dsl/check.hpp"

namespace clause::lsp {
namespace {

SymbolKind decl_symbol(ast::DeclKind kind) {
  switch (kind) {
    case ast::DeclKind::data:
      return SymbolKind::class_;
    case ast::DeclKind::requester:
      return SymbolKind::interface;
    case ast::DeclKind::action:
      return SymbolKind::method;
    case ast::DeclKind::purpose:
      return SymbolKind::enum_member;
    case ast::DeclKind::fact:
      return SymbolKind::boolean;
    case ast::DeclKind::consent:
    case ast::DeclKind::objection:
      return SymbolKind::property;
    case ast::DeclKind::obligation:
      return SymbolKind::event;
  }
  return SymbolKind::constant;
}

// A span that covers `inner` too: a statement's span starts after an `@ignore` or a label
// in some trees, and LSP wants the name inside the range.
Span covering(Span outer, Span inner) {
  return Span{std::min(outer.begin, inner.begin), std::max(outer.end, inner.end)};
}

Symbol make(std::string name, std::string detail, SymbolKind kind, Span span, Span selection) {
  return Symbol{std::move(name), std::move(detail), kind, covering(span, selection), selection, {}};
}

std::vector<Symbol> policy_symbols(const Document& doc) {
  const ast::Policy& p = doc.tree();
  std::vector<Symbol> out;
  for (const ast::Header& h : p.headers) {
    out.push_back(make(h.name.value, "policy, version " + h.version.value, SymbolKind::module,
                       h.span, h.name.span));
  }
  for (const ast::ClauseDecl& c : p.clauses)
    out.push_back(make(c.id.value, c.words.value, SymbolKind::namespace_, c.span, c.id.span));
  for (const ast::Decl& d : p.decls) {
    std::string detail(dsl::kind_noun(d.kind));
    if (d.parent) detail += " under " + d.parent->text;
    out.push_back(make(d.name.text, std::move(detail), decl_symbol(d.kind), d.span, d.name.span));
  }
  for (const ast::AttributeDecl& a : p.attributes) {
    out.push_back(
        make(a.path.text(), "attribute " + a.type.text, SymbolKind::field, a.span, a.path.span));
  }
  for (const ast::NameSetDecl& n : p.name_sets) {
    Symbol set = make(n.name.text, "names", SymbolKind::enum_, n.span, n.name.span);
    for (const ast::Name& m : n.members)
      set.children.push_back(make(m.text, "", SymbolKind::enum_member, m.span, m.span));
    out.push_back(std::move(set));
  }
  for (const ast::DocumentDecl& d : p.documents) {
    out.push_back(
        make(d.name.text, "document " + d.path.value, SymbolKind::file, d.span, d.name.span));
  }
  const std::vector<std::string>& ids = doc.rule_ids();
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const ast::Rule& r = p.rules[i];
    const std::string id = i < ids.size() && !ids[i].empty() ? ids[i] : "rule";
    const Span selection = r.name ? r.name->span : r.effect_span;
    out.push_back(make(id, fmt::format("{}, cites \"{}\"", tier_name(r), r.cites.value),
                       SymbolKind::function, r.span, selection));
  }
  for (const ast::Assertion& a : p.assertions) {
    const std::string name =
        fmt::format("assert {} {}", a.always ? "always" : "never", to_string(a.body.effect));
    out.push_back(make(name, "assertion", SymbolKind::constant, a.span, a.body.effect_span));
  }
  std::sort(out.begin(), out.end(),
            [](const Symbol& a, const Symbol& b) { return a.span.begin < b.span.begin; });
  return out;
}

std::vector<Symbol> test_symbols(const Document& doc) {
  const ast::TestFile& t = doc.tests();
  std::vector<Symbol> out;
  if (t.policy) {
    out.push_back(
        make(t.policy->value, "tests for", SymbolKind::file, t.policy->span, t.policy->span));
  }
  for (const ast::TestCase& c : t.cases) {
    Symbol s = make(c.name.value, "case", SymbolKind::method, c.span, c.name.span);
    if (c.expect) {
      const ast::Expectation& e = *c.expect;
      s.children.push_back(
          make(fmt::format("expect {} cites \"{}\"", to_string(e.effect), e.cites.value),
               "expectation", SymbolKind::event, e.span, e.span));
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::vector<Symbol> document_symbols(const Document& doc) {
  return doc.kind() == DocumentKind::tests ? test_symbols(doc) : policy_symbols(doc);
}

}  // namespace clause::lsp
