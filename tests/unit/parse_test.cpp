// Parse stage: the grammar accepts what the language reference shows, and every syntax
// error is reported in an author's words at the right place.
#include <tao/pegtl.hpp>

#include "clause/dsl/parse.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

dsl::ParseResult parse_text(const std::string& text) {
  return dsl::parse(SourceFile{"t.policy", text});
}

TEST_CASE("a full policy parses into declarations and rules", "[parse]") {
  const auto r = parse_text(R"(
policy "Demo" version "1"   # a comment
clause "1" "First words" "continued"
data personal under root cites "1"
data root
requester anyone
action read, write
purpose service
fact active
consent ok cites "1"
named_rule: deny read, write of personal by anyone when not active cites "1"
allow read when purpose in (service) and (active or consent ok) cites "1"
require consent ok for write of any by anyone cites "1"
exclude root cites "1"
otherwise deny cites "1"
)");
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.policy.headers.size() == 1);
  CHECK(r.policy.headers[0].name.value == "Demo");
  CHECK(r.policy.clauses.at(0).words.value == "First words continued");
  REQUIRE(r.policy.decls.size() == 8);
  CHECK(r.policy.decls[0].parent->text == "root");
  CHECK(r.policy.decls[0].cites->value == "1");
  REQUIRE(r.policy.rules.size() == 5);
  const ast::Rule& named = r.policy.rules[0];
  CHECK(named.name->text == "named_rule");
  CHECK(named.effect == ast::Effect::deny);
  CHECK(named.actions.names.size() == 2);
  CHECK(named.condition->kind == ast::CondKind::negation);
  const ast::Rule& allow = r.policy.rules[1];
  CHECK(allow.data.any);
  CHECK(allow.requesters.any);
  REQUIRE(allow.condition->kind == ast::CondKind::all);
  CHECK(allow.condition->children.size() == 2);
  CHECK(allow.condition->children[1].kind == ast::CondKind::any);
  CHECK(r.policy.rules[2].consent->text == "ok");
  CHECK(r.policy.rules[3].exclusion);
  CHECK(r.policy.rules[3].effect == ast::Effect::allow);
  CHECK(r.policy.rules[4].fallback);
  REQUIRE(r.policy.comments.size() == 1);
  const ast::Comment& comment = r.policy.comments[0];
  CHECK(comment.text == "# a comment");
  CHECK(comment.span.end - comment.span.begin == comment.text.size());
}

TEST_CASE("a duration is read part by part, whatever comments stand between", "[parse]") {
  // A comment holding a sign or digits was once taken for the amount or the unit.
  const std::string text = R"(policy "t" version "1"
clause "c" "w"
allow when context.time <= data.last - # 5 or +3 days
  6 # not hours
  years cites "c"
)";
  const auto r = parse_text(text);
  REQUIRE(r.diagnostics.empty());
  const ast::Cond& c = *r.policy.rules.at(0).condition;
  REQUIRE(c.operand);
  REQUIRE(c.operand->shift);
  const ast::DurationText& d = *c.operand->shift;
  CHECK(d.amount == -6);
  CHECK(d.unit.text == "years");
  CHECK(text.substr(d.unit.span.begin, d.unit.span.end - d.unit.span.begin) == "years");
  CHECK(text[d.span.begin] == '-');
}

TEST_CASE("chains of one operator are flat", "[parse]") {
  const auto r = parse_text(
      "policy \"p\" version \"1\"\nallow when a and b and (c and d) or e or f cites \"x\"\n");
  REQUIRE(r.diagnostics.empty());
  const ast::Cond& c = *r.policy.rules.at(0).condition;
  REQUIRE(c.kind == ast::CondKind::any);
  REQUIRE(c.children.size() == 3);
  CHECK(c.children[0].kind == ast::CondKind::all);
  CHECK(c.children[0].children.size() == 4);
}

TEST_CASE("a quoted constant in a list attribute is a `contains` leaf", "[parse]") {
  const std::string text =
      "policy \"p\" version \"1\"\nallow when not \"ad\\\"min\" in requester.roles cites \"x\"\n";
  const auto r = parse_text(text);
  REQUIRE(r.diagnostics.empty());
  const ast::Cond& n = *r.policy.rules.at(0).condition;
  REQUIRE(n.kind == ast::CondKind::negation);
  const ast::Cond& c = n.children.at(0);
  CHECK(c.kind == ast::CondKind::contains);
  REQUIRE(c.attribute);
  CHECK(c.attribute->text() == "requester.roles");
  REQUIRE(c.operand);
  CHECK(c.operand->kind == ast::Operand::Kind::string);
  CHECK(c.operand->text == "ad\"min");
  CHECK(text.substr(c.span.begin, c.span.end - c.span.begin) == "\"ad\\\"min\" in requester.roles");
  // A bare name there would be a fact, and the parse would stop at `in` asking for `cites`.
  const auto bare =
      parse_text("policy \"p\" version \"1\"\nallow when admin in requester.roles cites \"x\"\n");
  REQUIRE(bare.diagnostics.size() == 1);
  CHECK(bare.diagnostics[0].help == "write it in double quotes: \"admin\"");
}

TEST_CASE("keywords are whole words", "[parse]") {
  // `allowed` and `denying` are names, not keywords with a tail.
  const auto r = parse_text("policy \"p\" version \"1\"\naction allowed, denying\n");
  REQUIRE(r.diagnostics.empty());
  CHECK(r.policy.decls.at(0).name.text == "allowed");
}

struct ErrorRow {
  const char* input;
  const char* message_start;
  std::uint32_t line;
  std::uint32_t column;
};

TEST_CASE("syntax errors say what was expected, where", "[parse]") {
  const ErrorRow rows[] = {
      {"policy Demo version \"1\"", "expected the policy's name as a quoted string", 1, 8},
      {"policy \"Demo\" \"1\"", "expected `version` after the policy's name", 1, 15},
      {"clause 1 \"w\"", "expected the clause id as a quoted string", 1, 8},
      {"clause \"1\"\n", "expected the clause's words as a quoted string", 1, 11},
      {"data x under\n", "expected the parent's name after `under`", 1, 13},
      {"data x : y", "unexpected `:` after the end of a statement", 1, 8},
      {"action read,\n", "expected a name after `,`", 1, 13},
      {"permit read cites \"1\"", "expected a declaration", 1, 1},
      {"allow read of x by y\n", "expected `cites \"ID\"` to end the rule", 1, 21},
      {"allow read when cites \"1\"", "expected a condition", 1, 17},
      {"allow read when purpose = x cites \"1\"", "expected `is NAME` or `in (NAME, ...)`", 1, 25},
      {"allow read when (a cites \"1\"", "expected `)`", 1, 20},
      {"require partner for read cites \"1\"", "expected `consent` after `require`", 1, 9},
      {"require consent c read cites \"1\"", "expected `for` after the consent's name", 1, 19},
      {"clause \"1\" \"unterminated\n", "unterminated string", 1, 25},
      {"r1: permit read cites \"1\"", "expected a rule after its name", 1, 5},
      {"allow read of cites \"1\"", "expected data categories or `any`", 1, 15},
      {"clause \"1\" \"bad \\q escape\"", "unknown escape in a string", 1, 18},
      {"allow read cites 1", "expected a clause id as a quoted string after `cites`", 1, 18},
      {"exclude x when a cites \"1\"", "expected `cites \"ID\"`: an `exclude` rule", 1, 11},
      {"action read; action write", "unexpected `;` after the end of a statement", 1, 12},
      {"allow when admin in requester.roles cites \"1\"", "expected a quoted string before `in`", 1,
       12},
      {"allow when \"admin\" requester.roles cites \"1\"", "expected `in` and a list", 1, 20},
      {"allow when \"admin\" in (a, b) cites \"1\"", "expected a list attribute after `in`", 1, 23},
  };
  for (const ErrorRow& row : rows) {
    INFO(row.input);
    const auto r = parse_text(row.input);
    REQUIRE(!r.diagnostics.empty());
    const Diagnostic& d = r.diagnostics.front();
    CHECK(d.code == "E101");
    CHECK_THAT(d.message, Catch::StartsWith(row.message_start));
    const LineColumn lc = line_column(row.input, d.span.begin);
    CHECK(lc.line == row.line);
    CHECK(lc.column == row.column);
  }
}

TEST_CASE("one run reports several syntax errors", "[parse]") {
  const auto r = parse_text(
      "policy \"p\" version \"1\"\n"
      "data x under\n"
      "action read\n"
      "allow read of\n"
      "  x cites 1\n"
      "deny read cites \"1\"\n");
  CHECK(r.diagnostics.size() == 2);
  // The statements around the broken ones still parse.
  CHECK(r.policy.decls.size() == 1);
  CHECK(r.policy.rules.size() == 1);
}

TEST_CASE("a slip gets a suggested fix", "[parse]") {
  const auto r = parse_text("policy \"p\" version \"1\"\nalow read cites \"1\"\n");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].help == "did you mean `allow`?");
}

TEST_CASE("deep nesting is an error, never a crash", "[parse][limits]") {
  std::string deep = "policy \"p\" version \"1\"\nallow when ";
  for (int i = 0; i < 100000; ++i)
    deep += '(';
  deep += "a";
  for (int i = 0; i < 100000; ++i)
    deep += ')';
  deep += " cites \"1\"\n";
  const auto r = parse_text(deep);
  REQUIRE(r.diagnostics.size() == 1);
  CHECK_THAT(r.diagnostics[0].message, Catch::Contains("nested too deeply"));

  std::string nots = "policy \"p\" version \"1\"\nallow when ";
  for (int i = 0; i < 100000; ++i)
    nots += "not ";
  nots += "a cites \"1\"\n";
  CHECK_THAT(parse_text(nots).diagnostics.at(0).message, Catch::Contains("nested too deeply"));

  std::string ok = "policy \"p\" version \"1\"\nallow when ";
  for (int i = 0; i < 30; ++i)
    ok += "(not ";
  ok += "a";
  for (int i = 0; i < 30; ++i)
    ok += ")";
  ok += " cites \"1\"\n";
  CHECK(parse_text(ok).diagnostics.size() == 1);  // 60 levels: over the default 32
  dsl::ParseLimits wide;
  wide.max_condition_depth = 64;
  CHECK(dsl::parse(SourceFile{"t", ok}, wide).diagnostics.empty());
}

TEST_CASE("bytes that are not a policy give errors, never a crash", "[parse][limits]") {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 200, '\0');
    for (char& c : junk)
      c = static_cast<char>(rng() % 256);
    const auto r = parse_text(junk);
    CHECK(r.diagnostics.size() <= dsl::ParseLimits{}.max_errors);
  }
}

}  // namespace
TEST_CASE("text that is not UTF-8 is refused where it stands; a byte order mark is skipped",
          "[parse][limits]") {
  const std::string head = "policy \"p\" version \"1\"\nclause \"c\" \"";
  const std::string tail = "\"\n";
  const std::vector<std::string> bad = {
      "\xff",             // never in UTF-8
      "\x80",             // a continuation byte alone
      "\xc3",             // a sequence cut short
      "\xc0\xaf",         // an overlong `/`
      "\xe0\x80\xaf",     // an overlong `/` in three bytes
      "\xed\xa0\x80",     // a surrogate, U+D800
      "\xf4\x90\x80\x80"  // past U+10FFFF
  };
  for (const std::string& bytes : bad) {
    const std::string text = head + "ab" + bytes + "cd" + tail;
    INFO(text);
    const auto r = parse_text(text);
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == "E103");
    CHECK(r.diagnostics[0].span.begin == head.size() + 2);
    CHECK(r.diagnostics[0].span.end == head.size() + 2 + bytes.size());
  }
  // Well-formed UTF-8 in strings is words like any other.
  for (const std::string good : {"caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x92", "\xef\xbf\xbd"})
    CHECK(parse_text(head + good + tail).diagnostics.empty());
  CHECK(parse_text("\xef\xbb\xbf" + head + "w" + tail).diagnostics.empty());
  CHECK_FALSE(parse_text(head + "w" + tail + "\xef\xbb\xbf").diagnostics.empty());
}

}  // namespace clause::test
