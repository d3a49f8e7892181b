// Stage: serve. AuthZEN requests read as clause requests: the payload is parsed once, the
// clause request is written as JSON and decoded by Policy::decode, so that every check of
// a clause request (types, names, dates, limits) applies unchanged; its errors are named
// again by the AuthZEN field they came from and placed in the AuthZEN text.
#include "clause/authzen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "clause/dsl/check.hpp"
#include "clause/json.hpp"
#include "core/sha256.hpp"

namespace clause::authzen {
namespace {

using nlohmann::json;

// Deep enough for a batch item's context (`evaluations[i].context.consent[j]`), two levels
// past a clause request's own bound; deeper text is refused before a recursive parse.
constexpr std::size_t max_payload_depth = Limits{}.max_json_depth + 2;

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

std::size_t skip_space(std::string_view text, std::size_t at) {
  while (at < text.size() && is_space(text[at]))
    ++at;
  return at;
}

// Where the JSON value that starts at `at` ends, or npos.
std::size_t skip_value(std::string_view text, std::size_t at) {
  if (at >= text.size()) return std::string_view::npos;
  if (text[at] == '"') return json_string_end(text, at);
  if (text[at] != '{' && text[at] != '[') {
    while (at < text.size() && text[at] != ',' && text[at] != '}' && text[at] != ']' &&
           !is_space(text[at]))
      ++at;
    return at;
  }
  int depth = 0;
  for (; at < text.size(); ++at) {
    const char c = text[at];
    if (c == '"') {
      at = json_string_end(text, at);
      if (at == std::string_view::npos) return at;
      --at;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return at + 1;
    }
  }
  return std::string_view::npos;
}

// The offset of the value a field names (`evaluations[2].subject.type`) in the text, or
// of the nearest enclosing value it lies in when it is not there (a missing field).
std::optional<std::size_t> locate(std::string_view text, std::string_view field) {
  std::size_t at = skip_space(text, 0);
  if (at >= text.size()) return std::nullopt;
  std::size_t i = 0;
  while (i < field.size()) {
    if (field[i] == '.') ++i;
    if (field[i] == '[') {
      const std::size_t close = field.find(']', i);
      if (close == std::string_view::npos || text[at] != '[') return at;
      std::size_t index = 0;
      for (std::size_t k = i + 1; k < close; ++k)
        index = index * 10 + static_cast<std::size_t>(field[k] - '0');
      i = close + 1;
      std::size_t item = skip_space(text, at + 1);
      for (std::size_t n = 0; n < index; ++n) {
        item = skip_value(text, item);
        if (item == std::string_view::npos) return at;
        item = skip_space(text, item);
        if (item >= text.size() || text[item] != ',') return at;
        item = skip_space(text, item + 1);
      }
      if (item >= text.size() || text[item] == ']') return at;
      at = item;
      continue;
    }
    const std::size_t end = std::min(field.find_first_of(".[", i), field.size());
    const std::string_view key = field.substr(i, end - i);
    i = end;
    if (text[at] != '{') return at;
    std::size_t member = skip_space(text, at + 1);
    bool found = false;
    while (member < text.size() && text[member] == '"') {
      const std::size_t key_end = json_string_end(text, member);
      if (key_end == std::string_view::npos) return at;
      const std::string_view name = text.substr(member + 1, key_end - member - 2);
      std::size_t value = skip_space(text, key_end);
      if (value >= text.size() || text[value] != ':') return at;
      value = skip_space(text, value + 1);
      if (name == key) {
        at = value;
        found = true;
        break;
      }
      member = skip_value(text, value);
      if (member == std::string_view::npos) return at;
      member = skip_space(text, member);
      if (member >= text.size() || text[member] != ',') break;
      member = skip_space(text, member + 1);
    }
    if (!found) return at;
  }
  return at;
}

// Where a JSON string that opens at `at` ends (one past its quote), checked strictly:
// escapes, no control characters, UTF-8; npos when it is not one.
std::size_t valid_string_end(std::string_view text, std::size_t at) {
  for (++at; at < text.size();) {
    const auto c = static_cast<unsigned char>(text[at]);
    if (c == '"') return at + 1;
    if (c < 0x20) return std::string_view::npos;
    if (c == '\\') {
      if (at + 1 >= text.size()) return std::string_view::npos;
      const char e = text[at + 1];
      if (e == 'u') {
        if (at + 6 > text.size()) return std::string_view::npos;
        for (std::size_t k = at + 2; k < at + 6; ++k) {
          if (!std::isxdigit(static_cast<unsigned char>(text[k]))) return std::string_view::npos;
        }
        at += 6;
        continue;
      }
      if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return std::string_view::npos;
      }
      at += 2;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(text, at);
      if (n == 0) return std::string_view::npos;
      at += n;
      continue;
    }
    ++at;
  }
  return std::string_view::npos;
}

// Where a JSON number that starts at `at` ends, or npos.
std::size_t valid_number_end(std::string_view text, std::size_t at) {
  const auto digit = [&](std::size_t i) {
    return i < text.size() && text[i] >= '0' && text[i] <= '9';
  };
  const auto digits = [&](std::size_t i) {
    if (!digit(i)) return std::string_view::npos;
    while (digit(i))
      ++i;
    return i;
  };
  if (at < text.size() && text[at] == '-') ++at;
  if (at < text.size() && text[at] == '0') {
    ++at;
  } else if ((at = digits(at)) == std::string_view::npos) {
    return at;
  }
  if (at < text.size() && text[at] == '.' && (at = digits(at + 1)) == std::string_view::npos) {
    return at;
  }
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) ++at;
    at = digits(at);
  }
  return at;
}

// Whether the text is one JSON value (RFC 8259, UTF-8), read without recursion and
// without building anything: the payload is checked whole before its values are read
// by their text.
bool valid_json(std::string_view text) {
  std::vector<char> open;  // the containers entered: '{' or '['
  std::size_t at = skip_space(text, 0);
  constexpr auto npos = std::string_view::npos;
  const auto key = [&]() {  // a member's key and colon; then a value follows
    if (at >= text.size() || text[at] != '"') return false;
    at = valid_string_end(text, at);
    if (at == npos) return false;
    at = skip_space(text, at);
    if (at >= text.size() || text[at] != ':') return false;
    at = skip_space(text, at + 1);
    return true;
  };
  for (;;) {
    // A value starts at `at`.
    if (at >= text.size()) return false;
    const char c = text[at];
    if (c == '{' || c == '[') {
      open.push_back(c);
      at = skip_space(text, at + 1);
      const char close = c == '{' ? '}' : ']';
      if (at < text.size() && text[at] == close) {
        open.pop_back();
        ++at;
      } else {
        if (c == '{' && !key()) return false;
        continue;
      }
    } else if (c == '"') {
      at = valid_string_end(text, at);
    } else if (c == 't' || c == 'f' || c == 'n') {
      const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
      if (text.substr(at, word.size()) != word) return false;
      at += word.size();
    } else {
      at = valid_number_end(text, at);
    }
    if (at == npos) return false;
    // After a value: the next member or element, or the end of containers.
    for (;;) {
      at = skip_space(text, at);
      if (open.empty()) return at == text.size();
      if (at >= text.size()) return false;
      const char close = open.back() == '{' ? '}' : ']';
      if (text[at] == close) {
        open.pop_back();
        ++at;
        continue;
      }
      if (text[at] != ',') return false;
      at = skip_space(text, at + 1);
      if (open.back() == '{' && !key()) return false;
      break;
    }
  }
}

// A JSON value as it stands in the payload, which was checked whole before it is read
// this way; empty when absent. Reading by text leaves each value where it is: the clause
// request is made of the payload's own texts, and no tree is built.
using Raw = std::string_view;

enum class Kind : std::uint8_t { absent, null, object, array, string, boolean, number };

Kind kind_of(Raw value) {
  if (value.empty()) return Kind::absent;
  switch (value.front()) {
    case 'n':
      return Kind::null;
    case '{':
      return Kind::object;
    case '[':
      return Kind::array;
    case '"':
      return Kind::string;
    case 't':
    case 'f':
      return Kind::boolean;
    default:
      return Kind::number;
  }
}

// What a JSON value is, as an error says it was found: "the number 12", "an object".
std::string found(Raw value) {
  switch (kind_of(value)) {
    case Kind::absent:
      return "nothing";
    case Kind::null:
      return "null";
    case Kind::object:
      return "an object";
    case Kind::array:
      return "an array";
    case Kind::string:
      return fmt::format("the string {}", value);
    case Kind::boolean:
      return std::string(value);
    case Kind::number:
      break;
  }
  return fmt::format("the number {}", value);
}

// The members of an object's text, as (key as written, value), in order.
using Members = std::vector<std::pair<std::string_view, Raw>>;

Members members(Raw object) {
  Members out;
  std::size_t at = skip_space(object, 1);
  while (at < object.size() && object[at] == '"') {
    const std::size_t key_end = json_string_end(object, at);
    const std::string_view key = object.substr(at + 1, key_end - at - 2);
    const std::size_t value = skip_space(object, skip_space(object, key_end) + 1);
    const std::size_t end = skip_value(object, value);
    out.emplace_back(key, object.substr(value, end - value));
    at = skip_space(object, end);
    if (at < object.size() && object[at] == ',') at = skip_space(object, at + 1);
  }
  return out;
}

// The elements of an array's text, in order.
std::vector<Raw> elements(Raw array) {
  std::vector<Raw> out;
  std::size_t at = skip_space(array, 1);
  while (at < array.size() && array[at] != ']') {
    const std::size_t end = skip_value(array, at);
    out.push_back(array.substr(at, end - at));
    at = skip_space(array, end);
    if (at < array.size() && array[at] == ',') at = skip_space(array, at + 1);
  }
  return out;
}

// The value of a member (the first, when a key is given twice), or absent.
Raw member(const Members& object, std::string_view key) {
  for (const auto& [name, value] : object) {
    if (name == key) return value;
  }
  return {};
}

// Where one part of an evaluation came from: the item `item` (or, when negative, the
// payload's top level) under `key`.
struct Part {
  Raw value;
  std::string_view key;
  int item = -1;

  [[nodiscard]] std::string path() const {
    return item < 0 ? std::string(key) : fmt::format("evaluations[{}].{}", item, key);
  }
};

struct Parts {
  Part subject;
  Part action;
  Part resource;
  Part context;
};

// Says what is wrong at `field`, placed in `text`.
RequestError error_at(std::string_view text, std::string field, std::string name,
                      std::string message) {
  RequestError e{std::move(field), std::move(name), std::move(message), std::nullopt};
  if (const auto at = locate(text, e.field)) {
    e.position = line_column(text, static_cast<std::uint32_t>(*at));
  }
  return e;
}

Failure<RequestError> fail_at(std::string_view text, std::string field, std::string name,
                              std::string message) {
  return Failure{error_at(text, std::move(field), std::move(name), std::move(message))};
}

// The clause field's AuthZEN name, given where each part came from.
std::string authzen_field(std::string_view field, const Parts& parts) {
  const auto rest = [&](std::size_t n) { return std::string(field.substr(n)); };
  if (field == "requester.kind") return parts.subject.path() + ".type";
  if (field == "requester.id") return parts.subject.path() + ".id";
  if (field.starts_with("requester.")) return parts.subject.path() + ".properties." + rest(10);
  if (field == "data.category") return parts.resource.path() + ".type";
  if (field == "data.id") return parts.resource.path() + ".id";
  if (field.starts_with("data.")) return parts.resource.path() + ".properties." + rest(5);
  if (field == "action") return parts.action.path() + ".name";
  if (field.starts_with("context")) return parts.context.path() + rest(7);
  if (field == "requester") return parts.subject.path();
  if (field == "data") return parts.resource.path();
  return std::string(field);
}

}  // namespace

std::string_view to_string(Semantic semantic) noexcept {
  switch (semantic) {
    case Semantic::deny_on_first_deny:
      return "deny_on_first_deny";
    case Semantic::permit_on_first_permit:
      return "permit_on_first_permit";
    case Semantic::execute_all:
      break;
  }
  return "execute_all";
}

Evaluator::Evaluator(Policy policy) : policy_(std::move(policy)) {
  for (const auto& a : policy_.checked().attributes) {
    const std::string_view path = a.path;
    // A looked-up attribute is the policy's data: a property of that name is ignored, as
    // an undeclared one is, so that a client cannot speak for the directory.
    if (a.lookup) continue;
    if (path == "requester.id") {
      declared_.requester_id = true;
      declared_.requester_id_string = a.type == AttrType::string;
    } else if (path == "data.id") {
      declared_.data_id = true;
      declared_.data_id_string = a.type == AttrType::string;
    } else if (path.starts_with("requester.")) {
      declared_.requester_attributes.emplace_back(path.substr(10));
    } else if (path.starts_with("data.")) {
      declared_.data_attributes.emplace_back(path.substr(5));
    }
  }
}

namespace {

struct Reader {
  std::string_view text;
  const Evaluator::Declared& declared;
  // A search's candidate id (JSON text) in place of the payload's subject or resource id.
  Raw subject_id{};
  Raw resource_id{};

  // Appends an entity (subject or resource) as a clause object: `kind_key` from `type`,
  // `id` and the declared properties, in that order.
  std::optional<RequestError> entity(const Part& part, std::string_view kind_key,
                                     const std::vector<std::string>& attributes, bool id_declared,
                                     bool id_string, Raw id_given, std::string& out) const {
    if (kind_of(part.value) == Kind::absent) {
      return error_at(text, part.path(), "", "missing " + part.path());
    }
    if (kind_of(part.value) != Kind::object) {
      return error_at(text, part.path(), "",
                      fmt::format("expected an object, found {}", found(part.value)));
    }
    const Members fields = members(part.value);
    const Raw type = member(fields, "type");
    if (kind_of(type) == Kind::absent) {
      return error_at(text, part.path() + ".type", "", "missing type");
    }
    if (kind_of(type) != Kind::string) {
      return error_at(text, part.path() + ".type", "",
                      fmt::format("expected a string, found {}", found(type)));
    }
    out += "{\"";
    out += kind_key;
    out += "\":";
    out += type;
    if (const Raw id = id_given.empty() ? member(fields, "id") : id_given;
        !id.empty() && kind_of(id) != Kind::null) {
      if (kind_of(id) != Kind::string && kind_of(id) != Kind::number) {
        return error_at(text, part.path() + ".id", "",
                        fmt::format("expected a string, found {}", found(id)));
      }
      out += ",\"id\":";
      // A number is its text when the policy reads the id as a string.
      const bool as_text = kind_of(id) == Kind::number && id_declared && id_string;
      if (as_text) out += '"';
      out += id;
      if (as_text) out += '"';
    }
    if (const Raw props = member(fields, "properties");
        !props.empty() && kind_of(props) != Kind::null) {
      if (kind_of(props) != Kind::object) {
        return error_at(text, part.path() + ".properties", "",
                        fmt::format("expected an object, found {}", found(props)));
      }
      // Only what the policy declares: a PEP sends what it has.
      if (!attributes.empty()) {
        const Members given = members(props);
        for (const auto& name : attributes) {
          if (const Raw value = member(given, name); !value.empty()) {
            out += ",\"";
            out += name;
            out += "\":";
            out += value;
          }
        }
      }
    }
    out += '}';
    return std::nullopt;
  }

  Result<std::string, RequestError> clause_request(const Parts& parts) const {
    std::string out = "{\"requester\":";
    out.reserve(256);
    if (auto e = entity(parts.subject, "kind", declared.requester_attributes, declared.requester_id,
                        declared.requester_id_string, subject_id, out)) {
      return Failure{std::move(*e)};
    }
    out += ",\"data\":";
    if (auto e = entity(parts.resource, "category", declared.data_attributes, declared.data_id,
                        declared.data_id_string, resource_id, out)) {
      return Failure{std::move(*e)};
    }
    const Part& action = parts.action;
    if (kind_of(action.value) == Kind::absent) {
      return fail_at(text, action.path(), "", "missing action");
    }
    if (kind_of(action.value) != Kind::object) {
      return fail_at(text, action.path(), "",
                     fmt::format("expected an object, found {}", found(action.value)));
    }
    const Raw name = member(members(action.value), "name");
    if (kind_of(name) == Kind::absent)
      return fail_at(text, action.path() + ".name", "", "missing name");
    if (kind_of(name) != Kind::string) {
      return fail_at(text, action.path() + ".name", "",
                     fmt::format("expected a string, found {}", found(name)));
    }
    out += ",\"action\":";
    out += name;
    const Raw context = parts.context.value;
    if (!context.empty() && kind_of(context) != Kind::null) {
      if (kind_of(context) != Kind::object) {
        return fail_at(text, parts.context.path(), "",
                       fmt::format("expected an object, found {}", found(context)));
      }
      out += ",\"context\":";
      out += context;
    }
    out += '}';
    return out;
  }

  // Decides the clause request read from `parts`.
  Evaluation decide(const Policy& policy, const Parts& parts, std::string request) const {
    Evaluation out;
    out.request = std::move(request);
    auto resolved = policy.decode(out.request);
    if (resolved) {
      out.decision = policy.evaluate(*resolved);
      return out;
    }
    return refused(policy, named(std::move(resolved.error()), parts));
  }

  // A clause request's error, named by the AuthZEN field it came from and placed.
  RequestError named(RequestError e, const Parts& parts) const {
    return error_at(text, authzen_field(e.field, parts), std::move(e.name), std::move(e.message));
  }

  Evaluation evaluate(const Policy& policy, const Parts& parts) const {
    auto request = clause_request(parts);
    if (!request) return refused(policy, std::move(request.error()));
    return decide(policy, parts, std::move(*request));
  }

  // A denial that names the policy, as Policy::evaluate gives for an invalid request.
  static Evaluation refused(const Policy& policy, RequestError error) {
    Evaluation out;
    Decision& d = out.decision;
    d.effect = Effect::deny;
    d.error = error.to_string();
    d.reason = "the request could not be decided";
    d.policy = policy;
    d.policy_version = policy.version();
    d.policy_hash = policy.content_hash();
    out.error = std::move(error);
    return out;
  }
};

// A mistake of the payload as a whole.
Failure<RequestError> payload_error(std::string message,
                                    std::optional<LineColumn> at = std::nullopt) {
  return Failure{RequestError{"", "", std::move(message), at}};
}

// Checks that the payload is one JSON object and gives its members. Checked whole first
// (depth without recursion, then the grammar and UTF-8 without building a tree), so that
// reading values by their text afterwards needs no more checks.
Result<Members, RequestError> parse_object(std::string_view text) {
  if (json_nesting_exceeds(text, max_payload_depth)) {
    return payload_error(fmt::format("the payload nests deeper than {} levels", max_payload_depth));
  }
  if (!valid_json(text)) {
    // Parsed again only to say where: the mistake is the caller's, and rare.
    try {
      [[maybe_unused]] const json again = json::parse(text);
    } catch (const json::parse_error& e) {
      return payload_error("the payload is not valid JSON",
                           line_column(text, static_cast<std::uint32_t>(std::min<std::size_t>(
                                                 e.byte > 0 ? e.byte - 1 : 0, text.size()))));
    } catch (...) {
    }
    return payload_error("the payload is not valid JSON");
  }
  const Raw body = text.substr(skip_space(text, 0));
  if (kind_of(body) != Kind::object) {
    return payload_error(fmt::format("the payload must be a JSON object, found {}",
                                     found(body.substr(0, skip_value(body, 0)))));
  }
  return members(body);
}

// The evaluation the payload's own subject, action, resource and context make.
Parts top_level(const Members& body) {
  return {{member(body, "subject"), "subject"},
          {member(body, "action"), "action"},
          {member(body, "resource"), "resource"},
          {member(body, "context"), "context"}};
}

// Reads `options.evaluations_semantic`; absent is execute_all.
Result<Semantic, RequestError> semantic_of(std::string_view text, const Members& body) {
  const Raw options = member(body, "options");
  if (options.empty() || kind_of(options) == Kind::null) return Semantic::execute_all;
  if (kind_of(options) != Kind::object) {
    return fail_at(text, "options", "",
                   fmt::format("expected an object, found {}", found(options)));
  }
  const Raw given = member(members(options), "evaluations_semantic");
  if (given.empty() || kind_of(given) == Kind::null) return Semantic::execute_all;
  for (const Semantic s :
       {Semantic::execute_all, Semantic::deny_on_first_deny, Semantic::permit_on_first_permit}) {
    if (given.size() == to_string(s).size() + 2 &&
        given.substr(1, given.size() - 2) == to_string(s)) {
      return s;
    }
  }
  return fail_at(text, "options.evaluations_semantic", std::string(given),
                 fmt::format("unknown semantic {}; expected execute_all, deny_on_first_deny or "
                             "permit_on_first_permit",
                             given));
}

// Appends `"error":{field, name, message, position}` after a comma.
void append_error(std::string& out, const RequestError& e) {
  if (out.back() != '{') out += ',';
  out += R"("error":{"field":)";
  append_json_string(out, e.field);
  out += R"(,"name":)";
  append_json_string(out, e.name);
  out += R"(,"message":)";
  append_json_string(out, e.message);
  if (e.position) {
    out += fmt::format(R"(,"position":{{"line":{},"column":{}}})", e.position->line,
                       e.position->column);
  }
  out += '}';
}

// Which page of a search is asked for.
struct Page {
  std::size_t offset = 0;
  std::size_t limit = 0;
  bool given = false;  // the request has a `page` object
};

// What a page token is bound to: the search, the request without its `page`, and the
// policy, so that a token is refused for another request or after a reload.
std::string request_digest(const Members& body, std::string_view policy_hash, SearchKind kind) {
  std::string all(policy_hash);
  all += '\n';
  all += to_string(kind);
  for (const auto& [key, value] : body) {
    if (key == "page") continue;
    all += '\n';
    all += key;
    all += '=';
    all += value;
  }
  return detail::sha256_hex(all).substr(0, 32);
}

constexpr std::string_view base64url_digits =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// A page token: the offset of the next page and the request's digest, base64url without
// padding. Opaque to the caller.
std::string page_token(std::size_t offset, std::string_view digest) {
  const std::string plain = fmt::format("{}.{}", offset, digest);
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (const char c : plain) {
    bits = (bits << 8) | static_cast<unsigned char>(c);
    held += 8;
    while (held >= 6) {
      held -= 6;
      out += base64url_digits[(bits >> held) & 63U];
    }
  }
  if (held > 0) out += base64url_digits[(bits << (6 - held)) & 63U];
  return out;
}

// The offset a page token gives, when it is one of ours for this digest.
std::optional<std::size_t> token_offset(std::string_view token, std::string_view digest) {
  std::string plain;
  std::uint32_t bits = 0;
  int held = 0;
  for (const char c : token) {
    const std::size_t d = base64url_digits.find(c);
    if (d == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(d);
    held += 6;
    if (held >= 8) {
      held -= 8;
      plain += static_cast<char>((bits >> held) & 0xffU);
    }
  }
  const std::size_t dot = plain.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 18 || plain.substr(dot + 1) != digest) {
    return std::nullopt;
  }
  std::size_t offset = 0;
  for (std::size_t i = 0; i < dot; ++i) {
    if (plain[i] < '0' || plain[i] > '9') return std::nullopt;
    offset = offset * 10 + static_cast<std::size_t>(plain[i] - '0');
  }
  // Only the token as written: the last digit's spare bits are not free to change.
  if (page_token(offset, digest) != token) return std::nullopt;
  return offset;
}

// Reads `page`: `limit` (1 up to `max_page`, which is also the default) and `token`.
Result<Page, RequestError> page_of(std::string_view text, const Members& body, std::size_t max_page,
                                   std::string_view digest) {
  Page out;
  out.limit = max_page;
  const Raw page = member(body, "page");
  if (page.empty() || kind_of(page) == Kind::null) return out;
  if (kind_of(page) != Kind::object) {
    return fail_at(text, "page", "", fmt::format("expected an object, found {}", found(page)));
  }
  out.given = true;
  const Members fields = members(page);
  if (const Raw limit = member(fields, "limit"); !limit.empty() && kind_of(limit) != Kind::null) {
    const bool whole = kind_of(limit) == Kind::number &&
                       limit.find_first_not_of("0123456789") == std::string_view::npos;
    if (!whole || limit.find_first_not_of('0') == std::string_view::npos) {
      return fail_at(text, "page.limit", std::string(limit),
                     fmt::format("expected a whole number of at least 1, found {}", found(limit)));
    }
    // Past the maximum, the maximum: the spec lets a page hold fewer than asked.
    if (limit.size() <= 9) {
      std::size_t n = 0;
      for (const char c : limit)
        n = n * 10 + static_cast<std::size_t>(c - '0');
      out.limit = std::min(n, max_page);
    }
  }
  if (const Raw token = member(fields, "token"); !token.empty() && kind_of(token) != Kind::null) {
    if (kind_of(token) != Kind::string) {
      return fail_at(text, "page.token", "",
                     fmt::format("expected a string, found {}", found(token)));
    }
    const std::string_view given = token.substr(1, token.size() - 2);
    if (!given.empty()) {
      const auto offset = token_offset(given, digest);
      if (!offset) {
        return fail_at(text, "page.token", std::string(given),
                       "the page token was not given for this request and policy: send the "
                       "request of the first page unchanged, or start again without a token");
      }
      out.offset = *offset;
    }
  }
  return out;
}

}  // namespace

Result<std::string, RequestError> Evaluator::clause_request(std::string_view text) const {
  try {
    auto body = parse_object(text);
    if (!body) return Failure{body.error()};
    return Reader{text, declared_}.clause_request(top_level(*body));
  } catch (const std::exception& e) {
    return payload_error(fmt::format("cannot read the payload: {}", e.what()));
  }
}

Result<Evaluation, RequestError> Evaluator::evaluate(std::string_view text) const {
  auto all = evaluate_all(text, 0);
  if (!all) return Failure{all.error()};
  return std::move(all->items.front());
}

Result<Evaluations, RequestError> Evaluator::evaluate_all(std::string_view text,
                                                          std::size_t max_batch) const {
  try {
    auto body = parse_object(text);
    if (!body) return Failure{body.error()};
    const Reader reader{text, declared_};
    const Parts defaults = top_level(*body);
    Evaluations out;
    // The single evaluation endpoint reads no batch: `evaluations` and `options` are
    // unknown fields there, and ignored.
    const Raw items = max_batch == 0 ? Raw{} : member(*body, "evaluations");
    if (!items.empty() && kind_of(items) != Kind::null && kind_of(items) != Kind::array) {
      return fail_at(text, "evaluations", "",
                     fmt::format("expected an array, found {}", found(items)));
    }
    if (max_batch > 0) {
      auto semantic = semantic_of(text, *body);
      if (!semantic) return Failure{semantic.error()};
      out.semantic = *semantic;
    }
    const std::vector<Raw> list =
        kind_of(items) == Kind::array ? elements(items) : std::vector<Raw>{};
    if (list.empty()) {
      // No items: the payload is one evaluation, answered as one decision.
      out.single = true;
      // The shape of the one evaluation is the payload's: its mistakes are the caller's.
      auto request = reader.clause_request(defaults);
      if (!request) return Failure{request.error()};
      out.items.push_back(reader.decide(policy_, defaults, std::move(*request)));
      return out;
    }
    if (list.size() > max_batch) {
      return fail_at(text, "evaluations", "",
                     fmt::format("a batch holds at most {} evaluations; this one has {}", max_batch,
                                 list.size()));
    }
    out.items.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      const int index = static_cast<int>(i);
      if (kind_of(list[i]) == Kind::object) {
        Parts parts = defaults;
        const Members given = members(list[i]);
        for (Part* part : {&parts.subject, &parts.action, &parts.resource, &parts.context}) {
          if (const Raw value = member(given, part->key); !value.empty()) {
            *part = {value, part->key, index};
          }
        }
        out.items.push_back(reader.evaluate(policy_, parts));
      } else {
        out.items.push_back(Reader::refused(
            policy_, error_at(text, fmt::format("evaluations[{}]", i), "",
                              fmt::format("expected an object, found {}", found(list[i])))));
      }
      const bool allowed = out.items.back().decision.effect == Effect::allow;
      if ((out.semantic == Semantic::deny_on_first_deny && !allowed) ||
          (out.semantic == Semantic::permit_on_first_permit && allowed)) {
        break;
      }
    }
    return out;
  } catch (const std::exception& e) {
    return payload_error(fmt::format("cannot read the payload: {}", e.what()));
  }
}

void append_json(std::string& out, const Evaluation& evaluation, bool with_context) {
  const Decision& d = evaluation.decision;
  out += d.effect == Effect::allow ? R"({"decision":true)" : R"({"decision":false)";
  if (!with_context) {
    out += '}';
    return;
  }
  out += R"(,"context":{"effect":)";
  append_json_string(out, to_string(d.effect));
  out += R"(,"clause":)";
  append_json_string(out, d.clause);
  if (!d.rule.empty()) {
    out += R"(,"rule":)";
    append_json_string(out, d.rule);
  }
  out += R"(,"reason":)";
  append_json_string(out, d.reason);
  if (d.effect == Effect::require_consent) {
    out += R"(,"consent":)";
    append_json_string(out, d.consent);
  }
  out += R"(,"obligations":[)";
  for (std::size_t i = 0; i < d.obligations.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, d.obligations[i]);
  }
  out += R"(],"policy":{"version":)";
  append_json_string(out, d.policy_version);
  out += R"(,"hash":)";
  append_json_string(out, d.policy_hash);
  out += '}';
  if (evaluation.error) append_error(out, *evaluation.error);
  out += "}}";
}

std::string_view to_string(SearchKind kind) noexcept {
  switch (kind) {
    case SearchKind::subject:
      return "subject";
    case SearchKind::action:
      return "action";
    case SearchKind::resource:
      break;
  }
  return "resource";
}

Result<Search, RequestError> Evaluator::search(SearchKind kind, std::string_view text,
                                               std::size_t max_page) const {
  try {
    auto body = parse_object(text);
    if (!body) return Failure{body.error()};
    Search out;
    out.kind = kind;
    const std::string digest = request_digest(*body, policy_.content_hash(), kind);
    auto page = page_of(text, *body, std::max<std::size_t>(max_page, 1), digest);
    if (!page) return Failure{page.error()};
    out.paged = page->given;
    Parts parts = top_level(*body);
    Reader reader{text, declared_};
    std::vector<std::uint32_t> allowed;  // by place among the candidates
    std::vector<std::string_view> candidates;
    if (kind == SearchKind::action) {
      for (const auto& action : policy_.checked().actions)
        candidates.push_back(action.name);
      std::string action_text;
      for (std::uint32_t i = 0; i < candidates.size(); ++i) {
        action_text = "{\"name\":";
        append_json_string(action_text, candidates[i]);
        action_text += '}';
        parts.action = Part{action_text, "action"};
        auto request = reader.clause_request(parts);
        if (!request) return Failure{std::move(request.error())};
        auto resolved = policy_.decode(*request);
        if (!resolved) {
          // Every action is declared: the rest of the request is what cannot be decided.
          out.error = reader.named(std::move(resolved.error()), parts);
          allowed.clear();
          break;
        }
        ++out.decided;
        if (policy_.decide(*resolved).effect == Effect::allow) allowed.push_back(i);
      }
    } else {
      const bool subject = kind == SearchKind::subject;
      const std::string_view field = subject ? "requester.id" : "data.id";
      const Part& part = subject ? parts.subject : parts.resource;
      const auto documents = policy_.documents_keyed_by(field);
      if (documents.empty()) {
        return fail_at(text, part.path(), "",
                       fmt::format("the policy declares no document keyed by `{}`: there are no "
                                   "{}s to search",
                                   field, to_string(kind)));
      }
      for (const std::string_view document : documents) {
        const auto keys = policy_.document_keys(document);
        candidates.insert(candidates.end(), keys.begin(), keys.end());
      }
      if (documents.size() > 1) {
        std::sort(candidates.begin(), candidates.end());
        candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
      }
      // The base request is checked and decoded once, completed with the first candidate;
      // each candidate then changes only its key and the attributes looked up by it.
      std::string first;
      append_json_string(first, candidates.empty() ? std::string_view{} : candidates.front());
      (subject ? reader.subject_id : reader.resource_id) = first;
      auto request = reader.clause_request(parts);
      if (!request) return Failure{std::move(request.error())};
      out.type = member(members(part.value), "type");
      auto resolved = candidates.empty() ? Result<ResolvedRequest, RequestError>{ResolvedRequest{}}
                                         : policy_.decode(*request);
      if (!resolved) {
        out.error = reader.named(std::move(resolved.error()), parts);
        candidates.clear();
      }
      ResolvedRequest work = candidates.empty() ? ResolvedRequest{} : *resolved;
      for (std::uint32_t i = 0; i < candidates.size(); ++i) {
        if (policy_.rekey(work, field, candidates[i])) {
          work = *resolved;  // a key another document lacks: denied, and the request restored
          continue;
        }
        ++out.decided;
        if (policy_.decide(work).effect == Effect::allow) allowed.push_back(i);
      }
    }
    out.total = allowed.size();
    const std::size_t begin = std::min(page->offset, allowed.size());
    const std::size_t end = std::min(begin + page->limit, allowed.size());
    out.ids.reserve(end - begin);
    for (std::size_t i = begin; i < end; ++i)
      out.ids.emplace_back(candidates[allowed[i]]);
    if (end < allowed.size()) {
      out.paged = true;
      out.next_token = page_token(end, digest);
    }
    return out;
  } catch (const std::exception& e) {
    return payload_error(fmt::format("cannot read the payload: {}", e.what()));
  }
}

void append_json(std::string& out, const Search& search, bool with_context) {
  out += '{';
  if (search.paged) {
    out += R"("page":{"next_token":)";
    append_json_string(out, search.next_token);
    out += fmt::format(R"(,"count":{},"total":{}}},)", search.ids.size(), search.total);
  }
  out += R"("results":[)";
  for (std::size_t i = 0; i < search.ids.size(); ++i) {
    if (i > 0) out += ',';
    if (search.kind == SearchKind::action) {
      out += R"({"name":)";
    } else {
      out += R"({"type":)";
      out += search.type;
      out += R"(,"id":)";
    }
    append_json_string(out, search.ids[i]);
    out += '}';
  }
  out += ']';
  if (with_context && search.error) {
    out += R"(,"context":{)";
    append_error(out, *search.error);
    out += '}';
  }
  out += '}';
}

}  // namespace clause::authzen
