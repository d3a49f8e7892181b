// The records clause_db_check stores and the requests it asks about: generated from a seed,
// with values that make each condition the policy reads sometimes true, and written as the
// tables a mapping file describes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "clause/clause.hpp"
#include "clause/dsl/check.hpp"
#include "clause/plan.hpp"
#include "clause/sql.hpp"

namespace clause::db {

/// What a request field of the mapping is to the policy.
struct Field {
  enum class Kind : std::uint8_t { category, purpose, fact, consent, objections, attribute };
  Kind kind = Kind::attribute;
  std::string path;  // "data.category", "context.emergency", "data.subject_age", ...
  const dsl::AttributeInfo* attribute = nullptr;  // Kind::attribute
  SqlColumn where;
};

/// The person a record is about, with what they consented to and objected to.
struct Person {
  std::string id;
  std::vector<ConsentRecord> consents;
  std::vector<std::string> objections;
};

/// One record: its id, its person, and a value for each field of the record table
/// (monostate: NULL, absent).
struct Record {
  std::int64_t id = 0;
  std::size_t person = 0;  // index into World::people
  std::map<std::string, Value, std::less<>> values;
};

/// A column's type, written per dialect by the database.
enum class ColumnType : std::uint8_t { id, integer, boolean, text, text_list, date, timestamp };

struct Column {
  std::string name;
  ColumnType type = ColumnType::text;
  bool nullable = false;
};

/// A table with its rows; a cell is a Value of the column's type (monostate: NULL).
struct Table {
  std::string name;
  std::vector<Column> columns;
  std::vector<std::vector<Value>> rows;
  std::string index;  // a column to index, or empty
};

/// A partial request, and which fields of a record complete it.
struct Question {
  PartialRequest partial;
  std::vector<Field> open;  // the mapped fields the record fills in
};

/// Everything generated for one run: the policy's mapped fields, the people, the records,
/// the request times.
class World {
 public:
  World(const Policy& policy, SqlMapping mapping, std::uint64_t seed);

  void generate(std::size_t rows);
  [[nodiscard]] std::vector<Table> tables() const;
  [[nodiscard]] Question question();

  /// Fills the question's open fields from a record: the request the policy decides.
  void complete(const Question& question, const Record& record, Request& out) const;

  /// Writes a record as a line a person can read.
  [[nodiscard]] std::string describe(const Record& record) const;

  [[nodiscard]] const std::vector<Record>& records() const { return records_; }
  [[nodiscard]] const SqlMapping& mapping() const { return mapping_; }

 private:
  Value attribute_value(const dsl::AttributeInfo& a);
  Instant near(Instant center, std::int64_t days);
  std::vector<ConsentRecord> consents(bool dated);
  std::vector<std::string> objections();
  const std::string& pick(const std::vector<std::string>& names);

  const Policy& policy_;
  const dsl::CheckedPolicy& checked_;
  SqlMapping mapping_;
  std::mt19937_64 rng_;
  std::vector<Field> fields_;
  std::string person_column_;  // the column of the record table joins key by person, or empty
  std::string person_field_;   // the field that column holds, or empty
  bool consent_dates_ = false;
  std::vector<const dsl::CheckedRule*> rules_;  // that name requesters or actions, shuffled
  std::size_t next_rule_ = 0;
  std::vector<std::string> pool_;  // ids of people
  std::vector<Instant> times_;     // request times
  // By attribute: the constants the policy compares it with, and how far from a request's
  // time its comparisons with `context.time` look (-6 years for `time >= it + 6 years`).
  std::vector<std::vector<Value>> constants_;
  std::vector<std::vector<Duration>> offsets_;
  std::vector<Person> people_;
  std::vector<Record> records_;
};

/// Writes a request as a line a person can read.
std::string describe(const Request& request);

}  // namespace clause::db
