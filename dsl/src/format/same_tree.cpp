// Stage: parse. Compares syntax trees and comments, spans aside: how `clause fmt` makes
// sure that printing a file changed nothing it says.
#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "clause/dsl/format.hpp"
#include "format/format_layout.hpp"

namespace clause::dsl {
namespace {

using formatting::written;

bool same_name(const ast::Name& a, const ast::Name& b) {
  return a.text == b.text;
}

bool same_names(const std::vector<ast::Name>& a, const std::vector<ast::Name>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), same_name);
}

template <typename T, typename Same>
bool same_optional(const std::optional<T>& a, const std::optional<T>& b, Same same) {
  return a.has_value() == b.has_value() && (!a || same(*a, *b));
}

bool same_text(const ast::Text& a, const ast::Text& b) {
  return a.value == b.value;
}

bool same_time(const ast::TimeText& a, const ast::TimeText& b) {
  return a.text == b.text;
}

bool same_path(const ast::AttrPath& a, const ast::AttrPath& b) {
  return same_name(a.root, b.root) && same_name(a.field, b.field);
}

bool same_duration(const ast::DurationText& a, const ast::DurationText& b) {
  return a.amount == b.amount && same_name(a.unit, b.unit);
}

bool same_operand(const ast::Operand& a, const ast::Operand& b) {
  return a.kind == b.kind && same_path(a.attribute, b.attribute) && a.integer == b.integer &&
         a.boolean == b.boolean && a.text == b.text &&
         same_optional(a.shift, b.shift, same_duration);
}

bool same_cond(const ast::Cond& a, const ast::Cond& b) {
  return a.kind == b.kind && same_names(a.names, b.names) &&
         same_optional(a.attribute, b.attribute, same_path) && a.op == b.op &&
         same_optional(a.operand, b.operand, same_operand) &&
         std::equal(a.children.begin(), a.children.end(), b.children.begin(), b.children.end(),
                    same_cond);
}

bool same_set(const ast::NameSet& a, const ast::NameSet& b) {
  return a.any == b.any && written(a) == written(b) && same_names(a.names, b.names);
}

bool same_rule(const ast::Rule& a, const ast::Rule& b) {
  return same_optional(a.name, b.name, same_name) && a.fallback == b.fallback &&
         a.exclusion == b.exclusion && a.first == b.first && a.effective == b.effective &&
         same_optional(a.from, b.from, same_time) && same_optional(a.until, b.until, same_time) &&
         same_names(a.obligations, b.obligations) && a.effect == b.effect &&
         same_optional(a.consent, b.consent, same_name) && same_set(a.actions, b.actions) &&
         same_set(a.data, b.data) && same_set(a.requesters, b.requesters) &&
         same_optional(a.condition, b.condition, same_cond) && same_text(a.cites, b.cites);
}

bool same_attribute(const ast::AttributeDecl& a, const ast::AttributeDecl& b) {
  return same_path(a.path, b.path) && same_name(a.type, b.type) && a.list == b.list &&
         same_optional(a.element, b.element, same_name) && a.optional == b.optional &&
         same_optional(a.range, b.range,
                       [](const ast::RangeText& x, const ast::RangeText& y) {
                         return x.low == y.low && x.high == y.high;
                       }) &&
         same_optional(a.lookup, b.lookup, [](const ast::Lookup& x, const ast::Lookup& y) {
           return same_name(x.document, y.document) && same_path(x.key, y.key) &&
                  same_text(x.field, y.field);
         });
}

bool same_document(const ast::DocumentDecl& a, const ast::DocumentDecl& b) {
  return same_name(a.name, b.name) && same_text(a.path, b.path) &&
         same_optional(a.key_field, b.key_field, same_text);
}

bool same_name_set(const ast::NameSetDecl& a, const ast::NameSetDecl& b) {
  return same_name(a.name, b.name) && same_names(a.members, b.members);
}

bool same_decl(const ast::Decl& a, const ast::Decl& b) {
  return a.kind == b.kind && same_name(a.name, b.name) &&
         same_optional(a.parent, b.parent, same_name) && same_optional(a.cites, b.cites, same_text);
}

// The statements of a policy in file order: what kind, which, and their annotation's codes.
struct Statement {
  int kind = 0;
  std::size_t index = 0;
  std::size_t count = 1;  // names declared by one statement
  Span span;
  std::vector<std::string> codes;
};

std::vector<Statement> statements(const ast::Policy& p) {
  std::vector<Statement> out;
  for (std::size_t i = 0; i < p.headers.size(); ++i)
    out.push_back({0, i, 1, p.headers[i].span, {}});
  for (std::size_t i = 0; i < p.clauses.size(); ++i)
    out.push_back({1, i, 1, p.clauses[i].span, {}});
  for (std::size_t i = 0; i < p.decls.size();) {
    std::size_t j = i + 1;
    while (j < p.decls.size() && p.decls[j].span.begin == p.decls[i].span.begin)
      ++j;
    out.push_back({2, i, j - i, p.decls[i].span, {}});
    i = j;
  }
  for (std::size_t i = 0; i < p.rules.size(); ++i)
    out.push_back({3, i, 1, p.rules[i].span, {}});
  for (std::size_t i = 0; i < p.attributes.size(); ++i)
    out.push_back({5, i, 1, p.attributes[i].span, {}});
  for (std::size_t i = 0; i < p.assertions.size(); ++i)
    out.push_back({4, i, 1, p.assertions[i].span, {}});
  for (std::size_t i = 0; i < p.name_sets.size(); ++i)
    out.push_back({6, i, 1, p.name_sets[i].span, {}});
  for (std::size_t i = 0; i < p.documents.size(); ++i)
    out.push_back({7, i, 1, p.documents[i].span, {}});
  std::sort(out.begin(), out.end(),
            [](const Statement& a, const Statement& b) { return a.span.begin < b.span.begin; });
  for (const ast::Suppression& s : p.suppressions) {
    for (Statement& st : out) {
      if (st.span.end == s.span.end) {
        for (const ast::Name& code : s.codes)
          st.codes.push_back(code.text);
      }
    }
  }
  return out;
}

}  // namespace

bool same_tree(const ast::Policy& a, const ast::Policy& b) {
  const std::vector<Statement> sa = statements(a);
  const std::vector<Statement> sb = statements(b);
  if (sa.size() != sb.size()) return false;
  for (std::size_t i = 0; i < sa.size(); ++i) {
    const Statement& x = sa[i];
    const Statement& y = sb[i];
    if (x.kind != y.kind || x.count != y.count || x.codes != y.codes) return false;
    bool same = true;
    switch (x.kind) {
      case 0:
        same = same_text(a.headers[x.index].name, b.headers[y.index].name) &&
               same_text(a.headers[x.index].version, b.headers[y.index].version);
        break;
      case 1:
        same = same_text(a.clauses[x.index].id, b.clauses[y.index].id) &&
               same_text(a.clauses[x.index].words, b.clauses[y.index].words) &&
               same_optional(a.clauses[x.index].from, b.clauses[y.index].from, same_time) &&
               same_optional(a.clauses[x.index].until, b.clauses[y.index].until, same_time);
        break;
      case 2:
        for (std::size_t k = 0; k < x.count; ++k)
          same = same && same_decl(a.decls[x.index + k], b.decls[y.index + k]);
        break;
      case 3:
        same = same_rule(a.rules[x.index], b.rules[y.index]);
        break;
      case 5:
        same = same_attribute(a.attributes[x.index], b.attributes[y.index]);
        break;
      case 6:
        same = same_name_set(a.name_sets[x.index], b.name_sets[y.index]);
        break;
      case 7:
        same = same_document(a.documents[x.index], b.documents[y.index]);
        break;
      default: {
        const ast::Assertion& p = a.assertions[x.index];
        const ast::Assertion& q = b.assertions[y.index];
        same = p.always == q.always && same_rule(p.body, q.body) &&
               same_optional(p.unless, q.unless, same_cond);
        break;
      }
    }
    if (!same) return false;
  }
  return true;
}

bool same_test_attribute(const ast::TestAttribute& a, const ast::TestAttribute& b) {
  return same_path(a.path, b.path) && a.value.kind == b.value.kind &&
         a.value.text == b.value.text && a.value.boolean == b.value.boolean &&
         a.value.items == b.value.items;
}

bool same_consent(const ast::TestConsent& a, const ast::TestConsent& b) {
  return same_name(a.name, b.name) && same_optional(a.expires, b.expires, same_time) &&
         same_optional(a.withdrawn, b.withdrawn, same_time);
}

bool same_tree(const ast::TestFile& a, const ast::TestFile& b) {
  const auto same_expect = [](const ast::Expectation& x, const ast::Expectation& y) {
    return x.effect == y.effect && same_optional(x.consent, y.consent, same_name) &&
           same_text(x.cites, y.cites) && same_names(x.obligations, y.obligations);
  };
  const auto same_case = [&](const ast::TestCase& x, const ast::TestCase& y) {
    return same_text(x.name, y.name) && same_optional(x.data, y.data, same_name) &&
           same_optional(x.requester, y.requester, same_name) &&
           same_optional(x.action, y.action, same_name) &&
           same_optional(x.purpose, y.purpose, same_name) &&
           std::equal(x.with.begin(), x.with.end(), y.with.begin(), y.with.end(),
                      same_test_attribute) &&
           same_optional(x.at, y.at, same_time) && same_names(x.facts, y.facts) &&
           std::equal(x.consent.begin(), x.consent.end(), y.consent.begin(), y.consent.end(),
                      same_consent) &&
           same_names(x.objections, y.objections) && same_optional(x.expect, y.expect, same_expect);
  };
  return same_optional(a.policy, b.policy, same_text) &&
         std::equal(a.cases.begin(), a.cases.end(), b.cases.begin(), b.cases.end(), same_case);
}

bool same_comments(const std::vector<ast::Comment>& a, const std::vector<ast::Comment>& b) {
  const auto texts = [](const std::vector<ast::Comment>& comments) {
    std::vector<std::string> out;
    for (const ast::Comment& c : comments) {
      std::string text = c.text;
      while (!text.empty() &&
             std::string_view(" \t\r\v\f").find(text.back()) != std::string_view::npos)
        text.pop_back();
      out.push_back(std::move(text));
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  return texts(a) == texts(b);
}

}  // namespace clause::dsl
