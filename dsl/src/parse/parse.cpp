// Stage: parse. The statement loop of the parser: each statement is parsed alone with the
// grammar (grammar.hpp, test_grammar.hpp), its messages (grammar_errors.hpp) and actions
// (parse_actions.hpp, test_actions.hpp); after an error, recovery.hpp says where to
// resume. This file and the headers it includes are the only ones that see PEGTL.
#include "clause/dsl/parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "parse/grammar_errors.hpp"
#include "parse/parse_actions.hpp"
#include "parse/recovery.hpp"
#include "parse/test_actions.hpp"

namespace clause::dsl {
namespace parsing {
namespace {

// Parses statement after statement; after an error, reports it and resumes at the next
// line that starts a statement, so that one run shows several mistakes.
template <typename Statement>
std::vector<Diagnostic> parse_statements(std::string_view text, const State& blank,
                                         std::vector<Span>& skipped,
                                         std::string_view not_a_statement, bool test_file) {
  std::vector<Diagnostic> diagnostics;
  State st = blank;
  // A byte order mark is how some editors mark UTF-8; it is not part of the text.
  std::size_t pos = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  {
    pegtl::memory_input in(text.data() + pos, text.data() + text.size(), "");
    (void)pegtl::parse<grammar::sep, action, grammar::control>(in, st);
    pos = static_cast<std::size_t>(in.current() - text.data());
  }
  while (pos < text.size()) {
    st = blank;  // each statement starts from a clean slate
    pegtl::memory_input in(text.data() + pos, text.data() + text.size(), "");
    std::optional<std::size_t> error_at;
    std::string message;
    bool name_too_long = false;
    bool no_statement = false;  // no statement starts here
    unsigned expected = test_file ? 0 : expects::declaration | expects::purpose;
    try {
      if (pegtl::parse<Statement, action, grammar::control>(in, st)) {
        pos = static_cast<std::size_t>(in.current() - text.data());
      } else {
        error_at = pos;
        message = std::string(not_a_statement);
        no_statement = true;
      }
    } catch (const pegtl::parse_error& e) {
      error_at = pos + (e.positions().empty() ? 0 : e.positions().front().byte);
      message = std::string(e.message());
      name_too_long = dynamic_cast<const NameTooLong*>(&e) != nullptr;
      const auto* stop = dynamic_cast<const grammar::ParseStop*>(&e);
      expected = stop != nullptr ? stop->expected : 0;
    }
    if (!error_at) continue;

    std::size_t at = *error_at;
    if (name_too_long) {
      // Not a grammar mistake: the name itself is at fault, so the caret stays on it.
      Diagnostic d;
      d.code = "E102";
      d.message = message;
      d.span = Span{static_cast<std::uint32_t>(at),
                    static_cast<std::uint32_t>(at + token_at(text, at).size())};
      d.help = "use a shorter name, or raise the limit (`--max-name-length`)";
      diagnostics.push_back(std::move(d));
      if (diagnostics.size() >= blank.limits->max_errors) break;
      const std::size_t resume = next_statement(text, pos, test_file);
      skipped.push_back(Span{static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(resume)});
      pos = resume;
      continue;
    }
    const bool not_a_statement_here = at == pos && no_statement;
    // Leftover text on the line of a complete statement is not a new statement.
    const bool after_statement = not_a_statement_here && has_code_before_on_line(text, at);
    if (!not_a_statement_here) at = end_of_code_before(text, pos, at);

    Diagnostic d;
    d.code = "E101";
    const std::string found = at == *error_at ? describe_found(text, at) : "end of line";
    d.message = after_statement ? fmt::format("unexpected {} after the end of a statement",
                                              found.starts_with("a ") ? found.substr(2) : found)
                                : fmt::format("{}, found {}", message, found);
    d.span = Span{static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(at)};
    if (at == *error_at && at < text.size() && text[at] != '\n') {
      // Underline the whole token that was not expected.
      const std::string_view token = token_at(text, at);
      d.span.end = static_cast<std::uint32_t>(at + std::max<std::size_t>(1, token.size()));
    }
    // After a statement, the message is no longer the expectation's.
    add_parse_help(text, at, after_statement, after_statement ? 0 : expected, d);
    diagnostics.push_back(std::move(d));
    if (diagnostics.size() >= blank.limits->max_errors) break;
    // Resume at the first line after the broken statement's start that starts a statement:
    // the error is often found only at the next statement's first word.
    const std::size_t resume = next_statement(text, pos, test_file);
    skipped.push_back(Span{static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(resume)});
    pos = resume;
  }
  return diagnostics;
}

}  // namespace
}  // namespace parsing

ParseResult parse(const SourceFile& file, const ParseLimits& limits) {
  ParseResult result;
  parsing::State blank;
  blank.base = file.text.data();
  blank.limits = &limits;
  blank.policy = &result.policy;
  blank.comments = &result.policy.comments;
  result.diagnostics = parsing::parse_statements<grammar::statement_then_sep>(
      file.text, blank, result.skipped,
      "expected a declaration (policy, clause, data, requester, action, purpose, fact, "
      "consent), a rule (allow, deny, require consent, exclude, otherwise) or an assertion "
      "(assert)",
      false);
  parsing::check_utf8(file.text, limits.max_errors, result.diagnostics);
  return result;
}

TestParseResult parse_tests(const SourceFile& file, const ParseLimits& limits) {
  TestParseResult result;
  parsing::State blank;
  blank.base = file.text.data();
  blank.limits = &limits;
  blank.tests = &result.tests;
  blank.comments = &result.tests.comments;
  std::vector<Span> skipped;
  std::vector<Diagnostic> found;
  blank.found = &found;
  result.diagnostics = parsing::parse_statements<grammar::test_statement_then_sep>(
      file.text, blank, skipped, "expected `tests for \"POLICY\"` or a `case \"NAME\"`", true);
  result.diagnostics.insert(result.diagnostics.end(), found.begin(), found.end());
  sort_by_position(result.diagnostics);
  parsing::check_utf8(file.text, limits.max_errors, result.diagnostics);
  return result;
}

}  // namespace clause::dsl
