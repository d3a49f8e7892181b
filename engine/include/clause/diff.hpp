// Stage: analysis. Every decision that differs between two versions of a policy, or of the
// data a policy reads, grouped into regions of requests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clause/clause.hpp"

namespace clause {

/// One decision as the diff reports it.
struct DiffSide {
  Effect effect = Effect::deny;
  std::string clause;
  std::string consent;
  std::string rule;
  std::vector<std::string> obligations;  // the duties an allow carries, sorted
  std::string error;  // why the version refuses the request (a key with no entry), or empty
  bool operator==(const DiffSide& o) const {
    return effect == o.effect && clause == o.clause && consent == o.consent &&
           obligations == o.obligations && error == o.error;
  }
};

/// A region of requests that the old and the new policy decide differently.
struct DiffRegion {
  std::vector<std::string> actions, requesters, data;
  DiffSide before;
  DiffSide after;
  Request witness;
  std::uint64_t requests = 0;
  std::vector<std::string> attributes;  // split on classes of their values; the witness holds one
  // The values the witness's looked-up attributes take (a request cannot give them; for
  // the witness to be decided so, the data must hold them). Absent ones are left out.
  std::vector<Attribute> looked_up;
  // A data diff's region holds the requests whose key attribute names one of `keys`: each
  // key alike (the witness names the first).
  std::string key_attribute;
  std::vector<std::string> keys;
};

/// An entry of a data document that changed in a field the policy reads.
struct DiffEntry {
  std::string key;
  std::string change;               // "added", "removed" or "changed"
  std::vector<std::string> fields;  // the fields read whose values differ, sorted
};

/// The names of one kind that only one version declares.
struct DiffNames {
  std::string kind;  // "actions", "requesters", "data", "facts", "consents", "purposes",
                     // "objections", "obligations" or "attributes"
  std::vector<std::string> added, removed;
  std::vector<std::string> changed;  // declared by both, differently (type, optionality, parent)
};

/// Every region that changed, and how many of the `total` requests did. Only requests
/// valid under both versions are compared; `names` lists what makes the others invalid
/// in one of them.
struct Diff {
  std::vector<DiffNames> names;  // the kinds whose names differ
  std::vector<DiffRegion> regions;
  std::string document;            // a data diff's document
  std::vector<DiffEntry> entries;  // a data diff's changed entries, by key
  std::uint64_t changed = 0;
  std::uint64_t total = 0;
  bool complete = true;
};

/// Compares two policies over every request both accept. Never throws: when memory runs
/// out, the regions so far are dropped and `complete` is false.
Diff diff_policies(const Policy& before, const Policy& after) noexcept;

/// Compares one policy under two versions of one of its data documents: `before` and
/// `after` compiled from the same text, with every other document alike. For each key
/// attribute that reads the document and each entry that changed in a field it reads, every
/// request whose key attribute names that entry is decided with the old and the new
/// entry, over all its other inputs; a version without the entry refuses such a request
/// as evaluation does (deny, with `error`) unless every attribute it feeds is optional.
/// Another key attribute's lookups in the same document count as any value, as in the
/// other analyses. `total` counts the requests naming a changed entry. Gives an error when
/// the texts differ or another document does; never throws.
Result<Diff, std::string> diff_data(const Policy& before, const Policy& after) noexcept;

}  // namespace clause
