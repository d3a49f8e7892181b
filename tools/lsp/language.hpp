// The language features of the server, on one version of one document: diagnostics,
// hover, go-to-definition, completion and formatting. Everything here works in byte
// offsets and spans; the protocol layer converts LSP positions (position.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clause/clause.hpp"
#include "clause/diagnostic.hpp"
#include "clause/dsl/ast.hpp"
#include "clause/dsl/parse.hpp"
#include "position.hpp"

namespace clause::lsp {

enum class DocumentKind : std::uint8_t { policy, tests };

/// Tells a test file (languageId `clause-test`, or a name ending in `.test`) from a policy.
DocumentKind kind_of(std::string_view uri, std::string_view language_id);

/// The bounds the analysis keeps to, as the other commands do (`--max-...` options).
struct AnalyzeOptions {
  CompileOptions compile;
  dsl::ParseLimits parse;
};

inline constexpr std::size_t decl_kinds = 8;  // the values of ast::DeclKind

/// A declared attribute: its path and its type, as written.
struct AttributeName {
  std::string path;                // `data.subject_age`
  std::string type;                // `integer`, `list of string`
  std::vector<std::string> names;  // a name set's names, when the type is one
};

/// The names a policy declares, by kind, its clause ids (with `default`) and attributes.
struct Vocabulary {
  std::array<std::vector<std::string>, decl_kinds> names;  // indexed by ast::DeclKind
  std::vector<std::string> clauses;
  std::vector<AttributeName> attributes;

  /// Adds the names and clause ids of `other` that this one lacks.
  void merge(const Vocabulary& other);
};

/// Every attribute path a policy tree writes: declarations, lookup keys, conditions.
std::vector<const ast::AttrPath*> attribute_paths(const ast::Policy& policy);

/// Gives what a policy tree declares.
Vocabulary vocabulary_of(const ast::Policy& policy);

enum class CompletionKind : std::uint8_t { name, clause, keyword };

/// One completion proposal.
struct Completion {
  std::string label;
  std::string detail;  // "data category", "clause", "keyword", ...
  std::string insert;  // the text to insert, when not the label (a quoted clause id)
  CompletionKind kind = CompletionKind::keyword;
  ast::DeclKind decl = ast::DeclKind::data;  // for names
  std::optional<Span> replace;               // the text the proposal replaces, when known
};

/// Hover text, in Markdown, and the span it is about.
struct Hover {
  std::string markdown;
  Span span;
};

/// A name or a clause id written in a policy, with what it refers to.
struct Reference {
  Span span;
  std::string text;
  bool clause = false;                       // a clause id; otherwise a name
  ast::DeclKind kind = ast::DeclKind::data;  // for names
  bool declaration = false;                  // where it is declared, rather than used
};

/// One version of an open document, analysed once when it is opened or changed.
class Document {
 public:
  /// Analyses `source`. `previous`, the version it replaces, lends its last vocabulary that
  /// parsed without errors, for completion while the text is broken.
  Document(DocumentKind kind, SourceFile source, const AnalyzeOptions& options,
           const Document* previous = nullptr);

  [[nodiscard]] DocumentKind kind() const { return kind_; }
  [[nodiscard]] const SourceFile& source() const { return source_; }
  /// Whether the whole text parsed: otherwise the tree lacks the statements that did not.
  [[nodiscard]] bool syntax_ok() const { return syntax_ok_; }
  [[nodiscard]] const LineIndex& lines() const { return lines_; }

  /// What `clause check` reports for a policy (errors, checker and linter warnings, minus
  /// those `@ignore` silences), or the test parser's errors for a test file; by position.
  [[nodiscard]] const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

  /// For a test file: adds the mistakes found against the tested policy to those of the
  /// text, replacing the ones set before.
  void set_policy_diagnostics(std::vector<Diagnostic> found);

  /// The names of this text merged with those of the last version without syntax errors.
  [[nodiscard]] const Vocabulary& vocabulary() const { return vocabulary_; }

  /// For a test file: the policy path after `tests for`, as written.
  [[nodiscard]] const std::optional<std::string>& tested_policy() const { return tested_policy_; }

  /// Every name and clause id the policy writes, in the order of the tree.
  [[nodiscard]] const std::vector<Reference>& references() const { return references_; }

  /// The statements that parsed: of a policy, and of a test file.
  [[nodiscard]] const ast::Policy& tree() const { return tree_; }
  [[nodiscard]] const ast::TestFile& tests() const { return tests_; }
  /// The id the checker gives each rule of tree(); empty when its clause is unknown.
  [[nodiscard]] const std::vector<std::string>& rule_ids() const { return rule_ids_; }

  /// Describes what stands at `offset`: a name's declaration, a clause's words, a rule's
  /// id and tier.
  [[nodiscard]] std::optional<Hover> hover(std::uint32_t offset) const;

  /// Where the name or clause id at `offset` is declared.
  [[nodiscard]] std::optional<Span> definition(std::uint32_t offset) const;

  /// The proposals at `offset`. A test file proposes the names of `policy`, the
  /// vocabulary of the policy it tests, when known.
  [[nodiscard]] std::vector<Completion> completion(std::uint32_t offset,
                                                   const Vocabulary* policy = nullptr) const;

  /// The canonical layout of the text, as `clause fmt` writes it; empty when the text has
  /// syntax errors or the layout is refused.
  [[nodiscard]] std::optional<std::string> formatted() const;

 private:
  void analyse_policy(const AnalyzeOptions& options);
  void analyse_tests(const AnalyzeOptions& options);
  [[nodiscard]] const Reference* reference_at(std::uint32_t offset) const;
  [[nodiscard]] const ast::Decl* declaration_of(ast::DeclKind kind, std::string_view name) const;
  [[nodiscard]] const ast::ClauseDecl* clause_of(std::string_view id) const;
  [[nodiscard]] std::string clause_words(std::string_view id) const;
  [[nodiscard]] std::string describe_name(const Reference& r) const;
  [[nodiscard]] std::string describe_clause(std::string_view id) const;
  [[nodiscard]] std::optional<Hover> describe_rule(std::uint32_t offset) const;
  [[nodiscard]] std::optional<Hover> describe_attribute(std::uint32_t offset) const;

  DocumentKind kind_;
  SourceFile source_;
  LineIndex lines_;
  dsl::ParseLimits parse_limits_;
  std::vector<Diagnostic> diagnostics_;
  std::vector<Diagnostic> own_diagnostics_;  // test files: the parser's, without the policy's
  bool syntax_ok_ = false;
  ast::Policy tree_;  // policies: every statement that parsed
  std::vector<Reference> references_;
  std::vector<std::string> rule_ids_;  // by rule of tree_; empty when its clause is unknown
  Vocabulary good_vocabulary_;         // of the last version without syntax errors
  Vocabulary vocabulary_;
  std::optional<std::string> tested_policy_;
  ast::TestFile tests_;  // test files: every case that parsed
};

/// Names a rule's tier as the engine does: "prohibition", "fallback", ...
std::string_view tier_name(const ast::Rule& rule);

}  // namespace clause::lsp
