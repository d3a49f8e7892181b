#include "records.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

#include "clause/detail.hpp"

namespace clause::db {
namespace {

constexpr std::int64_t day_micros = std::int64_t{86'400} * 1'000'000;
constexpr std::size_t pool_size = 24;

Instant at(std::string_view text) {
  return *parse_time(text);
}

Instant midnight(Instant t) {
  return Instant{t.micros - (((t.micros % day_micros) + day_micros) % day_micros)};
}

Duration negated(const Duration& d) {
  return Duration{-d.years, -d.months, -d.days, -d.seconds};
}

bool is_data(std::string_view path) {
  return path.starts_with("data.");
}

template <typename T>
bool contains(const std::vector<T>& list, const T& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

void set_attribute(Request& r, const std::string& path, const Value& value) {
  auto it = std::find_if(r.attributes.begin(), r.attributes.end(),
                         [&](const Attribute& a) { return a.path == path; });
  if (std::holds_alternative<std::monostate>(value)) {
    if (it != r.attributes.end()) r.attributes.erase(it);
  } else if (it != r.attributes.end()) {
    it->value = value;
  } else {
    r.attributes.push_back(Attribute{path, value});
  }
}

std::string consent_text(const ConsentRecord& c) {
  std::string out = c.id;
  if (c.expires) out += " expires " + format_date_time(*c.expires);
  if (c.withdrawn) out += " withdrawn " + format_date_time(*c.withdrawn);
  return out;
}

ColumnType column_type(AttrType type) {
  switch (type) {
    case AttrType::integer:
      return ColumnType::integer;
    case AttrType::boolean:
      return ColumnType::boolean;
    case AttrType::date:
      return ColumnType::date;
    case AttrType::time:
      return ColumnType::timestamp;
    case AttrType::string_list:
      return ColumnType::text_list;
    case AttrType::string:
      break;
  }
  return ColumnType::text;
}

}  // namespace

std::string describe(const Request& r) {
  std::vector<std::string> consents = r.consent;
  for (const ConsentRecord& c : r.consent_records)
    consents.push_back(consent_text(c));
  std::string out = fmt::format(
      "data.category={} requester={} action={} purpose={} facts=[{}] consent=[{}] "
      "objections=[{}]",
      r.data.empty() ? "-" : r.data, r.requester, r.action, r.purpose.value_or("-"),
      fmt::join(r.facts, ", "), fmt::join(consents, "; "), fmt::join(r.objections, ", "));
  if (!r.requester_id.empty()) out += " requester_id=" + r.requester_id;
  for (const Attribute& a : r.attributes)
    out += fmt::format(" {}={}", a.path, detail::value_text(a.value));
  return out;
}

World::World(const Policy& policy, SqlMapping mapping, std::uint64_t seed)
    : policy_(policy), checked_(policy.checked()), mapping_(std::move(mapping)), rng_(seed) {
  const auto has = [](const std::vector<dsl::Term>& terms, std::string_view name) {
    return std::any_of(terms.begin(), terms.end(),
                       [&](const dsl::Term& t) { return t.name == name; });
  };
  for (const auto& [path, where] : mapping_.fields) {
    Field f{Field::Kind::attribute, path, nullptr, where};
    if (path == "data.category") {
      f.kind = Field::Kind::category;
    } else if (path == "context.purpose") {
      f.kind = Field::Kind::purpose;
    } else if (path == "context.consent") {
      f.kind = Field::Kind::consent;
      consent_dates_ = !where.join.expires.empty() || !where.join.withdrawn.empty();
    } else if (path == "context.objections") {
      f.kind = Field::Kind::objections;
    } else if (path.starts_with("context.") && has(checked_.facts, path.substr(8))) {
      f.kind = Field::Kind::fact;
    } else {
      auto it = std::find_if(checked_.attributes.begin(), checked_.attributes.end(),
                             [&](const dsl::AttributeInfo& a) { return a.path == path; });
      if (it == checked_.attributes.end())
        throw std::runtime_error("the mapping names " + path +
                                 ", which the policy does not declare");
      f.attribute = &*it;
    }
    const bool per_person = f.kind == Field::Kind::consent || f.kind == Field::Kind::objections;
    if (where.kind == SqlColumn::Kind::join) {
      if (per_person == (where.join.references == "id"))
        throw std::runtime_error(path +
                                 ": consents and objections are joined by person, lists "
                                 "by record id");
      if (per_person) person_column_ = where.join.references;
    } else if (per_person) {
      throw std::runtime_error(path + ": consents and objections stand in a table of their own");
    }
    fields_.push_back(f);
  }
  for (const Field& f : fields_) {
    if (f.where.kind == SqlColumn::Kind::column && f.where.column == person_column_)
      person_field_ = f.path;
  }

  for (std::size_t i = 1; i <= pool_size; ++i)
    pool_.push_back(fmt::format("p-{}", i));
  // Ids that quoting, JSON, array literals, COPY and LIKE would each get wrong.
  for (const char* odd : {"o'brien", "q\"u\\b\tc", "\u00fc-7", "a%_b"})
    pool_.push_back(odd);
  // Request times: spread around one day, with the edges the policies name (the clinic's
  // notice takes effect on 2026-01-01, clause S on 2026-02-16) and 2026-03-01, which is
  // 2020-02-29 + 6 years when a year rolls a leap day over.
  const Instant base = at("2026-05-01T09:00:00Z");
  for (const char* edge : {"2026-03-01T00:00:00Z", "2026-02-16T00:00:00Z", "2025-12-31T23:59:59Z",
                           "2026-01-01T00:00:00Z", "2026-02-28T12:00:00Z"})
    times_.push_back(at(edge));
  for (int i = 0; i < 7; ++i)
    times_.push_back(near(base, 150));

  for (const dsl::CheckedRule& rule : checked_.rules)
    if (!rule.requesters.any || !rule.actions.any) rules_.push_back(&rule);
  std::shuffle(rules_.begin(), rules_.end(), rng_);

  constants_.resize(checked_.attributes.size());
  offsets_.resize(checked_.attributes.size());
  const auto time = checked_.time_attribute;
  for (const dsl::AttributeTest& t : checked_.tests) {
    if (t.kind != dsl::AttributeTest::Kind::compare) continue;
    if (t.rhs == dsl::no_id) {
      constants_[t.lhs].push_back(t.constant);
    } else if (static_cast<std::int32_t>(t.lhs) == time) {
      offsets_[t.rhs].push_back(negated(t.shift));  // time op rhs + shift: rhs near time - shift
    } else if (t.rhs == time) {
      offsets_[t.lhs].push_back(t.shift);
    }
  }
}

const std::string& World::pick(const std::vector<std::string>& names) {
  return names[rng_() % names.size()];
}

Instant World::near(Instant center, std::int64_t days) {
  const auto span = static_cast<std::uint64_t>(2 * days + 1);
  const std::int64_t d = static_cast<std::int64_t>(rng_() % span) - days;
  const auto s = static_cast<std::int64_t>(rng_() % 86'400);
  return Instant{center.micros + d * day_micros + s * 1'000'000};
}

Value World::attribute_value(const dsl::AttributeInfo& a) {
  const auto index = static_cast<std::size_t>(&a - checked_.attributes.data());
  const std::vector<Value>& constants = constants_[index];
  if (a.optional && rng_() % 6 == 0) return std::monostate{};
  switch (a.type) {
    case AttrType::string:
      if (!a.members.empty()) return pick(a.members);
      if (!constants.empty() && rng_() % 3 == 0) return constants[rng_() % constants.size()];
      return pick(pool_);
    case AttrType::integer: {
      const std::int64_t low = a.range ? a.range->low : 0;
      const std::int64_t high = a.range ? a.range->high : 100;
      std::int64_t v =
          low +
          static_cast<std::int64_t>(
              rng_() % static_cast<std::uint64_t>(std::min<std::int64_t>(high - low, 100) + 1));
      if (!constants.empty() && rng_() % 4 != 0) {
        // Each side of every constant the policy compares with: 17, 18 and 19 for `< 18`.
        v = std::get<std::int64_t>(constants[rng_() % constants.size()]) +
            static_cast<std::int64_t>(rng_() % 3) - 1;
      }
      return std::clamp(v, low, high);
    }
    case AttrType::boolean:
      return rng_() % 2 == 0;
    case AttrType::date: {
      if (rng_() % 25 == 0) return at("2020-02-29");
      if (!offsets_[index].empty()) {
        const Instant center =
            add(times_[rng_() % times_.size()], offsets_[index][rng_() % offsets_[index].size()]);
        return midnight(rng_() % 4 == 0 ? center : near(center, 150));
      }
      if (!constants.empty() && rng_() % 2 == 0) {
        const Instant c = std::get<Instant>(constants[rng_() % constants.size()]);
        return Instant{c.micros + (static_cast<std::int64_t>(rng_() % 3) - 1) * day_micros};
      }
      return midnight(near(times_.back(), 300));
    }
    case AttrType::time:
      if (static_cast<std::int32_t>(index) == checked_.time_attribute)
        return times_[rng_() % times_.size()];
      return near(times_.back(), 200);
    case AttrType::string_list: {
      std::vector<std::string> list;
      for (auto n = rng_() % 4; n > 0; --n)
        list.push_back(pick(pool_));
      return list;
    }
  }
  return std::monostate{};
}

std::vector<ConsentRecord> World::consents(bool dated) {
  std::vector<ConsentRecord> out;
  // A date at a request time exactly, or near one: a consent ending at the request's
  // time no longer counts.
  const auto date = [&]() {
    return rng_() % 3 == 0 ? times_[rng_() % times_.size()] : near(times_.back(), 200);
  };
  for (const dsl::Term& consent : checked_.consents) {
    const auto roll = rng_() % 20;
    const int copies = roll < 11 ? 1 : roll < 13 ? 2 : 0;
    for (int i = 0; i < copies; ++i) {
      ConsentRecord c{consent.name, std::nullopt, std::nullopt};
      if (dated && rng_() % 2 == 0) c.expires = date();
      if (dated && rng_() % 4 == 0) c.withdrawn = date();
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<std::string> World::objections() {
  std::vector<std::string> out;
  for (const dsl::Term& objection : checked_.objections)
    if (rng_() % 10 < 3) out.push_back(objection.name);
  return out;
}

void World::generate(std::size_t rows) {
  people_.clear();
  for (const std::string& id : pool_)
    people_.push_back(Person{id, consents(consent_dates_), objections()});
  records_.clear();
  records_.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    Record r;
    r.id = static_cast<std::int64_t>(i) + 1;
    r.person = rng_() % people_.size();
    for (const Field& f : fields_) {
      switch (f.kind) {
        case Field::Kind::category:
          r.values[f.path] = checked_.data[rng_() % checked_.data.size()].name;
          break;
        case Field::Kind::purpose:
          if (rng_() % 4 == 0) {
            r.values[f.path] = std::monostate{};
          } else {
            r.values[f.path] = checked_.purposes[rng_() % checked_.purposes.size()].name;
          }
          break;
        case Field::Kind::fact:
          r.values[f.path] = rng_() % 3 == 0;
          break;
        case Field::Kind::attribute: {
          Value v = attribute_value(*f.attribute);
          // A table of elements says "none" but not "absent".
          if (f.where.kind == SqlColumn::Kind::join && std::holds_alternative<std::monostate>(v))
            v = std::vector<std::string>{};
          r.values[f.path] = std::move(v);
          break;
        }
        case Field::Kind::consent:
        case Field::Kind::objections:
          break;
      }
    }
    if (!person_field_.empty()) r.values[person_field_] = people_[r.person].id;
    records_.push_back(std::move(r));
  }
}

std::vector<Table> World::tables() const {
  Table main{mapping_.table, {{"id", ColumnType::id, false}}, {}, ""};
  const bool person_column = !person_column_.empty() && person_field_.empty();
  if (person_column) main.columns.push_back({person_column_, ColumnType::text, false});
  std::vector<const Field*> in_main;
  std::vector<Table> joined;
  for (const Field& f : fields_) {
    if (f.where.kind == SqlColumn::Kind::join) {
      const SqlJoin& j = f.where.join;
      Table t{j.table,
              {{j.key, j.references == "id" ? ColumnType::integer : ColumnType::text, false},
               {j.value, ColumnType::text, false}},
              {},
              j.key};
      if (!j.expires.empty()) t.columns.push_back({j.expires, ColumnType::timestamp, true});
      if (!j.withdrawn.empty()) t.columns.push_back({j.withdrawn, ColumnType::timestamp, true});
      if (f.kind == Field::Kind::consent) {
        for (const Person& p : people_) {
          for (const ConsentRecord& c : p.consents) {
            std::vector<Value> row{p.id, c.id};
            if (!j.expires.empty()) row.push_back(c.expires ? Value{*c.expires} : Value{});
            if (!j.withdrawn.empty()) row.push_back(c.withdrawn ? Value{*c.withdrawn} : Value{});
            t.rows.push_back(std::move(row));
          }
        }
      } else if (f.kind == Field::Kind::objections) {
        for (const Person& p : people_)
          for (const std::string& o : p.objections)
            t.rows.push_back({p.id, o});
      } else {
        for (const Record& r : records_)
          for (const std::string& e : std::get<std::vector<std::string>>(r.values.at(f.path)))
            t.rows.push_back({r.id, e});
      }
      joined.push_back(std::move(t));
      continue;
    }
    Column c{f.where.column, ColumnType::text, false};
    switch (f.kind) {
      case Field::Kind::purpose:
        c.nullable = true;
        break;
      case Field::Kind::fact:
        c.type = ColumnType::boolean;
        break;
      case Field::Kind::attribute:
        c.nullable = f.attribute->optional;
        c.type = column_type(f.attribute->type);
        break;
      default:
        break;
    }
    if (f.where.kind == SqlColumn::Kind::array) c.type = ColumnType::text_list;
    main.columns.push_back(c);
    in_main.push_back(&f);
  }
  main.rows.reserve(records_.size());
  for (const Record& r : records_) {
    std::vector<Value> row{r.id};
    if (person_column) row.push_back(people_[r.person].id);
    for (const Field* f : in_main)
      row.push_back(r.values.at(f->path));
    main.rows.push_back(std::move(row));
  }
  std::vector<Table> out{std::move(main)};
  for (Table& t : joined)
    out.push_back(std::move(t));
  return out;
}

Question World::question() {
  Question q;
  Request& r = q.partial.known;
  // A requester and an action the next rule names, mostly (most other pairs are denied
  // outright), taking the rules in a shuffled round so that each is asked about.
  std::uint32_t requester = rng_() % checked_.requesters.size();
  std::uint32_t action = rng_() % checked_.actions.size();
  if (!rules_.empty() && rng_() % 5 != 0) {
    const dsl::CheckedRule& rule = *rules_[next_rule_++ % rules_.size()];
    if (!rule.requesters.any) {
      requester = rule.requesters.ids[rng_() % rule.requesters.ids.size()];
      std::vector<std::uint32_t> children;
      for (std::uint32_t i = 0; i < checked_.requesters.size(); ++i) {
        if (checked_.requesters[i].parent == static_cast<std::int32_t>(requester))
          children.push_back(i);
      }
      if (!children.empty() && rng_() % 2 == 0) requester = children[rng_() % children.size()];
    }
    if (!rule.actions.any) action = rule.actions.ids[rng_() % rule.actions.ids.size()];
  }
  r.requester = checked_.requesters[requester].name;
  r.action = checked_.actions[action].name;
  r.data = checked_.data[rng_() % checked_.data.size()].name;
  if (!checked_.purposes.empty() && rng_() % 4 != 0)
    r.purpose = checked_.purposes[rng_() % checked_.purposes.size()].name;
  for (const dsl::Term& fact : checked_.facts)
    if (rng_() % 10 < 3) r.facts.push_back(fact.name);
  for (const dsl::AttributeInfo& a : checked_.attributes)
    set_attribute(r, a.path, attribute_value(a));
  const Person& someone = people_[rng_() % people_.size()];
  r.consent_records = someone.consents;
  r.objections = someone.objections;

  std::vector<std::string>& unknown = q.partial.unknown;
  const auto mapped = [&](std::string_view path) { return mapping_.fields.contains(path); };
  const auto mode = rng_() % 6;  // 0: the category alone; 1, 2: some context too
  if (mode == 0 && mapped("data.category")) {
    unknown.push_back("data.category");
  } else {
    unknown.push_back("data");
    for (const char* per_person : {"context.consent", "context.objections"})
      if (mapped(per_person)) unknown.push_back(per_person);
    if (mode == 1 || mode == 2) {
      // Some of the request's context stands in the record too.
      for (const Field& f : fields_) {
        if (is_data(f.path) || f.kind == Field::Kind::consent ||
            f.kind == Field::Kind::objections || rng_() % 2 == 0)
          continue;
        unknown.push_back(f.path);
      }
    }
  }
  for (const std::string& u : unknown) {
    if (u == "data") {
      r.data.clear();
      std::erase_if(r.attributes, [](const Attribute& a) { return is_data(a.path); });
    } else if (u == "data.category") {
      r.data.clear();
    } else if (u == "context.consent") {
      r.consent_records.clear();
    } else if (u == "context.objections") {
      r.objections.clear();
    } else if (u == "context.purpose") {
      r.purpose.reset();
    } else {
      std::erase(r.facts, u.substr(8));
      set_attribute(r, u, std::monostate{});
    }
  }
  for (const Field& f : fields_) {
    const bool open =
        contains(unknown, f.path) || (is_data(f.path) && contains(unknown, std::string("data")));
    if (open) q.open.push_back(f);
  }
  return q;
}

void World::complete(const Question& question, const Record& record, Request& out) const {
  out = question.partial.known;
  for (const Field& f : question.open) {
    switch (f.kind) {
      case Field::Kind::consent:
        out.consent_records = people_[record.person].consents;
        break;
      case Field::Kind::objections:
        out.objections = people_[record.person].objections;
        break;
      case Field::Kind::category:
        out.data = std::get<std::string>(record.values.at(f.path));
        break;
      case Field::Kind::purpose: {
        const Value& v = record.values.at(f.path);
        if (const auto* s = std::get_if<std::string>(&v)) out.purpose = *s;
        break;
      }
      case Field::Kind::fact:
        if (std::get<bool>(record.values.at(f.path))) out.facts.push_back(f.path.substr(8));
        break;
      case Field::Kind::attribute:
        set_attribute(out, f.path, record.values.at(f.path));
        break;
    }
  }
}

std::string World::describe(const Record& record) const {
  const Person& p = people_[record.person];
  std::vector<std::string> consents;
  for (const ConsentRecord& c : p.consents)
    consents.push_back(consent_text(c));
  std::string out = fmt::format("id={} person={}", record.id, p.id);
  for (const auto& [path, value] : record.values)
    out += fmt::format(" {}={}", path, detail::value_text(value));
  return out + fmt::format(" consents=[{}] objections=[{}]", fmt::join(consents, "; "),
                           fmt::join(p.objections, ", "));
}

}  // namespace clause::db
