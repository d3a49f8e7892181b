// The command `explain`: one decision told for a person: the answer, the clause's words,
// the deciding rule, the rules that lost and why, and the near misses.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "clause/clause.hpp"
#include "clause/dsl/check.hpp"
#include "clause/near_miss.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

// ANSI styles, used only when stdout is a terminal and NO_COLOR is not set.
struct Style {
  bool on = false;
  std::string wrap(std::string_view text, const char* code) const {
    return on ? fmt::format("\033[{}m{}\033[0m", code, text) : std::string(text);
  }
  std::string bold(std::string_view t) const { return wrap(t, "1"); }
  std::string dim(std::string_view t) const { return wrap(t, "2"); }
  std::string effect(Effect e) const {
    const std::string word = std::string(to_string(e));
    switch (e) {
      case Effect::allow:
        return wrap(word, "1;32");
      case Effect::deny:
        return wrap(word, "1;31");
      case Effect::require_consent:
        return wrap(word, "1;33");
    }
    return word;
  }
};

// Collects the leaves a condition reads.
void leaves(const dsl::CheckedCond& cond, std::vector<const dsl::CheckedCond*>& out) {
  if (cond.children.empty()) {
    out.push_back(&cond);
    return;
  }
  for (const auto& child : cond.children)
    leaves(child, out);
}

// One change to the request that would make a rule's condition true.
struct Change {
  std::string what;  // e.g. "`deemed_appropriate` were true"
  Request request;
};

std::vector<Change> single_changes(const dsl::CheckedPolicy& c, const dsl::CheckedCond& cond,
                                   const Request& base) {
  std::vector<const dsl::CheckedCond*> atoms;
  leaves(cond, atoms);
  std::vector<Change> out;
  const auto toggle = [](std::vector<std::string>& list, const std::string& name) {
    auto it = std::find(list.begin(), list.end(), name);
    if (it == list.end()) {
      list.push_back(name);
      return true;
    }
    list.erase(it);
    return false;
  };
  for (const dsl::CheckedCond* atom : atoms) {
    switch (atom->kind) {
      case ast::CondKind::fact: {
        Change ch{"", base};
        const std::string& name = c.facts[atom->ids.at(0)].name;
        const bool now = toggle(ch.request.facts, name);
        ch.what = fmt::format("`{}` were {}", name, now ? "true" : "false");
        out.push_back(std::move(ch));
        break;
      }
      case ast::CondKind::consent: {
        Change ch{"", base};
        const std::string& name = c.consents[atom->ids.at(0)].name;
        const bool now = toggle(ch.request.consent, name);
        ch.what = fmt::format("consent `{}` were {}", name, now ? "granted" : "not granted");
        out.push_back(std::move(ch));
        break;
      }
      case ast::CondKind::objected: {
        Change ch{"", base};
        const std::string& name = c.objections[atom->ids.at(0)].name;
        const bool now = toggle(ch.request.objections, name);
        ch.what = fmt::format("objection `{}` were {}", name, now ? "made" : "not made");
        out.push_back(std::move(ch));
        break;
      }
      case ast::CondKind::purpose_is:
      case ast::CondKind::purpose_in:
        for (const std::uint32_t id : atom->ids) {
          if (base.purpose == c.purposes[id].name) continue;
          Change ch{fmt::format("the purpose were `{}`", c.purposes[id].name), base};
          ch.request.purpose = c.purposes[id].name;
          out.push_back(std::move(ch));
        }
        break;
      default:
        // Attribute comparisons: which values would flip them is not searched yet.
        break;
    }
  }
  return out;
}

}  // namespace

int run_explain(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("explain");
  }
  Args args(argv, "explain");
  if (args.error()) return usage_error("explain", *args.error());
  const auto policy_path = args.option("policy");
  const bool json = args.format() == "json";
  if (policy_path == "-" && (args.positional().empty() || args.positional()[0] == "-")) {
    return usage_error("explain", "stdin (`-`) can be read only once: name the request file");
  }
  if (!policy_path || args.positional().size() > 1) {
    fmt::print(stderr,
               "clause explain: expected --policy FILE and one REQUEST.json (or `-`)\n"
               "run `clause explain --help` for usage\n");
    return exit_usage;
  }
  const std::optional<Policy> compiled = load_policy(*policy_path);
  if (!compiled) return exit_failed;
  const Policy& policy = *compiled;
  const std::string input = args.positional().empty() ? "-" : args.positional()[0];
  const auto text = read_request_text(input);
  if (!text) {
    fmt::print(stderr, "clause explain: cannot read `{}`\n", input);
    return exit_invalid_input;
  }
  Style s;
  const char* no_color = std::getenv("NO_COLOR");
  s.on = args.flag("color") || (!args.flag("no-color") && isatty(STDOUT_FILENO) != 0 &&
                                (no_color == nullptr || *no_color == '\0'));

  auto resolved = policy.decode(*text);
  if (!resolved) {
    if (json) {
      const nlohmann::json report = {{"schema_version", schema_version},
                                     {"decision", to_string(Effect::deny)},
                                     {"clause", "default"},
                                     {"error", resolved.error().to_string()}};
      fmt::print("{}\n", report.dump(2));
      return exit_invalid_input;
    }
    fmt::print("{} {}\n  the request is not valid, so it is denied, citing `default`:\n  {}\n",
               s.bold("Decision:"), s.effect(Effect::deny), resolved.error().to_string());
    return exit_invalid_input;
  }
  const Request request = policy.names(*resolved);
  const Decision d = policy.evaluate(*resolved, EvalOptions{.trace = true});
  const dsl::CheckedPolicy& c = policy.checked();
  const auto rule_index = [&](std::string_view id) -> std::int32_t {
    for (std::size_t i = 0; i < c.rules.size(); ++i) {
      if (c.rules[i].id == id) return static_cast<std::int32_t>(i);
    }
    return -1;
  };
  const auto rule_text = [&](std::size_t i) {
    const Span span = c.rules[i].span;
    std::string t(policy.source().text.substr(span.begin, span.end - span.begin));
    std::replace(t.begin(), t.end(), '\n', ' ');
    std::string folded;
    for (char ch : t) {
      if (ch == ' ' && !folded.empty() && folded.back() == ' ') continue;
      folded += ch;
    }
    return folded;
  };
  const auto where = [&](std::size_t i) {
    const LineColumn at = line_column(policy.source().text, c.rules[i].span.begin);
    return fmt::format("{}:{}:{}", policy.source().name, at.line, at.column);
  };

  // The same explanation for programs: built beside the text, printed instead of it.
  nlohmann::json report = {{"schema_version", schema_version},
                           {"request", request_json(request)},
                           {"decision", to_string(d.effect)},
                           {"clause", d.clause},
                           {"clause_words", policy.clause_words(d.clause)}};
  if (d.effect == Effect::require_consent) report["consent"] = d.consent;
  if (!d.obligations.empty()) {
    report["obligations"] = nlohmann::json::array();
    for (const std::string_view o : d.obligations)
      report["obligations"].push_back(o);
  }
  report["decided_by"] = nullptr;
  report["to_allow"] = nlohmann::json::array();
  report["lost"] = nlohmann::json::array();
  report["near_misses"] = nlohmann::json::array();
  const auto rule_json = [&](std::size_t i) {
    return nlohmann::json{
        {"rule", c.rules[i].id}, {"tier", to_string(c.rules[i].tier)}, {"at", where(i)}};
  };
  const auto then_json = [](std::string_view consent, const Decision& then) {
    return nlohmann::json{{"consent", consent},
                          {"decision", to_string(then.effect)},
                          {"clause", then.clause},
                          {"rule", then.rule}};
  };

  std::string out;
  std::string context;
  if (request.purpose) context += fmt::format("purpose `{}`", *request.purpose);
  for (const auto& f : request.facts)
    context += (context.empty() ? "" : ", ") + fmt::format("`{}`", f);
  for (const auto& k : request.consent) {
    context += (context.empty() ? "" : ", ") + fmt::format("consent `{}` granted", k);
  }
  for (const ConsentRecord& k : request.consent_records) {
    context += (context.empty() ? "" : ", ") + fmt::format("consent `{}` given", k.id);
    if (k.expires) context += fmt::format(" until {}", format_date_time(*k.expires));
    if (k.withdrawn) context += fmt::format(", withdrawn {}", format_date_time(*k.withdrawn));
  }
  for (const auto& o : request.objections)
    context += (context.empty() ? "" : ", ") + fmt::format("objected to `{}`", o);
  out += fmt::format(
      "{} `{}` wants to {} `{}`{}\n\n", s.bold("Request:"), request.requester, request.action,
      request.data,
      context.empty() ? " (no purpose, no facts, no consent)" : fmt::format(" ({})", context));
  out += fmt::format("{} {}", s.bold("Decision:"), s.effect(d.effect));
  if (d.effect == Effect::require_consent) out += fmt::format(" `{}`", d.consent);
  if (!d.obligations.empty())
    out += fmt::format(", with duties: {}", fmt::join(d.obligations, ", "));
  out += fmt::format("\n\n{} {}\n  \"{}\"\n", s.bold("Clause"), s.bold(d.clause),
                     wrap_words(policy.clause_words(d.clause), 3, 92));

  const std::int32_t decided = rule_index(d.rule);
  if (decided >= 0) {
    const auto i = static_cast<std::size_t>(decided);
    report["decided_by"] = rule_json(i);
    report["decided_by"]["text"] = rule_text(i);
    out += fmt::format("\n{} {} ({}) at {}\n  {}\n", s.bold("Decided by rule"), d.rule,
                       to_string(c.rules[i].tier), where(i), s.dim(rule_text(i)));
  } else {
    out += fmt::format("\n{} no rule matched, so the request is denied by default.\n",
                       s.bold("Decided by:"));
  }
  if (d.effect == Effect::require_consent) {
    Request granted = request;
    granted.consent.push_back(std::string(d.consent));
    const Decision then = policy.evaluate(granted);
    report["to_allow"].push_back(then_json(d.consent, then));
    out += fmt::format("\n{} grant consent `{}`: the decision is then {}, citing {}.\n",
                       s.bold("To allow it:"), d.consent, s.effect(then.effect), then.clause);
  }
  if (d.effect == Effect::deny) {
    // A deny that one more consent lifts (`deny ... when not consent X`, say): each consent
    // not granted yet is tried, and those that turn the deny into allow are named.
    std::string grants;
    for (const dsl::Term& consent : c.consents) {
      if (std::find(request.consent.begin(), request.consent.end(), consent.name) !=
          request.consent.end()) {
        continue;
      }
      Request granted = request;
      granted.consent.push_back(consent.name);
      const Decision then = policy.evaluate(granted);
      if (then.effect != Effect::allow) continue;
      report["to_allow"].push_back(then_json(consent.name, then));
      grants += fmt::format("  grant consent `{}`: the decision is then {}, citing {} (rule {}).\n",
                            consent.name, s.effect(then.effect), then.clause, then.rule);
    }
    if (!grants.empty()) out += fmt::format("\n{}\n{}", s.bold("To allow it:"), grants);
  }

  std::string lost;
  for (std::size_t i = 0; i < d.trace.size(); ++i) {
    const TraceStep& step = d.trace[i];
    if (step.outcome != Outcome::outranked && step.outcome != Outcome::consent_granted) continue;
    nlohmann::json item = {{"rule", step.rule}, {"tier", to_string(step.tier)}, {"at", where(i)}};
    item["detail"] = step.detail;
    report["lost"].push_back(std::move(item));
    lost += fmt::format("  {} ({}) at {}: {}\n", step.rule, to_string(step.tier), where(i),
                        step.detail);
  }
  if (!lost.empty()) out += fmt::format("\n{}\n{}", s.bold("Also matched, and lost:"), lost);

  std::string near;
  for (std::size_t i = 0; i < d.trace.size(); ++i) {
    if (d.trace[i].outcome != Outcome::condition_false || !c.rules[i].condition) continue;
    for (const Change& ch : single_changes(c, *c.rules[i].condition, request)) {
      auto changed = policy.resolve(ch.request);
      if (!changed) continue;
      const Decision then = policy.evaluate(*changed, EvalOptions{.trace = true});
      if (then.trace.size() <= i || (then.trace[i].outcome != Outcome::decided &&
                                     then.trace[i].outcome != Outcome::outranked &&
                                     then.trace[i].outcome != Outcome::consent_granted)) {
        continue;
      }
      nlohmann::json item = rule_json(i);
      item["change"] = ch.what;
      item["decision"] = to_string(then.effect);
      item["clause"] = then.clause;
      report["near_misses"].push_back(std::move(item));
      near +=
          fmt::format("  {} ({}) at {}: matches if {}; the decision would then be {}, citing {}\n",
                      c.rules[i].id, to_string(c.rules[i].tier), where(i), ch.what,
                      s.effect(then.effect), then.clause);
    }
  }
  if (!near.empty()) {
    out += fmt::format("\n{}\n{}", s.bold("Near misses (one change away):"), near);
  }

  // Attribute values: each other class of the value of an attribute that a rule reads
  // (one that matched or nearly did), where it changes the decision.
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < d.trace.size(); ++i) {
    const Outcome o = d.trace[i].outcome;
    if (!c.rules[i].condition || (o != Outcome::decided && o != Outcome::outranked &&
                                  o != Outcome::consent_granted && o != Outcome::condition_false))
      continue;
    std::vector<const dsl::CheckedCond*> atoms;
    leaves(*c.rules[i].condition, atoms);
    for (const dsl::CheckedCond* atom : atoms) {
      if (atom->kind != ast::CondKind::attribute) continue;
      const dsl::AttributeTest& t = c.tests[atom->ids.at(0)];
      for (const std::int32_t a : {static_cast<std::int32_t>(t.lhs), t.rhs}) {
        if (a < 0) continue;
        const std::string& path = c.attributes[static_cast<std::size_t>(a)].path;
        if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
      }
    }
  }
  report["value_near_misses"] = nlohmann::json::array();
  std::string values;
  for (const std::string& path : paths) {
    for (const OtherValue& other : other_values(policy, request, path)) {
      auto changed = policy.resolve(with_value(request, path, other.value));
      if (!changed) continue;
      const Decision then = policy.evaluate(*changed);
      if (then.effect == d.effect && then.clause == d.clause && then.consent == d.consent) continue;
      const std::string value = value_json(other.value).dump();
      nlohmann::json item = {
          {"attribute", path}, {"value", value_json(other.value)},   {"class", other.label},
          {"rule", then.rule}, {"decision", to_string(then.effect)}, {"clause", then.clause}};
      if (then.effect == Effect::require_consent) item["consent"] = then.consent;
      report["value_near_misses"].push_back(std::move(item));
      const std::int32_t by = rule_index(then.rule);
      const std::string who =
          by < 0 ? std::string("the default")
                 : fmt::format("rule {} at {}", then.rule, where(static_cast<std::size_t>(by)));
      const std::string what = then.effect == Effect::require_consent
                                   ? fmt::format("{} `{}`", s.effect(then.effect), then.consent)
                                   : s.effect(then.effect);
      values += fmt::format("  if {} were {} ({}), {} would decide {}, citing {}\n", path, value,
                            other.label, who, what, then.clause);
    }
  }
  if (!values.empty()) {
    out += fmt::format("\n{}\n{}", s.bold("Near misses over attribute values (one value away):"),
                       values);
  }
  if (json) {
    fmt::print("{}\n", report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    std::fputs(out.c_str(), stdout);
  }
  return exit_ok;
}

}  // namespace clause::cli
