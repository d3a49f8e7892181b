// The front end as one call: limits, parse, check, then the diagnostics cleaned up and
// sorted. The cleaning works from the diagnostics' codes and subjects, never their text.
#include "clause/dsl/front_end.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>
#include <string_view>

namespace clause::dsl {
namespace {

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Drops the checker's diagnostics that only follow from text the parser skipped: a name
// or clause declared in a broken statement is not "unknown", nor a header "missing".
void drop_cascades(std::string_view text, const std::vector<Span>& skipped,
                   std::vector<Diagnostic>& check_diagnostics) {
  if (skipped.empty()) return;
  // A skipped statement may be leftover text on the line of the statement it belongs to.
  const auto line_start = [&](std::uint32_t at) -> std::uint32_t {
    const std::size_t nl = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
    return nl == std::string_view::npos ? 0 : static_cast<std::uint32_t>(nl + 1);
  };
  // The first word of a skipped statement says what it was declaring.
  const auto first_word = [&](Span span) {
    std::size_t at = line_start(span.begin);
    while (at < span.end && std::isspace(static_cast<unsigned char>(text[at])))
      ++at;
    std::size_t end = at;
    while (end < span.end && is_word_char(text[end]))
      ++end;
    return text.substr(at, end - at);
  };
  // Whether `word` stands as a whole word (or, quoted, as a clause id) in skipped text.
  const auto in_skipped = [&](std::string_view word, bool quoted,
                              std::initializer_list<std::string_view> kinds) {
    for (const Span span : skipped) {
      const std::string_view kind = first_word(span);
      if (kinds.size() > 0 && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
      const std::uint32_t begin = line_start(span.begin);
      const std::string_view part = text.substr(begin, span.end - begin);
      const std::string needle = quoted ? fmt::format("\"{}\"", word) : std::string(word);
      for (std::size_t at = part.find(needle); at != std::string_view::npos;
           at = part.find(needle, at + 1)) {
        const bool left = at == 0 || !is_word_char(part[at - 1]);
        const std::size_t end = at + needle.size();
        const bool right = end >= part.size() || !is_word_char(part[end]);
        if (quoted || (left && right)) return true;
      }
    }
    return false;
  };
  const bool header_skipped = std::any_of(skipped.begin(), skipped.end(),
                                          [&](Span span) { return first_word(span) == "policy"; });
  std::erase_if(check_diagnostics, [&](const Diagnostic& d) {
    if (d.code == "E201") return header_skipped;
    if (d.code == "E211") {
      return in_skipped(d.subject, false,
                        {"data", "requester", "action", "purpose", "fact", "consent"});
    }
    if (d.code == "E220") return in_skipped(d.subject, true, {"clause"});
    if (d.code == "W001") return in_skipped(d.subject, true, {});
    return false;
  });
}

Diagnostic limit_error(std::string code, std::string message, Span span, std::string help) {
  return {Severity::error, std::move(code), std::move(message), span, {}, std::move(help)};
}

}  // namespace

FrontEnd analyze(const SourceFile& file, const FrontEndOptions& options) {
  FrontEnd out;
  if (file.text.size() > options.max_policy_bytes) {
    out.diagnostics.push_back(
        limit_error("E003",
                    fmt::format("the policy is {} bytes long; the limit is {}", file.text.size(),
                                options.max_policy_bytes),
                    Span{}, "split the policy, or raise the limit (`--max-policy-bytes`)"));
    return out;
  }
  ParseResult parsed = parse(file, options.parse);
  out.tree = std::move(parsed.policy);
  out.syntax_ok = parsed.diagnostics.empty();
  if (out.tree.rules.size() > options.max_rules) {
    // Checked before the checker and the index see them, which cost time per rule.
    const Span at = out.tree.rules[options.max_rules].span;
    out.diagnostics.push_back(limit_error("E291",
                                          fmt::format("the policy has {} rules; the limit is {}",
                                                      out.tree.rules.size(), options.max_rules),
                                          Span{at.begin, at.begin},
                                          "split the policy, or raise the limit (`--max-rules`)"));
    return out;
  }
  CheckResult checked = check(out.tree);
  drop_cascades(file.text, parsed.skipped, checked.diagnostics);
  ast::apply_suppressions(out.tree.suppressions, checked.diagnostics);
  out.diagnostics = std::move(parsed.diagnostics);
  out.diagnostics.insert(out.diagnostics.end(),
                         std::make_move_iterator(checked.diagnostics.begin()),
                         std::make_move_iterator(checked.diagnostics.end()));
  sort_by_position(out.diagnostics);
  if (!has_errors(out.diagnostics)) out.checked = std::move(checked.policy);
  return out;
}

}  // namespace clause::dsl

namespace clause::ast {

void apply_suppressions(const std::vector<Suppression>& suppressions,
                        std::vector<Diagnostic>& diagnostics) {
  std::erase_if(diagnostics, [&](const Diagnostic& d) {
    if (d.severity != Severity::warning) return false;
    return std::any_of(suppressions.begin(), suppressions.end(), [&](const Suppression& s) {
      return d.span.begin >= s.span.begin && d.span.begin < s.span.end &&
             std::any_of(s.codes.begin(), s.codes.end(),
                         [&](const Name& c) { return c.text == d.code; });
    });
  });
}

}  // namespace clause::ast
