// Stage: parse. The PEGTL grammar of policy files and the actions that build the syntax
// tree. This is the only file that includes PEGTL.
#include "clause/dsl/parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <span>
#include <string>
#include <tao/pegtl.hpp>
#include <utility>

#include "clause/dsl/check.hpp"

namespace clause::dsl {
namespace {

namespace pegtl = tao::pegtl;

bool is_word_char(char c);

// How a name past ParseLimits::max_name_length is reported (E102).
constexpr std::string_view name_too_long = "name is";

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
  std::optional<ast::Name> unknown_field;    // a word where a case's field belongs
  std::vector<Diagnostic>* found = nullptr;  // errors that do not stop the parse

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
struct kw_assert : TAO_PEGTL_KEYWORD("assert") {};
struct kw_always : TAO_PEGTL_KEYWORD("always") {};
struct kw_never : TAO_PEGTL_KEYWORD("never") {};
struct kw_unless : TAO_PEGTL_KEYWORD("unless") {};

// Every reserved word; none of them can name a thing.
struct keyword : sor<kw_policy, kw_version, kw_clause, kw_data, kw_requester, kw_action, kw_purpose,
                     kw_fact, kw_consent, kw_under, kw_cites, kw_allow, kw_deny, kw_require,
                     kw_exclude, kw_otherwise, kw_for, kw_of, kw_by, kw_when, kw_and, kw_or, kw_not,
                     kw_is, kw_in, kw_any, kw_default, kw_assert, kw_always, kw_never, kw_unless> {
};

// A name: letters, digits and `_`, not starting with a digit, not a reserved word.
struct bounded_identifier : identifier {};
struct name : seq<not_at<keyword>, bounded_identifier> {};
// A name that goes into the current list of names.
struct list_name : name {};
// Names separated by commas.
struct name_list : list_must<list_name, seq<sep, one<','>, sep>> {};

// One escape sequence inside a string.
struct escape_char : one<'"', '\\', 'n', 't'> {};
struct escape : if_must<one<'\\'>, escape_char> {};
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
struct rule_cites : if_must<kw_cites, sep, rule_cites_id> {};

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
struct exclude_cites : rule_cites {};
struct exclude_rule : if_must<exclude_effect, sep, data_set, sep, exclude_cites> {};
// `NAME:` before a rule names it.
struct rule_label : seq<name, sep, one<':'>> {};
struct rule_body : sor<exclude_rule, fallback_rule, effect_rule> {};
struct labelled_rule : if_must<rule_label, sep, rule_body> {};
struct rule : sor<labelled_rule, rule_body> {};

// One top-level statement.
// `assert always|never EFFECT TARGET [when C] [unless C]`: a promise `clause verify` proves.
struct quantifier_always : kw_always {};
struct quantifier_never : kw_never {};
struct quantifier : sor<quantifier_always, quantifier_never> {};
struct assert_consent_name : name {};
struct assert_consent : seq<assert_consent_name, sep, kw_for> {};
struct assert_require : if_must<kw_require, sep, kw_consent, opt<sep, assert_consent>> {};
struct assert_effect : sor<effect_allow, effect_deny, assert_require> {};
struct unless_part : if_must<kw_unless, sep, condition> {};
struct assertion : if_must<kw_assert, sep, quantifier, sep, assert_effect, target,
                           opt<sep, when_part>, opt<sep, unless_part>> {};

struct statement : sor<header, clause_decl, data_decl, requester_decl, action_decl, purpose_decl,
                       fact_decl, consent_decl, assertion, rule> {};
// `@ignore W004, W002` before a statement silences those warnings for it.
struct ignore_code : seq<one<'W'>, digit, digit, digit> {};
struct ignore_codes : list_must<ignore_code, seq<sep, one<','>, sep>> {};
struct annotation : if_must<seq<one<'@'>, TAO_PEGTL_KEYWORD("ignore")>, sep, ignore_codes> {};
struct annotated_statement : statement {};
struct annotated : if_must<annotation, sep, annotated_statement> {};
struct statement_then_sep : seq<sor<annotated, statement>, sep> {};

// Test files: `tests for "POLICY"`, then cases of a request and the decision it expects.
struct kw_tests : TAO_PEGTL_KEYWORD("tests") {};
struct kw_case : TAO_PEGTL_KEYWORD("case") {};
struct kw_expect : TAO_PEGTL_KEYWORD("expect") {};
struct kw_facts : TAO_PEGTL_KEYWORD("facts") {};
struct tests_for : kw_for {};
struct tests_policy : string_lit {};
struct tests_header : if_must<kw_tests, sep, tests_for, sep, tests_policy> {};
struct case_name : string_lit {};
struct field_value : name {};
struct field_data : if_must<kw_data, sep, field_value> {};
struct field_requester : if_must<kw_requester, sep, field_value> {};
struct field_action : if_must<kw_action, sep, field_value> {};
struct field_purpose : if_must<kw_purpose, sep, field_value> {};
struct field_facts : if_must<kw_facts, sep, name_list> {};
struct field_consent : if_must<kw_consent, sep, name_list> {};
// A word where a field belongs: reported by name (with a guess), and its value read as
// a list, so that parsing goes on and every misspelt field of a case is reported.
struct unknown_field_name : name {};
struct field_unknown
    : seq<not_at<sor<kw_expect, kw_case, kw_tests>>, unknown_field_name, sep, name_list> {};
struct case_field : sor<field_data, field_requester, field_action, field_purpose, field_facts,
                        field_consent, field_unknown> {};
struct expect_consent_name : name {};
struct expect_require : if_must<kw_require, sep, kw_consent, sep, expect_consent_name> {};
struct expect_effect : sor<effect_allow, effect_deny, expect_require> {};
struct expect_cites : kw_cites {};
struct expect_cites_id : string_lit {};
struct expectation
    : if_must<kw_expect, sep, expect_effect, sep, expect_cites, sep, expect_cites_id> {};
struct test_case : if_must<kw_case, sep, case_name, star<sep, case_field>, sep, expectation> {};
struct test_statement : sor<tests_header, test_case> {};
struct test_statement_then_sep : seq<test_statement, sep> {};

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
inline constexpr const char* expected<exclude_cites> =
    "expected `cites \"ID\"`: an `exclude` rule names data categories only, with no condition";
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
inline constexpr const char* expected<escape_char> =
    "unknown escape in a string: the escapes are \\\" \\\\ \\n \\t";
template <>
inline constexpr const char* expected<until<one<'"'>, sor<escape, not_one<'\n', '\r', '\\'>>>> =
    "unterminated string: close it with `\"` on the same line (escapes: \\\" \\\\ \\n \\t)";

template <>
inline constexpr const char* expected<ignore_codes> =
    "expected warning codes such as `W004` after `@ignore`";
template <>
inline constexpr const char* expected<ignore_code> = "expected a warning code such as `W004`";
template <>
inline constexpr const char* expected<annotated_statement> =
    "expected a declaration or a rule after the annotation";
template <>
inline constexpr const char* expected<quantifier> = "expected `always` or `never` after `assert`";
template <>
inline constexpr const char* expected<assert_effect> =
    "expected the effect the promise is about: allow, deny or require consent";
template <>
inline constexpr const char* expected<tests_for> = "expected `for` and the policy's path";
template <>
inline constexpr const char* expected<tests_policy> =
    "expected the policy's path as a quoted string, relative to this file";
template <>
inline constexpr const char* expected<case_name> = "expected the case's name as a quoted string";
template <>
inline constexpr const char* expected<field_value> = "expected a name";
template <>
inline constexpr const char* expected<expectation> =
    "expected a field (data, requester, action, purpose, facts, consent) or `expect`";
template <>
inline constexpr const char* expected<expect_effect> =
    "expected the decision: allow, deny or require consent NAME";
template <>
inline constexpr const char* expected<expect_consent_name> = "expected the consent's name";
template <>
inline constexpr const char* expected<expect_cites> =
    "expected `cites \"ID\"` after the expected decision";
template <>
inline constexpr const char* expected<expect_cites_id> =
    "expected a clause id as a quoted string after `cites`";

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
    // A lone atom is one level; each `not` or pair of parentheses around it adds one.
    if (st.depth > st.limits->max_condition_depth + 1) {
      throw pegtl::parse_error(
          fmt::format("condition nested too deeply (more than {} levels of `not` and parentheses)",
                      st.limits->max_condition_depth),
          in);
    }
    return pegtl::match<Rule, A, M, Action, Control>(in, st);
  }
};

// Names are bounded in length, so a runaway name is reported as what it is.
template <>
struct action<g::bounded_identifier> : pegtl::maybe_nothing {
  template <typename Rule, pegtl::apply_mode A, pegtl::rewind_mode M,
            template <typename...> class Action, template <typename...> class Control,
            typename Input>
  [[nodiscard]] static bool match(Input& in, State& st) {
    const auto start = in.position();
    const char* const begin = in.current();
    if (!pegtl::match<Rule, A, M, Action, Control>(in, st)) return false;
    const auto length = static_cast<std::size_t>(in.current() - begin);
    if (length > st.limits->max_name_length) {
      throw pegtl::parse_error(fmt::format("{} {} characters long; the limit is {}", name_too_long,
                                           length, st.limits->max_name_length),
                               start);
    }
    return true;
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

template <>
struct action<g::quantifier_always> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.always = true;
  }
};

template <>
struct action<g::assert_require> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.effect = ast::Effect::require_consent;
    const Span span = st.span_of(in);
    st.rule.effect_span = Span{span.begin, span.begin + 7};
  }
};

template <>
struct action<g::assert_consent> {
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
struct action<g::unless_part> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.unless = std::move(st.conds.back());
    st.conds.clear();
  }
};

template <>
struct action<g::assertion> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.rule.span = st.span_of(in);
    st.policy->assertions.push_back(
        {st.always, std::move(st.rule), std::move(st.unless), st.span_of(in)});
    st.rule = ast::Rule{};
  }
};

template <>
struct action<g::ignore_code> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.names.push_back({in.string(), st.span_of(in)});
  }
};

template <>
struct action<g::annotation> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.codes = std::move(st.names);
    st.names.clear();
  }
};

template <>
struct action<g::annotated> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.policy->suppressions.push_back({std::move(st.codes), st.span_of(in)});
  }
};

// Test files.
template <>
struct action<g::tests_policy> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.tests->policy = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<g::case_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.test_case.name = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<g::field_value> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.names.push_back({in.string(), st.span_of(in)});
  }
};

// Moves the name just read into one field of the case.
template <std::optional<ast::Name> ast::TestCase::*Field>
struct field_action {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.test_case.*Field = std::move(st.names.back());
    st.names.clear();
  }
};
template <>
struct action<g::field_data> : field_action<&ast::TestCase::data> {};
template <>
struct action<g::field_requester> : field_action<&ast::TestCase::requester> {};
template <>
struct action<g::field_action> : field_action<&ast::TestCase::action> {};
template <>
struct action<g::field_purpose> : field_action<&ast::TestCase::purpose> {};

template <std::vector<ast::Name> ast::TestCase::*Field>
struct list_field_action {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    auto& list = st.test_case.*Field;
    for (auto& n : st.names)
      list.push_back(std::move(n));
    st.names.clear();
  }
};
template <>
struct action<g::field_facts> : list_field_action<&ast::TestCase::facts> {};
template <>
struct action<g::field_consent> : list_field_action<&ast::TestCase::consent> {};

template <>
struct action<g::unknown_field_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.unknown_field = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<g::field_unknown> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.names.clear();
    if (!st.unknown_field || st.found == nullptr) return;
    const ast::Name& name = *st.unknown_field;
    Diagnostic d{Severity::error,
                 "E101",
                 fmt::format("unknown field `{}` in a case; a case has data, requester, action, "
                             "purpose, facts and consent, then `expect`",
                             name.text),
                 name.span,
                 {},
                 {}};
    const std::string guess = closest_name(
        name.text, {"data", "requester", "action", "purpose", "facts", "consent", "expect"});
    if (!guess.empty()) d.help = fmt::format("did you mean `{}`?", guess);
    st.found->push_back(std::move(d));
    st.unknown_field.reset();
  }
};

template <>
struct action<g::expect_consent_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.expect.consent = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<g::expect_require> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.rule.effect = ast::Effect::require_consent;
  }
};

template <>
struct action<g::expect_cites_id> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.expect.cites = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<g::expectation> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.expect.effect = st.rule.effect;
    st.expect.span = st.span_of(in);
    st.test_case.expect = std::move(st.expect);
  }
};

template <>
struct action<g::test_case> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.test_case.span = st.span_of(in);
    st.tests->cases.push_back(std::move(st.test_case));
  }
};

// Names what stands at an error position, for "found `...`".
std::string describe_found(std::string_view text, std::size_t at) {
  if (at >= text.size()) return "end of file";
  const auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  if (text[at] == '\n' || text[at] == '\r') return "end of line";
  if (static_cast<unsigned char>(text[at]) >= 0x80) return "a character that is not ASCII";
  if (static_cast<unsigned char>(text[at]) < 0x20 || text[at] == 0x7f) {
    return fmt::format("a control character (byte {:#04x})",
                       static_cast<unsigned>(static_cast<unsigned char>(text[at])));
  }
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

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// The end of the code on the line [begin, end): before a `#` comment (outside strings),
// without trailing blanks. Equal to `begin` when the line holds no code.
std::size_t code_end(std::string_view text, std::size_t begin, std::size_t end) {
  bool in_string = false;
  std::size_t last = begin;
  for (std::size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (c == '"' && (i == begin || text[i - 1] != '\\')) in_string = !in_string;
    if (!in_string && c == '#') break;
    if (c != ' ' && c != '\t' && c != '\r') last = i + 1;
  }
  return last;
}

// When an error is found at the first token of a line, the author most often left
// something out at the end of the code before it: that is where the caret belongs.
std::size_t end_of_code_before(std::string_view text, std::size_t statement, std::size_t at) {
  std::size_t line_begin = text.rfind('\n', at == 0 ? 0 : at - 1);
  line_begin = (at == 0 || line_begin == std::string_view::npos) ? 0 : line_begin + 1;
  if (code_end(text, line_begin, at) > line_begin) return at;  // code before it on its line
  while (line_begin > statement) {
    const std::size_t prev_end = line_begin - 1;  // the line break
    std::size_t prev_begin = text.rfind('\n', prev_end == 0 ? 0 : prev_end - 1);
    prev_begin = (prev_end == 0 || prev_begin == std::string_view::npos) ? 0 : prev_begin + 1;
    const std::size_t end = code_end(text, std::max(prev_begin, statement), prev_end);
    if (end > std::max(prev_begin, statement)) return end;
    line_begin = prev_begin;
  }
  return at;
}

// The token at `at` as an author sees it: a word, a number, or one character.
std::string_view token_at(std::string_view text, std::size_t at) {
  if (at >= text.size()) return {};
  std::size_t end = at;
  if (is_word_char(text[at])) {
    while (end < text.size() && (is_word_char(text[end]) || text[end] == '.'))
      ++end;
  } else {
    end = at + 1;
  }
  return text.substr(at, end - at);
}

// Tells whether code stands before `at` on its line.
bool has_code_before_on_line(std::string_view text, std::size_t at) {
  if (at == 0) return false;
  const std::size_t nl = text.rfind('\n', at - 1);
  const std::size_t line_begin = nl == std::string_view::npos ? 0 : nl + 1;
  return code_end(text, line_begin, at) > line_begin;
}

// Guesses a fix for the commonest slips, from the message and the token found.
// Whether the statement that `at` is in has a `when` before `at`. A statement starts on a
// line that does not start with white space; its continuation lines are indented.
bool statement_has_when(std::string_view text, std::size_t at) {
  std::size_t start = at;
  while (start > 0) {
    const std::size_t line = text.rfind('\n', start - 1);
    start = line == std::string_view::npos ? 0 : line + 1;
    if (start >= text.size() || (text[start] != ' ' && text[start] != '\t')) break;
    if (start == 0) break;
    --start;
  }
  const std::string_view before = text.substr(start, at - start);
  for (std::size_t i = before.find("when"); i != std::string_view::npos;
       i = before.find("when", i + 1)) {
    const bool starts = i == 0 || !is_word_char(before[i - 1]);
    const bool ends = i + 4 >= before.size() || !is_word_char(before[i + 4]);
    if (starts && ends) return true;
  }
  return false;
}

void add_parse_help(std::string_view text, std::size_t at, bool after_statement, Diagnostic& d) {
  const std::string_view token = token_at(text, at);
  const char c = token.empty() ? '\0' : token[0];
  // The caret stands after the last word of its line.
  const bool at_end = c == '\0' || c == '\n' || c == '\r' || c == ' ' || c == '\t' || c == '#';
  static const std::vector<std::string_view> reserved = {
      "policy",  "version",   "clause", "data",  "requester", "action", "purpose",
      "fact",    "consent",   "under",  "cites", "allow",     "deny",   "require",
      "exclude", "otherwise", "for",    "of",    "by",        "when",   "and",
      "or",      "not",       "is",     "in",    "any",       "default"};
  static const std::vector<std::string_view> starts = {
      "policy",  "clause", "data", "requester", "action",  "purpose",  "fact",
      "consent", "allow",  "deny", "require",   "exclude", "otherwise"};
  static const std::vector<std::pair<std::string_view, std::string_view>> synonyms = {
      {"permit", "allow"},     {"grant", "allow"},    {"forbid", "deny"},
      {"prohibit", "deny"},    {"reject", "deny"},    {"refuse", "deny"},
      {"requires", "require"}, {"else", "otherwise"}, {"default", "otherwise"}};
  const auto message_has = [&](std::string_view part) {
    return d.message.find(part) != std::string::npos;
  };
  const auto guess = [&](const std::vector<std::string_view>& words) {
    for (const auto& [word, meant] : synonyms) {
      if (token == word && std::find(words.begin(), words.end(), meant) != words.end()) {
        return std::string(meant);
      }
    }
    std::string g = closest_name(token, words);
    return g == token ? std::string() : g;
  };
  if (c != '\0' && static_cast<unsigned char>(c) >= 0x80) {
    d.help = "names use ASCII letters, digits and `_`; other characters belong in quoted strings";
  } else if (c == '=' && message_has("purpose")) {
    d.help = "write `purpose is NAME`, or `purpose in (NAME, NAME)`";
  } else if (c == '\'') {
    d.help = "strings are written in double quotes: \"...\"";
  } else if (message_has("quoted string") && is_word_char(c)) {
    d.help = fmt::format("write it in double quotes: \"{}\"", token);
  } else if (after_statement) {
    if (c == ':') {
      d.help = "a parent is written `under PARENT`, as in `data contact_info under personal_info`";
    } else if (c == ';') {
      d.help = "a statement ends where the next one starts; remove the `;`";
    } else if (c == '-') {
      d.help = "names cannot contain `-`; use `_`, as in `contact_info`";
    } else if (token == "under") {
      // Only data categories and requester kinds have parents.
      std::size_t line = text.rfind('\n', at == 0 ? 0 : at - 1);
      line = line == std::string_view::npos ? 0 : line + 1;
      const std::string_view statement = text.substr(line).substr(0, 10);
      d.help = statement.starts_with("data ") || statement.starts_with("requester ")
                   ? "`under PARENT` comes before `cites`"
                   : "only `data` and `requester` declarations have a parent (`under PARENT`)";
    } else if (token == "cites") {
      d.help = "only `data`, `requester` and `consent` declarations, and rules, cite a clause";
    } else if (token == "when") {
      d.help = "the condition (`when ...`) comes before `cites`";
    } else if (c == ')') {
      d.help = "this `)` has no matching `(`";
    } else if (is_word_char(c)) {
      const std::string g = guess(starts);
      d.help = g.empty() ? "separate the names of a list with `,`"
                         : fmt::format("did you mean `{}`?", g);
    }
  } else if (message_has("expected a declaration")) {
    if (token == "import" || token == "include") {
      d.help = "a policy is one file; there is nothing to import";
    } else if (const std::string g = guess(starts); !g.empty()) {
      d.help = fmt::format("did you mean `{}`?", g);
    }
  } else if (message_has("expected an effect") || message_has("expected a rule after its name")) {
    if (token == "exclude") {
      d.help = "an exclusion has no fall-back form; remove `otherwise`";
    } else if (const std::string g = guess({"allow", "deny", "require", "exclude", "otherwise"});
               !g.empty()) {
      d.help = fmt::format("did you mean `{}`?", g);
    }
  } else if (message_has("a name after `,`") && at_end) {
    d.help = "a list cannot end with `,`: remove it, or add the missing name";
  } else if (c == '-' && message_has("to end the rule")) {
    d.help = "names cannot contain `-`; use `_`, as in `contact_info`";
  } else if (message_has("to end the rule")) {
    if (token == "of" || token == "by") {
      d.help =
          "a rule's parts come in this order: actions, `of` data, `by` requesters, "
          "`when` condition, `cites`";
    } else if (c == ',') {
      d.help = "join conditions with `and` or `or`";
    } else if (c == ')') {
      d.help = "this `)` has no matching `(`";
    } else if (token == "unless") {
      d.help = "`unless` belongs to assertions; in a rule, write `when not (CONDITION)`";
    } else if (is_word_char(c) && token != "when" && token != "cites" &&
               statement_has_when(text, at)) {
      // After `when`, a word that is neither `and`, `or` nor `cites` continues the
      // condition as if in English (`when minor for 30 days`).
      d.help =
          "a condition is facts, consents and the purpose joined with `and`, `or` and `not`; "
          "a fact is true or false and takes no number or duration; `cites` comes next";
    } else if (is_word_char(c) && token != "when" && token != "cites") {
      d.help = "separate the names of a list with `,`";
    }
  } else if (message_has("or `expect`") && at_end) {
    d.help = "a case ends with `expect DECISION cites \"ID\"`, as in `expect allow cites \"1\"`";
  } else if (message_has("an `exclude` rule")) {
    d.help = "to exclude data only under a condition, write a permission: `allow ... when ...`";
  } else if (message_has("expected a condition") && (token == "cites" || at_end)) {
    d.help = "write a condition after `when`, or remove `when`";
  } else if (message_has("nested too deeply")) {
    d.help = "split the condition over several rules";
  } else if (std::find(reserved.begin(), reserved.end(), token) != reserved.end() &&
             (message_has("name to declare") || message_has("names separated by commas") ||
              message_has("a name after"))) {
    d.help = fmt::format("`{}` is a reserved word and cannot name anything", token);
  }
}

constexpr std::string_view policy_starts[] = {
    "assert", "policy",  "clause", "data", "requester", "action",  "purpose",
    "fact",   "consent", "allow",  "deny", "require",   "exclude", "otherwise"};
constexpr std::string_view test_starts[] = {"tests", "case"};

// After an error, resumes at the next line that starts a statement.
std::size_t next_statement(std::string_view text, std::size_t from,
                           std::span<const std::string_view> starts, bool labels) {
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
    if (labels && n > 0 && n < rest.size() && rest[n] == ':') return line;
    pos = text.find('\n', line);
  }
  return text.size();
}

// Parses statement after statement; after an error, reports it and resumes at the next
// line that starts a statement, so that one run shows several mistakes.
template <typename Statement>
std::vector<Diagnostic> parse_statements(std::string_view text, const State& blank,
                                         std::vector<Span>& skipped,
                                         std::string_view not_a_statement,
                                         std::span<const std::string_view> starts, bool labels) {
  std::vector<Diagnostic> diagnostics;
  State st = blank;
  // A byte order mark is how some editors mark UTF-8; it is not part of the text.
  std::size_t pos = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  {
    pegtl::memory_input in(text.data() + pos, text.data() + text.size(), "");
    (void)pegtl::parse<g::sep, action, g::control>(in, st);
    pos = static_cast<std::size_t>(in.current() - text.data());
  }
  while (pos < text.size()) {
    st = blank;  // each statement starts from a clean slate
    pegtl::memory_input in(text.data() + pos, text.data() + text.size(), "");
    std::optional<std::size_t> error_at;
    std::string message;
    try {
      if (pegtl::parse<Statement, action, g::control>(in, st)) {
        pos = static_cast<std::size_t>(in.current() - text.data());
      } else {
        error_at = pos;
        message = std::string(not_a_statement);
      }
    } catch (const pegtl::parse_error& e) {
      error_at = pos + (e.positions().empty() ? 0 : e.positions().front().byte);
      message = std::string(e.message());
    }
    if (!error_at) continue;

    std::size_t at = *error_at;
    if (message.starts_with(name_too_long)) {
      // Not a grammar mistake: the name itself is at fault, so the caret stays on it.
      Diagnostic d;
      d.code = "E102";
      d.message = message;
      d.span = Span{static_cast<std::uint32_t>(at),
                    static_cast<std::uint32_t>(at + token_at(text, at).size())};
      d.help = "use a shorter name, or raise the limit (`--max-name-length`)";
      diagnostics.push_back(std::move(d));
      if (diagnostics.size() >= blank.limits->max_errors) break;
      const std::size_t resume = next_statement(text, pos, starts, labels);
      skipped.push_back(Span{static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(resume)});
      pos = resume;
      continue;
    }
    const bool not_a_statement_here = at == pos && message == not_a_statement;
    // Leftover text on the line of a complete statement is not a new statement.
    const bool after_statement = not_a_statement_here && has_code_before_on_line(text, at);
    if (!not_a_statement_here) at = end_of_code_before(text, pos, at);

    Diagnostic d;
    d.code = "E101";
    const std::string found = at == *error_at ? describe_found(text, at) : "end of line";
    d.message = after_statement ? fmt::format("unexpected {} after the end of a statement",
                                              found.starts_with("a ") ? found.substr(2) : found)
                                : fmt::format("{}, found {}", message, found);
    d.span = Span{static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(at)};
    if (at == *error_at && at < text.size() && text[at] != '\n') {
      // Underline the whole token that was not expected.
      const std::string_view token = token_at(text, at);
      d.span.end = static_cast<std::uint32_t>(at + std::max<std::size_t>(1, token.size()));
    }
    add_parse_help(text, at, after_statement, d);
    diagnostics.push_back(std::move(d));
    if (diagnostics.size() >= blank.limits->max_errors) break;
    // Resume at the first line after the broken statement's start that starts a statement:
    // the error is often found only at the next statement's first word.
    const std::size_t resume = next_statement(text, pos, starts, labels);
    skipped.push_back(Span{static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(resume)});
    pos = resume;
  }
  return diagnostics;
}

}  // namespace

// Text that is not UTF-8 would reach clause words, reasons and JSON output: refused (E103),
// one error per run of bad bytes.
void check_utf8(std::string_view text, std::size_t max_errors, std::vector<Diagnostic>& out) {
  std::vector<Diagnostic> bad;
  std::size_t found = 0;
  for (std::size_t at = 0; at < text.size() && found < max_errors;) {
    if (static_cast<unsigned char>(text[at]) < 0x80) {
      ++at;
      continue;
    }
    const std::size_t length = utf8_sequence_length(text, at);
    if (length > 0) {
      at += length;
      continue;
    }
    std::size_t end = at + 1;
    while (end < text.size() && static_cast<unsigned char>(text[end]) >= 0x80 &&
           utf8_sequence_length(text, end) == 0)
      ++end;
    Diagnostic d;
    d.code = "E103";
    d.message = fmt::format("the text is not valid UTF-8: byte {:#04x}{}",
                            static_cast<unsigned>(static_cast<unsigned char>(text[at])),
                            end - at > 1 ? fmt::format(" and {} more", end - at - 1) : "");
    d.span = Span{static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(end)};
    d.help = "save the file as UTF-8";
    bad.push_back(std::move(d));
    ++found;
    at = end;
  }
  if (bad.empty()) return;
  // The parser stumbles on the same bytes; the encoding is the mistake to report.
  std::erase_if(out, [&](const Diagnostic& d) {
    return std::any_of(bad.begin(), bad.end(), [&](const Diagnostic& b) {
      return d.span.begin >= b.span.begin && d.span.begin < b.span.end;
    });
  });
  out.insert(out.end(), bad.begin(), bad.end());
  sort_by_position(out);
  if (out.size() > max_errors) out.resize(max_errors);
}

ParseResult parse(const SourceFile& file, const ParseLimits& limits) {
  ParseResult result;
  State blank;
  blank.base = file.text.data();
  blank.limits = &limits;
  blank.policy = &result.policy;
  blank.comments = &result.policy.comments;
  result.diagnostics = parse_statements<g::statement_then_sep>(
      file.text, blank, result.skipped,
      "expected a declaration (policy, clause, data, requester, action, purpose, fact, "
      "consent), a rule (allow, deny, require consent, exclude, otherwise) or an assertion "
      "(assert)",
      policy_starts, true);
  check_utf8(file.text, limits.max_errors, result.diagnostics);
  return result;
}

TestParseResult parse_tests(const SourceFile& file, const ParseLimits& limits) {
  TestParseResult result;
  State blank;
  blank.base = file.text.data();
  blank.limits = &limits;
  blank.tests = &result.tests;
  blank.comments = &result.tests.comments;
  std::vector<Span> skipped;
  std::vector<Diagnostic> found;
  blank.found = &found;
  result.diagnostics = parse_statements<g::test_statement_then_sep>(
      file.text, blank, skipped, "expected `tests for \"POLICY\"` or a `case \"NAME\"`",
      test_starts, false);
  result.diagnostics.insert(result.diagnostics.end(), found.begin(), found.end());
  sort_by_position(result.diagnostics);
  check_utf8(file.text, limits.max_errors, result.diagnostics);
  return result;
}

void drop_cascades(std::string_view text, const std::vector<Span>& skipped,
                   std::vector<Diagnostic>& check_diagnostics) {
  if (skipped.empty()) return;
  // Whether `word` stands as a whole word (or, quoted, as a clause id) in skipped text.
  // The first word of a skipped statement says what it was declaring.
  // A skipped statement may be leftover text on the line of the statement it belongs to.
  const auto line_start = [&](std::uint32_t at) -> std::uint32_t {
    const std::size_t nl = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
    return nl == std::string_view::npos ? 0 : static_cast<std::uint32_t>(nl + 1);
  };
  const auto first_word = [&](Span span) {
    std::size_t at = line_start(span.begin);
    while (at < span.end && std::isspace(static_cast<unsigned char>(text[at])))
      ++at;
    std::size_t end = at;
    while (end < span.end && is_word_char(text[end]))
      ++end;
    return text.substr(at, end - at);
  };
  const auto in_skipped = [&](std::string_view word, bool quoted,
                              std::initializer_list<std::string_view> kinds) {
    for (const Span span : skipped) {
      const std::string_view kind = first_word(span);
      if (kinds.size() > 0 && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
      const std::uint32_t begin = line_start(span.begin);
      const std::string_view part = text.substr(begin, span.end - begin);
      const std::string needle = quoted ? fmt::format("\"{}\"", word) : std::string(word);
      for (std::size_t at = part.find(needle); at != std::string_view::npos;
           at = part.find(needle, at + 1)) {
        const bool left = at == 0 || !is_word_char(part[at - 1]);
        const std::size_t end = at + needle.size();
        const bool right = end >= part.size() || !is_word_char(part[end]);
        if (quoted || (left && right)) return true;
      }
    }
    return false;
  };
  const auto first_quoted = [](const std::string& message) -> std::string_view {
    const std::size_t a = message.find('`');
    const std::size_t b = a == std::string::npos ? a : message.find('`', a + 1);
    if (b == std::string::npos) return {};
    return std::string_view(message).substr(a + 1, b - a - 1);
  };
  const bool header_skipped = std::any_of(skipped.begin(), skipped.end(),
                                          [&](Span span) { return first_word(span) == "policy"; });
  std::erase_if(check_diagnostics, [&](const Diagnostic& d) {
    const std::string_view name = first_quoted(d.message);
    if (d.code == "E201") return header_skipped;
    if (d.code == "E211") {
      return in_skipped(name, false, {"data", "requester", "action", "purpose", "fact", "consent"});
    }
    if (d.code == "E220") return in_skipped(name, true, {"clause"});
    if (d.code == "W001") return in_skipped(name, true, {});
    return false;
  });
}

}  // namespace clause::dsl

namespace clause::ast {

void apply_suppressions(const std::vector<Suppression>& suppressions,
                        std::vector<Diagnostic>& diagnostics) {
  std::erase_if(diagnostics, [&](const Diagnostic& d) {
    if (d.severity != Severity::warning) return false;
    return std::any_of(suppressions.begin(), suppressions.end(), [&](const Suppression& s) {
      return d.span.begin >= s.span.begin && d.span.begin < s.span.end &&
             std::any_of(s.codes.begin(), s.codes.end(),
                         [&](const Name& c) { return c.text == d.code; });
    });
  });
}

}  // namespace clause::ast
