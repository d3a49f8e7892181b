// Stage: library boundary. A value or an error, the way std::expected (C++23) holds one.
#pragma once

#include <utility>
#include <variant>

namespace clause {

/// Wraps an error so that it can initialise a Result, like std::unexpected.
template <typename E>
struct Failure {
  E error;
};
template <typename E>
Failure(E) -> Failure<E>;

/// Holds either a value of T or an error of E; never both, never neither.
template <typename T, typename E>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  template <typename F>
  Result(Failure<F> failure)  // NOLINT: implicit, as std::unexpected converts
      : state_(std::in_place_index<1>, std::move(failure.error)) {}

  /// Tells whether a value is held.
  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// Gives the value; only valid when has_value().
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  /// Gives the error; only valid when !has_value().
  E& error() & { return std::get<1>(state_); }
  const E& error() const& { return std::get<1>(state_); }

 private:
  std::variant<T, E> state_;
};

}  // namespace clause
