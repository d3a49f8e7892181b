// Stage: analysis. Plans a partial request: reads what it leaves open, gives stand-ins to
// the open fields so that the engine resolves it, and writes and checks the conditions of
// a plan (the search itself is in planner.cpp).
#include "clause/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "analysis/attribute_classes.hpp"
#include "analysis/planner.hpp"
#include "core/attribute_test.hpp"

namespace clause {
namespace detail {
namespace {

RequestError plan_error(std::string field, std::string name, std::string message) {
  return RequestError{std::move(field), std::move(name), std::move(message), std::nullopt};
}

std::optional<std::uint32_t> index_of(const std::vector<dsl::Term>& terms, std::string_view name) {
  for (std::uint32_t i = 0; i < terms.size(); ++i) {
    if (terms[i].name == name) return i;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> attribute_index(const dsl::CheckedPolicy& c, std::string_view path) {
  for (std::uint32_t i = 0; i < c.attributes.size(); ++i) {
    if (c.attributes[i].path == path) return i;
  }
  return std::nullopt;
}

// Why `field` cannot be left open, with the closest field that can.
std::string not_open_message(const dsl::CheckedPolicy& c, const std::string& field) {
  std::vector<std::string> fields = {"data", "data.category", "context.purpose", "context.consent",
                                     "context.objections"};
  for (const dsl::AttributeInfo& a : c.attributes)
    fields.push_back(a.path);
  for (const dsl::Term& f : c.facts)
    fields.push_back("context." + f.name);
  const std::vector<std::string_view> views(fields.begin(), fields.end());
  const std::string guess = dsl::closest_name(field, views);
  return guess.empty() ? "not a field the policy lets a plan leave open"
                       : fmt::format(
                             "not a field the policy lets a plan leave open; did you "
                             "mean `{}`?",
                             guess);
}

Result<Open, RequestError> read_open(const dsl::CheckedPolicy& c,
                                     const std::vector<std::string>& unknown) {
  Open open;
  open.attributes.assign(c.attributes.size(), false);
  for (std::size_t i = 0; i < unknown.size(); ++i) {
    const std::string& u = unknown[i];
    const std::string field = fmt::format("unknown[{}]", i);
    if (u == "data") {
      open.category = true;
      for (std::size_t a = 0; a < c.attributes.size(); ++a) {
        if (c.attributes[a].path.starts_with("data.")) open.attributes[a] = true;
      }
    } else if (u == "data.category") {
      open.category = true;
    } else if (u == "context.purpose") {
      open.purpose = true;
    } else if (u == "context.consent") {
      open.consents = true;
    } else if (u == "context.objections") {
      open.objections = true;
    } else if (u == "requester.kind" || u == "action") {
      return Failure{
          plan_error(field, u, "a plan is made for one requester kind and one action: give it")};
    } else if (const auto a = attribute_index(c, u)) {
      open.attributes[*a] = true;
    } else if (const auto f = u.starts_with("context.")
                                  ? index_of(c.facts, std::string_view(u).substr(8))
                                  : std::nullopt) {
      open.facts.insert(*f);
    } else {
      return Failure{plan_error(field, u, not_open_message(c, u))};
    }
  }
  // An attribute read from a document by an open key is open too.
  for (std::size_t a = 0; a < c.attributes.size(); ++a) {
    const auto& lookup = c.attributes[a].lookup;
    if (lookup && open.attributes[lookup->key]) open.attributes[a] = true;
  }
  return open;
}

// The known request with a stand-in for every open field, so that the engine resolves it.
Result<Request, RequestError> stand_in(const dsl::CheckedPolicy& c, const Open& open,
                                       const Request& known) {
  Request r = known;
  const auto given_too = [](const std::string& field) {
    return Failure{plan_error(field, "", "given, and also listed as unknown")};
  };
  if (open.category) {
    if (!r.data.empty()) return given_too("data.category");
    r.data = c.data.at(0).name;
  }
  if (open.purpose) {
    if (r.purpose) return given_too("context.purpose");
  }
  if (open.consents && (!r.consent.empty() || !r.consent_records.empty())) {
    return given_too("context.consent");
  }
  if (open.objections && !r.objections.empty()) return given_too("context.objections");
  for (const std::uint32_t f : open.facts) {
    if (std::find(r.facts.begin(), r.facts.end(), c.facts[f].name) != r.facts.end()) {
      return given_too("context." + c.facts[f].name);
    }
  }
  for (std::size_t a = 0; a < c.attributes.size(); ++a) {
    if (!open.attributes[a]) continue;
    const std::string& path = c.attributes[a].path;
    for (const Attribute& given : r.attributes) {
      if (given.path == path) return given_too(path);
    }
    if (path == "requester.id") {
      if (!r.requester_id.empty()) return given_too(path);
      r.requester_id = "witness";
    }
    const Value v = default_value(c.attributes[a]);
    if (!std::holds_alternative<std::monostate>(v)) r.attributes.push_back({path, v});
  }
  return r;
}

}  // namespace
}  // namespace detail

namespace {

std::string operand_text(const PlanOperand& o) {
  return o.path.empty() ? detail::value_text(o.value) : o.path;
}

std::string names_text(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The value of one side of a comparison in a completed request; absent when not given.
Value side_value(const PlanOperand& o, const Request& r) {
  if (o.path.empty()) return o.value;
  for (const Attribute& a : r.attributes) {
    if (a.path == o.path) return a.value;
  }
  if (o.path == "requester.id" && !r.requester_id.empty()) return r.requester_id;
  return std::monostate{};
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::string_view to_string(PlanTest::Op op) {
  return detail::compare_op_text(detail::engine_op(op));
}

std::string to_string(const PlanTest& t) {
  std::string out;
  switch (t.kind) {
    case PlanTest::Kind::category:
      out = t.names.size() == 1 ? "data.category is " + t.names[0]
                                : fmt::format("data.category in ({})", names_text(t.names));
      break;
    case PlanTest::Kind::purpose:
      if (t.names.empty()) {
        out = "no purpose";
      } else {
        out = t.names.size() == 1 ? "purpose is " + t.names[0]
                                  : fmt::format("purpose in ({})", names_text(t.names));
        if (t.absent) out = fmt::format("(no purpose or {})", out);
      }
      break;
    case PlanTest::Kind::fact:
      out = t.names.at(0);
      break;
    case PlanTest::Kind::consent:
      out = "consent " + t.names.at(0);
      break;
    case PlanTest::Kind::objection:
      out = "objected " + t.names.at(0);
      break;
    case PlanTest::Kind::truth:
      out = operand_text(t.left);
      break;
    case PlanTest::Kind::member:
      out = fmt::format("{} in {}", operand_text(t.left), operand_text(t.right));
      break;
    case PlanTest::Kind::compare: {
      out = fmt::format("{} {} {}", operand_text(t.left), to_string(t.op), operand_text(t.right));
      if (!(t.shift == Duration{})) {
        out += ' ';
        out += detail::shift_text(t.shift);
      }
      break;
    }
  }
  return t.negated ? "not " + out : out;
}

std::string to_string(const PlanPart& part) {
  if (part.conditions.empty()) return "true";
  std::string out;
  for (const PlanTest& t : part.conditions)
    out += (out.empty() ? "" : " and ") + to_string(t);
  return out;
}

bool holds(const PlanTest& t, const Request& r) noexcept {
  bool yes = false;
  switch (t.kind) {
    case PlanTest::Kind::category:
      yes = listed(t.names, r.data);
      break;
    case PlanTest::Kind::purpose:
      yes = r.purpose ? listed(t.names, *r.purpose) : t.absent;
      break;
    case PlanTest::Kind::fact:
      yes = listed(r.facts, t.names.at(0));
      break;
    case PlanTest::Kind::consent: {
      const std::string& k = t.names.at(0);
      yes = listed(r.consent, k);
      // A record counts while each date it gives is later than context.time.
      const Value now = side_value(PlanOperand{"context.time", {}}, r);
      for (const ConsentRecord& c : r.consent_records) {
        if (c.id == k && detail::record_counts(std::get_if<Instant>(&now), c.expires, c.withdrawn))
          yes = true;
      }
      break;
    }
    case PlanTest::Kind::objection:
      yes = listed(r.objections, t.names.at(0));
      break;
    case PlanTest::Kind::compare:
    case PlanTest::Kind::member:
    case PlanTest::Kind::truth: {
      // The engine's own test, on the two sides' values.
      dsl::AttributeTest test;
      test.kind = t.kind == PlanTest::Kind::truth    ? dsl::AttributeTest::Kind::truth
                  : t.kind == PlanTest::Kind::member ? dsl::AttributeTest::Kind::member
                                                     : dsl::AttributeTest::Kind::compare;
      test.lhs = 0;
      test.op = detail::engine_op(t.op);
      test.rhs = 1;
      test.shift = t.shift;
      yes = detail::run_test(test, {side_value(t.left, r), side_value(t.right, r)});
      break;
    }
  }
  return t.negated ? !yes : yes;
}

namespace {

// Plans from a resolved request whose open fields hold stand-ins.
Plan plan_base(const Policy& policy, const detail::PolicyImpl& impl, const detail::Open& open,
               ResolvedRequest base, const std::vector<std::string>& unknown,
               const PlanOptions& options) {
  const dsl::CheckedPolicy& c = impl.checked();
  std::optional<Instant> time;
  if (const auto t = detail::attribute_index(c, "context.time"); t && !open.attributes[*t]) {
    for (const Attribute& a : policy.names(base).attributes) {
      if (a.path == "context.time" && std::holds_alternative<Instant>(a.value))
        time = std::get<Instant>(a.value);
    }
  }
  Plan out = detail::plan_resolved(policy, impl, open, std::move(base), options.max_work);
  out.unknown = unknown;
  out.time = time;
  return out;
}

RequestError dated_with_open_time() {
  return RequestError{"context.consent", "",
                      "a consent with dates needs a known `context.time`: give it, or leave "
                      "the consents open too",
                      std::nullopt};
}

}  // namespace

Result<Plan, RequestError> plan(const Policy& policy, const PartialRequest& request,
                                const PlanOptions& options) noexcept {
  try {
    const detail::PolicyImpl* impl = detail::Access::impl(policy);
    if (impl == nullptr) {
      return Failure{RequestError{"", "", "no policy is loaded", std::nullopt}};
    }
    const dsl::CheckedPolicy& c = impl->checked();
    auto open = detail::read_open(c, request.unknown);
    if (!open) return Failure{std::move(open.error())};
    auto filled = detail::stand_in(c, *open, request.known);
    if (!filled) return Failure{std::move(filled.error())};
    const auto is_open = [&](const std::string& field) {
      const auto a = detail::attribute_index(c, field);
      return a && open->attributes[*a];
    };
    auto base = detail::resolve_request(*impl, *filled, is_open);
    if (!base) return Failure{std::move(base.error())};
    // A dated consent counts by context.time: with the time open, it would be open too.
    const auto time = detail::attribute_index(c, "context.time");
    const bool dated = std::any_of(
        request.known.consent_records.begin(), request.known.consent_records.end(),
        [](const ConsentRecord& r) { return r.expires.has_value() || r.withdrawn.has_value(); });
    if (time && open->attributes[*time] && dated) return Failure{dated_with_open_time()};
    return plan_base(policy, *impl, *open, std::move(*base), request.unknown, options);
  } catch (...) {
    Plan out;
    out.complete = false;
    return out;
  }
}

Result<Plan, RequestError> plan_json(const Policy& policy, std::string_view json_text,
                                     const PlanOptions& options) noexcept {
  try {
    const detail::PolicyImpl* impl = detail::Access::impl(policy);
    if (impl == nullptr) {
      return Failure{RequestError{"", "", "no policy is loaded", std::nullopt}};
    }
    const dsl::CheckedPolicy& c = impl->checked();
    detail::PartialRead read;
    auto base = detail::decode_with_positions(*impl, json_text, std::nullopt, &read);
    // A misspelt entry of `unknown` leaves its field missing: name the entry first.
    auto open = detail::read_open(c, read.unknown);
    if (!open && read.unknown_at.size() == read.unknown.size()) {
      RequestError e = std::move(open.error());
      for (std::size_t i = 0; i < read.unknown.size(); ++i) {
        if (e.field == fmt::format("unknown[{}]", i)) e.position = read.unknown_at[i];
      }
      return Failure{std::move(e)};
    }
    if (!base) return Failure{std::move(base.error())};
    if (!open) return Failure{std::move(open.error())};
    // A field both given and listed as unknown is a mistake: which one is meant?
    for (std::size_t i = 0; i < read.unknown.size(); ++i) {
      const std::string& u = read.unknown[i];
      for (const auto& [field, at] : read.given) {
        const bool inside = field == u || (u == "data" && field.starts_with("data.")) ||
                            (u == "context.consent" && field == "context.consent") ||
                            (u == "context.objections" && field == "context.objections");
        if (inside) {
          return Failure{RequestError{field, "", "given, and also listed as unknown", at}};
        }
      }
    }
    const auto time = detail::attribute_index(c, "context.time");
    if (time && open->attributes[*time] && read.dated_consents) {
      return Failure{dated_with_open_time()};
    }
    return plan_base(policy, *impl, *open, std::move(*base), read.unknown, options);
  } catch (...) {
    Plan out;
    out.complete = false;
    return out;
  }
}

}  // namespace clause
