// Check stage: names resolve, trees are built, and every mistake is reported with its
// place, its related places and a fix where one can be guessed.
#include "clause/dsl/check.hpp"
#include "clause/detail.hpp"
#include "clause/dsl/parse.hpp"
#include "clause/lint.hpp"
#include "random_policy.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const char* const header = R"(policy "p" version "1"
clause "1" "one"
clause "2" "two"
data info
data contact under info
data secret under contact
requester company
requester partner under company
action read, write
purpose service, marketing
fact active
consent ok
)";

dsl::CheckResult check_text(const std::string& rules) {
  const auto parsed = dsl::parse(SourceFile{"t.policy", std::string(header) + rules});
  REQUIRE(parsed.diagnostics.empty());
  return dsl::check(parsed.policy);
}

std::vector<Diagnostic> errors_of(const dsl::CheckResult& r) {
  std::vector<Diagnostic> out;
  for (const auto& d : r.diagnostics) {
    if (d.severity == Severity::error) out.push_back(d);
  }
  return out;
}

TEST_CASE("a valid policy resolves every name", "[check]") {
  const auto r = check_text(
      "allow read of contact by partner when active cites \"1\"\n"
      "deny write cites \"2\"\n");
  REQUIRE(r.policy);
  CHECK(r.diagnostics.empty());
  const dsl::CheckedPolicy& p = *r.policy;
  REQUIRE(p.rules.size() == 2);
  CHECK(p.rules[0].id == "1/1");
  CHECK(p.rules[1].id == "2/1");
  CHECK(p.rules[1].data.any);
  // Preorder intervals: info covers contact and secret; contact covers secret.
  CHECK(p.data[0].last - p.data[0].first == 3);
  CHECK(p.data[2].first >= p.data[1].first);
  CHECK(p.data[2].first < p.data[1].last);
}

TEST_CASE("unknown names are reported with a suggestion", "[check]") {
  const auto r = check_text("allow raed of contcat by partner when actve cites \"1\"\n");
  const auto errors = errors_of(r);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].message == "unknown action `raed`");
  CHECK(errors[0].help == "did you mean `read`?");
  CHECK(errors[1].message == "unknown data category `contcat`");
  CHECK(errors[1].help == "did you mean `contact`?");
  CHECK(errors[2].message == "unknown fact `actve`");
  CHECK_FALSE(r.policy);
}

TEST_CASE("a name of the wrong kind says what it is", "[check]") {
  const auto errors = errors_of(check_text("allow read of partner cites \"1\"\n"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "E212");
  CHECK(errors[0].message == "`partner` is a requester kind, but `of` must name a data category");
  REQUIRE(errors[0].notes.size() == 1);
}

TEST_CASE("duplicates point at the first declaration", "[check]") {
  const auto errors =
      errors_of(check_text("data contact\nclause \"1\" \"again\"\n"
                           "r: allow read cites \"1\"\nr: deny read cites \"1\"\n"));
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].code == "E210");
  CHECK(errors[1].code == "E203");
  CHECK(errors[2].code == "E230");
  for (const auto& e : errors)
    CHECK(e.notes.size() == 1);
}

TEST_CASE("a cycle in a hierarchy is reported once", "[check]") {
  const auto parsed = dsl::parse(SourceFile{"t", R"(policy "p" version "1"
data a under c
data b under a
data c under b
)"});
  const auto r = dsl::check(parsed.policy);
  REQUIRE(errors_of(r).size() == 1);
  CHECK(errors_of(r)[0].code == "E213");
  CHECK_THAT(errors_of(r)[0].message, Catch::Contains("is its own ancestor"));
}

TEST_CASE("citations must name declared clauses", "[check]") {
  const auto errors = errors_of(check_text("allow read cites \"3\"\n"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "E220");
  CHECK(errors[0].message == "cites undeclared clause `3`");
}

TEST_CASE("only deny may cite the fail-closed clause", "[check]") {
  const auto errors = errors_of(check_text("allow read cites \"default\"\n"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "E221");
}

TEST_CASE("a consent may not cite the fail-closed clause", "[check]") {
  // A granted consent citing `default` would allow, citing "no clause permits it".
  const auto errors = errors_of(dsl::check(dsl::parse(SourceFile{"t", R"(policy "p" version "1"
clause "1" "one"
action read
consent ok cites "default"
require consent ok for read cites "1"
)"})
                                               .policy));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "E221");
}

TEST_CASE("a name declared under itself says so", "[check]") {
  const auto errors = errors_of(dsl::check(
      dsl::parse(SourceFile{"t", "policy \"p\" version \"1\"\ndata a under a\n"}).policy));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "data category `a` is declared under itself");
  CHECK(errors[0].help == "remove `under a`");
}

TEST_CASE("names declared in a broken statement are not also reported unknown", "[check]") {
  const auto diagnostics = must_fail(R"(policy "p" version "1"
clause "1" "one"
action read, write,
allow read cites "1"
allow nosuch cites "1"
)");
  // The list is broken at its trailing comma; `read` is declared there, `nosuch` is not.
  REQUIRE(diagnostics.size() == 2);
  CHECK(diagnostics[0].code == "E101");
  CHECK(diagnostics[1].message == "unknown action `nosuch`");
}

TEST_CASE("a policy without a header is an error", "[check]") {
  const auto r = dsl::check(dsl::parse(SourceFile{"t", "action read\n"}).policy);
  REQUIRE(errors_of(r).size() == 1);
  CHECK(errors_of(r)[0].code == "E201");
}

TEST_CASE("a diagnostic at the very start of a file shows the first line", "[check][render]") {
  // A span at offset 0 once rendered the file's last line and a caret padded by 2^32.
  const SourceFile file{"t.policy", "action read\nallow read cites \"1\"\n"};
  const auto r = dsl::check(dsl::parse(file).policy);
  const std::string out = render_text(file, r.diagnostics);
  CHECK(out.find("t.policy:1:1: error[E201]: the policy has no header\n"
                 "1 | action read\n"
                 "  | ^\n") == 0);
}

TEST_CASE("clauses nothing cites are warned about", "[check]") {
  const auto r = check_text("allow read cites \"1\"\n");
  REQUIRE(r.policy);
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].severity == Severity::warning);
  CHECK(r.diagnostics[0].code == "W001");
  CHECK(r.diagnostics[0].message == "clause `2` is declared but nothing cites it");
}

TEST_CASE("every error is reported, not only the first", "[check]") {
  const auto errors =
      errors_of(check_text("allow a1 cites \"1\"\nallow a2 cites \"1\"\nallow a3 cites \"9\"\ndeny "
                           "of zz cites \"1\"\n"));
  CHECK(errors.size() == 5);
}

TEST_CASE("a purpose and a consent may share a name", "[check]") {
  const auto parsed = dsl::parse(SourceFile{"t", R"(policy "p" version "1"
clause "1" "one"
action read
purpose partner_marketing
consent partner_marketing
require consent partner_marketing for read when purpose is partner_marketing cites "1"
)"});
  const auto r = dsl::check(parsed.policy);
  CHECK(errors_of(r).empty());
}

TEST_CASE("rendered diagnostics look like a compiler's", "[check][render]") {
  const std::string text = std::string(header) + "allow read of contcat cites \"1\"\n";
  const SourceFile file{"t.policy", text};
  const auto r = dsl::check(dsl::parse(file).policy);
  const std::string out = render_text(file, errors_of(r));
  CHECK(out ==
        "t.policy:13:15: error[E211]: unknown data category `contcat`\n"
        "13 | allow read of contcat cites \"1\"\n"
        "   |               ^^^^^^^\n"
        "   = help: did you mean `contact`?\n");
}

// ---- the linter ----

std::vector<Diagnostic> lint_text(const std::string& rules) {
  return lint(must_compile(std::string(header) + "clause \"3\" \"three\"\n" + rules));
}

std::vector<std::string> codes_of(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) {
    if (d.code != "W001" && d.code != "W002") out.push_back(d.code);
  }
  return out;
}

TEST_CASE("a rule that earlier rules always outrank is shadowed", "[lint]") {
  const auto found = lint_text(R"(allow read cites "1"
allow read of contact by partner when active cites "2"
deny write when active cites "1"
deny write when not active cites "1"
allow write of secret cites "2"
)");
  REQUIRE(codes_of(found) == std::vector<std::string>{"W004", "W004"});
  const auto w = std::find_if(found.begin(), found.end(),
                              [](const Diagnostic& d) { return d.code == "W004"; });
  CHECK(w->message ==
        "rule 2/1 can never decide: rules of higher precedence decide every request it matches");
  REQUIRE(w->notes.size() == 1);
  CHECK(w->notes[0].message == "rule 1/1 (permission) decides first");
}

TEST_CASE("a rule outranked only sometimes is not shadowed", "[lint]") {
  CHECK(codes_of(lint_text(R"(deny read when active cites "1"
allow read cites "2"
require consent ok for write cites "2"
require consent ok for write by partner cites "3"
)")) == std::vector<std::string>{"W004"});  // the second requirement adds nothing
}

TEST_CASE("duplicates and conditions that never hold are found", "[lint]") {
  const auto found = lint_text(R"(allow read of info when active cites "1"
allow read of info when active cites "2"
deny write when active and not active cites "3"
)");
  CHECK(codes_of(found) == std::vector<std::string>{"W003", "W005"});
}

TEST_CASE("conditions by which granting a consent can take an allow away are found", "[lint]") {
  const auto found = lint_text(R"(allow read of info when consent ok cites "1"
allow write of info when not (active and not consent ok) cites "2"
allow read of contact when not consent ok cites "2"
deny write of secret when active or consent ok cites "3"
otherwise require consent ok for read when consent ok cites "3"
@ignore W006
deny write of contact by partner when consent ok cites "3"
deny read of secret when not consent ok cites "3"
require consent ok for write of secret when not active cites "3"
)");
  std::vector<std::string> messages;
  for (const Diagnostic& d : found) {
    if (d.code == "W006") messages.push_back(d.message);
  }
  CHECK(messages ==
        std::vector<std::string>{
            "rule 2/2 allows only while consent `ok` is not granted: granting it can take an "
            "allow away",
            "rule 3/1 denies when consent `ok` is granted: granting it can take an allow away",
            "rule 3/2 asks for consent when consent `ok` is granted: granting it can take an "
            "allow away"});
}

// Without W006, consent only ever allows more: granting one more never turns an allow into
// deny or require-consent, which brute force over every request shows.
TEST_CASE("without W006, granting a consent never takes an allow away", "[lint][exact]") {
  std::mt19937_64 rng(606);
  int clean = 0;
  for (int round = 0; round < 300; ++round) {
    const std::string text = random_policy(rng, 2 + static_cast<int>(rng() % 10));
    const Policy p = must_compile(text);
    const auto findings = lint(p);
    if (std::any_of(findings.begin(), findings.end(),
                    [](const Diagnostic& d) { return d.code == "W006"; })) {
      continue;
    }
    ++clean;
    const dsl::CheckedPolicy& c = detail::Access::impl(p)->checked();
    INFO(text);
    for (const auto& data : c.data) {
      for (const auto& requester : c.requesters) {
        for (const auto& action : c.actions) {
          for (int bits = 0; bits < 64; ++bits) {
            const int purpose = static_cast<int>(rng() % 4) - 1;
            const Effect before =
                p.evaluate(small_request(data.name, requester.name, action.name, purpose, bits))
                    .effect;
            if (before != Effect::allow) continue;
            for (const int consent : {16, 32}) {
              const Effect after = p.evaluate(small_request(data.name, requester.name, action.name,
                                                            purpose, bits | consent))
                                       .effect;
              CHECK(after == Effect::allow);
            }
          }
        }
      }
    }
  }
  CHECK(clean >= 50);
}

TEST_CASE("names no rule uses are reported; @ignore silences one statement", "[lint]") {
  const Policy p = must_compile(R"(policy "p" version "1"
clause "1" "one"
data info
data spare
@ignore W002
data kept
action read, idle
allow read of info cites "1"
)");
  std::vector<std::string> unused;
  for (const auto& d : lint(p)) {
    if (d.code == "W002") unused.push_back(d.message);
  }
  CHECK(unused == std::vector<std::string>{
                      "no rule names data category `spare`, nor any name above or below it",
                      "no rule names action `idle`"});
}

// The linter decides exactly: a rule is flagged (W003, W004 or W005) if and only if no
// request at all is decided by it, which brute force over the whole request space shows.
TEST_CASE("the linter agrees with brute force on random policies", "[lint][exact]") {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 120; ++round) {
    const std::string text = random_policy(rng, 2 + static_cast<int>(rng() % 14));
    const Policy p = must_compile(text);
    const detail::PolicyImpl& impl = *detail::Access::impl(p);
    const dsl::CheckedPolicy& c = impl.checked();
    std::vector<bool> decides(c.rules.size(), false);
    for (const auto& data : c.data) {
      for (const auto& requester : c.requesters) {
        for (const auto& action : c.actions) {
          for (int purpose = -1; purpose < 3; ++purpose) {
            for (int bits = 0; bits < 64; ++bits) {
              const Request r =
                  small_request(data.name, requester.name, action.name, purpose, bits);
              const auto v = detail::reference_evaluate(impl, *p.resolve(r), nullptr);
              if (v.rule >= 0) decides[static_cast<std::size_t>(v.rule)] = true;
            }
          }
        }
      }
    }
    std::vector<bool> flagged(c.rules.size(), false);
    for (const Diagnostic& d : lint(p)) {
      if (d.code != "W003" && d.code != "W004" && d.code != "W005") continue;
      for (std::size_t i = 0; i < c.rules.size(); ++i) {
        if (d.span.begin >= c.rules[i].span.begin && d.span.begin < c.rules[i].span.end) {
          flagged[i] = true;
        }
      }
    }
    INFO(text);
    for (std::size_t i = 0; i < c.rules.size(); ++i) {
      INFO("rule " << c.rules[i].id << " (index " << i << ")");
      CHECK(flagged[i] == !decides[i]);
    }
  }
}

}  // namespace
}  // namespace clause::test

TEST_CASE("attribute types are named as a policy writes them", "[check]") {
  // The name was defined inside clause::dsl, so clause::to_string had no definition.
  CHECK(clause::to_string(clause::AttrType::string) == "string");
  CHECK(clause::to_string(clause::AttrType::date) == "date");
  CHECK(clause::to_string(clause::AttrType::string_list) == "list of string");
}
