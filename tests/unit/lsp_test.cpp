// The language server: byte offsets to LSP positions and back, the language features on
// documents, the framing of messages, and the dispatch of the protocol.
#include <algorithm>
#include <sstream>

#include "canonical.hpp"
#include "lsp_support.hpp"
#include "server.hpp"

namespace clause::test {
namespace {

using lsp::Document;
using lsp::DocumentKind;
using lsp::LineIndex;
using lsp::Position;
using nlohmann::json;

lsp::AnalyzeOptions options() {
  return lsp_options();
}

Document policy(const std::string& text, const Document* previous = nullptr) {
  return Document(DocumentKind::policy, SourceFile{"t.policy", text}, options(), previous);
}

std::vector<std::string> labels(const std::vector<lsp::Completion>& items) {
  std::vector<std::string> out;
  for (const lsp::Completion& c : items)
    out.push_back(c.label);
  std::sort(out.begin(), out.end());
  return out;
}

const std::string demo =
    "policy \"Demo\" version \"1\"\n"
    "clause \"1.a\" \"Registration information is what you give us.\"\n"
    "clause \"2\" \"Partners may read it.\"\n"
    "data personal_info\n"
    "data registration_info under personal_info cites \"1.a\"\n"
    "requester partner\n"
    "action read\n"
    "fact active\n"
    "purpose service\n"
    "consent sharing\n"
    "allow read of registration_info by partner when active and purpose is service cites "
    "\"2\"\n"
    "require consent sharing for read of personal_info by partner cites \"2\"\n";

}  // namespace

TEST_CASE("positions count UTF-16 code units per line", "[lsp]") {
  // é is 2 bytes and 1 unit, € 3 bytes and 1 unit, 😀 4 bytes and 2 units.
  const std::string text = "ab\n\xc3\xa9x\xe2\x82\xacy\xf0\x9f\x98\x80z\r\nlast";
  const LineIndex lines(text);
  CHECK(lines.position(0) == Position{0, 0});
  CHECK(lines.position(2) == Position{0, 2});
  CHECK(lines.position(3) == Position{1, 0});
  CHECK(lines.position(5) == Position{1, 1});   // after é
  CHECK(lines.position(6) == Position{1, 2});   // after x
  CHECK(lines.position(9) == Position{1, 3});   // after €
  CHECK(lines.position(10) == Position{1, 4});  // after y
  CHECK(lines.position(14) == Position{1, 6});  // after 😀
  CHECK(lines.position(15) == Position{1, 7});  // after z, before \r\n
  CHECK(lines.position(16) == Position{1, 7});  // between \r and \n: the end of the line
  CHECK(lines.position(17) == Position{2, 0});
  CHECK(lines.end() == Position{2, 4});
  CHECK(lines.position(1000) == Position{2, 4});
  // An offset inside a character stands at its start.
  CHECK(lines.position(4) == Position{1, 0});
  CHECK(lines.position(12) == Position{1, 4});

  for (std::uint32_t offset : {0U, 2U, 3U, 5U, 6U, 9U, 10U, 14U, 15U, 17U, 21U}) {
    INFO(offset);
    CHECK(lines.offset(lines.position(offset)) == offset);
  }
  // A column inside a surrogate pair stands before it; past the line's end, at its end.
  CHECK(lines.offset(Position{1, 5}) == 10);
  CHECK(lines.offset(Position{1, 99}) == 15);
  CHECK(lines.offset(Position{9, 0}) == text.size());
  CHECK(lines.range(Span{3, 9}) == lsp::Range{{1, 0}, {1, 3}});
}

TEST_CASE("positions take \\r as a line break and survive invalid UTF-8", "[lsp]") {
  const LineIndex lines(
      "a\rb\n\xff\xfe"
      "c");
  CHECK(lines.position(2) == Position{1, 0});
  CHECK(lines.position(4) == Position{2, 0});
  CHECK(lines.position(6) == Position{2, 2});  // each stray byte is one unit
  CHECK(lines.offset(Position{2, 2}) == 6);
  const LineIndex empty("");
  CHECK(empty.position(0) == Position{0, 0});
  CHECK(empty.offset(Position{3, 3}) == 0);
}

TEST_CASE("a document has the diagnostics of clause check", "[lsp]") {
  const std::string text =
      "policy \"P\" version \"1\"\n"
      "clause \"1\" \"Words.\"\n"
      "clause \"2\" \"Unused.\"\n"
      "data personal_info\n"
      "action read, write\n"
      "@ignore W002\n"
      "fact idle\n"
      "allow read of personal_info cites \"1\"\n";
  const Document doc = policy(text);
  std::vector<std::string> codes;
  for (const Diagnostic& d : doc.diagnostics())
    codes.push_back(d.code);
  // W001 from the checker, W002 from the linter for `write`; `idle` is silenced.
  CHECK(codes == std::vector<std::string>{"W001", "W002"});
  CHECK(doc.diagnostics()[1].span.begin == offset_of(text, "write"));

  const Document broken = policy(
      "policy \"P\" version \"1\"\nclause \"1\" \"W\"\naction read\n"
      "allow reed cites \"1\"\n");
  REQUIRE(broken.diagnostics().size() == 1);
  CHECK(broken.diagnostics()[0].code == "E211");
  CHECK(broken.diagnostics()[0].help == "did you mean `read`?");
}

TEST_CASE("a mistake in a document shows on the document's declaration", "[lsp][documents]") {
  const std::string text =
      "policy \"P\" version \"1\"\nclause \"1\" \"W\"\naction read\n"
      "document users from \"users.json\"\nattribute requester.id string\n"
      "attribute requester.admin boolean from users[requester.id].admin\n"
      "allow read when requester.admin cites \"1\"\n";
  lsp::AnalyzeOptions o = options();
  o.compile.read_document = [](std::string_view) -> Result<SourceFile, std::string> {
    return SourceFile{"users.json", "{\"a\": {\"admin\": 1}}"};
  };
  const Document doc(DocumentKind::policy, SourceFile{"t.policy", text}, o, nullptr);
  REQUIRE(doc.diagnostics().size() == 1);
  const Diagnostic& d = doc.diagnostics()[0];
  CHECK(d.code == "E257");
  CHECK(d.message ==
        "users.json:1:17: `admin` of the entry `a` is an integer; `requester.admin` is a boolean");
  CHECK(d.span.begin == offset_of(text, "\"users.json\""));
  CHECK_FALSE(d.file);
}

TEST_CASE("hover shows declarations, clauses and rules", "[lsp]") {
  const Document doc = policy(demo);
  const auto use = doc.hover(offset_of(demo, "registration_info by", 3));
  REQUIRE(use);
  CHECK(use->markdown.find("data registration_info under personal_info cites \"1.a\"") !=
        std::string::npos);
  CHECK(use->markdown.find("Registration information is what you give us.") != std::string::npos);
  CHECK(use->span.begin == offset_of(demo, "registration_info by"));

  const auto citation = doc.hover(offset_of(demo, "\"2\"\nrequire", 1));
  REQUIRE(citation);
  CHECK(citation->markdown.find("clause \"2\"") != std::string::npos);
  CHECK(citation->markdown.find("Partners may read it.") != std::string::npos);

  const auto rule = doc.hover(offset_of(demo, "require consent", 2));
  REQUIRE(rule);
  CHECK(rule->markdown.find("rule `2/2`") != std::string::npos);
  CHECK(rule->markdown.find("tier: consent") != std::string::npos);

  const auto fact = doc.hover(offset_of(demo, "active and"));
  REQUIRE(fact);
  CHECK(fact->markdown.find("fact active") != std::string::npos);
  CHECK_FALSE(doc.hover(0));  // the header
}

TEST_CASE("definition goes to the declaration or the clause", "[lsp]") {
  const Document doc = policy(demo);
  const auto name = doc.definition(offset_of(demo, "partner when"));
  REQUIRE(name);
  CHECK(name->begin == offset_of(demo, "partner\n"));
  const auto parent = doc.definition(offset_of(demo, "personal_info cites"));
  REQUIRE(parent);
  CHECK(parent->begin == offset_of(demo, "personal_info\n"));
  const auto clause = doc.definition(offset_of(demo, "\"1.a\"\nrequester"));
  REQUIRE(clause);
  CHECK(clause->begin == offset_of(demo, "clause \"1.a\""));
  CHECK_FALSE(doc.definition(offset_of(demo, "allow")));
}

TEST_CASE("completion offers the names that fit the place", "[lsp]") {
  const auto at_end = [](const std::string& tail) {
    const std::string text = demo + tail;
    return labels(policy(text).completion(static_cast<std::uint32_t>(text.size())));
  };
  using V = std::vector<std::string>;
  CHECK(at_end("deny read of ") == V{"personal_info", "registration_info"});
  CHECK(at_end("deny read of personal_info, reg") == V{"personal_info", "registration_info"});
  CHECK(at_end("deny read by ") == V{"partner"});
  CHECK(at_end("deny when ") == V{"active", "consent", "not", "purpose"});
  CHECK(at_end("deny when active and consent ") == V{"sharing"});
  CHECK(at_end("deny when purpose is ") == V{"service"});
  CHECK(at_end("deny when purpose in (service, ") == V{"service"});
  CHECK(at_end("data x under ") == V{"personal_info", "registration_info"});
  CHECK(at_end("requester y under ") == V{"partner"});
  CHECK(at_end("deny read cites \"") == V{"1.a", "2", "default"});
  CHECK(at_end("action ").empty());  // a new name
  CHECK(at_end("# a comment ").empty());

  const std::string quoted = demo + "deny read cites ";
  const auto ids = policy(quoted).completion(static_cast<std::uint32_t>(quoted.size()));
  REQUIRE_FALSE(ids.empty());
  CHECK(ids[0].insert == "\"1.a\"");
  const std::string inside = demo + "deny read cites \"1.";
  const auto partial = policy(inside).completion(static_cast<std::uint32_t>(inside.size()));
  REQUIRE_FALSE(partial.empty());
  REQUIRE(partial[0].replace);
  CHECK(partial[0].replace->begin == inside.size() - 2);

  const auto all = at_end("");
  CHECK(std::find(all.begin(), all.end(), "allow") != all.end());
  CHECK(std::find(all.begin(), all.end(), "sharing") != all.end());
}

TEST_CASE("attributes: completion after a root offers them with their types; hover shows one",
          "[lsp]") {
  const std::string text = demo +
                           "objection family_disclosure\n"
                           "obligation record_disclosure\n"
                           "attribute data.subject_age integer\n"
                           "attribute data.care_team list of string\n"
                           "attribute requester.id string optional\n"
                           "allow read when requester.id in data.care_team and not objected "
                           "family_disclosure obliges record_disclosure cites \"2\"\n";
  const Document doc = policy(text);
  const auto after = [&](const std::string& tail) {
    const std::string t = text + tail;
    return policy(t).completion(static_cast<std::uint32_t>(t.size()));
  };
  const auto on_data = after("deny when data.");
  CHECK(labels(on_data) == std::vector<std::string>{"care_team", "subject_age"});
  for (const lsp::Completion& c : on_data)
    CHECK(c.detail == (c.label == "care_team" ? "list of string" : "integer"));
  CHECK(labels(after("deny when requester.i")) == std::vector<std::string>{"id"});
  CHECK(after("deny when context.").empty());
  // A name set's attribute completes with the set's names after `is`, `=` and `!=`.
  const std::string countries = text +
                                "names country: CA, US\n"
                                "attribute context.destination country optional\n";
  for (const std::string op : {"is ", "= ", "!= "}) {
    const std::string t = countries + "deny when context.destination " + op;
    CHECK(labels(policy(t).completion(static_cast<std::uint32_t>(t.size()))) ==
          std::vector<std::string>{"CA", "US"});
  }
  const std::string t = countries + "deny when data.subject_age = ";
  CHECK(labels(policy(t).completion(static_cast<std::uint32_t>(t.size()))) !=
        std::vector<std::string>{"CA", "US"});

  const auto age = doc.hover(offset_of(text, "data.subject_age integer", 6));
  REQUIRE(age);
  CHECK(age->markdown.find("attribute data.subject_age integer") != std::string::npos);
  const auto team = doc.hover(offset_of(text, "data.care_team and", 2));
  REQUIRE(team);
  CHECK(team->markdown.find("attribute data.care_team list of string") != std::string::npos);
  CHECK(team->span.begin == offset_of(text, "data.care_team and"));
  const auto id = doc.hover(offset_of(text, "requester.id in", 1));
  REQUIRE(id);
  CHECK(id->markdown.find("attribute requester.id string optional") != std::string::npos);

  // Objections and obligations are names like the others (they once overran the vocabulary).
  const auto objection = doc.hover(offset_of(text, "family_disclosure obliges", 1));
  REQUIRE(objection);
  CHECK(objection->markdown.find("objection family_disclosure") != std::string::npos);
  const auto obligation = doc.hover(offset_of(text, "record_disclosure cites", 1));
  REQUIRE(obligation);
  CHECK(obligation->markdown.find("obligation record_disclosure") != std::string::npos);
  CHECK(doc.vocabulary().names[static_cast<std::size_t>(ast::DeclKind::obligation)] ==
        std::vector<std::string>{"record_disclosure"});
}

TEST_CASE("completion keeps the names of the last text that parsed", "[lsp]") {
  const Document good = policy(demo);
  const std::string text = demo + "data extra\nallow read of (\ndeny read of ";
  const Document broken = policy(text, &good);
  REQUIRE(has_errors(broken.diagnostics()));
  const auto names = labels(broken.completion(static_cast<std::uint32_t>(text.size())));
  CHECK(names == std::vector<std::string>{"extra", "personal_info", "registration_info"});
}

TEST_CASE("formatting gives the layout of clause fmt, none for broken text", "[lsp]") {
  const std::string text =
      "policy \"P\" version \"1\"\nclause \"1\" \"W\"\naction read,write\n"
      "allow read cites \"1\"\n";
  const Document doc = policy(text);
  const auto formatted = doc.formatted();
  REQUIRE(formatted);
  CHECK(*formatted == tools::format_source(doc.source(), false, {}).text.value());
  CHECK(formatted->find("action read, write\n") != std::string::npos);
  CHECK_FALSE(policy("policy \"P\" version\nallow (").formatted());
}

TEST_CASE("a test document has the test parser's diagnostics and the policy's names", "[lsp]") {
  const std::string text = "tests for \"demo.policy\"\n\ncase \"a\"\n  data \n  expect allow\n";
  const Document doc(DocumentKind::tests, SourceFile{"t.test", text}, options());
  REQUIRE_FALSE(doc.diagnostics().empty());
  CHECK(doc.diagnostics()[0].code == "E101");
  CHECK(doc.tested_policy() == std::optional<std::string>("demo.policy"));
  const lsp::Vocabulary names = policy(demo).vocabulary();
  const std::uint32_t after_data = offset_of(text, "data ", 5);
  CHECK(labels(doc.completion(after_data, &names)) ==
        std::vector<std::string>{"personal_info", "registration_info"});

  // The new fields: objections, obligations, and the attributes after a root.
  const lsp::Vocabulary clinic = policy(demo +
                                        "objection family_disclosure\n"
                                        "obligation record_disclosure\n"
                                        "attribute data.subject_age integer\n")
                                     .vocabulary();
  const auto at_end = [&](const std::string& tail) {
    const std::string t = "tests for \"demo.policy\"\ncase \"a\"\n  " + tail;
    const Document d(DocumentKind::tests, SourceFile{"t.test", t}, options());
    return labels(d.completion(static_cast<std::uint32_t>(t.size()), &clinic));
  };
  CHECK(at_end("objections ") == std::vector<std::string>{"family_disclosure"});
  CHECK(at_end("expect allow cites \"2\" obliges ") ==
        std::vector<std::string>{"record_disclosure"});
  CHECK(at_end("with data.") == std::vector<std::string>{"subject_age"});
  CHECK(lsp::kind_of("file:///a/b.test", "") == DocumentKind::tests);
  CHECK(lsp::kind_of("file:///a/b.policy", "clause-test") == DocumentKind::tests);
  CHECK(lsp::kind_of("file:///a/b.test", "clause-policy") == DocumentKind::policy);
}

TEST_CASE("frames are read by Content-Length; bad frames are skipped", "[lsp]") {
  std::istringstream in(
      "Content-Length: 2\r\n\r\n{}"
      "garbage\r\n\r\n"
      "Content-Length: x\r\n\r\n"
      "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 4\r\n\r\n[1] "
      "Content-Length: 10\r\n\r\n0123456789"
      "Content-Length: 9\r\n\r\n{\"a\"");
  using S = lsp::Frame::Status;
  auto f = lsp::read_frame(in, 5);
  CHECK((f.status == S::message && f.body == "{}"));
  CHECK(lsp::read_frame(in, 5).status == S::skipped);
  CHECK(lsp::read_frame(in, 5).status == S::skipped);
  f = lsp::read_frame(in, 5);
  CHECK((f.status == S::message && f.body == "[1] "));
  f = lsp::read_frame(in, 5);  // too long: read and dropped
  CHECK(f.status == S::skipped);
  CHECK(lsp::read_frame(in, 50).status == S::end);  // cut short
  CHECK(lsp::write_frame(json{{"a", 1}}) == "Content-Length: 7\r\n\r\n{\"a\":1}");
  CHECK(lsp::write_frame(json("\xff")) == "Content-Length: 5\r\n\r\n\"\xef\xbf\xbd\"");
}

TEST_CASE("the server answers the protocol and fails closed", "[lsp]") {
  lsp::Server server(options(), "1.2.3");
  const auto one = [&](const json& message) {
    const auto out = server.handle(message);
    REQUIRE(out.size() == 1);
    return out[0];
  };
  const auto request = [](int id, const std::string& method, json params = json::object()) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
  };
  CHECK(one(request(1, "textDocument/hover"))["error"]["code"] == -32002);
  const json init = one(request(2, "initialize"));
  CHECK(init["result"]["capabilities"]["textDocumentSync"]["change"] == 1);
  CHECK(init["result"]["serverInfo"]["version"] == "1.2.3");
  CHECK(one(request(3, "no/such"))["error"]["code"] == -32601);
  CHECK(one(request(4, "textDocument/hover", {{"position", 1}}))["error"]["code"] == -32602);
  CHECK(server.handle_body("{not json")[0]["error"]["code"] == -32700);
  CHECK(server.handle_body("[]")[0]["error"]["code"] == -32600);
  CHECK(server.handle(json{{"jsonrpc", "2.0"}, {"method", "$/cancelRequest"}}).empty());
  CHECK(server.handle(json{{"jsonrpc", "2.0"}, {"id", 9}, {"result", nullptr}}).empty());

  const json open{{"jsonrpc", "2.0"},
                  {"method", "textDocument/didOpen"},
                  {"params",
                   {{"textDocument",
                     {{"uri", "file:///p/d.policy"},
                      {"languageId", "clause-policy"},
                      {"version", 1},
                      {"text", "policy \"P\" version \"1\"\n\xc3\xa9"}}}}}};
  const json published = one(open);
  CHECK(published["method"] == "textDocument/publishDiagnostics");
  CHECK(published["params"]["version"] == 1);
  CHECK(published["params"]["diagnostics"][0]["range"]["start"] ==
        json{{"line", 1}, {"character", 0}});
  const json hover = one(request(5, "textDocument/hover",
                                 {{"textDocument", {{"uri", "file:///nowhere"}}},
                                  {"position", {{"line", 0}, {"character", 0}}}}));
  CHECK(hover["result"].is_null());
  const json closed = one(json{{"jsonrpc", "2.0"},
                               {"method", "textDocument/didClose"},
                               {"params", {{"textDocument", {{"uri", "file:///p/d.policy"}}}}}});
  CHECK(closed["params"]["diagnostics"].empty());

  CHECK(server.exit_code() == 1);
  CHECK(one(request(6, "shutdown"))["result"].is_null());
  CHECK(one(request(7, "textDocument/hover"))["error"]["code"] == -32600);
  CHECK(server.handle(json{{"jsonrpc", "2.0"}, {"method", "exit"}}).empty());
  CHECK(server.exited());
  CHECK(server.exit_code() == 0);
}

TEST_CASE("file URIs become paths", "[lsp]") {
  CHECK(lsp::uri_to_path("file:///a%20b/c.policy") == "/a b/c.policy");
  CHECK(lsp::uri_to_path("file://localhost/x") == "/x");
  CHECK(lsp::uri_to_path("untitled:1").empty());
  CHECK(lsp::uri_to_path("file:///bad%2") == "/bad%2");
}

}  // namespace clause::test
