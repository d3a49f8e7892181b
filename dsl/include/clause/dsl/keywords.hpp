// The words of the policy and test-file languages, written once: the grammar, the parser's
// fix guesses, the language server and the editor grammars' test all read this table.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace clause::dsl {

/// One keyword and where it belongs.
struct Keyword {
  std::string_view word;
  bool reserved = false;          // a word of policy files; it cannot name anything
  bool starts_statement = false;  // a policy file's statement can start with it
  bool in_tests = false;          // a word of test files
  bool starts_test = false;       // a test file's statement can start with it
};

/// Every keyword: the reserved words of policy files first, then the others.
inline constexpr std::array<Keyword, 52> keywords = {{
    {"policy", true, true, false, false},
    {"version", true, false, false, false},
    {"clause", true, true, false, false},
    {"data", true, true, true, false},
    {"requester", true, true, true, false},
    {"action", true, true, true, false},
    {"purpose", true, true, true, false},
    {"fact", true, true, false, false},
    {"consent", true, true, true, false},
    {"under", true, false, false, false},
    {"cites", true, false, true, false},
    {"allow", true, true, true, false},
    {"deny", true, true, true, false},
    {"require", true, true, true, false},
    {"exclude", true, true, false, false},
    {"otherwise", true, true, false, false},
    {"for", true, false, true, false},
    {"of", true, false, false, false},
    {"by", true, false, false, false},
    {"when", true, false, false, false},
    {"and", true, false, false, false},
    {"or", true, false, false, false},
    {"not", true, false, false, false},
    {"is", true, false, false, false},
    {"in", true, false, false, false},
    {"any", true, false, false, false},
    {"default", true, false, false, false},
    {"assert", true, true, false, false},
    {"always", true, false, false, false},
    {"never", true, false, false, false},
    {"unless", true, false, false, false},
    {"context", true, false, false, false},
    {"attribute", true, true, false, false},
    {"objection", true, true, false, false},
    {"obligation", true, true, false, false},
    {"objected", true, false, false, false},
    {"obliges", true, false, true, false},
    {"effective", true, true, false, false},
    {"from", true, false, false, false},
    {"until", true, false, false, false},
    // `first` starts a rule but is not reserved: rules and names may still be called so.
    {"first", false, true, false, false},
    // `names` starts a name set's declaration; names may still be called so.
    {"names", false, true, false, false},
    // `document` starts a document's declaration; a data category may still be called so
    // (AuthZEN's examples name their resources `document`).
    {"document", false, true, false, false},
    {"tests", false, false, true, true},
    {"case", false, false, true, true},
    {"facts", false, false, true, false},
    {"expect", false, false, true, false},
    {"with", false, false, true, false},
    {"objections", false, false, true, false},
    {"expires", false, false, true, false},
    {"withdrawn", false, false, true, false},
    {"at", false, false, true, false},
}};

/// How many keywords are reserved: they come first in the table.
inline constexpr std::size_t reserved_keywords = 40;

/// Gives the index of a keyword in the table; not a constant expression when absent, so
/// that the grammar cannot name a word the table lacks.
consteval std::size_t keyword_index(std::string_view word) {
  for (std::size_t i = 0; i < keywords.size(); ++i) {
    if (keywords[i].word == word) return i;
  }
  throw "not a keyword";  // NOLINT: a compile-time error, never thrown at run time
}

/// Tells whether a word is reserved in policy files.
constexpr bool is_reserved(std::string_view word) {
  for (std::size_t i = 0; i < reserved_keywords; ++i) {
    if (keywords[i].word == word) return true;
  }
  return false;
}

}  // namespace clause::dsl
