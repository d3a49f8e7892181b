// Formatter: the layout of each kind of statement, and on the shipped policy, the golden
// files and random policies, that formatting is idempotent, keeps every comment, gives back
// the same syntax tree and decides every request as before.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <random>
#include <stdexcept>

#include "clause/detail.hpp"
#include "clause/dsl/format.hpp"
#include "clause/dsl/parse.hpp"
#include "grid_request.hpp"
#include "random_attribute_policy.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

namespace fs = std::filesystem;

ast::Policy parse_ok(const std::string& text) {
  auto r = dsl::parse(SourceFile{"t.policy", text});
  INFO(text);
  REQUIRE(r.diagnostics.empty());
  return std::move(r.policy);
}

std::string format(const std::string& text) {
  const SourceFile file{"t.policy", text};
  return dsl::format_policy(file, parse_ok(text));
}

// Formats a policy and checks what holds for every policy: the result is formatted, parses
// to the same tree, and keeps every comment. Gives the formatted text.
std::string check_layout(const std::string& text) {
  INFO(text);
  const ast::Policy before = parse_ok(text);
  const std::string once = dsl::format_policy(SourceFile{"t.policy", text}, before);
  INFO(once);
  const ast::Policy after = parse_ok(once);
  CHECK(dsl::same_tree(before, after));
  CHECK(dsl::same_comments(before.comments, after.comments));
  CHECK(before.suppressions.size() == after.suppressions.size());
  CHECK(dsl::format_policy(SourceFile{"t.policy", once}, after) == once);
  return once;
}

// Decides random requests with both policies and compares the decisions. The reasons quote
// each rule as written, so they are compared only when asked.
void check_same_decisions(const Policy& a, const Policy& b, std::mt19937_64& rng, int requests,
                          bool reasons = false) {
  const detail::PolicyImpl& impl = *detail::Access::impl(a);
  const dsl::CheckedPolicy& c = impl.checked();
  const auto any_of = [&](const std::vector<dsl::Term>& terms) {
    return terms[rng() % terms.size()].name;
  };
  for (int i = 0; i < requests; ++i) {
    Request r;
    r.data = any_of(c.data);
    r.requester = any_of(c.requesters);
    r.action = any_of(c.actions);
    r.requester_id = std::string(1, 'x');  // assigning "x" trips GCC 12's -Wrestrict
    if (!c.purposes.empty() && rng() % 4 != 0) r.purpose = any_of(c.purposes);
    for (const dsl::Term& f : c.facts) {
      if (rng() % 2 != 0) r.facts.push_back(f.name);
    }
    for (const dsl::Term& k : c.consents) {
      if (rng() % 2 != 0) r.consent.push_back(k.name);
    }
    const Decision x = a.evaluate(r);
    const Decision y = b.evaluate(r);
    INFO("request: " << r.data << " " << r.requester << " " << r.action);
    REQUIRE(x.error.empty());
    REQUIRE(x.effect == y.effect);
    REQUIRE(x.clause == y.clause);
    REQUIRE(x.consent == y.consent);
    REQUIRE(x.rule == y.rule);
    if (reasons) REQUIRE(x.reason == y.reason);
  }
}

const char* const head = "policy \"t\" version \"1\"\nclause \"c\" \"words\"\n";

// ---- the layout of each statement ----

TEST_CASE("fmt: declarations one per line, lists wrapped with a two-space indent", "[format]") {
  CHECK(format(std::string(head) + "action read,write ,\n  sell\nfact f\n") ==
        std::string(head) + "action read, write, sell\nfact f\n");
  std::string names;
  std::string expected = "fact ";
  std::size_t column = 5;
  for (int i = 0; i < 30; ++i) {
    const std::string name = fmt::format("fact_number_{:02}", i);
    names += (i ? ", " : "") + name;
    const std::string piece = name + (i < 29 ? "," : "");
    if (i > 0 && column + 1 + piece.size() > 92) {
      expected += "\n  ";
      column = 2;
    } else if (i > 0) {
      expected += ' ';
      ++column;
    }
    expected += piece;
    column += piece.size();
  }
  const std::string out = format(std::string(head) + "fact " + names + "\n");
  CHECK(out == std::string(head) + expected + "\n");
  CHECK(format("consent a,b cites \"c\"\n") == "consent a, b cites \"c\"\n");
}

TEST_CASE("fmt: runs of data and requester declarations line up in columns", "[format]") {
  const std::string out = format(R"(data personal # root
data contact under personal cites "c"
data credentials_and_more under personal
requester me

requester someone_else under me   # a kind of me
requester you under someone_else
)");
  CHECK(out == R"(data personal                                       # root
data contact              under personal cites "c"
data credentials_and_more under personal
requester me

requester someone_else under me            # a kind of me
requester you          under someone_else
)");
}

TEST_CASE("fmt: exclusions stay on one line, aligned; other rules cite on a line of their own",
          "[format]") {
  const std::string out = format(R"(exclude a cites "1"
exclude longer_name, b cites "2"
deny read of a by b when x cites "3"
otherwise deny cites "default"
)");
  CHECK(out == R"(exclude a              cites "1"
exclude longer_name, b cites "2"
deny read of a by b when x
  cites "3"
otherwise deny
  cites "default"
)");
}

TEST_CASE("fmt: a long rule breaks before `of`, `by` and `when`", "[format]") {
  CHECK(format("require consent third_party_disclosure for access, buy of personal_info by "
               "unrelated_third_party cites \"2.a\"\n") ==
        "require consent third_party_disclosure for access, buy of personal_info\n"
        "  by unrelated_third_party\n  cites \"2.a\"\n");
  CHECK(format("allow access of contact_info by counterparty when obligation_performed and "
               "disclosure_requested cites \"3.f\"\n") ==
        "allow access of contact_info by counterparty\n"
        "  when obligation_performed and disclosure_requested\n  cites \"3.f\"\n");
  // A list longer than a line wraps one level deeper; the next part starts its own line.
  std::string actions;
  for (int i = 0; i < 12; ++i)
    actions += fmt::format("{}action_number_{}", i ? ", " : "", i);
  CHECK(
      format("a_long_rule_label: otherwise require consent some_consent for " + actions +
             " of d by r cites \"c\"\n") ==
      "a_long_rule_label: otherwise require consent some_consent for action_number_0,\n"
      "    action_number_1, action_number_2, action_number_3, action_number_4, action_number_5,\n"
      "    action_number_6, action_number_7, action_number_8, action_number_9, action_number_10,\n"
      "    action_number_11\n"
      "  of d by r\n"
      "  cites \"c\"\n");
  // A condition longer than a line breaks before `and` and `or`, one level deeper.
  std::string cond;
  for (int i = 0; i < 12; ++i)
    cond += fmt::format("{}fact_{:02}", i ? " and " : "", i);
  const std::string out = format("allow read when " + cond + " cites \"c\"\n");
  CHECK(out ==
        "allow read\n"
        "  when fact_00 and fact_01 and fact_02 and fact_03 and fact_04 and fact_05 and fact_06\n"
        "    and fact_07 and fact_08 and fact_09 and fact_10 and fact_11\n"
        "  cites \"c\"\n");
}

TEST_CASE("fmt: conditions keep their tree with the fewest parentheses", "[format]") {
  const auto cond = [](const std::string& c) {
    const std::string out = format("allow when " + c + " cites \"c\"\n");
    return out.substr(11, out.find('\n') - 11);
  };
  CHECK(cond("((a))") == "a");
  CHECK(cond("(a and b) and c") == "a and b and c");
  CHECK(cond("a or (b and c)") == "a or b and c");
  CHECK(cond("(a or b) and c") == "(a or b) and c");
  CHECK(cond("not (a)") == "not a");
  CHECK(cond("not (a and b)") == "not (a and b)");
  CHECK(cond("not not a") == "not not a");
  CHECK(cond("(not a) or (b)") == "not a or b");
  CHECK(cond("a and (b or (c and not (d or e)))") == "a and (b or c and not (d or e))");
  CHECK(cond("purpose in ( p , q ) or purpose is p") == "purpose in (p, q) or purpose is p");
  CHECK(cond("consent k and ( consent j or x )") == "consent k and (consent j or x)");
}

TEST_CASE("fmt: `any` is printed where it is written, and only there", "[format]") {
  CHECK(format("allow any of any by any cites \"c\"\n") ==
        "allow any of any by any\n  cites \"c\"\n");
  CHECK(format("allow of a cites \"c\"\n") == "allow of a\n  cites \"c\"\n");
  CHECK(format("deny by b cites \"c\"\n") == "deny by b\n  cites \"c\"\n");
  CHECK(format("lbl : otherwise require consent k for by any cites \"c\"\n") ==
        "lbl: otherwise require consent k for by any\n  cites \"c\"\n");
}

TEST_CASE("fmt: a clause's words are strings wrapped at 92 columns", "[format]") {
  CHECK(format("clause \"1\"\n  \"Short\"   \"words.\"\n") == "clause \"1\" \"Short words.\"\n");
  std::string words;
  for (int i = 0; i < 40; ++i)
    words += fmt::format("{}word{}", i ? " " : "", i);
  words += " a \"quote\" a \\ and a\ttab and a\nbreak";
  const std::string text = "clause \"2\" " + fmt::format("\"{}\"\n", [&] {
                             std::string e;
                             for (const char c : words) {
                               e += c == '"'    ? "\\\""
                                    : c == '\\' ? "\\\\"
                                    : c == '\t' ? "\\t"
                                    : c == '\n' ? "\\n"
                                                : std::string(1, c);
                             }
                             return e;
                           }());
  const std::string out = check_layout(text);
  CHECK(parse_ok(out).clauses.at(0).words.value == words);
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = out.find('\n', at)) != std::string::npos; ++at) {
    ++lines;
  }
  CHECK(lines == 5);
  for (std::size_t begin = 0; begin < out.size();) {
    const std::size_t end = out.find('\n', begin);
    CHECK(end - begin <= 92);
    if (begin > 0) CHECK(out.substr(begin, 3) == "  \"");
    begin = end + 1;
  }
  // Double spaces, spaces at the ends and a word longer than a line survive the cutting.
  const std::string odd = " lead  double   " + std::string(120, 'x') + " tail ";
  const std::string odd_out = check_layout("clause \"3\" \"" + odd + "\"\n");
  CHECK(parse_ok(odd_out).clauses.at(0).words.value == odd);
}

TEST_CASE("fmt: comments stay above, or at the end of, their statement", "[format]") {
  const std::string out = format(R"(# top


# section
policy "t" # end of header
  version "1"
clause "c" "a" # between the strings
  "b"
data d   # trailing
allow read of d # end of a first line
  cites "c"   # end of the last line
# the end
)");
  CHECK(out == R"(# top

# section
# end of header
policy "t" version "1"
# between the strings
clause "c" "a b"
data d  # trailing
# end of a first line
allow read of d
  cites "c"  # end of the last line
# the end
)");
}

TEST_CASE("fmt: @ignore annotations stay with their statement", "[format]") {
  const std::string out = format(R"(@ignore W001,W004 # why
# between
data d
@ignore W002 clause "x" "y"
)");
  CHECK(out == R"(@ignore W001, W004  # why
# between
data d
@ignore W002
clause "x" "y"
)");
}

TEST_CASE("fmt: one blank line where the source had one or more", "[format]") {
  CHECK(format("\n\n# a\n\n\n\ndata a\ndata b\n\n\n\n\n# b\n\ndata c\n\n\n") ==
        "# a\n\ndata a\ndata b\n\n# b\n\ndata c\n");
  CHECK(format("data a data b\r\n\r\n\r\ndata c # crlf\r\n") ==
        "data a\ndata b\n\ndata c  # crlf\n");
  CHECK(format("").empty());
  CHECK(format("# only a comment") == "# only a comment\n");
}

TEST_CASE("fmt: a file with syntax errors is refused", "[format]") {
  const SourceFile file{"t.policy", "data a\npermit share cites \"1\"\n"};
  const dsl::ParseResult r = dsl::parse(file);
  REQUIRE_FALSE(r.diagnostics.empty());
  CHECK_THROWS_AS(dsl::format_policy(file, r.policy), std::invalid_argument);
}

TEST_CASE("fmt: the tree comparison sees every difference but spans", "[format]") {
  const auto same = [](const std::string& a, const std::string& b) {
    return dsl::same_tree(parse_ok(a), parse_ok(b));
  };
  CHECK(same("allow read when a and (b or c) cites \"c\"",
             "\n  allow  read\nwhen a and (b\n or c) cites \"c\""));
  CHECK(same("action a, b", "action a,\n b"));
  CHECK_FALSE(same("action a, b", "action a action b"));
  CHECK_FALSE(same("allow read cites \"c\"", "allow read by any cites \"c\""));
  CHECK_FALSE(same("allow read when a and b cites \"c\"", "allow read when a or b cites \"c\""));
  CHECK_FALSE(same("allow read when a and b cites \"c\"", "allow read when b and a cites \"c\""));
  CHECK_FALSE(same("@ignore W001 data a", "data a"));
  CHECK_FALSE(same("@ignore W001 data a", "@ignore W002 data a"));
  CHECK_FALSE(same("data a data b", "data b data a"));
  CHECK_FALSE(same("data a clause \"x\" \"y\"", "clause \"x\" \"y\" data a"));
  CHECK_FALSE(same("clause \"x\" \"y z\"", "clause \"x\" \"y  z\""));
  CHECK_FALSE(same("r: deny cites \"c\"", "deny cites \"c\""));
  CHECK_FALSE(same("deny cites \"c\"", "otherwise deny cites \"c\""));
  CHECK_FALSE(same("data a under b", "data a"));
  CHECK_FALSE(same("consent a cites \"x\"", "consent a cites \"y\""));
}

TEST_CASE("fmt: attributes line up in columns; objections, obligations and purpose trees",
          "[format]") {
  const std::string out = check_layout(std::string(head) + R"(purpose operations
purpose training   under operations
objection a,b
obligation record , notify
attribute context.time time
attribute data.subject string # whose record
attribute data.care_team list   of string
attribute context.destination string optional
)");
  CHECK(out == std::string(head) + R"(purpose operations
purpose training under operations
objection a, b
obligation record, notify
attribute context.time        time
attribute data.subject        string                   # whose record
attribute data.care_team      list of string
attribute context.destination string         optional
)");
}

TEST_CASE("fmt: dates, tiers, obligations and comparisons of the new language", "[format]") {
  CHECK(check_layout(R"(clause "S"   from 2026-02-16 until 2027-01-01 "words")") ==
        "clause \"S\" from 2026-02-16 until 2027-01-01 \"words\"\n");
  CHECK(check_layout("effective   from 2026-01-01\n cites \"E\"") ==
        "effective from 2026-01-01 cites \"E\"\n");
  CHECK(check_layout("n: effective from 2026-01-01 cites \"E\"") ==
        "n: effective from 2026-01-01 cites \"E\"\n");
  CHECK(check_layout("first deny read of a by b cites \"S\"") ==
        "first deny read of a by b\n  cites \"S\"\n");
  CHECK(check_layout("n: first require consent k for read cites \"S\"") ==
        "n: first require consent k for read\n  cites \"S\"\n");
  CHECK(
      check_layout("allow read when context.time>=data.last+6 years and data.n<18 and "
                   "data.ok and data.s is \"CA\" and data.n != -1 and not objected o "
                   "cites \"K\"") ==
      "allow read\n"
      "  when context.time >= data.last + 6 years and data.n < 18 and data.ok and data.s = \"CA\"\n"
      "    and data.n != -1 and not objected o\n"
      "  cites \"K\"\n");
  CHECK(check_layout("deny read when context.time < 2026-02-16T08:00:00+01:00 - 30 days or "
                     "requester.id in data.team cites \"K\"") ==
        "deny read\n"
        "  when context.time < 2026-02-16T08:00:00+01:00 - 30 days or requester.id in data.team\n"
        "  cites \"K\"\n");
  CHECK(check_layout("allow read when data.ok from 2026-03-01 until 2027-01-01 obliges "
                     "record,notify cites \"L\"") ==
        "allow read when data.ok from 2026-03-01 until 2027-01-01 obliges record, notify\n"
        "  cites \"L\"\n");
  CHECK(check_layout("allow read until 2027-01-01 cites \"L\"") ==
        "allow read until 2027-01-01\n  cites \"L\"\n");
}

TEST_CASE("fmt: the tree comparison sees every part of the new language", "[format]") {
  const auto same = [](const std::string& a, const std::string& b) {
    return dsl::same_tree(parse_ok(a), parse_ok(b));
  };
  CHECK(same("allow read when data.a is 1 cites \"c\"", "allow read when data.a = 1 cites \"c\""));
  CHECK_FALSE(
      same("allow read when data.a = 1 cites \"c\"", "allow read when data.a = 2 cites \"c\""));
  CHECK_FALSE(
      same("allow read when data.a = 1 cites \"c\"", "allow read when data.a < 1 cites \"c\""));
  CHECK_FALSE(
      same("allow read when data.a = 1 cites \"c\"", "allow read when data.b = 1 cites \"c\""));
  CHECK_FALSE(same("allow read when data.a = data.b cites \"c\"",
                   "allow read when data.a = requester.b cites \"c\""));
  CHECK_FALSE(same("allow read when data.a = \"x\" cites \"c\"",
                   "allow read when data.a = \"y\" cites \"c\""));
  CHECK_FALSE(same("allow read when data.a = true cites \"c\"",
                   "allow read when data.a = false cites \"c\""));
  CHECK_FALSE(same("allow read when data.a = data.b + 1 days cites \"c\"",
                   "allow read when data.a = data.b + 2 days cites \"c\""));
  CHECK_FALSE(same("allow read when data.a = data.b + 1 days cites \"c\"",
                   "allow read when data.a = data.b + 1 years cites \"c\""));
  CHECK_FALSE(same("allow read when data.a = data.b cites \"c\"",
                   "allow read when data.a = data.b + 1 days cites \"c\""));
  CHECK_FALSE(same("allow read when data.a = 2026-01-01 cites \"c\"",
                   "allow read when data.a = 2026-01-02 cites \"c\""));
  CHECK_FALSE(same("allow read when data.a cites \"c\"", "allow read when data.b cites \"c\""));
  CHECK_FALSE(
      same("allow read when objected a cites \"c\"", "allow read when objected b cites \"c\""));
  CHECK_FALSE(same("allow read when requester.a in data.b cites \"c\"",
                   "allow read when requester.a in data.c cites \"c\""));
  CHECK_FALSE(same("first deny cites \"c\"", "deny cites \"c\""));
  CHECK_FALSE(
      same("effective from 2026-01-01 cites \"c\"", "effective from 2026-01-02 cites \"c\""));
  CHECK_FALSE(same("deny from 2026-01-01 cites \"c\"", "deny until 2026-01-01 cites \"c\""));
  CHECK_FALSE(same("allow obliges a cites \"c\"", "allow obliges b cites \"c\""));
  CHECK_FALSE(same("allow obliges a, b cites \"c\"", "allow obliges a cites \"c\""));
  CHECK_FALSE(same("clause \"x\" from 2026-01-01 \"y\"", "clause \"x\" \"y\""));
  CHECK_FALSE(same("clause \"x\" until 2026-01-01 \"y\"", "clause \"x\" until 2026-01-02 \"y\""));
  CHECK_FALSE(same("attribute data.a string", "attribute data.a integer"));
  CHECK_FALSE(same("attribute data.a string", "attribute data.b string"));
  CHECK_FALSE(same("attribute data.a string", "attribute requester.a string"));
  CHECK_FALSE(same("attribute data.a string", "attribute data.a string optional"));
  CHECK_FALSE(same("attribute data.a list of string", "attribute data.a list of strings"));
  CHECK_FALSE(same("attribute data.a string", "data a"));
  CHECK_FALSE(same("purpose a under b", "purpose a under c"));
}

// ---- the shipped files ----

TEST_CASE("fmt: the privacy policy is formatted and decides as before", "[format]") {
  const fs::path path = source_dir() / "policies" / "privacy.policy";
  const std::string text = read_file(path);
  const std::string out = check_layout(text);
  CHECK(out == text);  // `clause fmt --check policies` passes
  for (std::size_t begin = 0; begin < out.size();) {
    const std::size_t end = out.find('\n', begin);
    const std::string line = out.substr(begin, end - begin);
    if (line.find('#') == std::string::npos) CHECK(line.size() <= 92);
    begin = end + 1;
  }
  // The file moved from its hand layout: its earlier text, formatted, decides the same.
  std::mt19937_64 rng(7);
  check_same_decisions(privacy_policy(), must_compile(out), rng, 20000, true);
}

TEST_CASE("fmt: the golden policies format idempotently", "[format]") {
  std::size_t formatted = 0;
  for (const fs::directory_entry& e :
       fs::directory_iterator(source_dir() / "tests" / "golden" / "diagnostics")) {
    if (e.path().extension() != ".policy") continue;
    const std::string text = read_file(e.path());
    if (!dsl::parse(SourceFile{"g.policy", text}).diagnostics.empty()) continue;  // E101
    INFO(e.path().string());
    check_layout(text);
    ++formatted;
  }
  CHECK(formatted >= 30);
}

// Formats a test file; checks that the result parses to the same cases and comments and is
// formatted. Gives the formatted text.
std::string check_tests(const std::string& text) {
  INFO(text);
  const auto before = dsl::parse_tests(SourceFile{"t.test", text});
  REQUIRE(before.diagnostics.empty());
  const std::string once = dsl::format_tests(SourceFile{"t.test", text}, before.tests);
  INFO(once);
  const auto after = dsl::parse_tests(SourceFile{"t.test", once});
  REQUIRE(after.diagnostics.empty());
  CHECK(dsl::same_tree(before.tests, after.tests));
  CHECK(dsl::same_comments(before.tests.comments, after.tests.comments));
  CHECK(dsl::format_tests(SourceFile{"t.test", once}, after.tests) == once);
  return once;
}

TEST_CASE("fmt: test files keep their cases and comments", "[format]") {
  check_tests(read_file(source_dir() / "policies" / "privacy.test"));
  CHECK(check_tests(R"(# cases
tests for "p.policy"   # the policy
case "one" action read data a  # the data
  # the requester
  requester r facts f1,f2 consent k # consent
  expect require consent k cites "1"


case "two" data a requester r action read purpose service
  expect deny cites "2")") == R"(# cases
tests for "p.policy"  # the policy
case "one"
  data a  # the data
  # the requester
  requester r
  action read
  facts f1, f2
  consent k  # consent
  expect require consent k cites "1"

case "two"
  data a
  requester r
  action read
  purpose service
  expect deny cites "2"
)");
  const SourceFile twice{"t.test", "tests for \"a\"\ntests for \"b\"\n"};
  CHECK_THROWS_AS(dsl::format_tests(twice, dsl::parse_tests(twice).tests), std::invalid_argument);
}

TEST_CASE("fmt: test cases with attributes, a time, dated consents, objections and obligations",
          "[format]") {
  CHECK(check_tests(R"(tests for "p.policy"
case "one" data a requester r action read
  with requester.id="c-1",data.age = -4 # ages
  with data.team = ["c-1","c-2"], data.empty = [ ], data.ok = true, data.seen = 2025-06-01
  at 2026-03-01T10:00:00Z
  consent k expires 2027-01-01 withdrawn 2026-06-01,plain
  objections o1,o2
  expect allow cites "L" obliges b,a)") == R"(tests for "p.policy"
case "one"
  data a
  requester r
  action read
  with requester.id = "c-1", data.age = -4, data.team = ["c-1", "c-2"], data.empty = [],
    data.ok = true, data.seen = 2025-06-01
  # ages
  at 2026-03-01T10:00:00Z
  consent k expires 2027-01-01 withdrawn 2026-06-01, plain
  objections o1, o2
  expect allow cites "L" obliges b, a
)");
  const auto same = [](const std::string& a, const std::string& b) {
    const auto x =
        dsl::parse_tests(SourceFile{"a.test", "case \"c\" " + a + " expect deny cites \"1\""});
    const auto y =
        dsl::parse_tests(SourceFile{"b.test", "case \"c\" " + b + " expect deny cites \"1\""});
    REQUIRE(x.diagnostics.empty());
    REQUIRE(y.diagnostics.empty());
    return dsl::same_tree(x.tests, y.tests);
  };
  CHECK(same("with data.a = 1", "with data.a=1"));
  CHECK_FALSE(same("with data.a = 1", "with data.a = 2"));
  CHECK_FALSE(same("with data.a = 1", "with data.b = 1"));
  CHECK_FALSE(same("with data.a = \"1\"", "with data.a = 1"));
  CHECK_FALSE(same("with data.a = [\"x\"]", "with data.a = [\"y\"]"));
  CHECK_FALSE(same("with data.a = true", "with data.a = false"));
  CHECK_FALSE(same("at 2026-01-01", "at 2026-01-02"));
  CHECK_FALSE(same("consent k expires 2026-01-01", "consent k"));
  CHECK_FALSE(same("consent k withdrawn 2026-01-01", "consent k expires 2026-01-01"));
  CHECK_FALSE(same("objections a", "objections b"));
  CHECK_FALSE(same("", "objections b"));
}

// ---- random policies ----

using Tokens = std::vector<std::string>;

// Writes random valid policies, with blanks, line breaks and comments between any two
// tokens, and names long enough to make lines wrap.
struct RandomPolicy {
  explicit RandomPolicy(std::mt19937_64& r) : rng(r) {}

  std::mt19937_64& rng;
  int comments = 0;
  std::vector<std::string> data, requesters, actions, purposes, facts;

  int pick(int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }

  std::string name(const char* prefix, int i) {
    return pick(3) == 0 ? fmt::format("{}{}_{}", prefix, i, std::string(1 + pick(24), 'x'))
                        : fmt::format("{}{}", prefix, i);
  }

  std::string comment() {
    static const char* const bodies[] = {"", " note", " a \"quoted\" # word", "   ", "\t#"};
    return fmt::format("#{}{}", comments++, bodies[pick(5)]);
  }

  // Blanks between two tokens, sometimes with comments.
  std::string sep() {
    switch (pick(12)) {
      case 0:
        return "\n  ";
      case 1:
        return fmt::format("  {}\n", comment());
      case 2:
        return fmt::format("\n{}\n\n   ", comment());
      case 3:
        return "\t";
      default:
        return " ";
    }
  }

  // Blanks between two statements.
  std::string statement_sep() {
    switch (pick(10)) {
      case 0:
        return " ";
      case 1:
        return "\n\n\n";
      case 2:
        return fmt::format(" {}\n", comment());
      case 3: {
        const std::string first = comment();
        return fmt::format("\n{}\n{}\n\n", first, comment());
      }
      case 4:
        return fmt::format("\n\n{}\n", comment());
      default:
        return "\n";
    }
  }

  std::string words() {
    static const char* const pool[] = {"the",
                                       "software",
                                       "will",
                                       "\\\"not\\\"",
                                       "a\\\\b",
                                       "tab\\t",
                                       "line\\nbreak",
                                       "#hash",
                                       "",
                                       " ",
                                       ("very-long-word-that-does-not-fit-anywhere-"
                                        "on-one-single-line-of-ninety-two-columns-at-all-really")};
    std::string out;
    const int n = 1 + pick(30);
    for (int i = 0; i < n; ++i)
      out += fmt::format("{}{}", i ? " " : "", pool[pick(11)]);
    return fmt::format("\"{}\"", out);
  }

  void set(const std::vector<std::string>& names, Tokens& t) {
    if (pick(5) == 0) {
      t.push_back("any");
      return;
    }
    const int count = 1 + pick(3);
    for (int i = 0; i < count; ++i) {
      if (i) t.push_back(",");
      t.push_back(names[static_cast<std::size_t>(pick(static_cast<int>(names.size())))]);
    }
  }

  void cond(int depth, Tokens& t) {
    const auto any = [&](const std::vector<std::string>& v) {
      return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))];
    };
    switch (depth > 3 ? pick(3) : pick(9)) {
      case 0:
        t.push_back(any(facts));
        break;
      case 1:
        t.insert(t.end(), {"purpose", "is", any(purposes)});
        break;
      case 2:
        t.insert(t.end(), {"consent", pick(2) ? "k0" : "k1"});
        break;
      case 3:
        t.push_back("not");
        cond(depth + 1, t);
        break;
      case 4:
      case 5: {
        const bool parens = pick(3) != 0;
        if (parens) t.push_back("(");
        cond(depth + 1, t);
        for (int n = 1 + pick(3); n > 0; --n) {
          t.push_back(pick(2) ? "and" : "or");
          cond(depth + 1, t);
        }
        if (parens) t.push_back(")");
        break;
      }
      case 6:
        t.push_back("(");
        cond(depth + 1, t);
        t.push_back(")");
        break;
      default:
        t.insert(t.end(), {"purpose", "in", "(", any(purposes)});
        for (int n = pick(3); n > 0; --n)
          t.insert(t.end(), {",", any(purposes)});
        t.push_back(")");
    }
  }

  std::vector<Tokens> statements() {
    std::vector<Tokens> out;
    data.clear();
    requesters.clear();
    actions.clear();
    purposes.clear();
    facts.clear();
    for (int i = 0, n = 3 + pick(8); i < n; ++i)
      data.push_back(name("d", i));
    for (int i = 0, n = 2 + pick(6); i < n; ++i)
      requesters.push_back(name("r", i));
    for (int i = 0, n = 2 + pick(5); i < n; ++i)
      actions.push_back(name("a", i));
    for (int i = 0, n = 1 + pick(3); i < n; ++i)
      purposes.push_back(name("p", i));
    for (int i = 0, n = 1 + pick(5); i < n; ++i)
      facts.push_back(name("f", i));

    out.push_back({"policy", "\"r\"", "version", "\"1\""});
    for (const char* id : {"\"c\"", "\"m\"", "\"z\""}) {
      Tokens t{"clause", id};
      for (int n = 1 + pick(4); n > 0; --n)
        t.push_back(words());
      out.push_back(std::move(t));
    }
    const auto tree = [&](const char* kw, const std::vector<std::string>& names) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        Tokens t{kw, names[i]};
        if (i > 0 && pick(3) != 0) {
          t.insert(t.end(), {"under", names[static_cast<std::size_t>(pick(static_cast<int>(i)))]});
        }
        if (pick(4) == 0) t.insert(t.end(), {"cites", "\"c\""});
        out.push_back(std::move(t));
      }
    };
    tree("data", data);
    tree("requester", requesters);
    const auto list = [&](const char* kw, const std::vector<std::string>& names) {
      Tokens t{kw};
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0 && pick(4) == 0) {
          out.push_back(std::move(t));
          t = {kw};
        } else if (i > 0) {
          t.push_back(",");
        }
        t.push_back(names[i]);
      }
      out.push_back(std::move(t));
    };
    list("action", actions);
    list("purpose", purposes);
    list("fact", facts);
    out.push_back({"consent", "k0", "cites", "\"m\""});
    out.push_back({"consent", "k1"});

    for (int i = 0, n = 1 + pick(25); i < n; ++i) {
      Tokens t;
      if (pick(4) == 0) t.insert(t.end(), {fmt::format("rule_{}", i), ":"});
      if (pick(10) == 0) {
        t.push_back("exclude");
        set(data, t);
      } else {
        if (pick(8) == 0) t.push_back("otherwise");
        switch (pick(3)) {
          case 0:
            t.push_back("allow");
            break;
          case 1:
            t.push_back("deny");
            break;
          default:
            t.insert(t.end(), {"require", "consent", pick(2) ? "k0" : "k1", "for"});
        }
        if (pick(3) != 0) set(actions, t);
        if (pick(3) != 0) {
          t.push_back("of");
          set(data, t);
        }
        if (pick(3) != 0) {
          t.push_back("by");
          set(requesters, t);
        }
        if (pick(2) == 0) {
          t.push_back("when");
          cond(0, t);
        }
      }
      t.insert(t.end(), {"cites", "\"c\""});
      out.push_back(std::move(t));
    }
    // Annotations on a few statements.
    for (Tokens& t : out) {
      if (pick(12) == 0) {
        Tokens a{"@ignore", "W001"};
        if (pick(2) == 0) a.insert(a.end(), {",", "W004"});
        t.insert(t.begin(), a.begin(), a.end());
      }
    }
    return out;
  }

  std::string text() {
    std::string out;
    if (pick(3) == 0) out += fmt::format("{}\n\n", comment());
    for (const Tokens& statement : statements()) {
      for (std::size_t i = 0; i < statement.size(); ++i) {
        if (i > 0) out += sep();
        out += statement[i];
      }
      out += statement_sep();
    }
    return out;
  }
};

// One of the properties that `clause_tests "[property]"` runs (tests/unit/property_test.cpp).
TEST_CASE("fmt: random policies keep their tree, comments and decisions", "[format][property]") {
  std::mt19937_64 rng(2026);
  RandomPolicy gen(rng);
  for (int round = 0; round < 300; ++round) {
    const std::string text = gen.text();
    INFO("round " << round);
    const std::string once = check_layout(text);
    INFO(text);
    INFO(once);
    const Policy before = must_compile(text);
    const Policy after = must_compile(once);
    check_same_decisions(before, after, rng, 200);
  }
}

// The same on random policies of the whole language (attributes, dates, objections, tiers,
// obligations), laid out at random, decided on requests whose attribute values come from the
// classes the policy's tests tell apart.
TEST_CASE("fmt: random policies with attributes keep their tree and decisions",
          "[format][property][attributes]") {
  std::mt19937_64 rng(1515);
  const auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
  int compared = 0;
  for (int round = 0; round < 150; ++round) {
    const std::string canonical = random_attribute_policy(rng, 2 + static_cast<int>(pick(8)), 2);
    // Lay it out badly: spaces between tokens become runs, tabs or continuation lines.
    std::string text;
    bool quoted = false;
    for (const char ch : canonical) {
      if (ch == '"') quoted = !quoted;
      if (ch != ' ' || quoted) {
        text += ch;
        continue;
      }
      static const char* const gaps[] = {" ", " ", " ", "   ", "\t", "\n    ", " # note\n  "};
      text += gaps[pick(7)];
    }
    INFO("round " << round);
    const std::string once = check_layout(text);
    const Policy before = must_compile(text);
    const Policy after = must_compile(once);
    const dsl::CheckedPolicy& c = detail::Access::impl(before)->checked();
    const auto grid = whole_grid(c);
    if (grid.empty()) continue;  // past the analyses' bound: nothing to draw values from
    ++compared;
    for (int n = 0; n < 300; ++n) {
      const Request r = grid_request(rng, c, grid);
      const Decision x = before.evaluate(r);
      const Decision y = after.evaluate(r);
      REQUIRE(x.error.empty());
      REQUIRE(x.effect == y.effect);
      REQUIRE(x.clause == y.clause);
      REQUIRE(x.consent == y.consent);
      REQUIRE(x.rule == y.rule);
      REQUIRE(std::equal(x.obligations.begin(), x.obligations.end(), y.obligations.begin(),
                         y.obligations.end()));
    }
  }
  CHECK(compared > 100);
}

}  // namespace
}  // namespace clause::test
