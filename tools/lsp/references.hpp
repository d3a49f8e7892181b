// References and rename: what a name, clause id, attribute, name set or document written
// at a place is, and every place a policy and its test files write it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "language.hpp"

namespace clause::lsp {

/// What can be renamed.
enum class TargetKind : std::uint8_t { name, clause, attribute, name_set, document };

/// A thing declared by a policy, as found under the cursor.
struct Target {
  TargetKind what = TargetKind::name;
  ast::DeclKind kind = ast::DeclKind::data;  // for names
  std::string text;                          // the name, the clause id, the attribute's path
  Span span;                                 // where the cursor found it
};

/// A name a test file writes, with the kind of name its place takes.
struct TestName {
  Span span;
  ast::DeclKind kind;
};

/// Every name the cases of a test file write.
std::vector<TestName> test_names(const ast::TestFile& tests);

/// What stands at `offset` of a policy or a test file.
std::optional<Target> target_at(const Document& doc, std::uint32_t offset);

/// One place that writes a target. `quoted`: the span holds a string with its quotes
/// (a clause id), which a rename keeps.
struct Occurrence {
  Span span;
  bool quoted = false;
  bool declaration = false;
};

/// Every place `doc` writes `target`, in the order of the text.
std::vector<Occurrence> occurrences(const Document& doc, const Target& target);

/// The text that replaces an occurrence when the target is renamed to `new_name`.
std::string replacement(const Occurrence& o, const std::string& new_name);

/// Why `new_name` cannot replace `target` in a policy whose names are `declared`, or
/// nothing when it can.
std::optional<std::string> rename_refusal(const Target& target, const std::string& new_name,
                                          const Vocabulary& declared, const ast::Policy& policy);

}  // namespace clause::lsp
