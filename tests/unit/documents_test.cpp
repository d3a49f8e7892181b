// Policy documents: declared, read and checked when a policy compiles; looked-up attributes
// filled from them when a request is resolved, failing closed when an entry is missing.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <unistd.h>

#include "clause/analyze.hpp"
#include "clause/detail.hpp"
#include "clause/diff.hpp"
#include "clause/lint.hpp"
#include "clause/matrix.hpp"
#include "clause/near_miss.hpp"
#include "clause/plan.hpp"
#include "clause/store.hpp"
#include "clause/verify.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const std::string head = R"(policy "docs" version "1"
clause "1" "Editors may edit."
clause "2" "Owners may edit their own records."
data record
requester user
action read, edit
)";

const std::string users_policy = head + R"(document users from "users.json"
attribute requester.id string
attribute requester.roles list of string from users[requester.id].roles
attribute requester.editor boolean optional from users[requester.id].editor
attribute requester.email string optional from users[requester.id]."e-mail"
allow edit of record by user when requester.editor cites "1"
allow read of record by user when requester.email = "a@x" cites "2"
)";

const std::string users_json = R"({
  "alice": {"roles": ["editors"], "editor": true, "e-mail": "a@x"},
  "bob": {"roles": [], "phone": "ignored"},
  "101": {"roles": ["x"]}
})";

Request edit_by(const std::string& id) {
  Request r;
  r.data = "record";
  r.requester = "user";
  r.action = "edit";
  r.requester_id = id;
  return r;
}

std::string first_error(const Result<Policy, std::vector<Diagnostic>>& compiled) {
  if (compiled) return "compiled";
  REQUIRE_FALSE(compiled.error().empty());
  return compiled.error().front().code + ": " + compiled.error().front().message;
}

TEST_CASE("a looked-up attribute takes its entry's value", "[documents]") {
  auto policy = compile_with(users_policy, {{"users.json", users_json}});
  REQUIRE(policy);
  CHECK(policy->evaluate(edit_by("alice")).effect == Effect::allow);
  const Decision bob = policy->evaluate(edit_by("bob"));
  CHECK(bob.effect == Effect::deny);
  CHECK(bob.error.empty());
  // The JSON reader fills them too, through its quick path and its full one.
  const Decision json = policy->evaluate_json(
      R"({"data":{"category":"record"},"requester":{"kind":"user","id":"alice"},"action":"read"})");
  CHECK(json.effect == Effect::allow);
  CHECK(json.clause == "2");
}

TEST_CASE("a resolved request's names resolve again to the same values", "[documents]") {
  auto policy = compile_with(users_policy, {{"users.json", users_json}});
  REQUIRE(policy);
  auto resolved = policy->resolve(edit_by("alice"));
  REQUIRE(resolved);
  const Request names = policy->names(*resolved);
  for (const Attribute& a : names.attributes)
    CHECK(a.path == "requester.id");
  auto again = policy->resolve(names);
  REQUIRE(again);
  CHECK(policy->evaluate(*again).effect == Effect::allow);
}

TEST_CASE("a key that names no entry fails closed", "[documents]") {
  auto policy = compile_with(users_policy, {{"users.json", users_json}});
  REQUIRE(policy);
  auto resolved = policy->resolve(edit_by("zoe"));
  REQUIRE_FALSE(resolved);
  CHECK(resolved.error().field == "requester.id");  // the field that holds the bad key
  CHECK(resolved.error().name == "zoe");
  CHECK(resolved.error().message == "no entry `zoe` in document `users` (users.json)");
  const Decision d = policy->evaluate_json(
      R"({"data":{"category":"record"},"requester":{"kind":"user","id":"zoe"},"action":"edit"})");
  CHECK(d.effect == Effect::deny);
  CHECK(d.clause == "default");
  CHECK(d.error == "requester.id: no entry `zoe` in document `users` (users.json)");
}

TEST_CASE("an optional key left out fails a lookup that is not optional, naming the key",
          "[documents]") {
  const std::string text = head + R"(document records from "records.json" keyed by id
attribute data.id string optional
attribute data.owner string from records[data.id].owner
allow edit of record by user when data.owner = "bob" cites "2"
)";
  auto policy = compile_with(text, {{"records.json", R"([{"id": "r-1", "owner": "bob"}])"}});
  REQUIRE(policy);
  auto resolved = policy->resolve(edit_by("bob"));
  REQUIRE_FALSE(resolved);
  CHECK(resolved.error().field == "data.id");
  CHECK(resolved.error().message ==
        "`data.owner` is read from document `records` by `data.id`, which the request does not "
        "give");
  Request r = edit_by("bob");
  r.attributes.push_back({"data.id", std::string("r-2")});
  resolved = policy->resolve(r);
  REQUIRE_FALSE(resolved);
  CHECK(resolved.error().to_string() ==
        "data.id: no entry `r-2` in document `records` (records.json)");
}

TEST_CASE("a request cannot give a looked-up attribute", "[documents]") {
  auto policy = compile_with(users_policy, {{"users.json", users_json}});
  REQUIRE(policy);
  Request r = edit_by("bob");
  r.attributes.push_back({"requester.editor", true});
  auto resolved = policy->resolve(r);
  REQUIRE_FALSE(resolved);
  CHECK(resolved.error().message ==
        "`requester.editor` is read from document `users`; a request cannot give it");
  const Decision d = policy->evaluate_json(
      R"({"data":{"category":"record"},"requester":{"kind":"user","id":"bob","editor":true},"action":"edit"})");
  CHECK(d.effect == Effect::deny);
  CHECK(d.error.find("a request cannot give it") != std::string::npos);
}

TEST_CASE("an optional key left out leaves optional lookups out", "[documents]") {
  const std::string text = head + R"(document records from "records.json" keyed by id
attribute data.id string optional
attribute data.owner string optional from records[data.id].owner
attribute requester.id string
allow edit of record by user when data.owner = requester.id cites "2"
)";
  const std::string records =
      R"([{"id": "r-1", "owner": "bob"}, {"id": 7, "owner": "carol"}, {"id": "r-3"}])";
  auto policy = compile_with(text, {{"records.json", records}});
  REQUIRE(policy);
  Request r = edit_by("bob");
  CHECK(policy->evaluate(r).effect == Effect::deny);
  CHECK(policy->evaluate(r).error.empty());
  r.attributes.push_back({"data.id", std::string("r-1")});
  CHECK(policy->evaluate(r).effect == Effect::allow);
  r = edit_by("carol");
  r.attributes.push_back({"data.id", std::string("7")});  // an integer key is its decimal text
  CHECK(policy->evaluate(r).effect == Effect::allow);
  r = edit_by("bob");
  r.attributes.push_back({"data.id", std::string("r-9")});
  CHECK(policy->evaluate(r).effect == Effect::deny);
  CHECK(policy->evaluate(r).error.empty());

  CHECK(policy->document_keys("records") == std::vector<std::string_view>{"7", "r-1", "r-3"});
  CHECK(policy->document_keys("nothing").empty());
  CHECK(policy->documents_keyed_by("data.id") == std::vector<std::string_view>{"records"});
  CHECK(policy->documents_keyed_by("requester.id").empty());
  REQUIRE(policy->documents().size() == 1);
  CHECK(policy->documents()[0].name == "records");
  CHECK(policy->documents()[0].path == "records.json");
  CHECK(policy->documents()[0].entries == 3);
  CHECK(policy->documents()[0].content_hash == "sha256:" + detail::sha256_hex(records));
}

TEST_CASE("the content hash covers the documents", "[documents]") {
  auto one = compile_with(users_policy, {{"users.json", users_json}});
  auto two = compile_with(users_policy, {{"users.json", users_json + " "}});
  REQUIRE(one);
  REQUIRE(two);
  CHECK(one->content_hash() != two->content_hash());
  CHECK(one->content_hash() != "sha256:" + detail::sha256_hex(users_policy));
  const std::string expected =
      "sha256:" + detail::sha256_hex("sha256:" + detail::sha256_hex(users_policy) + "\nusers\n" +
                                     "sha256:" + detail::sha256_hex(users_json));
  CHECK(one->content_hash() == expected);
  // Without documents it stays the source's hash.
  const Policy plain = must_compile(head + "allow read cites \"1\"\n");
  CHECK(plain.content_hash() == "sha256:" + detail::sha256_hex(plain.source().text));
}

TEST_CASE("the checker refuses wrong declarations and lookups", "[documents]") {
  const auto code_of = [](const std::string& tail) {
    const auto diagnostics = must_fail(head + tail + "allow read cites \"1\"\n");
    const auto error =
        std::find_if(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::error; });
    REQUIRE(error != diagnostics.end());
    return error->code + ": " + error->message;
  };
  CHECK(code_of("document users from \"/etc/users.json\"\n") ==
        "E254: a document's path is relative to the policy's folder; `/etc/users.json` is "
        "absolute");
  CHECK(code_of("document users from \"data/../../users.json\"\n") ==
        "E254: a document's path cannot leave the policy's folder: `data/../../users.json` has "
        "`..`");
  CHECK(code_of("document users from \"a.json\"\ndocument users from \"b.json\"\n") ==
        "E254: the document `users` is declared twice");
  CHECK(code_of("document users from \"a.json\"\nattribute requester.id string\n"
                "attribute requester.roles list of string from usrs[requester.id].roles\n") ==
        "E255: unknown document `usrs`");
  CHECK(code_of("document users from \"a.json\"\n"
                "attribute requester.roles list of string from users[requester.id].roles\n") ==
        "E255: the key `requester.id` is not a declared attribute");
  CHECK(code_of("document users from \"a.json\"\nattribute requester.id integer\n"
                "attribute requester.roles list of string from users[requester.id].roles\n") ==
        "E255: the key `requester.id` is an integer; a document's entries are found by a string");
  CHECK(code_of("document users from \"a.json\"\nattribute requester.id string\n"
                "attribute requester.team string from users[requester.id].team\n"
                "attribute data.x string from users[requester.team].x\n") ==
        "E255: the key `requester.team` is itself read from a document");
  CHECK(code_of("document users from \"a.json\"\nattribute requester.id string\n"
                "attribute context.time time from users[requester.id].time\n") ==
        "E255: `context.time` is the time of the request, not read from a document");
}

TEST_CASE("documents that cannot be used are errors pointing into them", "[documents]") {
  CHECK(first_error(compile_with(users_policy, {})) ==
        "E256: cannot read the document `users`: no such file");
  CHECK(first_error(compile_with(users_policy, {{"users.json", "{\"a\": {\"roles\": [}"}})) ==
        "E257: invalid JSON: syntax error while parsing value - unexpected '}'; expected '[', "
        "'{', or a literal");
  CHECK(first_error(compile_with(users_policy, {{"users.json", "[]"}})) ==
        "E257: the document should be an object of entries by key");
  CHECK(first_error(compile_with(users_policy, {{"users.json", R"({"a": {"editor": true}})"}})) ==
        "E257: the entry `a` has no `roles`, which `requester.roles` reads");
  CHECK(first_error(compile_with(users_policy, {{"users.json", R"({"a": {"roles": "x"}})"}})) ==
        "E257: `roles` of the entry `a` is a string; `requester.roles` is a list of strings");
  CHECK(first_error(
            compile_with(users_policy, {{"users.json", R"({"a": {"roles": [], "editor": 1}})"}})) ==
        "E257: `editor` of the entry `a` is an integer; `requester.editor` is a boolean");
  CHECK(first_error(compile_with(
            users_policy, {{"users.json", R"({"a": {"roles": []}, "a": {"roles": []}})"}})) ==
        "E257: the key `a` is in the document twice");
  Limits small;
  small.max_document_bytes = 10;
  CHECK(first_error(compile_with(users_policy, {{"users.json", users_json}}, small)) ==
        "E256: the document `users` is " + std::to_string(users_json.size()) +
            " bytes, more than the limit of 10");
  Limits shallow;
  shallow.max_document_depth = 2;
  CHECK(first_error(compile_with(users_policy, {{"users.json", users_json}}, shallow)) ==
        "E257: the document is nested deeper than 2 levels");

  const std::string keyed = head + R"(document records from "r.json" keyed by id
attribute data.id string
attribute data.owner string from records[data.id].owner
allow read cites "1"
)";
  CHECK(first_error(compile_with(keyed, {{"r.json", R"([{"owner": "x"}])"}})) ==
        "E257: an entry has no `id`, the field that holds its key");
  CHECK(first_error(compile_with(keyed, {{"r.json", R"([{"id": true, "owner": "x"}])"}})) ==
        "E257: the key `id` is a boolean; a key is a string or an integer");
  CHECK(first_error(compile_with(
            keyed, {{"r.json", R"([{"id": 1, "owner": "x"}, {"id": "1", "owner": "y"}])"}})) ==
        "E257: the key `1` is in the document twice");
  CHECK(first_error(compile_with(keyed, {{"r.json", R"({"a": {"owner": "x"}})"}})) ==
        "E257: the document should be an array of entry objects");
  CHECK(first_error(compile_with(keyed, {{"r.json", R"([1])"}})) ==
        "E257: an entry of the document is not an object");
}

TEST_CASE("a document's error renders at its place in the document", "[documents]") {
  const std::string json = "{\n  \"a\": {\"roles\": [],\n         \"editor\": \"yes\"}\n}\n";
  auto compiled = compile_with(users_policy, {{"users.json", json}});
  REQUIRE_FALSE(compiled);
  const std::string text = render_text(SourceFile{"docs.policy", users_policy}, compiled.error());
  CHECK(text ==
        "data/users.json:3:20: error[E257]: `editor` of the entry `a` is a string; "
        "`requester.editor` is a boolean\n"
        "3 |          \"editor\": \"yes\"}\n"
        "  |                    ^\n"
        "  = help: write a boolean here\n");
  const std::string rendered_json =
      render_json(SourceFile{"docs.policy", users_policy}, compiled.error());
  CHECK(rendered_json.find("\"file\": \"data/users.json\"") != std::string::npos);
}

TEST_CASE("documents are read next to the policy file by default", "[documents]") {
  const auto folder = source_dir() / "tests/documents";
  const std::string name = (folder / "todo.policy").string();
  auto policy = compile(SourceFile{name, read_file(folder / "todo.policy")});
  REQUIRE(policy);
  REQUIRE(policy->documents().size() == 2);
  CHECK(policy->documents()[0].entries == 3);
  const Decision d = policy->evaluate_json(
      R"({"data":{"category":"record","id":"r-1"},"requester":{"kind":"user","id":"bob"},"action":"edit"})");
  CHECK(d.effect == Effect::allow);
  CHECK(d.clause == "2");
}

TEST_CASE("the analyses treat looked-up attributes as free values", "[documents]") {
  auto policy = compile_with(users_policy, {{"users.json", users_json}});
  REQUIRE(policy);
  const std::string promised =
      users_policy + "assert never allow edit of record when not requester.editor\n";
  auto policy_with_promise = compile_with(promised, {{"users.json", users_json}});
  REQUIRE(policy_with_promise);
  (void)analyze(*policy);
  (void)lint(*policy);
  (void)decision_matrix(*policy);
  const auto results = verify(*policy_with_promise);
  REQUIRE(results.size() == 1);
  auto other = compile_with(users_policy + "deny read of record cites \"1\"\n",
                            {{"users.json", users_json}});
  REQUIRE(other);
  (void)diff_policies(*policy, *other);
}

// Every condition of every part of a plan's outcome, written out.
std::string conditions_of(const Plan& plan, Effect effect) {
  std::string out;
  for (const PlanOutcome& o : plan.outcomes) {
    if (o.effect != effect) continue;
    for (const PlanPart& part : o.parts) {
      out += '[';
      out += to_string(part);
      out += ']';
    }
  }
  return out;
}

TEST_CASE("a plan looks up what a known key finds, and leaves open what an open key would",
          "[documents][plan]") {
  auto policy = compile_with(users_policy, {{"users.json", users_json}});
  REQUIRE(policy);
  // The key known: the looked-up values are the entry's, so the plan needs nothing.
  auto known = plan_json(
      *policy,
      R"({"data":{"category":"record"},"requester":{"kind":"user","id":"alice"},"action":"read","unknown":["context.purpose"]})");
  REQUIRE(known);
  CHECK(conditions_of(*known, Effect::allow) == "[true]");
  // The key open: the looked-up attributes are open too, and the plan reads them.
  auto open = plan_json(
      *policy,
      R"({"data":{"category":"record"},"requester":{"kind":"user"},"action":"read","unknown":["requester.id"]})");
  REQUIRE(open);
  CHECK(conditions_of(*open, Effect::allow) == "[requester.email = \"a@x\"]");
  PartialRequest partial;
  partial.known.data = "record";
  partial.known.requester = "user";
  partial.known.action = "read";
  partial.unknown = {"requester.id"};
  auto in_code = plan(*policy, partial);
  REQUIRE(in_code);
  CHECK(conditions_of(*in_code, Effect::allow) == "[requester.email = \"a@x\"]");
  // A key that names no entry fails as the request would.
  auto missing = plan_json(
      *policy,
      R"({"data":{"category":"record"},"requester":{"kind":"user","id":"zoe"},"action":"read","unknown":["context.purpose"]})");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().field == "requester.id");
}

TEST_CASE("near misses treat a looked-up attribute as any attribute", "[documents]") {
  auto policy = compile_with(users_policy, {{"users.json", users_json}});
  REQUIRE(policy);
  Request r = edit_by("bob");
  // What the data would have to say for another decision: `requester.editor` true.
  CHECK_FALSE(other_values(*policy, r, "requester.editor").empty());
  CHECK_NOTHROW(other_values(*policy, r, "requester.id"));
}

// A file of its own in the temporary folder, with the documents next to it.
struct TempFolder {
  std::filesystem::path path;
  TempFolder()
      : path(std::filesystem::temp_directory_path() /
             ("clause-documents-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream out(path / name, std::ios::binary | std::ios::trunc);
    out << text;
  }
};

TEST_CASE("a store keeps the last good policy and data when a document breaks",
          "[documents][store]") {
  TempFolder folder;
  folder.write("docs.policy", users_policy);
  folder.write("users.json", users_json);
  auto store = PolicyStore::open((folder.path / "docs.policy").string());
  REQUIRE(store);
  CHECK(store->current().evaluate(edit_by("alice")).effect == Effect::allow);

  // Broken data: the reload fails, and the old policy and data keep deciding.
  folder.write("users.json", R"({"alice": {"roles": "editors", "editor": false}})");
  std::filesystem::last_write_time(
      folder.path / "users.json",
      std::filesystem::file_time_type::clock::now() + std::chrono::seconds(5));
  std::optional<Result<Policy, std::vector<Diagnostic>>> result;
  CHECK(store->reload_if_changed(result));
  REQUIRE(result);
  REQUIRE_FALSE(*result);
  CHECK(result->error().front().code == "E257");
  CHECK(store->current().evaluate(edit_by("alice")).effect == Effect::allow);
  CHECK(store->failed_reloads() == 1);

  // Good data: swapped in.
  folder.write("users.json", R"({"alice": {"roles": [], "editor": false}})");
  std::filesystem::last_write_time(
      folder.path / "users.json",
      std::filesystem::file_time_type::clock::now() + std::chrono::seconds(10));
  result.reset();
  CHECK(store->reload_if_changed(result));
  REQUIRE(result);
  CHECK(*result);
  CHECK(store->current().evaluate(edit_by("alice")).effect == Effect::deny);
  CHECK_FALSE(store->reload_if_changed(result));
}

TEST_CASE("a store reads its documents within its limits at every reload",
          "[documents][store][limits]") {
  TempFolder folder;
  folder.write("docs.policy", users_policy);
  folder.write("users.json", users_json);
  CompileOptions options;
  options.limits.max_document_bytes = users_json.size();
  auto store = PolicyStore::open((folder.path / "docs.policy").string(), options);
  REQUIRE(store);

  // One byte more than the limit: refused before it is read, naming the option.
  folder.write("users.json", users_json + " ");
  auto result = store->reload();
  REQUIRE_FALSE(result);
  CHECK(result.error().front().code == "E256");
  CHECK(result.error().front().message ==
        "cannot read the document `users`: `" + (folder.path / "users.json").string() + "` is " +
            std::to_string(users_json.size() + 1) +
            " bytes long; the limit for a document file is " + std::to_string(users_json.size()) +
            " (`--max-document-bytes`)");
  CHECK(store->current().evaluate(edit_by("alice")).effect == Effect::allow);
}

TEST_CASE("`document` is not reserved: a data category or a rule may be called so", "[documents]") {
  const std::string text = R"(policy "p" version "1"
clause "1" "Editors edit documents."
document users from "users.json"
data document
requester user
action edit
attribute requester.id string
attribute requester.roles list of string from users[requester.id].roles
document: allow edit of document by user when "editor" in requester.roles cites "1"
)";
  const auto compiled = compile_with(text, {{"users.json", R"({"alice": {"roles": ["editor"]}})"}});
  REQUIRE(compiled);
  Request r = edit_by("alice");
  r.data = "document";
  const Decision d = compiled->evaluate(r);
  CHECK(d.effect == Effect::allow);
  CHECK(d.rule == "document");
}

}  // namespace
}  // namespace clause::test
