// `clause diff --data`: one policy under two versions of a data document. Each region's
// witness must be decided by each version as the region says, and every request whose key
// names a changed entry and whose decision changes must fall in a region.
#include <algorithm>

#include "clause/diff.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const std::string policy_text = R"(policy "docs" version "1"
clause "1" "Editors may edit."
clause "2" "Owners may edit their own records."
clause "3" "The root account reads everything."
data record
requester user
action read, edit
document users from "users.json"
attribute requester.id string
attribute requester.roles list of string from users[requester.id].roles
attribute requester.editor boolean optional from users[requester.id].editor
attribute requester.email string optional from users[requester.id]."e-mail"
attribute data.owner string optional
allow edit of record by user when requester.editor cites "1"
allow edit of record by user when data.owner = requester.email cites "2"
allow read of record by user when requester.id = "root" and "ops" in requester.roles cites "3"
)";

const std::string old_users = R"({
  "alice": {"roles": [], "editor": true, "e-mail": "a@x"},
  "bob": {"roles": [], "phone": "1"},
  "carol": {"roles": []},
  "dave": {"roles": []},
  "root": {"roles": []},
  "eve": {"roles": []}
})";

Policy with_users(const std::string& users) {
  auto compiled = compile_with(policy_text, {{"users.json", users}});
  REQUIRE(compiled);
  return std::move(*compiled);
}

Diff must_diff(const Policy& before, const Policy& after) {
  auto d = diff_data(before, after);
  REQUIRE(d);
  CHECK(d->complete);
  return std::move(*d);
}

// The witnesses as the regions say, each naming the first of the region's keys.
void check_witnesses(const Policy& before, const Policy& after, const Diff& d) {
  check_diff_witnesses(before, after, d);
  for (const DiffRegion& r : d.regions)
    CHECK(r.witness.requester_id == r.keys.front());
}

// The one entry that changed.
const DiffEntry& only_entry(const Diff& d) {
  REQUIRE(d.entries.size() == 1);
  return d.entries.front();
}

const DiffRegion* region_for(const Diff& d, const std::string& key, const std::string& action) {
  for (const DiffRegion& r : d.regions) {
    if (std::find(r.keys.begin(), r.keys.end(), key) != r.keys.end() &&
        std::find(r.actions.begin(), r.actions.end(), action) != r.actions.end())
      return &r;
  }
  return nullptr;
}

TEST_CASE("the same data changes nothing", "[diff-data]") {
  const Policy a = with_users(old_users);
  const Diff d = must_diff(a, with_users(old_users));
  CHECK(d.entries.empty());
  CHECK(d.regions.empty());
  CHECK(d.total == 0);
}

TEST_CASE("a field no attribute reads changes no entry", "[diff-data]") {
  std::string users = old_users;
  users.replace(users.find("\"phone\": \"1\""), 12, "\"phone\": \"2\"");
  const Diff d = must_diff(with_users(old_users), with_users(users));
  CHECK(d.document == "users");
  CHECK(d.entries.empty());
  CHECK(d.regions.empty());
}

TEST_CASE("a changed entry changes the decisions of the requests naming it", "[diff-data]") {
  std::string users = old_users;
  users.replace(users.find("\"editor\": true"), 14, "\"editor\": false");
  const Policy before = with_users(old_users);
  const Policy after = with_users(users);
  const Diff d = must_diff(before, after);
  CHECK(only_entry(d).key == "alice");
  CHECK(only_entry(d).change == "changed");
  CHECK(only_entry(d).fields == std::vector<std::string>{"editor"});
  // alice no longer edits as an editor: her own records by ownership, the others not.
  std::vector<std::string> changes;
  for (const DiffRegion& r : d.regions) {
    CHECK(r.key_attribute == "requester.id");
    CHECK(r.keys == std::vector<std::string>{"alice"});
    CHECK(r.actions == std::vector<std::string>{"edit"});
    changes.push_back(r.before.clause + " -> " + std::string(to_string(r.after.effect)) + " " +
                      r.after.clause);
  }
  std::sort(changes.begin(), changes.end());
  CHECK(changes == std::vector<std::string>{"1 -> allow 2", "1 -> deny default"});
  CHECK(d.changed > 0);
  CHECK(d.changed < d.total);
  check_witnesses(before, after, d);
}

TEST_CASE("a removed entry refuses the requests naming it, as evaluation does", "[diff-data]") {
  std::string users = old_users;
  users.erase(users.find("\"bob\""), std::string(R"("bob": {"roles": [], "phone": "1"},)").size());
  const Policy before = with_users(old_users);
  const Policy after = with_users(users);
  const Diff d = must_diff(before, after);
  CHECK(only_entry(d).change == "removed");
  // Every request naming bob was denied without error and is now refused: all change.
  CHECK(d.changed == d.total);
  for (const DiffRegion& r : d.regions) {
    CHECK(r.before.error.empty());
    CHECK(r.after.effect == Effect::deny);
    CHECK(r.after.clause == "default");
    CHECK(r.after.error == "requester.id: no entry `bob` in document `users` (users.json)");
  }
  check_witnesses(before, after, d);
}

TEST_CASE("an added entry lets the requests naming it be decided", "[diff-data]") {
  std::string users = old_users;
  users.insert(users.rfind('}'), R"(, "zoe": {"roles": [], "editor": true})");
  const Policy before = with_users(old_users);
  const Policy after = with_users(users);
  const Diff d = must_diff(before, after);
  CHECK(only_entry(d).key == "zoe");
  CHECK(only_entry(d).change == "added");
  const DiffRegion* r = region_for(d, "zoe", "edit");
  REQUIRE(r != nullptr);
  CHECK_FALSE(r->before.error.empty());
  CHECK(r->after.effect == Effect::allow);
  check_witnesses(before, after, d);
}

TEST_CASE("entries that change alike share regions, unless a condition names the key",
          "[diff-data]") {
  std::string users = old_users;
  for (const std::string key : {"carol", "dave", "root", "eve"}) {
    const std::string from = "\"" + key + "\": {\"roles\": []}";
    users.replace(users.find(from), from.size(),
                  "\"" + key + "\": {\"roles\": [\"ops\"], \"e-mail\": \"" + key + "@x\"}");
  }
  const Policy before = with_users(old_users);
  const Policy after = with_users(users);
  const Diff d = must_diff(before, after);
  CHECK(d.entries.size() == 4);
  // carol, dave and eve gain a role and an address no condition names: one comparison.
  const DiffRegion* carol = region_for(d, "carol", "edit");
  REQUIRE(carol != nullptr);
  CHECK(carol->keys == std::vector<std::string>{"carol", "dave", "eve"});
  CHECK(region_for(d, "carol", "read") == nullptr);
  // root is named by a condition: its new role lets it read.
  const DiffRegion* root = region_for(d, "root", "read");
  REQUIRE(root != nullptr);
  CHECK(root->keys == std::vector<std::string>{"root"});
  CHECK(root->after.effect == Effect::allow);
  CHECK(root->after.clause == "3");
  check_witnesses(before, after, d);

  // Every changed decision of a request naming a changed entry is in a region: try the
  // owners that matter (none, the old and the new address, another) for each key.
  for (const DiffEntry& e : d.entries) {
    for (const std::string action : {"read", "edit"}) {
      for (const std::string& owner : std::vector<std::string>{"", e.key + "@x", "other"}) {
        Request q;
        q.data = "record";
        q.requester = "user";
        q.action = action;
        q.requester_id = e.key;
        if (!owner.empty()) q.attributes.push_back({"data.owner", owner});
        const Decision x = before.evaluate(q);
        const Decision y = after.evaluate(q);
        if (x.effect == y.effect && x.clause == y.clause) continue;
        INFO(e.key << " " << action << " owner=" << owner);
        CHECK(region_for(d, e.key, action) != nullptr);
      }
    }
  }
}

TEST_CASE("a data diff compares one policy text and one changed document", "[diff-data]") {
  const Policy a = with_users(old_users);
  auto other = compile_with(policy_text + "# another text\n", {{"users.json", old_users}});
  REQUIRE(other);
  auto texts = diff_data(a, *other);
  REQUIRE_FALSE(texts);
  CHECK(texts.error() == "the two versions are not compiled from the same policy text");

  const std::string two = policy_text + R"(document teams from "teams.json"
attribute data.team string optional from teams[data.owner].name
)";
  auto x =
      compile_with(two, {{"users.json", old_users}, {"teams.json", R"({"a": {"name": "t"}})"}});
  auto y = compile_with(two, {{"users.json", "{}"}, {"teams.json", R"({"a": {"name": "u"}})"}});
  REQUIRE(x);
  REQUIRE(y);
  auto both = diff_data(*x, *y);
  REQUIRE_FALSE(both);
  CHECK(both.error() ==
        "documents `users` and `teams` both differ: compare one document at a time");
}

}  // namespace
}  // namespace clause::test
