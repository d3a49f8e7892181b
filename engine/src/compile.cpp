// Stage: compile. Checked policy to the immutable, indexed form that evaluate() reads:
// names become integer ids, trees become preorder intervals, conditions become bytecode,
// and every (action, requester) pair gets the short list of rules that can match it.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "clause/dsl/parse.hpp"
#include "policy_impl.hpp"

namespace clause {
namespace detail {

std::string one_line(std::string_view text, Span span) {
  std::string out;
  bool blank = false;
  bool in_string = false;
  for (std::uint32_t i = span.begin; i < span.end && i < text.size(); ++i) {
    const char c = text[i];
    if (!in_string && c == '#') {
      while (i < span.end && text[i] != '\n')
        ++i;
      blank = true;
      continue;
    }
    if (c == '"') in_string = !in_string;
    if (!in_string && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

namespace {

std::atomic<std::uint64_t> next_serial{1};

class Compiler {
 public:
  Compiler(PolicyImpl& out) : p_(out), c_(out.checked) {}

  std::vector<Diagnostic> run() {
    name_maps();
    p_.data_first.reserve(c_.data.size());
    for (const dsl::Term& t : c_.data)
      p_.data_first.push_back(t.first);
    p_.fact_words = (c_.facts.size() + 63) / 64;
    p_.consent_words = (c_.consents.size() + 63) / 64;
    for (const dsl::CheckedRule& rule : c_.rules)
      p_.rules.push_back(compile_rule(rule));
    build_index();
    p_.default_reason = "no rule matched: denied by default (fail-closed)";
    return std::move(errors_);
  }

 private:
  void name_maps() {
    const auto fill = [](auto& map, const std::vector<dsl::Term>& terms) {
      map.reserve(terms.size());
      for (std::uint32_t i = 0; i < terms.size(); ++i)
        map.emplace(terms[i].name, i);
    };
    fill(p_.data_ids, c_.data);
    fill(p_.requester_ids, c_.requesters);
    fill(p_.action_ids, c_.actions);
    fill(p_.purpose_ids, c_.purposes);
    fill(p_.fact_ids, c_.facts);
    fill(p_.consent_ids, c_.consents);
  }

  // Emits postfix code; returns the stack depth the condition needs.
  std::size_t emit(const dsl::CheckedCond& cond) {
    using ast::CondKind;
    switch (cond.kind) {
      case CondKind::fact:
        p_.code.push_back({Instr::fact, cond.ids.at(0)});
        return 1;
      case CondKind::consent:
        p_.code.push_back({Instr::consent, cond.ids.at(0)});
        return 1;
      case CondKind::purpose_is:
      case CondKind::purpose_in: {
        for (std::size_t i = 0; i < cond.ids.size(); ++i) {
          p_.code.push_back({Instr::purpose_is, cond.ids[i]});
          if (i > 0) p_.code.push_back({Instr::any, 2});
        }
        return cond.ids.size() > 1 ? 2 : 1;
      }
      case CondKind::negation: {
        const std::size_t depth = emit(cond.children.at(0));
        p_.code.push_back({Instr::negate, 0});
        return depth;
      }
      case CondKind::all:
      case CondKind::any: {
        const Instr::Op op = cond.kind == CondKind::all ? Instr::all : Instr::any;
        std::size_t depth = 0;
        for (std::size_t i = 0; i < cond.children.size(); ++i) {
          depth = std::max(depth, emit(cond.children[i]) + (i > 0 ? 1 : 0));
          if (i > 0) p_.code.push_back({op, 2});
        }
        return depth;
      }
    }
    return 1;
  }

  CompiledRule compile_rule(const dsl::CheckedRule& rule) {
    CompiledRule r;
    r.tier = rule.tier;
    r.consent = rule.consent;
    r.clause = rule.clause;
    r.met_clause = rule.clause;
    if (rule.consent >= 0) {
      const std::int32_t consent_clause =
          c_.consents[static_cast<std::size_t>(rule.consent)].clause;
      if (consent_clause >= 0) r.met_clause = static_cast<std::uint32_t>(consent_clause);
    }
    r.effect = effect_of(rule.effect);

    r.data_begin = static_cast<std::uint32_t>(p_.intervals.size());
    if (rule.data.any) {
      p_.intervals.push_back({0, static_cast<std::uint32_t>(c_.data.size())});
    } else {
      for (const std::uint32_t id : rule.data.ids) {
        p_.intervals.push_back({c_.data[id].first, c_.data[id].last});
      }
    }
    r.data_end = static_cast<std::uint32_t>(p_.intervals.size());

    r.code_begin = static_cast<std::uint32_t>(p_.code.size());
    if (rule.condition) {
      const std::size_t depth = emit(*rule.condition);
      if (depth > 64) {
        Diagnostic d;
        d.code = "E290";
        d.message = "this condition is too deeply nested to compile";
        d.span = rule.condition->span;
        d.help = "split it into several rules";
        errors_.push_back(std::move(d));
      }
    }
    r.code_end = static_cast<std::uint32_t>(p_.code.size());

    std::string text = one_line(p_.source.text, rule.span);
    if (const std::size_t cites = text.rfind(" cites \""); cites != std::string::npos) {
      text.resize(cites);  // the reason names the clause elsewhere
    }
    if (rule.named && text.starts_with(rule.id + ":")) {
      text.erase(0, std::min(text.size(), rule.id.size() + 2));  // the reason names the rule
    }
    const std::string consent =
        rule.consent >= 0 ? c_.consents[static_cast<std::size_t>(rule.consent)].name : "";
    switch (rule.tier) {
      case dsl::Tier::exclusion:
        r.reason = fmt::format("outside the policy's scope, by rule {}: {}", rule.id, text);
        break;
      case dsl::Tier::prohibition:
        r.reason = fmt::format("prohibited by rule {}: {}", rule.id, text);
        break;
      case dsl::Tier::permission:
        r.reason = fmt::format("permitted by rule {}: {}", rule.id, text);
        break;
      case dsl::Tier::consent:
        r.reason = fmt::format("needs consent `{}`, by rule {}: {}", consent, rule.id, text);
        r.met_reason =
            fmt::format("consent `{}` is granted, as rule {} requires: {}", consent, rule.id, text);
        break;
      case dsl::Tier::fallback:
        if (rule.consent >= 0) {
          r.reason = fmt::format("no other rule decided; fall-back rule {} needs consent `{}`: {}",
                                 rule.id, consent, text);
          r.met_reason = fmt::format(
              "no other rule decided; consent `{}` is granted, as fall-back rule {} requires: {}",
              consent, rule.id, text);
        } else {
          r.reason = fmt::format("no other rule decided; fall-back rule {} {}: {}", rule.id,
                                 r.effect == Effect::allow ? "permits it" : "denies it", text);
        }
        break;
    }
    return r;
  }

  // Every requester id inside the subtree of `id`, by preorder interval.
  std::vector<std::uint32_t> requester_subtree(std::uint32_t id) const {
    std::vector<std::uint32_t> out;
    const dsl::Term& top = c_.requesters[id];
    for (std::uint32_t i = 0; i < c_.requesters.size(); ++i) {
      if (c_.requesters[i].first >= top.first && c_.requesters[i].first < top.last)
        out.push_back(i);
    }
    return out;
  }

  void build_index() {
    const auto actions = static_cast<std::uint32_t>(c_.actions.size());
    const auto requesters = static_cast<std::uint32_t>(c_.requesters.size());
    p_.requester_count = requesters;
    std::vector<std::uint32_t> order(p_.rules.size());
    for (std::uint32_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return p_.rules[a].tier < p_.rules[b].tier;
    });

    std::vector<std::vector<std::uint32_t>> cells(std::size_t{actions} * requesters);
    std::vector<std::uint32_t> all_actions(actions);
    for (std::uint32_t i = 0; i < actions; ++i)
      all_actions[i] = i;
    std::vector<std::uint32_t> all_requesters(requesters);
    for (std::uint32_t i = 0; i < requesters; ++i)
      all_requesters[i] = i;

    for (const std::uint32_t index : order) {
      const dsl::CheckedRule& rule = c_.rules[index];
      const std::vector<std::uint32_t>& rule_actions =
          rule.actions.any ? all_actions : rule.actions.ids;
      std::vector<std::uint32_t> rule_requesters;
      if (rule.requesters.any) {
        rule_requesters = all_requesters;
      } else {
        for (const std::uint32_t r : rule.requesters.ids) {
          for (const std::uint32_t d : requester_subtree(r))
            rule_requesters.push_back(d);
        }
        std::sort(rule_requesters.begin(), rule_requesters.end());
        rule_requesters.erase(std::unique(rule_requesters.begin(), rule_requesters.end()),
                              rule_requesters.end());
      }
      for (const std::uint32_t a : rule_actions) {
        for (const std::uint32_t r : rule_requesters) {
          cells[std::size_t{a} * requesters + r].push_back(index);
        }
      }
    }
    p_.cell_begin.reserve(cells.size() + 1);
    for (const auto& cell : cells) {
      p_.cell_begin.push_back(static_cast<std::uint32_t>(p_.cell_rules.size()));
      p_.cell_rules.insert(p_.cell_rules.end(), cell.begin(), cell.end());
    }
    p_.cell_begin.push_back(static_cast<std::uint32_t>(p_.cell_rules.size()));
  }

  PolicyImpl& p_;
  const dsl::CheckedPolicy& c_;
  std::vector<Diagnostic> errors_;
};

}  // namespace
}  // namespace detail

Result<Policy, std::vector<Diagnostic>> compile(const SourceFile& source,
                                                const CompileOptions& options) noexcept {
  try {
    dsl::ParseLimits limits;
    limits.max_condition_depth = options.max_condition_depth;
    dsl::ParseResult parsed = dsl::parse(source, limits);
    dsl::CheckResult checked = dsl::check(parsed.policy);
    dsl::drop_cascades(source.text, parsed.skipped, checked.diagnostics);
    ast::apply_suppressions(parsed.policy.suppressions, checked.diagnostics);
    std::vector<Diagnostic> diagnostics = std::move(parsed.diagnostics);
    diagnostics.insert(diagnostics.end(), checked.diagnostics.begin(), checked.diagnostics.end());
    sort_by_position(diagnostics);
    if (has_errors(diagnostics) || !checked.policy) return Failure{std::move(diagnostics)};

    auto impl = std::make_shared<detail::PolicyImpl>();
    impl->serial = detail::next_serial.fetch_add(1, std::memory_order_relaxed);
    impl->source = source;
    impl->checked = std::move(*checked.policy);
    impl->suppressions = std::move(parsed.policy.suppressions);
    std::vector<Diagnostic> errors = detail::Compiler(*impl).run();
    if (!errors.empty()) return Failure{std::move(errors)};
    impl->warnings = std::move(diagnostics);
    Policy policy;
    detail::Access::set_impl(policy, std::move(impl));
    return policy;
  } catch (const std::exception& e) {
    // Only an internal failure (such as running out of memory) lands here.
    return Failure{
        std::vector<Diagnostic>{{Severity::error,
                                 "E001",
                                 fmt::format("internal error while compiling: {}", e.what()),
                                 Span{},
                                 {},
                                 {}}}};
  }
}

Result<SourceFile, std::string> read_source(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Failure{fmt::format("`{}` is a folder, not a policy file", path)};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Failure{fmt::format("cannot open `{}`", path)};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Failure{fmt::format("cannot read `{}`", path)};
  return SourceFile{path, std::move(text).str()};
}

}  // namespace clause
