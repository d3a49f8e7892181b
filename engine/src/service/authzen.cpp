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

// What a JSON value is, as an error says it was found: "the number 12", "an object".
std::string found(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return fmt::format("the string {}", value.dump());
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    default:
      return fmt::format("the number {}", value.dump());
  }
}

// Where one part of an evaluation came from: the item, or the batch's default.
struct Part {
  const json* value = nullptr;
  std::string path;  // `subject`, or `evaluations[2].subject`
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
  const auto rest = [&](std::size_t n) { return field.substr(n); };
  const auto with = [](const std::string& prefix, std::string_view suffix) {
    return prefix + std::string(suffix);
  };
  if (field == "requester.kind") return parts.subject.path + ".type";
  if (field == "requester.id") return parts.subject.path + ".id";
  if (field.starts_with("requester.")) return with(parts.subject.path + ".properties.", rest(10));
  if (field == "data.category") return parts.resource.path + ".type";
  if (field == "data.id") return parts.resource.path + ".id";
  if (field.starts_with("data.")) return with(parts.resource.path + ".properties.", rest(5));
  if (field == "action") return parts.action.path + ".name";
  if (field.starts_with("context")) return with(parts.context.path, rest(7));
  if (field == "requester") return parts.subject.path;
  if (field == "data") return parts.resource.path;
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

  // An entity (subject or resource) as the text of a clause object: `kind_key` from
  // `type`, `id` and the declared properties, in that order.
  Result<std::string, RequestError> entity(const Part& part, std::string_view kind_key,
                                           const std::vector<std::string>& attributes,
                                           bool id_declared, bool id_string) const {
    if (part.value == nullptr) {
      return fail_at(text, part.path, "", fmt::format("missing {}", part.path));
    }
    const json& e = *part.value;
    if (!e.is_object()) {
      return fail_at(text, part.path, "", fmt::format("expected an object, found {}", found(e)));
    }
    const auto type = e.find("type");
    if (type == e.end()) return fail_at(text, part.path + ".type", "", "missing type");
    if (!type->is_string()) {
      return fail_at(text, part.path + ".type", "",
                     fmt::format("expected a string, found {}", found(*type)));
    }
    std::string out = fmt::format("{{\"{}\":", kind_key);
    append(out, *type);
    if (const auto id = e.find("id"); id != e.end() && !id->is_null()) {
      if (!id->is_string() && !id->is_number()) {
        return fail_at(text, part.path + ".id", "",
                       fmt::format("expected a string, found {}", found(*id)));
      }
      out += ",\"id\":";
      // A number is the text of the id when the policy reads the id as a string.
      append(out, id->is_number() && id_declared && id_string ? json(id->dump()) : *id);
    }
    if (const auto props = e.find("properties"); props != e.end() && !props->is_null()) {
      if (!props->is_object()) {
        return fail_at(text, part.path + ".properties", "",
                       fmt::format("expected an object, found {}", found(*props)));
      }
      // Only what the policy declares: a PEP sends what it has.
      for (const auto& name : attributes) {
        if (const auto p = props->find(name); p != props->end()) {
          out += ",\"" + name + "\":";
          append(out, *p);
        }
      }
    }
    out += '}';
    return out;
  }

  static void append(std::string& out, const json& value) {
    out += value.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  Result<std::string, RequestError> clause_request(const Parts& parts) const {
    auto requester = entity(parts.subject, "kind", declared.requester_attributes,
                            declared.requester_id, declared.requester_id_string);
    if (!requester) return Failure{requester.error()};
    auto data = entity(parts.resource, "category", declared.data_attributes, declared.data_id,
                       declared.data_id_string);
    if (!data) return Failure{data.error()};
    if (parts.action.value == nullptr) {
      return fail_at(text, parts.action.path, "", "missing action");
    }
    const json& action = *parts.action.value;
    if (!action.is_object()) {
      return fail_at(text, parts.action.path, "",
                     fmt::format("expected an object, found {}", found(action)));
    }
    const auto name = action.find("name");
    if (name == action.end()) return fail_at(text, parts.action.path + ".name", "", "missing name");
    if (!name->is_string()) {
      return fail_at(text, parts.action.path + ".name", "",
                     fmt::format("expected a string, found {}", found(*name)));
    }
    std::string out = "{\"requester\":" + *requester + ",\"data\":" + *data + ",\"action\":";
    append(out, *name);
    if (parts.context.value != nullptr && !parts.context.value->is_null()) {
      if (!parts.context.value->is_object()) {
        return fail_at(text, parts.context.path, "",
                       fmt::format("expected an object, found {}", found(*parts.context.value)));
      }
      out += ",\"context\":";
      append(out, *parts.context.value);
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
    RequestError& e = resolved.error();
    return refused(policy, error_at(text, authzen_field(e.field, parts), std::move(e.name),
                                    std::move(e.message)));
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

// Parses a payload that must be one JSON object.
Result<json, RequestError> parse_object(std::string_view text) {
  if (json_nesting_exceeds(text, max_payload_depth)) {
    return payload_error(fmt::format("the payload nests deeper than {} levels", max_payload_depth));
  }
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) {
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
  if (!body.is_object()) {
    return payload_error(fmt::format("the payload must be a JSON object, found {}", found(body)));
  }
  return body;
}

const json* member(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// The evaluation the payload's own subject, action, resource and context make.
Parts top_level(const json& body) {
  return {{member(body, "subject"), "subject"},
          {member(body, "action"), "action"},
          {member(body, "resource"), "resource"},
          {member(body, "context"), "context"}};
}

}  // namespace

Result<std::string, RequestError> Evaluator::clause_request(std::string_view text) const {
  try {
    auto body = parse_object(text);
    if (!body) return Failure{body.error()};
    const Reader reader{text, declared_};
    const Parts parts = top_level(*body);
    return reader.clause_request(parts);
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
    const json* items = max_batch == 0 ? nullptr : member(*body, "evaluations");
    if (items != nullptr && !items->is_null() && !items->is_array()) {
      return fail_at(text, "evaluations", "",
                     fmt::format("expected an array, found {}", found(*items)));
    }
    if (const json* options = max_batch == 0 ? nullptr : member(*body, "options");
        options != nullptr && !options->is_null()) {
      if (!options->is_object()) {
        return fail_at(text, "options", "",
                       fmt::format("expected an object, found {}", found(*options)));
      }
      if (const json* semantic = member(*options, "evaluations_semantic");
          semantic != nullptr && !semantic->is_null()) {
        const std::string given = semantic->is_string() ? semantic->get<std::string>() : "";
        bool known = false;
        for (const Semantic s : {Semantic::execute_all, Semantic::deny_on_first_deny,
                                 Semantic::permit_on_first_permit}) {
          if (semantic->is_string() && given == to_string(s)) {
            out.semantic = s;
            known = true;
          }
        }
        if (!known) {
          return fail_at(text, "options.evaluations_semantic", semantic->dump(),
                         fmt::format("unknown semantic {}; expected execute_all, "
                                     "deny_on_first_deny or permit_on_first_permit",
                                     semantic->dump()));
        }
      }
    }
    if (items == nullptr || items->is_null() || items->empty()) {
      // No items: the payload is one evaluation, answered as one decision.
      out.single = true;
      // The shape of the one evaluation is the payload's: its mistakes are the caller's.
      auto request = reader.clause_request(defaults);
      if (!request) return Failure{request.error()};
      out.items.push_back(reader.decide(policy_, defaults, std::move(*request)));
      return out;
    }
    if (items->size() > max_batch) {
      return fail_at(text, "evaluations", "",
                     fmt::format("a batch holds at most {} evaluations; this one has {}", max_batch,
                                 items->size()));
    }
    out.items.reserve(items->size());
    for (std::size_t i = 0; i < items->size(); ++i) {
      const json& item = (*items)[i];
      Parts parts = defaults;
      const std::string prefix = fmt::format("evaluations[{}]", i);
      if (item.is_object()) {
        const auto take = [&](Part& part, const char* key) {
          if (const json* given = member(item, key)) part = {given, prefix + "." + key};
        };
        take(parts.subject, "subject");
        take(parts.action, "action");
        take(parts.resource, "resource");
        take(parts.context, "context");
        out.items.push_back(reader.evaluate(policy_, parts));
      } else {
        out.items.push_back(Reader::refused(
            policy_,
            error_at(text, prefix, "", fmt::format("expected an object, found {}", found(item)))));
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

namespace {

void append_string(std::string& out, std::string_view s) {
  out += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

void append_json(std::string& out, const Evaluation& evaluation, bool with_context) {
  const Decision& d = evaluation.decision;
  out += d.effect == Effect::allow ? R"({"decision":true)" : R"({"decision":false)";
  if (!with_context) {
    out += '}';
    return;
  }
  out += R"(,"context":{"effect":)";
  append_string(out, to_string(d.effect));
  out += R"(,"clause":)";
  append_string(out, d.clause);
  if (!d.rule.empty()) {
    out += R"(,"rule":)";
    append_string(out, d.rule);
  }
  out += R"(,"reason":)";
  append_string(out, d.reason);
  if (d.effect == Effect::require_consent) {
    out += R"(,"consent":)";
    append_string(out, d.consent);
  }
  out += R"(,"obligations":[)";
  for (std::size_t i = 0; i < d.obligations.size(); ++i) {
    if (i > 0) out += ',';
    append_string(out, d.obligations[i]);
  }
  out += R"(],"policy":{"version":)";
  append_string(out, d.policy_version);
  out += R"(,"hash":)";
  append_string(out, d.policy_hash);
  out += '}';
  if (evaluation.error) {
    const RequestError& e = *evaluation.error;
    out += R"(,"error":{"field":)";
    append_string(out, e.field);
    out += R"(,"name":)";
    append_string(out, e.name);
    out += R"(,"message":)";
    append_string(out, e.message);
    if (e.position) {
      out += fmt::format(R"(,"position":{{"line":{},"column":{}}})", e.position->line,
                         e.position->column);
    }
    out += '}';
  }
  out += "}}";
}

}  // namespace clause::authzen
