// Stage: analysis (input). Reads the mapping file of SQL filters: which table a filter
// selects rows of, and where each request field stands. Every mistake names the entry and
// where it stands in the file.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "clause/json.hpp"
#include "clause/sql.hpp"
#include "core/policy_impl.hpp"
#include "core/tracked_iterator.hpp"

namespace clause {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_mapping_bytes = std::size_t{1} << 20;
constexpr std::size_t max_mapping_depth = 8;
constexpr std::size_t max_identifier = 63;  // PostgreSQL's limit on a name

// Records where each key of the file stands, by its path (`fields["data.subject"].column`),
// so that a mistake found in the parsed value can point at its place.
class KeyPlaces final : public nlohmann::json_sax<json> {
 public:
  KeyPlaces(std::string_view text, std::map<std::string, LineColumn>& places)
      : text_(text), places_(places) {}
  const char** reached() { return &reached_; }

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(json::number_integer_t) override { return value(); }
  bool number_unsigned(json::number_unsigned_t) override { return value(); }
  bool number_float(json::number_float_t, const std::string&) override { return value(); }
  bool string(std::string&) override { return value(); }
  bool binary(json::binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    stack_.push_back(key_);
    return true;
  }
  bool key(std::string& k) override {
    const std::string& parent = stack_.back();
    // `fields` holds field names with dots: write them in brackets.
    key_ = parent.empty()       ? k
           : parent == "fields" ? fmt::format("{}[\"{}\"]", parent, k)
                                : fmt::format("{}.{}", parent, k);
    places_.emplace(key_, line_column(text_, key_start()));
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    stack_.push_back(key_);
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    error_ = RequestError{
        "", "", std::string(e.what()),
        line_column(text_, static_cast<std::uint32_t>(position > 0 ? position - 1 : 0))};
    // Keep nlohmann's explanation, without its exception id and its own position.
    const std::string& m = error_->message;
    if (const auto colon = m.rfind(": "); colon != std::string::npos)
      error_->message = "invalid JSON: " + m.substr(colon + 2);
    return false;
  }
  const std::optional<RequestError>& error() const { return error_; }

 private:
  bool value() { return true; }
  bool close() {
    stack_.pop_back();
    key_ = stack_.empty() ? std::string() : stack_.back();
    return true;
  }
  // The reader stands just past the key's closing quote: step back to its opening one.
  std::uint32_t key_start() const {
    std::size_t at = static_cast<std::size_t>(reached_ - text_.data());
    at = std::min(at, text_.size());
    std::size_t i = at >= 2 ? at - 2 : 0;
    while (i > 0 && !(text_[i] == '"' && text_[i - 1] != '\\'))
      --i;
    return static_cast<std::uint32_t>(i);
  }

  std::string_view text_;
  std::map<std::string, LineColumn>& places_;
  const char* reached_ = nullptr;
  std::vector<std::string> stack_;
  std::string key_;
  std::optional<RequestError> error_;
};

class MappingReader {
 public:
  MappingReader(const json& doc, const std::map<std::string, LineColumn>& places)
      : doc_(doc), places_(places) {}

  Result<SqlMapping, RequestError> read() {
    if (!doc_.is_object()) return fail("", "", "a mapping is a JSON object");
    for (const auto& [k, v] : doc_.items()) {
      if (k != "schema_version" && k != "table" && k != "fields") {
        return fail(k, k,
                    "not a key of a mapping; a mapping holds `schema_version`, `table` and "
                    "`fields`");
      }
    }
    const auto version = doc_.find("schema_version");
    if (version == doc_.end() || !version->is_number_integer() || version->get<std::int64_t>() != 1)
      return fail("schema_version", "", "a mapping says `\"schema_version\": 1`");
    const auto table = doc_.find("table");
    if (table == doc_.end() || !table->is_string())
      return fail("table", "", "a mapping names the table it filters: `\"table\": \"records\"`");
    if (auto bad = check_table_name("table", table->get<std::string>())) return Failure{*bad};
    // The filter names each joined row so; the filtered table must not hide behind it.
    if (table->get<std::string>() == "joined") {
      return fail("table", "joined",
                  "`joined` is the name a filter gives the rows it joins: rename the "
                  "table or view");
    }
    SqlMapping out;
    out.table = table->get<std::string>();
    const auto fields = doc_.find("fields");
    if (fields == doc_.end() || !fields->is_object())
      return fail("fields", "",
                  "a mapping gives its fields: `\"fields\": {\"data.category\": ...}`");
    for (const auto& [name, entry] : fields->items()) {
      const std::string at = fmt::format("fields[\"{}\"]", name);
      auto column = read_field(at, name, entry);
      if (!column) return Failure{std::move(column.error())};
      out.fields.emplace(name, std::move(*column));
    }
    return out;
  }

 private:
  Failure<RequestError> fail(const std::string& path, std::string name, std::string message) const {
    std::optional<LineColumn> at;
    if (const auto p = places_.find(path); p != places_.end()) at = p->second;
    return Failure{RequestError{path, std::move(name), std::move(message), at}};
  }

  // Names are written into the SQL quoted, never spliced from values: refuse anything but
  // plain identifiers, so that no name can close its quotes.
  static bool plain_identifier(std::string_view s) {
    if (s.empty() || s.size() > max_identifier) return false;
    if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
  }
  std::optional<RequestError> check_identifier(const std::string& path,
                                               const std::string& name) const {
    if (plain_identifier(name)) return std::nullopt;
    return fail(path, name,
                fmt::format("not a plain SQL name (letters, digits and `_`, at most {} "
                            "characters, not starting with a digit)",
                            max_identifier))
        .error;
  }
  // A table may be qualified by its schema: `public.records`.
  std::optional<RequestError> check_table_name(const std::string& path,
                                               const std::string& name) const {
    const auto dot = name.find('.');
    if (dot == std::string::npos) return check_identifier(path, name);
    if (plain_identifier(name.substr(0, dot)) && plain_identifier(name.substr(dot + 1)))
      return std::nullopt;
    return check_identifier(path, name.find('.', dot + 1) == std::string::npos
                                      ? std::string(name.substr(0, dot))
                                      : name);
  }

  Result<std::string, RequestError> string_key(const std::string& at, const json& entry,
                                               const char* key, bool required) const {
    const auto v = entry.find(key);
    if (v == entry.end()) {
      if (required) return fail(at, "", fmt::format("a table entry names its `{}` column", key));
      return std::string();
    }
    const std::string path = fmt::format("{}.{}", at, key);
    if (!v->is_string()) return fail(path, "", "a column's name is a string");
    if (auto bad = check_identifier(path, v->get<std::string>())) return Failure{*bad};
    return v->get<std::string>();
  }

  Result<SqlColumn, RequestError> read_field(const std::string& at, const std::string& name,
                                             const json& entry) const {
    SqlColumn out;
    if (entry.is_string()) {
      if (auto bad = check_identifier(at, entry.get<std::string>())) return Failure{*bad};
      out.column = entry.get<std::string>();
      return out;
    }
    if (!entry.is_object()) {
      return fail(at, name,
                  "a field maps to a column's name, or to {\"column\": C}, {\"array\": C} or "
                  "{\"table\": T, \"key\": K, \"value\": V}");
    }
    const bool dated = name == "context.consent";
    for (const auto& [k, v] : entry.items()) {
      const bool known = k == "column" || k == "array" || k == "table" || k == "key" ||
                         k == "references" || k == "value" ||
                         (dated && (k == "expires" || k == "withdrawn"));
      if (!known) {
        return fail(fmt::format("{}.{}", at, k), k,
                    dated ? "not a key of a field's entry; it takes `column`, `array`, or "
                            "`table`, `key`, `references`, `value`, `expires`, `withdrawn`"
                          : "not a key of a field's entry; it takes `column`, `array`, or "
                            "`table`, `key`, `references`, `value`");
      }
    }
    const int forms = static_cast<int>(entry.contains("column")) +
                      static_cast<int>(entry.contains("array")) +
                      static_cast<int>(entry.contains("table"));
    if (forms != 1) {
      return fail(at, name, "a field's entry has exactly one of `column`, `array` or `table`");
    }
    if (entry.contains("column") || entry.contains("array")) {
      const char* key = entry.contains("column") ? "column" : "array";
      for (const char* other : {"key", "references", "value", "expires", "withdrawn"}) {
        if (entry.contains(other)) {
          return fail(fmt::format("{}.{}", at, other), other,
                      fmt::format("`{}` belongs with `table`, not with `{}`", other, key));
        }
      }
      auto column = string_key(at, entry, key, true);
      if (!column) return Failure{std::move(column.error())};
      out.kind = entry.contains("column") ? SqlColumn::Kind::column : SqlColumn::Kind::array;
      out.column = std::move(*column);
      return out;
    }
    out.kind = SqlColumn::Kind::join;
    const json& table = entry.at("table");
    if (!table.is_string()) return fail(at + ".table", "", "a table's name is a string");
    if (auto bad = check_table_name(at + ".table", table.get<std::string>())) return Failure{*bad};
    out.join.table = table.get<std::string>();
    for (auto [key, slot, required] :
         {std::tuple{"key", &out.join.key, true}, std::tuple{"value", &out.join.value, true},
          std::tuple{"references", &out.join.references, false},
          std::tuple{"expires", &out.join.expires, false},
          std::tuple{"withdrawn", &out.join.withdrawn, false}}) {
      auto column = string_key(at, entry, key, required);
      if (!column) return Failure{std::move(column.error())};
      if (!column->empty()) *slot = std::move(*column);
    }
    return out;
  }

  const json& doc_;
  const std::map<std::string, LineColumn>& places_;
};

// The fields a mapping may name for a policy.
std::vector<std::string> mappable_fields(const dsl::CheckedPolicy& c) {
  std::vector<std::string> out = {"data.category", "context.purpose", "context.consent",
                                  "context.objections"};
  for (const dsl::AttributeInfo& a : c.attributes)
    out.push_back(a.path);
  for (const dsl::Term& f : c.facts)
    out.push_back("context." + f.name);
  return out;
}

}  // namespace

namespace detail {

std::optional<RequestError> unmappable_field(const Policy& policy, const SqlMapping& mapping) {
  const detail::PolicyImpl* impl = detail::Access::impl(policy);
  if (impl == nullptr) return RequestError{"", "", "no policy is loaded", std::nullopt};
  const std::vector<std::string> fields = mappable_fields(impl->checked());
  for (const auto& [field, column] : mapping.fields) {
    if (std::find(fields.begin(), fields.end(), field) != fields.end()) continue;
    const std::vector<std::string_view> views(fields.begin(), fields.end());
    const std::string guess = dsl::closest_name(field, views);
    return RequestError{fmt::format("fields[\"{}\"]", field), field,
                        guess.empty()
                            ? "not a field of the policy"
                            : fmt::format("not a field of the policy; did you mean `{}`?", guess),
                        std::nullopt};
  }
  return std::nullopt;
}

}  // namespace detail

Result<SqlMapping, RequestError> read_sql_mapping(std::string_view json_text) noexcept {
  try {
    if (json_text.size() > max_mapping_bytes) {
      return Failure{RequestError{
          "", "",
          fmt::format("the mapping is longer than the limit of {} bytes", max_mapping_bytes),
          std::nullopt}};
    }
    if (json_nesting_exceeds(json_text, max_mapping_depth)) {
      return Failure{RequestError{
          "", "", fmt::format("the mapping nests deeper than {} levels", max_mapping_depth),
          std::nullopt}};
    }
    std::map<std::string, LineColumn> places;
    KeyPlaces reader(json_text, places);
    const char* const begin = json_text.data();
    const bool ok =
        json::sax_parse(detail::TrackedIterator(begin, reader.reached()),
                        detail::TrackedIterator(begin + json_text.size(), nullptr), &reader);
    if (!ok) {
      if (reader.error()) return Failure{*reader.error()};
      return Failure{RequestError{"", "", "invalid JSON", std::nullopt}};
    }
    const json doc = json::parse(json_text, nullptr, false);
    if (doc.is_discarded()) return Failure{RequestError{"", "", "invalid JSON", std::nullopt}};
    return MappingReader(doc, places).read();
  } catch (...) {
    return Failure{RequestError{"", "", "the mapping could not be read", std::nullopt}};
  }
}

Result<SqlMapping, RequestError> read_sql_mapping(const Policy& policy,
                                                  std::string_view json_text) noexcept {
  auto mapping = read_sql_mapping(json_text);
  if (!mapping) return mapping;
  try {
    // Place each misnamed field where the file names it.
    std::map<std::string, LineColumn> places;
    KeyPlaces reader(json_text, places);
    const char* const begin = json_text.data();
    json::sax_parse(detail::TrackedIterator(begin, reader.reached()),
                    detail::TrackedIterator(begin + json_text.size(), nullptr), &reader);
    if (auto bad = detail::unmappable_field(policy, *mapping)) {
      if (const auto p = places.find(bad->field); p != places.end()) bad->position = p->second;
      return Failure{std::move(*bad)};
    }
  } catch (...) {
    return Failure{RequestError{"", "", "the mapping could not be read", std::nullopt}};
  }
  return mapping;
}

}  // namespace clause
