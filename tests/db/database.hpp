// The two databases clause_db_check fills and queries: SQLite in memory, PostgreSQL over a
// connection string. Failures throw std::runtime_error with the database's message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "clause/sql.hpp"
#include "records.hpp"

namespace clause::db {

class Database {
 public:
  virtual ~Database() = default;

  /// Creates the table, loads its rows and indexes it.
  virtual void load(const Table& table) = 0;

  /// Runs a query whose first column is a row id, with its parameters bound; the ids, sorted.
  [[nodiscard]] virtual std::vector<std::int64_t> ids(const std::string& sql,
                                                      const std::vector<SqlValue>& parameters) = 0;
};

[[nodiscard]] std::unique_ptr<Database> open_sqlite();
[[nodiscard]] std::unique_ptr<Database> open_postgres(const std::string& conninfo);

}  // namespace clause::db
