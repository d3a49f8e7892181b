// Stage: parse. The error message for every place where the grammars commit, and the
// PEGTL control that raises them.
#pragma once

#include <string>

#include "parse/grammar.hpp"
#include "parse/recovery.hpp"
#include "parse/test_grammar.hpp"

namespace clause::dsl::grammar {

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
inline constexpr const char* expected<name_set_members> =
    "expected the set's names separated by commas after `:`";
template <>
inline constexpr const char* expected<range_high> =
    "expected the range's upper bound after `..`, as in `0..150`";
template <>
inline constexpr const char* expected<lookup_document> =
    "expected a document's name after `from`, as in `from users[requester.id].roles`";
template <>
inline constexpr const char* expected<lookup_open> =
    "expected `[` and the key attribute after the document's name, as in `users[requester.id]`";
template <>
inline constexpr const char* expected<lookup_key> =
    "expected the key attribute inside `[...]`, as in `users[requester.id]`";
template <>
inline constexpr const char* expected<lookup_close> = "expected `]` after the key attribute";
template <>
inline constexpr const char* expected<lookup_dot> =
    "expected `.` and the field to read after `]`, as in `users[requester.id].roles`";
template <>
inline constexpr const char* expected<lookup_field> =
    "expected the field to read, a name or a quoted string, after `.`";
template <>
inline constexpr const char* expected<document_name> = "expected the document's name";
template <>
inline constexpr const char* expected<document_path> =
    "expected the document's path as a quoted string, relative to the policy file";
template <>
inline constexpr const char* expected<document_from> =
    "expected `from` and the document's path after its name";
template <>
inline constexpr const char* expected<document_keyed_by> = "expected `by` after `keyed`";
template <>
inline constexpr const char* expected<document_key> =
    "expected the field that holds each entry's key, as in `keyed by id`";
template <>
inline constexpr const char* expected<purpose_names> =
    "expected one or more names separated by commas, or `NAME under PARENT`";
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
inline constexpr const char* expected<contains_in> =
    "expected `in` and a list after the string, as in `\"admin\" in requester.roles`";
template <>
inline constexpr const char* expected<contains_list> =
    "expected a list attribute after `in`, as in `requester.roles`";
template <>
inline constexpr const char* expected<unquoted_constant> =
    "expected a quoted string before `in`, as in `\"admin\" in requester.roles` (a bare "
    "name is a fact)";
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

// What each place above expects, for the fix guesses (recovery.hpp).
template <typename Rule>
inline constexpr unsigned expects_at = 0;
template <>
inline constexpr unsigned expects_at<header_name> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<header_version> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<clause_id> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<clause_words> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<cite_id> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<rule_cites_id> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<unquoted_constant> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<tree_tail> = parsing::expects::name;
template <>
inline constexpr unsigned expects_at<document_path> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<name_list> = parsing::expects::name;
template <>
inline constexpr unsigned expects_at<purpose_names> = parsing::expects::name;
template <>
inline constexpr unsigned expects_at<list_name> =
    parsing::expects::name_after_comma | parsing::expects::name;
template <>
inline constexpr unsigned expects_at<open_paren> = parsing::expects::purpose;
template <>
inline constexpr unsigned expects_at<purpose_list> = parsing::expects::purpose;
template <>
inline constexpr unsigned expects_at<purpose_test> = parsing::expects::purpose;
template <>
inline constexpr unsigned expects_at<condition> =
    parsing::expects::purpose | parsing::expects::condition;
template <>
inline constexpr unsigned expects_at<unary> =
    parsing::expects::purpose | parsing::expects::condition;
template <>
inline constexpr unsigned expects_at<and_expr> =
    parsing::expects::purpose | parsing::expects::condition;
template <>
inline constexpr unsigned expects_at<rule_cites> = parsing::expects::rule_end;
template <>
inline constexpr unsigned expects_at<exclude_cites> = parsing::expects::exclude_end;
template <>
inline constexpr unsigned expects_at<effect_rule> = parsing::expects::effect;
template <>
inline constexpr unsigned expects_at<rule_body> = parsing::expects::effect;
template <>
inline constexpr unsigned expects_at<annotated_statement> = parsing::expects::declaration;
template <>
inline constexpr unsigned expects_at<tests_policy> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<case_name> = parsing::expects::quoted_string;
template <>
inline constexpr unsigned expects_at<expectation> =
    parsing::expects::purpose | parsing::expects::case_field;
template <>
inline constexpr unsigned expects_at<expect_cites_id> = parsing::expects::quoted_string;

// A parse error that says what was expected where the parse stopped.
struct ParseStop : parse_error {
  template <typename Input>
  ParseStop(const std::string& message, const Input& in, unsigned what)
      : parse_error(message, in), expected(what) {}
  unsigned expected;
};

// Raises parse errors with the messages above instead of grammar rule names.
template <typename Rule>
struct control : normal<Rule> {
  template <typename Input, typename... States>
  [[noreturn]] static void raise(const Input& in, States&&... /*unused*/) {
    throw ParseStop(expected<Rule>, in, expects_at<Rule>);
  }
};

}  // namespace clause::dsl::grammar
