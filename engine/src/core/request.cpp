// Stage: evaluate (input). Requests as JSON text, resolved to a policy's ids (requests given
// in code, and the values both share, are read in request_attributes.cpp). JSON is read with a SAX
// handler so that every mistake can name its field, the name found there and its line and column,
// and so that duplicate fields are caught.
#include <fmt/format.h>

#include <array>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>

#include "clause/json.hpp"
#include "core/policy_impl.hpp"
#include "core/request_attributes.hpp"
#include "core/tracked_iterator.hpp"

namespace clause {

namespace detail {

std::string printable(std::string_view s, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (i >= limit) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += fmt::format("\\x{:02X}", c);
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\u{:04X}", c);
      ++i;
    } else {
      out += s.substr(i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace detail

std::string RequestError::to_string() const {
  using detail::printable;
  using detail::quoted_name_bytes;
  std::string out;
  if (!field.empty()) out += printable(field, 2 * quoted_name_bytes) + ": ";
  out += message;
  if (position) out += fmt::format(" (at {}:{})", position->line, position->column);
  return out;
}

namespace {

using detail::Access;
using detail::attribute_guess;
using detail::blank;
using detail::DatedConsent;
using detail::missing_attribute;
using detail::missing_message;
using detail::PolicyImpl;
using detail::printable;
using detail::quoted_name_bytes;
using detail::quoted_value_bytes;
using detail::read_instant;
using detail::settle;
using detail::TrackedIterator;
using detail::unknown_name;

using json = nlohmann::json;

class RequestReader final : public nlohmann::json_sax<json> {
 public:
  RequestReader(const PolicyImpl& p, std::string_view text, std::optional<Instant> as_of,
                detail::PartialRead* partial = nullptr)
      : p_(p),
        text_(text),
        reached_(text.data()),
        request_(blank(p)),
        as_of_(as_of),
        partial_(partial) {}

  const char** reached() { return &reached_; }

  // Moves an array's index on after each element.
  void next_element() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  ResolvedRequest& request() { return request_; }
  std::optional<RequestError>& error() { return error_; }

  // Checks that every required field was given, then answers what the values decide.
  void finish() {
    if (error_) return;
    // A partial request may leave out what its `unknown` lists.
    const auto open = [&](const std::string& field) {
      if (partial_ == nullptr) return false;
      const auto& u = partial_->unknown;
      return std::find(u.begin(), u.end(), field) != u.end() ||
             (field.starts_with("data.") && std::find(u.begin(), u.end(), "data") != u.end());
    };
    if (!seen_root_) {
      fail("", "", "a request is a JSON object", 0);
    } else if (!seen_category_ && !open("data.category")) {
      fail("data.category", "", "missing field: the data's category is required", root_at_);
    } else if (!seen_kind_) {
      fail("requester.kind", "", "missing field: the requester's kind is required", root_at_);
    } else if (!seen_action_) {
      fail("action", "", "missing field: the action is required", root_at_);
    } else {
      fill_time();
      if (const dsl::AttributeInfo* a = missing_attribute(p_, request_, open)) {
        fail(a->path, "", missing_message(*a), root_at_);
      } else if (auto e = detail::apply_lookups(p_, request_, open)) {
        error_ = std::move(*e);
      } else {
        settle(p_, request_, records_);
      }
    }
  }

  // `context.facts` may hold the facts as an object of booleans or an array of names,
  // unless the policy declares a fact named `facts`.
  bool facts_container() const { return !detail::find_name(p_.fact_ids, "facts").has_value(); }
  bool in_facts(bool array) const {
    return frames_.size() == 3 && frames_[0].key == "context" && frames_[1].key == "facts" &&
           frames_[2].array == array && facts_container();
  }
  static bool is_id(const std::string& field) {
    return field == "id" || field == "data.id" || field == "requester.id";
  }
  // `context.objections` lists objections, unless the policy declares a fact of that name.
  bool objections_container() const {
    return !detail::find_name(p_.fact_ids, "objections").has_value();
  }
  bool in_objections() const {
    return frames_.size() == 3 && frames_[0].key == "context" && frames_[1].key == "objections" &&
           frames_[2].array && objections_container();
  }
  // Inside one object of `context.consent`: a consent with dates.
  bool in_record() const {
    return frames_.size() == 4 && frames_[0].key == "context" && frames_[1].key == "consent" &&
           frames_[2].array;
  }
  // The declared attribute whose value is being read, or null; a list's elements are
  // read by list_element().
  const dsl::AttributeInfo* scalar_attribute() const {
    if (!attribute_ || frames_.size() != 2) return nullptr;
    return &p_.vocabulary().attributes[*attribute_];
  }
  bool list_element() const { return attribute_ && frames_.size() == 3 && frames_[2].array; }
  Value& attribute_value() { return Access::attributes(request_)[*attribute_]; }

  bool null() override {
    const std::string field = path();
    if (field == "context.purpose") return true;  // no purpose
    if (is_id(field)) return true;
    return wrong_type("null");
  }
  bool boolean(bool value) override {
    if (const dsl::AttributeInfo* a = scalar_attribute(); a && a->type == AttrType::boolean) {
      attribute_value() = value;
      return true;
    }
    if (scalar_attribute() || list_element()) return wrong_type(value ? "true" : "false");
    if (in_facts(false)) {
      auto id = detail::find_name(p_.fact_ids, frames_[2].key);
      if (value)
        detail::set_bit(Access::atoms(request_), p_.layout.fact(*id));  // the key was checked
      return true;
    }
    if (frames_.size() == 2 && frames_[0].key == "context" &&
        !(frames_[1].key == "facts" && facts_container())) {
      const std::string& name = frames_[1].key;
      if (name != "purpose" && name != "consent") {
        auto id = detail::find_name(p_.fact_ids, name);
        if (!id) return unknown(path(), "fact", name, p_.vocabulary().facts);
        if (value) detail::set_bit(Access::atoms(request_), p_.layout.fact(*id));
        return true;
      }
    }
    return wrong_type(value ? "true" : "false");
  }
  bool number_integer(json::number_integer_t value) override {
    if (const dsl::AttributeInfo* a = scalar_attribute(); a && a->type == AttrType::integer)
      return integer_value(*a, std::int64_t{value});
    return number(fmt::format("the number {}", value));
  }
  bool number_unsigned(json::number_unsigned_t value) override {
    if (const dsl::AttributeInfo* a = scalar_attribute(); a && a->type == AttrType::integer) {
      if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return out_of_range(fmt::format("{}", value));
      return integer_value(*a, static_cast<std::int64_t>(value));
    }
    return number(fmt::format("the number {}", value));
  }
  bool number_float(json::number_float_t /*value*/, const std::string& raw) override {
    // Digits alone: an integer too large for the reader, which then gives it as a double.
    if (const dsl::AttributeInfo* a = scalar_attribute();
        a && a->type == AttrType::integer &&
        raw.find_first_not_of("-0123456789") == std::string::npos) {
      return out_of_range(raw);
    }
    return number(fmt::format("the number {}", printable(raw, quoted_value_bytes)));
  }
  bool binary(json::binary_t& /*value*/) override { return wrong_type("binary data"); }

  bool string(std::string& value) override {
    if (in_unknown()) {
      partial_->unknown.push_back(value);
      partial_->unknown_at.push_back(line_column(text_, value_start()));
      return true;
    }
    const std::string field = path();
    if (partial_ != nullptr && in_facts(true)) given("context." + value, value_start());
    if (const dsl::AttributeInfo* a = scalar_attribute()) return attribute_text(*a, field, value);
    if (list_element()) {
      std::get<std::vector<std::string>>(attribute_value()).push_back(std::move(value));
      return true;
    }
    if (in_objections()) {
      auto id = detail::find_name(p_.objection_ids, value);
      if (!id) return unknown(field, "objection", value, p_.vocabulary().objections);
      detail::set_bit(Access::atoms(request_), p_.layout.objection(*id));
      return true;
    }
    if (in_record()) return record_text(field, value);
    if (field == "data.category") {
      seen_category_ = true;
      auto id = detail::find_name(p_.data_ids, value);
      if (!id) return unknown(field, "data category", value, p_.vocabulary().data);
      Access::data(request_) = *id;
      return true;
    }
    if (field == "requester.kind") {
      seen_kind_ = true;
      auto id = detail::find_name(p_.requester_ids, value);
      if (!id) return unknown(field, "requester kind", value, p_.vocabulary().requesters);
      Access::requester(request_) = *id;
      return true;
    }
    if (field == "action") {
      seen_action_ = true;
      auto id = detail::find_name(p_.action_ids, value);
      if (!id) return unknown(field, "action", value, p_.vocabulary().actions);
      Access::action(request_) = *id;
      return true;
    }
    if (field == "context.purpose") {
      auto id = detail::find_name(p_.purpose_ids, value);
      if (!id) return unknown(field, "purpose", value, p_.vocabulary().purposes);
      detail::set_purpose(request_, p_.layout, p_.vocabulary().purposes,
                          static_cast<std::int32_t>(*id));
      return true;
    }
    if (is_id(field)) return true;
    if (in_facts(true)) {
      auto id = detail::find_name(p_.fact_ids, value);
      if (!id) return unknown(field, "fact", value, p_.vocabulary().facts);
      detail::set_bit(Access::atoms(request_), p_.layout.fact(*id));
      return true;
    }
    if (frames_.size() == 3 && frames_[0].key == "context" && frames_[1].key == "consent") {
      auto id = detail::find_name(p_.consent_ids, value);
      if (!id) return unknown(field, "consent", value, p_.vocabulary().consents);
      detail::set_bit(Access::atoms(request_), p_.layout.consent(*id));
      return true;
    }
    return wrong_type(fmt::format("the string \"{}\"", printable(value, quoted_value_bytes)));
  }

  bool start_object(std::size_t /*elements*/) override {
    const std::uint32_t at = offset() - 1;
    if (frames_.empty() && !seen_root_) {
      seen_root_ = true;
      root_at_ = at;
      frames_.push_back({false, "", 0, {}, at});
      return true;
    }
    if (too_deep(at)) return false;
    const std::string field = path();
    if (field == "data" || field == "requester" || field == "context" ||
        (field == "context.facts" && facts_container())) {
      frames_.push_back({false, "", 0, {}, at});
      return true;
    }
    if (frames_.size() == 3 && frames_[0].key == "context" && frames_[1].key == "consent" &&
        frames_[2].array) {
      frames_.push_back({false, "", 0, {}, at});
      record_ = DatedConsent{};
      record_id_ = false;
      return true;
    }
    return wrong_type("an object", at);
  }
  bool key(std::string& name) override {
    Frame& frame = frames_.back();
    if (std::find(frame.keys.begin(), frame.keys.end(), name) != frame.keys.end()) {
      frame.key = name;
      return fail(path(), name, "duplicate field", key_start());
    }
    frame.keys.push_back(name);
    frame.key = name;
    const std::string field = path();
    if (frames_.size() == 1) attribute_.reset();
    if (partial_ != nullptr) {
      if (frames_.size() == 1 && name == "unknown") return true;
      if (frames_.size() == 2) given(field, key_start());
      if (in_facts(false)) given("context." + name, key_start());
    }
    if (in_record()) {
      if (name == "id" || name == "expires" || name == "withdrawn") return true;
      return fail(field, name,
                  fmt::format("unknown field `{}`; a consent record has `id`, `expires` and "
                              "`withdrawn`",
                              printable(name, quoted_name_bytes)),
                  key_start());
    }
    if (frames_.size() == 2) {
      attribute_ = detail::find_name(p_.attribute_ids, field);
      if (attribute_) return true;
    }
    static const std::vector<std::string> known = {
        "data",    "requester",      "action",       "context",         "data.category",
        "data.id", "requester.kind", "requester.id", "context.purpose", "context.consent",
        "id",      "context.facts"};
    const bool fact = (frames_.size() == 2 && frames_[0].key == "context" &&
                       !(name == "facts" && facts_container())) ||
                      in_facts(false);
    if (!fact && std::find(known.begin(), known.end(), field) == known.end()) {
      const std::string guess =
          frames_.size() == 2 ? attribute_guess(p_, frames_[0].key, name) : std::string();
      return fail(
          field, name,
          fmt::format("unknown field `{}`; {}", printable(name, quoted_name_bytes),
                      guess.empty() ? expected_fields() : fmt::format("did you mean `{}`?", guess)),
          key_start());
    }
    const bool context_field =
        !in_facts(false) &&
        (name == "purpose" || name == "consent" || (name == "facts" && facts_container()) ||
         (name == "objections" && objections_container()));
    if (fact && !context_field && !detail::find_name(p_.fact_ids, name)) {
      // A mistyped context attribute, when no fact comes close.
      std::vector<std::string_view> facts;
      for (const dsl::Term& t : p_.vocabulary().facts)
        facts.push_back(t.name);
      const std::string guess = in_facts(false) || !dsl::closest_name(name, facts).empty()
                                    ? std::string()
                                    : attribute_guess(p_, "context", name);
      if (!guess.empty()) {
        return fail(field, name,
                    fmt::format("unknown field `{}`; did you mean `{}`?",
                                printable(name, quoted_name_bytes), guess),
                    key_start());
      }
      return unknown(field, "fact", name, p_.vocabulary().facts, key_start());
    }
    return true;
  }
  bool end_object() override {
    if (in_record()) {
      if (!record_id_) {
        frames_.back().key = "id";
        return fail(path(), "", "missing field: a consent record needs `id`", frames_.back().at);
      }
      records_.push_back(record_);
    }
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*elements*/) override {
    if (too_deep(offset() - 1)) return false;
    if (partial_ != nullptr && frames_.size() == 1 && frames_[0].key == "unknown") {
      frames_.push_back({true, "", 0, {}, offset() - 1});
      return true;
    }
    if (const dsl::AttributeInfo* a = scalar_attribute(); a && a->type == AttrType::string_list) {
      attribute_value() = std::vector<std::string>{};
      frames_.push_back({true, "", 0, {}, offset() - 1});
      return true;
    }
    if (path() == "context.consent" || (path() == "context.facts" && facts_container()) ||
        (path() == "context.objections" && objections_container())) {
      frames_.push_back({true, "", 0, {}, offset() - 1});
      return true;
    }
    return wrong_type("an array", offset() - 1);
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    // A number past the range of a double is valid JSON text, but cannot be read: say which
    // field holds it, and where it starts, as for any other wrong value.
    if (ex.id == 406) return out_of_range(last_token);
    std::string message = ex.what();
    // Keep nlohmann's explanation, without its exception id and its own position.
    const std::size_t colon = message.find(": ");
    if (message.starts_with("[json.exception") && colon != std::string::npos) {
      message = message.substr(colon + 2);
    }
    if (message.starts_with("syntax error while ")) message = message.substr(19);
    std::uint32_t at = static_cast<std::uint32_t>(position > 0 ? position - 1 : 0);
    // nlohmann's reader takes a NUL byte for the end of the text; there is more after it.
    const std::size_t end_of_input = message.find("unexpected end of input");
    if (at < text_.size() && text_[at] == '\0' && end_of_input != std::string::npos) {
      message.replace(end_of_input, 23, "unexpected NUL byte");
    }
    // `last read` quotes raw bytes, which may not be UTF-8.
    fail("", "", fmt::format("invalid JSON: {}", printable(message)), at);
    return false;
  }

 private:
  struct Frame {
    bool array;
    std::string key;    // current key (objects)
    std::size_t index;  // next index (arrays)
    std::vector<std::string> keys;
    std::uint32_t at;  // where it starts
  };

  // Inside a partial request's `unknown` list.
  bool in_unknown() const {
    return partial_ != nullptr && frames_.size() == 2 && frames_[0].key == "unknown" &&
           frames_[1].array;
  }
  // Notes a field a partial request gives, where it stands.
  void given(const std::string& field, std::uint32_t at) {
    partial_->given.emplace(field, line_column(text_, at));
  }

  // Reads a declared attribute given as a string.
  bool attribute_text(const dsl::AttributeInfo& a, const std::string& field, std::string& value) {
    if (a.type == AttrType::string) {
      // An id names someone: "" must not equal another "" (`requester.id = data.subject`).
      if (value.empty()) return fail(field, value, "expected a non-empty string", value_start());
      Value given = std::move(value);
      if (auto why = detail::refused_value(a, given))
        return fail(field, std::get<std::string>(given), std::move(*why), value_start());
      attribute_value() = std::move(given);
      return true;
    }
    if (a.type == AttrType::date || a.type == AttrType::time) {
      auto at = read_instant(a.type, value);
      if (!at) return fail(field, value, std::move(at.error()), value_start());
      attribute_value() = *at;
      return true;
    }
    return wrong_type(fmt::format("the string \"{}\"", printable(value, quoted_value_bytes)));
  }

  // Keeps an integer the attribute takes; refuses one outside its range.
  bool integer_value(const dsl::AttributeInfo& a, std::int64_t n) {
    if (auto why = detail::refused_value(a, n))
      return fail(path(), fmt::format("{}", n), std::move(*why), value_start());
    attribute_value() = n;
    return true;
  }

  // Reads `id`, `expires` or `withdrawn` of a consent record.
  bool record_text(const std::string& field, const std::string& value) {
    if (frames_.back().key == "id") {
      auto id = detail::find_name(p_.consent_ids, value);
      if (!id) return unknown(field, "consent", value, p_.vocabulary().consents);
      record_.consent = *id;
      record_id_ = true;
      return true;
    }
    auto at = read_instant(AttrType::time, value);
    if (!at) return fail(field, value, std::move(at.error()), value_start());
    (frames_.back().key == "expires" ? record_.expires : record_.withdrawn) = *at;
    if (partial_ != nullptr) partial_->dated_consents = true;
    return true;
  }

  // Gives a request without `context.time` the time it is read as, if any.
  void fill_time() {
    const std::int32_t time = p_.vocabulary().time_attribute;
    if (!as_of_ || time == dsl::no_id) return;
    Value& value = Access::attributes(request_)[static_cast<std::size_t>(time)];
    if (std::holds_alternative<std::monostate>(value)) value = *as_of_;
  }

  bool out_of_range(const std::string& raw) {
    return fail(path(), raw, fmt::format("the number {} is out of range", printable(raw, 40)),
                value_start());
  }

  std::uint32_t offset() const { return static_cast<std::uint32_t>(reached_ - text_.data()); }

  // Refuses an object or array one level past Limits::max_json_depth.
  bool too_deep(std::uint32_t at) {
    const std::size_t limit = p_.bounds.max_json_depth;
    if (frames_.size() < limit) return false;
    fail(path(), "", fmt::format("JSON nested more than {} levels deep", limit), at);
    return true;
  }

  // Where the value just read starts: back over any lookahead, then over the token.
  std::uint32_t value_start() const {
    std::size_t j = offset();
    while (j > 0 && (text_[j - 1] == ' ' || text_[j - 1] == '\n' || text_[j - 1] == '\r' ||
                     text_[j - 1] == '\t' || text_[j - 1] == ',' || text_[j - 1] == '}' ||
                     text_[j - 1] == ']'))
      --j;
    if (j > 0 && text_[j - 1] == '"') {
      std::size_t i = j - 1;
      while (i > 0) {
        --i;
        if (text_[i] != '"') continue;
        std::size_t slashes = 0;
        while (i >= slashes + 1 && text_[i - slashes - 1] == '\\')
          ++slashes;
        if (slashes % 2 == 0) return static_cast<std::uint32_t>(i);
      }
      return 0;
    }
    while (j > 0 && (std::isalnum(static_cast<unsigned char>(text_[j - 1])) ||
                     text_[j - 1] == '.' || text_[j - 1] == '-' || text_[j - 1] == '+'))
      --j;
    return static_cast<std::uint32_t>(j);
  }
  std::uint32_t key_start() const { return value_start(); }

  std::string path() {
    std::string out;
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.array) {
        out += fmt::format("[{}]", f.index);
      } else if (i > 0 || !f.key.empty()) {
        if (!out.empty()) out += '.';
        out += f.key;
      }
    }
    return out;
  }

  bool number(const std::string& found) {
    if (scalar_attribute() || list_element()) return wrong_type(found);
    return is_id(path()) ? true : wrong_type("a number");
  }

  bool wrong_type(const std::string& found, std::optional<std::uint32_t> at = {}) {
    const std::string field = path();
    std::string wanted = "a value";
    if (const dsl::AttributeInfo* a = scalar_attribute()) {
      wanted = type_noun(a->type, NounFor::request);
    } else if (list_element()) {
      wanted = "a string";
    } else if (partial_ != nullptr && field == "unknown") {
      wanted = "an array of the fields left unknown";
    } else if (in_unknown()) {
      wanted = "a field's name";
    } else if (in_objections()) {
      wanted = "an objection's name";
    } else if (field == "context.objections" && objections_container()) {
      wanted = "an array of objection names";
    } else if (in_record()) {
      wanted =
          frames_.back().key == "id" ? "a consent id" : type_noun(AttrType::time, NounFor::request);
    } else if (field == "data.category" || field == "requester.kind" || field == "action" ||
               field == "context.purpose" || field.starts_with("context.consent[")) {
      wanted = "a string";
    } else if (field == "data" || field == "requester" || field == "context") {
      wanted = "an object";
    } else if (field == "context.consent") {
      wanted = "an array of consent ids";
    } else if (field == "context.facts") {
      wanted = "an object of booleans or an array of fact names";
    } else if (field.starts_with("context.facts[")) {
      wanted = "a fact's name";
    } else if ((frames_.size() == 2 && frames_[0].key == "context") || in_facts(false)) {
      wanted = "true or false";
    } else if (is_id(field)) {
      wanted = "a string or a number";
    } else if (field.empty()) {
      wanted = "an object";
    }
    return fail(field, "", fmt::format("expected {}, found {}", wanted, found),
                at ? *at : value_start());
  }

  bool unknown(const std::string& field, std::string_view kind, const std::string& name,
               const std::vector<dsl::Term>& terms, std::optional<std::uint32_t> at = {}) {
    RequestError e = unknown_name(field, kind, name, terms);
    e.position = line_column(text_, at ? *at : value_start());
    error_ = std::move(e);
    return false;
  }

  bool fail(std::string field, std::string name, std::string message, std::uint32_t at) {
    error_ =
        RequestError{std::move(field), std::move(name), std::move(message), line_column(text_, at)};
    return false;
  }

  std::string expected_fields() const {
    if (frames_.size() == 1)
      return "a request has `data`, `requester`, `action`, `context` and `id`";
    if (frames_[0].key == "data") return "`data` has `category` and `id`";
    if (frames_[0].key == "requester") return "`requester` has `kind` and `id`";
    return "";
  }

  const PolicyImpl& p_;
  std::string_view text_;
  const char* reached_;
  ResolvedRequest request_;
  std::optional<Instant> as_of_;
  detail::PartialRead* partial_ = nullptr;
  std::optional<RequestError> error_;
  std::vector<Frame> frames_;
  bool seen_root_ = false;
  std::uint32_t root_at_ = 0;
  bool seen_category_ = false;
  bool seen_kind_ = false;
  bool seen_action_ = false;
  std::optional<std::uint32_t> attribute_;  // the declared attribute being read
  DatedConsent record_;                     // the consent record being read
  bool record_id_ = false;
  std::vector<DatedConsent> records_;
};

// Advances array indices after each element, so error paths read `context.consent[2]`.
class IndexedReader final : public nlohmann::json_sax<json> {
 public:
  explicit IndexedReader(RequestReader& inner) : r_(inner) {}
  bool null() override { return step(r_.null()); }
  bool boolean(bool v) override { return step(r_.boolean(v)); }
  bool number_integer(json::number_integer_t v) override { return step(r_.number_integer(v)); }
  bool number_unsigned(json::number_unsigned_t v) override { return step(r_.number_unsigned(v)); }
  bool number_float(json::number_float_t v, const std::string& s) override {
    return step(r_.number_float(v, s));
  }
  bool string(std::string& v) override { return step(r_.string(v)); }
  bool binary(json::binary_t& v) override { return step(r_.binary(v)); }
  bool start_object(std::size_t n) override { return r_.start_object(n); }
  bool key(std::string& k) override { return r_.key(k); }
  bool end_object() override { return step(r_.end_object()); }
  bool start_array(std::size_t n) override { return r_.start_array(n); }
  bool end_array() override { return step(r_.end_array()); }
  bool parse_error(std::size_t p, const std::string& t,
                   const nlohmann::detail::exception& e) override {
    return r_.parse_error(p, t, e);
  }

 private:
  bool step(bool ok) {
    if (ok) r_.next_element();
    return ok;
  }
  RequestReader& r_;
};

// Refuses a request past Limits::max_request_bytes, before anything reads it. Positions
// are 32-bit offsets, so no limit reaches past 4 GiB.
std::optional<RequestError> too_long(const Limits& bounds, std::string_view json_text) {
  const std::size_t max_bytes =
      std::min<std::size_t>(bounds.max_request_bytes, std::numeric_limits<std::uint32_t>::max());
  if (json_text.size() <= max_bytes) return std::nullopt;
  return RequestError{"", "",
                      fmt::format("the request is longer than the limit of {} bytes", max_bytes),
                      line_column(json_text, static_cast<std::uint32_t>(max_bytes))};
}

}  // namespace

namespace detail {

Result<ResolvedRequest, RequestError> decode_with_positions(const PolicyImpl& p,
                                                            std::string_view json_text,
                                                            std::optional<Instant> as_of,
                                                            PartialRead* partial) {
  if (auto error = too_long(p.bounds, json_text)) return Failure{std::move(*error)};
  if (json_text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Failure{RequestError{"", "", "the request is empty", LineColumn{1, 1}}};
  }
  RequestReader reader(p, json_text, as_of, partial);
  IndexedReader indexed(reader);
  const char* const begin = json_text.data();
  const char* const end = begin + json_text.size();
  const bool ok = json::sax_parse(TrackedIterator(begin, reader.reached()),
                                  TrackedIterator(end, nullptr), &indexed);
  if (!ok && !reader.error()) {
    return Failure{RequestError{"", "", "invalid JSON", std::nullopt}};
  }
  // nlohmann's reader stops at a NUL byte as at the end of the text: refuse what follows
  // the request, as for any other trailing text.
  const char* const stop = *reader.reached();
  if (ok && stop > begin && stop[-1] == '\0') {
    return Failure{
        RequestError{"", "", "invalid JSON: unexpected NUL byte; expected end of input",
                     line_column(json_text, static_cast<std::uint32_t>(stop - 1 - begin))}};
  }
  reader.finish();
  if (reader.error()) return Failure{std::move(*reader.error())};
  return std::move(reader.request());
}

}  // namespace detail

Result<ResolvedRequest, RequestError> Policy::decode(std::string_view json_text) const {
  return decode(json_text, std::nullopt);
}

Result<ResolvedRequest, RequestError> Policy::decode(std::string_view json_text,
                                                     std::optional<Instant> as_of) const {
  if (!impl_) return Failure{RequestError{"", "", "no policy is loaded", std::nullopt}};
  return detail::decode(*impl_, json_text, as_of);
}

namespace detail {

Result<ResolvedRequest, RequestError> decode(const PolicyImpl& p, std::string_view json_text,
                                             std::optional<Instant> as_of,
                                             std::optional<std::string_view>* id) {
  // The quick reader knows the request's shape, three levels deep, and no limit on it.
  if (!too_long(p.bounds, json_text) && p.bounds.max_json_depth >= 3) {
    if (auto fast = fast_decode(p, json_text, as_of, id)) return std::move(*fast);
  }
  if (id != nullptr) *id = request_id_json(json_text);
  return decode_with_positions(p, json_text, as_of);  // which refuses a text too long
}

}  // namespace detail

}  // namespace clause
