// Stage: parse. Guesses a fix for the commonest slips after a parse error.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "clause/dsl/check.hpp"
#include "clause/dsl/keywords.hpp"
#include "parse/recovery.hpp"

namespace clause::dsl::parsing {
namespace {

// Whether the statement that `at` is in has a `when` before `at`. A statement starts on a
// line that does not start with white space; its continuation lines are indented.
bool statement_has_when(std::string_view text, std::size_t at) {
  std::size_t start = at;
  while (start > 0) {
    const std::size_t line = text.rfind('\n', start - 1);
    start = line == std::string_view::npos ? 0 : line + 1;
    if (start >= text.size() || (text[start] != ' ' && text[start] != '\t')) break;
    if (start == 0) break;
    --start;
  }
  const std::string_view before = text.substr(start, at - start);
  for (std::size_t i = before.find("when"); i != std::string_view::npos;
       i = before.find("when", i + 1)) {
    const bool starts = i == 0 || !is_word_char(before[i - 1]);
    const bool ends = i + 4 >= before.size() || !is_word_char(before[i + 4]);
    if (starts && ends) return true;
  }
  return false;
}

// The words a policy statement starts with, in table order.
std::vector<std::string_view> statement_words() {
  std::vector<std::string_view> out;
  for (const Keyword& k : keywords) {
    if (k.starts_statement) out.push_back(k.word);
  }
  return out;
}

}  // namespace

void add_parse_help(std::string_view text, std::size_t at, bool after_statement, unsigned expected,
                    Diagnostic& d) {
  const std::string_view token = token_at(text, at);
  const char c = token.empty() ? '\0' : token[0];
  // The caret stands after the last word of its line.
  const bool at_end = c == '\0' || c == '\n' || c == '\r' || c == ' ' || c == '\t' || c == '#';
  static const std::vector<std::string_view> starts = statement_words();
  static const std::vector<std::pair<std::string_view, std::string_view>> synonyms = {
      {"permit", "allow"},     {"grant", "allow"},    {"forbid", "deny"},
      {"prohibit", "deny"},    {"reject", "deny"},    {"refuse", "deny"},
      {"requires", "require"}, {"else", "otherwise"}, {"default", "otherwise"}};
  const auto wants = [&](unsigned what) { return (expected & what) != 0; };
  const auto guess = [&](const std::vector<std::string_view>& words) {
    for (const auto& [word, meant] : synonyms) {
      if (token == word && std::find(words.begin(), words.end(), meant) != words.end()) {
        return std::string(meant);
      }
    }
    std::string g = closest_name(token, words);
    return g == token ? std::string() : g;
  };
  if (c != '\0' && static_cast<unsigned char>(c) >= 0x80) {
    d.help = "names use ASCII letters, digits and `_`; other characters belong in quoted strings";
  } else if (c == '=' && wants(expects::purpose)) {
    d.help = "write `purpose is NAME`, or `purpose in (NAME, NAME)`";
  } else if (c == '\'') {
    d.help = "strings are written in double quotes: \"...\"";
  } else if (wants(expects::quoted_string) && is_word_char(c)) {
    d.help = fmt::format("write it in double quotes: \"{}\"", token);
  } else if (after_statement) {
    if (c == ':') {
      d.help = "a parent is written `under PARENT`, as in `data contact_info under personal_info`";
    } else if (c == ';') {
      d.help = "a statement ends where the next one starts; remove the `;`";
    } else if (c == '-') {
      d.help = "names cannot contain `-`; use `_`, as in `contact_info`";
    } else if (token == "under") {
      // Only data categories and requester kinds have parents.
      std::size_t line = text.rfind('\n', at == 0 ? 0 : at - 1);
      line = line == std::string_view::npos ? 0 : line + 1;
      const std::string_view statement = text.substr(line).substr(0, 10);
      d.help = statement.starts_with("data ") || statement.starts_with("requester ")
                   ? "`under PARENT` comes before `cites`"
                   : "only `data` and `requester` declarations have a parent (`under PARENT`)";
    } else if (token == "cites") {
      d.help = "only `data`, `requester` and `consent` declarations, and rules, cite a clause";
    } else if (token == "when") {
      d.help = "the condition (`when ...`) comes before `cites`";
    } else if (c == ')') {
      d.help = "this `)` has no matching `(`";
    } else if (is_word_char(c)) {
      const std::string g = guess(starts);
      d.help = g.empty() ? "separate the names of a list with `,`"
                         : fmt::format("did you mean `{}`?", g);
    }
  } else if (wants(expects::declaration)) {
    if (token == "import" || token == "include") {
      d.help = "a policy is one file; there is nothing to import";
    } else if (const std::string g = guess(starts); !g.empty()) {
      d.help = fmt::format("did you mean `{}`?", g);
    }
  } else if (wants(expects::effect)) {
    if (token == "exclude") {
      d.help = "an exclusion has no fall-back form; remove `otherwise`";
    } else if (const std::string g = guess({"allow", "deny", "require", "exclude", "otherwise"});
               !g.empty()) {
      d.help = fmt::format("did you mean `{}`?", g);
    }
  } else if (wants(expects::name_after_comma) && at_end) {
    d.help = "a list cannot end with `,`: remove it, or add the missing name";
  } else if (c == '-' && wants(expects::rule_end)) {
    d.help = "names cannot contain `-`; use `_`, as in `contact_info`";
  } else if (wants(expects::rule_end)) {
    if (token == "of" || token == "by") {
      d.help =
          "a rule's parts come in this order: actions, `of` data, `by` requesters, "
          "`when` condition, `cites`";
    } else if (c == ',') {
      d.help = "join conditions with `and` or `or`";
    } else if (c == ')') {
      d.help = "this `)` has no matching `(`";
    } else if (token == "unless") {
      d.help = "`unless` belongs to assertions; in a rule, write `when not (CONDITION)`";
    } else if (is_word_char(c) && token != "when" && token != "cites" &&
               statement_has_when(text, at)) {
      // After `when`, a word that is neither `and`, `or` nor `cites` continues the
      // condition as if in English (`when minor for 30 days`).
      d.help =
          "a condition is facts, consents and the purpose joined with `and`, `or` and `not`; "
          "a fact is true or false and takes no number or duration; `cites` comes next";
    } else if (is_word_char(c) && token != "when" && token != "cites") {
      d.help = "separate the names of a list with `,`";
    }
  } else if (wants(expects::case_field) && at_end) {
    d.help = "a case ends with `expect DECISION cites \"ID\"`, as in `expect allow cites \"1\"`";
  } else if (wants(expects::exclude_end)) {
    d.help = "to exclude data only under a condition, write a permission: `allow ... when ...`";
  } else if (wants(expects::condition) && (token == "cites" || at_end)) {
    d.help = "write a condition after `when`, or remove `when`";
  } else if (wants(expects::nesting)) {
    d.help = "split the condition over several rules";
  } else if (is_reserved(token) && wants(expects::name)) {
    d.help = fmt::format("`{}` is a reserved word and cannot name anything", token);
  }
}

}  // namespace clause::dsl::parsing
