// SARIF 2.1.0 logs (OASIS): one run of the tool `clause`, a rule per diagnostic code or
// finding kind, and a result per diagnostic, refuted assertion or finding.
#include "sarif.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>

#include "clause/dsl/check.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

// The short description of each diagnostic code, as the table of docs/errors.md gives it
// (tests/cli/check_formats.py holds the two together).
const std::map<std::string, std::string, std::less<>>& code_descriptions() {
  static const std::map<std::string, std::string, std::less<>> codes = {
      {"E001", "internal error while compiling; not caused by the policy"},
      {"E002", "a `PolicyStore` cannot read its policy file"},
      {"E003", "the policy is larger than the limit on a policy's size"},
      {"E101", "syntax error: the text of a policy or test file does not follow the grammar"},
      {"E102", "a name is longer than the limit on a name's length"},
      {"E103", "the text of a policy or test file is not valid UTF-8"},
      {"E201", "the policy has no header"},
      {"E202", "the policy has a second header"},
      {"E203", "a clause id is declared twice"},
      {"E204", "a clause id is empty"},
      {"E210", "a name is declared twice in the same kind"},
      {"E211", "a name is not declared"},
      {"E212", "a name of the wrong kind is used"},
      {"E213", "a data category or requester kind is its own ancestor"},
      {"E220", "a rule or declaration cites a clause that is not declared"},
      {"E221", "a rule other than `deny`, or a declaration, cites `default`"},
      {"E230", "a rule name is used twice"},
      {"E240", "a condition reads an attribute that is not declared"},
      {"E241", "an attribute is declared twice"},
      {"E242", "an attribute's type is unknown"},
      {"E243", "a comparison's sides have different types"},
      {"E244", "an order comparison on a type without order, or a list compared"},
      {"E245", "a duration on a value that is not a date or time, an unknown unit, or too long"},
      {"E246", "a malformed date or date-time"},
      {"E247", "an attribute named like a field every request has"},
      {"E248", "a date on a rule or clause, and no `context.time`"},
      {"E249", "obligations on a rule that is not `allow`"},
      {"E250", "a second `effective from`"},
      {"E251", "a comparison names a name that is not in the attribute's name set"},
      {"E252", "a name set declared twice, named like a type, or with a name twice"},
      {"E253", "a range on a type other than `integer`, an empty range, or a bound out of range"},
      {"E254", "a document declared twice, or at a path outside the policy's folder"},
      {"E255",
       "an attribute read from an unknown document, or by a key that is not a string attribute the "
       "request gives"},
      {"E256", "a document cannot be read, is too large, or the policy declares too many"},
      {"E257",
       "a document is not valid JSON, or an entry does not fit the attributes that read it"},
      {"E290", "a condition is too deeply nested to compile"},
      {"E291", "the policy has more rules than the limit on rules"},
      {"E401", "a test file names no policy"},
      {"E402", "the policy that a test file names cannot be read"},
      {"W000", "the linter stopped; not caused by the policy"},
      {"W001", "a clause is declared but nothing cites it"},
      {"W002", "a declared name that no rule names"},
      {"W003", "a rule repeats an earlier rule"},
      {"W004",
       "a rule can never decide: rules of higher precedence decide every request it matches"},
      {"W005", "a rule's condition can never be true"},
      {"W006", "granting a consent can take an allow away"},
      {"W007", "a comparison that an integer's range decides alone"},
  };
  return codes;
}

// A file name as a URI reference: relative names stay relative; every byte outside the
// unreserved characters and `/` is percent-encoded (`<stdin>` becomes `%3Cstdin%3E`).
std::string uri_of(std::string_view name) {
  std::string out;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    out += plain ? std::string(1, ch) : fmt::format("%{:02X}", c);
  }
  return out;
}

// The 1-based line and column of a byte offset, the column counted in Unicode code points
// (run.columnKind says so): SARIF has no byte columns, and our diagnostics count bytes.
LineColumn code_point_position(std::string_view text, std::uint32_t offset) {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
  const LineColumn bytes = line_column(text, offset);
  const std::uint32_t line_start = offset - (bytes.column - 1);
  std::uint32_t column = 1;
  for (std::uint32_t i = line_start; i < offset; ++i) {
    // Continuation bytes (10xxxxxx) belong to the code point their lead byte starts.
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return {bytes.line, column};
}

nlohmann::ordered_json region_of(std::string_view text, Span span) {
  const LineColumn b = code_point_position(text, span.begin);
  const LineColumn e = code_point_position(text, std::max(span.begin, span.end));
  return {{"startLine", b.line},
          {"startColumn", b.column},
          {"endLine", e.line},
          {"endColumn", e.column}};
}

nlohmann::ordered_json location_of(const SourceFile& file, Span span) {
  return {{"physicalLocation",
           {{"artifactLocation", {{"uri", uri_of(file.name)}}},
            {"region", region_of(file.text, span)}}}};
}

// Gathers the rules in order of first use, and the results that cite them by index.
class LogBuilder {
 public:
  // Adds a result of rule `id`; gives it, for the caller to fill in.
  nlohmann::ordered_json& add(const std::string& id, std::string_view description,
                              std::string_view level, std::string message) {
    auto [at, fresh] = index_.emplace(id, rules_.size());
    if (fresh) {
      rules_.push_back({{"id", id}, {"shortDescription", {{"text", description}}}});
    }
    results_.push_back({{"ruleId", id},
                        {"ruleIndex", at->second},
                        {"level", level},
                        {"message", {{"text", std::move(message)}}}});
    return results_.back();
  }

  [[nodiscard]] nlohmann::ordered_json log() && {
    nlohmann::ordered_json driver = {{"name", "clause"}, {"version", std::string(version)}};
    driver["rules"] = std::move(rules_);
    return {{"$schema",
             "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
             "sarif-schema-2.1.0.json"},
            {"version", "2.1.0"},
            {"runs",
             {{{"tool", {{"driver", std::move(driver)}}},
               {"columnKind", "unicodeCodePoints"},
               {"results", std::move(results_)}}}}};
  }

 private:
  std::map<std::string, std::size_t> index_;
  nlohmann::ordered_json rules_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json results_ = nlohmann::ordered_json::array();
};

// The name a `did you mean `NAME`?` help offers, when that is all the help says.
std::optional<std::string> offered_name(std::string_view help) {
  constexpr std::string_view head = "did you mean `";
  constexpr std::string_view tail = "`?";
  if (help.size() <= head.size() + tail.size() || !help.starts_with(head) ||
      !help.ends_with(tail)) {
    return std::nullopt;
  }
  const std::string_view name = help.substr(head.size(), help.size() - head.size() - tail.size());
  if (name.find('`') != std::string_view::npos) return std::nullopt;
  return std::string(name);
}

}  // namespace

nlohmann::ordered_json sarif_diagnostics(const SourceFile& file,
                                         const std::vector<Diagnostic>& diagnostics) {
  LogBuilder log;
  for (const Diagnostic& d : diagnostics) {
    const SourceFile& shown = d.file ? *d.file : file;
    const auto known = code_descriptions().find(d.code);
    const std::string_view description =
        known != code_descriptions().end() ? std::string_view(known->second) : "a diagnostic";
    // A fix only where the region is one name, as the guesses of misspelt names have: a
    // region of other text (quotes, blanks) would not be the name's to replace.
    const std::string_view spanned =
        d.span.begin < d.span.end && d.span.end <= shown.text.size()
            ? std::string_view(shown.text).substr(d.span.begin, d.span.end - d.span.begin)
            : std::string_view();
    const bool one_name =
        !spanned.empty() && std::all_of(spanned.begin(), spanned.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' ||
                 c == '-';
        });
    const std::optional<std::string> replacement = one_name ? offered_name(d.help) : std::nullopt;
    // A help that is not a replacement is advice for a person: it joins the message.
    std::string message = d.message;
    if (!d.help.empty() && !replacement) message += fmt::format(" (help: {})", d.help);
    nlohmann::ordered_json& result =
        log.add(d.code, description, d.severity == Severity::error ? "error" : "warning", message);
    result["locations"] = {location_of(shown, d.span)};
    if (!d.notes.empty()) {
      nlohmann::ordered_json related = nlohmann::ordered_json::array();
      for (std::size_t i = 0; i < d.notes.size(); ++i) {
        nlohmann::ordered_json at = location_of(shown, d.notes[i].span);
        at["id"] = i;
        at["message"] = {{"text", d.notes[i].message}};
        related.push_back(std::move(at));
      }
      result["relatedLocations"] = std::move(related);
    }
    if (replacement) {
      result["fixes"] = {{{"description", {{"text", d.help}}},
                          {"artifactChanges",
                           {{{"artifactLocation", {{"uri", uri_of(shown.name)}}},
                             {"replacements",
                              {{{"deletedRegion", region_of(shown.text, d.span)},
                                {"insertedContent", {{"text", *replacement}}}}}}}}}}};
    }
  }
  return std::move(log).log();
}

nlohmann::ordered_json sarif_verify(const std::string& path, const Policy& policy,
                                    const std::vector<AssertionResult>& results) {
  const SourceFile shown{path, policy.source().text};
  const auto& assertions = policy.checked().assertions;
  LogBuilder log;
  for (std::size_t i = 0; i < results.size() && i < assertions.size(); ++i) {
    const AssertionResult& r = results[i];
    const Span span = assertions[i].span;
    if (r.proved) {
      // A proof is a result of kind `pass` (level `none`): the log records every
      // assertion, and code-scanning tools show only failures.
      nlohmann::ordered_json& result =
          log.add("assertion", "an assertion of the policy holds for every request", "none",
                  fmt::format("proved: {}", r.text));
      result["kind"] = "pass";
      result["locations"] = {location_of(shown, span)};
      result["properties"] = {{"regions", r.regions}};
      continue;
    }
    std::string message;
    nlohmann::ordered_json properties = {{"regions", r.regions}};
    if (r.counterexample) {
      const nlohmann::json request = request_json(*r.counterexample);
      message = fmt::format("not proved: {}; counterexample {} is decided {}{}, citing {}{}",
                            r.text, request.dump(), to_string(r.effect),
                            r.consent.empty() ? "" : fmt::format(" `{}`", r.consent), r.clause,
                            r.rule.empty() ? "" : fmt::format(", by rule {}", r.rule));
      properties["counterexample"] = request;
      properties["decision"] = {
          {"decision", to_string(r.effect)}, {"clause", r.clause}, {"rule", r.rule}};
      if (!r.consent.empty()) properties["decision"]["consent"] = r.consent;
    } else {
      message = fmt::format("not proved: {}; too many facts to enumerate in one region", r.text);
    }
    nlohmann::ordered_json& result = log.add(
        "assertion", "an assertion of the policy holds for every request", "error", message);
    result["locations"] = {location_of(shown, span)};
    result["properties"] = std::move(properties);
  }
  return std::move(log).log();
}

nlohmann::ordered_json sarif_analysis(const std::string& path, const Policy& policy,
                                      const Analysis& a, const std::vector<NeverDecides>& never) {
  const SourceFile shown{path, policy.source().text};
  const dsl::CheckedPolicy& c = policy.checked();
  LogBuilder log;
  for (const Conflict& k : a.conflicts) {
    const auto& x = c.rules[k.first];
    const auto& y = c.rules[k.second];
    nlohmann::ordered_json& result = log.add(
        "conflict", "two rules with different effects match common requests", "warning",
        fmt::format("rules {} and {} (clauses {} and {}) decide {} common requests differently; "
                    "resolved by rule {}",
                    x.id, y.id, c.clauses[x.clause].id, c.clauses[y.clause].id, k.requests,
                    c.rules[k.decided_by].id));
    result["locations"] = {location_of(shown, x.span)};
    nlohmann::ordered_json other = location_of(shown, y.span);
    other["id"] = 0;
    other["message"] = {{"text", fmt::format("rule {}", y.id)}};
    result["relatedLocations"] = {std::move(other)};
    result["properties"] = {{"requests", k.requests}, {"witness", request_json(k.witness)}};
  }
  for (const NeverDecides& n : never) {
    const auto known = code_descriptions().find(n.code);
    nlohmann::ordered_json& result =
        log.add(n.code, known != code_descriptions().end() ? known->second : "a rule never decides",
                "warning", fmt::format("rule {} can never decide", c.rules[n.rule].id));
    result["locations"] = {location_of(shown, c.rules[n.rule].span)};
  }
  for (const DefaultRegion& d : a.defaults) {
    // No rule stands for these requests: the result points at the file alone.
    nlohmann::ordered_json& result =
        log.add("default", "requests that no rule permits are denied by default", "note",
                fmt::format("{} of {} by {}: {} requests denied by default", join_names(d.actions),
                            join_names(d.data), join_names(d.requesters), d.requests));
    result["locations"] = {{{"physicalLocation", {{"artifactLocation", {{"uri", uri_of(path)}}}}}}};
    result["properties"] = {{"requests", d.requests}, {"witness", request_json(d.witness)}};
  }
  for (const WideRule& w : a.wide) {
    nlohmann::ordered_json& result = log.add(
        "wide", "a permission covers a quarter or more of the in-scope data", "note",
        fmt::format("rule {} (clause {}) allows {} of {} data and requester pairs",
                    c.rules[w.rule].id, c.clauses[c.rules[w.rule].clause].id, w.pairs, w.of));
    result["locations"] = {location_of(shown, c.rules[w.rule].span)};
    result["properties"] = {{"pairs", w.pairs}, {"of", w.of}, {"witness", request_json(w.witness)}};
  }
  return std::move(log).log();
}

}  // namespace clause::cli
