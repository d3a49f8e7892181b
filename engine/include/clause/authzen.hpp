// Stage: evaluate (input and output). The OpenID AuthZEN Authorization API 1.0 over a
// clause policy: an AuthZEN request read as a clause request, a decision written as an
// AuthZEN one. docs/http.md gives the mapping:
//
//   subject.type -> requester.kind      resource.type -> data.category
//   subject.id   -> requester.id        resource.id   -> data.id
//   subject.properties.F -> requester.F resource.properties.F -> data.F
//   action.name  -> action              context.F -> context.F
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clause/clause.hpp"

namespace clause::authzen {

/// How a batch of evaluations stops (`options.evaluations_semantic`).
enum class Semantic : std::uint8_t {
  execute_all,             // decide every item
  deny_on_first_deny,      // stop after the first item not allowed
  permit_on_first_permit,  // stop after the first item allowed
};

/// One evaluation: the decision, and why the request could not be decided when it could
/// not (then the decision is a denial). The error names the AuthZEN field.
struct Evaluation {
  Decision decision;
  std::optional<RequestError> error;
  std::string request;  // the clause request it was read as (empty when it could not be)
};

/// A batch of evaluations, in the order asked, cut after the item that stopped it.
struct Evaluations {
  std::vector<Evaluation> items;
  Semantic semantic = Semantic::execute_all;
  bool single = false;  // no `evaluations` items: one evaluation, answered as one decision
};

/// What a search looks for (`/access/v1/search/KIND`).
enum class SearchKind : std::uint8_t { subject, resource, action };

/// One page of a search's answer. The candidates are the keys of the documents keyed by
/// `requester.id` (subject) or `data.id` (resource), or the declared actions; each is
/// decided as the base request completed with it.
struct Search {
  SearchKind kind = SearchKind::resource;
  std::string type;                   // the searched type as JSON text (subject, resource)
  std::vector<std::string> ids;       // this page's allowed ids, or action names
  std::size_t total = 0;              // allowed across every page
  std::size_t decided = 0;            // candidates decided
  bool paged = false;                 // the answer carries `page`: asked for, or cut
  std::string next_token;             // where the next page starts; empty on the last page
  std::optional<RequestError> error;  // the base request could not be decided: no results
};

/// Reads AuthZEN requests for one policy. Which attributes the policy declares is read
/// once, when made; copies are cheap to share between threads (evaluating is const).
class Evaluator {
 public:
  /// What the policy declares of requesters and data.
  struct Declared {
    std::vector<std::string> requester_attributes;  // `F` of each declared `requester.F`
    std::vector<std::string> data_attributes;
    bool requester_id = false;  // `requester.id` is an attribute
    bool requester_id_string = false;
    bool data_id = false;
    bool data_id_string = false;
  };

  explicit Evaluator(Policy policy);

  [[nodiscard]] const Policy& policy() const noexcept { return policy_; }

  /// Reads an Access Evaluation request as a clause request's JSON text. The error is a
  /// mistake of the payload's shape (not one JSON object, a missing or mistyped subject,
  /// action or resource): the caller's mistake as a whole, HTTP 400.
  [[nodiscard]] Result<std::string, RequestError> clause_request(std::string_view json) const;

  /// Decides an Access Evaluation request. The error is a mistake of the payload's shape,
  /// as for clause_request; a request the policy cannot decide (an unknown type, a value of
  /// the wrong type for its attribute) is an evaluation that denies, with its error.
  [[nodiscard]] Result<Evaluation, RequestError> evaluate(std::string_view json) const;

  /// Decides an Access Evaluations request: top-level subject, action, resource and
  /// context are defaults for the items of `evaluations`; without items it is one
  /// evaluation. The error is a mistake of the payload as a whole (`evaluations` not an
  /// array, more than `max_batch` items, an unknown semantic); an item's own mistakes
  /// deny that item.
  [[nodiscard]] Result<Evaluations, RequestError> evaluate_all(std::string_view json,
                                                               std::size_t max_batch) const;

  /// Answers a Search request: the candidates the policy allows, one page of them (at
  /// most `max_page`). The error is a mistake of the payload's shape, a page token of
  /// another request or policy, or a policy that declares no document to search; a base
  /// request the policy cannot decide (an unknown type or id) gives no results, with its
  /// error.
  [[nodiscard]] Result<Search, RequestError> search(SearchKind kind, std::string_view json,
                                                    std::size_t max_page = 1000) const;

 private:
  Policy policy_;
  Declared declared_;
};

/// Appends an evaluation as an AuthZEN decision: `{"decision":true}`, with `context`
/// (effect, clause, rule, reason, consent, obligations, policy, error) unless
/// `with_context` is false.
void append_json(std::string& out, const Evaluation& evaluation, bool with_context);

/// Appends a search's page as an AuthZEN answer: `{"results":[...]}`, `page` first when
/// the answer is paged, and `context.error` when the base request could not be decided and
/// `with_context` is true.
void append_json(std::string& out, const Search& search, bool with_context);

/// Names a search kind as its endpoint does: "subject", "resource", "action".
std::string_view to_string(SearchKind kind) noexcept;

/// Names a semantic as the request does: "execute_all", ...
std::string_view to_string(Semantic semantic) noexcept;

}  // namespace clause::authzen
