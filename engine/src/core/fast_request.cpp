// Stage: evaluate (input). The quick reader of JSON requests: the common request, read in
// one pass; anything else is left to the full reader of request.cpp.
#include "core/policy_impl.hpp"

namespace clause::detail {

namespace {

// The bytes a string may hold for the quick reader: printable ASCII but the quote, which
// ends it, and the backslash, which starts an escape.
constexpr std::array<bool, 256> plain = [] {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c)
    table[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return table;
}();

// Reads the common request, plain JSON of the documented shape, in one pass without
// allocating more than the request's own bits. Anything it is not sure of (escapes,
// numbers, unknown names, duplicate or missing fields, any syntax error) makes it give
// up, and the full reader (request.cpp) then decides, with its exact messages and positions.
class FastReader {
 public:
  FastReader(const PolicyImpl& p, std::string_view text, std::optional<Instant> as_of)
      : p_(p), at_(text.data()), end_(text.data() + text.size()), as_of_(as_of) {}

  // The JSON text of the request's own `id`, if it gives one; read() must have succeeded.
  std::optional<std::string_view> id() const { return id_; }

  std::optional<ResolvedRequest> read() {
    clear_request(r_, p_.serial, p_.layout);
    const std::vector<dsl::AttributeInfo>& declared = p_.vocabulary().attributes;
    std::vector<Value>& values = Access::attributes(r_);
    values.assign(declared.size(), Value{});
    if (!request() || (skip(), at_ != end_)) return std::nullopt;
    // As the full reader settles a request: the time, required attributes, then the
    // consents whose dates count at that time, then the tests.
    const std::int32_t time = p_.vocabulary().time_attribute;
    const Instant* now = nullptr;
    if (time != dsl::no_id) {
      Value& value = values[static_cast<std::size_t>(time)];
      if (as_of_ && std::holds_alternative<std::monostate>(value)) value = *as_of_;
      now = std::get_if<Instant>(&value);
    }
    // A required attribute left out is an error: the full reader words it.
    for (std::size_t i = 0; i < declared.size(); ++i) {
      if (!declared[i].optional && !declared[i].lookup &&
          std::holds_alternative<std::monostate>(values[i]))
        return std::nullopt;
    }
    if (!p_.lookups.empty() && apply_lookups(p_, r_)) return std::nullopt;
    for (std::size_t i = 0; i < record_count_; ++i) {
      const Record& record = records_[i];
      if (record_counts(now, record.expires, record.withdrawn))
        set_bit(Access::atoms(r_), p_.layout.consent(record.consent));
    }
    if (!p_.vocabulary().tests.empty()) answer_tests(p_, r_);
    return std::move(r_);
  }

 private:
  void skip() {
    while (at_ != end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t'))
      ++at_;
  }
  bool eat(char c) {
    skip();
    if (at_ == end_ || *at_ != c) return false;
    ++at_;
    return true;
  }
  // A string without escapes, control characters or bytes past ASCII.
  bool text(std::string_view& out) {
    if (!eat('"')) return false;
    const char* start = at_;
    while (at_ != end_ && plain[static_cast<unsigned char>(*at_)])
      ++at_;
    if (at_ == end_ || *at_ != '"') return false;
    out = std::string_view(start, static_cast<std::size_t>(at_ - start));
    ++at_;
    return true;
  }
  bool word(std::string_view w) {
    skip();
    if (static_cast<std::size_t>(end_ - at_) < w.size() || std::string_view(at_, w.size()) != w) {
      return false;
    }
    at_ += w.size();
    return true;
  }
  bool boolean(bool& out) {
    skip();
    if (at_ != end_ && *at_ == 't') return word("true") && (out = true, true);
    return word("false") && (out = false, true);
  }
  // Reads `{ "key": value, ... }`, calling field(key) at each value; keys must differ.
  template <class Field>
  bool object(Field field) {
    if (!eat('{')) return false;
    skip();
    if (at_ != end_ && *at_ == '}') return ++at_, true;
    std::array<std::string_view, 16> seen;
    std::size_t count = 0;
    do {
      std::string_view key;
      if (!text(key) || !eat(':')) return false;
      for (std::size_t i = 0; i < count; ++i) {
        if (seen[i] == key) return false;
      }
      if (count == seen.size()) return false;
      seen[count++] = key;
      if (!field(key)) return false;
    } while (eat(','));
    return eat('}');
  }
  template <class Element>
  bool array(Element element) {
    if (!eat('[')) return false;
    skip();
    if (at_ != end_ && *at_ == ']') return ++at_, true;
    do {
      if (!element()) return false;
    } while (eat(','));
    return eat(']');
  }
  // A name's id among a vocabulary's terms (the map's ids are their indices). A few terms
  // are compared directly: fewer steps than hashing the name and dividing by the map's size.
  static std::optional<std::uint32_t> lookup(const NameMap& map,
                                             const std::vector<dsl::Term>& terms,
                                             std::string_view name) {
    if (terms.size() > 16) return find_name(map, name);
    for (std::uint32_t i = 0; i < terms.size(); ++i) {
      if (terms[i].name == name) return i;
    }
    return std::nullopt;
  }
  bool name_into(const NameMap& map, const std::vector<dsl::Term>& terms, std::uint32_t& out) {
    std::string_view name;
    if (!text(name)) return false;
    const auto id = lookup(map, terms, name);
    if (!id) return false;
    out = *id;
    return true;
  }
  bool id_field() {
    std::string_view ignored;
    return text(ignored);
  }
  // A whole number as JSON writes it, without fraction or exponent, within int64.
  bool integer(std::int64_t& out) {
    skip();
    const char* start = at_;
    const bool negative = at_ != end_ && *at_ == '-';
    if (negative) ++at_;
    const char* digits = at_;
    std::uint64_t value = 0;
    while (at_ != end_ && *at_ >= '0' && *at_ <= '9') {
      if (value > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) return false;
      value = value * 10 + static_cast<std::uint64_t>(*at_ - '0');
      ++at_;
    }
    const auto count = at_ - digits;
    if (count == 0 || count > 19 || (*digits == '0' && count > 1)) return false;
    if (at_ != end_ && (*at_ == '.' || *at_ == 'e' || *at_ == 'E')) return false;
    const std::uint64_t limit =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
    if (value > limit) return false;
    out = negative ? static_cast<std::int64_t>(0 - value) : static_cast<std::int64_t>(value);
    return at_ != start;
  }
  // The declared attribute `root.name`, if any; found without allocating.
  std::optional<std::uint32_t> attribute(std::string_view root, std::string_view name) const {
    // A policy declares few attributes: comparing lengths first finds one, or none, with
    // fewer steps than hashing the path (and the divisions of the map's buckets).
    const std::vector<dsl::AttributeInfo>& declared = p_.vocabulary().attributes;
    if (declared.size() <= 32) {
      const std::size_t size = root.size() + 1 + name.size();
      for (std::uint32_t i = 0; i < declared.size(); ++i) {
        const std::string_view path = declared[i].path;
        if (path.size() == size && path.ends_with(name) && path[root.size()] == '.' &&
            path.starts_with(root))
          return i;
      }
      return std::nullopt;
    }
    std::array<char, 96> path{};
    if (root.size() + 1 + name.size() > path.size()) return std::nullopt;
    std::copy(root.begin(), root.end(), path.begin());
    path[root.size()] = '.';
    std::copy(name.begin(), name.end(),
              path.begin() + static_cast<std::ptrdiff_t>(root.size()) + 1);
    return find_name(p_.attribute_ids,
                     std::string_view(path.data(), root.size() + 1 + name.size()));
  }
  // Reads an attribute's value of its declared type; anything else is the full reader's.
  bool attribute_value(std::uint32_t id) {
    Value& value = Access::attributes(r_)[id];
    std::string_view s;
    switch (p_.vocabulary().attributes[id].type) {
      // "", a name outside its set or an integer outside its range: the full reader's.
      case AttrType::string:
        if (!text(s) || s.empty()) return false;
        value = std::string(s);
        return !dsl::not_taken(p_.vocabulary().attributes[id], value);
      case AttrType::integer: {
        std::int64_t n = 0;
        if (!integer(n)) return false;
        value = n;
        return !dsl::not_taken(p_.vocabulary().attributes[id], value);
      }
      case AttrType::boolean: {
        bool b = false;
        if (!boolean(b)) return false;
        value = b;
        return true;
      }
      case AttrType::date:
      case AttrType::time: {
        if (!text(s)) return false;
        auto at =
            p_.vocabulary().attributes[id].type == AttrType::date ? parse_date(s) : parse_time(s);
        if (!at) return false;
        value = *at;
        return true;
      }
      case AttrType::string_list: {
        value = std::vector<std::string>{};
        auto& list = std::get<std::vector<std::string>>(value);
        list.reserve(quotes_before_bracket() / 2);  // one allocation, not one per doubling
        return array([&] {
          if (!text(s)) return false;
          list.emplace_back(s);
          return true;
        });
      }
    }
    return false;
  }
  // How many quotes stand before the next `]`: twice the strings of a plain list.
  std::size_t quotes_before_bracket() const {
    std::size_t quotes = 0;
    for (const char* at = at_; at != end_ && *at != ']'; ++at)
      quotes += *at == '"' ? 1 : 0;
    return quotes;
  }
  bool set_fact(std::string_view name, bool value) {
    const auto id = lookup(p_.fact_ids, p_.vocabulary().facts, name);
    if (!id) return false;
    if (value) set_bit(Access::atoms(r_), p_.layout.fact(*id));
    return true;
  }

  bool request() {
    bool data = false;
    bool requester = false;
    bool action = false;
    const bool ok = object([&](std::string_view key) {
      if (key == "data") {
        return object([&](std::string_view k) {
          if (k == "category")
            return data = name_into(p_.data_ids, p_.vocabulary().data, Access::data(r_));
          if (const auto id = attribute("data", k)) return attribute_value(*id);
          return k == "id" && id_field();
        });
      }
      if (key == "requester") {
        return object([&](std::string_view k) {
          if (k == "kind")
            return requester = name_into(p_.requester_ids, p_.vocabulary().requesters,
                                         Access::requester(r_));
          if (const auto id = attribute("requester", k)) return attribute_value(*id);
          return k == "id" && id_field();
        });
      }
      if (key == "action")
        return action = name_into(p_.action_ids, p_.vocabulary().actions, Access::action(r_));
      if (key == "context") return context();
      if (key != "id") return false;
      const char* start = (skip(), at_);
      if (!id_field()) return false;
      id_ = std::string_view(start, static_cast<std::size_t>(at_ - start));
      return true;
    });
    return ok && data && requester && action;
  }

  // A consent with dates, `{"id": ..., "expires": ..., "withdrawn": ...}`: kept until the
  // request's time is known. One level deeper than the rest, so within the depth limit only.
  bool record() {
    if (record_count_ == records_.size() || p_.bounds.max_json_depth < 4) return false;
    Record& record = records_[record_count_];
    record = Record{};
    bool named = false;
    const bool ok = object([&](std::string_view key) {
      if (key == "id")
        return named = name_into(p_.consent_ids, p_.vocabulary().consents, record.consent);
      if (key != "expires" && key != "withdrawn") return false;
      std::string_view s;
      if (!text(s)) return false;
      auto at = parse_time(s);
      if (!at) return false;
      (key == "expires" ? record.expires : record.withdrawn) = *at;
      return true;
    });
    if (!ok || !named) return false;
    ++record_count_;
    return true;
  }

  bool context() {
    // `facts` and `objections` are containers unless the policy declares a fact so named.
    const auto container = [&](std::string_view name) {
      return !lookup(p_.fact_ids, p_.vocabulary().facts, name).has_value();
    };
    return object([&](std::string_view key) {
      if (const auto id = attribute("context", key)) return attribute_value(*id);
      if (key == "objections" && container(key)) {
        return array([&] {
          std::uint32_t id = 0;
          if (!name_into(p_.objection_ids, p_.vocabulary().objections, id)) return false;
          set_bit(Access::atoms(r_), p_.layout.objection(id));
          return true;
        });
      }
      if (key == "purpose") {
        if (word("null")) return true;
        std::uint32_t id = 0;
        if (!name_into(p_.purpose_ids, p_.vocabulary().purposes, id)) return false;
        set_purpose(r_, p_.layout, p_.vocabulary().purposes, static_cast<std::int32_t>(id));
        return true;
      }
      if (key == "consent") {
        return array([&] {
          skip();
          if (at_ != end_ && *at_ == '{') return record();
          std::uint32_t id = 0;
          if (!name_into(p_.consent_ids, p_.vocabulary().consents, id)) return false;
          set_bit(Access::atoms(r_), p_.layout.consent(id));
          return true;
        });
      }
      if (key == "facts" && container(key)) {
        skip();
        if (at_ != end_ && *at_ == '[') {
          return array([&] {
            std::string_view name;
            return text(name) && set_fact(name, true);
          });
        }
        return object([&](std::string_view name) {
          bool value = false;
          return boolean(value) && set_fact(name, value);
        });
      }
      bool value = false;
      return boolean(value) && set_fact(key, value);
    });
  }

  // A consent record as read; more than a request usually gives is the full reader's.
  struct Record {
    std::uint32_t consent = 0;
    std::optional<Instant> expires;
    std::optional<Instant> withdrawn;
  };

  const PolicyImpl& p_;
  const char* at_;
  const char* const end_;
  std::optional<Instant> as_of_;
  ResolvedRequest r_;
  std::array<Record, 16> records_;
  std::size_t record_count_ = 0;
  std::optional<std::string_view> id_;
};

}  // namespace

std::optional<ResolvedRequest> fast_decode(const PolicyImpl& policy, std::string_view json_text,
                                           std::optional<Instant> as_of,
                                           std::optional<std::string_view>* id) {
  FastReader reader(policy, json_text, as_of);
  auto request = reader.read();
  if (request && id != nullptr) *id = reader.id();
  return request;
}

}  // namespace clause::detail
