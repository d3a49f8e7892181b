#include "language.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "canonical.hpp"
#include "clause/dsl/check.hpp"
#include "clause/dsl/front_end.hpp"
#include "clause/dsl/keywords.hpp"
#include "clause/lint.hpp"

namespace clause::lsp {
namespace {

using ast::DeclKind;

constexpr std::array<DeclKind, decl_kinds> all_kinds = {
    DeclKind::data, DeclKind::requester, DeclKind::action,    DeclKind::purpose,
    DeclKind::fact, DeclKind::consent,   DeclKind::objection, DeclKind::obligation};

bool contains(std::uint32_t offset, Span span) {
  return span.begin <= offset && offset <= span.end;
}

void add_unique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// Collects every name and clause id of a policy tree, with the kind each place takes.
class ReferenceCollector {
 public:
  explicit ReferenceCollector(std::vector<Reference>& out) : out_(out) {}

  void policy(const ast::Policy& p) {
    for (const ast::ClauseDecl& c : p.clauses)
      clause(c.id, true);
    for (const ast::Decl& d : p.decls) {
      name(d.name, d.kind, true);
      if (d.parent) name(*d.parent, d.kind, false);
      if (d.cites) clause(*d.cites, false);
    }
    for (const ast::Rule& r : p.rules)
      rule(r, true);
    for (const ast::Assertion& a : p.assertions) {
      rule(a.body, false);
      if (a.unless) condition(*a.unless);
    }
  }

 private:
  void name(const ast::Name& n, DeclKind kind, bool declaration) {
    out_.push_back(Reference{n.span, n.text, false, kind, declaration});
  }
  void clause(const ast::Text& t, bool declaration) {
    out_.push_back(Reference{t.span, t.value, true, DeclKind::data, declaration});
  }
  void names(const ast::NameSet& set, DeclKind kind) {
    for (const ast::Name& n : set.names)
      name(n, kind, false);
  }
  void rule(const ast::Rule& r, bool cites) {
    if (r.consent) name(*r.consent, DeclKind::consent, false);
    names(r.actions, DeclKind::action);
    names(r.data, DeclKind::data);
    names(r.requesters, DeclKind::requester);
    if (r.condition) condition(*r.condition);
    for (const ast::Name& o : r.obligations)
      name(o, DeclKind::obligation, false);
    if (cites) clause(r.cites, false);
  }
  void condition(const ast::Cond& c) {
    for (const ast::Name& n : c.names)
      name(n, leaf_kind(c.kind), false);
    for (const ast::Cond& child : c.children)
      condition(child);
  }
  static DeclKind leaf_kind(ast::CondKind kind) {
    switch (kind) {
      case ast::CondKind::purpose_is:
      case ast::CondKind::purpose_in:
        return DeclKind::purpose;
      case ast::CondKind::consent:
        return DeclKind::consent;
      case ast::CondKind::objected:
        return DeclKind::objection;
      default:
        return DeclKind::fact;
    }
  }

  std::vector<Reference>& out_;
};

// The ids the checker gives rules: the rule's name, or "<clause>/<n>" for the n-th rule
// citing a clause that exists.
std::vector<std::string> checker_rule_ids(const ast::Policy& p) {
  std::map<std::string, std::uint32_t> per_clause;
  for (const ast::ClauseDecl& c : p.clauses)
    per_clause.emplace(c.id.value, 0);
  per_clause.emplace(std::string(dsl::default_clause_id), 0);
  std::vector<std::string> ids;
  for (const ast::Rule& r : p.rules) {
    const auto it = per_clause.find(r.cites.value);
    const std::uint32_t n = it == per_clause.end() ? 0 : ++it->second;
    if (r.name) {
      ids.push_back(r.name->text);
    } else {
      ids.push_back(n == 0 ? std::string() : fmt::format("{}/{}", r.cites.value, n));
    }
  }
  return ids;
}

// ---- completion ----

// One token of the text before the cursor.
struct Token {
  std::string_view text;
  bool string = false;
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Where a string that starts at `at` ends (past its closing quote), or npos when it runs
// to the end of the line or of `text`.
std::size_t string_end(std::string_view text, std::size_t at) {
  for (std::size_t i = at + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    } else if (text[i] == '\n' || text[i] == '\r') {
      return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

// Where the cursor stands, lexically.
enum class Place : std::uint8_t { code, string, comment };

// Splits `text` into tokens, dropping blanks and comments; tells whether its end lies inside
// a string or a comment. A string left open at a line break ends there, as for the parser.
std::vector<Token> tokenize(std::string_view text, Place& place) {
  std::vector<Token> tokens;
  place = Place::code;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '#') {
      const std::size_t eol = text.find('\n', i);
      if (eol == std::string_view::npos) {
        place = Place::comment;
        return tokens;
      }
      i = eol + 1;
    } else if (c == '"') {
      const std::size_t end = string_end(text, i);
      if (end == std::string_view::npos) {
        const std::size_t eol = text.find_first_of("\r\n", i);
        if (eol == std::string_view::npos) {
          place = Place::string;
          return tokens;
        }
        tokens.push_back({text.substr(i, eol - i), true});
        i = eol;
        continue;
      }
      tokens.push_back({text.substr(i, end - i), true});
      i = end;
    } else if (is_name_char(c) || c == '@') {
      std::size_t j = i + 1;
      while (j < text.size() && is_name_char(text[j]))
        ++j;
      tokens.push_back({text.substr(i, j - i), false});
      i = j;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else {
      tokens.push_back({text.substr(i, 1), false});
      ++i;
    }
  }
  return tokens;
}

// What may be written at the cursor.
struct Expectation {
  std::vector<DeclKind> kinds;  // names of these kinds
  bool clauses = false;         // clause ids
  bool quote_clauses = false;   // ... inserted with their quotes
  bool keywords = false;        // every keyword
  std::vector<std::string_view> some_keywords;
};

bool is(const std::vector<Token>& t, std::ptrdiff_t i, std::string_view word) {
  return i >= 0 && static_cast<std::size_t>(i) < t.size() && !t[i].string && t[i].text == word;
}

bool is_name(const std::vector<Token>& t, std::ptrdiff_t i) {
  return i >= 0 && !t[i].string && !t[i].text.empty() && is_name_char(t[i].text[0]);
}

Expectation everything() {
  Expectation e;
  e.kinds.assign(all_kinds.begin(), all_kinds.end());
  e.keywords = true;
  return e;
}

Expectation names_of(DeclKind kind) {
  Expectation e;
  e.kinds = {kind};
  return e;
}

Expectation condition_start() {
  Expectation e = names_of(DeclKind::fact);
  e.some_keywords = {"not", "purpose", "consent"};
  return e;
}

// What a policy takes after the token at `i` (lists already stepped over).
Expectation policy_expectation(const std::vector<Token>& t, std::ptrdiff_t i) {
  if (i < 0) return everything();
  const auto at = [&](std::ptrdiff_t k, std::string_view w) { return is(t, k, w); };
  if (at(i, "of") || at(i, "exclude")) return names_of(DeclKind::data);
  if (at(i, "by")) return names_of(DeclKind::requester);
  if (at(i, "under")) {
    if (at(i - 2, "requester")) return names_of(DeclKind::requester);
    return names_of(DeclKind::data);
  }
  if (at(i, "when") || at(i, "and") || at(i, "or") || at(i, "not") || at(i, "unless")) {
    return condition_start();
  }
  if (at(i, "(")) {
    if (at(i - 1, "in") && at(i - 2, "purpose")) return names_of(DeclKind::purpose);
    return condition_start();
  }
  if (at(i, "is") && at(i - 1, "purpose")) return names_of(DeclKind::purpose);
  if (at(i, "consent")) {
    // After `require` or inside a condition it names a consent; at a statement's start it
    // declares a new one, which nothing can propose.
    if (at(i - 1, "require") || at(i - 1, "when") || at(i - 1, "and") || at(i - 1, "or") ||
        at(i - 1, "not") || at(i - 1, "(") || at(i - 1, "unless")) {
      return names_of(DeclKind::consent);
    }
    return {};
  }
  if (at(i, "allow") || at(i, "deny") || at(i, "for")) {
    Expectation e = names_of(DeclKind::action);
    e.some_keywords = {"any", "of", "by", "when", "cites"};
    return e;
  }
  if (at(i, "cites")) {
    Expectation e;
    e.clauses = true;
    e.quote_clauses = true;
    return e;
  }
  if (at(i, "data") || at(i, "requester") || at(i, "action") || at(i, "purpose") || at(i, "fact") ||
      at(i, "clause") || at(i, "policy") || at(i, "version")) {
    return {};  // a new name or a string follows
  }
  return everything();
}

// What a test file takes after the token at `i`.
Expectation test_expectation(const std::vector<Token>& t, std::ptrdiff_t i) {
  Expectation e;
  if (i < 0) {
    e.keywords = true;
    return e;
  }
  const auto at = [&](std::string_view w) { return is(t, i, w); };
  if (at("data")) return names_of(DeclKind::data);
  if (at("requester")) return names_of(DeclKind::requester);
  if (at("action")) return names_of(DeclKind::action);
  if (at("purpose")) return names_of(DeclKind::purpose);
  if (at("facts")) return names_of(DeclKind::fact);
  if (at("consent")) return names_of(DeclKind::consent);
  if (at("objections")) return names_of(DeclKind::objection);
  if (at("obliges")) return names_of(DeclKind::obligation);
  if (at("cites")) {
    e.clauses = true;
    e.quote_clauses = true;
    return e;
  }
  if (at("for") || at("case")) return e;  // a string follows
  e.keywords = true;
  return e;
}

// Steps back over `NAME ,` pairs, so that `of a, b, |` reads as `of |`.
std::ptrdiff_t skip_list(const std::vector<Token>& t, std::ptrdiff_t i) {
  while (i >= 1 && is(t, i, ",") && is_name(t, i - 1))
    i -= 2;
  return i;
}

std::string_view completion_noun(DeclKind kind) {
  return dsl::kind_noun(kind);
}

void add_proposals(const Expectation& e, const Vocabulary& v, bool tests,
                   std::vector<Completion>& out) {
  for (const DeclKind kind : e.kinds) {
    for (const std::string& name : v.names[static_cast<std::size_t>(kind)]) {
      out.push_back(Completion{name, std::string(completion_noun(kind)), "", CompletionKind::name,
                               kind, std::nullopt});
    }
  }
  if (e.clauses) {
    for (const std::string& id : v.clauses) {
      out.push_back(Completion{id, "clause", e.quote_clauses ? "\"" + id + "\"" : "",
                               CompletionKind::clause, DeclKind::data, std::nullopt});
    }
  }
  const auto keyword = [&](std::string_view k) {
    out.push_back(Completion{std::string(k), "keyword", "", CompletionKind::keyword, DeclKind::data,
                             std::nullopt});
  };
  if (e.keywords) {
    for (const dsl::Keyword& k : dsl::keywords) {
      if (tests ? k.in_tests : k.reserved) keyword(k.word);
    }
  }
  std::for_each(e.some_keywords.begin(), e.some_keywords.end(), keyword);
}

}  // namespace

DocumentKind kind_of(std::string_view uri, std::string_view language_id) {
  if (language_id == "clause-test") return DocumentKind::tests;
  if (language_id == "clause-policy") return DocumentKind::policy;
  return uri.ends_with(".test") ? DocumentKind::tests : DocumentKind::policy;
}

std::string_view tier_name(const ast::Rule& rule) {
  if (rule.fallback) return to_string(Tier::fallback);
  if (rule.exclusion) return to_string(Tier::exclusion);
  switch (rule.effect) {
    case ast::Effect::deny:
      return to_string(Tier::prohibition);
    case ast::Effect::allow:
      return to_string(Tier::permission);
    case ast::Effect::require_consent:
      return to_string(Tier::consent);
  }
  return to_string(Tier::prohibition);
}

void Vocabulary::merge(const Vocabulary& other) {
  for (std::size_t k = 0; k < decl_kinds; ++k) {
    for (const std::string& name : other.names[k])
      add_unique(names[k], name);
  }
  for (const std::string& id : other.clauses)
    add_unique(clauses, id);
  for (const AttributeName& a : other.attributes) {
    const auto same = [&](const AttributeName& b) { return b.path == a.path; };
    if (std::find_if(attributes.begin(), attributes.end(), same) == attributes.end())
      attributes.push_back(a);
  }
}

namespace {

// An attribute's type as a policy writes it.
std::string type_text(const ast::AttributeDecl& a) {
  if (a.list) return "list of " + (a.element ? a.element->text : std::string());
  if (a.range) return a.type.text + " " + a.range->low + ".." + a.range->high;
  return a.type.text;
}

// `names NAME: A, B` of the set an attribute's type names, or "".
std::string name_set_line(const ast::Policy& policy, const ast::AttributeDecl& a) {
  for (const ast::NameSetDecl& n : policy.name_sets) {
    if (a.list || n.name.text != a.type.text) continue;
    std::string line = "\nnames " + n.name.text + ":";
    for (std::size_t i = 0; i < n.members.size(); ++i)
      line += (i == 0 ? " " : ", ") + n.members[i].text;
    return line;
  }
  return "";
}

// The attribute of a name set that `PATH is`, `PATH =` or `PATH !=` before the cursor
// compares, if any.
const AttributeName* name_set_compared(const std::vector<Token>& t, std::ptrdiff_t last,
                                       const Vocabulary& v) {
  if (!is(t, last, "is") && !is(t, last, "=")) return nullptr;
  std::ptrdiff_t p = last - 1;
  if (is(t, last, "=") && is(t, p, "!")) --p;
  if (p < 2 || !is(t, p - 1, ".")) return nullptr;
  const std::string path = std::string(t[static_cast<std::size_t>(p - 2)].text) + "." +
                           std::string(t[static_cast<std::size_t>(p)].text);
  for (const AttributeName& a : v.attributes) {
    if (a.path == path && !a.names.empty()) return &a;
  }
  return nullptr;
}

}  // namespace

namespace {

// Every attribute path a condition writes.
void condition_paths(const ast::Cond& c, std::vector<const ast::AttrPath*>& out) {
  if (c.attribute) out.push_back(&*c.attribute);
  if (c.operand && c.operand->kind == ast::Operand::Kind::attribute)
    out.push_back(&c.operand->attribute);
  for (const ast::Cond& child : c.children)
    condition_paths(child, out);
}

}  // namespace

std::vector<const ast::AttrPath*> attribute_paths(const ast::Policy& policy) {
  std::vector<const ast::AttrPath*> out;
  for (const ast::AttributeDecl& a : policy.attributes) {
    out.push_back(&a.path);
    if (a.lookup) out.push_back(&a.lookup->key);
  }
  for (const ast::Rule& r : policy.rules) {
    if (r.condition) condition_paths(*r.condition, out);
  }
  for (const ast::Assertion& a : policy.assertions) {
    if (a.body.condition) condition_paths(*a.body.condition, out);
    if (a.unless) condition_paths(*a.unless, out);
  }
  return out;
}

Vocabulary vocabulary_of(const ast::Policy& policy) {
  Vocabulary v;
  for (const ast::Decl& d : policy.decls) {
    add_unique(v.names[static_cast<std::size_t>(d.kind)], d.name.text);
  }
  for (const ast::ClauseDecl& c : policy.clauses)
    add_unique(v.clauses, c.id.value);
  add_unique(v.clauses, std::string(dsl::default_clause_id));
  for (const ast::AttributeDecl& a : policy.attributes) {
    AttributeName name{a.path.text(), type_text(a), {}};
    for (const ast::NameSetDecl& n : policy.name_sets) {
      if (a.list || n.name.text != a.type.text) continue;
      for (const ast::Name& m : n.members)
        name.names.push_back(m.text);
    }
    v.attributes.push_back(std::move(name));
  }
  return v;
}

Document::Document(DocumentKind kind, SourceFile source, const AnalyzeOptions& options,
                   const Document* previous)
    : kind_(kind), source_(std::move(source)), lines_(source_.text), parse_limits_(options.parse) {
  if (previous != nullptr && previous->kind_ == kind) {
    good_vocabulary_ = previous->good_vocabulary_;
  }
  if (kind_ == DocumentKind::tests) {
    analyse_tests(options);
  } else {
    analyse_policy(options);
  }
}

void Document::analyse_policy(const AnalyzeOptions& options) {
  // One front end run gives the tree and the same diagnostics as `clause check`: the
  // compiler's, then the linter's.
  const Limits& limits = options.compile.limits;
  dsl::FrontEnd front =
      dsl::analyze(source_, {options.parse, limits.max_policy_bytes, limits.max_rules});
  const bool too_long = source_.text.size() > limits.max_policy_bytes;
  syntax_ok_ = front.syntax_ok;
  tree_ = std::move(front.tree);
  front.tree.suppressions = tree_.suppressions;  // the linter honours them
  auto policy = compile(source_, std::move(front), options.compile);
  if (policy) {
    diagnostics_.assign(policy->warnings().begin(), policy->warnings().end());
    const std::vector<Diagnostic> findings = lint(*policy);
    diagnostics_.insert(diagnostics_.end(), findings.begin(), findings.end());
    sort_by_position(diagnostics_);
  } else {
    diagnostics_ = std::move(policy.error());
    // A mistake inside a document is shown on the document's declaration, with its place.
    for (Diagnostic& d : diagnostics_) {
      if (!d.file) continue;
      const LineColumn at = line_column(d.file->text, d.span.begin);
      d.message = fmt::format("{}:{}:{}: {}", d.file->name, at.line, at.column, d.message);
      d.span = Span{};
      for (const ast::DocumentDecl& doc : tree_.documents) {
        if (doc.name.text == d.subject) d.span = doc.path.span;
      }
      d.notes.clear();
      d.file.reset();
    }
  }
  // A text past the size limit was not parsed (E003).
  if (too_long) return;
  ReferenceCollector(references_).policy(tree_);
  rule_ids_ = checker_rule_ids(tree_);
  vocabulary_ = vocabulary_of(tree_);
  if (syntax_ok_) good_vocabulary_ = vocabulary_;
  vocabulary_.merge(good_vocabulary_);
}

void Document::analyse_tests(const AnalyzeOptions& options) {
  if (source_.text.size() > options.compile.limits.max_policy_bytes) {
    diagnostics_.push_back(
        Diagnostic{Severity::error,
                   "E003",
                   fmt::format("the file is {} bytes long; the limit is {}", source_.text.size(),
                               options.compile.limits.max_policy_bytes),
                   Span{},
                   {},
                   "split the file, or raise the limit (`--max-policy-bytes`)"});
    own_diagnostics_ = diagnostics_;
    return;
  }
  dsl::TestParseResult parsed = dsl::parse_tests(source_, options.parse);
  diagnostics_ = std::move(parsed.diagnostics);
  sort_by_position(diagnostics_);
  own_diagnostics_ = diagnostics_;
  syntax_ok_ = diagnostics_.empty();
  if (parsed.tests.policy) tested_policy_ = parsed.tests.policy->value;
  tests_ = std::move(parsed.tests);
}

void Document::set_policy_diagnostics(std::vector<Diagnostic> found) {
  diagnostics_ = own_diagnostics_;
  diagnostics_.insert(diagnostics_.end(), std::make_move_iterator(found.begin()),
                      std::make_move_iterator(found.end()));
  sort_by_position(diagnostics_);
}

const Reference* Document::reference_at(std::uint32_t offset) const {
  const Reference* best = nullptr;
  for (const Reference& r : references_) {
    if (!contains(offset, r.span) || r.span.end == r.span.begin) continue;
    // Where two touch (`a,b`), the one that starts at the cursor wins.
    if (best == nullptr || r.span.begin > best->span.begin) best = &r;
  }
  return best;
}

const ast::Decl* Document::declaration_of(DeclKind kind, std::string_view name) const {
  for (const ast::Decl& d : tree_.decls) {
    if (d.kind == kind && d.name.text == name) return &d;
  }
  return nullptr;
}

const ast::ClauseDecl* Document::clause_of(std::string_view id) const {
  for (const ast::ClauseDecl& c : tree_.clauses) {
    if (c.id.value == id) return &c;
  }
  return nullptr;
}

std::string Document::clause_words(std::string_view id) const {
  if (const ast::ClauseDecl* c = clause_of(id)) return c->words.value;
  if (id == dsl::default_clause_id) return std::string(dsl::default_clause_words);
  return {};
}

std::string Document::describe_clause(std::string_view id) const {
  if (clause_of(id) == nullptr && id != dsl::default_clause_id) {
    return fmt::format("clause `{}` is not declared", id);
  }
  std::string out = fmt::format("```clause-policy\nclause \"{}\"\n```", id);
  const std::string words = clause_words(id);
  if (!words.empty()) out += "\n" + words;
  if (clause_of(id) == nullptr) out += "\n\n(the built-in fail-closed clause)";
  return out;
}

std::string Document::describe_name(const Reference& r) const {
  const ast::Decl* d = declaration_of(r.kind, r.text);
  if (d == nullptr) return fmt::format("no {} `{}` is declared", dsl::kind_noun(r.kind), r.text);
  std::string line = fmt::format("{} {}", dsl::kind_keyword(d->kind), d->name.text);
  if (d->parent) line += " under " + d->parent->text;
  if (d->cites) line += fmt::format(" cites \"{}\"", d->cites->value);
  std::string out = fmt::format("```clause-policy\n{}\n```\n{}", line, dsl::kind_noun(d->kind));
  if (d->cites) {
    const std::string words = clause_words(d->cites->value);
    if (!words.empty()) out += fmt::format("\n\nclause `{}`: {}", d->cites->value, words);
  }
  return out;
}

std::optional<Hover> Document::describe_rule(std::uint32_t offset) const {
  for (std::size_t i = 0; i < tree_.rules.size(); ++i) {
    const ast::Rule& r = tree_.rules[i];
    if (!contains(offset, r.span)) continue;
    const std::string& id = rule_ids_[i];
    std::string out = id.empty() ? std::string("rule (its clause is not declared)")
                                 : fmt::format("rule `{}`", id);
    out += fmt::format("\n\ntier: {}; cites clause `{}`", tier_name(r), r.cites.value);
    return Hover{std::move(out), r.span};
  }
  return std::nullopt;
}

std::optional<Hover> Document::describe_attribute(std::uint32_t offset) const {
  for (const ast::AttrPath* p : attribute_paths(tree_)) {
    if (!contains(offset, p->span)) continue;
    const std::string path = p->text();
    for (const ast::AttributeDecl& a : tree_.attributes) {
      if (a.path.text() != path) continue;
      const std::string line = fmt::format("attribute {} {}{}{}", path, type_text(a),
                                           a.optional ? " optional" : "", name_set_line(tree_, a));
      return Hover{fmt::format("```clause-policy\n{}\n```\nattribute", line), p->span};
    }
    return Hover{fmt::format("no attribute `{}` is declared", path), p->span};
  }
  return std::nullopt;
}

std::optional<Hover> Document::hover(std::uint32_t offset) const {
  if (kind_ != DocumentKind::policy) return std::nullopt;
  if (auto attribute = describe_attribute(offset)) return attribute;
  if (const Reference* r = reference_at(offset)) {
    return Hover{r->clause ? describe_clause(r->text) : describe_name(*r), r->span};
  }
  return describe_rule(offset);
}

std::optional<Span> Document::definition(std::uint32_t offset) const {
  if (kind_ != DocumentKind::policy) return std::nullopt;
  const Reference* r = reference_at(offset);
  if (r == nullptr) return std::nullopt;
  if (r->clause) {
    const ast::ClauseDecl* c = clause_of(r->text);
    if (c == nullptr) return std::nullopt;
    return c->span;
  }
  const ast::Decl* d = declaration_of(r->kind, r->text);
  if (d == nullptr) return std::nullopt;
  return d->name.span;
}

std::vector<Completion> Document::completion(std::uint32_t offset, const Vocabulary* policy) const {
  const std::string_view text = source_.text;
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
  std::uint32_t word = offset;  // where the word being typed starts
  while (word > 0 && is_name_char(text[word - 1]))
    --word;
  Place place = Place::code;
  const std::vector<Token> tokens = tokenize(text.substr(0, word), place);
  if (place == Place::comment) return {};
  const bool tests = kind_ == DocumentKind::tests;
  const std::ptrdiff_t last = static_cast<std::ptrdiff_t>(tokens.size()) - 1;
  Expectation e;
  std::optional<Span> replace;
  if (place == Place::string) {
    // Inside `cites "`: the clause ids, without their quotes, replacing what is typed.
    e.clauses = is(tokens, last, "cites");
    const std::size_t quote = text.rfind('"', offset == 0 ? 0 : offset - 1);
    if (quote != std::string_view::npos) {
      replace = Span{static_cast<std::uint32_t>(quote + 1), offset};
    }
  } else if (is(tokens, last, ".") && word > 0 && text[word - 1] == '.' &&
             (is(tokens, last - 1, "data") || is(tokens, last - 1, "requester") ||
              is(tokens, last - 1, "context"))) {
    // `data.|`: the attributes declared on that root, with their types.
    const Vocabulary empty;
    const Vocabulary& names = tests ? (policy != nullptr ? *policy : empty) : vocabulary_;
    const std::string root = std::string(tokens[static_cast<std::size_t>(last - 1)].text) + ".";
    std::vector<Completion> out;
    for (const AttributeName& a : names.attributes) {
      if (!a.path.starts_with(root)) continue;
      out.push_back(Completion{a.path.substr(root.size()), a.type, "", CompletionKind::name,
                               DeclKind::fact, std::nullopt});
    }
    return out;
  } else if (const AttributeName* a =
                 tests ? nullptr : name_set_compared(tokens, last, vocabulary_)) {
    // `context.destination is |`: the names of the attribute's set.
    std::vector<Completion> out;
    for (const std::string& n : a->names)
      out.push_back(Completion{n, a->type, "", CompletionKind::name, DeclKind::fact, std::nullopt});
    return out;
  } else {
    const std::ptrdiff_t i = skip_list(tokens, last);
    e = tests ? test_expectation(tokens, i) : policy_expectation(tokens, i);
  }
  const Vocabulary empty;
  const Vocabulary& names = tests ? (policy != nullptr ? *policy : empty) : vocabulary_;
  std::vector<Completion> out;
  add_proposals(e, names, tests, out);
  for (Completion& c : out)
    c.replace = replace;
  return out;
}

std::optional<std::string> Document::formatted() const {
  if (!syntax_ok_) return std::nullopt;
  // The tree the document was analysed with: the text is not parsed again.
  tools::Formatted f = kind_ == DocumentKind::tests
                           ? tools::format_parsed(source_, tests_, parse_limits_)
                           : tools::format_parsed(source_, tree_, parse_limits_);
  return std::move(f.text);
}

}  // namespace clause::lsp
