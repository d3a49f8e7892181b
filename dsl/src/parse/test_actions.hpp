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
struct action<grammar::field_objections> : list_field_action<&ast::TestCase::objections> {};

template <>
struct action<grammar::consent_entry_name> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.test_case.consent.push_back({ast::Name{in.string(), st.span_of(in)}, {}, {}});
  }
};

template <std::optional<ast::TimeText> ast::TestConsent::*Slot>
struct consent_date_action {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.test_case.consent.back().*Slot = ast::TimeText{in.string(), st.span_of(in)};
  }
};
template <>
struct action<grammar::consent_expires_time> : consent_date_action<&ast::TestConsent::expires> {};
template <>
struct action<grammar::consent_withdrawn_time> : consent_date_action<&ast::TestConsent::withdrawn> {
};

template <>
struct action<grammar::at_time> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.test_case.at = ast::TimeText{in.string(), st.span_of(in)};
  }
};

template <>
struct action<grammar::with_path> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.pair = ast::TestAttribute{};
    st.pair.path = attr_path_of(in, st);
  }
};

template <ast::TestValue::Kind Kind>
struct value_action {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    ast::TestValue& v = st.pair.value;
    v.kind = Kind;
    v.span = st.span_of(in);
    if constexpr (Kind == ast::TestValue::Kind::string) {
      v.text = join_literals(in.string_view());
    } else if constexpr (Kind == ast::TestValue::Kind::integer ||
                         Kind == ast::TestValue::Kind::time) {
      v.text = in.string();
    }
  }
};
template <>
struct action<grammar::value_string> : value_action<ast::TestValue::Kind::string> {};
template <>
struct action<grammar::value_time> : value_action<ast::TestValue::Kind::time> {};
template <>
struct action<grammar::value_integer> : value_action<ast::TestValue::Kind::integer> {};
template <>
struct action<grammar::value_true> : value_action<ast::TestValue::Kind::boolean> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    value_action::apply(in, st);
    st.pair.value.boolean = true;
  }
};
template <>
struct action<grammar::value_false> : value_action<ast::TestValue::Kind::boolean> {};
template <>
struct action<grammar::value_list> : value_action<ast::TestValue::Kind::list> {};

template <>
struct action<grammar::value_item> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.pair.value.items.push_back(join_literals(in.string_view()));
  }
};

template <>
struct action<grammar::with_pair> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.pair.span = st.span_of(in);
    st.test_case.with.push_back(std::move(st.pair));
    st.pair = ast::TestAttribute{};
  }
};

template <>
struct action<grammar::expect_obligation> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.expect.obligations.push_back({in.string(), st.span_of(in)});
  }
};

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
                             "purpose, with, at, facts, consent and objections, then `expect`",
                             name.text),
                 name.span,
                 {},
                 {}};
    const std::string guess =
        closest_name(name.text, {"data", "requester", "action", "purpose", "with", "at", "facts",
                                 "consent", "objections", "expect"});
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
    st.expect = ast::Expectation{};
  }
};

template <>
struct action<grammar::test_case> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.test_case.span = st.span_of(in);
    st.tests->cases.push_back(std::move(st.test_case));
    st.test_case = ast::TestCase{};
  }
};

}  // namespace clause::dsl::parsing
