// The language server's features beyond hover, definition, completion and formatting:
// the outline, references and rename, code actions, the diagnostics of test files against
// their policy, and semantic tokens.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "actions.hpp"
#include "lsp_support.hpp"
#include "references.hpp"
#include "semantic_tokens.hpp"
#include "server.hpp"
#include "symbols.hpp"
#include "test_check.hpp"

namespace clause::test {
namespace {

using lsp::Document;
using lsp::DocumentKind;
using nlohmann::json;

std::uint32_t at(const std::string& text, const std::string& needle, std::size_t skip = 0) {
  return offset_of(text, needle, skip);
}

lsp::AnalyzeOptions options() {
  return lsp_options();
}

Document policy(const std::string& text) {
  return Document(DocumentKind::policy, SourceFile{"t.policy", text}, options());
}

Document tests(const std::string& text) {
  return Document(DocumentKind::tests, SourceFile{"t.test", text}, options());
}

std::string slice(const std::string& text, Span s) {
  return text.substr(s.begin, s.end - s.begin);
}

const std::string clinic =
    "policy \"Clinic\" version \"1\"\n"
    "clause \"1\" \"Records are kept.\"\n"
    "clause \"2\" \"Staff may read them.\"\n"
    "data personal_info\n"
    "data record under personal_info cites \"1\"\n"
    "requester staff\n"
    "action read, write\n"
    "fact on_duty\n"
    "names region: eu, us\n"
    "attribute data.region region\n"
    "attribute data.subject_age integer\n"
    "staff_read: allow read of record by staff when on_duty and data.subject_age >= 18 "
    "cites \"2\"\n"
    "assert never allow write of record\n";

const std::string clinic_tests =
    "tests for \"clinic.policy\"\n"
    "\n"
    "case \"staff on duty read\"\n"
    "  data record\n"
    "  requester staff\n"
    "  action read\n"
    "  facts on_duty\n"
    "  with data.subject_age = 30\n"
    "  expect allow cites \"2\"\n";

// Applies LSP-free edits (spans of `text`) from last to first.
std::string apply(std::string text, std::vector<lsp::Edit> edits) {
  std::sort(edits.begin(), edits.end(),
            [](const lsp::Edit& a, const lsp::Edit& b) { return a.span.begin > b.span.begin; });
  for (const lsp::Edit& e : edits)
    text.replace(e.span.begin, e.span.end - e.span.begin, e.text);
  return text;
}

}  // namespace

TEST_CASE("the outline lists the statements, with name sets holding their names",
          "[lsp][features]") {
  const Document doc = policy(clinic);
  const std::vector<lsp::Symbol> symbols = lsp::document_symbols(doc);
  std::vector<std::string> names;
  for (const lsp::Symbol& s : symbols)
    names.push_back(s.name);
  CHECK(names == std::vector<std::string>{"Clinic", "1", "2", "personal_info", "record", "staff",
                                          "read", "write", "on_duty", "region", "data.region",
                                          "data.subject_age", "staff_read", "assert never allow"});
  const auto& set = symbols[9];
  CHECK(set.kind == lsp::SymbolKind::enum_);
  REQUIRE(set.children.size() == 2);
  CHECK(set.children[1].name == "us");
  for (const lsp::Symbol& s : symbols) {
    // LSP wants the name inside the whole.
    CHECK(s.span.begin <= s.selection.begin);
    CHECK(s.selection.end <= s.span.end);
  }
  CHECK(symbols[12].kind == lsp::SymbolKind::function);
  CHECK(symbols[12].detail == "permission, cites \"2\"");

  const std::vector<lsp::Symbol> cases = lsp::document_symbols(tests(clinic_tests));
  REQUIRE(cases.size() == 2);
  CHECK(cases[0].name == "clinic.policy");
  CHECK(cases[1].name == "staff on duty read");
  REQUIRE(cases[1].children.size() == 1);
  CHECK(cases[1].children[0].name == "expect allow cites \"2\"");
}

TEST_CASE("references find a name, a clause id and an attribute in a policy and its tests",
          "[lsp][features]") {
  const Document doc = policy(clinic);
  const Document cases = tests(clinic_tests);
  const auto spans = [](const Document& d, const lsp::Target& t) {
    std::vector<std::string> out;
    for (const lsp::Occurrence& o : lsp::occurrences(d, t))
      out.push_back(slice(d.source().text, o.span));
    return out;
  };

  const auto record = lsp::target_at(doc, at(clinic, "of record", 4));
  REQUIRE(record);
  CHECK(record->what == lsp::TargetKind::name);
  CHECK(spans(doc, *record) == std::vector<std::string>{"record", "record", "record"});
  CHECK(spans(cases, *record) == std::vector<std::string>{"record"});
  // The same target, found from the test file.
  const auto from_test = lsp::target_at(cases, at(clinic_tests, "data record", 6));
  REQUIRE(from_test);
  CHECK(from_test->kind == ast::DeclKind::data);
  CHECK(from_test->text == "record");

  const auto clause = lsp::target_at(doc, at(clinic, "cites \"2\"", 7));
  REQUIRE(clause);
  CHECK(clause->what == lsp::TargetKind::clause);
  CHECK(spans(doc, *clause) == std::vector<std::string>{"\"2\"", "\"2\""});
  CHECK(spans(cases, *clause) == std::vector<std::string>{"\"2\""});

  const auto age = lsp::target_at(doc, at(clinic, "data.subject_age >=", 6));
  REQUIRE(age);
  CHECK(age->what == lsp::TargetKind::attribute);
  CHECK(spans(doc, *age) == std::vector<std::string>{"subject_age", "subject_age"});
  CHECK(spans(cases, *age) == std::vector<std::string>{"subject_age"});

  const auto set = lsp::target_at(doc, at(clinic, "names region", 7));
  REQUIRE(set);
  CHECK(set->what == lsp::TargetKind::name_set);
  CHECK(spans(doc, *set) == std::vector<std::string>{"region", "region"});
  CHECK_FALSE(lsp::target_at(doc, at(clinic, "policy")));
}

TEST_CASE("rename refuses a new name that is not valid or already declared", "[lsp][features]") {
  const Document doc = policy(clinic);
  const lsp::Vocabulary& v = doc.vocabulary();
  const auto record = lsp::target_at(doc, at(clinic, "of record", 4));
  REQUIRE(record);
  CHECK_FALSE(lsp::rename_refusal(*record, "chart", v, doc.tree()));
  CHECK(lsp::rename_refusal(*record, "personal_info", v, doc.tree()) ==
        std::optional<std::string>("data category `personal_info` is already declared"));
  CHECK(lsp::rename_refusal(*record, "2x", v, doc.tree()));
  CHECK(lsp::rename_refusal(*record, "a b", v, doc.tree()));
  CHECK(lsp::rename_refusal(*record, "allow", v, doc.tree()) ==
        std::optional<std::string>("`allow` is a keyword"));
  // Names of other kinds may be the same.
  CHECK_FALSE(lsp::rename_refusal(*record, "staff", v, doc.tree()));
  const auto clause = lsp::target_at(doc, at(clinic, "cites \"2\"", 7));
  REQUIRE(clause);
  CHECK(lsp::rename_refusal(*clause, "1", v, doc.tree()));
  CHECK(lsp::rename_refusal(*clause, "a\"b", v, doc.tree()));
  CHECK_FALSE(lsp::rename_refusal(*clause, "2.b", v, doc.tree()));
  const auto age = lsp::target_at(doc, at(clinic, "data.subject_age >=", 6));
  REQUIRE(age);
  CHECK(lsp::rename_refusal(*age, "region", v, doc.tree()));
  CHECK_FALSE(lsp::rename_refusal(*age, "age", v, doc.tree()));
  // A clause id keeps its quotes.
  const auto occurrences = lsp::occurrences(doc, *clause);
  REQUIRE_FALSE(occurrences.empty());
  CHECK(lsp::replacement(occurrences[0], "2.b") == "\"2.b\"");
}

TEST_CASE("code actions: the did-you-mean fix and @ignore for warnings", "[lsp][features]") {
  const std::string text =
      "policy \"P\" version \"1\"\nclause \"1\" \"W\"\naction read\n"
      "allow reed cites \"1\"\n";
  const Document doc = policy(text);
  const auto fixes = lsp::code_actions(doc, Span{0, static_cast<std::uint32_t>(text.size())});
  REQUIRE(fixes.size() == 1);
  CHECK(fixes[0].title == "Change to `read`");
  CHECK(fixes[0].preferred);
  CHECK(apply(text, fixes[0].edits).find("allow read cites") != std::string::npos);

  const std::string cites =
      "policy \"P\" version \"1\"\nclause \"1.a\" \"W\"\naction read\n"
      "allow read cites \"1.b\"\n";
  // The range touches the cites only; clause 1.a, never cited, has its own warning.
  const auto quoted =
      lsp::code_actions(policy(cites), Span{at(cites, "\"1.b"), at(cites, "\"1.b")});
  REQUIRE(quoted.size() == 1);
  CHECK(apply(cites, quoted[0].edits).find("cites \"1.a\"\n") != std::string::npos);

  const std::string warned =
      "policy \"P\" version \"1\"\nclause \"1\" \"W\"\naction read\n"
      "fact idle\nallow read cites \"1\"\n";
  const Document w = policy(warned);
  const auto ignore = lsp::code_actions(w, Span{at(warned, "idle"), at(warned, "idle")});
  REQUIRE(ignore.size() == 1);
  CHECK(ignore[0].title == "Add `@ignore W002`");
  const std::string fixed = apply(warned, ignore[0].edits);
  CHECK(fixed.find("@ignore W002\nfact idle\n") != std::string::npos);
  CHECK(policy(fixed).diagnostics().empty());
  // A second code joins the annotation already there.
  const std::string two =
      "policy \"P\" version \"1\"\nclause \"1\" \"W\"\naction read\n"
      "@ignore W999\nfact idle\nallow read cites \"1\"\n";
  const auto join = lsp::code_actions(policy(two), Span{at(two, "idle"), at(two, "idle")});
  REQUIRE(join.size() == 1);
  CHECK(apply(two, join[0].edits).find("@ignore W999, W002\nfact idle") != std::string::npos);
}

TEST_CASE("a test file is checked against the names of its policy", "[lsp][features]") {
  const lsp::Vocabulary v = policy(clinic).vocabulary();
  const std::string text =
      "tests for \"clinic.policy\"\n"
      "case \"a\"\n"
      "  data recrd\n"
      "  requester staff\n"
      "  action read\n"
      "  with data.subject_ag = 3\n"
      "  expect allow cites \"3\" obliges notify\n";
  Document doc = tests(text);
  const std::vector<Diagnostic> found = lsp::check_tests(doc.tests(), v);
  std::vector<std::string> codes;
  for (const Diagnostic& d : found)
    codes.push_back(d.code + " " + slice(text, d.span));
  CHECK(codes == std::vector<std::string>{"E211 recrd", "E240 data.subject_ag", "E211 notify",
                                          "E220 \"3\""});
  CHECK(found[0].help == "did you mean `record`?");
  CHECK(found[1].help == "did you mean `data.subject_age`?");
  CHECK(lsp::check_tests(tests(clinic_tests).tests(), v).empty());

  // Values of `with` that the attribute's type does not take.
  const std::string values =
      "tests for \"clinic.policy\"\n"
      "case \"a\"\n"
      "  with data.subject_age = \"old\", data.region = \"uk\"\n"
      "  expect deny cites \"default\"\n";
  std::vector<std::string> wrong;
  for (const Diagnostic& d : lsp::check_tests(tests(values).tests(), v))
    wrong.push_back(d.code + " " + d.message);
  CHECK(wrong == std::vector<std::string>{
                     "E243 `data.subject_age` is declared `integer`, but the case gives a string",
                     "E251 `uk` is not a name of `region`, the type of `data.region`"});

  doc.set_policy_diagnostics(found);
  const auto fixes = lsp::code_actions(doc, Span{at(text, "recrd"), at(text, "recrd")});
  REQUIRE(fixes.size() == 1);
  CHECK(apply(text, fixes[0].edits).find("data record\n") != std::string::npos);
}

TEST_CASE("semantic tokens tell keywords, names, attributes, labels and strings",
          "[lsp][features]") {
  const std::string text =
      "# a comment\n"
      "policy \"P\" version \"1\"\nclause \"1\" \"W\"\naction read\n"
      "attribute data.age integer 0..150\n"
      "r1: allow read when data.age >= 18 cites \"1\"\n";
  const Document doc = policy(text);
  std::vector<std::string> seen;
  for (const lsp::SemanticToken& t : lsp::semantic_tokens(doc)) {
    seen.push_back(std::string(lsp::token_types[static_cast<std::size_t>(t.type)]) + " " +
                   slice(text, t.span) + (t.declaration ? " (declared)" : ""));
  }
  CHECK(seen == std::vector<std::string>{"comment # a comment",
                                         "keyword policy",
                                         "string \"P\"",
                                         "keyword version",
                                         "string \"1\"",
                                         "keyword clause",
                                         "namespace \"1\" (declared)",
                                         "string \"W\"",
                                         "keyword action",
                                         "type read (declared)",
                                         "keyword attribute",
                                         "variable data.age (declared)",
                                         "number 0",
                                         "number 150",
                                         "function r1 (declared)",
                                         "keyword allow",
                                         "type read",
                                         "keyword when",
                                         "variable data.age",
                                         "number 18",
                                         "keyword cites",
                                         "namespace \"1\""});
  const std::vector<std::uint32_t> data = lsp::encode(lsp::semantic_tokens(doc), doc.lines());
  REQUIRE(data.size() >= 10);
  // The comment at 0:0, 11 long; then `policy` one line down.
  CHECK(std::vector<std::uint32_t>(data.begin(), data.begin() + 10) ==
        std::vector<std::uint32_t>{0, 0, 11, 2, 0, 1, 0, 6, 0, 0});
}

TEST_CASE("the server renames across the policy and the test files beside it", "[lsp][features]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "clause_lsp_rename_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  { std::ofstream(dir / "clinic.policy") << clinic; }
  { std::ofstream(dir / "clinic.test") << clinic_tests; }
  { std::ofstream(dir / "other.test") << "tests for \"else.policy\"\n"; }
  const std::string uri = "file://" + (dir / "clinic.policy").string();
  const std::string test_uri = "file://" + (dir / "clinic.test").string();

  lsp::Server server(options());
  const auto request = [&](int id, const std::string& method, json params) {
    const auto out = server.handle(
        json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
    REQUIRE(out.size() == 1);
    return out[0];
  };
  const json init = request(1, "initialize", json::object());
  const json& caps = init["result"]["capabilities"];
  CHECK(caps["documentSymbolProvider"] == true);
  CHECK(caps["referencesProvider"] == true);
  CHECK(caps["renameProvider"]["prepareProvider"] == true);
  CHECK(caps["codeActionProvider"]["codeActionKinds"] == json::array({"quickfix"}));
  CHECK(caps["semanticTokensProvider"]["legend"]["tokenTypes"][0] == "keyword");
  server.handle(json{{"jsonrpc", "2.0"},
                     {"method", "textDocument/didOpen"},
                     {"params", {{"textDocument", {{"uri", uri}, {"text", clinic}}}}}});
  // `record` on line 4 (0-based), after `data `.
  const json where{{"textDocument", {{"uri", uri}}}, {"position", {{"line", 4}, {"character", 6}}}};
  const json refs = request(2, "textDocument/references", where);
  std::size_t in_tests = 0;
  for (const json& r : refs["result"])
    in_tests += r["uri"] == test_uri ? 1 : 0;
  CHECK(refs["result"].size() == 4);
  CHECK(in_tests == 1);
  CHECK(request(3, "textDocument/prepareRename", where)["result"]["placeholder"] == "record");
  json rename = where;
  rename["newName"] = "chart";
  const json edit = request(4, "textDocument/rename", rename);
  CHECK(edit["result"]["changes"][uri].size() == 3);
  CHECK(edit["result"]["changes"][test_uri].size() == 1);
  CHECK(edit["result"]["changes"][test_uri][0]["newText"] == "chart");
  rename["newName"] = "personal_info";
  const json refused = request(5, "textDocument/rename", rename);
  CHECK(refused["error"]["code"] == -32602);
  CHECK(refused["error"]["message"] ==
        "newName: data category `personal_info` is already declared");

  // While the policy does not parse, every rename is refused: a broken statement would keep
  // the old name.
  const auto change = [&](const std::string& text) {
    server.handle(json{{"jsonrpc", "2.0"},
                       {"method", "textDocument/didChange"},
                       {"params",
                        {{"textDocument", {{"uri", uri}}},
                         {"contentChanges", json::array({json{{"text", text}}})}}}});
  };
  change(clinic + "allow (\n");
  rename["newName"] = "chart";
  const json broken = request(8, "textDocument/rename", rename);
  CHECK(broken["error"]["message"].get<std::string>().find("has syntax errors") !=
        std::string::npos);
  change(clinic);

  // A test file opened with a mistake gets it on open, against the policy that is open.
  const auto published = server.handle(json{
      {"jsonrpc", "2.0"},
      {"method", "textDocument/didOpen"},
      {"params",
       {{"textDocument",
         {{"uri", test_uri},
          {"text", clinic_tests + "case \"b\"\n  data recrd\n  expect deny cites \"2\"\n"}}}}}});
  REQUIRE(published.size() == 1);
  const json& diagnostics = published[0]["params"]["diagnostics"];
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0]["code"] == "E211");
  const json symbols = request(6, "textDocument/documentSymbol", where);
  CHECK(symbols["result"].size() == 14);
  const json tokens = request(7, "textDocument/semanticTokens/full", where);
  CHECK(tokens["result"]["data"].size() % 5 == 0);
  fs::remove_all(dir);
}

}  // namespace clause::test
