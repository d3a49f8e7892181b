// Stage: parse. What the parser does after an error, without PEGTL: describe what it
// found, place the caret, guess a fix, find where to resume; and the UTF-8 check.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "clause/diagnostic.hpp"

namespace clause::dsl::parsing {

/// Tells whether a character may be part of a name.
bool is_word_char(char c);

/// Names what stands at an error position, for "found `...`".
std::string describe_found(std::string_view text, std::size_t at);

/// When an error is found at the first token of a line, the author most often left
/// something out at the end of the code before it: gives where the caret belongs.
std::size_t end_of_code_before(std::string_view text, std::size_t statement, std::size_t at);

/// Gives the token at `at` as an author sees it: a word, a number, or one character.
std::string_view token_at(std::string_view text, std::size_t at);

/// Tells whether code stands before `at` on its line.
bool has_code_before_on_line(std::string_view text, std::size_t at);

/// After an error, gives where the next line that starts a statement starts.
std::size_t next_statement(std::string_view text, std::size_t from, bool test_file);

/// What the parser expected where it stopped, as bit flags: the fix guesses work from
/// these, not from the message.
namespace expects {
inline constexpr unsigned purpose = 1U << 0;  // a place that names `purpose`
inline constexpr unsigned quoted_string = 1U << 1;
inline constexpr unsigned declaration = 1U << 2;  // a statement
inline constexpr unsigned effect = 1U << 3;       // an effect, or a rule after its name
inline constexpr unsigned name_after_comma = 1U << 4;
inline constexpr unsigned rule_end = 1U << 5;     // `cites` or the rest of a rule
inline constexpr unsigned case_field = 1U << 6;   // a test case's field or `expect`
inline constexpr unsigned exclude_end = 1U << 7;  // `cites` after an exclusion
inline constexpr unsigned condition = 1U << 8;
inline constexpr unsigned nesting = 1U << 9;  // a condition nested too deeply
inline constexpr unsigned name = 1U << 10;    // a name to declare or in a list
}  // namespace expects

/// Guesses a fix for the commonest slips, from what was expected (`expects` flags) and
/// the token found.
void add_parse_help(std::string_view text, std::size_t at, bool after_statement, unsigned expected,
                    Diagnostic& d);

/// Refuses text that is not UTF-8 (E103), one error per run of bad bytes, in place of the
/// parse errors the same bytes caused.
void check_utf8(std::string_view text, std::size_t max_errors, std::vector<Diagnostic>& out);

}  // namespace clause::dsl::parsing
