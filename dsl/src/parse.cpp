// Stage: parse. The PEGTL grammar of policy files and the actions that build the syntax
// tree. This is the only file that includes PEGTL.
#include "clause/dsl/parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <tao/pegtl.hpp>
#include <utility>

#include "clause/dsl/check.hpp"

namespace clause::dsl {
namespace {

namespace pegtl = tao::pegtl;

// What the actions build while one statement is parsed. A statement that fails leaves no
// trace: its state is thrown away and the next statement starts afresh.
struct State {
  const char* base = nullptr;  // start of the whole file: spans are offsets from it
  const ParseLimits* limits = nullptr;
  ast::Policy* policy = nullptr;

  std::size_t depth = 0;  // current nesting of `not` and parentheses
  std::vector<ast::Name> names;
  std::vector<ast::Name> cond_names;
  std::vector<ast::Cond> conds;
  std::optional<ast::Text> text;     // last string slot parsed
  std::optional<ast::Text> cites;    // `cites "ID"` of a declaration
  std::optional<ast::Name> parent;   // `under NAME`
  std::optional<ast::Text> version;  // header version
  ast::Rule rule;

  Span span_of(const char* begin, const char* end) const {
    return Span{static_cast<std::uint32_t>(begin - base), static_cast<std::uint32_t>(end - base)};
  }
  template <typename Input>
  Span span_of(const Input& in) const {
    return span_of(in.begin(), in.end());
  }
};

namespace g {
using namespace pegtl;

// A comment runs from `#` to the end of its line.
struct comment : seq<one<'#'>, until<eolf>> {};
// Blanks, line breaks and comments between tokens.
struct sep : star<sor<space, comment>> {};

struct kw_policy : TAO_PEGTL_KEYWORD("policy") {};
struct kw_version : TAO_PEGTL_KEYWORD("version") {};
struct kw_clause : TAO_PEGTL_KEYWORD("clause") {};
struct kw_data : TAO_PEGTL_KEYWORD("data") {};
struct kw_requester : TAO_PEGTL_KEYWORD("requester") {};
struct kw_action : TAO_PEGTL_KEYWORD("action") {};
struct kw_purpose : TAO_PEGTL_KEYWORD("purpose") {};
struct kw_fact : TAO_PEGTL_KEYWORD("fact") {};
struct kw_consent : TAO_PEGTL_KEYWORD("consent") {};
struct kw_under : TAO_PEGTL_KEYWORD("under") {};
struct kw_cites : TAO_PEGTL_KEYWORD("cites") {};
struct kw_allow : TAO_PEGTL_KEYWORD("allow") {};
struct kw_deny : TAO_PEGTL_KEYWORD("deny") {};
struct kw_require : TAO_PEGTL_KEYWORD("require") {};
struct kw_exclude : TAO_PEGTL_KEYWORD("exclude") {};
struct kw_otherwise : TAO_PEGTL_KEYWORD("otherwise") {};
struct kw_for : TAO_PEGTL_KEYWORD("for") {};
struct kw_of : TAO_PEGTL_KEYWORD("of") {};
struct kw_by : TAO_PEGTL_KEYWORD("by") {};
struct kw_when : TAO_PEGTL_KEYWORD("when") {};
struct kw_and : TAO_PEGTL_KEYWORD("and") {};
struct kw_or : TAO_PEGTL_KEYWORD("or") {};
struct kw_not : TAO_PEGTL_KEYWORD("not") {};
struct kw_is : TAO_PEGTL_KEYWORD("is") {};
struct kw_in : TAO_PEGTL_KEYWORD("in") {};
struct kw_any : TAO_PEGTL_KEYWORD("any") {};
struct kw_default : TAO_PEGTL_KEYWORD("default") {};

// Every reserved word; none of them can name a thing.
struct keyword
    : sor<kw_policy, kw_version, kw_clause, kw_data, kw_requester, kw_action, kw_purpose, kw_fact,
          kw_consent, kw_under, kw_cites, kw_allow, kw_deny, kw_require, kw_exclude, kw_otherwise,
          kw_for, kw_of, kw_by, kw_when, kw_and, kw_or, kw_not, kw_is, kw_in, kw_any, kw_default> {
};

// A name: letters, digits and `_`, not starting with a digit, not a reserved word.
struct name : seq<not_at<keyword>, identifier> {};
// A name that goes into the current list of names.
struct list_name : name {};
// Names separated by commas.
struct name_list : list_must<list_name, seq<sep, one<','>, sep>> {};

// One escape sequence inside a string.
struct escape : seq<one<'\\'>, one<'"', '\\', 'n', 't'>> {};
// A double-quoted string on one line.
struct string_lit : if_must<one<'"'>, until<one<'"'>, sor<escape, not_one<'\n', '\r', '\\'>>>> {};

// `policy "NAME" version "VERSION"`
struct header_name : string_lit {};
struct header_version : string_lit {};
struct header : if_must<kw_policy, sep, header_name, sep, kw_version, sep, header_version> {};

// `clause "ID" "WORDS" ...`: adjacent strings join, so long words can span lines.
struct clause_id : string_lit {};
struct clause_words : list<string_lit, sep> {};
struct clause_decl : if_must<kw_clause, sep, clause_id, sep, clause_words> {};

// `cites "ID"` on a declaration.
struct cite_id : string_lit {};
struct decl_cites : if_must<kw_cites, sep, cite_id> {};
// `under PARENT`
struct parent_name : name {};
struct decl_parent : if_must<kw_under, sep, parent_name> {};

// `data NAME [under PARENT] [cites "ID"]`, likewise `requester`.
struct decl_name : name {};
struct tree_tail : seq<decl_name, opt<sep, decl_parent>, opt<sep, decl_cites>> {};
struct data_decl : if_must<kw_data, sep, tree_tail> {};
struct requester_decl : if_must<kw_requester, sep, tree_tail> {};

// `action a, b, c`, likewise `purpose` and `fact`; `consent a, b [cites "ID"]`.
struct action_decl : if_must<kw_action, sep, name_list> {};
struct purpose_decl : if_must<kw_purpose, sep, name_list> {};
struct fact_decl : if_must<kw_fact, sep, name_list> {};
struct consent_decl : if_must<kw_consent, sep, name_list, opt<sep, decl_cites>> {};

// Conditions. `not` binds tightest, then `and`, then `or`.
struct condition;
struct unary;
struct cond_name : name {};
struct close_paren : one<')'> {};
struct open_paren : one<'('> {};
struct purpose_list : list_must<cond_name, seq<sep, one<','>, sep>> {};
struct purpose_is : if_must<kw_is, sep, cond_name> {};
struct purpose_in : if_must<kw_in, sep, open_paren, sep, purpose_list, sep, close_paren> {};
struct purpose_test : sor<purpose_is, purpose_in> {};
struct purpose_atom : if_must<kw_purpose, sep, purpose_test> {};
struct consent_atom : if_must<kw_consent, sep, cond_name> {};
struct fact_atom : cond_name {};
struct paren : if_must<one<'('>, sep, condition, sep, close_paren> {};
struct primary : sor<paren, purpose_atom, consent_atom, fact_atom> {};
struct not_expr : if_must<kw_not, sep, unary> {};
struct unary : sor<not_expr, primary> {};
struct and_tail : if_must<seq<sep, kw_and>, sep, unary> {};
struct and_expr : seq<unary, star<and_tail>> {};
struct or_tail : if_must<seq<sep, kw_or>, sep, and_expr> {};
struct or_expr : seq<and_expr, star<or_tail>> {};
struct condition : or_expr {};

// Target sets of a rule: `any`, or names.
struct name_set : sor<kw_any, name_list> {};
struct action_set : name_set {};
struct data_set : name_set {};
struct requester_set : name_set {};
struct of_part : if_must<kw_of, sep, data_set> {};
struct by_part : if_must<kw_by, sep, requester_set> {};
struct when_part : if_must<kw_when, sep, condition> {};
struct target : seq<opt<sep, action_set>, opt<sep, of_part>, opt<sep, by_part>> {};

struct rule_cites_id : string_lit {};
struct rule_cites : seq<kw_cites, sep, rule_cites_id> {};

// Effects.
struct effect_allow : kw_allow {};
struct effect_deny : kw_deny {};
struct consent_name : name {};
struct effect_require : if_must<kw_require, sep, kw_consent, sep, consent_name, sep, kw_for> {};
struct effect : sor<effect_allow, effect_deny, effect_require> {};
struct effect_rule : seq<effect, target, opt<sep, when_part>, sep, must<rule_cites>> {};
struct otherwise : kw_otherwise {};
struct fallback_rule : if_must<otherwise, sep, effect_rule> {};
struct exclude_effect : kw_exclude {};
struct exclude_rule : if_must<exclude_effect, sep, data_set, sep, rule_cites> {};
// `NAME:` before a rule names it.
struct rule_label : seq<name, sep, one<':'>> {};
struct rule_body : sor<exclude_rule, fallback_rule, effect_rule> {};
struct labelled_rule : if_must<rule_label, sep, rule_body> {};
struct rule : sor<labelled_rule, rule_body> {};

// One top-level statement.
struct statement : sor<header, clause_decl, data_decl, requester_decl, action_decl, purpose_decl,
                       fact_decl, consent_decl, rule> {};
struct statement_then_sep : seq<statement, sep> {};

// Messages for every place where the parse is committed. They say what an author must
// write there, in the author's words.
template <typename Rule>
inline constexpr const char* expected = "unexpected text";
template <>
inline constexpr const char* expected<sep> = "unexpected text";
template <>
inline constexpr const char* expected<header_name> =
    "expected the policy's name as a quoted string";
template <>
inline constexpr const char* expected<kw_version> = "expected `version` after the policy's name";
template <>
inline constexpr const char* expected<header_version> = "expected the version as a quoted string";
template <>
inline constexpr const char* expected<clause_id> = "expected the clause id as a quoted string";
template <>
inline constexpr const char* expected<clause_words> =
    "expected the clause's words as a quoted string";
template <>
inline constexpr const char* expected<cite_id> =
    "expected a clause id as a quoted string after `cites`";
template <>
inline constexpr const char* expected<rule_cites_id> =
    "expected a clause id as a quoted string after `cites`";
template <>
inline constexpr const char* expected<parent_name> = "expected the parent's name after `under`";
template <>
inline constexpr const char* expected<tree_tail> = "expected a name to declare";
template <>
inline constexpr const char* expected<name_list> = "expected one or more names separated by commas";
template <>
inline constexpr const char* expected<list_name> = "expected a name after `,`";
template <>
inline constexpr const char* expected<cond_name> = "expected a name";
template <>
inline constexpr const char* expected<open_paren> = "expected `(` to open a list of purposes";
template <>
inline constexpr const char* expected<close_paren> = "expected `)`";
template <>
inline constexpr const char* expected<purpose_list> = "expected purposes separated by commas";
template <>
inline constexpr const char* expected<purpose_test> =
    "expected `is NAME` or `in (NAME, ...)` after `purpose`";
template <>
inline constexpr const char* expected<condition> =
    "expected a condition: a fact, `purpose is ...`, `consent ...`, `not`, or `(`";
template <>
inline constexpr const char* expected<unary> =
    "expected a condition: a fact, `purpose is ...`, `consent ...`, `not`, or `(`";
template <>
inline constexpr const char* expected<and_expr> =
    "expected a condition: a fact, `purpose is ...`, `consent ...`, `not`, or `(`";
template <>
inline constexpr const char* expected<data_set> = "expected data categories or `any`";
template <>
inline constexpr const char* expected<requester_set> = "expected requester kinds or `any`";
template <>
inline constexpr const char* expected<rule_cites> =
    "expected `cites \"ID\"` to end the rule (or `of`, `by`, `when` before it)";
template <>
inline constexpr const char* expected<kw_consent> = "expected `consent` after `require`";
template <>
inline constexpr const char* expected<consent_name> = "expected the consent's name";
template <>
inline constexpr const char* expected<kw_for> =
    "expected `for` after the consent's name, then the actions";
template <>
inline constexpr const char* expected<effect_rule> =
    "expected an effect: allow, deny or require consent";
template <>
inline constexpr const char* expected<rule_body> =
    "expected a rule after its name: allow, deny, require consent, exclude or otherwise";
template <>
inline constexpr const char* expected<until<one<'"'>, sor<escape, not_one<'\n', '\r', '\\'>>>> =
    "unterminated string: close it with `\"` on the same line (escapes: \\\" \\\\ \\n \\t)";

// Raises parse errors with the messages above instead of grammar rule names.
template <typename Rule>
struct control : normal<Rule> {
  template <typename Input, typename... States>
  [[noreturn]] static void raise(const Input& in, States&&... /*unused*/) {
    throw parse_error(expected<Rule>, in);
  }
};

}  // namespace g

// Decodes one string literal's body (between the quotes).
std::string unescape(std::string_view body) {
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
std::string join_literals(std::string_view raw) {
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
struct action<g::comment> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    // Backtracking can match the same comment twice; keep it once.
    const Span span = st.span_of(in);
    auto& comments = st.policy->comments;
    if (!comments.empty() && comments.back().span.begin >= span.begin) return;
    std::string text = in.string();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
      text.pop_back();
    comments.push_back({std::move(text), Span{span.begin, span.begin + uint32_t(text.size())}});
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
struct action<g::header_name> : text_action {};
template <>
struct action<g::clause_id> : text_action {};
template <>
struct action<g::rule_cites_id> : text_action {};

template <>
struct action<g::header_version> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.version = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<g::header> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.policy->headers.push_back({*st.text, *st.version, st.span_of(in)});
  }
};

template <>
struct action<g::clause_decl> {
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
    st.policy->clauses.push_back({*st.text, std::move(words), st.span_of(in)});
  }
};

template <>
struct action<g::cite_id> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.cites = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<g::parent_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.parent = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<g::decl_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.names.push_back({in.string(), st.span_of(in)});
  }
};

template <>
struct action<g::list_name> {
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
struct action<g::data_decl> : decl_action<ast::DeclKind::data> {};
template <>
struct action<g::requester_decl> : decl_action<ast::DeclKind::requester> {};
template <>
struct action<g::action_decl> : decl_action<ast::DeclKind::action> {};
template <>
struct action<g::purpose_decl> : decl_action<ast::DeclKind::purpose> {};
template <>
struct action<g::fact_decl> : decl_action<ast::DeclKind::fact> {};
template <>
struct action<g::consent_decl> : decl_action<ast::DeclKind::consent> {};

// Conditions are built on a stack: leaves push, operators pop their operands.
template <>
struct action<g::cond_name> {
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
struct action<g::fact_atom> {
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
struct action<g::consent_atom> : leaf_action<ast::CondKind::consent> {};
template <>
struct action<g::purpose_is> : leaf_action<ast::CondKind::purpose_is> {};
template <>
struct action<g::purpose_in> : leaf_action<ast::CondKind::purpose_in> {};

template <>
struct action<g::purpose_atom> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.conds.back().span = st.span_of(in);  // the leaf covers `purpose` too
  }
};

template <>
struct action<g::paren> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.conds.back().span = st.span_of(in);
  }
};

template <>
struct action<g::not_expr> {
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
struct action<g::and_tail> : join_action<ast::CondKind::all> {};
template <>
struct action<g::or_tail> : join_action<ast::CondKind::any> {};

// Nesting of `not` and parentheses is bounded, so no input can exhaust the stack.
template <>
struct action<g::unary> : pegtl::maybe_nothing {
  template <typename Rule, pegtl::apply_mode A, pegtl::rewind_mode M,
            template <typename...> class Action, template <typename...> class Control,
            typename Input>
  [[nodiscard]] static bool match(Input& in, State& st) {
    struct guard {
      std::size_t& depth;
      ~guard() { --depth; }
    } g{++st.depth};
    if (st.depth > st.limits->max_condition_depth) {
      throw pegtl::parse_error(
          fmt::format("condition nested too deeply (more than {} levels of `not` and parentheses)",
                      st.limits->max_condition_depth),
          in);
    }
    return pegtl::match<Rule, A, M, Action, Control>(in, st);
  }
};

template <>
struct action<g::when_part> {
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
struct action<g::action_set> : set_action<&ast::Rule::actions> {};
template <>
struct action<g::data_set> : set_action<&ast::Rule::data> {};
template <>
struct action<g::requester_set> : set_action<&ast::Rule::requesters> {};

template <ast::Effect E>
struct effect_action {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.effect = E;
    st.rule.effect_span = st.span_of(in);
  }
};
template <>
struct action<g::effect_allow> : effect_action<ast::Effect::allow> {};
template <>
struct action<g::effect_deny> : effect_action<ast::Effect::deny> {};
template <>
struct action<g::exclude_effect> : effect_action<ast::Effect::exclude> {};

template <>
struct action<g::consent_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.consent = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<g::effect_require> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.effect = ast::Effect::require_consent;
    const Span span = st.span_of(in);
    st.rule.effect_span = Span{span.begin, span.begin + 7};  // `require`
  }
};

template <>
struct action<g::otherwise> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.rule.fallback = true;
  }
};

template <>
struct action<g::rule_label> {
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
struct action<g::rule> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.cites = *st.text;
    st.rule.span = st.span_of(in);
    st.policy->rules.push_back(std::move(st.rule));
    st.rule = ast::Rule{};
  }
};

// Names what stands at an error position, for "found `...`".
std::string describe_found(std::string_view text, std::size_t at) {
  if (at >= text.size()) return "end of file";
  const auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  if (text[at] == '\n' || text[at] == '\r') return "end of line";
  std::size_t end = at;
  if (is_word(text[at])) {
    while (end < text.size() && is_word(text[end]))
      ++end;
  } else if (text[at] == '"') {
    end = text.find_first_of("\"\n", at + 1);
    end = end == std::string_view::npos ? text.size() : end + (text[end] == '"' ? 1 : 0);
    if (end - at > 24) return "a string";
  } else {
    end = at + 1;
  }
  return fmt::format("`{}`", text.substr(at, end - at));
}

// Guesses a fix for the commonest slips.
void add_parse_help(std::string_view text, std::size_t at, Diagnostic& d) {
  std::size_t end = at;
  while (end < text.size() &&
         (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_'))
    ++end;
  const std::string_view word = text.substr(at, end - at);
  static const std::vector<std::string_view> reserved = {
      "policy",  "version",   "clause", "data",  "requester", "action", "purpose",
      "fact",    "consent",   "under",  "cites", "allow",     "deny",   "require",
      "exclude", "otherwise", "for",    "of",    "by",        "when",   "and",
      "or",      "not",       "is",     "in",    "any",       "default"};
  static const std::vector<std::string_view> starts = {
      "policy",  "clause", "data", "requester", "action",  "purpose",  "fact",
      "consent", "allow",  "deny", "require",   "exclude", "otherwise"};
  if (at < text.size() && text[at] == '=' && d.message.find("purpose") != std::string::npos) {
    d.help = "write `purpose is NAME`, or `purpose in (NAME, NAME)`";
  } else if (at < text.size() && text[at] == ':' &&
             d.message.find("statement") == std::string::npos) {
    d.help = "a parent is written `under PARENT`, e.g. `data contact_info under registration_info`";
  } else if (at < text.size() && text[at] == '\'') {
    d.help = "strings are written in double quotes: \"...\"";
  } else if (!word.empty() && d.message.starts_with("expected a declaration")) {
    const std::string guess = closest_name(word, starts);
    if (!guess.empty()) d.help = fmt::format("did you mean `{}`?", guess);
  } else if (!word.empty() && d.message.starts_with("expected an effect")) {
    const std::string guess =
        closest_name(word, {"allow", "deny", "require", "exclude", "otherwise"});
    if (!guess.empty()) d.help = fmt::format("did you mean `{}`?", guess);
  } else if (!word.empty() && std::find(reserved.begin(), reserved.end(), word) != reserved.end() &&
             (d.message.find("name") != std::string::npos ||
              d.message.find("condition") != std::string::npos)) {
    d.help = fmt::format("`{}` is a reserved word and cannot name anything", word);
  }
}

// After an error, resumes at the next line that starts a statement.
std::size_t next_statement(std::string_view text, std::size_t from) {
  static constexpr std::string_view starts[] = {
      "policy",  "clause", "data", "requester", "action",  "purpose",  "fact",
      "consent", "allow",  "deny", "require",   "exclude", "otherwise"};
  std::size_t pos = text.find('\n', from);
  while (pos != std::string_view::npos) {
    std::size_t line = pos + 1;
    while (line < text.size() && (text[line] == ' ' || text[line] == '\t'))
      ++line;
    const std::string_view rest = text.substr(line);
    for (const std::string_view word : starts) {
      if (rest.starts_with(word) &&
          (rest.size() == word.size() ||
           !(std::isalnum(static_cast<unsigned char>(rest[word.size()])) ||
             rest[word.size()] == '_'))) {
        return line;
      }
    }
    // A labelled rule starts with `name:`.
    std::size_t n = 0;
    while (n < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_'))
      ++n;
    if (n > 0 && n < rest.size() && rest[n] == ':') return line;
    pos = text.find('\n', line);
  }
  return text.size();
}

}  // namespace

ParseResult parse(const SourceFile& file, const ParseLimits& limits) {
  ParseResult result;
  const std::string_view text = file.text;
  State st;
  st.base = text.data();
  st.limits = &limits;
  st.policy = &result.policy;

  std::size_t errors = 0;
  std::size_t pos = 0;
  {
    pegtl::memory_input in(text.data(), text.data() + text.size(), file.name);
    (void)pegtl::parse<g::sep, action, g::control>(in, st);
    pos = static_cast<std::size_t>(in.current() - text.data());
  }
  while (pos < text.size()) {
    // Each statement starts from a clean slate.
    st = State{};
    st.base = text.data();
    st.limits = &limits;
    st.policy = &result.policy;
    pegtl::memory_input in(text.data() + pos, text.data() + text.size(), file.name);
    std::optional<std::size_t> error_at;
    std::string message;
    try {
      if (pegtl::parse<g::statement_then_sep, action, g::control>(in, st)) {
        pos = static_cast<std::size_t>(in.current() - text.data());
      } else {
        error_at = pos;
        message =
            "expected a declaration (policy, clause, data, requester, action, purpose, "
            "fact, consent) or a rule (allow, deny, require consent, exclude, otherwise)";
      }
    } catch (const pegtl::parse_error& e) {
      error_at = pos + (e.positions().empty() ? 0 : e.positions().front().byte);
      message = std::string(e.message());
    }
    if (!error_at) continue;

    Diagnostic d;
    d.code = "E101";
    d.message = fmt::format("{}, found {}", message, describe_found(text, *error_at));
    d.span = Span{static_cast<std::uint32_t>(*error_at), static_cast<std::uint32_t>(*error_at)};
    if (*error_at < text.size() && text[*error_at] != '\n') {
      // Underline the whole token that was not expected.
      std::size_t end = *error_at + 1;
      while (end < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_') &&
             (std::isalnum(static_cast<unsigned char>(text[*error_at])) || text[*error_at] == '_'))
        ++end;
      d.span.end = static_cast<std::uint32_t>(end);
    }
    add_parse_help(text, *error_at, d);
    result.diagnostics.push_back(std::move(d));
    if (++errors >= limits.max_errors) break;
    // Resume at the first line after the broken statement's start that starts a statement:
    // the error is often found only at the next statement's first word.
    pos = next_statement(text, pos);
  }
  return result;
}

}  // namespace clause::dsl
