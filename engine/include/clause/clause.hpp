// Stage: compile and evaluate. The whole public API of the engine: compile a policy once,
// then evaluate requests against it from any number of threads.
//
//   auto policy = clause::compile(clause::SourceFile{"privacy.policy", text});
//   if (!policy) { /* policy.error() holds the diagnostics */ }
//   clause::Decision d = policy->evaluate(request);  // never throws, fails closed
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clause/diagnostic.hpp"
#include "clause/effect.hpp"
#include "clause/result.hpp"
#include "clause/time.hpp"
#include "clause/value.hpp"

namespace clause {

/// Names an effect as the JSON output does: "allow", "deny", "require-consent".
std::string_view to_string(Effect effect) noexcept;

/// Names a tier: "exclusion", "prohibition", "permission", "consent", "fallback".
std::string_view to_string(Tier tier) noexcept;

/// A consent the person gave, with the dates that bound it: it counts at `context.time`
/// only while each date given is later.
struct ConsentRecord {
  std::string id;
  std::optional<Instant> expires;
  std::optional<Instant> withdrawn;
};

/// One attribute of a request by its path, e.g. {"data.subject_age", std::int64_t{12}}.
struct Attribute {
  std::string path;
  Value value;
};

/// Describes a request by names, as a service builds it in code.
struct Request {
  std::string data;          // data.category
  std::string requester;     // requester.kind
  std::string requester_id;  // requester.id; decides only when the policy declares it
  std::string action;
  std::optional<std::string> purpose;          // context.purpose
  std::vector<std::string> facts;              // the facts that are true
  std::vector<std::string> consent;            // consent ids the person has granted
  std::vector<ConsentRecord> consent_records;  // consents with dates (`context.consent`)
  std::vector<std::string> objections;         // what the person objected to
  std::vector<Attribute> attributes;           // the declared attributes given, `context.time` too
};

/// Says why a request cannot be decided: the field, the name found there and, for JSON
/// input, where it stands.
struct RequestError {
  std::string field;    // e.g. "data.category", "context.consent[1]", or "" for the whole text
  std::string name;     // the offending name or value as written; may be empty
  std::string message;  // one line, lower case
  std::optional<LineColumn> position;  // in the JSON text, when decoded from JSON

  /// Renders the error on one line: `data.category: unknown data category `x` (at 1:27)`.
  [[nodiscard]] std::string to_string() const;
};

namespace detail {
struct PolicyImpl;
struct Access;
}  // namespace detail

namespace dsl {
struct CheckedPolicy;  // clause/dsl/check.hpp
}  // namespace dsl

/// Holds a request whose names are resolved to the ids of one policy; evaluating it costs
/// no string compare and no allocation. Made only by Policy::resolve and Policy::decode.
class ResolvedRequest {
 public:
  ResolvedRequest() = default;

 private:
  friend struct detail::Access;
  std::uint64_t policy_serial_ = 0;  // which compiled policy the ids belong to
  std::uint32_t data_ = 0;
  std::uint32_t requester_ = 0;
  std::uint32_t action_ = 0;
  std::int32_t purpose_ = -1;
  // True facts, granted consents, the purpose and its ancestors, objections and the
  // answers of the policy's attribute tests, as bits.
  std::vector<std::uint64_t> atoms_;
  std::vector<Value> attributes_;  // by declared attribute: what the request said
};

/// Says how one rule fared in a traced evaluation.
enum class Outcome : std::uint8_t {
  decided,             // this rule gave the decision
  outranked,           // it matched, but a rule of higher precedence decided first
  action_mismatch,     // the request's action is not among the rule's actions
  data_mismatch,       // the request's data category is not covered by the rule
  requester_mismatch,  // the requester kind is not covered by the rule
  condition_false,     // everything matched but the condition
  consent_granted,     // a consent requirement that matched and whose consent is granted
};

/// Names an outcome: "decided", "outranked", "action does not match", ...
std::string_view to_string(Outcome outcome) noexcept;

/// Records one rule of a traced evaluation, in file order.
struct TraceStep {
  std::string_view rule;    // the rule's id
  std::string_view clause;  // the clause it cites
  Tier tier = Tier::prohibition;
  Outcome outcome = Outcome::action_mismatch;
  LineColumn position;  // where the rule starts in the policy file
  std::string detail;   // e.g. "`service_active` is false"
};

/// A decision as a small value without pointers, for loops that decide many requests:
/// making one costs no allocation and touches nothing shared. Its texts are read through
/// the Policy that made it (Policy::texts), which checks that it did.
struct Verdict {
  Effect effect = Effect::deny;
  bool decided = false;      // false: the request could not be decided (denied, citing default)
  bool granted = false;      // a consent requirement decided, and its consent is granted
  std::int32_t rule = -1;    // the deciding rule by its place in the file; -1: none
  std::uint64_t policy = 0;  // which compilation made it
};

/// The texts of a verdict, read through its policy: valid while any copy of it lives.
struct VerdictTexts {
  std::string_view clause = "default";
  std::string_view rule;     // empty when no rule decided
  std::string_view consent;  // the consent to ask for, when the effect is require_consent
  std::string_view reason;
  std::string_view error;  // why the request could not be decided; empty when it was
  std::span<const std::string_view> obligations;  // duties that come with the allow
};

struct Decision;

/// Options of one evaluation.
struct EvalOptions {
  bool trace = false;  // record every rule considered and why it matched or not
};

/// Describes one JSON document a policy declares (`document NAME from "PATH"`), as read
/// when the policy was compiled.
struct DocumentInfo {
  std::string_view name;          // as declared
  std::string_view path;          // as declared
  std::string_view content_hash;  // "sha256:" + hex of the document's text
  std::size_t entries = 0;
};

/// An immutable compiled policy. Copies share one compiled form; evaluate is const,
/// noexcept and safe to call from many threads at once.
class Policy {
 public:
  /// Makes an empty policy that denies every request with an error.
  Policy() = default;

  /// Gives the policy's name and version from its header.
  [[nodiscard]] std::string_view name() const noexcept;
  [[nodiscard]] std::string_view version() const noexcept;

  /// Gives "sha256:" and the hex digest of the source text: which text decides, exactly.
  /// With documents, the digest of the source's hash and each document's name and hash
  /// (docs/language.md, Documents): a change to the data changes it too.
  [[nodiscard]] std::string_view content_hash() const noexcept;

  /// Gives the documents the policy declares, in file order, as they were read.
  [[nodiscard]] std::span<const DocumentInfo> documents() const noexcept;

  /// The keys of a declared document, sorted bytewise; empty for an unknown name.
  [[nodiscard]] std::vector<std::string_view> document_keys(std::string_view document) const;

  /// The documents looked up by a request field ("requester.id", "data.id", ...), in file
  /// order.
  [[nodiscard]] std::vector<std::string_view> documents_keyed_by(std::string_view field) const;

  /// Sets a request's attribute `field` that documents are keyed by ("requester.id",
  /// "data.id") to `key` and reads the attributes looked up by it again, in place: a search
  /// decides one request for many keys without decoding it again. On an error (no entry
  /// for `key`, no document keyed by `field`, a request of another policy) the request is
  /// left one that cannot be decided.
  [[nodiscard]] std::optional<RequestError> rekey(ResolvedRequest& request, std::string_view field,
                                                  std::string_view key) const;

  /// Gives the warnings found while compiling (e.g. clauses nothing cites).
  [[nodiscard]] std::span<const Diagnostic> warnings() const noexcept;

  /// Gives the source the policy was compiled from.
  [[nodiscard]] const SourceFile& source() const noexcept;

  /// Gives every clause as (id, words), in the order the file declares them; `default`
  /// comes last when the file does not declare it.
  [[nodiscard]] std::vector<std::pair<std::string_view, std::string_view>> clauses() const;

  /// Gives a clause's words, or empty when the policy has no such clause.
  [[nodiscard]] std::string_view clause_words(std::string_view clause_id) const noexcept;

  /// Gives the checked policy: names, hierarchies, clauses, rules with their spans and
  /// assertions (clause/dsl/check.hpp), for tools that show or analyse a policy. Rules
  /// dropped after compiling are read again from the source, once.
  [[nodiscard]] const dsl::CheckedPolicy& checked() const noexcept;

  /// Gives the names of a request resolved against this policy (resolving does not keep
  /// `requester_id`: it reads "witness"); empty for a request of another policy. The
  /// attributes read from documents are left out: resolving the names finds them again.
  [[nodiscard]] Request names(const ResolvedRequest& request) const;

  /// Resolves a request's names to this policy's ids; unknown names are errors.
  [[nodiscard]] Result<ResolvedRequest, RequestError> resolve(const Request& request) const;

  /// Decodes a request from JSON text and resolves it, reporting the position of mistakes.
  [[nodiscard]] Result<ResolvedRequest, RequestError> decode(std::string_view json) const;

  /// Decodes as above; a request that gives no `context.time` is read as at `as_of`, when
  /// the policy declares `context.time` (`clause eval --as-of`).
  [[nodiscard]] Result<ResolvedRequest, RequestError> decode(std::string_view json,
                                                             std::optional<Instant> as_of) const;

  /// Decides a resolved request as a Verdict: no allocation, no shared counter touched,
  /// so that threads deciding on one policy do not slow each other down.
  [[nodiscard]] Verdict decide(const ResolvedRequest& request) const noexcept;

  /// Gives a verdict's texts; a verdict this policy did not make reads as an error.
  [[nodiscard]] VerdictTexts texts(const Verdict& verdict) const noexcept;

  /// Decides a resolved request. Allocates nothing unless a trace is asked for; the
  /// decision keeps this policy alive (one shared count, taken and dropped).
  [[nodiscard]] Decision evaluate(const ResolvedRequest& request,
                                  const EvalOptions& options = {}) const noexcept;

  /// Resolves and decides a request; an invalid request is denied citing `default`.
  [[nodiscard]] Decision evaluate(const Request& request,
                                  const EvalOptions& options = {}) const noexcept;

  /// Decodes and decides a JSON request; an invalid one is denied citing `default`.
  [[nodiscard]] Decision evaluate_json(std::string_view json,
                                       const EvalOptions& options = {}) const noexcept;

 private:
  friend struct detail::Access;
  // A denial for a request that could not be decided, naming this policy.
  [[nodiscard]] Decision refused(std::string message) const noexcept;
  std::shared_ptr<const detail::PolicyImpl> impl_;
};

/// The answer to one request. It holds the Policy that made it, so its string views stay
/// valid for as long as the decision does, whatever reloads or copies follow.
struct Decision {
  Effect effect = Effect::deny;
  std::string_view clause = "default";
  std::string_view rule;     // the deciding rule's id; empty when no rule decided
  std::string_view consent;  // the consent to ask for, when effect is require_consent
  std::string_view reason;   // one line a person can read
  std::span<const std::string_view> obligations;  // duties that come with an allow
  std::string error;                // why the request could not be decided; empty when it was
  std::vector<TraceStep> trace;     // every rule, when EvalOptions::trace was set
  std::string_view policy_version;  // the deciding policy's version, from its header
  std::string_view policy_hash;     // "sha256:" and the digest of the policy's source text
  Policy policy;                    // the deciding policy: what the views above point into
};

/// Bounds on what the engine takes in, so that hostile or mistaken input gets a clean
/// error, in bounded memory and stack, instead of a crash or a stall. docs/reliability.md
/// lists each with its command-line flag.
struct Limits {
  std::size_t max_policy_bytes = std::size_t{64} << 20;  // a policy file's size
  std::size_t max_name_length = 128;     // one name (identifier) in a policy or test file
  std::size_t max_condition_depth = 32;  // nesting of `not` and parentheses in one condition
  std::size_t max_rules = 500'000;       // rules in one policy
  std::size_t max_request_bytes = std::size_t{1} << 20;  // one JSON request
  std::size_t max_json_depth = 8;  // nesting of objects and arrays in one request
  std::size_t max_batch = 10'000;  // requests in one batch (`clause serve`)
  std::size_t max_document_bytes = std::size_t{64} << 20;  // one document a policy reads
  std::size_t max_documents = 64;                          // documents one policy declares
  std::size_t max_document_depth = 16;  // nesting of objects and arrays in a document
};

/// Reads a document a policy declares, by its path as declared (relative to the policy).
using DocumentReader = std::function<Result<SourceFile, std::string>(std::string_view path)>;

/// Options of compilation.
struct CompileOptions {
  // The bounds on the policy text, kept by the compiled policy for the requests it decodes.
  Limits limits;
  // How many copies of rules the index may make, so that each (action, requester) pair
  // finds its rules in one place; past it, rules naming large requester subtrees are kept
  // once and consulted in a short chain. Unset: 6 per rule, plus 2^20 - 10 per rule (at
  // least 65,536), which gives policies of up to about 10,000 rules one cell per pair.
  std::optional<std::size_t> index_budget;
  // Keep the checked rules in memory for traces and analyses. Unset, they are dropped
  // after compiling and read again from the source the first time they are needed.
  bool keep_rule_tree = false;
  // Reads the documents the policy declares. Unset: read from disk next to the policy file
  // (the folder of the source's name), within the limits.
  std::optional<DocumentReader> read_document;
};

/// Parses, checks and compiles a policy: dsl::analyze, then the compile below. Gives the
/// Policy, or every diagnostic when the policy has errors. Never throws.
[[nodiscard]] Result<Policy, std::vector<Diagnostic>> compile(
    const SourceFile& source, const CompileOptions& options = {}) noexcept;

namespace dsl {
struct FrontEnd;
}

/// Compiles what the front end (clause/dsl/front_end.hpp) made of `source`, analysed
/// within `options.limits`. Gives the Policy, or the front end's diagnostics when they
/// hold an error. Never throws.
[[nodiscard]] Result<Policy, std::vector<Diagnostic>> compile(
    const SourceFile& source, dsl::FrontEnd&& front, const CompileOptions& options = {}) noexcept;

/// How read_source reads a file.
struct ReadOptions {
  std::size_t max_bytes = Limits{}.max_policy_bytes;  // a larger file is refused
  // Refuse anything but a regular file (a FIFO, a device, a socket) without waiting on
  // it: what a service that reloads its policy wants, so that no reload can hang.
  bool regular_file_only = false;
  // Give up when reading takes longer (0: never). Checked between reads of 64 KiB, and
  // while waiting on a pipe.
  std::chrono::milliseconds timeout{0};
  // What the file is, and the option that sets `max_bytes`, for the errors: a document
  // read past its limit names its own limit, not the policy's.
  std::string_view kind = "policy";
  std::string_view limit_option = "--max-policy-bytes";
};

/// Reads a whole file; the error says why it could not be read. A file larger than
/// `max_bytes` is refused before it is read; from a pipe or a device, at most one byte
/// past it is read. Never throws.
[[nodiscard]] Result<SourceFile, std::string> read_source(const std::string& path,
                                                          const ReadOptions& options) noexcept;
[[nodiscard]] Result<SourceFile, std::string> read_source(
    const std::string& path, std::size_t max_bytes = Limits{}.max_policy_bytes) noexcept;

}  // namespace clause
