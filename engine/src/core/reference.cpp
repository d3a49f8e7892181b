// Stage: evaluate (reference). The plain loop over all rules, read straight off the checked
// policy with no index: the semantics written as directly as they can be. Tests hold the
// indexed evaluator to it, and traces come from it.
#include <fmt/format.h>

#include "core/attribute_test.hpp"
#include "core/policy_impl.hpp"

namespace clause::detail {
namespace {

bool is_a(const std::vector<dsl::Term>& terms, std::uint32_t id, std::uint32_t ancestor) {
  for (auto at = static_cast<std::int32_t>(id); at != dsl::no_id;
       at = terms[static_cast<std::size_t>(at)].parent) {
    if (static_cast<std::uint32_t>(at) == ancestor) return true;
  }
  return false;
}

bool covers(const dsl::IdSet& set, const std::vector<dsl::Term>& terms, std::uint32_t id,
            bool hierarchical) {
  if (set.any) return true;
  for (const std::uint32_t member : set.ids) {
    if (hierarchical ? is_a(terms, id, member) : id == member) return true;
  }
  return false;
}

bool holds(const dsl::CheckedPolicy& p, const dsl::CheckedCond& cond, const ResolvedRequest& q,
           const AtomLayout& layout) {
  using ast::CondKind;
  switch (cond.kind) {
    case CondKind::fact:
      return fact_true(q, layout, cond.ids.at(0));
    case CondKind::consent:
      return consent_granted(q, layout, cond.ids.at(0));
    case CondKind::objected:
      return test_bit(Access::atoms(q), layout.objection(cond.ids.at(0)));
    case CondKind::attribute:
      // From the values, not the bits the request was resolved to: the reference reads
      // the semantics directly.
      return run_test(p.tests.at(cond.ids.at(0)), Access::attributes(q));
    case CondKind::compare:
    case CondKind::member:
    case CondKind::contains:
      return false;  // the checker makes every comparison an `attribute` leaf
    case CondKind::purpose_is:
    case CondKind::purpose_in:
      for (const std::uint32_t id : cond.ids) {
        if (Access::purpose(q) >= 0 &&
            is_a(p.purposes, static_cast<std::uint32_t>(Access::purpose(q)), id))
          return true;
      }
      return false;
    case CondKind::negation:
      return !holds(p, cond.children.at(0), q, layout);
    case CondKind::all:
      for (const auto& c : cond.children) {
        if (!holds(p, c, q, layout)) return false;
      }
      return true;
    case CondKind::any:
      for (const auto& c : cond.children) {
        if (holds(p, c, q, layout)) return true;
      }
      return false;
  }
  return false;
}

// Says, in an author's words, why a condition is false for this request.
std::string why_false(const dsl::CheckedPolicy& p, const dsl::CheckedCond& cond,
                      const ResolvedRequest& q) {
  using ast::CondKind;
  switch (cond.kind) {
    case CondKind::fact:
      return fmt::format("`{}` is false", p.facts[cond.ids.at(0)].name);
    case CondKind::consent:
      return fmt::format("consent `{}` is not granted", p.consents[cond.ids.at(0)].name);
    case CondKind::purpose_is:
    case CondKind::purpose_in:
      if (Access::purpose(q) < 0) return "the request has no purpose";
      return fmt::format("the purpose is `{}`",
                         p.purposes[static_cast<std::size_t>(Access::purpose(q))].name);
    case CondKind::objected:
      return fmt::format("no objection `{}` was made", p.objections[cond.ids.at(0)].name);
    case CondKind::attribute:
    case CondKind::compare:
    case CondKind::member:
    case CondKind::contains:
      return fmt::format("`{}` is false", condition_text(p, cond));
    case CondKind::negation:
      return fmt::format("`{}` is true", condition_text(p, cond.children.at(0)));
    case CondKind::all:
      for (const auto& c : cond.children) {
        if (!holds(p, c, q, AtomLayout::of(p))) return why_false(p, c, q);
      }
      return "";
    case CondKind::any: {
      std::string out;
      for (const auto& c : cond.children) {
        if (!out.empty()) out += ", and ";
        out += why_false(p, c, q);
      }
      return out;
    }
  }
  return "";
}

}  // namespace

std::string value_text(const Value& v) {
  struct Text {
    std::string operator()(std::monostate) const { return "absent"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t n) const { return std::to_string(n); }
    std::string operator()(const std::string& s) const { return fmt::format("\"{}\"", s); }
    std::string operator()(const std::vector<std::string>& list) const {
      std::string out = "[";
      for (const std::string& s : list)
        out += (out.size() > 1 ? ", \"" : "\"") + s + "\"";
      return out + "]";
    }
    std::string operator()(Instant at) const { return format_instant(at); }
  };
  return std::visit(Text{}, v);
}

std::string_view compare_op_text(ast::CompareOp op) {
  static constexpr std::string_view texts[] = {"=", "!=", "<", "<=", ">", ">="};
  return texts[static_cast<std::size_t>(op)];
}

std::string shift_text(const Duration& shift) {
  const bool minus = shift.years < 0 || shift.months < 0 || shift.days < 0 || shift.seconds < 0;
  Duration magnitude = shift;
  if (minus) {
    magnitude.years = -magnitude.years;
    magnitude.months = -magnitude.months;
    magnitude.days = -magnitude.days;
    magnitude.seconds = -magnitude.seconds;
  }
  return fmt::format("{} {}", minus ? '-' : '+', format_duration(magnitude));
}

std::string test_text(const dsl::CheckedPolicy& p, const dsl::AttributeTest& t) {
  const std::string& lhs = p.attributes.at(t.lhs).path;
  using Kind = dsl::AttributeTest::Kind;
  if (t.kind == Kind::truth) return lhs;
  std::string rhs = t.rhs != dsl::no_id ? p.attributes.at(static_cast<std::size_t>(t.rhs)).path
                                        : value_text(t.constant);
  if (t.kind == Kind::member) return fmt::format("{} in {}", lhs, rhs);
  if (t.kind == Kind::contains) return fmt::format("{} in {}", rhs, lhs);
  if (!(t.shift == Duration{})) {
    rhs += ' ';
    rhs += shift_text(t.shift);
  }
  return fmt::format("{} {} {}", lhs, compare_op_text(t.op), rhs);
}

std::string condition_text(const dsl::CheckedPolicy& p, const dsl::CheckedCond& cond) {
  using ast::CondKind;
  const auto operand = [&](const dsl::CheckedCond& c) {
    const bool group = c.kind == CondKind::all || c.kind == CondKind::any;
    return group ? fmt::format("({})", condition_text(p, c)) : condition_text(p, c);
  };
  switch (cond.kind) {
    case CondKind::fact:
      return p.facts[cond.ids.at(0)].name;
    case CondKind::consent:
      return fmt::format("consent {}", p.consents[cond.ids.at(0)].name);
    case CondKind::objected:
      return fmt::format("objected {}", p.objections[cond.ids.at(0)].name);
    case CondKind::attribute:
      return cond.ids.empty() ? std::string() : test_text(p, p.tests.at(cond.ids.at(0)));
    case CondKind::compare:
    case CondKind::member:
    case CondKind::contains:
      return "";
    case CondKind::purpose_is:
      return fmt::format("purpose is {}", p.purposes[cond.ids.at(0)].name);
    case CondKind::purpose_in: {
      std::string names;
      for (const std::uint32_t id : cond.ids) {
        if (!names.empty()) names += ", ";
        names += p.purposes[id].name;
      }
      return fmt::format("purpose in ({})", names);
    }
    case CondKind::negation:
      return fmt::format("not {}", operand(cond.children.at(0)));
    case CondKind::all:
    case CondKind::any: {
      std::string out;
      for (const auto& c : cond.children) {
        if (!out.empty()) out += cond.kind == CondKind::all ? " and " : " or ";
        out += c.kind == cond.kind ? condition_text(p, c) : operand(c);
      }
      return out;
    }
  }
  return "";
}

ReferenceVerdict reference_evaluate(const PolicyImpl& policy, const ResolvedRequest& q,
                                    std::vector<TraceStep>* trace) {
  const dsl::CheckedPolicy& p = policy.checked();
  const std::size_t n = p.rules.size();
  // Which rules match the request, target and condition both.
  std::vector<Outcome> outcome(n, Outcome::outranked);
  std::vector<bool> matches(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const dsl::CheckedRule& r = p.rules[i];
    if (!covers(r.actions, p.actions, Access::action(q), false)) {
      outcome[i] = Outcome::action_mismatch;
    } else if (!covers(r.data, p.data, Access::data(q), true)) {
      outcome[i] = Outcome::data_mismatch;
    } else if (!covers(r.requesters, p.requesters, Access::requester(q), true)) {
      outcome[i] = Outcome::requester_mismatch;
    } else if (r.condition && !holds(p, *r.condition, q, policy.layout)) {
      outcome[i] = Outcome::condition_false;
    } else {
      matches[i] = true;
    }
  }

  ReferenceVerdict verdict;
  verdict.clause = p.default_clause;
  const auto granted = [&](const dsl::CheckedRule& r) {
    return consent_granted(q, policy.layout, static_cast<std::uint32_t>(r.consent));
  };
  const auto met_clause = [&](const dsl::CheckedRule& r) {
    const std::int32_t c = p.consents[static_cast<std::size_t>(r.consent)].clause;
    return c >= 0 ? static_cast<std::uint32_t>(c) : r.clause;
  };
  const auto decide = [&](std::size_t i, Effect effect, std::uint32_t clause) {
    verdict.effect = effect;
    verdict.clause = clause;
    verdict.rule = static_cast<std::int32_t>(i);
    verdict.consent = effect == Effect::require_consent ? p.rules[i].consent : -1;
    outcome[i] = Outcome::decided;
  };

  bool done = false;
  for (const dsl::Tier tier :
       {dsl::Tier::effective, dsl::Tier::first, dsl::Tier::exclusion, dsl::Tier::prohibition,
        dsl::Tier::permission, dsl::Tier::consent, dsl::Tier::fallback}) {
    std::int32_t first_granted = -1;
    for (std::size_t i = 0; i < n && !done; ++i) {
      const dsl::CheckedRule& r = p.rules[i];
      if (!matches[i] || r.tier != tier) continue;
      switch (tier) {
        case dsl::Tier::effective:
        case dsl::Tier::first:
          // Decides with its own effect; a first-tier requirement's condition holds only
          // while its consent is not granted (the checker folds that in).
          decide(i, r.effect, r.clause);
          done = true;
          break;
        case dsl::Tier::exclusion:
        case dsl::Tier::permission:
          decide(i, Effect::allow, r.clause);
          done = true;
          break;
        case dsl::Tier::prohibition:
          decide(i, Effect::deny, r.clause);
          done = true;
          break;
        case dsl::Tier::consent:
          if (!granted(r)) {
            decide(i, Effect::require_consent, r.clause);
            done = true;
          } else if (first_granted < 0) {
            first_granted = static_cast<std::int32_t>(i);
          }
          break;
        case dsl::Tier::fallback:
          if (r.consent >= 0) {
            if (granted(r)) {
              decide(i, Effect::allow, met_clause(r));
            } else {
              decide(i, Effect::require_consent, r.clause);
            }
          } else {
            decide(i, r.effect == ast::Effect::allow ? Effect::allow : Effect::deny, r.clause);
          }
          done = true;
          break;
      }
    }
    if (!done && first_granted >= 0) {
      const auto i = static_cast<std::size_t>(first_granted);
      decide(i, Effect::allow, met_clause(p.rules[i]));
      done = true;
    }
    if (done) break;
  }

  if (trace != nullptr) {
    trace->clear();
    trace->reserve(n);
    // Rules come in file order: one pass along the text finds every rule's line, where
    // asking line_column for each would cost the whole text per rule.
    const std::string_view text = policy.source.text;
    std::uint32_t scanned = 0;
    LineColumn at_scanned;
    const auto position = [&](std::uint32_t offset) {
      offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
      if (offset < scanned) {
        scanned = 0;
        at_scanned = LineColumn{};
      }
      for (; scanned < offset; ++scanned) {
        if (text[scanned] == '\n') {
          ++at_scanned.line;
          at_scanned.column = 1;
        } else {
          ++at_scanned.column;
        }
      }
      return at_scanned;
    };
    for (std::size_t i = 0; i < n; ++i) {
      const dsl::CheckedRule& r = p.rules[i];
      TraceStep step;
      step.rule = r.id;
      step.clause = p.clauses[r.clause].id;
      step.tier = r.tier;
      step.outcome = outcome[i];
      step.position = position(r.span.begin);
      if (outcome[i] == Outcome::condition_false) {
        step.detail = why_false(p, *r.condition, q);
      } else if (outcome[i] == Outcome::outranked && matches[i] && r.tier == dsl::Tier::consent &&
                 granted(r)) {
        step.outcome = Outcome::consent_granted;
        step.detail = fmt::format("consent `{}` is granted",
                                  p.consents[static_cast<std::size_t>(r.consent)].name);
      } else if (outcome[i] == Outcome::outranked && verdict.rule >= 0) {
        const dsl::CheckedRule& winner = p.rules[static_cast<std::size_t>(verdict.rule)];
        step.detail = winner.tier == r.tier
                          ? fmt::format("rule {} comes first in the same tier", winner.id)
                          : fmt::format("rule {} decided in a higher tier ({})", winner.id,
                                        to_string(winner.tier));
      }
      trace->push_back(std::move(step));
    }
  }
  return verdict;
}

}  // namespace clause::detail
