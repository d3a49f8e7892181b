// Stage: every stage. The names of attribute types, and integers as a policy writes them.
#include "clause/value.hpp"

#include <charconv>

namespace clause {

std::string_view to_string(AttrType type) noexcept {
  switch (type) {
    case AttrType::string:
      return "string";
    case AttrType::integer:
      return "integer";
    case AttrType::boolean:
      return "boolean";
    case AttrType::date:
      return "date";
    case AttrType::time:
      return "time";
    case AttrType::string_list:
      return "list of string";
  }
  return "string";
}

std::string_view type_noun(AttrType type, NounFor where) noexcept {
  const bool request = where == NounFor::request;
  switch (type) {
    case AttrType::string:
      return "a string";
    case AttrType::integer:
      return "an integer";
    case AttrType::boolean:
      return request ? "true or false" : "a boolean";
    case AttrType::date:
      return request ? "a date `YYYY-MM-DD`" : "a date";
    case AttrType::time:
      return request ? "a date or an RFC 3339 date-time" : "a time";
    case AttrType::string_list:
      return request ? "an array of strings" : "a list of strings";
  }
  return "a value";
}

std::optional<std::int64_t> parse_integer(std::string_view text) noexcept {
  std::int64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || stop != end || text.empty()) return std::nullopt;
  return value;
}

}  // namespace clause
