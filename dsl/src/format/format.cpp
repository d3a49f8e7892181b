// Stage: parse, in reverse. Prints syntax trees back as text in the layout that
// docs/formatting.md describes. The tree says what to print; the source text is read only
// for what the tree does not keep: where comments stand and where blank lines were.
#include "clause/dsl/format.hpp"

#include "clause/dsl/check.hpp"
#include "format/format_layout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <vector>

namespace clause::dsl {
namespace formatting {

constexpr std::size_t width = format_width;
constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool has_line_break(std::string_view text, std::uint32_t begin, std::uint32_t end) {
  return begin < end && text.substr(begin, end - begin).find('\n') != std::string_view::npos;
}

// Trailing blanks of a comment are dropped; the rest is kept byte for byte.
std::string comment_text(const ast::Comment& c) {
  std::string text = c.text;
  while (!text.empty() && is_blank(text.back()))
    text.pop_back();
  return text;
}

std::size_t escaped_size(char c) {
  return c == '"' || c == '\\' || c == '\n' || c == '\t' ? 2 : 1;
}

std::string quote(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  out += '"';
  return out;
}

// ---- lines ----

// Pieces of a statement that are never broken inside; a line may break between two.

std::string join(const Chunks& chunks) {
  std::string out;
  for (const std::string& c : chunks)
    out += (out.empty() ? "" : " ") + c;
  return out;
}

// Puts each chunk on the current line when it fits, else starts a line `indent` deep.
void fill_lines(std::vector<std::string>& lines, const Chunks& chunks, std::size_t indent) {
  for (const std::string& chunk : chunks) {
    std::string& line = lines.back();
    if (line.find_first_not_of(' ') == std::string::npos) {
      line += chunk;
    } else if (line.size() + 1 + chunk.size() <= width) {
      line += ' ';
      line += chunk;
    } else {
      lines.push_back(std::string(indent, ' ') + chunk);
    }
  }
}

// Places one part of a rule (`of ...`, `by ...`, `when ...`): on the current line when it
// fits, else on a continuation line, and wrapped one level deeper when even that is narrow.
// A part never joins the deeper lines of a part that wrapped.
void place(std::vector<std::string>& lines, const Chunks& part) {
  const std::string joined = join(part);
  if (!lines.back().starts_with("    ") && lines.back().size() + 1 + joined.size() <= width) {
    lines.back() += ' ' + joined;
    return;
  }
  lines.emplace_back("  ");
  fill_lines(lines, part, 4);
}

// `prefix a, b, c`, breakable after each comma.
Chunks list_chunks(const std::string& prefix, const std::vector<ast::Name>& names) {
  Chunks out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string chunk = i == 0 && !prefix.empty() ? prefix + " " + names[i].text : names[i].text;
    if (i + 1 < names.size()) chunk += ',';
    out.push_back(std::move(chunk));
  }
  if (out.empty()) out.push_back(prefix);
  return out;
}

// A left-out set has an empty span; a written `any` has the span of the word.
bool written(const ast::NameSet& set) {
  return !set.any || set.span.end > set.span.begin;
}

Chunks set_chunks(const std::string& prefix, const ast::NameSet& set) {
  if (!set.any) return list_chunks(prefix, set.names);
  if (written(set)) return {prefix.empty() ? "any" : prefix + " any"};
  return {prefix};
}

// Cuts a clause's words into strings whose quoted form takes at most `room` columns. Cuts
// fall on single spaces, which the joining of adjacent strings puts back.
std::vector<std::string> split_words(std::string_view text, std::size_t room) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    std::size_t size = 0;
    std::size_t cut = npos;
    bool fits = true;
    for (std::size_t i = begin; i < text.size(); ++i) {
      if (text[i] == ' ' && i > begin) {
        if (size <= room) {
          cut = i;
        } else {
          if (cut == npos) cut = i;  // a word longer than a line stands alone
          fits = false;
          break;
        }
      }
      size += escaped_size(text[i]);
    }
    if (fits && size <= room) cut = npos;
    if (cut == npos) {
      out.emplace_back(text.substr(begin));
      return out;
    }
    out.emplace_back(text.substr(begin, cut - begin));
    begin = cut + 1;
  }
}

// ---- conditions ----

int precedence(const ast::Cond& c) {
  switch (c.kind) {
    case ast::CondKind::any:
      return 1;
    case ast::CondKind::all:
      return 2;
    case ast::CondKind::negation:
      return 3;
    default:
      return 4;
  }
}

std::string first_name(const ast::Cond& c) {
  return c.names.empty() ? std::string() : c.names.front().text;
}

std::string_view compare_op_text(ast::CompareOp op) {
  switch (op) {
    case ast::CompareOp::eq:
      return " = ";
    case ast::CompareOp::ne:
      return " != ";
    case ast::CompareOp::lt:
      return " < ";
    case ast::CompareOp::le:
      return " <= ";
    case ast::CompareOp::gt:
      return " > ";
    case ast::CompareOp::ge:
      return " >= ";
  }
  return " = ";
}

// Prints the right side of a comparison as it would be written.
std::string operand_text(const ast::Operand& o) {
  std::string out;
  switch (o.kind) {
    case ast::Operand::Kind::attribute:
      out = o.attribute.text();
      break;
    case ast::Operand::Kind::integer:
    case ast::Operand::Kind::time:
    case ast::Operand::Kind::name:
      out = o.text;
      break;
    case ast::Operand::Kind::string:
      out = quote(o.text);
      break;
    case ast::Operand::Kind::boolean:
      out = o.boolean ? "true" : "false";
      break;
  }
  if (o.shift) {
    const std::int64_t n = o.shift->amount;
    out += fmt::format(" {} {} {}", n < 0 ? '-' : '+', n < 0 ? -n : n, o.shift->unit.text);
  }
  return out;
}

// Prints a condition with the fewest parentheses that keep its tree. A '\n' marks where a
// line may break: before `and` and `or`, after the commas of `purpose in (...)`.
void print_cond(const ast::Cond& c, std::string& out) {
  const auto operand = [&](const ast::Cond& child, bool parens) {
    if (parens) out += '(';
    print_cond(child, out);
    if (parens) out += ')';
  };
  switch (c.kind) {
    case ast::CondKind::fact:
      out += first_name(c);
      break;
    case ast::CondKind::purpose_is:
      out += "purpose is " + first_name(c);
      break;
    case ast::CondKind::purpose_in:
      out += "purpose in (";
      for (std::size_t i = 0; i < c.names.size(); ++i)
        out += (i == 0 ? "" : ",\n") + c.names[i].text;
      out += ')';
      break;
    case ast::CondKind::consent:
      out += "consent " + first_name(c);
      break;
    case ast::CondKind::objected:
      out += "objected " + first_name(c);
      break;
    case ast::CondKind::attribute:
      out += c.attribute ? c.attribute->text() : std::string();
      break;
    case ast::CondKind::compare:
    case ast::CondKind::member:
      out += c.attribute ? c.attribute->text() : std::string();
      out += c.kind == ast::CondKind::member ? " in " : compare_op_text(c.op);
      if (c.operand) out += operand_text(*c.operand);
      break;
    case ast::CondKind::contains:
      if (c.operand) out += operand_text(*c.operand);
      out += " in ";
      out += c.attribute ? c.attribute->text() : std::string();
      break;
    case ast::CondKind::negation:
      out += "not ";
      if (!c.children.empty()) {
        operand(c.children.front(), precedence(c.children.front()) < precedence(c));
      }
      break;
    case ast::CondKind::all:
    case ast::CondKind::any:
      for (std::size_t i = 0; i < c.children.size(); ++i) {
        if (i > 0) out += c.kind == ast::CondKind::all ? "\nand " : "\nor ";
        // The parser flattens chains of one operator, so a child of the same operator only
        // comes from explicit parentheses; they are kept.
        operand(c.children[i], precedence(c.children[i]) <= precedence(c));
      }
      break;
  }
}

Chunks cond_chunks(const ast::Cond& c) {
  std::string text;
  print_cond(c, text);
  Chunks out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = text.find('\n', begin);
    out.push_back(text.substr(begin, end == std::string::npos ? end : end - begin));
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  out.front() = "when " + out.front();
  return out;
}

// ---- statements ----

std::vector<std::string> header_lines(const ast::Header& h) {
  std::vector<std::string> lines{""};
  fill_lines(lines, {"policy " + quote(h.name.value), "version " + quote(h.version.value)}, 2);
  return lines;
}

// `from DATE` and `until DATE`, when written.
Chunks dates_chunks(const std::optional<ast::TimeText>& from,
                    const std::optional<ast::TimeText>& until) {
  Chunks out;
  if (from) out.push_back("from " + from->text);
  if (until) out.push_back("until " + until->text);
  return out;
}

std::vector<std::string> clause_lines(const ast::ClauseDecl& c) {
  std::string head = "clause " + quote(c.id.value);
  for (const std::string& chunk : dates_chunks(c.from, c.until))
    head += " " + chunk;
  std::string one = head + " " + quote(c.words.value);
  if (one.size() <= width) return {std::move(one)};
  std::vector<std::string> lines{head};
  for (const std::string& piece : split_words(c.words.value, width - 4))
    lines.push_back("  " + quote(piece));
  return lines;
}

// Appends a rule's (or an assertion's) effect and its actions, when written.
void add_effect_and_actions(Chunks& head, const ast::Rule& r) {
  switch (r.effect) {
    case ast::Effect::allow:
      head.emplace_back("allow");
      break;
    case ast::Effect::require_consent:
      head.push_back(r.consent ? "require consent " + r.consent->text + " for"
                               : std::string("require consent"));
      break;
    default:
      head.emplace_back("deny");
      break;
  }
  if (written(r.actions)) {
    for (std::string& chunk : set_chunks("", r.actions))
      head.push_back(std::move(chunk));
  }
}

// Places the data, requesters and condition of a rule (or an assertion) on its lines.
void place_target(std::vector<std::string>& lines, const ast::Rule& r) {
  if (written(r.data)) place(lines, set_chunks("of", r.data));
  if (written(r.requesters)) place(lines, set_chunks("by", r.requesters));
  if (r.condition) place(lines, cond_chunks(*r.condition));
}

// The first part of a rule: its name, `otherwise`, the effect and the actions (or, for an
// exclusion, the data).
Chunks rule_head(const ast::Rule& r) {
  Chunks head;
  if (r.name) head.push_back(r.name->text + ":");
  if (r.effective) {
    head.push_back("effective from " + (r.from ? r.from->text : std::string()));
    return head;
  }
  if (r.fallback) head.emplace_back("otherwise");
  if (r.first) head.emplace_back("first");
  if (r.exclusion) {
    for (std::string& chunk : set_chunks("exclude", r.data))
      head.push_back(std::move(chunk));
    return head;
  }
  add_effect_and_actions(head, r);
  return head;
}

std::vector<std::string> rule_lines(const ast::Rule& r) {
  std::vector<std::string> lines{""};
  fill_lines(lines, rule_head(r), 4);
  const std::string cites = "cites " + quote(r.cites.value);
  if (r.effective) {
    // Short enough to read as one sentence: `effective from DATE cites "ID"`.
    place(lines, {cites});
    return lines;
  }
  if (!r.exclusion) {
    place_target(lines, r);
    const Chunks dates = dates_chunks(r.from, r.until);
    if (!dates.empty()) place(lines, dates);
    if (!r.obligations.empty()) place(lines, list_chunks("obliges", r.obligations));
  }
  lines.push_back("  " + cites);
  return lines;
}

std::vector<std::string> assertion_lines(const ast::Assertion& a) {
  Chunks head{"assert", a.always ? "always" : "never"};
  add_effect_and_actions(head, a.body);
  std::vector<std::string> lines{""};
  fill_lines(lines, head, 4);
  place_target(lines, a.body);
  if (a.unless) {
    Chunks unless = cond_chunks(*a.unless);
    if (!unless.empty()) unless.front().replace(0, 4, "unless");  // `when` becomes `unless`
    place(lines, unless);
  }
  return lines;
}

// ---- placing comments and blank lines ----

// A line of the output's outline: a statement, or a comment on a line of its own.
struct Element {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  bool blank_before = false;
  std::size_t item = npos;
  std::string comment;
};

[[noreturn]] void not_in_tree(const SourceFile& file, std::size_t at) {
  const LineColumn lc = line_column(file.text, static_cast<std::uint32_t>(at));
  throw std::invalid_argument(
      fmt::format("{}:{}:{}: text that the syntax tree does not hold; fix the syntax errors first",
                  file.name, lc.line, lc.column));
}

// Makes sure that printing the items and comments loses nothing: outside the statements
// there are only blanks and comments, and every `#` outside a string is a known comment.
void check_coverage(const SourceFile& file, const std::vector<Span>& items,
                    const std::vector<ast::Comment>& comments) {
  const std::string_view text = file.text;
  std::size_t next_comment = 0;
  std::size_t item = 0;
  // The parser passes over a byte order mark; the layout drops it.
  std::size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  while (i < text.size()) {
    while (item < items.size() && items[item].end <= i)
      ++item;
    const bool inside = item < items.size() && items[item].begin <= i;
    const char c = text[i];
    if (c == '#') {
      if (next_comment >= comments.size() || comments[next_comment].span.begin != i) {
        not_in_tree(file, i);
      }
      ++next_comment;
      const std::size_t eol = text.find('\n', i);
      i = eol == std::string_view::npos ? text.size() : eol;
    } else if (is_blank(c)) {
      ++i;
    } else if (!inside) {
      not_in_tree(file, i);
    } else if (c == '"') {
      ++i;
      while (i < text.size() && text[i] != '"')
        i += text[i] == '\\' ? 2 : 1;
      ++i;
    } else {
      ++i;
    }
  }
  if (next_comment != comments.size()) not_in_tree(file, text.size());
}

// Lays out the aligned lines of one run of statements of one kind.
std::vector<std::string> align_cells(const std::vector<const Item*>& run) {
  std::vector<std::size_t> widths;
  for (const Item* item : run) {
    widths.resize(std::max(widths.size(), item->cells.size()), 0);
    for (std::size_t j = 0; j < item->cells.size(); ++j)
      widths[j] = std::max(widths[j], item->cells[j].size());
  }
  std::vector<std::string> lines;
  bool too_wide = false;
  for (const Item* item : run) {
    std::string line;
    std::size_t column = 0;
    for (std::size_t j = 0; j < widths.size(); ++j) {
      if (widths[j] == 0) continue;
      if (j < item->cells.size() && !item->cells[j].empty()) {
        line.resize(column, ' ');
        line += item->cells[j];
      }
      column += widths[j] + 1;
    }
    too_wide = too_wide || line.size() > width;
    lines.push_back(std::move(line));
  }
  if (too_wide) {
    // Padding would push some line past the width: print the run plain instead.
    lines.clear();
    for (const Item* item : run) {
      std::string line;
      for (const std::string& cell : item->cells) {
        if (!cell.empty()) line += (line.empty() ? "" : " ") + cell;
      }
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

// Prints the items in source order with their comments, and one blank line wherever the
// source had blank lines between two of them. `comments` are those not placed yet.
std::string layout(std::string_view text, std::vector<Item> items,
                   const std::vector<ast::Comment>& comments) {
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.begin < b.begin; });
  for (Item& item : items)
    item.extent_end = item.end;

  std::vector<Element> own_line;
  for (const ast::Comment& c : comments) {
    const auto after =
        std::upper_bound(items.begin(), items.end(), c.span.begin,
                         [](std::uint32_t at, const Item& i) { return at < i.begin; });
    Item* item = after == items.begin() ? nullptr : &*(after - 1);
    if (item != nullptr && c.span.begin < item->end) {
      if (item->annotation != nullptr && c.span.begin < item->annotation_end) {
        item->above_annotation.push_back(comment_text(c));
      } else if (item->annotation != nullptr && c.span.begin < item->code &&
                 item->annotation_comment.empty() &&
                 !has_line_break(text, item->annotation_end, c.span.begin)) {
        item->annotation_comment = comment_text(c);
      } else {
        item->hoisted.push_back(comment_text(c));
      }
    } else if (item != nullptr && item->trailing.empty() &&
               !has_line_break(text, item->end, c.span.begin)) {
      item->trailing = comment_text(c);
      item->extent_end = c.span.end;
    } else {
      own_line.push_back({c.span.begin, c.span.end, false, npos, comment_text(c)});
    }
  }

  std::vector<Element> elements;
  std::size_t next = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    while (next < own_line.size() && own_line[next].begin < items[i].begin)
      elements.push_back(std::move(own_line[next++]));
    elements.push_back({items[i].begin, items[i].extent_end, false, i, {}});
  }
  while (next < own_line.size())
    elements.push_back(std::move(own_line[next++]));
  for (std::size_t k = 1; k < elements.size(); ++k) {
    const std::uint32_t from = elements[k - 1].end;
    const std::uint32_t to = elements[k].begin;
    const std::string_view between = from < to ? text.substr(from, to - from) : "";
    elements[k].blank_before = std::count(between.begin(), between.end(), '\n') >= 2;
  }

  // Runs of aligned statements: neighbours of one kind with no blank line between them.
  std::vector<std::vector<std::string>> lines(items.size());
  std::vector<std::size_t> comment_column(items.size(), 0);
  std::vector<const Item*> run;
  std::vector<std::size_t> run_index;
  const auto flush = [&] {
    if (run.empty()) return;
    const std::vector<std::string> aligned = align_cells(run);
    // The comments of a run share a column: past every line of the run when that keeps the
    // commented lines within the width, else past the commented lines only.
    std::size_t past_all = 0;
    std::size_t past_commented = 0;
    std::size_t longest_comment = 0;
    for (std::size_t r = 0; r < run.size(); ++r) {
      lines[run_index[r]] = {aligned[r]};
      past_all = std::max(past_all, aligned[r].size() + 2);
      if (run[r]->trailing.empty()) continue;
      past_commented = std::max(past_commented, aligned[r].size() + 2);
      longest_comment = std::max(longest_comment, run[r]->trailing.size());
    }
    const std::size_t column = past_all + longest_comment <= width ? past_all : past_commented;
    for (const std::size_t index : run_index)
      comment_column[index] = column;
    run.clear();
    run_index.clear();
  };
  for (const Element& e : elements) {
    if (e.blank_before) flush();
    if (e.item == npos) continue;
    const Item& item = items[e.item];
    if (item.align == Align::none || (!run.empty() && run.front()->align != item.align)) flush();
    if (item.align == Align::none) {
      lines[e.item] = item.lines;
    } else {
      run.push_back(&item);
      run_index.push_back(e.item);
    }
  }
  flush();

  std::string out;
  const auto line = [&out](std::string_view s) {
    out += s;
    out += '\n';
  };
  for (const Element& e : elements) {
    if (e.blank_before && !out.empty()) out += '\n';
    if (e.item == npos) {
      line(e.comment);
      continue;
    }
    const Item& item = items[e.item];
    for (const std::string& c : item.above_annotation)
      line(c);
    if (item.annotation != nullptr) {
      std::string a = "@ignore";
      for (std::size_t i = 0; i < item.annotation->codes.size(); ++i)
        a += (i == 0 ? " " : ", ") + item.annotation->codes[i].text;
      if (!item.annotation_comment.empty()) a += "  " + item.annotation_comment;
      line(a);
    }
    for (const std::string& c : item.hoisted)
      line(c);
    std::vector<std::string> body = lines[e.item];
    if (!item.trailing.empty()) {
      std::string& last = body.back();
      last.resize(std::max(last.size() + 2, comment_column[e.item]), ' ');
      last += item.trailing;
    }
    for (const std::string& l : body)
      line(l);
  }
  return out;
}

// ---- policies ----

Item decl_item(std::span<const ast::Decl> group) {
  const ast::Decl& d = group.front();
  Item item;
  item.begin = item.code = d.span.begin;
  item.end = d.span.end;
  const std::string kw(kind_keyword(d.kind));
  Chunks chunks;
  // `purpose NAME under PARENT` is a tree statement like `data`; `purpose a, b` a list.
  const bool tree = d.kind == ast::DeclKind::data || d.kind == ast::DeclKind::requester ||
                    (d.kind == ast::DeclKind::purpose && d.parent);
  if (tree) {
    item.cells = {kw + " " + d.name.text, d.parent ? "under " + d.parent->text : "",
                  d.cites ? "cites " + quote(d.cites->value) : ""};
    for (const std::string& cell : item.cells) {
      if (!cell.empty()) chunks.push_back(cell);
    }
    if (join(chunks).size() <= width) {
      item.align = d.kind == ast::DeclKind::data        ? Align::data
                   : d.kind == ast::DeclKind::requester ? Align::requester
                                                        : Align::purpose;
    }
  } else {
    std::vector<ast::Name> names;
    for (const ast::Decl& n : group)
      names.push_back(n.name);
    chunks = list_chunks(kw, names);
    if (d.cites) chunks.push_back("cites " + quote(d.cites->value));
  }
  item.lines = {""};
  fill_lines(item.lines, chunks, 2);
  return item;
}

// A document's field as written: bare when it reads as a name, else quoted.
std::string field_text(const std::string& field) {
  const bool bare = !field.empty() &&
                    (std::isalpha(static_cast<unsigned char>(field[0])) != 0 || field[0] == '_') &&
                    std::all_of(field.begin(), field.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                    });
  return bare ? field : quote(field);
}

// `DOC[KEY].FIELD`
std::string lookup_text(const ast::Lookup& l) {
  return l.document.text + "[" + l.key.text() + "]." + field_text(l.field.value);
}

// `attribute PATH TYPE [optional] [from DOC[KEY].FIELD]`, in columns with its neighbours.
Item attribute_item(const ast::AttributeDecl& a) {
  Item item;
  item.begin = item.code = a.span.begin;
  item.end = a.span.end;
  std::string type =
      a.list ? "list of " + (a.element ? a.element->text : std::string()) : a.type.text;
  if (a.range) type += " " + a.range->low + ".." + a.range->high;
  item.cells = {"attribute " + a.path.text(), type, a.optional ? "optional" : ""};
  Chunks chunks;
  for (const std::string& cell : item.cells) {
    if (!cell.empty()) chunks.push_back(cell);
  }
  if (a.lookup) {
    chunks.push_back("from " + lookup_text(*a.lookup));
    item.cells.push_back(chunks.back());
  }
  if (join(chunks).size() <= width) item.align = Align::attribute;
  item.lines = {""};
  fill_lines(item.lines, chunks, 2);
  return item;
}

// `document NAME from "PATH" [keyed by FIELD]`, on one line.
Item document_item(const ast::DocumentDecl& d) {
  Item item;
  item.begin = item.code = d.span.begin;
  item.end = d.span.end;
  std::string line = "document " + d.name.text + " from " + quote(d.path.value);
  if (d.key_field) line += " keyed by " + field_text(d.key_field->value);
  item.lines = {line};
  return item;
}

// `names NAME: A, B, C`, wrapped like a list of declared names.
Item name_set_item(const ast::NameSetDecl& n) {
  Item item;
  item.begin = item.code = n.span.begin;
  item.end = n.span.end;
  item.lines = {""};
  fill_lines(item.lines, list_chunks("names " + n.name.text + ":", n.members), 2);
  return item;
}

Item rule_item(const ast::Rule& r) {
  Item item;
  item.begin = item.code = r.span.begin;
  item.end = r.span.end;
  item.lines = rule_lines(r);
  if (r.exclusion) {
    const std::string first = join(rule_head(r));
    const std::string cites = "cites " + quote(r.cites.value);
    if (first.size() + 1 + cites.size() <= width) {
      item.align = Align::exclude;
      item.cells = {first, cites};
    }
  }
  return item;
}

std::vector<Item> policy_items(const ast::Policy& policy) {
  std::vector<Item> items;
  const auto simple = [&](Span span, std::vector<std::string> lines) {
    Item item;
    item.begin = item.code = span.begin;
    item.end = span.end;
    item.lines = std::move(lines);
    items.push_back(std::move(item));
  };
  for (const ast::Header& h : policy.headers)
    simple(h.span, header_lines(h));
  for (const ast::ClauseDecl& c : policy.clauses)
    simple(c.span, clause_lines(c));
  // The names of one statement share its span.
  for (std::size_t i = 0; i < policy.decls.size();) {
    std::size_t j = i + 1;
    while (j < policy.decls.size() && policy.decls[j].span.begin == policy.decls[i].span.begin)
      ++j;
    items.push_back(decl_item(std::span(policy.decls).subspan(i, j - i)));
    i = j;
  }
  for (const ast::AttributeDecl& a : policy.attributes)
    items.push_back(attribute_item(a));
  for (const ast::NameSetDecl& n : policy.name_sets)
    items.push_back(name_set_item(n));
  for (const ast::DocumentDecl& d : policy.documents)
    items.push_back(document_item(d));
  for (const ast::Rule& r : policy.rules)
    items.push_back(rule_item(r));
  for (const ast::Assertion& a : policy.assertions)
    simple(a.span, assertion_lines(a));
  for (const ast::Suppression& s : policy.suppressions) {
    for (Item& item : items) {
      if (item.end == s.span.end && item.code > s.span.begin) {
        item.begin = s.span.begin;
        item.annotation = &s;
        item.annotation_end = s.codes.empty() ? s.span.begin : s.codes.back().span.end;
      }
    }
  }
  return items;
}

std::vector<Span> spans_of(const std::vector<Item>& items) {
  std::vector<Span> spans;
  for (const Item& item : items)
    spans.push_back(Span{item.begin, item.end});
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  return spans;
}

}  // namespace formatting

std::string format_policy(const SourceFile& file, const ast::Policy& policy) {
  using namespace formatting;  // NOLINT: the printer's own helpers
  std::vector<Item> items = policy_items(policy);
  check_coverage(file, spans_of(items), policy.comments);
  return layout(file.text, std::move(items), policy.comments);
}

}  // namespace clause::dsl
