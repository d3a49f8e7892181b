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

}  // namespace clause::dsl::grammar
