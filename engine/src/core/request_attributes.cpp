// Stage: evaluate (input). Requests given in code, and what both ways of giving a request
// share: the reading of attribute values and consent records, and settling them into bits.
#include "core/request_attributes.hpp"

#include <fmt/format.h>

#include "core/attribute_test.hpp"

namespace clause {

namespace detail {

RequestError unknown_name(std::string field, std::string_view kind, const std::string& name,
                          const std::vector<dsl::Term>& terms) {
  std::vector<std::string_view> names;
  names.reserve(terms.size());
  for (const dsl::Term& t : terms)
    names.push_back(t.name);
  std::string message = fmt::format("unknown {} `{}`", kind, printable(name, quoted_name_bytes));
  const std::string guess = dsl::closest_name(name, names);
  if (!guess.empty()) message += fmt::format("; did you mean `{}`?", guess);
  return RequestError{std::move(field), name, std::move(message), std::nullopt};
}

ResolvedRequest blank(const PolicyImpl& p) {
  ResolvedRequest r;
  detail::clear_request(r, p.serial, p.layout);
  Access::attributes(r).assign(p.vocabulary().attributes.size(), Value{});
  return r;
}

// Reads the text of a date or time field; the error quotes the text and says what is wrong.
Result<Instant, std::string> read_instant(AttrType type, std::string_view text) {
  auto at = type == AttrType::date ? parse_date(text) : parse_time(text);
  if (!at) {
    return Failure{fmt::format("invalid {} \"{}\": {}", type == AttrType::date ? "date" : "time",
                               printable(text, quoted_value_bytes), at.error())};
  }
  return *at;
}

// Turns what a request said into bits, once: the consents whose records count at
// `context.time`, and the answer of every attribute test.
void settle(const PolicyImpl& p, ResolvedRequest& r, const std::vector<DatedConsent>& records) {
  const dsl::CheckedPolicy& c = p.vocabulary();
  const std::vector<Value>& values = Access::attributes(r);
  const Instant* now = nullptr;
  if (c.time_attribute != dsl::no_id)
    now = std::get_if<Instant>(&values[static_cast<std::size_t>(c.time_attribute)]);
  for (const DatedConsent& record : records) {
    if (detail::record_counts(now, record.expires, record.withdrawn))
      detail::set_bit(Access::atoms(r), p.layout.consent(record.consent));
  }
  detail::answer_tests(p, r);
}

// The first declared attribute that a request must give and did not, if any.
const dsl::AttributeInfo* missing_attribute(const PolicyImpl& p, const ResolvedRequest& r,
                                            const std::function<bool(const std::string&)>& open) {
  const std::vector<dsl::AttributeInfo>& declared = p.vocabulary().attributes;
  for (std::size_t i = 0; i < declared.size(); ++i) {
    // A looked-up attribute is filled after this check, and words its own errors.
    if (!declared[i].optional && !declared[i].lookup &&
        std::holds_alternative<std::monostate>(Access::attributes(r)[i]) &&
        !(open && open(declared[i].path)))
      return &declared[i];
  }
  return nullptr;
}

std::string missing_message(const dsl::AttributeInfo& a) {
  return fmt::format("missing field: the policy requires `{}`", a.path);
}

// Guesses the declared attribute meant by an unknown `root.name`, among those under root.
std::string attribute_guess(const PolicyImpl& p, std::string_view root, std::string_view name) {
  std::vector<std::string_view> fields;
  for (const dsl::AttributeInfo& a : p.vocabulary().attributes) {
    const std::string_view path = a.path;
    if (path.size() > root.size() && path.starts_with(root) && path[root.size()] == '.')
      fields.push_back(path.substr(root.size() + 1));
  }
  if (fields.empty()) return "";
  return dsl::closest_name(name, fields);
}

std::optional<std::string> refused_value(const dsl::AttributeInfo& a, const Value& v) {
  auto why = dsl::not_taken(a, v);
  if (!why) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&v))
    return fmt::format("\"{}\" {}", printable(*s, quoted_value_bytes), *why);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return fmt::format("{} {}", *n, *why);
  return why;
}

void answer_tests(const PolicyImpl& p, ResolvedRequest& r) {
  const std::vector<dsl::AttributeTest>& tests = p.vocabulary().tests;
  for (std::uint32_t i = 0; i < tests.size(); ++i) {
    if (run_test(tests[i], Access::attributes(r))) set_bit(Access::atoms(r), p.layout.test(i));
  }
}

}  // namespace detail

using detail::Access;
using detail::DatedConsent;
using detail::missing_attribute;
using detail::missing_message;
using detail::PolicyImpl;
using detail::printable;
using detail::quoted_name_bytes;
using detail::unknown_name;

namespace {

// Names the kind of a value given in code, for a type error.
std::string value_kind(const Value& v) {
  if (std::holds_alternative<bool>(v)) return "a boolean";
  if (std::holds_alternative<std::int64_t>(v)) return "an integer";
  if (std::holds_alternative<std::string>(v)) return "a string";
  if (std::holds_alternative<std::vector<std::string>>(v)) return "a list of strings";
  if (const auto* at = std::get_if<Instant>(&v)) return "the time " + format_date_time(*at);
  return "no value";
}

// Whether a value given in code has the declared type; a date is a whole day in UTC.
bool fits(AttrType type, const Value& v) {
  constexpr std::int64_t micros_per_day = 86'400'000'000;
  switch (type) {
    case AttrType::string: {
      const auto* s = std::get_if<std::string>(&v);
      return s != nullptr && !s->empty();
    }
    case AttrType::integer:
      return std::holds_alternative<std::int64_t>(v);
    case AttrType::boolean:
      return std::holds_alternative<bool>(v);
    case AttrType::date: {
      const auto* at = std::get_if<Instant>(&v);
      return at != nullptr && at->micros % micros_per_day == 0;
    }
    case AttrType::time:
      return std::holds_alternative<Instant>(v);
    case AttrType::string_list:
      return std::holds_alternative<std::vector<std::string>>(v);
  }
  return false;
}

// Reads the attributes a request gives in code into their declared places.
std::optional<RequestError> read_attributes(const PolicyImpl& p, const Request& request,
                                            ResolvedRequest& r) {
  const std::vector<dsl::AttributeInfo>& declared = p.vocabulary().attributes;
  std::vector<Value>& values = Access::attributes(r);
  std::vector<bool> given(declared.size(), false);
  for (const Attribute& a : request.attributes) {
    const auto id = detail::find_name(p.attribute_ids, a.path);
    if (!id) {
      std::string message =
          fmt::format("unknown attribute `{}`", printable(a.path, quoted_name_bytes));
      std::vector<std::string_view> paths;
      for (const dsl::AttributeInfo& d : declared)
        paths.push_back(d.path);
      const std::string guess = dsl::closest_name(a.path, paths);
      if (!guess.empty()) message += fmt::format("; did you mean `{}`?", guess);
      return RequestError{a.path, a.path, std::move(message), std::nullopt};
    }
    if (given[*id]) return RequestError{a.path, a.path, "duplicate field", std::nullopt};
    given[*id] = true;
    if (std::holds_alternative<std::monostate>(a.value)) continue;  // absent
    if (!fits(declared[*id].type, a.value)) {
      return RequestError{
          a.path, "",
          fmt::format("expected {}, found {}", type_noun(declared[*id].type, NounFor::request),
                      value_kind(a.value)),
          std::nullopt};
    }
    if (auto why = detail::refused_value(declared[*id], a.value))
      return RequestError{a.path, "", std::move(*why), std::nullopt};
    values[*id] = a.value;
  }
  // `requester_id` fills a declared `requester.id` that the attributes leave out.
  if (const auto id = detail::find_name(p.attribute_ids, "requester.id");
      id && !given[*id] && !request.requester_id.empty()) {
    if (declared[*id].type != AttrType::string) {
      return RequestError{"requester.id", request.requester_id,
                          fmt::format("expected {}, found a string",
                                      type_noun(declared[*id].type, NounFor::request)),
                          std::nullopt};
    }
    if (auto why = detail::refused_value(declared[*id], request.requester_id))
      return RequestError{"requester.id", request.requester_id, std::move(*why), std::nullopt};
    values[*id] = request.requester_id;
  }
  return std::nullopt;
}

}  // namespace

Result<ResolvedRequest, RequestError> Policy::resolve(const Request& request) const {
  if (!impl_) return Failure{RequestError{"", "", "no policy is loaded", std::nullopt}};
  return detail::resolve_request(*impl_, request);
}

Result<ResolvedRequest, RequestError> detail::resolve_request(
    const PolicyImpl& p, const Request& request,
    const std::function<bool(const std::string&)>& open) {
  const dsl::CheckedPolicy& c = p.vocabulary();
  ResolvedRequest r = blank(p);
  const auto need = [](const std::string& value, const char* field) -> std::optional<RequestError> {
    if (value.empty()) return RequestError{field, "", "missing", std::nullopt};
    return std::nullopt;
  };
  if (auto e = need(request.data, "data.category")) return Failure{*e};
  if (auto e = need(request.requester, "requester.kind")) return Failure{*e};
  if (auto e = need(request.action, "action")) return Failure{*e};

  if (auto id = detail::find_name(p.data_ids, request.data)) {
    Access::data(r) = *id;
  } else {
    return Failure{unknown_name("data.category", "data category", request.data, c.data)};
  }
  if (auto id = detail::find_name(p.requester_ids, request.requester)) {
    Access::requester(r) = *id;
  } else {
    return Failure{
        unknown_name("requester.kind", "requester kind", request.requester, c.requesters)};
  }
  if (auto id = detail::find_name(p.action_ids, request.action)) {
    Access::action(r) = *id;
  } else {
    return Failure{unknown_name("action", "action", request.action, c.actions)};
  }
  if (request.purpose) {
    if (auto id = detail::find_name(p.purpose_ids, *request.purpose)) {
      detail::set_purpose(r, p.layout, c.purposes, static_cast<std::int32_t>(*id));
    } else {
      return Failure{unknown_name("context.purpose", "purpose", *request.purpose, c.purposes)};
    }
  }
  for (std::size_t i = 0; i < request.facts.size(); ++i) {
    if (auto id = detail::find_name(p.fact_ids, request.facts[i])) {
      detail::set_bit(Access::atoms(r), p.layout.fact(*id));
    } else {
      return Failure{
          unknown_name(fmt::format("context.facts[{}]", i), "fact", request.facts[i], c.facts)};
    }
  }
  for (std::size_t i = 0; i < request.consent.size(); ++i) {
    if (auto id = detail::find_name(p.consent_ids, request.consent[i])) {
      detail::set_bit(Access::atoms(r), p.layout.consent(*id));
    } else {
      return Failure{unknown_name(fmt::format("context.consent[{}]", i), "consent",
                                  request.consent[i], c.consents)};
    }
  }
  // Records follow the plain ids in one `context.consent` list, as JSON gives them.
  std::vector<DatedConsent> records;
  for (std::size_t i = 0; i < request.consent_records.size(); ++i) {
    const ConsentRecord& record = request.consent_records[i];
    const auto id = detail::find_name(p.consent_ids, record.id);
    if (!id) {
      return Failure{unknown_name(fmt::format("context.consent[{}].id", request.consent.size() + i),
                                  "consent", record.id, c.consents)};
    }
    records.push_back({*id, record.expires, record.withdrawn});
  }
  for (std::size_t i = 0; i < request.objections.size(); ++i) {
    if (auto id = detail::find_name(p.objection_ids, request.objections[i])) {
      detail::set_bit(Access::atoms(r), p.layout.objection(*id));
    } else {
      return Failure{unknown_name(fmt::format("context.objections[{}]", i), "objection",
                                  request.objections[i], c.objections)};
    }
  }
  if (auto e = read_attributes(p, request, r)) return Failure{std::move(*e)};
  if (const dsl::AttributeInfo* a = missing_attribute(p, r))
    return Failure{RequestError{a->path, "", missing_message(*a), std::nullopt}};
  if (auto e = detail::apply_lookups(p, r, open)) return Failure{std::move(*e)};
  settle(p, r, records);
  return r;
}

}  // namespace clause
