// Stage: analysis. The search behind a plan (planner.hpp).
#include "analysis/planner.hpp"

#include <algorithm>
#include <map>

#include "analysis/analysis.hpp"
#include "core/attribute_test.hpp"

namespace clause::detail {
namespace {

// One class of completions: an index for each variable.
using Minterm = std::vector<std::uint32_t>;

// The variables of a plan, each with its number of values: the data class, the purpose
// class, then one boolean for each open fact, consent, objection and attribute test.
struct Variables {
  enum class Kind : std::uint8_t { category, purpose, fact, consent, objection, test };
  struct Variable {
    Kind kind;
    std::uint32_t id = 0;      // fact, consent, objection or test id
    std::uint32_t values = 2;  // how many values it takes
  };
  std::vector<Variable> list;
};

// A set of minterms: for each variable, the values it may take.
using Cube = std::vector<std::vector<bool>>;

bool in_cube(const Cube& cube, const Minterm& m) {
  for (std::size_t v = 0; v < cube.size(); ++v) {
    if (!cube[v][m[v]]) return false;
  }
  return true;
}

// The outcome of one class: what the engine decided, through which rule.
struct Decided {
  Effect effect = Effect::deny;
  std::int32_t rule = -1;
  std::string consent;
  bool operator<(const Decided& o) const {
    return std::tie(rule, effect, consent) < std::tie(o.rule, o.effect, o.consent);
  }
};

class Planner {
  // The texts of the rule each part cites.
  struct RuleTexts {
    std::string rule, clause;
    std::vector<std::string> obligations;
  };

 public:
  Planner(const Policy& policy, const PolicyImpl& impl, const Open& open, ResolvedRequest base,
          std::uint64_t max_work)
      : policy_(policy),
        impl_(impl),
        c_(impl.checked()),
        open_(open),
        base_(std::move(base)),
        max_checks_(max_work) {}

  Plan run() {
    Plan out;
    relevant_rules();
    if (!variables() || !enumerate()) {
      out.complete = false;
      return out;
    }
    // Group the classes by what decided them; grow each group's classes into cubes.
    std::map<Decided, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < minterms_.size(); ++i)
      groups[decided_[i]].push_back(i);
    std::vector<std::pair<Decided, PlanPart>> parts;
    for (const auto& [d, members] : groups) {
      const RuleTexts& texts = rule_texts_[d];
      for (const Cube& cube : cover(members, d)) {
        PlanPart part = part_of(cube);
        part.rule = texts.rule;
        part.clause = texts.clause;
        part.obligations = texts.obligations;
        parts.emplace_back(d, std::move(part));
      }
      if (over_budget_) {
        out.complete = false;
        return out;
      }
    }
    out.outcomes.push_back({Effect::allow, "", {}, {}});
    std::set<std::string> asked;
    for (const auto& [d, part] : parts) {
      if (d.effect == Effect::require_consent) asked.insert(d.consent);
    }
    for (const std::string& k : asked)
      out.outcomes.push_back({Effect::require_consent, k, {}, {}});
    out.outcomes.push_back({Effect::deny, "", {}, {}});
    for (auto& [d, part] : parts) {
      for (PlanOutcome& o : out.outcomes) {
        if (o.effect == d.effect && o.consent == d.consent) o.parts.push_back(std::move(part));
      }
    }
    // Each outcome's condition regardless of rule: the classes of all its rules grown
    // together, which gives fewer, larger parts where several rules decide alike.
    for (PlanOutcome& o : out.outcomes) {
      Decided d{o.effect, -1, o.consent};
      std::vector<std::size_t> members;
      for (std::size_t i = 0; i < minterms_.size(); ++i) {
        if (decided_[i].effect == o.effect && decided_[i].consent == o.consent)
          members.push_back(i);
      }
      for (const Cube& cube : cover(members, d, true))
        o.condition.push_back(part_of(cube).conditions);
      if (over_budget_) return Plan{{}, {}, {}, false};
    }
    return out;
  }

 private:
  void relevant_rules() {
    const std::uint32_t a = Access::action(base_);
    const std::uint32_t q = Access::requester(base_);
    for (std::size_t k = 0; k < c_.rules.size(); ++k) {
      const dsl::CheckedRule& r = c_.rules[k];
      if (covers(r.actions, c_.actions, a, false) && covers(r.requesters, c_.requesters, q, true))
        rules_.push_back(k);
    }
  }

  // The data classes and the open atoms the relevant rules read.
  bool variables() {
    using Kind = Variables::Kind;
    if (open_.category) {
      std::map<std::vector<bool>, std::size_t> index;
      for (std::uint32_t d = 0; d < c_.data.size(); ++d) {
        std::vector<bool> signature;
        for (const std::size_t k : rules_)
          signature.push_back(covers(c_.rules[k].data, c_.data, d, true));
        auto [it, fresh] = index.emplace(std::move(signature), data_classes_.size());
        if (fresh) data_classes_.emplace_back();
        data_classes_[it->second].push_back(d);
      }
      vars_.list.push_back({Kind::category, 0, static_cast<std::uint32_t>(data_classes_.size())});
    } else {
      data_classes_.push_back({Access::data(base_)});
    }
    Atoms atoms;
    for (const std::size_t k : rules_) {
      const dsl::CheckedRule& r = c_.rules[k];
      if (!open_.category && !covers(r.data, c_.data, Access::data(base_), true)) continue;
      atoms.add(r.condition);
      if (r.consent >= 0) atoms.consents.insert(static_cast<std::uint32_t>(r.consent));
    }
    if (open_.purpose) {
      // Purposes no condition tells apart form one class; "no purpose" is its own.
      std::map<std::vector<bool>, std::size_t> index;
      purpose_classes_.push_back({});  // no purpose
      purpose_none_ = 0;
      for (std::uint32_t id = 0; id < c_.purposes.size(); ++id) {
        std::vector<bool> signature;
        for (const std::uint32_t n : atoms.purposes)
          signature.push_back(purpose_under(c_.purposes, static_cast<std::int32_t>(id), n));
        auto [it, fresh] = index.emplace(std::move(signature), purpose_classes_.size());
        if (fresh) purpose_classes_.emplace_back();
        purpose_classes_[it->second].push_back(id);
      }
      vars_.list.push_back({Kind::purpose, 0, static_cast<std::uint32_t>(purpose_classes_.size())});
    }
    for (const std::uint32_t f : atoms.facts) {
      if (open_.facts.count(f) != 0) vars_.list.push_back({Kind::fact, f, 2});
    }
    if (open_.consents) {
      for (const std::uint32_t k : atoms.consents)
        vars_.list.push_back({Kind::consent, k, 2});
    }
    if (open_.objections) {
      for (const std::uint32_t o : atoms.objections)
        vars_.list.push_back({Kind::objection, o, 2});
    }
    // Tests that read an open attribute vary; the others are answered by the known values.
    for (const std::uint32_t t : atoms.tests) {
      const dsl::AttributeTest& test = c_.tests[t];
      const bool varies =
          open_.attributes[test.lhs] ||
          (test.rhs != dsl::no_id && open_.attributes[static_cast<std::size_t>(test.rhs)]);
      if (varies) {
        open_tests_.push_back(t);
        vars_.list.push_back({Kind::test, t, 2});
      }
    }
    std::vector<std::optional<Value>> known(c_.attributes.size());
    for (std::size_t a = 0; a < c_.attributes.size(); ++a) {
      if (!open_.attributes[a]) known[a] = Access::attributes(base_).at(a);
    }
    classes_ = attribute_classes(c_, open_tests_, known);
    return classes_.complete;
  }

  // Decides one completion of every class.
  bool enumerate() {
    constexpr std::size_t max_bits = 20;
    constexpr std::uint64_t max_classes = 300'000;
    std::vector<std::size_t> bits;  // the boolean variables that are not tests
    for (std::size_t v = 0; v < vars_.list.size(); ++v) {
      const auto k = vars_.list[v].kind;
      if (k == Variables::Kind::fact || k == Variables::Kind::consent ||
          k == Variables::Kind::objection)
        bits.push_back(v);
    }
    if (bits.size() > max_bits) return false;
    const std::uint64_t purposes = open_.purpose ? purpose_classes_.size() : 1;
    const std::uint64_t total = data_classes_.size() * purposes *
                                (std::uint64_t{1} << bits.size()) * classes_.classes.size();
    if (total > max_classes) return false;
    const AtomLayout& layout = impl_.layout;
    for (std::uint32_t d = 0; d < data_classes_.size(); ++d) {
      for (std::uint32_t pc = 0; pc < purposes; ++pc) {
        for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << bits.size()); ++mask) {
          for (const TestClass& tc : classes_.classes) {
            ResolvedRequest w = base_;
            Minterm m(vars_.list.size(), 0);
            Access::data(w) = data_classes_[d].front();
            if (open_.category) m[0] = d;
            std::size_t at = open_.category ? 1 : 0;
            if (open_.purpose) {
              const auto& members = purpose_classes_[pc];
              set_purpose(w, layout, c_.purposes,
                          members.empty() ? -1 : static_cast<std::int32_t>(members.front()));
              m[at++] = pc;
            }
            std::vector<std::uint64_t>& atoms = Access::atoms(w);
            const auto put = [&](std::uint32_t bit, bool on) {
              atoms[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
              if (on) set_bit(atoms, bit);
            };
            for (std::size_t i = 0; i < bits.size(); ++i) {
              const bool on = ((mask >> i) & 1U) != 0;
              const Variables::Variable& var = vars_.list[bits[i]];
              m[bits[i]] = on ? 1 : 0;
              if (var.kind == Variables::Kind::fact) put(layout.fact(var.id), on);
              if (var.kind == Variables::Kind::consent) put(layout.consent(var.id), on);
              if (var.kind == Variables::Kind::objection) put(layout.objection(var.id), on);
            }
            // The values: the known ones, and this class's for the open ones; every test is
            // answered again from them, as resolving the completed request would.
            std::vector<Value>& values = Access::attributes(w);
            for (std::size_t a = 0; a < values.size(); ++a) {
              if (open_.attributes[a]) values[a] = tc.values.at(a);
            }
            for (std::uint32_t t = 0; t < c_.tests.size(); ++t)
              put(layout.test(t), run_test(c_.tests[t], values));
            for (std::size_t v = 0; v < vars_.list.size(); ++v) {
              if (vars_.list[v].kind == Variables::Kind::test)
                m[v] = tc.answers.at(vars_.list[v].id) ? 1 : 0;
            }
            const Verdict verdict = policy_.decide(w);
            const VerdictTexts texts = policy_.texts(verdict);
            Decided decided{verdict.effect, verdict.rule, std::string(texts.consent)};
            minterms_.push_back(std::move(m));
            decided_.push_back(decided);
            // A requirement whose consent is granted cites the consent's clause: the texts
            // go with the whole outcome, not with the rule alone.
            auto& info = rule_texts_[decided];
            info.rule = std::string(texts.rule);
            info.clause = std::string(texts.clause);
            info.obligations.assign(texts.obligations.begin(), texts.obligations.end());
          }
        }
      }
    }
    return true;
  }

  // Grows each class of a group, a variable at a time, as far as it stays clear of the
  // classes other rules decide; keeps the cubes no other cube holds.
  // With `any_rule`, the cubes need stay clear only of the classes of other outcomes: the
  // outcome's condition, whichever rule decides.
  std::vector<Cube> cover(const std::vector<std::size_t>& members, const Decided& d,
                          bool any_rule = false) {
    std::vector<const Minterm*> off;
    for (std::size_t i = 0; i < minterms_.size(); ++i) {
      if ((!any_rule && decided_[i].rule != d.rule) || decided_[i].effect != d.effect ||
          decided_[i].consent != d.consent)
        off.push_back(&minterms_[i]);
    }
    const auto clear = [&](const Cube& cube) {
      // Each check costs a pass over the other classes: bounded, so that no request can
      // keep a service busy for long; past the bound the plan is incomplete.
      checked_ += off.size() + 1;
      if (checked_ > max_checks_) {
        over_budget_ = true;
        return false;
      }
      return std::none_of(off.begin(), off.end(),
                          [&](const Minterm* m) { return in_cube(cube, *m); });
    };
    std::vector<Cube> cubes;
    for (const std::size_t i : members) {
      const Minterm& m = minterms_[i];
      if (std::any_of(cubes.begin(), cubes.end(), [&](const Cube& c) { return in_cube(c, m); }))
        continue;
      Cube cube(vars_.list.size());
      for (std::size_t v = 0; v < vars_.list.size(); ++v) {
        cube[v].assign(vars_.list[v].values, false);
        cube[v][m[v]] = true;
      }
      for (std::size_t v = 0; v < vars_.list.size(); ++v) {
        const std::vector<bool> own = cube[v];
        cube[v].assign(vars_.list[v].values, true);
        if (clear(cube)) continue;
        // Not every value: add those that keep it clear, one at a time.
        cube[v] = own;
        for (std::uint32_t x = 0; x < vars_.list[v].values; ++x) {
          if (cube[v][x]) continue;
          cube[v][x] = true;
          if (!clear(cube)) cube[v][x] = false;
        }
      }
      cubes.push_back(std::move(cube));
    }
    // Drop a cube whose members the others hold between them.
    std::vector<Cube> kept;
    for (std::size_t k = 0; k < cubes.size(); ++k) {
      bool needed = false;
      for (const std::size_t i : members) {
        const Minterm& m = minterms_[i];
        if (!in_cube(cubes[k], m)) continue;
        const bool elsewhere =
            std::any_of(kept.begin(), kept.end(), [&](const Cube& c) { return in_cube(c, m); }) ||
            std::any_of(cubes.begin() + static_cast<std::ptrdiff_t>(k) + 1, cubes.end(),
                        [&](const Cube& c) { return in_cube(c, m); });
        if (!elsewhere) {
          needed = true;
          break;
        }
      }
      if (needed) kept.push_back(cubes[k]);
    }
    return kept;
  }

  // Writes a comparison the way an author would: the open attribute on the left, and `not`
  // folded into the operator where no side can be absent (absent, every test is false, so
  // `not a < b` is not `a >= b`).
  void tidy(PlanTest& t, const dsl::AttributeTest& test) const {
    if (t.kind != PlanTest::Kind::compare) return;
    const bool required =
        !c_.attributes[test.lhs].optional &&
        (test.rhs == dsl::no_id || !c_.attributes[static_cast<std::size_t>(test.rhs)].optional);
    if (t.negated && required) {
      static constexpr PlanTest::Op opposite[] = {PlanTest::Op::ne, PlanTest::Op::eq,
                                                  PlanTest::Op::ge, PlanTest::Op::gt,
                                                  PlanTest::Op::le, PlanTest::Op::lt};
      t.op = opposite[static_cast<std::size_t>(t.op)];
      t.negated = false;
    }
    if (t.left.path.empty() && !t.right.path.empty() && t.shift == Duration{}) {
      static constexpr PlanTest::Op mirror[] = {PlanTest::Op::eq, PlanTest::Op::ne,
                                                PlanTest::Op::gt, PlanTest::Op::ge,
                                                PlanTest::Op::lt, PlanTest::Op::le};
      std::swap(t.left, t.right);
      t.op = mirror[static_cast<std::size_t>(t.op)];
    }
  }

  PlanOperand operand(std::uint32_t attribute) const {
    if (open_.attributes[attribute]) return {c_.attributes[attribute].path, {}};
    return {"", Access::attributes(base_).at(attribute)};
  }

  PlanPart part_of(const Cube& cube) const {
    PlanPart part;
    for (std::size_t v = 0; v < vars_.list.size(); ++v) {
      const Variables::Variable& var = vars_.list[v];
      const auto all = std::all_of(cube[v].begin(), cube[v].end(), [](bool b) { return b; });
      if (all) continue;
      PlanTest t;
      switch (var.kind) {
        case Variables::Kind::category:
          t.kind = PlanTest::Kind::category;
          for (std::uint32_t x = 0; x < var.values; ++x) {
            if (!cube[v][x]) continue;
            for (const std::uint32_t d : data_classes_[x])
              t.names.push_back(c_.data[d].name);
          }
          break;
        case Variables::Kind::purpose:
          t.kind = PlanTest::Kind::purpose;
          for (std::uint32_t x = 0; x < var.values; ++x) {
            if (!cube[v][x]) continue;
            if (x == purpose_none_) t.absent = true;
            for (const std::uint32_t id : purpose_classes_[x])
              t.names.push_back(c_.purposes[id].name);
          }
          break;
        case Variables::Kind::fact:
        case Variables::Kind::consent:
        case Variables::Kind::objection: {
          t.kind = var.kind == Variables::Kind::fact      ? PlanTest::Kind::fact
                   : var.kind == Variables::Kind::consent ? PlanTest::Kind::consent
                                                          : PlanTest::Kind::objection;
          const auto& terms = var.kind == Variables::Kind::fact      ? c_.facts
                              : var.kind == Variables::Kind::consent ? c_.consents
                                                                     : c_.objections;
          t.names.push_back(terms[var.id].name);
          t.negated = !cube[v][1];
          break;
        }
        case Variables::Kind::test: {
          const dsl::AttributeTest& test = c_.tests[var.id];
          using K = dsl::AttributeTest::Kind;
          t.kind = test.kind == K::truth                                ? PlanTest::Kind::truth
                   : test.kind == K::member || test.kind == K::contains ? PlanTest::Kind::member
                                                                        : PlanTest::Kind::compare;
          t.left = operand(test.lhs);
          t.op = plan_op(test.op);
          t.right = test.rhs != dsl::no_id ? operand(static_cast<std::uint32_t>(test.rhs))
                                           : PlanOperand{"", test.constant};
          // `"admin" in requester.roles` is a member test whose left side is a constant.
          if (test.kind == K::contains) std::swap(t.left, t.right);
          t.shift = test.shift;
          t.negated = !cube[v][1];
          tidy(t, test);
          break;
        }
      }
      part.conditions.push_back(std::move(t));
    }
    return part;
  }

  const Policy& policy_;
  const PolicyImpl& impl_;
  const dsl::CheckedPolicy& c_;
  const Open& open_;
  ResolvedRequest base_;
  std::vector<std::size_t> rules_;
  std::vector<std::vector<std::uint32_t>> data_classes_;
  std::vector<std::vector<std::uint32_t>> purpose_classes_;
  std::uint32_t purpose_none_ = 0;
  std::vector<std::uint32_t> open_tests_;
  Variables vars_;
  TestClasses classes_;
  std::vector<Minterm> minterms_;
  std::vector<Decided> decided_;
  std::map<Decided, RuleTexts> rule_texts_;
  // Work done growing cubes, in classes compared, and its bound (PlanOptions::max_work).
  std::uint64_t max_checks_;
  std::uint64_t checked_ = 0;
  bool over_budget_ = false;
};

}  // namespace

Plan plan_resolved(const Policy& policy, const PolicyImpl& impl, const Open& open,
                   ResolvedRequest base, std::uint64_t max_work) {
  Planner planner(policy, impl, open, std::move(base), max_work);
  return planner.run();
}

}  // namespace clause::detail
