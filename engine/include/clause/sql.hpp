// Stage: analysis (output). A plan's residual conditions written as SQL `WHERE` clauses for
// PostgreSQL and SQLite, with every value a bound parameter, over the columns and tables a
// mapping file names for the request's fields.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "clause/clause.hpp"
#include "clause/plan.hpp"

namespace clause {

/// The SQL a filter is written in.
enum class SqlDialect : std::uint8_t { postgres, sqlite };

/// Names a dialect as `--sql` takes it: "postgres", "sqlite".
std::string_view to_string(SqlDialect dialect) noexcept;

/// Reads "postgres" (or "postgresql") and "sqlite".
std::optional<SqlDialect> parse_sql_dialect(std::string_view text) noexcept;

/// Where the rows of a list, of the consents or of the objections stand: a table with one
/// row per element, joined to the filtered table by `key` = the filtered table's
/// `references` column.
struct SqlJoin {
  std::string table;
  std::string key;
  std::string references = "id";
  std::string value;
  std::string expires;    // consents: when a consent ends (empty: none stored)
  std::string withdrawn;  // consents: when it was withdrawn (empty: none stored)
};

/// Where one field of a request stands in the database.
struct SqlColumn {
  enum class Kind : std::uint8_t {
    column,  // a column of the filtered table
    array,   // a list in one column: a PostgreSQL array, a SQLite JSON array
    join,    // a list (or the consents, the objections) in a table of its own
  };
  Kind kind = Kind::column;
  std::string column;  // column, array
  SqlJoin join;        // join
};

/// A mapping from request fields to the database (docs/plan.md, "The mapping"): the table
/// a filter selects rows of, and for each field that may be left open, where it stands.
struct SqlMapping {
  std::string table;
  std::map<std::string, SqlColumn, std::less<>> fields;  // by field: "data.category", ...
};

/// Reads a mapping file (JSON, `schema_version` 1). A mistake names the entry and where it
/// stands. Never throws.
[[nodiscard]] Result<SqlMapping, RequestError> read_sql_mapping(
    std::string_view json_text) noexcept;

/// Reads a mapping file as above, and refuses an entry that names no field of the policy,
/// with where it stands. Never throws.
[[nodiscard]] Result<SqlMapping, RequestError> read_sql_mapping(
    const Policy& policy, std::string_view json_text) noexcept;

/// One bound parameter: text (names, strings, dates and, in PostgreSQL, date-times, as
/// ISO 8601), an integer (in SQLite, date-times as Unix seconds) or a boolean.
using SqlValue = std::variant<std::string, std::int64_t, bool>;

/// A condition in SQL: `where` refers to its parameters as `$1`, `$2`, ... (PostgreSQL) or
/// `?1`, `?2`, ... (SQLite), numbered from 1; a value used twice is bound once.
struct SqlCondition {
  std::string where;
  std::vector<SqlValue> parameters;
};

/// One part of a residual: its condition, and the rule and clause that decide the rows that
/// meet it, with the obligations that come with them.
struct SqlPart {
  SqlCondition condition;
  std::string rule;
  std::string clause;
  std::vector<std::string> obligations;
};

/// One outcome of a plan as SQL: the rows that get it are those meeting `condition` (the
/// parts joined by OR; `FALSE` when none).
struct SqlOutcome {
  Effect effect = Effect::deny;
  std::string consent;  // for require_consent: the consent asked for
  SqlCondition condition;
  std::vector<SqlPart> parts;
};

/// A plan as SQL filters over the mapping's table. An incomplete plan gives `FALSE` for
/// allow and `TRUE` for deny, so that a caller denies every row.
struct SqlFilter {
  SqlDialect dialect = SqlDialect::postgres;
  std::string table;
  std::vector<SqlOutcome> outcomes;  // in the plan's order
  bool complete = true;
};

/// Writes a plan as SQL. A field the plan's conditions read that the mapping does not map,
/// a mapping entry naming no field of the policy, and a comparison SQL cannot write exactly
/// (two open dates apart by years or months) give the error, naming the field. Never
/// throws.
[[nodiscard]] Result<SqlFilter, RequestError> sql_filter(const Policy& policy, const Plan& plan,
                                                         const SqlMapping& mapping,
                                                         SqlDialect dialect) noexcept;

}  // namespace clause
