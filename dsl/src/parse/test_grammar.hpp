// Stage: parse. The PEGTL grammar of test files; it shares names, strings and effects
// with the policy grammar.
#pragma once

#include "parse/grammar.hpp"

namespace clause::dsl::grammar {

// Test files: `tests for "POLICY"`, then cases of a request and the decision it expects.
struct kw_tests : kw<keyword_index("tests")> {};
struct kw_case : kw<keyword_index("case")> {};
struct kw_expect : kw<keyword_index("expect")> {};
struct kw_facts : kw<keyword_index("facts")> {};
struct tests_for : kw_for {};
struct tests_policy : string_lit {};
struct tests_header : if_must<kw_tests, sep, tests_for, sep, tests_policy> {};
struct case_name : string_lit {};
struct field_value : name {};
struct field_data : if_must<kw_data, sep, field_value> {};
struct field_requester : if_must<kw_requester, sep, field_value> {};
struct field_action : if_must<kw_action, sep, field_value> {};
struct field_purpose : if_must<kw_purpose, sep, field_value> {};
struct kw_with : kw<keyword_index("with")> {};
struct kw_objections : kw<keyword_index("objections")> {};
struct kw_expires : kw<keyword_index("expires")> {};
struct kw_withdrawn : kw<keyword_index("withdrawn")> {};
struct kw_at : kw<keyword_index("at")> {};
struct comma_sep : seq<sep, one<','>, sep> {};
struct field_facts : if_must<kw_facts, sep, name_list> {};
// `consent NAME [expires DATE] [withdrawn DATE], ...`
struct consent_entry_name : name {};
struct consent_expires_time : time_lit {};
struct consent_withdrawn_time : time_lit {};
struct consent_expires : if_must<kw_expires, sep, consent_expires_time> {};
struct consent_withdrawn : if_must<kw_withdrawn, sep, consent_withdrawn_time> {};
struct consent_entry
    : seq<consent_entry_name, opt<sep, consent_expires>, opt<sep, consent_withdrawn>> {};
struct field_consent : if_must<kw_consent, sep, list_must<consent_entry, comma_sep>> {};
struct field_objections : if_must<kw_objections, sep, name_list> {};
// `with PATH = VALUE, ...`, VALUE a string, a date or date-time, an integer, `true`,
// `false` or a list of strings.
struct with_path : attr_path {};
struct value_string : string_lit {};
struct value_time : time_lit {};
struct value_integer : seq<opt<one<'-'>>, plus<digit>, not_at<identifier_other>> {};
struct value_true : TAO_PEGTL_KEYWORD("true") {};
struct value_false : TAO_PEGTL_KEYWORD("false") {};
struct value_item : string_lit {};
struct value_list : if_must<one<'['>, sep, opt<list_must<value_item, comma_sep>, sep>, one<']'>> {};
struct with_value
    : sor<value_list, value_string, value_time, value_integer, value_true, value_false> {};
struct with_pair : if_must<with_path, sep, one<'='>, sep, with_value> {};
struct field_with : if_must<kw_with, sep, list_must<with_pair, comma_sep>> {};
// `at TIME`: the request's `context.time`.
struct at_time : time_lit {};
struct field_at : if_must<kw_at, sep, at_time> {};
// A word where a field belongs: reported by name (with a guess), and its value read as
// a list, so that parsing goes on and every misspelt field of a case is reported.
struct unknown_field_name : name {};
struct field_unknown
    : seq<not_at<sor<kw_expect, kw_case, kw_tests>>, unknown_field_name, sep, name_list> {};
struct case_field : sor<field_data, field_requester, field_action, field_purpose, field_with,
                        field_at, field_facts, field_consent, field_objections, field_unknown> {};
struct expect_consent_name : name {};
struct expect_require : if_must<kw_require, sep, kw_consent, sep, expect_consent_name> {};
struct expect_effect : sor<effect_allow, effect_deny, expect_require> {};
struct expect_cites : kw_cites {};
struct expect_cites_id : string_lit {};
struct expect_obligation : name {};
struct expect_obliges : if_must<kw_obliges, sep, list_must<expect_obligation, comma_sep>> {};
struct expectation : if_must<kw_expect, sep, expect_effect, sep, expect_cites, sep, expect_cites_id,
                             opt<sep, expect_obliges>> {};
struct test_case : if_must<kw_case, sep, case_name, star<sep, case_field>, sep, expectation> {};
struct test_statement : sor<tests_header, test_case> {};
struct test_statement_then_sep : seq<test_statement, sep> {};

}  // namespace clause::dsl::grammar
