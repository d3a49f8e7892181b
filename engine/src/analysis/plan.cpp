// Stage: analysis. Plans a partial request: every completion of its open fields falls in
// one class (data categories no rule tells apart, one answer for each open fact, consent,
// objection and attribute test, a class of purposes); each class is decided once by the
// engine itself, and the classes of each deciding rule are then grown into as few, as
// wide conditions as stay clear of every class decided otherwise.
#include "clause/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "analysis/analysis.hpp"
#include "core/attribute_test.hpp"

namespace clause {
namespace detail {
namespace {

// What the request leaves open.
struct Open {
  bool category = false;
  bool purpose = false;
  bool consents = false;
  bool objections = false;
  std::set<std::uint32_t> facts;
  std::vector<bool> attributes;  // by declared index
};

RequestError plan_error(std::string field, std::string name, std::string message) {
  return RequestError{std::move(field), std::move(name), std::move(message), std::nullopt};
}

std::optional<std::uint32_t> index_of(const std::vector<dsl::Term>& terms, std::string_view name) {
  for (std::uint32_t i = 0; i < terms.size(); ++i) {
    if (terms[i].name == name) return i;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> attribute_index(const dsl::CheckedPolicy& c, std::string_view path) {
  for (std::uint32_t i = 0; i < c.attributes.size(); ++i) {
    if (c.attributes[i].path == path) return i;
  }
  return std::nullopt;
}

// Why `field` cannot be left open, with the closest field that can.
std::string not_open_message(const dsl::CheckedPolicy& c, const std::string& field) {
  std::vector<std::string> fields = {"data", "data.category", "context.purpose", "context.consent",
                                     "context.objections"};
  for (const dsl::AttributeInfo& a : c.attributes)
    fields.push_back(a.path);
  for (const dsl::Term& f : c.facts)
    fields.push_back("context." + f.name);
  const std::vector<std::string_view> views(fields.begin(), fields.end());
  const std::string guess = dsl::closest_name(field, views);
  return guess.empty() ? "not a field the policy lets a plan leave open"
                       : fmt::format(
                             "not a field the policy lets a plan leave open; did you "
                             "mean `{}`?",
                             guess);
}

Result<Open, RequestError> read_open(const dsl::CheckedPolicy& c,
                                     const std::vector<std::string>& unknown) {
  Open open;
  open.attributes.assign(c.attributes.size(), false);
  for (std::size_t i = 0; i < unknown.size(); ++i) {
    const std::string& u = unknown[i];
    const std::string field = fmt::format("unknown[{}]", i);
    if (u == "data") {
      open.category = true;
      for (std::size_t a = 0; a < c.attributes.size(); ++a) {
        if (c.attributes[a].path.starts_with("data.")) open.attributes[a] = true;
      }
    } else if (u == "data.category") {
      open.category = true;
    } else if (u == "context.purpose") {
      open.purpose = true;
    } else if (u == "context.consent") {
      open.consents = true;
    } else if (u == "context.objections") {
      open.objections = true;
    } else if (u == "requester.kind" || u == "action") {
      return Failure{
          plan_error(field, u, "a plan is made for one requester kind and one action: give it")};
    } else if (const auto a = attribute_index(c, u)) {
      open.attributes[*a] = true;
    } else if (const auto f = u.starts_with("context.")
                                  ? index_of(c.facts, std::string_view(u).substr(8))
                                  : std::nullopt) {
      open.facts.insert(*f);
    } else {
      return Failure{plan_error(field, u, not_open_message(c, u))};
    }
  }
  return open;
}

// The known request with a stand-in for every open field, so that the engine resolves it.
Result<Request, RequestError> stand_in(const dsl::CheckedPolicy& c, const Open& open,
                                       const Request& known) {
  Request r = known;
  const auto given_too = [](const std::string& field) {
    return Failure{plan_error(field, "", "given, and also listed as unknown")};
  };
  if (open.category) {
    if (!r.data.empty()) return given_too("data.category");
    r.data = c.data.at(0).name;
  }
  if (open.purpose) {
    if (r.purpose) return given_too("context.purpose");
  }
  if (open.consents && (!r.consent.empty() || !r.consent_records.empty())) {
    return given_too("context.consent");
  }
  if (open.objections && !r.objections.empty()) return given_too("context.objections");
  for (const std::uint32_t f : open.facts) {
    if (std::find(r.facts.begin(), r.facts.end(), c.facts[f].name) != r.facts.end()) {
      return given_too("context." + c.facts[f].name);
    }
  }
  for (std::size_t a = 0; a < c.attributes.size(); ++a) {
    if (!open.attributes[a]) continue;
    const std::string& path = c.attributes[a].path;
    for (const Attribute& given : r.attributes) {
      if (given.path == path) return given_too(path);
    }
    if (path == "requester.id") {
      if (!r.requester_id.empty()) return given_too(path);
      r.requester_id = "witness";
    }
    const Value v = default_value(c.attributes[a]);
    if (!std::holds_alternative<std::monostate>(v)) r.attributes.push_back({path, v});
  }
  return r;
}

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

// The plan's operators are the language's, in the same order.
static_assert(static_cast<int>(PlanTest::Op::ne) == static_cast<int>(ast::CompareOp::ne) &&
              static_cast<int>(PlanTest::Op::ge) == static_cast<int>(ast::CompareOp::ge));
PlanTest::Op plan_op(ast::CompareOp op) {
  return static_cast<PlanTest::Op>(op);
}
ast::CompareOp engine_op(PlanTest::Op op) {
  return static_cast<ast::CompareOp>(op);
}

class Planner {
  // The texts of the rule each part cites.
  struct RuleTexts {
    std::string rule, clause;
    std::vector<std::string> obligations;
  };

 public:
  Planner(const Policy& policy, const PolicyImpl& impl, const Open& open, ResolvedRequest base)
      : policy_(policy), impl_(impl), c_(impl.checked()), open_(open), base_(std::move(base)) {}

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
    }
    out.outcomes.push_back({Effect::allow, "", {}});
    std::set<std::string> asked;
    for (const auto& [d, part] : parts) {
      if (d.effect == Effect::require_consent) asked.insert(d.consent);
    }
    for (const std::string& k : asked)
      out.outcomes.push_back({Effect::require_consent, k, {}});
    out.outcomes.push_back({Effect::deny, "", {}});
    for (auto& [d, part] : parts) {
      for (PlanOutcome& o : out.outcomes) {
        if (o.effect == d.effect && o.consent == d.consent) o.parts.push_back(std::move(part));
      }
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
  std::vector<Cube> cover(const std::vector<std::size_t>& members, const Decided& d) {
    std::vector<const Minterm*> off;
    for (std::size_t i = 0; i < minterms_.size(); ++i) {
      if (decided_[i].rule != d.rule || decided_[i].effect != d.effect ||
          decided_[i].consent != d.consent)
        off.push_back(&minterms_[i]);
    }
    const auto clear = [&](const Cube& cube) {
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
          t.kind = test.kind == K::truth    ? PlanTest::Kind::truth
                   : test.kind == K::member ? PlanTest::Kind::member
                                            : PlanTest::Kind::compare;
          t.left = operand(test.lhs);
          t.op = plan_op(test.op);
          t.right = test.rhs != dsl::no_id ? operand(static_cast<std::uint32_t>(test.rhs))
                                           : PlanOperand{"", test.constant};
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
};

}  // namespace
}  // namespace detail

namespace {

std::string_view op_text(PlanTest::Op op) {
  static constexpr std::string_view texts[] = {"=", "!=", "<", "<=", ">", ">="};
  return texts[static_cast<std::size_t>(op)];
}

std::string operand_text(const PlanOperand& o) {
  return o.path.empty() ? detail::value_text(o.value) : o.path;
}

std::string names_text(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The value of one side of a comparison in a completed request; absent when not given.
Value side_value(const PlanOperand& o, const Request& r) {
  if (o.path.empty()) return o.value;
  for (const Attribute& a : r.attributes) {
    if (a.path == o.path) return a.value;
  }
  if (o.path == "requester.id" && !r.requester_id.empty()) return r.requester_id;
  return std::monostate{};
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::string to_string(const PlanTest& t) {
  std::string out;
  switch (t.kind) {
    case PlanTest::Kind::category:
      out = t.names.size() == 1 ? "data.category is " + t.names[0]
                                : fmt::format("data.category in ({})", names_text(t.names));
      break;
    case PlanTest::Kind::purpose:
      if (t.names.empty()) {
        out = "no purpose";
      } else {
        out = t.names.size() == 1 ? "purpose is " + t.names[0]
                                  : fmt::format("purpose in ({})", names_text(t.names));
        if (t.absent) out = fmt::format("(no purpose or {})", out);
      }
      break;
    case PlanTest::Kind::fact:
      out = t.names.at(0);
      break;
    case PlanTest::Kind::consent:
      out = "consent " + t.names.at(0);
      break;
    case PlanTest::Kind::objection:
      out = "objected " + t.names.at(0);
      break;
    case PlanTest::Kind::truth:
      out = operand_text(t.left);
      break;
    case PlanTest::Kind::member:
      out = fmt::format("{} in {}", operand_text(t.left), operand_text(t.right));
      break;
    case PlanTest::Kind::compare: {
      out = fmt::format("{} {} {}", operand_text(t.left), op_text(t.op), operand_text(t.right));
      if (!(t.shift == Duration{})) {
        out += ' ';
        out += detail::shift_text(t.shift);
      }
      break;
    }
  }
  return t.negated ? "not " + out : out;
}

std::string to_string(const PlanPart& part) {
  if (part.conditions.empty()) return "true";
  std::string out;
  for (const PlanTest& t : part.conditions)
    out += (out.empty() ? "" : " and ") + to_string(t);
  return out;
}

bool holds(const PlanTest& t, const Request& r) noexcept {
  bool yes = false;
  switch (t.kind) {
    case PlanTest::Kind::category:
      yes = listed(t.names, r.data);
      break;
    case PlanTest::Kind::purpose:
      yes = r.purpose ? listed(t.names, *r.purpose) : t.absent;
      break;
    case PlanTest::Kind::fact:
      yes = listed(r.facts, t.names.at(0));
      break;
    case PlanTest::Kind::consent: {
      const std::string& k = t.names.at(0);
      yes = listed(r.consent, k);
      // A record counts while each date it gives is later than context.time.
      const Value now = side_value(PlanOperand{"context.time", {}}, r);
      for (const ConsentRecord& c : r.consent_records) {
        if (c.id == k && detail::record_counts(std::get_if<Instant>(&now), c.expires, c.withdrawn))
          yes = true;
      }
      break;
    }
    case PlanTest::Kind::objection:
      yes = listed(r.objections, t.names.at(0));
      break;
    case PlanTest::Kind::compare:
    case PlanTest::Kind::member:
    case PlanTest::Kind::truth: {
      // The engine's own test, on the two sides' values.
      dsl::AttributeTest test;
      test.kind = t.kind == PlanTest::Kind::truth    ? dsl::AttributeTest::Kind::truth
                  : t.kind == PlanTest::Kind::member ? dsl::AttributeTest::Kind::member
                                                     : dsl::AttributeTest::Kind::compare;
      test.lhs = 0;
      test.op = detail::engine_op(t.op);
      test.rhs = 1;
      test.shift = t.shift;
      yes = detail::run_test(test, {side_value(t.left, r), side_value(t.right, r)});
      break;
    }
  }
  return t.negated ? !yes : yes;
}

namespace {

// Plans from a resolved request whose open fields hold stand-ins.
Plan plan_base(const Policy& policy, const detail::PolicyImpl& impl, const detail::Open& open,
               ResolvedRequest base, const std::vector<std::string>& unknown) {
  detail::Planner planner(policy, impl, open, std::move(base));
  Plan out = planner.run();
  out.unknown = unknown;
  return out;
}

RequestError dated_with_open_time() {
  return RequestError{"context.consent", "",
                      "a consent with dates needs a known `context.time`: give it, or leave "
                      "the consents open too",
                      std::nullopt};
}

}  // namespace

Result<Plan, RequestError> plan(const Policy& policy, const PartialRequest& request) noexcept {
  try {
    const detail::PolicyImpl* impl = detail::Access::impl(policy);
    if (impl == nullptr) {
      return Failure{RequestError{"", "", "no policy is loaded", std::nullopt}};
    }
    const dsl::CheckedPolicy& c = impl->checked();
    auto open = detail::read_open(c, request.unknown);
    if (!open) return Failure{std::move(open.error())};
    auto filled = detail::stand_in(c, *open, request.known);
    if (!filled) return Failure{std::move(filled.error())};
    auto base = policy.resolve(*filled);
    if (!base) return Failure{std::move(base.error())};
    // A dated consent counts by context.time: with the time open, it would be open too.
    const auto time = detail::attribute_index(c, "context.time");
    const bool dated = std::any_of(
        request.known.consent_records.begin(), request.known.consent_records.end(),
        [](const ConsentRecord& r) { return r.expires.has_value() || r.withdrawn.has_value(); });
    if (time && open->attributes[*time] && dated) return Failure{dated_with_open_time()};
    return plan_base(policy, *impl, *open, std::move(*base), request.unknown);
  } catch (...) {
    Plan out;
    out.complete = false;
    return out;
  }
}

Result<Plan, RequestError> plan_json(const Policy& policy, std::string_view json_text) noexcept {
  try {
    const detail::PolicyImpl* impl = detail::Access::impl(policy);
    if (impl == nullptr) {
      return Failure{RequestError{"", "", "no policy is loaded", std::nullopt}};
    }
    const dsl::CheckedPolicy& c = impl->checked();
    detail::PartialRead read;
    auto base = detail::decode_with_positions(*impl, json_text, std::nullopt, &read);
    // A misspelt entry of `unknown` leaves its field missing: name the entry first.
    auto open = detail::read_open(c, read.unknown);
    if (!open && read.unknown_at.size() == read.unknown.size()) {
      RequestError e = std::move(open.error());
      for (std::size_t i = 0; i < read.unknown.size(); ++i) {
        if (e.field == fmt::format("unknown[{}]", i)) e.position = read.unknown_at[i];
      }
      return Failure{std::move(e)};
    }
    if (!base) return Failure{std::move(base.error())};
    if (!open) return Failure{std::move(open.error())};
    // A field both given and listed as unknown is a mistake: which one is meant?
    for (std::size_t i = 0; i < read.unknown.size(); ++i) {
      const std::string& u = read.unknown[i];
      for (const auto& [field, at] : read.given) {
        const bool inside = field == u || (u == "data" && field.starts_with("data.")) ||
                            (u == "context.consent" && field == "context.consent") ||
                            (u == "context.objections" && field == "context.objections");
        if (inside) {
          return Failure{RequestError{field, "", "given, and also listed as unknown", at}};
        }
      }
    }
    const auto time = detail::attribute_index(c, "context.time");
    if (time && open->attributes[*time] && read.dated_consents) {
      return Failure{dated_with_open_time()};
    }
    return plan_base(policy, *impl, *open, std::move(*base), read.unknown);
  } catch (...) {
    Plan out;
    out.complete = false;
    return out;
  }
}

}  // namespace clause
