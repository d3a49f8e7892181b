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

/// Guesses a fix for the commonest slips, from the message and the token found.
void add_parse_help(std::string_view text, std::size_t at, bool after_statement, Diagnostic& d);

/// Refuses text that is not UTF-8 (E103), one error per run of bad bytes, in place of the
/// parse errors the same bytes caused.
void check_utf8(std::string_view text, std::size_t max_errors, std::vector<Diagnostic>& out);

}  // namespace clause::dsl::parsing
