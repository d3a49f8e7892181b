#include "database.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace clause::db {
namespace {

std::string column_type(ColumnType type, SqlDialect dialect) {
  const bool pg = dialect == SqlDialect::postgres;
  switch (type) {
    case ColumnType::id:
      return pg ? "bigint PRIMARY KEY" : "INTEGER PRIMARY KEY";
    case ColumnType::integer:
      return pg ? "bigint" : "integer";
    case ColumnType::boolean:
      return pg ? "boolean" : "integer";
    case ColumnType::text:
      return "text";
    case ColumnType::text_list:
      return pg ? "text[]" : "text";
    case ColumnType::date:
      return pg ? "date" : "text";
    case ColumnType::timestamp:
      return pg ? "timestamptz" : "integer";
  }
  return "text";
}

std::string create_table(const Table& table, SqlDialect dialect) {
  std::vector<std::string> columns;
  for (const Column& c : table.columns)
    columns.push_back(fmt::format("{} {}{}", c.name, column_type(c.type, dialect),
                                  c.nullable || c.type == ColumnType::id ? "" : " NOT NULL"));
  return fmt::format("CREATE TABLE {} ({})", table.name, fmt::join(columns, ", "));
}

std::string create_index(const Table& table) {
  return fmt::format("CREATE INDEX {0}_{1} ON {0} ({1})", table.name, table.index);
}

std::int64_t unix_seconds(Instant t) {
  return t.micros >= 0 ? t.micros / 1'000'000 : -((-t.micros + 999'999) / 1'000'000);
}

class Sqlite final : public Database {
 public:
  Sqlite() {
    if (sqlite3_open(":memory:", &db_) != SQLITE_OK) fail("open");
  }
  ~Sqlite() override { sqlite3_close(db_); }
  Sqlite(const Sqlite&) = delete;
  Sqlite& operator=(const Sqlite&) = delete;

  void load(const Table& table) override {
    exec(create_table(table, SqlDialect::sqlite));
    // One transaction and one prepared insert: 100,000 rows in a fraction of a second.
    exec("BEGIN");
    std::vector<std::string> marks(table.columns.size(), "?");
    Statement insert(*this,
                     fmt::format("INSERT INTO {} VALUES ({})", table.name, fmt::join(marks, ", ")));
    for (const std::vector<Value>& row : table.rows) {
      for (std::size_t i = 0; i < row.size(); ++i)
        bind_cell(insert.get(), static_cast<int>(i) + 1, row[i], table.columns[i].type);
      if (sqlite3_step(insert.get()) != SQLITE_DONE) fail("insert into " + table.name);
      sqlite3_reset(insert.get());
    }
    exec("COMMIT");
    if (!table.index.empty()) exec(create_index(table));
  }

  std::vector<std::int64_t> ids(const std::string& sql,
                                const std::vector<SqlValue>& parameters) override {
    Statement query(*this, sql);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      const int at = static_cast<int>(i) + 1;  // ?1, ?2, ... are bound by their number
      const SqlValue& p = parameters[i];
      int rc = SQLITE_OK;
      if (const auto* s = std::get_if<std::string>(&p)) {
        rc = sqlite3_bind_text(query.get(), at, s->data(), static_cast<int>(s->size()),
                               SQLITE_TRANSIENT);
      } else if (const auto* n = std::get_if<std::int64_t>(&p)) {
        rc = sqlite3_bind_int64(query.get(), at, *n);
      } else {
        rc = sqlite3_bind_int(query.get(), at, std::get<bool>(p) ? 1 : 0);
      }
      if (rc != SQLITE_OK) fail(fmt::format("bind ?{}", at));
    }
    std::vector<std::int64_t> out;
    int rc = 0;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
      out.push_back(sqlite3_column_int64(query.get(), 0));
    if (rc != SQLITE_DONE) fail("query");
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  class Statement {
   public:
    Statement(Sqlite& db, const std::string& sql) {
      if (sqlite3_prepare_v2(db.db_, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
          SQLITE_OK)
        db.fail("prepare " + sql);
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    [[nodiscard]] sqlite3_stmt* get() const { return stmt_; }

   private:
    sqlite3_stmt* stmt_ = nullptr;
  };

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("sqlite: {}: {}", what, sqlite3_errmsg(db_)));
  }

  void exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }

  void bind_cell(sqlite3_stmt* stmt, int at, const Value& v, ColumnType type) const {
    const auto text = [&](const std::string& t) {
      return sqlite3_bind_text(stmt, at, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
    };
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(stmt, at);
    } else if (const auto* b = std::get_if<bool>(&v)) {
      rc = sqlite3_bind_int(stmt, at, *b ? 1 : 0);
    } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, at, *i);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      rc = text(*s);
    } else if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
      rc = text(nlohmann::json(*l).dump());  // a JSON array, as json_each reads it
    } else if (type == ColumnType::date) {
      rc = text(format_date(std::get<Instant>(v)));
    } else {
      rc = sqlite3_bind_int64(stmt, at, unix_seconds(std::get<Instant>(v)));
    }
    if (rc != SQLITE_OK) fail("bind");
  }

  sqlite3* db_ = nullptr;
};

// COPY's text format: a backslash, a tab and a line end inside a value are escaped.
void copy_escape(std::string& out, std::string_view text) {
  constexpr std::string_view special = "\\\t\n\r";
  constexpr std::string_view escaped = "\\tnr";
  for (const char c : text) {
    const auto at = special.find(c);
    if (at == std::string_view::npos) {
      out += c;
    } else {
      out += '\\';
      out += escaped[at];
    }
  }
}

// An array literal: {"a","b"}, each element quoted with `"` and `\` escaped.
std::string array_literal(const std::vector<std::string>& list) {
  std::string out = "{";
  for (const std::string& e : list) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : e) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

void copy_cell(std::string& out, const Value& v, ColumnType type) {
  if (std::holds_alternative<std::monostate>(v)) {
    out += "\\N";
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out += *b ? 't' : 'f';
  } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    copy_escape(out, *s);
  } else if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
    copy_escape(out, array_literal(*l));
  } else if (type == ColumnType::date) {
    out += format_date(std::get<Instant>(v));
  } else {
    out += format_date_time(std::get<Instant>(v));
  }
}

class Postgres final : public Database {
 public:
  explicit Postgres(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) fail("connect");
    exec("SET client_min_messages = warning");
  }
  ~Postgres() override { PQfinish(conn_); }
  Postgres(const Postgres&) = delete;
  Postgres& operator=(const Postgres&) = delete;

  void load(const Table& table) override {
    exec("DROP TABLE IF EXISTS " + table.name);
    exec(create_table(table, SqlDialect::postgres));
    expect(PQexec(conn_, fmt::format("COPY {} FROM STDIN", table.name).c_str()), PGRES_COPY_IN,
           "copy");
    std::string buffer;
    const auto flush = [&]() {
      if (PQputCopyData(conn_, buffer.data(), static_cast<int>(buffer.size())) != 1) fail("copy");
      buffer.clear();
    };
    for (const std::vector<Value>& row : table.rows) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i > 0) buffer += '\t';
        copy_cell(buffer, row[i], table.columns[i].type);
      }
      buffer += '\n';
      if (buffer.size() > (std::size_t{1} << 20)) flush();
    }
    flush();
    if (PQputCopyEnd(conn_, nullptr) != 1) fail("copy");
    expect(PQgetResult(conn_), PGRES_COMMAND_OK, "copy");
    while (PGresult* rest = PQgetResult(conn_))
      PQclear(rest);
    if (!table.index.empty()) exec(create_index(table));
    exec("ANALYZE " + table.name);
  }

  std::vector<std::int64_t> ids(const std::string& sql,
                                const std::vector<SqlValue>& parameters) override {
    // Every parameter as text, its type inferred from where it stands.
    std::vector<std::string> texts;
    for (const SqlValue& p : parameters) {
      if (const auto* s = std::get_if<std::string>(&p)) {
        texts.push_back(*s);
      } else if (const auto* n = std::get_if<std::int64_t>(&p)) {
        texts.push_back(std::to_string(*n));
      } else {
        texts.emplace_back(std::get<bool>(p) ? "true" : "false");
      }
    }
    std::vector<const char*> values;
    for (const std::string& t : texts)
      values.push_back(t.c_str());
    Result r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) fail(sql);
    std::vector<std::int64_t> out;
    const int rows = PQntuples(r.get());
    out.reserve(static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i)
      out.push_back(std::stoll(PQgetvalue(r.get(), i, 0)));
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  class Result {
   public:
    explicit Result(PGresult* r) : r_(r) {}
    ~Result() { PQclear(r_); }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    [[nodiscard]] PGresult* get() const { return r_; }

   private:
    PGresult* r_;
  };

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("postgres: {}: {}", what, PQerrorMessage(conn_)));
  }

  void expect(PGresult* result, ExecStatusType status, const std::string& what) const {
    const Result r(result);
    if (PQresultStatus(r.get()) != status) fail(what);
  }

  void exec(const std::string& sql) const {
    expect(PQexec(conn_, sql.c_str()), PGRES_COMMAND_OK, sql);
  }

  PGconn* conn_;
};

}  // namespace

std::unique_ptr<Database> open_sqlite() {
  return std::make_unique<Sqlite>();
}

std::unique_ptr<Database> open_postgres(const std::string& conninfo) {
  return std::make_unique<Postgres>(conninfo);
}

}  // namespace clause::db
