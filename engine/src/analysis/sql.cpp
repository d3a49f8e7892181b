// Stage: analysis (output). Writes a plan's residual conditions as SQL over the columns a
// mapping names. Values are always bound parameters; names come from the mapping, which
// takes plain identifiers only, and are quoted.
#include "clause/sql.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analysis/shift_preimage.hpp"
#include "core/attribute_test.hpp"
#include "core/policy_impl.hpp"

namespace clause {
namespace detail {
std::optional<RequestError> unmappable_field(const Policy& policy, const SqlMapping& mapping);
}  // namespace detail

namespace {

constexpr std::int64_t micros_per_second = 1'000'000;
constexpr std::int64_t micros_per_day = 86'400 * micros_per_second;

// `"records"`, `"public"."records"`: the mapping took plain identifiers only.
std::string quote(std::string_view name) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    out += '"';
    out += name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    out += '"';
    if (dot == std::string_view::npos) return out;
    out += '.';
    start = dot + 1;
  }
}

std::string_view sql_op(PlanTest::Op op) {
  switch (op) {
    case PlanTest::Op::eq:
      return "=";
    case PlanTest::Op::ne:
      return "<>";
    case PlanTest::Op::lt:
      return "<";
    case PlanTest::Op::le:
      return "<=";
    case PlanTest::Op::gt:
      return ">";
    case PlanTest::Op::ge:
      return ">=";
  }
  return "=";
}

// `a op b` read as `b op' a`.
PlanTest::Op mirrored(PlanTest::Op op) {
  switch (op) {
    case PlanTest::Op::lt:
      return PlanTest::Op::gt;
    case PlanTest::Op::le:
      return PlanTest::Op::ge;
    case PlanTest::Op::gt:
      return PlanTest::Op::lt;
    case PlanTest::Op::ge:
      return PlanTest::Op::le;
    default:
      return op;
  }
}

// The type a parameter is read as, for binding equal values once.
std::string_view read_as(AttrType type) {
  return type == AttrType::string ? "text" : to_string(type);
}

std::string joined(const std::vector<std::string>& terms, std::string_view glue) {
  std::string out;
  for (const std::string& t : terms) {
    if (!out.empty()) out += glue;
    out += t;
  }
  return out;
}

// Writes the conditions of one plan into one list of parameters.
class SqlWriter {
 public:
  SqlWriter(const dsl::CheckedPolicy& c, const SqlMapping& m, SqlDialect dialect,
            std::optional<Instant> time, std::vector<SqlValue>& parameters)
      : c_(c), m_(m), dialect_(dialect), time_(time), table_(quote(m.table)), params_(parameters) {}

  // A part's conditions, each as SQL; none: the part always holds.
  Result<std::vector<std::string>, RequestError> terms(const std::vector<PlanTest>& tests) {
    std::vector<std::string> out;
    for (const PlanTest& t : tests) {
      auto sql = test(t);
      if (!sql) return Failure{std::move(sql.error())};
      out.push_back(std::move(*sql));
    }
    return out;
  }

 private:
  Result<std::string, RequestError> test(const PlanTest& t) {
    switch (t.kind) {
      case PlanTest::Kind::category:
        return category(t);
      case PlanTest::Kind::purpose:
        return purpose(t);
      case PlanTest::Kind::fact: {
        auto col = scalar_column("context." + t.names.at(0), t);
        if (!col) return col;
        return *col + (t.negated ? " IS NOT TRUE" : " IS TRUE");
      }
      case PlanTest::Kind::consent:
        return listed_name("context.consent", t);
      case PlanTest::Kind::objection:
        return listed_name("context.objections", t);
      case PlanTest::Kind::truth: {
        auto col = scalar_column(t.left.path, t);
        if (!col) return col;
        if (optional(t.left.path)) return *col + (t.negated ? " IS NOT TRUE" : " IS TRUE");
        return t.negated ? "NOT " + *col : *col;
      }
      case PlanTest::Kind::member:
        return member(t);
      case PlanTest::Kind::compare:
        return compare(t);
    }
    return std::string("FALSE");
  }

  // A value bound once however often the condition reads it. `as` is the type the SQL
  // reads it as: PostgreSQL gives each parameter one type, so a date and a name that are
  // the same text are bound apart.
  std::string param(SqlValue v, std::string_view as = "text") {
    std::size_t at = 0;
    while (at < params_.size() && !(params_[at] == v && read_as_[at] == as))
      ++at;
    if (at == params_.size()) {
      params_.push_back(std::move(v));
      read_as_.emplace_back(as);
    }
    return fmt::format("{}{}", dialect_ == SqlDialect::postgres ? '$' : '?', at + 1);
  }

  std::string params_list(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const std::string& n : names)
      out.push_back(param(n));
    return joined(out, ", ");
  }

  // `not P` where P may read an absent value: SQL's NULL is then neither true nor false,
  // and a test that reads a missing value is false, so its `not` is true.
  static std::string negated(const std::string& sql, bool nullable) {
    return nullable ? fmt::format("({}) IS NOT TRUE", sql) : fmt::format("NOT ({})", sql);
  }

  const dsl::AttributeInfo* attribute(std::string_view path) const {
    for (const dsl::AttributeInfo& a : c_.attributes) {
      if (a.path == path) return &a;
    }
    return nullptr;
  }
  bool optional(std::string_view path) const {
    const dsl::AttributeInfo* a = attribute(path);
    return a != nullptr && a->optional;
  }

  RequestError unmapped(const std::string& field, const PlanTest& t) const {
    return RequestError{field, field,
                        fmt::format("no column is mapped for `{}`, which the plan's condition `{}` "
                                    "reads; map it in the mapping's `fields`",
                                    field, to_string(t)),
                        std::nullopt};
  }
  RequestError wrong_form(const std::string& field, std::string_view wanted) const {
    return RequestError{fmt::format("fields[\"{}\"]", field), field,
                        fmt::format("`{}` maps to {}", field, wanted), std::nullopt};
  }

  Result<const SqlColumn*, RequestError> mapped(const std::string& field, const PlanTest& t) const {
    const auto it = m_.fields.find(field);
    if (it == m_.fields.end()) return Failure{unmapped(field, t)};
    return &it->second;
  }

  // A field that maps to a column of the filtered table.
  Result<std::string, RequestError> scalar_column(const std::string& field, const PlanTest& t) {
    auto col = mapped(field, t);
    if (!col) return Failure{std::move(col.error())};
    if ((*col)->kind != SqlColumn::Kind::column) {
      return Failure{wrong_form(field, "a column of the filtered table: {\"column\": C}")};
    }
    return table_ + "." + quote((*col)->column);
  }

  Result<std::string, RequestError> category(const PlanTest& t) {
    auto col = scalar_column("data.category", t);
    if (!col) return col;
    if (t.names.size() == 1)
      return fmt::format("{} {} {}", *col, t.negated ? "<>" : "=", param(t.names[0]));
    return fmt::format("{} {}IN ({})", *col, t.negated ? "NOT " : "", params_list(t.names));
  }

  Result<std::string, RequestError> purpose(const PlanTest& t) {
    auto col = scalar_column("context.purpose", t);
    if (!col) return col;
    std::vector<std::string> terms;
    if (!t.names.empty()) {
      terms.push_back(t.names.size() == 1 ? fmt::format("{} = {}", *col, param(t.names[0]))
                                          : fmt::format("{} IN ({})", *col, params_list(t.names)));
    }
    if (t.absent) terms.push_back(*col + " IS NULL");
    if (terms.empty()) return std::string(t.negated ? "TRUE" : "FALSE");
    const std::string positive =
        terms.size() == 1 ? terms[0] : fmt::format("({})", joined(terms, " OR "));
    return t.negated ? negated(positive, !t.absent) : positive;
  }

  // The rows of a join table that belong to the filtered row.
  std::string join_rows(const SqlJoin& j) const {
    return fmt::format("FROM {} AS \"joined\" WHERE \"joined\".{} = {}.{}", quote(j.table),
                       quote(j.key), table_, quote(j.references));
  }

  // `value` is in the list `field` maps to (a join table, or an array column).
  Result<std::string, RequestError> in_list(const SqlColumn& list, const std::string& value,
                                            const std::string& extra = {}) const {
    if (list.kind == SqlColumn::Kind::join) {
      return fmt::format("EXISTS (SELECT 1 {} AND \"joined\".{} = {}{})", join_rows(list.join),
                         quote(list.join.value), value, extra);
    }
    const std::string array = table_ + "." + quote(list.column);
    if (dialect_ == SqlDialect::postgres) return fmt::format("{} = ANY({})", value, array);
    return fmt::format(
        "EXISTS (SELECT 1 FROM json_each({}) AS \"joined\" WHERE "
        "\"joined\".\"value\" = {})",
        array, value);
  }

  // A consent granted, or an objection made, by the person the row is about.
  Result<std::string, RequestError> listed_name(const std::string& field, const PlanTest& t) {
    auto col = mapped(field, t);
    if (!col) return Failure{std::move(col.error())};
    const SqlColumn& list = **col;
    if (list.kind == SqlColumn::Kind::column) {
      return Failure{
          wrong_form(field, "an array column or a table: {\"array\": C} or {\"table\": T, ...}")};
    }
    const std::string name = param(t.names.at(0));
    std::string extra;
    if (list.kind == SqlColumn::Kind::join) {
      // A dated consent counts while each of its dates is later than context.time.
      for (const std::string& end : {list.join.expires, list.join.withdrawn}) {
        if (end.empty()) continue;
        const std::string e = "\"joined\"." + quote(end);
        auto now = time_sql(t);
        if (!now) return now;
        extra += now->empty() ? fmt::format(" AND {} IS NULL", e)
                              : fmt::format(" AND ({} IS NULL OR {} > {})", e, e, *now);
      }
    }
    auto sql = in_list(list, name, extra);
    if (!sql) return sql;
    // EXISTS is true or false; `= ANY` over a NULL array is NULL.
    if (!t.negated) return sql;
    return negated(*sql, list.kind == SqlColumn::Kind::array);
  }

  // context.time as the SQL reads it: a parameter when given, its column when open, empty
  // when the request has none (a dated consent then does not count).
  Result<std::string, RequestError> time_sql(const PlanTest& t) {
    if (time_) {
      if (dialect_ == SqlDialect::postgres) return param(format_date_time(*time_), "time");
      return param(floor_div(time_->micros, micros_per_second), "time");
    }
    if (attribute("context.time") == nullptr) return std::string();
    const bool open = m_.fields.contains("context.time");
    if (!open) return Failure{unmapped("context.time", t)};
    return scalar_column("context.time", t);
  }

  static std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
  }

  // A value as a parameter of a column of the attribute's type.
  SqlValue value(const Value& v, AttrType type) const {
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
    if (const auto* b = std::get_if<bool>(&v)) return *b;
    if (const auto* at = std::get_if<Instant>(&v)) {
      if (type == AttrType::date) return format_date(*at);
      if (dialect_ == SqlDialect::postgres) return format_date_time(*at);
      return floor_div(at->micros, micros_per_second);
    }
    return std::string();
  }

  Result<std::string, RequestError> member(const PlanTest& t) {
    const bool left_open = !t.left.path.empty();
    const bool right_open = !t.right.path.empty();
    std::string sql;
    bool nullable = left_open && optional(t.left.path);
    if (right_open) {
      auto list = mapped(t.right.path, t);
      if (!list) return Failure{std::move(list.error())};
      if ((*list)->kind == SqlColumn::Kind::column) {
        return Failure{wrong_form(
            t.right.path, "an array column or a table: {\"array\": C} or {\"table\": T, ...}")};
      }
      std::string left;
      if (left_open) {
        auto col = scalar_column(t.left.path, t);
        if (!col) return col;
        left = *col;
      } else {
        const auto* s = std::get_if<std::string>(&t.left.value);
        if (s == nullptr) return std::string(t.negated ? "TRUE" : "FALSE");
        left = param(*s);
      }
      auto in = in_list(**list, left);
      if (!in) return in;
      sql = std::move(*in);
      nullable = nullable || ((*list)->kind == SqlColumn::Kind::array);
    } else if (left_open) {
      auto col = scalar_column(t.left.path, t);
      if (!col) return col;
      const auto* names = std::get_if<std::vector<std::string>>(&t.right.value);
      if (names == nullptr || names->empty()) {
        sql = "FALSE";
        nullable = false;
      } else {
        sql = fmt::format("{} IN ({})", *col, params_list(*names));
      }
    } else {
      return constant(t);
    }
    return t.negated ? negated(sql, nullable) : sql;
  }

  // A test on values alone: decided here, as the engine decides it.
  std::string constant(const PlanTest& t) const {
    Request none;
    return holds(t, none) ? "TRUE" : "FALSE";
  }

  Result<std::string, RequestError> compare(const PlanTest& t) {
    const bool left_open = !t.left.path.empty();
    const bool right_open = !t.right.path.empty();
    if (!left_open && !right_open) return constant(t);
    const bool shifted = !(t.shift == Duration{});
    std::string sql;
    bool nullable = false;
    if (left_open && right_open) {
      const dsl::AttributeInfo* l = attribute(t.left.path);
      const dsl::AttributeInfo* r = attribute(t.right.path);
      if (l == nullptr || r == nullptr) return constant(t);
      if (t.shift.years != 0 || t.shift.months != 0) {
        return Failure{RequestError{
            t.left.path, t.left.path,
            fmt::format("`{}` compares two open fields apart by years or months, which SQL "
                        "counts otherwise at the end of a month: give one of them in the "
                        "request",
                        to_string(t)),
            std::nullopt}};
      }
      auto a = scalar_column(t.left.path, t);
      if (!a) return a;
      auto b = scalar_column(t.right.path, t);
      if (!b) return b;
      nullable = l->optional || r->optional;
      if (!shifted && l->type == r->type) {
        sql = fmt::format("{}{} {} {}", *a, collation(l->type, t.op), sql_op(t.op), *b);
      } else {
        // A date and a date-time, or a shift of days and seconds (fixed lengths): both
        // sides as instants.
        const std::int64_t seconds = std::int64_t{t.shift.days} * 86'400 + t.shift.seconds;
        std::string right = instant_sql(*b, r->type);
        if (seconds != 0) {
          right =
              dialect_ == SqlDialect::postgres
                  ? fmt::format("{} + make_interval(secs => {})", right, param(seconds, "seconds"))
                  : fmt::format("{} + {}", right, param(seconds, "seconds"));
        }
        sql = fmt::format("{} {} {}", instant_sql(*a, l->type), sql_op(t.op), right);
      }
    } else {
      // One side open: the column, compared with the other side's value.
      const std::string& path = left_open ? t.left.path : t.right.path;
      const dsl::AttributeInfo* a = attribute(path);
      if (a == nullptr) return constant(t);
      auto col = scalar_column(path, t);
      if (!col) return col;
      const Value& known = left_open ? t.right.value : t.left.value;
      nullable = a->optional;
      if (std::holds_alternative<std::monostate>(known))
        return std::string(t.negated ? "TRUE" : "FALSE");
      if (const auto* at = std::get_if<Instant>(&known)) {
        // `x op v + shift`, or `v op x + shift`: the instants x for which it holds.
        const auto ranges = left_open
                                ? detail::shifted_preimage(Duration{}, t.op, add(*at, t.shift))
                                : detail::shifted_preimage(t.shift, mirrored(t.op), *at);
        sql = time_ranges(*col, detail::at_resolution(ranges, resolution(a->type)), a->type);
      } else {
        const PlanTest::Op op = left_open ? t.op : mirrored(t.op);
        sql = fmt::format("{}{} {} {}", *col, collation(a->type, op), sql_op(op),
                          param(value(known, a->type), read_as(a->type)));
      }
    }
    return t.negated ? negated(sql, nullable) : sql;
  }

  // A date or date-time column as an instant: a PostgreSQL timestamptz, SQLite's Unix
  // seconds. A date is its midnight in UTC, as the engine reads it.
  std::string instant_sql(const std::string& col, AttrType type) const {
    if (type != AttrType::date) return col;
    if (dialect_ == SqlDialect::postgres)
      return fmt::format("({}::timestamp AT TIME ZONE 'UTC')", col);
    return fmt::format("unixepoch({})", col);
  }

  // PostgreSQL orders text by the database's collation; the engine orders bytes.
  std::string_view collation(AttrType type, PlanTest::Op op) const {
    const bool ordering = op != PlanTest::Op::eq && op != PlanTest::Op::ne;
    return ordering && type == AttrType::string && dialect_ == SqlDialect::postgres
               ? " COLLATE \"C\""
               : "";
  }

  // The step of a column's values: a date column holds days; SQLite keeps date-times as
  // Unix seconds.
  std::int64_t resolution(AttrType type) const {
    if (type == AttrType::date) return micros_per_day;
    return dialect_ == SqlDialect::postgres ? 1 : micros_per_second;
  }

  std::string time_ranges(const std::string& col, const std::vector<detail::InstantRange>& ranges,
                          AttrType type) {
    std::vector<std::string> terms;
    const std::int64_t step = resolution(type);
    for (const detail::InstantRange& r : ranges) {
      if (r.from && r.until && r.until->micros - r.from->micros == step) {
        terms.push_back(fmt::format("{} = {}", col, param(value(*r.from, type), read_as(type))));
        continue;
      }
      std::vector<std::string> bounds;
      if (r.from)
        bounds.push_back(fmt::format("{} >= {}", col, param(value(*r.from, type), read_as(type))));
      if (r.until)
        bounds.push_back(fmt::format("{} < {}", col, param(value(*r.until, type), read_as(type))));
      if (bounds.empty()) bounds.push_back(col + " IS NOT NULL");
      terms.push_back(joined(bounds, " AND "));
    }
    if (terms.empty()) return "FALSE";
    if (terms.size() == 1) return terms[0];
    for (std::string& term : terms)
      term = "(" + term + ")";
    return "(" + joined(terms, " OR ") + ")";
  }

  const dsl::CheckedPolicy& c_;
  const SqlMapping& m_;
  SqlDialect dialect_;
  std::optional<Instant> time_;
  std::string table_;
  std::vector<SqlValue>& params_;
  std::vector<std::string> read_as_;  // the type each parameter is read as
};

std::string conjunction(const std::vector<std::string>& terms) {
  return terms.empty() ? "TRUE" : joined(terms, " AND ");
}

// A condition written in SQL, and whether OR joins it at the top (AND binds first).
struct Written {
  std::string sql;
  bool either = false;
};

// The parts (each the AND of its terms) joined by OR, with a term that several parts share
// taken out once: `a AND b OR a AND c` is written `a AND (b OR c)`. The same question then
// asks each subquery fewer times per row, as a hand-written WHERE would.
Written factored(std::vector<std::vector<std::string>> parts) {
  if (parts.empty()) return {"FALSE", false};
  for (const auto& part : parts) {
    if (part.empty()) return {"TRUE", false};
  }
  if (parts.size() == 1) return {conjunction(parts[0]), false};
  // The term most parts share; the first met on a tie, so that the text is stable.
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& part : parts) {
    for (const std::string& term : part) {
      auto it = std::find_if(counts.begin(), counts.end(),
                             [&](const auto& c) { return c.first == term; });
      if (it == counts.end()) {
        counts.emplace_back(term, 1);
      } else {
        ++it->second;
      }
    }
  }
  const auto best =
      std::max_element(counts.begin(), counts.end(),
                       [](const auto& a, const auto& b) { return a.second < b.second; });
  if (best->second < 2) {
    std::vector<std::string> each;
    for (const auto& part : parts)
      each.push_back(conjunction(part));
    return {joined(each, " OR "), true};
  }
  const std::string common = best->first;
  std::vector<std::vector<std::string>> with;
  std::vector<std::vector<std::string>> without;
  for (auto& part : parts) {
    const auto at = std::find(part.begin(), part.end(), common);
    if (at == part.end()) {
      without.push_back(std::move(part));
    } else {
      part.erase(at);
      with.push_back(std::move(part));
    }
  }
  const Written rest = factored(std::move(with));
  Written out{rest.sql == "TRUE"
                  ? common
                  : common + " AND " + (rest.either ? "(" + rest.sql + ")" : rest.sql),
              false};
  if (without.empty()) return out;
  out.sql += " OR " + factored(std::move(without)).sql;
  out.either = true;
  return out;
}

Result<SqlOutcome, RequestError> outcome_sql(const dsl::CheckedPolicy& c, const Plan& plan,
                                             const PlanOutcome& o, const SqlMapping& m,
                                             SqlDialect dialect) {
  SqlOutcome out;
  out.effect = o.effect;
  out.consent = o.consent;
  SqlWriter whole(c, m, dialect, plan.time, out.condition.parameters);
  // The outcome's condition whichever rule decides: fewer, larger terms than its parts.
  std::vector<std::vector<std::string>> condition;
  for (const std::vector<PlanTest>& tests : o.condition) {
    auto terms = whole.terms(tests);
    if (!terms) return Failure{std::move(terms.error())};
    condition.push_back(std::move(*terms));
  }
  out.condition.where = factored(std::move(condition)).sql;
  for (const PlanPart& p : o.parts) {
    SqlPart part;
    part.rule = p.rule;
    part.clause = p.clause;
    part.obligations = p.obligations;
    SqlWriter alone(c, m, dialect, plan.time, part.condition.parameters);
    auto terms = alone.terms(p.conditions);
    if (!terms) return Failure{std::move(terms.error())};
    part.condition.where = conjunction(*terms);
    out.parts.push_back(std::move(part));
  }
  return out;
}

}  // namespace

std::string_view to_string(SqlDialect dialect) noexcept {
  return dialect == SqlDialect::postgres ? "postgres" : "sqlite";
}

std::optional<SqlDialect> parse_sql_dialect(std::string_view text) noexcept {
  if (text == "postgres" || text == "postgresql") return SqlDialect::postgres;
  if (text == "sqlite") return SqlDialect::sqlite;
  return std::nullopt;
}

Result<SqlFilter, RequestError> sql_filter(const Policy& policy, const Plan& plan,
                                           const SqlMapping& mapping, SqlDialect dialect) noexcept {
  try {
    const detail::PolicyImpl* impl = detail::Access::impl(policy);
    if (impl == nullptr) return Failure{RequestError{"", "", "no policy is loaded", std::nullopt}};
    if (auto bad = detail::unmappable_field(policy, mapping)) return Failure{std::move(*bad)};
    SqlFilter out;
    out.dialect = dialect;
    out.table = mapping.table;
    out.complete = plan.complete;
    if (!plan.complete) {
      // Fail closed: no row is allowed, every row denied.
      out.outcomes.push_back(SqlOutcome{Effect::allow, "", SqlCondition{"FALSE", {}}, {}});
      out.outcomes.push_back(SqlOutcome{Effect::deny, "", SqlCondition{"TRUE", {}}, {}});
      return out;
    }
    for (const PlanOutcome& o : plan.outcomes) {
      auto sql = outcome_sql(impl->checked(), plan, o, mapping, dialect);
      if (!sql) return Failure{std::move(sql.error())};
      out.outcomes.push_back(std::move(*sql));
    }
    return out;
  } catch (...) {
    return Failure{RequestError{"", "", "the SQL filter could not be written", std::nullopt}};
  }
}

}  // namespace clause
