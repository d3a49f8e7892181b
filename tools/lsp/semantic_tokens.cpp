#include "semantic_tokens.hpp"

#include <algorithm>
#include <map>

#include "clause/dsl/keywords.hpp"
#include "references.hpp"

namespace clause::lsp {
namespace {

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_keyword(std::string_view word, bool tests) {
  return std::any_of(dsl::keywords.begin(), dsl::keywords.end(), [&](const dsl::Keyword& k) {
    return k.word == word && (tests ? k.in_tests : k.reserved);
  });
}

// The tokens the syntax tree knows, by where they start.
using Known = std::map<std::uint32_t, SemanticToken>;

void mark(Known& known, Span span, TokenType type, bool declaration = false) {
  if (span.begin < span.end) known[span.begin] = SemanticToken{span, type, declaration};
}

Known policy_known(const Document& doc) {
  Known known;
  const ast::Policy& p = doc.tree();
  for (const Reference& r : doc.references())
    mark(known, r.span, r.clause ? TokenType::namespace_ : TokenType::type, r.declaration);
  for (const ast::AttrPath* path : attribute_paths(p))
    mark(known, path->span, TokenType::variable);
  for (const ast::AttributeDecl& a : p.attributes)
    mark(known, a.path.span, TokenType::variable, true);
  for (const ast::NameSetDecl& n : p.name_sets) {
    mark(known, n.name.span, TokenType::type, true);
    for (const ast::Name& m : n.members)
      mark(known, m.span, TokenType::enum_member, true);
  }
  for (const ast::AttributeDecl& a : p.attributes) {
    const bool set =
        std::any_of(p.name_sets.begin(), p.name_sets.end(),
                    [&](const ast::NameSetDecl& n) { return n.name.text == a.type.text; });
    if (set) mark(known, a.type.span, TokenType::type);
  }
  for (const ast::DocumentDecl& d : p.documents)
    mark(known, d.name.span, TokenType::type, true);
  for (const ast::Rule& r : p.rules) {
    if (r.name) mark(known, r.name->span, TokenType::function, true);
  }
  return known;
}

Known test_known(const Document& doc) {
  Known known;
  for (const TestName& n : test_names(doc.tests()))
    mark(known, n.span, TokenType::type);
  for (const ast::TestCase& c : doc.tests().cases) {
    if (c.expect) mark(known, c.expect->cites.span, TokenType::namespace_);
    for (const ast::TestAttribute& a : c.with)
      mark(known, a.path.span, TokenType::variable);
  }
  return known;
}

}  // namespace

std::vector<SemanticToken> semantic_tokens(const Document& doc) {
  const bool tests = doc.kind() == DocumentKind::tests;
  const Known known = tests ? test_known(doc) : policy_known(doc);
  const std::string_view text = doc.source().text;
  std::vector<SemanticToken> out;
  const auto add = [&](std::size_t begin, std::size_t end, TokenType type) {
    out.push_back(SemanticToken{
        Span{static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end)}, type, false});
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (const auto k = known.find(static_cast<std::uint32_t>(i));
        k != known.end() && k->second.span.end <= text.size()) {
      out.push_back(k->second);
      i = std::max<std::size_t>(k->second.span.end, i + 1);
    } else if (c == '#') {
      std::size_t end = text.find_first_of("\r\n", i);
      if (end == std::string_view::npos) end = text.size();
      add(i, end, TokenType::comment);
      i = end;
    } else if (c == '"') {
      std::size_t end = i + 1;
      while (end < text.size() && text[end] != '"' && text[end] != '\n' && text[end] != '\r')
        end += text[end] == '\\' && end + 1 < text.size() && text[end + 1] != '\n' ? 2 : 1;
      if (end < text.size() && text[end] == '"') ++end;
      add(i, end, TokenType::string);
      i = end;
    } else if (word_char(c) || c == '@') {
      std::size_t end = i + 1;
      while (end < text.size() && word_char(text[end]))
        ++end;
      const std::string_view word = text.substr(i, end - i);
      if (c >= '0' && c <= '9') {
        // Numbers, and dates such as 2026-01-31 (their digits, dashes and colons).
        // `0..150` is two numbers.
        const auto dot = [&](std::size_t p) {
          return text[p] == '.' && (p + 1 >= text.size() || text[p + 1] != '.');
        };
        while (end < text.size() &&
               (word_char(text[end]) || text[end] == '-' || text[end] == ':' || dot(end)))
          ++end;
        add(i, end, TokenType::number);
      } else if (c == '@' || is_keyword(word, tests)) {
        add(i, end, TokenType::keyword);
      }
      i = end;
    } else {
      ++i;
    }
  }
  return out;
}

std::vector<std::uint32_t> encode(const std::vector<SemanticToken>& tokens,
                                  const LineIndex& lines) {
  std::vector<std::uint32_t> out;
  Position previous;
  for (const SemanticToken& t : tokens) {
    const Position start = lines.position(t.span.begin);
    const Position end = lines.position(t.span.end);
    if (end.line != start.line || end.character <= start.character) continue;
    out.push_back(start.line - previous.line);
    out.push_back(start.line == previous.line ? start.character - previous.character
                                              : start.character);
    out.push_back(end.character - start.character);
    out.push_back(static_cast<std::uint32_t>(t.type));
    out.push_back(t.declaration ? 1U : 0U);
    previous = start;
  }
  return out;
}

}  // namespace clause::lsp
