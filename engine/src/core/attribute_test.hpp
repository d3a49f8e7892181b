// Stage: evaluate (input). Answers a policy's attribute tests from a request's values: done
// once when a request is resolved, so that deciding reads only bits.
#pragma once

#include <algorithm>
#include <variant>
#include <vector>

#include "clause/dsl/check.hpp"

namespace clause::detail {

template <class T>
bool compare_values(const T& a, ast::CompareOp op, const T& b) {
  switch (op) {
    case ast::CompareOp::eq:
      return a == b;
    case ast::CompareOp::ne:
      return !(a == b);
    case ast::CompareOp::lt:
      return a < b;
    case ast::CompareOp::le:
      return !(b < a);
    case ast::CompareOp::gt:
      return b < a;
    case ast::CompareOp::ge:
      return !(a < b);
  }
  return false;
}

/// The answer of one test for the values of a request's attributes (by declared index). A
/// test that reads an absent attribute is false, whatever its operator: `not` of it is then
/// true, as `not` of an unset fact is.
inline bool run_test(const dsl::AttributeTest& t, const std::vector<Value>& values) {
  if (t.lhs >= values.size()) return false;
  const Value& left = values[t.lhs];
  if (std::holds_alternative<std::monostate>(left)) return false;
  using Kind = dsl::AttributeTest::Kind;
  if (t.kind == Kind::truth) {
    const bool* b = std::get_if<bool>(&left);
    return b != nullptr && *b;
  }
  const Value* right = &t.constant;
  if (t.rhs != dsl::no_id) {
    if (static_cast<std::size_t>(t.rhs) >= values.size()) return false;
    right = &values[static_cast<std::size_t>(t.rhs)];
    if (std::holds_alternative<std::monostate>(*right)) return false;
  }
  if (t.kind == Kind::contains) {
    const auto* list = std::get_if<std::vector<std::string>>(&left);
    const auto* s = std::get_if<std::string>(&t.constant);
    return s != nullptr && list != nullptr &&
           std::find(list->begin(), list->end(), *s) != list->end();
  }
  if (t.kind == Kind::member) {
    const auto* s = std::get_if<std::string>(&left);
    const auto* list = std::get_if<std::vector<std::string>>(right);
    return s != nullptr && list != nullptr &&
           std::find(list->begin(), list->end(), *s) != list->end();
  }
  if (const auto* a = std::get_if<Instant>(&left)) {
    const auto* b = std::get_if<Instant>(right);
    return b != nullptr && compare_values(*a, t.op, add(*b, t.shift));
  }
  if (const auto* a = std::get_if<std::int64_t>(&left)) {
    const auto* b = std::get_if<std::int64_t>(right);
    return b != nullptr && compare_values(*a, t.op, *b);
  }
  if (const auto* a = std::get_if<std::string>(&left)) {
    const auto* b = std::get_if<std::string>(right);
    return b != nullptr && compare_values(*a, t.op, *b);
  }
  if (const auto* a = std::get_if<bool>(&left)) {
    const auto* b = std::get_if<bool>(right);
    return b != nullptr && compare_values(*a, t.op, *b);
  }
  return false;
}

}  // namespace clause::detail
