// Stage: parse. The PEGTL actions that build the syntax tree of a test file.
#pragma once

#include <fmt/format.h>

#include "clause/dsl/check.hpp"
#include "parse/parse_actions.hpp"
#include "parse/recovery.hpp"
#include "parse/test_grammar.hpp"

namespace clause::dsl::parsing {

template <>
struct action<grammar::tests_policy> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.tests->policy = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<grammar::case_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.test_case.name = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<grammar::field_value> {
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
struct action<grammar::field_data> : field_action<&ast::TestCase::data> {};
template <>
struct action<grammar::field_requester> : field_action<&ast::TestCase::requester> {};
template <>
struct action<grammar::field_action> : field_action<&ast::TestCase::action> {};
template <>
struct action<grammar::field_purpose> : field_action<&ast::TestCase::purpose> {};

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
struct action<grammar::field_facts> : list_field_action<&ast::TestCase::facts> {};
template <>
struct action<grammar::field_consent> : list_field_action<&ast::TestCase::consent> {};

template <>
struct action<grammar::unknown_field_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.unknown_field = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::field_unknown> {
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
struct action<grammar::expect_consent_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.expect.consent = ast::Name{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::expect_require> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.rule.effect = ast::Effect::require_consent;
  }
};

template <>
struct action<grammar::expect_cites_id> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.expect.cites = ast::Text{join_literals(in.string_view()), st.span_of(in)};
  }
};

template <>
struct action<grammar::expectation> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.expect.effect = st.rule.effect;
    st.expect.span = st.span_of(in);
    st.test_case.expect = std::move(st.expect);
  }
};

template <>
struct action<grammar::test_case> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.test_case.span = st.span_of(in);
    st.tests->cases.push_back(std::move(st.test_case));
  }
};

}  // namespace clause::dsl::parsing
