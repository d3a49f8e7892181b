// Stage: check. The checker's state and steps, shared by check.cpp (names, trees, rules,
// assertions) and check_attributes.cpp (attributes, their comparisons and dates).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "clause/dsl/check.hpp"

namespace clause::dsl::checking {

class Checker {
 public:
  explicit Checker(const ast::Policy& policy) : ast_(policy) {}

  CheckResult run() {
    check_header();
    declare_clauses();
    declare_names();
    declare_name_sets();
    declare_documents();
    declare_attributes();
    resolve_lookups();
    build_trees();
    resolve_decl_citations();
    check_rules();
    check_assertions();
    warn_uncited_clauses();
    sort_by_position(diagnostics_);
    CheckResult result;
    if (!has_errors(diagnostics_)) result.policy = std::move(out_);
    result.diagnostics = std::move(diagnostics_);
    return result;
  }

 private:
  // Where a declared name lives: its kind and its index among names of that kind.
  struct Entry {
    ast::DeclKind kind;
    std::uint32_t index;
    Span span;
  };

  Diagnostic& error(std::string code, Span span, std::string message);
  Diagnostic& warning(std::string code, Span span, std::string message);

  std::vector<Term>& terms(ast::DeclKind kind);

  void check_header();

  void declare_clauses();

  // Each kind of name has its own namespace: `partner_marketing` may be both a purpose
  // and a consent, as it is in the privacy policy.
  std::unordered_map<std::string, Entry>& names(ast::DeclKind kind);

  void declare_names();

  // Resolves `name` expected to be of `kind`; reports unknown and wrong-kind names.
  std::optional<std::uint32_t> resolve(const ast::Name& name, ast::DeclKind kind,
                                       std::string_view slot);

  // Suggests the way to write what the author most likely meant.
  static std::string wrong_kind_help(const std::string& name, ast::DeclKind found,
                                     ast::DeclKind wanted, std::string_view slot);

  std::optional<std::uint32_t> resolve_clause(const ast::Text& cites);

  void build_trees();

  // Finds cycles, then numbers each tree in preorder so a subtree is one interval.
  void number_tree(ast::DeclKind kind);

  void resolve_decl_citations();

  IdSet resolve_set(const ast::NameSet& set, ast::DeclKind kind, std::string_view slot);

  CheckedCond resolve_cond(const ast::Cond& cond);

  static Tier tier_of(const ast::Rule& rule);

  void check_rules();

  // Adds `c` to a rule's condition with `and`.
  static void conjoin(std::optional<CheckedCond>& condition, CheckedCond c);

  // A test of `context.time` against an instant: `>=` for `from`, `<` for `until`.
  std::optional<CheckedCond> time_test(ast::CompareOp op, Instant at, Span span,
                                       std::string_view what);

  std::optional<Instant> read_time(const ast::TimeText& t);

  // Folds `from`/`until` of the rule and of the clause it cites into its condition, and
  // makes `effective from DATE` a denial of every request before DATE.
  void fold_dates(const ast::Rule& rule, std::optional<std::uint32_t> clause, CheckedRule& r);

  const ast::ClauseDecl* clause_decl(std::uint32_t clause) const;

  // Attributes: each declared once, on `data`, `requester` or `context`, with a type.
  void declare_attributes();

  // The type that other languages' names for a type mean, or "".
  static std::string type_alias(std::string_view word);

  // Documents: each named once, at a path inside the policy's folder.
  void declare_documents();
  // `from DOC[KEY].FIELD`: a declared document, keyed by a string attribute that is not
  // itself read from a document.
  void resolve_lookups();

  // Name sets: each declared once, with each name once, and not named like a type.
  void declare_name_sets();
  std::optional<IntRange> read_range(const ast::AttributeDecl& a, AttrType type);
  static std::string noun_of(const AttributeInfo& a);
  bool in_set(const AttributeInfo& a, const ast::Operand& o);
  void warn_decided_by_range(const ast::Cond& cond, const AttributeInfo& a, std::int64_t c);

  std::optional<std::uint32_t> resolve_attribute(const ast::AttrPath& path);

  std::uint32_t add_test(const AttributeTest& t);

  static bool is_time(AttrType t) { return t == AttrType::date || t == AttrType::time; }

  std::optional<Duration> read_duration(const ast::DurationText& d);

  // Checks a comparison's types and makes it a test; reports each mistake once.
  std::optional<AttributeTest> attribute_test(const ast::Cond& cond);

  void check_assertions();

  void warn_uncited_clauses();

  const ast::Policy& ast_;
  CheckedPolicy out_;
  std::vector<Diagnostic> diagnostics_;
  std::unordered_map<std::string, std::size_t> clause_index_;
  std::array<std::unordered_map<std::string, Entry>, 8> names_;
  std::vector<const ast::Decl*> decl_of_;
  std::vector<std::pair<ast::DeclKind, std::uint32_t>> decl_kind_index_;
  std::vector<bool> cited_;
  std::vector<Span> clause_id_spans_;  // where each declared clause's id is written
  std::unordered_map<std::string, std::size_t> attribute_index_;
  std::unordered_set<std::string> ill_typed_;  // declared with an unknown type
  std::unordered_map<std::string, std::size_t> name_set_index_;
  std::unordered_map<std::string, std::size_t> document_index_;
  std::optional<Span> effective_seen_;
};

}  // namespace clause::dsl::checking
