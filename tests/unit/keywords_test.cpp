// The keyword table is the one list of the languages' words: the grammar reads it, and
// the editor grammars must list exactly its words.
#include "clause/dsl/keywords.hpp"

#include <regex>
#include <set>
#include <string>

#include "clause/dsl/parse.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const std::string syntaxes = std::string(CLAUSE_SOURCE_DIR) + "/tools/editors/vscode/syntaxes/";

std::set<std::string> table_words(bool tests) {
  std::set<std::string> out;
  for (const dsl::Keyword& k : dsl::keywords) {
    if (tests ? k.in_tests : k.reserved) out.emplace(k.word);
  }
  return out;
}

// The alternations a grammar uses to keep reserved words from looking like names:
// `(?!(?:policy|version|...)\b)`.
std::vector<std::set<std::string>> reserved_lists(const std::string& grammar) {
  std::vector<std::set<std::string>> out;
  const std::regex lookahead(R"(\(\?!\(\?:([a-z|]+)\))");
  for (auto it = std::sregex_iterator(grammar.begin(), grammar.end(), lookahead);
       it != std::sregex_iterator(); ++it) {
    std::set<std::string> words;
    const std::string list = (*it)[1];
    for (std::size_t at = 0; at <= list.size();) {
      const std::size_t bar = std::min(list.find('|', at), list.size());
      words.insert(list.substr(at, bar - at));
      at = bar + 1;
    }
    out.push_back(std::move(words));
  }
  return out;
}

// Whether a grammar matches `word` as a whole word somewhere: `\b(word)\b`, or in an
// alternation `(a|word|b)`.
bool highlights(const std::string& grammar, const std::string& word) {
  const std::regex as_word(R"([(|])" + word + R"([)|])");
  return std::regex_search(grammar, as_word);
}

TEST_CASE("the reserved words are exactly the table's, and come first in it") {
  std::size_t reserved = 0;
  for (const dsl::Keyword& k : dsl::keywords) {
    if (k.reserved) ++reserved;
    CHECK(dsl::is_reserved(k.word) == k.reserved);
  }
  CHECK(reserved == dsl::reserved_keywords);
  for (std::size_t i = 0; i < dsl::reserved_keywords; ++i)
    CHECK(dsl::keywords[i].reserved);
}

TEST_CASE("the parser refuses every reserved word as a name, and no other keyword") {
  for (const dsl::Keyword& k : dsl::keywords) {
    const std::string text = "policy \"p\" version \"1\"\nfact " + std::string(k.word) + "\n";
    const auto parsed = dsl::parse(SourceFile{"t.policy", text});
    INFO(k.word);
    CHECK(parsed.diagnostics.empty() == !k.reserved);
  }
}

TEST_CASE("the fix guesses know every keyword of the table") {
  // `assert` and the words of assertions were missing from the guesses' own lists.
  const auto help_of = [](const std::string& statement) {
    const auto parsed =
        dsl::parse(SourceFile{"t.policy", "policy \"p\" version \"1\"\n" + statement + "\n"});
    REQUIRE(parsed.diagnostics.size() == 1);
    return parsed.diagnostics[0].help;
  };
  CHECK(help_of("asert never allow read") == "did you mean `assert`?");
  CHECK(help_of("fact never") == "`never` is a reserved word and cannot name anything");
  CHECK(help_of("purpose unless") == "`unless` is a reserved word and cannot name anything");
}

TEST_CASE("the editor grammars list exactly the table's keywords") {
  for (const bool tests : {false, true}) {
    const std::string file =
        syntaxes + (tests ? "clause-test" : "clause-policy") + ".tmLanguage.json";
    INFO(file);
    const std::string grammar = read_file(file);
    // Names in both kinds of file are policy names: the reserved words keep them apart.
    const std::vector<std::set<std::string>> lists = reserved_lists(grammar);
    REQUIRE_FALSE(lists.empty());
    for (const auto& list : lists)
      CHECK(list == table_words(false));
    for (const std::string& word : table_words(tests)) {
      INFO(word);
      CHECK(highlights(grammar, word));
    }
  }
}

}  // namespace
}  // namespace clause::test
