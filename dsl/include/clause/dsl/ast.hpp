// Stage: parse. The syntax tree of a policy file, with the source span of every part.
// It holds names as written; the checker resolves them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "clause/diagnostic.hpp"
#include "clause/effect.hpp"

namespace clause::ast {

/// Holds an identifier as written, with where it was written.
struct Name {
  std::string text;
  Span span;
};

/// Holds a string literal's value (escapes resolved, adjacent literals joined).
struct Text {
  std::string value;
  Span span;
};

/// Holds a date or date-time literal as written (`2026-02-16`, `2026-02-16T08:00:00Z`);
/// the checker reads it.
struct TimeText {
  std::string text;
  Span span;
};

/// Holds `policy "NAME" version "VERSION"`.
struct Header {
  Text name;
  Text version;
  Span span;
};

/// Holds `clause "ID" "WORDS"`: one clause of the policy document.
struct ClauseDecl {
  Text id;
  Text words;
  Span span;
  std::optional<TimeText> from;   // `from DATE`: every rule citing it applies from then
  std::optional<TimeText> until;  // `until DATE`: and before then
};

enum class DeclKind : std::uint8_t {
  data,
  requester,
  action,
  purpose,
  fact,
  consent,
  objection,
  obligation
};

/// Holds one declared vocabulary name, with its parent and citation when given.
struct Decl {
  DeclKind kind = DeclKind::data;
  Name name;
  std::optional<Name> parent;  // data, requester and purpose only
  std::optional<Text> cites;   // data, requester and consent only
  Span span;                   // the whole declaration statement
};

/// Holds an attribute as written: `data.subject`, `requester.id`, `context.time`.
struct AttrPath {
  Name root;   // `data`, `requester` or `context`
  Name field;  // the attribute's name
  Span span;
  [[nodiscard]] std::string text() const { return root.text + "." + field.text; }
};

/// Holds `attribute PATH TYPE [optional]`, TYPE being `string`, `integer`, `boolean`,
/// `date`, `time` or `list of string`.
/// Holds `LOW..HIGH` after an integer type, the bounds as written.
struct RangeText {
  std::string low;
  std::string high;
  Span span;
};

/// Holds `from DOC[KEY].FIELD` after an attribute's type: the attribute is read from a
/// policy document, from the entry the key attribute's value names.
struct Lookup {
  Name document;
  AttrPath key;
  Text field;  // the field's name, quoted or not
  Span span;
};

struct AttributeDecl {
  AttrPath path;
  Name type;                    // the type word (maybe a name set's); `list` for `list of string`
  bool list = false;            // `list of ...`
  std::optional<Name> element;  // the word after `list of`
  std::optional<RangeText> range;  // `integer 0..150`
  bool optional = false;
  std::optional<Lookup> lookup{};  // `from DOC[KEY].FIELD`
  Span span;
};

/// Holds `document NAME from "PATH" [keyed by FIELD]`: a JSON document shipped with the
/// policy, an object of entries by key, or (`keyed by`) an array of entries.
struct DocumentDecl {
  Name name;
  Text path;                      // relative to the policy file's folder
  std::optional<Text> key_field;  // `keyed by FIELD`
  Span span;
};

/// Holds `names NAME: A, B, C`: a set of names that attributes of type NAME take.
struct NameSetDecl {
  Name name;
  std::vector<Name> members;
  Span span;
};

/// Holds a duration as written: `6 years`, `-30 days`.
struct DurationText {
  std::int64_t amount = 0;
  Name unit;  // years, months, days, hours, minutes, seconds (or the singular)
  Span span;
};

/// Holds the right-hand side of a comparison: another attribute (optionally shifted by a
/// duration), or a constant.
struct Operand {
  enum class Kind : std::uint8_t { attribute, integer, string, time, boolean, name };
  Kind kind = Kind::integer;
  AttrPath attribute;
  std::int64_t integer = 0;
  bool boolean = false;
  std::string text;  // a string's value, a name, or a time literal as written
  std::optional<DurationText> shift;
  Span span;
};

enum class CompareOp : std::uint8_t { eq, ne, lt, le, gt, ge };

enum class CondKind : std::uint8_t {
  fact,
  purpose_is,
  purpose_in,
  consent,
  negation,
  all,
  any,
  objected,   // `objected NAME`
  compare,    // `ATTR op OPERAND` (`is` reads as `=`)
  member,     // `ATTR in ATTR` (a list)
  contains,   // `"CONSTANT" in ATTR` (a list)
  attribute,  // a boolean attribute alone
};

/// Holds a condition: a leaf (`fact`, `purpose is x`, `purpose in (x, y)`, `consent x`,
/// `objected x`, a comparison of attributes) or `not`, `and` (all) and `or` (any) over
/// children. Chains of one operator are flat.
struct Cond {
  CondKind kind = CondKind::fact;
  std::vector<Name> names;  // leaves: the fact, purposes, consent or objection named
  std::vector<Cond> children;
  // compare, member, attribute: the left side; contains: the list, on the right
  std::optional<AttrPath> attribute;
  CompareOp op = CompareOp::eq;
  std::optional<Operand> operand;  // compare and member: the right side; contains: the constant
  Span span;
};

/// Holds a set of names in a rule's target; `any` when written `any` or left out.
struct NameSet {
  bool any = true;
  std::vector<Name> names;
  Span span;
};

using clause::Effect;

/// Holds one rule: `[name:] [otherwise] effect [actions] [of data] [by requesters]
/// [when condition] cites "ID"`, or `exclude data cites "ID"`.
struct Rule {
  std::optional<Name> name;
  bool fallback = false;
  bool exclusion = false;  // `exclude`: its effect is allow, in the exclusion tier
  bool first = false;      // `first`: decides before every tier but the effective date
  // `effective from DATE cites "ID"`: a request before DATE is denied citing ID, first of all.
  bool effective = false;
  std::optional<TimeText> from;   // `from DATE`: applies at or after DATE
  std::optional<TimeText> until;  // `until DATE`: applies before DATE
  std::vector<Name> obligations;  // `obliges a, b`
  Effect effect = Effect::deny;
  Span effect_span;
  std::optional<Name> consent;  // require_consent only
  NameSet actions;
  NameSet data;
  NameSet requesters;
  std::optional<Cond> condition;
  Text cites;
  Span span;
};

/// Holds `assert always|never EFFECT [actions] [of data] [by requesters] [when C]
/// [unless C]`: a promise about every request the target and conditions describe.
struct Assertion {
  bool always = false;  // `always`; otherwise `never`
  Rule body;            // effect, consent, target and `when` condition; `cites` is unused
  std::optional<Cond> unless;
  Span span;
};

/// Holds a `#` comment, kept so that tools can print a policy back with its comments.
struct Comment {
  std::string text;
  Span span;
};

/// Holds `@ignore W004, ...` written before a statement: those warnings are not reported
/// for that statement.
struct Suppression {
  std::vector<Name> codes;
  Span span;  // the annotation and the statement after it
};

/// Holds a whole policy file as written.
struct Policy {
  std::vector<Header> headers;  // exactly one is valid; the checker reports others
  std::vector<ClauseDecl> clauses;
  std::vector<Decl> decls;
  std::vector<AttributeDecl> attributes;
  std::vector<NameSetDecl> name_sets;
  std::vector<DocumentDecl> documents;
  std::vector<Rule> rules;
  std::vector<Assertion> assertions;
  std::vector<Comment> comments;
  std::vector<Suppression> suppressions;
};

/// Drops the warnings that an `@ignore` annotation silences.
void apply_suppressions(const std::vector<Suppression>& suppressions,
                        std::vector<Diagnostic>& diagnostics);

/// Holds what a test case expects: `expect allow|deny|require consent NAME cites "ID"
/// [obliges a, b]`.
struct Expectation {
  Effect effect = Effect::deny;  // allow, deny or require_consent
  std::optional<Name> consent;
  Text cites;
  std::vector<Name> obligations;  // none written: none expected
  Span span;
};

/// Holds a value a test case gives an attribute: a "string", an integer, `true` or
/// `false`, a date or date-time, or a `[...]` list of strings.
struct TestValue {
  enum class Kind : std::uint8_t { string, integer, boolean, time, list };
  Kind kind = Kind::string;
  std::string text;  // a string's value; an integer or a time as written
  bool boolean = false;
  std::vector<std::string> items;  // a list's strings
  Span span;
};

/// Holds `PATH = VALUE` of a case's `with`.
struct TestAttribute {
  AttrPath path;
  TestValue value;
  Span span;
};

/// Holds one consent a case grants: `NAME [expires DATE] [withdrawn DATE]`.
struct TestConsent {
  Name name;
  std::optional<TimeText> expires;
  std::optional<TimeText> withdrawn;
};

/// Holds one test case of a test file: a request by names and the decision it expects.
struct TestCase {
  Text name;
  std::optional<Name> data;
  std::optional<Name> requester;
  std::optional<Name> action;
  std::optional<Name> purpose;
  std::vector<TestAttribute> with;  // `with PATH = VALUE, ...`
  std::optional<TimeText> at;       // `at TIME`: sets `context.time`
  std::vector<Name> facts;
  std::vector<TestConsent> consent;
  std::vector<Name> objections;
  std::optional<Expectation> expect;
  Span span;
};

/// Holds a test file: `tests for "POLICY"` and its cases.
struct TestFile {
  std::optional<Text> policy;  // the policy's path, relative to the test file's folder
  std::vector<TestCase> cases;
  std::vector<Comment> comments;
};

}  // namespace clause::ast
