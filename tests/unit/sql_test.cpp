// SQL filters: on random policies with every kind of field open, the rows each outcome's
// WHERE selects in SQLite are exactly the rows whose completed request evaluation gives
// that outcome. Also the mapping's mistakes, and what SQL cannot write exactly.
#include "clause/sql.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "clause/detail.hpp"
#include "grid_request.hpp"
#include "random_attribute_policy.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

using Db = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;
using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

Db open_memory() {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK);
  return Db(db, &sqlite3_close);
}

void exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  INFO(sql << ": " << (message != nullptr ? message : ""));
  sqlite3_free(message);
  REQUIRE(rc == SQLITE_OK);
}

Statement prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  INFO(sql << ": " << sqlite3_errmsg(db));
  REQUIRE(rc == SQLITE_OK);
  return Statement(s, &sqlite3_finalize);
}

void bind(sqlite3_stmt* s, int at, const SqlValue& v) {
  if (const auto* text = std::get_if<std::string>(&v)) {
    sqlite3_bind_text(s, at, text->c_str(), static_cast<int>(text->size()), SQLITE_TRANSIENT);
  } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
    sqlite3_bind_int64(s, at, *i);
  } else {
    sqlite3_bind_int(s, at, std::get<bool>(v) ? 1 : 0);
  }
}

void bind_value(sqlite3_stmt* s, int at, const Value& v) {
  if (const auto* text = std::get_if<std::string>(&v)) {
    sqlite3_bind_text(s, at, text->c_str(), static_cast<int>(text->size()), SQLITE_TRANSIENT);
  } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
    sqlite3_bind_int64(s, at, *i);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    sqlite3_bind_int(s, at, *b ? 1 : 0);
  } else {
    sqlite3_bind_null(s, at);
  }
}

std::set<std::int64_t> select_ids(sqlite3* db, const SqlCondition& c) {
  const Statement s = prepare(db, "SELECT id FROM records WHERE " + c.where);
  for (std::size_t i = 0; i < c.parameters.size(); ++i)
    bind(s.get(), static_cast<int>(i + 1), c.parameters[i]);
  std::set<std::int64_t> out;
  int rc = 0;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
    out.insert(sqlite3_column_int64(s.get(), 0));
  INFO(sqlite3_errmsg(db));
  REQUIRE(rc == SQLITE_DONE);
  return out;
}

// The random policies' fields, as SQLite keeps them: dates as text, date-times as Unix
// seconds, booleans as 0 or 1, the team list as a JSON array or a table of its own, and
// the optional roles the other way round (an absent list: NULL, or no rows).
std::string random_mapping(bool team_in_table) {
  return fmt::format(R"({{"schema_version": 1, "table": "records", "fields": {{
    "data.category": "category", "context.purpose": "purpose",
    "context.f0": "f0", "context.f1": {{"column": "f1"}},
    "data.age": "age", "context.time": "time", "data.last": "last",
    "requester.id": "rid", "data.subject": "subject", "data.paid": "paid",
    "context.place": "place",
    "data.team": {},
    "requester.roles": {},
    "context.consent": {{"table": "consents", "key": "record_id", "value": "consent",
                        "expires": "expires", "withdrawn": "withdrawn"}},
    "context.objections": {{"table": "objections", "key": "record_id", "references": "id",
                           "value": "objection"}}}}}})",
                     team_in_table ? R"({"table": "team", "key": "record_id", "value": "member"})"
                                   : R"({"array": "team"})",
                     team_in_table ? R"({"array": "roles"})"
                                   : R"({"table": "roles", "key": "record_id", "value": "role"})");
}

const char* const random_schema = R"(
  CREATE TABLE records (id INTEGER PRIMARY KEY, category TEXT NOT NULL, purpose TEXT,
    f0 INTEGER NOT NULL, f1 INTEGER NOT NULL, age INTEGER NOT NULL, time INTEGER NOT NULL,
    last TEXT NOT NULL, rid TEXT NOT NULL, subject TEXT NOT NULL, paid INTEGER NOT NULL,
    place TEXT, team TEXT NOT NULL, roles TEXT);
  CREATE TABLE consents (record_id INTEGER, consent TEXT, expires INTEGER, withdrawn INTEGER);
  CREATE TABLE objections (record_id INTEGER, objection TEXT);
  CREATE TABLE team (record_id INTEGER, member TEXT);
  CREATE TABLE roles (record_id INTEGER, role TEXT);
)";

const Value* attribute_of(const Request& r, std::string_view path) {
  for (const Attribute& a : r.attributes) {
    if (a.path == path) return &a.value;
  }
  return nullptr;
}

std::int64_t unix_seconds(const Instant& at) {
  return at.micros / 1'000'000 - (at.micros % 1'000'000 < 0 ? 1 : 0);
}

void insert_row(sqlite3* db, std::int64_t id, const Request& r) {
  const Statement s = prepare(db,
                              "INSERT INTO records VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                              "?9, ?10, ?11, ?12, ?13, ?14)");
  const auto has = [&](const std::vector<std::string>& names, const char* n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  sqlite3_bind_int64(s.get(), 1, id);
  bind_value(s.get(), 2, r.data);
  bind_value(s.get(), 3, r.purpose ? Value(*r.purpose) : Value());
  sqlite3_bind_int(s.get(), 4, has(r.facts, "f0") ? 1 : 0);
  sqlite3_bind_int(s.get(), 5, has(r.facts, "f1") ? 1 : 0);
  bind_value(s.get(), 6, *attribute_of(r, "data.age"));
  sqlite3_bind_int64(s.get(), 7, unix_seconds(std::get<Instant>(*attribute_of(r, "context.time"))));
  bind_value(s.get(), 8, format_date(std::get<Instant>(*attribute_of(r, "data.last"))));
  const Value* rid = attribute_of(r, "requester.id");
  bind_value(s.get(), 9, rid != nullptr ? *rid : Value(r.requester_id));
  bind_value(s.get(), 10, *attribute_of(r, "data.subject"));
  bind_value(s.get(), 11, *attribute_of(r, "data.paid"));
  const Value* place = attribute_of(r, "context.place");
  bind_value(s.get(), 12, place != nullptr ? *place : Value());
  const auto& team = std::get<std::vector<std::string>>(*attribute_of(r, "data.team"));
  nlohmann::json array = team;
  bind_value(s.get(), 13, array.dump());
  const Value* roles_value = attribute_of(r, "requester.roles");
  const auto* roles =
      roles_value != nullptr ? std::get_if<std::vector<std::string>>(roles_value) : nullptr;
  bind_value(s.get(), 14, roles != nullptr ? Value(nlohmann::json(*roles).dump()) : Value());
  REQUIRE(sqlite3_step(s.get()) == SQLITE_DONE);
  for (const std::string& m : team)
    exec(db, fmt::format("INSERT INTO team VALUES ({}, '{}')", id, m));
  for (const std::string& role : roles != nullptr ? *roles : std::vector<std::string>{})
    exec(db, fmt::format("INSERT INTO roles VALUES ({}, '{}')", id, role));
  for (const std::string& k : r.consent)
    exec(db, fmt::format("INSERT INTO consents VALUES ({}, '{}', NULL, NULL)", id, k));
  for (const ConsentRecord& k : r.consent_records) {
    const auto at = [](const std::optional<Instant>& t) {
      return t ? std::to_string(unix_seconds(*t)) : std::string("NULL");
    };
    exec(db, fmt::format("INSERT INTO consents VALUES ({}, '{}', {}, {})", id, k.id, at(k.expires),
                         at(k.withdrawn)));
  }
  for (const std::string& o : r.objections)
    exec(db, fmt::format("INSERT INTO objections VALUES ({}, '{}')", id, o));
}

// SQLite keeps date-times to the second: a completion's times are taken to whole seconds.
Instant whole_seconds(Instant at) {
  return Instant{unix_seconds(at) * 1'000'000};
}

}  // namespace

TEST_CASE("sql: random policies, SQLite rows of each outcome = evaluation", "[sql][property]") {
  std::mt19937_64 rng(1603);
  int checked = 0;
  int refused = 0;  // two open dates apart by years or months
  for (int round = 0; round < 40; ++round) {
    const std::string text = random_attribute_policy(rng, 2 + static_cast<int>(rng() % 6), 0);
    INFO(text);
    const Policy policy = must_compile(text);
    const dsl::CheckedPolicy& c = detail::Access::impl(policy)->checked();
    const auto grid = whole_grid(c);
    if (grid.empty()) continue;
    const bool team_in_table = rng() % 2 == 0;
    const auto mapping = read_sql_mapping(policy, random_mapping(team_in_table));
    INFO((mapping ? "" : mapping.error().to_string()));
    REQUIRE(mapping);
    for (int ask = 0; ask < 4; ++ask) {
      const Request full = grid_request(rng, c, grid);
      PartialRequest pr;
      pr.known = full;
      std::set<std::string> open;
      const auto leave_open = [&](const std::string& field) {
        pr.unknown.push_back(field);
        open.insert(field);
      };
      leave_open("data.category");
      pr.known.data.clear();
      if (rng() % 3 == 0) leave_open("context.purpose"), pr.known.purpose.reset();
      if (rng() % 2 == 0) leave_open("context.consent"), pr.known.consent.clear();
      if (rng() % 2 == 0) leave_open("context.objections"), pr.known.objections.clear();
      if (rng() % 3 == 0) leave_open("context.f0"), std::erase(pr.known.facts, "f0");
      for (const auto& a : c.attributes) {
        if (rng() % 2 == 0) continue;
        leave_open(a.path);
        std::erase_if(pr.known.attributes, [&](const Attribute& x) { return x.path == a.path; });
        if (a.path == "requester.id") pr.known.requester_id.clear();
      }
      for (Attribute& a : pr.known.attributes) {
        if (a.path == "context.time") a.value = whole_seconds(std::get<Instant>(a.value));
      }
      const auto plan = clause::plan(policy, pr);
      REQUIRE(plan);
      if (!plan->complete) continue;
      const auto filter = sql_filter(policy, *plan, *mapping, SqlDialect::sqlite);
      if (!filter && filter.error().message.find("apart by years or months") != std::string::npos) {
        ++refused;
        continue;
      }
      INFO((filter ? "" : filter.error().to_string()));
      REQUIRE(filter);
      ++checked;
      const Db db = open_memory();
      exec(db.get(), random_schema);
      exec(db.get(), "BEGIN");
      std::vector<Decision> decisions;
      for (int row = 0; row < 150; ++row) {
        // A completion: the known fields, and a random request's values for the open ones.
        const Request other = grid_request(rng, c, grid);
        Request r = pr.known;
        const auto is_open = [&](const std::string& f) { return open.contains(f); };
        r.data = other.data;
        if (is_open("context.purpose")) r.purpose = other.purpose;
        if (is_open("context.consent")) {
          r.consent = other.consent;
          // Sometimes a dated consent instead, counted by the request's time.
          const Value* now = attribute_of(other, "context.time");
          if (const Value* known = attribute_of(r, "context.time")) now = known;
          if (rng() % 3 == 0 && now != nullptr) {
            r.consent.clear();
            const Instant t = whole_seconds(std::get<Instant>(*now));
            const auto near = [&] {
              return Instant{t.micros + (static_cast<std::int64_t>(rng() % 5) - 2) * 1'000'000};
            };
            ConsentRecord k{"k0", std::nullopt, std::nullopt};
            if (rng() % 2 == 0) k.expires = near();
            if (rng() % 2 == 0) k.withdrawn = near();
            r.consent_records.push_back(k);
          }
        }
        if (is_open("context.objections")) r.objections = other.objections;
        if (is_open("context.f0")) {
          std::erase(r.facts, "f0");
          if (std::find(other.facts.begin(), other.facts.end(), "f0") != other.facts.end())
            r.facts.push_back("f0");
        }
        for (const Attribute& a : other.attributes) {
          if (is_open(a.path)) r.attributes.push_back(a);
        }
        for (Attribute& a : r.attributes) {
          if (a.path == "context.time") a.value = whole_seconds(std::get<Instant>(a.value));
        }
        if (is_open("requester.id")) r.requester_id = other.requester_id;
        insert_row(db.get(), row, r);
        decisions.push_back(policy.evaluate(r));
        INFO(decisions.back().error);
        REQUIRE(decisions.back().error.empty());
      }
      exec(db.get(), "COMMIT");
      for (const SqlOutcome& o : filter->outcomes) {
        std::set<std::int64_t> expected;
        for (std::size_t i = 0; i < decisions.size(); ++i) {
          if (decisions[i].effect == o.effect && decisions[i].consent == o.consent)
            expected.insert(static_cast<std::int64_t>(i));
        }
        INFO(to_string(o.effect) << " " << o.consent << " WHERE " << o.condition.where);
        CHECK(select_ids(db.get(), o.condition) == expected);
        for (const SqlPart& part : o.parts) {
          // Each part alone selects only rows its rule decides.
          for (const std::int64_t id : select_ids(db.get(), part.condition)) {
            INFO("part " << part.condition.where << ", row " << id);
            CHECK(decisions[static_cast<std::size_t>(id)].rule == part.rule);
          }
        }
      }
    }
  }
  CHECK(checked > 60);
  CHECK(refused < checked / 4);
}

}  // namespace clause::test

namespace clause::test {
namespace {

const char* const small_policy = R"(policy "s" version "1"
clause "c" "words"
data note
data lab
requester person
action access
consent share
attribute data.subject string
attribute data.age integer
attribute data.seen date optional
attribute requester.id string
allow access of any by person when requester.id = data.subject cites "c"
allow access of lab by person when data.age < 18 and not data.seen < 2026-01-01 cites "c"
require consent share for access of note by person cites "c"
)";

PartialRequest person(std::vector<std::string> unknown) {
  PartialRequest pr;
  pr.known.requester = "person";
  pr.known.requester_id = "p-1";
  pr.known.action = "access";
  pr.known.attributes.push_back({"requester.id", std::string("p-1")});
  pr.unknown = std::move(unknown);
  return pr;
}

}  // namespace

TEST_CASE("sql: a mapping's mistakes name the entry and where it stands", "[sql]") {
  const Policy policy = must_compile(small_policy);
  const auto error = [&](const std::string& text) {
    const auto m = read_sql_mapping(policy, text);
    REQUIRE(!m);
    return m.error().to_string();
  };
  CHECK(error(R"({"schema_version": 1, "table": "t", "fields": {)") ==
        "invalid JSON: syntax error while parsing object key - unexpected end of input; "
        "expected string literal (at 1:48)");
  CHECK(error(R"({"schema_version": 2, "table": "t", "fields": {}})") ==
        "schema_version: a mapping says `\"schema_version\": 1` (at 1:2)");
  CHECK(error(R"({"schema_version": 1, "table": "t", "colums": {}})") ==
        "colums: not a key of a mapping; a mapping holds `schema_version`, `table` and "
        "`fields` (at 1:37)");
  // Names are quoted into the SQL: only plain identifiers are taken.
  CHECK(error("{\"schema_version\": 1, \"table\": \"t\", \"fields\": {\n"
              "  \"data.subject\": \"subject\\\" OR 1=1 --\"}}") ==
        "fields[\"data.subject\"]: not a plain SQL name (letters, digits "
        "and `_`, at most 63 characters, not starting with a digit) (at 2:3)");
  CHECK(error(R"({"schema_version": 1, "table": "joined", "fields": {}})") ==
        "table: `joined` is the name a filter gives the rows it joins: rename the table "
        "or view (at 1:23)");
  CHECK(error(R"({"schema_version": 1, "table": "t", "fields": {"data.subjet": "s"}})") ==
        "fields[\"data.subjet\"]: not a field of the policy; did you mean "
        "`data.subject`? (at 1:48)");
  CHECK(error(R"({"schema_version": 1, "table": "t",
  "fields": {"data.subject": {"column": "s", "key": "k"}}})") ==
        "fields[\"data.subject\"].key: `key` belongs with `table`, not with `column` (at 2:46)");
  CHECK(error(R"({"schema_version": 1, "table": "t",
  "fields": {"data.subject": {"table": "s", "key": "k"}}})") ==
        "fields[\"data.subject\"]: a table entry names its `value` column (at 2:14)");
  CHECK(error(R"({"schema_version": 1, "table": "t",
  "fields": {"context.objections": {"table": "o", "key": "k", "value": "v", "expires": "e"}}})")
            .starts_with("fields[\"context.objections\"].expires: not a key of a "
                         "field's entry"));
}

TEST_CASE("sql: a field the plan reads must be mapped, in the form it needs", "[sql]") {
  const Policy policy = must_compile(small_policy);
  const auto plan = clause::plan(policy, person({"data"}));
  REQUIRE(plan);
  const auto filter_with = [&](const std::string& fields) {
    const auto m = read_sql_mapping(
        policy, R"({"schema_version": 1, "table": "records", "fields": {)" + fields + "}}");
    REQUIRE(m);
    return sql_filter(policy, *plan, *m, SqlDialect::postgres);
  };
  const auto unmapped = filter_with(R"("data.category": "category", "data.subject": "subject",
                                        "data.seen": "seen")");
  REQUIRE(!unmapped);
  CHECK(unmapped.error().field == "data.age");
  CHECK(unmapped.error().message ==
        "no column is mapped for `data.age`, which the plan's condition `data.age < 18` reads; "
        "map it in the mapping's `fields`");
  const auto wrong = filter_with(R"("data.category": {"array": "categories"},
                                     "data.subject": "subject", "data.age": "age",
                                     "data.seen": "seen")");
  REQUIRE(!wrong);
  CHECK(wrong.error().to_string() ==
        "fields[\"data.category\"]: `data.category` maps to a column of the "
        "filtered table: {\"column\": C}");

  const auto filter = filter_with(R"("data.category": "category", "data.subject": "subject",
                                      "data.age": "age", "data.seen": "seen")");
  REQUIRE(filter);
  REQUIRE(filter->outcomes.size() == 3);
  const SqlOutcome& allow = filter->outcomes[0];
  // The outcome's condition needs no `subject <> p-1` in its second term, which its parts
  // keep apart by rule; `p-1` is bound once; a date is bound as a date; the optional
  // date's `not` holds where the column is NULL.
  CHECK(allow.condition.where ==
        R"("records"."subject" = $1 OR "records"."category" = $2 AND "records"."age" < $3 )"
        R"(AND ("records"."seen" < $4) IS NOT TRUE)");
  CHECK(allow.condition.parameters == std::vector<SqlValue>{std::string("p-1"), std::string("lab"),
                                                            std::int64_t{18},
                                                            std::string("2026-01-01")});
  REQUIRE(allow.parts.size() == 2);
  CHECK(allow.parts[1].condition.where ==
        R"("records"."category" = $1 AND "records"."subject" <> $2 AND "records"."age" < $3 )"
        R"(AND ("records"."seen" < $4) IS NOT TRUE)");
}

TEST_CASE("sql: an incomplete plan allows no row", "[sql]") {
  const Policy policy = must_compile(small_policy);
  Plan incomplete;
  incomplete.complete = false;
  const auto m = read_sql_mapping(policy, R"({"schema_version": 1, "table": "r", "fields": {}})");
  REQUIRE(m);
  const auto filter = sql_filter(policy, incomplete, *m, SqlDialect::sqlite);
  REQUIRE(filter);
  CHECK_FALSE(filter->complete);
  REQUIRE(filter->outcomes.size() == 2);
  CHECK(filter->outcomes[0].effect == Effect::allow);
  CHECK(filter->outcomes[0].condition.where == "FALSE");
  CHECK(filter->outcomes[1].condition.where == "TRUE");
}

}  // namespace clause::test
