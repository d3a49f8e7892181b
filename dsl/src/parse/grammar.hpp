// Stage: parse. The PEGTL grammar of policy files. Private: only the parser includes it,
// so that PEGTL stays out of every public header.
#pragma once

#include <cstddef>
#include <tao/pegtl.hpp>
#include <utility>

#include "clause/dsl/keywords.hpp"

namespace clause::dsl::grammar {
using namespace tao::pegtl;

// The rule for keyword number I of the table (clause/dsl/keywords.hpp), so that the
// grammar and the table cannot disagree: naming a word the table lacks does not compile.
template <std::size_t I, std::size_t... N>
auto table_keyword(std::index_sequence<N...>) -> ascii::keyword<keywords[I].word[N]...>;
template <std::size_t I>
using kw = decltype(table_keyword<I>(std::make_index_sequence<keywords[I].word.size()>()));

template <typename Indices>
struct reserved_words;
template <std::size_t... I>
struct reserved_words<std::index_sequence<I...>> : sor<kw<I>...> {};

// A comment runs from `#` to the end of its line.
struct comment : seq<one<'#'>, until<eolf>> {};
// Blanks, line breaks and comments between tokens.
struct sep : star<sor<space, comment>> {};

struct kw_policy : kw<keyword_index("policy")> {};
struct kw_version : kw<keyword_index("version")> {};
struct kw_clause : kw<keyword_index("clause")> {};
struct kw_data : kw<keyword_index("data")> {};
struct kw_requester : kw<keyword_index("requester")> {};
struct kw_action : kw<keyword_index("action")> {};
struct kw_purpose : kw<keyword_index("purpose")> {};
struct kw_fact : kw<keyword_index("fact")> {};
struct kw_consent : kw<keyword_index("consent")> {};
struct kw_under : kw<keyword_index("under")> {};
struct kw_cites : kw<keyword_index("cites")> {};
struct kw_allow : kw<keyword_index("allow")> {};
struct kw_deny : kw<keyword_index("deny")> {};
struct kw_require : kw<keyword_index("require")> {};
struct kw_exclude : kw<keyword_index("exclude")> {};
struct kw_otherwise : kw<keyword_index("otherwise")> {};
struct kw_for : kw<keyword_index("for")> {};
struct kw_of : kw<keyword_index("of")> {};
struct kw_by : kw<keyword_index("by")> {};
struct kw_when : kw<keyword_index("when")> {};
struct kw_and : kw<keyword_index("and")> {};
struct kw_or : kw<keyword_index("or")> {};
struct kw_not : kw<keyword_index("not")> {};
struct kw_is : kw<keyword_index("is")> {};
struct kw_in : kw<keyword_index("in")> {};
struct kw_any : kw<keyword_index("any")> {};
struct kw_default : kw<keyword_index("default")> {};
struct kw_assert : kw<keyword_index("assert")> {};
struct kw_always : kw<keyword_index("always")> {};
struct kw_never : kw<keyword_index("never")> {};
struct kw_unless : kw<keyword_index("unless")> {};
struct kw_context : kw<keyword_index("context")> {};
struct kw_attribute : kw<keyword_index("attribute")> {};
struct kw_objection : kw<keyword_index("objection")> {};
struct kw_obligation : kw<keyword_index("obligation")> {};
struct kw_objected : kw<keyword_index("objected")> {};
struct kw_obliges : kw<keyword_index("obliges")> {};
struct kw_first : kw<keyword_index("first")> {};
struct kw_effective : kw<keyword_index("effective")> {};
struct kw_from : kw<keyword_index("from")> {};
struct kw_until : kw<keyword_index("until")> {};
struct kw_names : kw<keyword_index("names")> {};
struct kw_document : kw<keyword_index("document")> {};

// Every reserved word; none of them can name a thing.
// Any reserved word of the keyword table.
struct keyword : reserved_words<std::make_index_sequence<reserved_keywords>> {};

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

// A date `2026-02-16` or an RFC 3339 date-time `2026-02-16T08:00:00+01:00`; the checker
// reads it strictly.
struct time_offset
    : sor<one<'Z', 'z'>, seq<one<'+', '-'>, rep<2, digit>, one<':'>, rep<2, digit>>> {};
struct time_lit : seq<rep<4, digit>, one<'-'>, rep<2, digit>, one<'-'>, rep<2, digit>,
                      opt<one<'T', 't'>, plus<sor<digit, one<':', '.'>>>, opt<time_offset>>,
                      not_at<identifier_other>> {};
// `from DATE` and `until DATE`: when a clause or a rule applies.
struct from_time : time_lit {};
struct until_time : time_lit {};
struct from_part : if_must<kw_from, sep, from_time> {};
struct until_part : if_must<kw_until, sep, until_time> {};
struct dates_part : seq<opt<sep, from_part>, opt<sep, until_part>> {};

// `clause "ID" [from DATE] [until DATE] "WORDS" ...`: adjacent strings join, so long
// words can span lines.
struct clause_id : string_lit {};
struct clause_words : list<string_lit, sep> {};
struct clause_decl : if_must<kw_clause, sep, clause_id, dates_part, sep, clause_words> {};

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

// `action a, b, c`, likewise `fact`, `objection` and `obligation`; `consent a, b
// [cites "ID"]`; `purpose a, b` or `purpose NAME under PARENT`.
struct action_decl : if_must<kw_action, sep, name_list> {};
struct purpose_tree : seq<at<name, sep, kw_under>, tree_tail> {};
struct purpose_names : sor<purpose_tree, name_list> {};
struct purpose_decl : if_must<kw_purpose, sep, purpose_names> {};
struct fact_decl : if_must<kw_fact, sep, name_list> {};
struct consent_decl : if_must<kw_consent, sep, name_list, opt<sep, decl_cites>> {};
struct objection_decl : if_must<kw_objection, sep, name_list> {};
struct obligation_decl : if_must<kw_obligation, sep, name_list> {};

// An attribute of a request: `data.subject`, `requester.id`, `context.time`.
struct attr_root : sor<kw_data, kw_requester, kw_context> {};
struct attr_path : seq<attr_root, one<'.'>, bounded_identifier> {};
// `attribute PATH TYPE [optional]`, TYPE a word or `list of WORD`.
struct attr_decl_path : attr_path {};
struct attr_type_word : bounded_identifier {};
struct attr_list_of : seq<TAO_PEGTL_KEYWORD("list"), sep, kw_of, sep, attr_type_word> {};
struct attr_type : sor<attr_list_of, attr_type_word> {};
struct attr_optional : TAO_PEGTL_KEYWORD("optional") {};
// `LOW..HIGH` after `integer`: the values the attribute takes, both included.
struct range_bound : seq<opt<one<'-'>>, plus<digit>, not_at<identifier_other>> {};
struct range_low : range_bound {};
struct range_high : range_bound {};
struct attr_range : seq<range_low, sep, string<'.', '.'>, sep, must<range_high>> {};
// `from DOC[KEY].FIELD`: the attribute is read from a policy document, by the value of
// the key attribute; FIELD may be quoted.
struct lookup_document : name {};
struct lookup_key : attr_path {};
struct lookup_open : one<'['> {};
struct lookup_close : one<']'> {};
struct lookup_dot : one<'.'> {};
struct lookup_field_name : bounded_identifier {};
struct lookup_field_text : string_lit {};
struct lookup_field : sor<lookup_field_text, lookup_field_name> {};
struct attr_lookup : if_must<kw_from, sep, lookup_document, sep, lookup_open, sep, lookup_key, sep,
                             lookup_close, sep, lookup_dot, sep, lookup_field> {};
struct attribute_decl
    : if_must<kw_attribute, sep, attr_decl_path, sep, attr_type, opt<sep, attr_range>,
              opt<sep, attr_optional>, opt<sep, attr_lookup>> {};

// `document NAME from "PATH" [keyed by FIELD]`: a JSON document shipped with the policy.
struct document_name : name {};
struct document_path : string_lit {};
struct document_key_name : bounded_identifier {};
struct document_key_text : string_lit {};
struct document_key : sor<document_key_text, document_key_name> {};
struct document_keyed_by : kw_by {};
struct document_keyed
    : if_must<TAO_PEGTL_KEYWORD("keyed"), sep, document_keyed_by, sep, document_key> {};
struct document_from : kw_from {};
// `document` is not reserved, so only `document NAME from` starts one.
struct document_decl : seq<kw_document, sep, document_name, sep, document_from, sep,
                           must<document_path>, opt<sep, document_keyed>> {};

// `names NAME: A, B, C`: a set of names, which an attribute can take as its type. `names`
// is not reserved, so only `names NAME :` starts one.
struct name_set_name : name {};
struct name_set_member : name {};
struct name_set_members : list_must<name_set_member, seq<sep, one<','>, sep>> {};
struct names_decl : seq<kw_names, sep, name_set_name, sep, one<':'>, sep, must<name_set_members>> {
};

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
struct objected_atom : if_must<kw_objected, sep, cond_name> {};
struct fact_atom : cond_name {};
struct paren : if_must<one<'('>, sep, condition, sep, close_paren> {};
// Conditions over attributes: `ATTR op OPERAND`, `ATTR in ATTR`, or a boolean `ATTR`.
struct cmp_op : sor<string<'<', '='>, string<'>', '='>, string<'!', '='>, one<'<'>, one<'>'>,
                    one<'='>, kw_is> {};
struct duration_amount : plus<digit> {};
struct duration_unit : bounded_identifier {};
struct shift_sign : one<'+', '-'> {};
struct shift : seq<sep, shift_sign, sep, duration_amount, sep, duration_unit> {};
struct operand_attr : attr_path {};
struct operand_time : time_lit {};
struct operand_integer : seq<opt<one<'-'>>, plus<digit>, not_at<identifier_other>> {};
struct operand_string : string_lit {};
struct operand_true : TAO_PEGTL_KEYWORD("true") {};
struct operand_false : TAO_PEGTL_KEYWORD("false") {};
// A bare name: one of a name set's names.
struct operand_name : name {};
struct operand : sor<seq<operand_attr, opt<shift>>, seq<operand_time, opt<shift>>, operand_integer,
                     operand_string, operand_true, operand_false, operand_name> {};
struct attr_lhs : attr_path {};
struct compare_tail : seq<sep, cmp_op, sep, must<operand>> {};
struct member_rhs : attr_path {};
struct member_tail : seq<sep, kw_in, sep, must<member_rhs>> {};
struct attr_atom : seq<attr_lhs, sor<compare_tail, member_tail, success>> {};
// `"admin" in requester.roles`: a list attribute holds a constant.
struct contains_constant : string_lit {};
struct contains_list : attr_path {};
struct contains_in : kw_in {};
struct contains_atom : if_must<contains_constant, sep, contains_in, sep, contains_list> {};
// `admin in requester.roles`: a bare name is a fact, so without this the parse would stop
// later and ask for `cites`; it stops at the name and asks for quotes instead.
struct unquoted_constant : failure {};
struct bare_contains : seq<at<name, sep, kw_in>, must<unquoted_constant>> {};
struct primary : sor<paren, purpose_atom, consent_atom, objected_atom, contains_atom, attr_atom,
                     bare_contains, fact_atom> {};
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
// `obliges a, b`: the duties that come with the rule's allow.
struct obligation_name : name {};
struct obliges_part
    : if_must<kw_obliges, sep, list_must<obligation_name, seq<sep, one<','>, sep>>> {};
struct effect_rule : seq<effect, target, opt<sep, when_part>, dates_part, opt<sep, obliges_part>,
                         sep, must<rule_cites>> {};
struct otherwise : kw_otherwise {};
struct fallback_rule : if_must<otherwise, sep, effect_rule> {};
struct first_tier : kw_first {};
struct first_rule : if_must<first_tier, sep, effect_rule> {};
// `effective from DATE cites "ID"`: before DATE, every request is denied citing ID.
struct effective_time : time_lit {};
struct effective_rule : if_must<kw_effective, sep, kw_from, sep, effective_time, sep, rule_cites> {
};
struct exclude_effect : kw_exclude {};
struct exclude_cites : rule_cites {};
struct exclude_rule : if_must<exclude_effect, sep, data_set, sep, exclude_cites> {};
// `NAME:` before a rule names it.
struct rule_label : seq<name, sep, one<':'>> {};
struct rule_body : sor<exclude_rule, fallback_rule, first_rule, effective_rule, effect_rule> {};
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
                       fact_decl, consent_decl, objection_decl, obligation_decl, attribute_decl,
                       names_decl, document_decl, assertion, rule> {};
// `@ignore W004, W002` before a statement silences those warnings for it.
struct ignore_code : seq<one<'W'>, digit, digit, digit> {};
struct ignore_codes : list_must<ignore_code, seq<sep, one<','>, sep>> {};
struct annotation : if_must<seq<one<'@'>, TAO_PEGTL_KEYWORD("ignore")>, sep, ignore_codes> {};
struct annotated_statement : statement {};
struct annotated : if_must<annotation, sep, annotated_statement> {};
struct statement_then_sep : seq<sor<annotated, statement>, sep> {};

}  // namespace clause::dsl::grammar
