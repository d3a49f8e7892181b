// Stage: every stage. The names of attribute types.
#include "clause/value.hpp"

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

}  // namespace clause
