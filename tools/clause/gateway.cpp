// The gateway mapping (reading and checking it, applying it to an original request) and
// the routes nginx's auth_request and Envoy's ext_authz call. Every failure to map a
// request is a denial (403) that names why: a gateway must fail closed, and a 500 would
// make nginx answer 500 to the client.
#include "gateway.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>

#include "clause/dsl/check.hpp"
#include "clause/json.hpp"

namespace clause::cli::gateway {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_mapping_bytes = 1 << 20;
constexpr std::size_t max_mapping_depth = 32;
constexpr std::string_view envoy_prefix = "/v1/gateway/envoy";
// The fields every request needs (docs/requests.md).
constexpr std::array<std::string_view, 3> required = {"data.category", "requester.kind", "action"};

// Where each key and value of a JSON text stands, by the path errors name it with:
// `routes[0].methods.GET["action"]`. The text is valid JSON (parsed before) and nests
// at most max_mapping_depth deep.
class Places {
 public:
  explicit Places(std::string_view text) : text_(text) {
    std::size_t i = 0;
    value(i, "");
  }
  // The offset of the value at `path` (or of its key): 0 when unknown.
  [[nodiscard]] std::size_t at(const std::string& path, bool key) const {
    const auto& places = key ? keys_ : values_;
    const auto found = places.find(path);
    return found == places.end() ? 0 : found->second;
  }

 private:
  void space(std::size_t& i) const {
    while (i < text_.size() &&
           (text_[i] == ' ' || text_[i] == '\n' || text_[i] == '\r' || text_[i] == '\t'))
      ++i;
  }
  void value(std::size_t& i, const std::string& path) {
    space(i);
    values_[path] = i;
    if (i >= text_.size()) return;
    const char open = text_[i];
    if (open == '"') {
      i = std::min(json_string_end(text_, i), text_.size());
      return;
    }
    if (open != '{' && open != '[') {
      while (i < text_.size() && std::string_view(",]} \t\r\n").find(text_[i]) == npos)
        ++i;
      return;
    }
    ++i;
    for (std::size_t index = 0;; ++index) {
      space(i);
      if (i >= text_.size()) return;
      if (text_[i] == '}' || text_[i] == ']') {
        ++i;
        return;
      }
      std::string child;
      if (open == '{') {
        const std::size_t key_at = i;
        const std::size_t end = std::min(json_string_end(text_, i), text_.size());
        child = path + member(json::parse(text_.substr(i, end - i)).get<std::string>());
        keys_[child] = key_at;
        i = end;
        space(i);
        ++i;  // ':'
      } else {
        child = fmt::format("{}[{}]", path, index);
      }
      value(i, child);
      space(i);
      if (i < text_.size() && text_[i] == ',') ++i;
    }
  }

  static constexpr std::size_t npos = std::string_view::npos;
  std::string_view text_;
  std::map<std::string, std::size_t> keys_;
  std::map<std::string, std::size_t> values_;

 public:
  // A key as a path names it: `.name` when it is a plain word, `["a.b"]` otherwise.
  static std::string member(const std::string& key) {
    const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    return plain ? "." + key : "[" + json(key).dump() + "]";
  }
};

struct Problem {
  std::string path;
  bool key = false;
  std::string message;
};

std::string did_you_mean(std::string_view word, const std::vector<std::string>& names) {
  const std::vector<std::string_view> views(names.begin(), names.end());
  const std::string guess = dsl::closest_name(word, views);
  return guess.empty() ? "" : fmt::format("; did you mean `{}`?", guess);
}

// The fields a request of this policy has (docs/requests.md), with what each may hold.
std::map<std::string, Field, std::less<>> policy_fields(const dsl::CheckedPolicy& c) {
  const auto names = [](const std::vector<dsl::Term>& terms) {
    std::vector<std::string> out;
    for (const dsl::Term& t : terms)
      out.push_back(t.name);
    return out;
  };
  std::map<std::string, Field, std::less<>> out;
  const auto add = [&out](Field f) { out.emplace(f.path, std::move(f)); };
  add({"data.category", Shape::text, names(c.data), "a data category"});
  add({"data.id", Shape::text, {}, "an id"});
  add({"requester.kind", Shape::text, names(c.requesters), "a requester kind"});
  add({"requester.id", Shape::text, {}, "an id"});
  add({"action", Shape::text, names(c.actions), "an action"});
  add({"context.purpose", Shape::text, names(c.purposes), "a purpose"});
  add({"context.consent", Shape::list, names(c.consents), "a consent"});
  for (const dsl::Term& fact : c.facts)
    add({"context." + fact.name, Shape::boolean, {}, "true or false"});
  for (const dsl::AttributeInfo& a : c.attributes) {
    if (a.lookup) continue;  // read from a document, not given by requests
    Shape shape = Shape::text;
    if (a.type == AttrType::boolean) shape = Shape::boolean;
    if (a.type == AttrType::integer) shape = Shape::integer;
    if (a.type == AttrType::string_list) shape = Shape::list;
    add({a.path, shape, a.members,
         a.members.empty() ? std::string(to_string(a.type)) : "a name of " + a.name_set});
  }
  return out;
}

// Checks a constant against what its field may hold.
std::optional<std::string> bad_constant(const Field& field, const json& value) {
  const auto name_ok = [&](const json& v) -> std::optional<std::string> {
    if (!v.is_string()) return fmt::format("`{}` takes {} (a string)", field.path, field.noun);
    const std::string text = v.get<std::string>();
    if (field.names.empty() ||
        std::find(field.names.begin(), field.names.end(), text) != field.names.end()) {
      return std::nullopt;
    }
    return fmt::format("`{}` is not {} of the policy{}", text, field.noun,
                       did_you_mean(text, field.names));
  };
  switch (field.shape) {
    case Shape::boolean:
      if (value.is_boolean()) return std::nullopt;
      return fmt::format("`{}` takes true or false", field.path);
    case Shape::integer:
      if (value.is_number_integer()) return std::nullopt;
      return fmt::format("`{}` takes an integer", field.path);
    case Shape::list:
      if (!value.is_array()) return fmt::format("`{}` takes an array of strings", field.path);
      for (const json& v : value) {
        if (auto bad = name_ok(v)) return bad;
      }
      return std::nullopt;
    case Shape::text:
      if (field.path.ends_with(".id") && (value.is_number() || value.is_null())) {
        return std::nullopt;
      }
      return name_ok(value);
  }
  return std::nullopt;
}

class Reader {
 public:
  Reader(const Policy& policy, const json& doc) : doc_(doc) {
    mapping_.fields = policy_fields(policy.checked());
  }

  Result<Mapping, Problem> read() {
    if (!doc_.is_object()) return Failure{problem("", false, "a gateway mapping is a JSON object")};
    for (const auto& [key, value] : doc_.items()) {
      static const std::set<std::string> known = {"schema_version", "consent_status", "headers",
                                                  "constants", "routes"};
      if (!known.contains(key)) {
        const std::vector<std::string> names(known.begin(), known.end());
        return Failure{problem(Places::member(key), true,
                               fmt::format("unknown key `{}`{}", key, did_you_mean(key, names)))};
      }
    }
    const auto version = doc_.find("schema_version");
    if (version == doc_.end() || *version != 1) {
      return Failure{problem(".schema_version", false, "schema_version must be 1")};
    }
    if (const auto status = doc_.find("consent_status"); status != doc_.end()) {
      if (*status != 401 && *status != 403) {
        return Failure{problem(".consent_status", false, "consent_status is 401 or 403")};
      }
      mapping_.consent_status = status->get<int>();
    }
    if (auto bad = read_headers()) return Failure{std::move(*bad)};
    if (auto bad = read_constants(doc_, "", mapping_.constants)) return Failure{std::move(*bad)};
    const auto routes = doc_.find("routes");
    if (routes == doc_.end() || !routes->is_array() || routes->empty()) {
      return Failure{problem(".routes", false, "routes is a non-empty array of path templates")};
    }
    for (std::size_t i = 0; i < routes->size(); ++i) {
      if (auto bad = read_route((*routes)[i], fmt::format(".routes[{}]", i))) {
        return Failure{std::move(*bad)};
      }
    }
    return std::move(mapping_);
  }

 private:
  static Problem problem(std::string path, bool key, std::string message) {
    return Problem{std::move(path), key, std::move(message)};
  }

  // A field's name checked against the policy's.
  std::optional<Problem> bad_field(const std::string& field, const std::string& path, bool key) {
    if (mapping_.fields.contains(field)) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& [name, f] : mapping_.fields)
      names.push_back(name);
    return problem(path, key,
                   fmt::format("`{}` is not a request field of the policy{}", field,
                               did_you_mean(field, names)));
  }

  std::optional<Problem> read_headers() {
    const auto headers = doc_.find("headers");
    if (headers == doc_.end()) return std::nullopt;
    if (!headers->is_object())
      return problem(".headers", false, "headers maps header names to fields");
    for (const auto& [name, field] : headers->items()) {
      const std::string at = ".headers" + Places::member(name);
      if (!field.is_string()) return problem(at, false, "a header names a field (a string)");
      if (auto bad = bad_field(field.get<std::string>(), at, false)) return bad;
      mapping_.headers.emplace_back(name, field.get<std::string>());
    }
    return std::nullopt;
  }

  std::optional<Problem> read_constants(const json& owner, const std::string& at,
                                        std::map<std::string, json, std::less<>>& out) {
    const auto constants = owner.find("constants");
    if (constants == owner.end()) return std::nullopt;
    if (!constants->is_object()) {
      return problem(at + ".constants", false, "constants maps fields to values");
    }
    return read_bindings(*constants, at + ".constants", out);
  }

  std::optional<Problem> read_bindings(const json& object, const std::string& at,
                                       std::map<std::string, json, std::less<>>& out) {
    for (const auto& [field, value] : object.items()) {
      const std::string path = at + Places::member(field);
      if (auto bad = bad_field(field, path, true)) return bad;
      if (auto bad = bad_constant(mapping_.fields.at(field), value))
        return problem(path, false, *bad);
      out.emplace(field, value);
    }
    return std::nullopt;
  }

  std::optional<Problem> read_route(const json& entry, const std::string& at) {
    if (!entry.is_object()) return problem(at, false, "a route is an object with a path");
    for (const auto& [key, value] : entry.items()) {
      static const std::vector<std::string> known = {"path", "methods", "constants"};
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return problem(at + Places::member(key), true,
                       fmt::format("unknown key `{}`{}", key, did_you_mean(key, known)));
      }
    }
    Route route;
    const auto path = entry.find("path");
    if (path == entry.end() || !path->is_string() || !path->get<std::string>().starts_with('/')) {
      return problem(at + ".path", false, "a route's path is a template such as \"/records/{id}\"");
    }
    route.path = path->get<std::string>();
    // Which fields this route binds, and where: each from one place only.
    std::map<std::string, std::string> bound;
    const auto bind = [&](const std::string& field, const std::string& where,
                          const std::string& place, bool key) -> std::optional<Problem> {
      const auto [it, fresh] = bound.emplace(field, where);
      if (fresh || it->second == where) return std::nullopt;
      return problem(place, key,
                     fmt::format("`{}` is bound twice: by {} and by {}", field, it->second, where));
    };
    for (const auto& [header, field] : mapping_.headers) {
      if (auto bad =
              bind(field, "the header " + header, ".headers" + Places::member(header), false)) {
        return bad;
      }
    }
    for (const auto& [field, value] : mapping_.constants) {
      if (auto bad = bind(field, "the constants", ".constants" + Places::member(field), true)) {
        return bad;
      }
    }
    std::string_view rest = route.path;
    rest.remove_prefix(1);
    for (;;) {
      const std::size_t slash = rest.find('/');
      std::string segment(rest.substr(0, slash));
      if (segment.size() >= 2 && segment.front() == '{' && segment.back() == '}') {
        std::string field = segment.substr(1, segment.size() - 2);
        if (field.find('.') == std::string::npos && field != "action") field = "data." + field;
        if (auto bad = bad_field(field, at + ".path", false)) return bad;
        if (auto bad = bind(field, "the path", at + ".path", false)) return bad;
        segment = "{" + field + "}";
      } else if (segment.find_first_of("{}") != std::string::npos) {
        return problem(at + ".path", false,
                       fmt::format("`{}`: a variable is a whole segment, such as {{id}}", segment));
      }
      route.segments.push_back(std::move(segment));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (const auto methods = entry.find("methods"); methods != entry.end()) {
      if (!methods->is_object()) {
        return problem(at + ".methods", false, "methods maps HTTP methods to fields and values");
      }
      for (const auto& [method, fields] : methods->items()) {
        const std::string place = at + ".methods" + Places::member(method);
        if (method.empty() || !std::all_of(method.begin(), method.end(), [](char c) {
              return std::isupper(static_cast<unsigned char>(c));
            })) {
          return problem(place, true,
                         fmt::format("`{}` is not an HTTP method (GET, POST, ...)", method));
        }
        if (!fields.is_object()) return problem(place, false, "a method maps fields to values");
        auto& out = route.methods[method];
        if (auto bad = read_bindings(fields, place, out)) return bad;
        for (const auto& [field, value] : out) {
          if (auto bad = bind(field, "the methods", place + Places::member(field), true))
            return bad;
        }
      }
    }
    if (auto bad = read_constants(entry, at, route.constants)) return bad;
    for (const auto& [field, value] : route.constants) {
      if (auto bad = bind(field, "the route's constants", at + ".constants" + Places::member(field),
                          true)) {
        return bad;
      }
    }
    for (const std::string_view field : required) {
      if (!bound.contains(std::string(field))) {
        return problem(at, false,
                       fmt::format("nothing gives `{}`: bind it in the path, a header, the methods "
                                   "or the constants",
                                   field));
      }
    }
    mapping_.routes.push_back(std::move(route));
    return std::nullopt;
  }

  const json& doc_;
  Mapping mapping_;
};

std::string place_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("{}:{}", line, column);
}

// A path segment with its %XX escapes decoded; empty when an escape is broken.
std::optional<std::string> decode_segment(std::string_view segment) {
  std::string out;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') {
      out += segment[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= segment.size()) return std::nullopt;
    const auto [end, ec] =
        std::from_chars(segment.data() + i + 1, segment.data() + i + 3, value, 16);
    if (ec != std::errc() || end != segment.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

// A field's value from the text of a path segment or a header.
Result<json, std::string> value_of(const Field& field, std::string_view text,
                                   std::string_view source) {
  switch (field.shape) {
    case Shape::text:
      return json(std::string(text));
    case Shape::list: {
      json list = json::array();
      std::size_t start = 0;
      while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        std::string_view item = text.substr(start, comma - start);
        while (!item.empty() && item.front() == ' ')
          item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
          item.remove_suffix(1);
        if (!item.empty()) list.push_back(std::string(item));
        start = comma + 1;
      }
      return list;
    }
    case Shape::boolean:
      if (text == "true") return json(true);
      if (text == "false") return json(false);
      break;
    case Shape::integer: {
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return json(n);
      break;
    }
  }
  return Failure{fmt::format("{} gives `{}` the value `{}`; it takes {}", source, field.path, text,
                             field.shape == Shape::boolean ? "true or false" : "an integer")};
}

void set_field(json& request, std::string_view path, json value) {
  const std::size_t dot = path.find('.');
  if (dot == std::string_view::npos) {
    request[std::string(path)] = std::move(value);
  } else {
    request[std::string(path.substr(0, dot))][std::string(path.substr(dot + 1))] = std::move(value);
  }
}

// A header's value as a header may carry it: printable ASCII, bounded.
std::string header_text(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 512))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

Decision refusal(const Policy& policy, std::string message) {
  Decision d;
  d.effect = Effect::deny;
  d.error = std::move(message);
  d.reason = "the request could not be mapped to a clause request";
  d.policy_version = policy.version();
  d.policy_hash = policy.content_hash();
  d.policy = policy;
  return d;
}

// Decides one original request and answers it; nothing escapes as an exception.
// `missing` names a header the gateway should have sent, when it did not.
http::Response decide(const MappingSource& mappings, const Decider& decider,
                      std::string_view method, std::string_view target, const http::Request& req,
                      std::string_view missing = {}) {
  const auto start = std::chrono::steady_clock::now();
  const Policy policy = decider.policy();
  static const Mapping no_mapping;  // for the answer to a request no mapping could map
  std::shared_ptr<const Mapping> mapping;
  std::string text;
  Decision d;
  try {
    auto built = mappings.for_policy(policy);
    if (built) mapping = std::move(*built);
    auto mapped =
        !built
            ? Result<std::string, std::string>(Failure{
                  policy.content_hash().empty()
                      ? std::string("no policy is in force yet")
                      : "the gateway mapping does not fit the policy in force: " + built.error()})
        : missing.empty()
            ? map_request(*mapping, method, target,
                          [&req](std::string_view name) { return req.header(name); })
            : Result<std::string, std::string>(Failure{
                  fmt::format("the header {} is missing; the gateway's config sets it", missing)});
    if (mapped) {
      text = std::move(*mapped);
      d = policy.evaluate_json(text);
    } else {
      // The log holds what was asked, so that a denial can be traced to its request.
      text =
          json{{"gateway", {{"method", std::string(method)}, {"uri", std::string(target)}}}}.dump(
              -1, ' ', false, json::error_handler_t::replace);
      d = refusal(policy, std::move(mapped.error()));
    }
  } catch (...) {
    d = refusal(policy, "the request could not be mapped");
    text = "{}";
  }
  decider.record(text, d,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return answer(mapping ? *mapping : no_mapping, d);
}

}  // namespace

Result<Mapping, std::string> read_mapping(const Policy& policy, std::string_view file_name,
                                          std::string_view text) noexcept {
  try {
    if (text.size() > max_mapping_bytes) {
      return Failure{fmt::format("{}: error: the mapping is longer than {} bytes", file_name,
                                 max_mapping_bytes)};
    }
    if (json_nesting_exceeds(text, max_mapping_depth)) {
      return Failure{fmt::format("{}: error: the mapping nests deeper than {} levels", file_name,
                                 max_mapping_depth)};
    }
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::parse_error& e) {
      return Failure{
          fmt::format("{}:{}: error: not valid JSON: {}", file_name,
                      place_of(text, e.byte == 0 ? 0 : e.byte - 1),
                      std::string(e.what()).substr(std::string(e.what()).find(':') + 2))};
    }
    auto mapping = Reader(policy, doc).read();
    if (mapping) return std::move(*mapping);
    const Problem& f = mapping.error();
    const Places places(text);
    const std::string where = f.path.empty() ? "" : f.path.substr(f.path[0] == '.' ? 1 : 0) + ": ";
    return Failure{fmt::format("{}:{}: error: {}{}", file_name,
                               place_of(text, places.at(f.path, f.key)), where, f.message)};
  } catch (...) {
    return Failure{fmt::format("{}: error: the mapping could not be read", file_name)};
  }
}

Result<std::string, std::string> map_request(
    const Mapping& mapping, std::string_view method, std::string_view target,
    const std::function<std::optional<std::string_view>(std::string_view)>& header) {
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (!path.starts_with('/')) {
    return Failure{fmt::format("the original URI `{}` is not a path", header_text(target))};
  }
  std::vector<std::string_view> segments;
  for (std::string_view rest = path.substr(1);;) {
    const std::size_t slash = rest.find('/');
    segments.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  // The gateway passes on the path it normalised: a path that normalises to another one
  // (`..`, `.`, an encoded `/`) would be decided as one resource and served as another.
  for (const std::string_view segment : segments) {
    const auto decoded = decode_segment(segment);
    if (!decoded) {
      return Failure{fmt::format("the path `{}` has a broken %-escape", header_text(path))};
    }
    if (*decoded == "." || *decoded == ".." || decoded->find('/') != std::string::npos) {
      return Failure{fmt::format("the path `{}` has a `.` or `..` segment or an encoded `/`",
                                 header_text(path))};
    }
  }
  json request = json::object();
  const Route* matched = nullptr;
  for (const Route& route : mapping.routes) {
    if (route.segments.size() != segments.size()) continue;
    // What this route's path binds; kept only when the whole path fits.
    json bound = json::object();
    bool fits = true;
    for (std::size_t i = 0; i < segments.size() && fits; ++i) {
      const std::string& want = route.segments[i];
      if (!want.starts_with('{')) {
        fits = want == segments[i];
        continue;
      }
      const auto decoded = decode_segment(segments[i]);  // checked above
      const std::string field = want.substr(1, want.size() - 2);
      fits = !decoded->empty();
      if (!fits) break;
      auto value = value_of(mapping.fields.at(field), *decoded, "the path");
      if (!value) return Failure{std::move(value.error())};
      set_field(bound, field, std::move(*value));
    }
    if (!fits) continue;
    request = std::move(bound);
    matched = &route;
    break;
  }
  if (matched == nullptr) {
    return Failure{fmt::format("the path `{}` matches no route of the mapping", header_text(path))};
  }
  if (!matched->methods.empty()) {
    const auto found = matched->methods.find(method);
    if (found == matched->methods.end()) {
      return Failure{
          fmt::format("the method {} is not mapped for {}", header_text(method), matched->path)};
    }
    for (const auto& [field, value] : found->second)
      set_field(request, field, value);
  }
  for (const auto& [name, field] : mapping.headers) {
    const auto given = header(name);
    if (!given) continue;
    auto value = value_of(mapping.fields.at(field), *given, "the header " + name);
    if (!value) return Failure{std::move(value.error())};
    set_field(request, field, std::move(*value));
  }
  for (const auto& constants : {&mapping.constants, &matched->constants}) {
    for (const auto& [field, value] : *constants)
      set_field(request, field, value);
  }
  for (const std::string_view field : required) {
    const std::size_t dot = field.find('.');
    const bool given = dot == std::string_view::npos
                           ? request.contains(std::string(field))
                           : request.contains(std::string(field.substr(0, dot))) &&
                                 request[std::string(field.substr(0, dot))].contains(
                                     std::string(field.substr(dot + 1)));
    if (given) continue;
    for (const auto& [name, bound] : mapping.headers) {
      if (bound == field) {
        return Failure{fmt::format("the header {} is missing; it gives `{}`", name, field)};
      }
    }
    return Failure{
        fmt::format("nothing gives `{}` for {} {}", field, header_text(method), matched->path)};
  }
  if (const auto id = header("X-Request-ID")) request["id"] = std::string(*id);
  return request.dump(-1, ' ', false, json::error_handler_t::replace);
}

http::Response answer(const Mapping& mapping, const Decision& d) {
  http::Response res;
  res.status = d.effect == Effect::allow             ? 200
               : d.effect == Effect::require_consent ? mapping.consent_status
                                                     : 403;
  append_json(res.body, d);
  res.body += '\n';
  res.headers.emplace_back("X-Clause-Decision", std::string(to_string(d.effect)));
  res.headers.emplace_back("X-Clause-Clause", header_text(d.clause));
  if (!d.rule.empty()) res.headers.emplace_back("X-Clause-Rule", header_text(d.rule));
  if (!d.consent.empty()) res.headers.emplace_back("X-Clause-Consent", header_text(d.consent));
  if (!d.error.empty()) res.headers.emplace_back("X-Clause-Error", header_text(d.error));
  res.headers.emplace_back("X-Clause-Policy-Version", header_text(d.policy_version));
  return res;
}

struct MappingSource::Cache {
  std::string file_name;
  std::string text;
  std::mutex mutex;
  std::string key;  // the policy's content hash and its documents' hashes
  Result<std::shared_ptr<const Mapping>, std::string> built{Failure{std::string()}};
};

MappingSource::MappingSource(std::string file_name, std::string text)
    : cache_(std::make_shared<Cache>()) {
  cache_->file_name = std::move(file_name);
  cache_->text = std::move(text);
}

Result<std::shared_ptr<const Mapping>, std::string> MappingSource::for_policy(
    const Policy& policy) const noexcept {
  try {
    std::string key(policy.content_hash());
    for (const DocumentInfo& doc : policy.documents()) {
      key += ' ';
      key += doc.content_hash;
    }
    // Held while building: a swap builds once, not once per thread that meets it.
    const std::lock_guard lock(cache_->mutex);
    if (key.empty() || key != cache_->key) {
      auto read = read_mapping(policy, cache_->file_name, cache_->text);
      cache_->built = read ? Result<std::shared_ptr<const Mapping>, std::string>(
                                 std::make_shared<const Mapping>(std::move(*read)))
                           : Result<std::shared_ptr<const Mapping>, std::string>(
                                 Failure{std::move(read.error())});
      cache_->key = std::move(key);
    }
    return cache_->built;
  } catch (...) {
    return Failure{std::string("out of memory")};
  }
}

void add_routes(http::Server& server, MappingSource mappings, Decider decider) {
  for (const char* verb : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    // nginx: the original request in the headers its config sets (docs/deploy.md).
    server.route(verb, "/v1/gateway/nginx",
                 [mappings, decider](const http::Request& req, http::Response& res) {
                   const auto method = req.header("X-Original-Method");
                   const auto uri = req.header("X-Original-URI");
                   const std::string_view missing = !method ? "X-Original-Method"
                                                    : !uri  ? "X-Original-URI"
                                                            : "";
                   res = decide(mappings, decider, method.value_or(""), uri.value_or(""), req,
                                missing);
                 });
    // Envoy: the original path after path_prefix, the original method.
    server.route_prefix(verb, std::string(envoy_prefix) + "/",
                        [mappings, decider](const http::Request& req, http::Response& res) {
                          res =
                              decide(mappings, decider, req.method,
                                     std::string_view(req.target).substr(envoy_prefix.size()), req);
                        });
  }
}

}  // namespace clause::cli::gateway
