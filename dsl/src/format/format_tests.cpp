// Stage: parse, in reverse. Prints a test file in the canonical layout.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clause/dsl/format.hpp"
#include "format/format_layout.hpp"

namespace clause::dsl {
namespace formatting {
namespace {

// One line of a case (its first line, a field, the expectation), with its comments.
struct Slot {
  Span anchor;  // from its first to its last name in the source
  std::vector<std::string> lines;
  std::vector<std::string> above;
  std::string trailing;
};

// A value of `with` as it would be written.
std::string value_text(const ast::TestValue& v) {
  switch (v.kind) {
    case ast::TestValue::Kind::string:
      return quote(v.text);
    case ast::TestValue::Kind::boolean:
      return v.boolean ? "true" : "false";
    case ast::TestValue::Kind::list: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.items.size(); ++i)
        out += (i == 0 ? "" : ", ") + quote(v.items[i]);
      return out + "]";
    }
    default:
      return v.text;
  }
}

Item case_item(std::string_view text, const ast::TestCase& c,
               std::vector<const ast::Comment*>& inside) {
  std::vector<Slot> slots;
  slots.push_back({Span{c.span.begin, c.name.span.end}, {"case " + quote(c.name.value)}, {}, {}});
  const auto one = [&](const char* field, const std::optional<ast::Name>& name) {
    if (name) slots.push_back({name->span, {fmt::format("  {} {}", field, name->text)}, {}, {}});
  };
  const auto list = [&](const char* field, const std::vector<ast::Name>& names) {
    if (names.empty()) return;
    Slot slot{Span{names.front().span.begin, names.front().span.end}, {"  "}, {}, {}};
    for (const ast::Name& n : names) {
      slot.anchor.begin = std::min(slot.anchor.begin, n.span.begin);
      slot.anchor.end = std::max(slot.anchor.end, n.span.end);
    }
    fill_lines(slot.lines, list_chunks(field, names), 4);
    slots.push_back(std::move(slot));
  };
  // A field of chunks, from `begin` to `end` in the source.
  const auto chunks = [&](Span anchor, const Chunks& parts) {
    Slot slot{anchor, {"  "}, {}, {}};
    fill_lines(slot.lines, parts, 4);
    slots.push_back(std::move(slot));
  };
  one("data", c.data);
  one("requester", c.requester);
  one("action", c.action);
  one("purpose", c.purpose);
  if (!c.with.empty()) {
    Chunks parts;
    for (std::size_t i = 0; i < c.with.size(); ++i) {
      const ast::TestAttribute& a = c.with[i];
      std::string chunk = (i == 0 ? "with " : "") + a.path.text() + " = " + value_text(a.value);
      if (i + 1 < c.with.size()) chunk += ',';
      parts.push_back(std::move(chunk));
    }
    chunks(Span{c.with.front().span.begin, c.with.back().span.end}, parts);
  }
  if (c.at) slots.push_back({c.at->span, {"  at " + c.at->text}, {}, {}});
  list("facts", c.facts);
  if (!c.consent.empty()) {
    Chunks parts;
    Span anchor{c.consent.front().name.span.begin, c.consent.front().name.span.end};
    for (std::size_t i = 0; i < c.consent.size(); ++i) {
      const ast::TestConsent& k = c.consent[i];
      std::string chunk = (i == 0 ? "consent " : "") + k.name.text;
      anchor.end = std::max(anchor.end, k.name.span.end);
      if (k.expires) {
        chunk += " expires " + k.expires->text;
        anchor.end = std::max(anchor.end, k.expires->span.end);
      }
      if (k.withdrawn) {
        chunk += " withdrawn " + k.withdrawn->text;
        anchor.end = std::max(anchor.end, k.withdrawn->span.end);
      }
      if (i + 1 < c.consent.size()) chunk += ',';
      parts.push_back(std::move(chunk));
    }
    chunks(anchor, parts);
  }
  list("objections", c.objections);
  if (c.expect) {
    const ast::Expectation& e = *c.expect;
    std::string line = "  expect ";
    switch (e.effect) {
      case ast::Effect::allow:
        line += "allow";
        break;
      case ast::Effect::deny:
        line += "deny";
        break;
      case ast::Effect::require_consent:
        line += "require consent " + (e.consent ? e.consent->text : "");
        break;
    }
    Chunks parts{line.substr(2) + " cites " + quote(e.cites.value)};
    for (std::string& chunk : list_chunks("obliges", e.obligations)) {
      if (!e.obligations.empty()) parts.push_back(std::move(chunk));
    }
    Slot slot{e.span, {"  "}, {}, {}};
    fill_lines(slot.lines, parts, 4);
    slots.push_back(std::move(slot));
  }

  Item item;
  item.begin = item.code = c.span.begin;
  item.end = c.span.end;
  // A comment at the end of a field's line stays there; any other goes above the line of
  // the field that follows it.
  for (const ast::Comment* comment : inside) {
    const std::uint32_t at = comment->span.begin;
    Slot* before = nullptr;
    for (Slot& s : slots) {
      if (s.anchor.end <= at && (before == nullptr || s.anchor.end > before->anchor.end)) {
        before = &s;
      }
    }
    if (before != nullptr && before->trailing.empty() &&
        !has_line_break(text, before->anchor.end, at)) {
      before->trailing = comment_text(*comment);
      continue;
    }
    Slot* after = nullptr;
    for (Slot& s : slots) {
      if (s.anchor.begin > at && (after == nullptr || s.anchor.begin < after->anchor.begin)) {
        after = &s;
      }
    }
    if (after != nullptr) {
      after->above.push_back("  " + comment_text(*comment));
    } else {
      item.hoisted.push_back(comment_text(*comment));
    }
  }
  for (Slot& s : slots) {
    item.lines.insert(item.lines.end(), s.above.begin(), s.above.end());
    if (!s.trailing.empty()) s.lines.back() += "  " + s.trailing;
    item.lines.insert(item.lines.end(), s.lines.begin(), s.lines.end());
  }
  return item;
}

}  // namespace
}  // namespace formatting

std::string format_tests(const SourceFile& file, const ast::TestFile& tests) {
  using namespace formatting;  // NOLINT: the printer's own helpers
  const std::string_view text = file.text;
  std::vector<Item> items;
  std::vector<ast::Comment> outside;
  std::size_t next = 0;
  for (const ast::TestCase& c : tests.cases) {
    std::vector<const ast::Comment*> inside;
    while (next < tests.comments.size() && tests.comments[next].span.begin < c.span.end) {
      const ast::Comment& comment = tests.comments[next++];
      if (comment.span.begin > c.span.begin) {
        inside.push_back(&comment);
      } else {
        outside.push_back(comment);
      }
    }
    items.push_back(case_item(text, c, inside));
  }
  while (next < tests.comments.size())
    outside.push_back(tests.comments[next++]);
  if (tests.policy) {
    // The tree keeps only the path's span: the header starts with the `tests` before it.
    std::uint32_t at = tests.policy->span.begin;
    const auto skip_back = [&] {
      while (at > 0) {
        const auto comment = std::find_if(
            tests.comments.begin(), tests.comments.end(),
            [&](const ast::Comment& c) { return c.span.begin < at && at <= c.span.end; });
        if (comment != tests.comments.end()) {
          at = comment->span.begin;
        } else if (is_blank(text[at - 1])) {
          --at;
        } else {
          break;
        }
      }
    };
    for (const std::string_view word : {"for", "tests"}) {
      skip_back();
      if (at >= word.size() && text.substr(at - word.size(), word.size()) == word) {
        at -= static_cast<std::uint32_t>(word.size());
      }
    }
    Item item;
    item.begin = item.code = at;
    item.end = tests.policy->span.end;
    item.lines = {"tests for " + quote(tests.policy->value)};
    items.push_back(std::move(item));
  }
  check_coverage(file, spans_of(items), tests.comments);
  return layout(text, std::move(items), outside);
}

}  // namespace clause::dsl
