// Stage: parse. The PEGTL actions that build the syntax tree of a policy file.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clause/dsl/ast.hpp"
#include "clause/dsl/parse.hpp"
#include "parse/grammar.hpp"
#include "parse/grammar_errors.hpp"
#include "parse/recovery.hpp"

namespace clause::dsl::parsing {

namespace pegtl = tao::pegtl;

// A name past ParseLimits::max_name_length (E102): not a grammar mistake, so the parser
// tells it from the others by its type.
struct NameTooLong : pegtl::parse_error {
  using pegtl::parse_error::parse_error;
};

// What the actions build while one statement is parsed. A statement that fails leaves no
// trace: its state is thrown away and the next statement starts afresh.
struct State {
  const char* base = nullptr;  // start of the whole file: spans are offsets from it
  const ParseLimits* limits = nullptr;
  ast::Policy* policy = nullptr;   // set when parsing a policy file
  ast::TestFile* tests = nullptr;  // set when parsing a test file
  std::vector<ast::Comment>* comments = nullptr;

  std::size_t depth = 0;  // current nesting of `not` and parentheses
  std::vector<ast::Name> names;
  std::vector<ast::Name> cond_names;
  std::vector<ast::Cond> conds;
  std::optional<ast::Text> text;     // last string slot parsed
  std::optional<ast::Text> cites;    // `cites "ID"` of a declaration
  std::optional<ast::Name> parent;   // `under NAME`
  std::optional<ast::Text> version;  // header version
  ast::Rule rule;
  std::vector<ast::Name> codes;  // of an `@ignore` annotation
  bool always = false;           // of an assertion
  std::optional<ast::Cond> unless;
  ast::TestCase test_case;
  ast::Expectation expect;
  ast::TestAttribute pair;                   // of a case's `with`
  std::optional<ast::Name> unknown_field;    // a word where a case's field belongs
  std::optional<ast::TimeText> from, until;  // `from DATE`, `until DATE`
  std::optional<ast::TimeText> effective;    // `effective from DATE`
  ast::AttributeDecl attribute;              // of an `attribute` declaration
  ast::NameSetDecl name_set;                 // of a `names` declaration
  ast::DocumentDecl document;                // of a `document` declaration
  std::optional<ast::AttrPath> lhs;          // a comparison's left side
  ast::CompareOp op = ast::CompareOp::eq;
  std::optional<ast::Operand> operand;       // a comparison's right side
  ast::DurationText shift;                   // the parts of `+ N unit` read so far
  bool shift_back = false;                   // the shift is `- N unit`
  bool member = false;                       // the comparison is `in`
  std::vector<Diagnostic>* found = nullptr;  // errors that do not stop the parse

  Span span_of(const char* begin, const char* end) const {
    return Span{static_cast<std::uint32_t>(begin - base), static_cast<std::uint32_t>(end - base)};
  }
  template <typename Input>
  Span span_of(const Input& in) const {
    return span_of(in.begin(), in.end());
  }
};

// Decodes one string literal's body (between the quotes).
inline std::string unescape(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\\' && i + 1 < body.size()) {
      const char c = body[++i];
      out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    } else {
      out += body[i];
    }
  }
  return out;
}

// Decodes adjacent string literals (with blanks and comments between them) into one text.
inline std::string join_literals(std::string_view raw) {
  std::string out;
  std::size_t i = 0;
  while (i < raw.size()) {
    if (raw[i] == '#') {
      while (i < raw.size() && raw[i] != '\n')
        ++i;
    } else if (raw[i] == '"') {
      std::size_t j = i + 1;
      while (j < raw.size() && raw[j] != '"')
        j += raw[j] == '\\' ? 2 : 1;
      if (!out.empty()) out += ' ';
      out += unescape(raw.substr(i + 1, j - i - 1));
      i = j + 1;
    } else {
      ++i;
    }
  }
  return out;
}

template <typename Rule>
struct action : pegtl::nothing<Rule> {};

template <>
struct action<grammar::comment> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    // Backtracking can match the same comment twice; keep it once.
    const Span span = st.span_of(in);
    auto& comments = *st.comments;
    if (!comments.empty() && comments.back().span.begin >= span.begin) return;
    std::string text = in.string();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
      text.pop_back();
    const auto end = span.begin + static_cast<std::uint32_t>(text.size());
    comments.push_back({std::move(text), Span{span.begin, end}});
  }
};

// Every string slot decodes the same way.
struct text_action {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.text = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};
template <>
struct action<grammar::header_name> : text_action {};
template <>
struct action<grammar::clause_id> : text_action {};
template <>
struct action<grammar::rule_cites_id> : text_action {};

template <>
struct action<grammar::header_version> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.version = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<grammar::header> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.policy->headers.push_back({*st.text, *st.version, st.span_of(in)});
  }
};

template <>
struct action<grammar::clause_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    // The words are everything after the id: decode them from the statement's text.
    const std::string_view all = in.string_view();
    const std::size_t id_end = st.text->span.end - st.span_of(in).begin;
    const std::string_view words_raw = all.substr(id_end);
    const std::size_t words_begin = words_raw.find('"');
    ast::Text words{
        join_literals(words_raw),
        Span{st.text->span.end + static_cast<std::uint32_t>(words_begin), st.span_of(in).end}};
    st.policy->clauses.push_back(
        {*st.text, std::move(words), st.span_of(in), std::move(st.from), std::move(st.until)});
    st.from.reset();
    st.until.reset();
  }
};

template <>
struct action<grammar::cite_id> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.cites = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<grammar::parent_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.parent = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::decl_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.names.push_back({in.string(), st.span_of(in)});
  }
};

template <>
struct action<grammar::list_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.names.push_back({in.string(), st.span_of(in)});
  }
};

// Declarations: one Decl per declared name, all sharing the statement's parent and cites.
template <ast::DeclKind Kind>
struct decl_action {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    for (auto& n : st.names) {
      st.policy->decls.push_back({Kind, std::move(n), st.parent, st.cites, st.span_of(in)});
    }
    st.names.clear();
  }
};
template <>
struct action<grammar::data_decl> : decl_action<ast::DeclKind::data> {};
template <>
struct action<grammar::requester_decl> : decl_action<ast::DeclKind::requester> {};
template <>
struct action<grammar::action_decl> : decl_action<ast::DeclKind::action> {};
template <>
struct action<grammar::purpose_decl> : decl_action<ast::DeclKind::purpose> {};
template <>
struct action<grammar::fact_decl> : decl_action<ast::DeclKind::fact> {};
template <>
struct action<grammar::objection_decl> : decl_action<ast::DeclKind::objection> {};
template <>
struct action<grammar::obligation_decl> : decl_action<ast::DeclKind::obligation> {};

// Reads `root.field` as written, with the span of each part.
template <typename Input>
ast::AttrPath attr_path_of(const Input& in, const State& st) {
  const std::string_view raw = in.string_view();
  const std::size_t dot = raw.find('.');
  const Span span = st.span_of(in);
  ast::AttrPath path;
  path.root = {std::string(raw.substr(0, dot)),
               Span{span.begin, span.begin + static_cast<std::uint32_t>(dot)}};
  path.field = {std::string(raw.substr(dot + 1)),
                Span{span.begin + static_cast<std::uint32_t>(dot) + 1, span.end}};
  path.span = span;
  return path;
}

template <>
struct action<grammar::attr_decl_path> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.attribute = ast::AttributeDecl{};
    st.attribute.path = attr_path_of(in, st);
  }
};

template <>
struct action<grammar::attr_type_word> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    if (st.attribute.list) {
      st.attribute.element = ast::Name{in.string(), st.span_of(in)};
    } else {
      st.attribute.type = ast::Name{in.string(), st.span_of(in)};
    }
  }
};

// `list of WORD`: the element's word goes to `element`, so mark the list before it is read.
template <>
struct action<grammar::attr_list_of> : pegtl::maybe_nothing {
  template <typename Rule, pegtl::apply_mode A, pegtl::rewind_mode M,
            template <typename...> class Action, template <typename...> class Control,
            typename Input>
  [[nodiscard]] static bool match(Input& in, State& st) {
    const char* const begin = in.current();
    st.attribute.list = true;
    if (!pegtl::match<Rule, A, M, Action, Control>(in, st)) {
      st.attribute.list = false;
      return false;
    }
    st.attribute.type = ast::Name{"list", st.span_of(begin, begin + 4)};
    return true;
  }
};

template <>
struct action<grammar::attr_optional> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.attribute.optional = true;
  }
};

template <>
struct action<grammar::range_low> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.attribute.range = ast::RangeText{in.string(), "", st.span_of(in)};
  }
};

template <>
struct action<grammar::range_high> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    if (!st.attribute.range) return;
    st.attribute.range->high = in.string();
    st.attribute.range->span.end = st.span_of(in).end;
  }
};

template <>
struct action<grammar::lookup_document> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.attribute.lookup = ast::Lookup{};
    st.attribute.lookup->document = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::lookup_key> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    if (st.attribute.lookup) st.attribute.lookup->key = attr_path_of(in, st);
  }
};

template <>
struct action<grammar::lookup_field_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    if (st.attribute.lookup) st.attribute.lookup->field = ast::Text{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::lookup_field_text> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    if (st.attribute.lookup)
      st.attribute.lookup->field = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<grammar::attr_lookup> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    if (st.attribute.lookup) st.attribute.lookup->span = st.span_of(in);
  }
};

template <>
struct action<grammar::document_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.document = ast::DocumentDecl{};
    st.document.name = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::document_path> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.document.path = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<grammar::document_key_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.document.key_field = ast::Text{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::document_key_text> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.document.key_field = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<grammar::document_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.document.span = st.span_of(in);
    st.policy->documents.push_back(std::move(st.document));
    st.document = ast::DocumentDecl{};
  }
};

template <>
struct action<grammar::name_set_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.name_set = ast::NameSetDecl{};
    st.name_set.name = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::name_set_member> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.name_set.members.push_back({in.string(), st.span_of(in)});
  }
};

template <>
struct action<grammar::names_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.name_set.span = st.span_of(in);
    st.policy->name_sets.push_back(std::move(st.name_set));
    st.name_set = ast::NameSetDecl{};
  }
};

template <>
struct action<grammar::attribute_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.attribute.span = st.span_of(in);
    st.policy->attributes.push_back(std::move(st.attribute));
    st.attribute = ast::AttributeDecl{};
  }
};
template <>
struct action<grammar::consent_decl> : decl_action<ast::DeclKind::consent> {};

// Conditions are built on a stack: leaves push, operators pop their operands.
template <>
struct action<grammar::cond_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.cond_names.push_back({in.string(), st.span_of(in)});
  }
};

template <ast::CondKind Kind>
struct leaf_action {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    ast::Cond leaf;
    leaf.kind = Kind;
    leaf.names = std::move(st.cond_names);
    st.cond_names.clear();
    leaf.span = st.span_of(in);
    st.conds.push_back(std::move(leaf));
  }
};
template <>
struct action<grammar::fact_atom> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    ast::Cond leaf;
    leaf.kind = ast::CondKind::fact;
    leaf.names.push_back({in.string(), st.span_of(in)});
    leaf.span = st.span_of(in);
    st.conds.push_back(std::move(leaf));
  }
};
template <>
struct action<grammar::consent_atom> : leaf_action<ast::CondKind::consent> {};
template <>
struct action<grammar::purpose_is> : leaf_action<ast::CondKind::purpose_is> {};
template <>
struct action<grammar::purpose_in> : leaf_action<ast::CondKind::purpose_in> {};

template <>
struct action<grammar::objected_atom> : leaf_action<ast::CondKind::objected> {};

template <>
struct action<grammar::attr_lhs> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.lhs = attr_path_of(in, st);
    st.operand.reset();
  }
};

template <>
struct action<grammar::cmp_op> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    const std::string_view op = in.string_view();
    using Op = ast::CompareOp;
    st.op = op == "<"    ? Op::lt
            : op == "<=" ? Op::le
            : op == ">"  ? Op::gt
            : op == ">=" ? Op::ge
            : op == "!=" ? Op::ne
                         : Op::eq;  // `=` and `is`
  }
};

template <ast::Operand::Kind Kind>
struct operand_action {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    ast::Operand o;
    o.kind = Kind;
    o.span = st.span_of(in);
    if constexpr (Kind == ast::Operand::Kind::attribute) {
      o.attribute = attr_path_of(in, st);
    } else if constexpr (Kind == ast::Operand::Kind::integer) {
      // Digits only (and a sign): out of range is the checker's to report.
      o.text = in.string();
    } else if constexpr (Kind == ast::Operand::Kind::string) {
      o.text = join_literals(in.string_view());
    } else if constexpr (Kind == ast::Operand::Kind::time || Kind == ast::Operand::Kind::name) {
      o.text = in.string();
    }
    st.operand = std::move(o);
  }
};
template <>
struct action<grammar::operand_attr> : operand_action<ast::Operand::Kind::attribute> {};
template <>
struct action<grammar::operand_time> : operand_action<ast::Operand::Kind::time> {};
template <>
struct action<grammar::operand_integer> : operand_action<ast::Operand::Kind::integer> {};
template <>
struct action<grammar::operand_string> : operand_action<ast::Operand::Kind::string> {};
template <>
struct action<grammar::operand_true> : operand_action<ast::Operand::Kind::boolean> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    operand_action::apply(in, st);
    st.operand->boolean = true;
  }
};
template <>
struct action<grammar::operand_false> : operand_action<ast::Operand::Kind::boolean> {};
template <>
struct action<grammar::operand_name> : operand_action<ast::Operand::Kind::name> {};

template <>
struct action<grammar::member_rhs> : operand_action<ast::Operand::Kind::attribute> {};

// `+ 6 years`: each part is read by its own rule, so that comments between them (which may
// hold digits or signs) are never taken for a part.
template <>
struct action<grammar::shift_sign> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.shift = ast::DurationText{};
    st.shift_back = in.peek_char() == '-';
    st.shift.span.begin = st.span_of(in).begin;
  }
};

template <>
struct action<grammar::duration_amount> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    const std::string_view amount = in.string_view();
    st.shift.amount = 0;
    for (const char c : amount.substr(0, 12))  // longer is out of range for the checker
      st.shift.amount = st.shift.amount * 10 + (c - '0');
    if (amount.size() > 12) st.shift.amount = std::int64_t{1} << 50;
  }
};

template <>
struct action<grammar::duration_unit> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.shift.unit = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::shift> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    ast::DurationText d = std::move(st.shift);
    if (st.shift_back) d.amount = -d.amount;
    d.span.end = st.span_of(in).end;
    if (st.operand) {
      st.operand->span.end = d.span.end;
      st.operand->shift = std::move(d);
    }
  }
};

template <>
struct action<grammar::attr_atom> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    ast::Cond leaf;
    leaf.attribute = std::move(st.lhs);
    leaf.span = st.span_of(in);
    if (!st.operand) {
      leaf.kind = ast::CondKind::attribute;
    } else {
      leaf.kind = st.member ? ast::CondKind::member : ast::CondKind::compare;
      leaf.op = st.op;
      leaf.operand = std::move(st.operand);
    }
    st.lhs.reset();
    st.operand.reset();
    st.op = ast::CompareOp::eq;
    st.member = false;
    st.conds.push_back(std::move(leaf));
  }
};

template <>
struct action<grammar::contains_constant> : operand_action<ast::Operand::Kind::string> {};

template <>
struct action<grammar::contains_list> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.lhs = attr_path_of(in, st);
  }
};

template <>
struct action<grammar::contains_atom> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    ast::Cond leaf;
    leaf.kind = ast::CondKind::contains;
    leaf.attribute = std::move(st.lhs);
    leaf.operand = std::move(st.operand);
    leaf.span = st.span_of(in);
    st.lhs.reset();
    st.operand.reset();
    st.conds.push_back(std::move(leaf));
  }
};

template <>
struct action<grammar::member_tail> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.member = true;
  }
};

template <>
struct action<grammar::purpose_atom> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.conds.back().span = st.span_of(in);  // the leaf covers `purpose` too
  }
};

template <>
struct action<grammar::paren> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.conds.back().span = st.span_of(in);
  }
};

template <>
struct action<grammar::not_expr> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    ast::Cond node;
    node.kind = ast::CondKind::negation;
    node.children.push_back(std::move(st.conds.back()));
    node.span = st.span_of(in);
    st.conds.back() = std::move(node);
  }
};

// Joins the two top conditions under `and` or `or`, flattening chains of one operator.
template <ast::CondKind Kind>
struct join_action {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    ast::Cond right = std::move(st.conds.back());
    st.conds.pop_back();
    ast::Cond& left = st.conds.back();
    if (left.kind != Kind) {
      ast::Cond node;
      node.kind = Kind;
      node.span = left.span;
      node.children.push_back(std::move(left));
      left = std::move(node);
    }
    left.span.end = right.span.end;
    if (right.kind == Kind) {
      for (auto& child : right.children)
        left.children.push_back(std::move(child));
    } else {
      left.children.push_back(std::move(right));
    }
  }
};
template <>
struct action<grammar::and_tail> : join_action<ast::CondKind::all> {};
template <>
struct action<grammar::or_tail> : join_action<ast::CondKind::any> {};

// Nesting of `not` and parentheses is bounded, so no input can exhaust the stack.
template <>
struct action<grammar::unary> : pegtl::maybe_nothing {
  template <typename Rule, pegtl::apply_mode A, pegtl::rewind_mode M,
            template <typename...> class Action, template <typename...> class Control,
            typename Input>
  [[nodiscard]] static bool match(Input& in, State& st) {
    struct guard {
      std::size_t& depth;
      ~guard() { --depth; }
    } g{++st.depth};
    // A lone atom is one level; each `not` or pair of parentheses around it adds one.
    if (st.depth > st.limits->max_condition_depth + 1) {
      throw grammar::ParseStop(
          fmt::format("condition nested too deeply (more than {} levels of `not` and parentheses)",
                      st.limits->max_condition_depth),
          in, expects::nesting);
    }
    return pegtl::match<Rule, A, M, Action, Control>(in, st);
  }
};

// Names are bounded in length, so a runaway name is reported as what it is.
template <>
struct action<grammar::bounded_identifier> : pegtl::maybe_nothing {
  template <typename Rule, pegtl::apply_mode A, pegtl::rewind_mode M,
            template <typename...> class Action, template <typename...> class Control,
            typename Input>
  [[nodiscard]] static bool match(Input& in, State& st) {
    const auto start = in.position();
    const char* const begin = in.current();
    if (!pegtl::match<Rule, A, M, Action, Control>(in, st)) return false;
    const auto length = static_cast<std::size_t>(in.current() - begin);
    if (length > st.limits->max_name_length) {
      throw NameTooLong(fmt::format("name is {} characters long; the limit is {}", length,
                                    st.limits->max_name_length),
                        start);
    }
    return true;
  }
};

template <>
struct action<grammar::when_part> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.rule.condition = std::move(st.conds.back());
    st.conds.clear();
  }
};

// Moves the collected names into one of the rule's target sets.
template <ast::NameSet ast::Rule::*Slot>
struct set_action {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    ast::NameSet& set = st.rule.*Slot;
    set.span = st.span_of(in);
    set.any = st.names.empty();
    set.names = std::move(st.names);
    st.names.clear();
  }
};
template <>
struct action<grammar::action_set> : set_action<&ast::Rule::actions> {};
template <>
struct action<grammar::data_set> : set_action<&ast::Rule::data> {};
template <>
struct action<grammar::requester_set> : set_action<&ast::Rule::requesters> {};

template <ast::Effect E>
struct effect_action {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.effect = E;
    st.rule.effect_span = st.span_of(in);
  }
};
template <>
struct action<grammar::effect_allow> : effect_action<ast::Effect::allow> {};
template <>
struct action<grammar::effect_deny> : effect_action<ast::Effect::deny> {};
template <>
struct action<grammar::exclude_effect> : effect_action<ast::Effect::allow> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    effect_action::apply(in, st);
    st.rule.exclusion = true;
  }
};

template <>
struct action<grammar::consent_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.consent = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::effect_require> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.effect = ast::Effect::require_consent;
    const Span span = st.span_of(in);
    st.rule.effect_span = Span{span.begin, span.begin + 7};  // `require`
  }
};

template <>
struct action<grammar::from_time> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.from = ast::TimeText{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::until_time> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.until = ast::TimeText{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::effective_time> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.effective = true;
    st.rule.effect = ast::Effect::deny;
    st.rule.from = ast::TimeText{in.string(), st.span_of(in)};
    const Span span = st.span_of(in);
    st.rule.effect_span = span;
  }
};

template <>
struct action<grammar::obligation_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.obligations.push_back({in.string(), st.span_of(in)});
  }
};

template <>
struct action<grammar::first_tier> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.rule.first = true;
  }
};

template <>
struct action<grammar::otherwise> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.rule.fallback = true;
  }
};

template <>
struct action<grammar::rule_label> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    const std::string_view raw = in.string_view();
    std::size_t n = 0;
    while (n < raw.size() && (std::isalnum(static_cast<unsigned char>(raw[n])) || raw[n] == '_'))
      ++n;
    const Span span = st.span_of(in);
    st.rule.name = ast::Name{std::string(raw.substr(0, n)),
                             Span{span.begin, span.begin + static_cast<std::uint32_t>(n)}};
  }
};

template <>
struct action<grammar::rule> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.cites = *st.text;
    if (!st.rule.effective) {
      st.rule.from = std::move(st.from);
      st.rule.until = std::move(st.until);
    }
    st.rule.span = st.span_of(in);
    st.policy->rules.push_back(std::move(st.rule));
    st.rule = ast::Rule{};
  }
};

template <>
struct action<grammar::quantifier_always> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.always = true;
  }
};

template <>
struct action<grammar::assert_require> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.effect = ast::Effect::require_consent;
    const Span span = st.span_of(in);
    st.rule.effect_span = Span{span.begin, span.begin + 7};
  }
};

template <>
struct action<grammar::assert_consent> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    const std::string_view raw = in.string_view();
    std::size_t n = 0;
    while (n < raw.size() && is_word_char(raw[n]))
      ++n;
    const Span span = st.span_of(in);
    st.rule.consent = ast::Name{std::string(raw.substr(0, n)),
                                Span{span.begin, span.begin + static_cast<std::uint32_t>(n)}};
  }
};

template <>
struct action<grammar::unless_part> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.unless = std::move(st.conds.back());
    st.conds.clear();
  }
};

template <>
struct action<grammar::assertion> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.span = st.span_of(in);
    st.policy->assertions.push_back(
        {st.always, std::move(st.rule), std::move(st.unless), st.span_of(in)});
    st.rule = ast::Rule{};
  }
};

template <>
struct action<grammar::ignore_code> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.names.push_back({in.string(), st.span_of(in)});
  }
};

template <>
struct action<grammar::annotation> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.codes = std::move(st.names);
    st.names.clear();
  }
};

template <>
struct action<grammar::annotated> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.policy->suppressions.push_back({std::move(st.codes), st.span_of(in)});
  }
};

// Test files.

}  // namespace clause::dsl::parsing
