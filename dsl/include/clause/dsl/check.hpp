// Stage: check. Syntax tree to a checked policy: every name resolved to an integer id, the
// two hierarchies built, every mistake reported (not only the first).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "clause/diagnostic.hpp"
#include "clause/dsl/ast.hpp"
#include "clause/time.hpp"
#include "clause/value.hpp"

namespace clause::dsl {

inline constexpr std::int32_t no_id = -1;

/// The id of the built-in fail-closed clause; every policy has it, declared or not.
inline constexpr std::string_view default_clause_id = "default";

/// The words of the built-in `default` clause when the file does not declare it.
inline constexpr std::string_view default_clause_words =
    "No clause of the policy permits this request.";

/// Holds one clause of the document.
struct ClauseInfo {
  std::string id;
  std::string words;
  Span span;             // empty for the built-in `default` when the file does not declare it
  bool declared = true;  // false for the built-in `default`
  std::optional<Instant> from;   // rules citing it apply at or after this instant
  std::optional<Instant> until;  // and before this one
};

/// Holds one declared name of any kind. For data and requesters, `first` and `last` bound
/// the preorder numbers of the name's subtree: a name covers every term whose `first` lies
/// in [first, last).
struct Term {
  std::string name;
  std::int32_t parent = no_id;
  std::int32_t clause = no_id;  // the clause the declaration cites
  Span span;
  std::uint32_t first = 0;
  std::uint32_t last = 0;
};

using clause::Tier;

/// Holds the bounds of an integer attribute's values, both included: `0..150`.
struct IntRange {
  std::int64_t low = 0;
  std::int64_t high = 0;
  friend bool operator==(const IntRange&, const IntRange&) = default;
};

/// Holds `from DOC[KEY].FIELD` of an attribute, resolved: the request does not give the
/// attribute; it is read from the document's entry that the key attribute's value names.
struct AttributeLookup {
  std::uint32_t document = 0;  // index into CheckedPolicy::documents
  std::uint32_t key = 0;       // the key attribute's index
  std::string field;           // the entry's field that holds the value
  Span span;                   // `from ...` as written
};

/// Holds `document NAME from "PATH" [keyed by FIELD]`: a JSON document shipped with the
/// policy, read when it is compiled.
struct DeclaredDocument {
  std::string name;
  std::string path;                      // as declared: relative to the policy's folder
  std::optional<std::string> key_field;  // `keyed by`: an array of entries; else an object
  Span span;
  Span path_span;
};

/// Holds one declared attribute of requests. A name set's attribute is a `string` that
/// takes only the set's names; a range narrows an `integer`.
struct AttributeInfo {
  std::string path;  // `data.subject`
  AttrType type = AttrType::string;
  bool optional = false;  // absent in a request: every comparison reading it is false
  Span span;
  std::string name_set;                     // the set's name, or empty
  std::vector<std::string> members;         // the set's names, in declaration order
  std::optional<IntRange> range;            // an integer's bounds
  std::optional<AttributeLookup> lookup{};  // read from a document, not given by requests
};

/// Holds one declared set of names: `names country: CA, US, FR`.
struct NameSetInfo {
  std::string name;
  std::vector<std::string> members;  // in declaration order
  Span span;
};

/// Writes an attribute's type as a policy declares it: `country`, `integer 0..150`,
/// `list of string`.
std::string type_text(const AttributeInfo& a);

/// Says why a value of the attribute's base type is not one the attribute takes, in words
/// that follow the value: "is not one of the names of `country`; did you mean `CA`?", "is
/// outside the range 0..150". Nothing when the attribute takes it.
std::optional<std::string> not_taken(const AttributeInfo& a, const Value& value);

/// Holds one comparison over attributes: a yes-or-no question a request's attribute
/// values answer once, when the request is resolved. Conditions read it as one bit.
struct AttributeTest {
  enum class Kind : std::uint8_t {
    truth,     // a boolean attribute is true
    compare,   // `lhs op rhs`, rhs an attribute (plus `shift`) or `constant`
    member,    // `lhs in rhs`, rhs a list attribute
    contains,  // `"constant" in lhs`, lhs a list attribute: it holds the constant
  };
  Kind kind = Kind::truth;
  std::uint32_t lhs = 0;  // attribute index
  ast::CompareOp op = ast::CompareOp::eq;
  std::int32_t rhs = no_id;  // attribute index, or no_id for a constant
  Value constant;            // when rhs is no_id
  Duration shift;            // added to the right side (dates only)
  friend bool operator==(const AttributeTest&, const AttributeTest&) = default;
};

/// Holds a condition with names resolved: leaves carry fact, purpose, consent or
/// objection ids, or (kind attribute) the index of an AttributeTest.
struct CheckedCond {
  ast::CondKind kind = ast::CondKind::fact;
  std::vector<std::uint32_t> ids;
  std::vector<CheckedCond> children;
  Span span;
};

/// Holds a set of resolved ids; `any` covers every name of its kind.
struct IdSet {
  bool any = true;
  std::vector<std::uint32_t> ids;
};

/// Holds one rule with every name resolved.
struct CheckedRule {
  std::string id;  // its name, or "<clause>/<n>" for the n-th rule citing that clause
  bool named = false;
  Tier tier = Tier::prohibition;
  ast::Effect effect = ast::Effect::deny;
  std::int32_t consent = no_id;  // require_consent only
  IdSet actions;
  IdSet data;
  IdSet requesters;
  std::optional<CheckedCond> condition;  // `from`/`until` dates folded in
  std::vector<std::uint32_t> obligations;
  std::uint32_t clause = 0;
  Span span;
};

/// Holds an assertion with every name resolved.
struct CheckedAssertion {
  bool always = false;
  ast::Effect effect = ast::Effect::deny;  // allow, deny or require_consent
  std::int32_t consent = no_id;            // a named consent, for require_consent
  IdSet actions;
  IdSet data;
  IdSet requesters;
  std::optional<CheckedCond> when;
  std::optional<CheckedCond> unless;
  Span span;
};

/// Holds a policy whose names all resolve; the input of the compiler.
struct CheckedPolicy {
  std::string name;
  std::string version;
  std::vector<ClauseInfo> clauses;  // declared ones in file order, then `default` if implicit
  std::uint32_t default_clause = 0;
  std::vector<Term> data;  // data categories, in declaration order
  std::vector<Term> requesters;
  std::vector<Term> actions;
  std::vector<Term> purposes;
  std::vector<Term> facts;
  std::vector<Term> consents;
  std::vector<Term> objections;
  std::vector<Term> obligations;
  std::vector<AttributeInfo> attributes;    // in declaration order
  std::vector<NameSetInfo> name_sets;       // in declaration order
  std::vector<DeclaredDocument> documents;  // in declaration order
  std::vector<AttributeTest> tests;         // every distinct comparison conditions read
  std::int32_t time_attribute = no_id;      // `context.time`, when declared
  std::vector<CheckedRule> rules;           // in file order
  std::vector<CheckedAssertion> assertions;
};

/// Carries the checked policy (absent when there are errors) and every diagnostic.
struct CheckResult {
  std::optional<CheckedPolicy> policy;
  std::vector<Diagnostic> diagnostics;
};

/// Resolves and checks a parsed policy; reports every error and the warnings.
CheckResult check(const ast::Policy& policy);

/// Gives the keyword that declares a kind of name: "data", "requester", ...
std::string_view kind_keyword(ast::DeclKind kind);

/// Names a kind of declaration the way an author says it: "data category", "fact", ...
std::string_view kind_noun(ast::DeclKind kind);

/// Finds the closest of `candidates` to `word`, or returns empty when none is close.
std::string closest_name(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace clause::dsl
