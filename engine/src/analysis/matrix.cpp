// Stage: analysis. The decision matrix, from the regions of the request space; held to
// fixed values, and split by the classes of one attribute's values.
#include "clause/matrix.hpp"

#include <fmt/format.h>

#include <charconv>
#include <map>

#include "analysis/analysis.hpp"
#include "clause/dsl/check.hpp"

namespace clause::detail {
namespace {

// What the matrix is asked for, by ids.
struct Query {
  FixedValues values;                                   // by attribute
  std::vector<std::uint32_t> fixed_paths;               // the attributes fixed
  std::vector<std::pair<dsl::CheckedCond, bool>> bits;  // facts, consents, objections held
  std::vector<std::uint32_t> vary_tests;                // the tests reading the varied attribute
};

// Which class of the varied attribute an assignment falls in, by its tests' answers.
class VaryClasses {
 public:
  explicit VaryClasses(std::vector<std::uint32_t> tests) : tests_(std::move(tests)) {}
  std::size_t add(const std::vector<bool>& answers) {
    return index_.emplace(project(answers), index_.size()).first->second;
  }
  std::size_t size() const { return index_.size(); }

 private:
  std::vector<bool> project(const std::vector<bool>& answers) const {
    std::vector<bool> out;
    for (const std::uint32_t t : tests_)
      out.push_back(answers[t]);
    return out;
  }
  std::vector<std::uint32_t> tests_;
  std::map<std::vector<bool>, std::size_t> index_;
};

// One matrix per class of `classes` (one class when nothing is varied).
std::vector<Matrix> matrix_impl(const PolicyImpl& impl, const Query& q, VaryClasses& classes) {
  const dsl::CheckedPolicy& c = impl.checked();
  Matrix m;
  for (const auto& t : c.actions)
    m.actions.push_back(t.name);
  for (const auto& t : c.data)
    m.data.push_back(t.name);
  for (const auto& t : c.requesters)
    m.requesters.push_back(t.name);
  for (const auto& t : c.purposes)
    m.purposes.push_back(t.name);
  m.cells.resize(m.actions.size() * m.data.size() * m.requesters.size());

  // Every region's decisions, keyed by the values of the atoms its rules read; one per
  // class of the varied attribute.
  struct Seen {
    std::vector<std::uint32_t> facts, consents, objections, tests;
    std::map<std::vector<std::int32_t>, std::size_t> outcome_of;  // key -> outcome index
    std::map<std::vector<bool>, std::int32_t> test_class;         // the tests' answers, numbered
    MatrixCell cell;
  };
  struct Place {
    Seen empty;              // the atoms of the region, no decision yet
    std::vector<Seen> seen;  // by class
  };
  std::vector<Place> per_region;
  std::vector<std::size_t> region_of(m.cells.size());
  std::vector<bool> reached(m.cells.size(), false);  // cells left empty when incomplete
  // The key: one bit per fact, consent and objection (flipped one at a time below), then
  // the class of the tests' answers, then the purpose.
  const auto key_of = [](Seen& s, const Assignment& a) {
    std::vector<std::int32_t> key;
    for (const auto f : s.facts)
      key.push_back(a.facts[f] ? 1 : 0);
    for (const auto k : s.consents)
      key.push_back(a.consents[k] ? 1 : 0);
    for (const auto o : s.objections)
      key.push_back(a.objections[o] ? 1 : 0);
    std::vector<bool> answers;
    for (const auto t : s.tests)
      answers.push_back(a.tests[t]);
    key.push_back(s.test_class.emplace(answers, static_cast<std::int32_t>(s.test_class.size()))
                      .first->second);
    key.push_back(a.purpose);
    return key;
  };
  // The fixed facts, consents and objections are read everywhere, so that every region
  // enumerates them and keeps only the requests that carry them; the varied attribute's
  // tests, so that every region splits by its classes.
  std::vector<dsl::CheckedCond> read;
  for (const auto& [leaf, value] : q.bits)
    read.push_back(leaf);
  for (const std::uint32_t t : q.vary_tests)
    read.push_back(dsl::CheckedCond{ast::CondKind::attribute, {t}, {}, {}});
  Probe probe;
  for (const dsl::CheckedCond& leaf : read)
    probe.conditions.push_back(&leaf);
  const auto carries = [&](const Assignment& a) {
    return std::all_of(q.bits.begin(), q.bits.end(),
                       [&](const auto& held) { return holds(held.first, a) == held.second; });
  };
  // Consecutive visits of one region share its class spans.
  const std::uint32_t* last[3] = {nullptr, nullptr, nullptr};
  const bool complete = for_each_region(
      impl, std::span<const Probe>(&probe, read.empty() ? 0 : 1), 20,
      [&](const Region& region) {
        const std::uint32_t* now[3] = {region.actions.data(), region.requesters.data(),
                                       region.data.data()};
        if (!std::equal(now, now + 3, last)) {
          std::copy(now, now + 3, last);
          Atoms atoms;
          for (const std::size_t r : region.rules) {
            atoms.add(c.rules[r].condition);
            if (c.rules[r].consent >= 0)
              atoms.consents.insert(static_cast<std::uint32_t>(c.rules[r].consent));
          }
          Place place;
          place.empty.facts.assign(atoms.facts.begin(), atoms.facts.end());
          place.empty.consents.assign(atoms.consents.begin(), atoms.consents.end());
          place.empty.objections.assign(atoms.objections.begin(), atoms.objections.end());
          place.empty.tests.assign(atoms.tests.begin(), atoms.tests.end());
          per_region.push_back(std::move(place));
          for (const auto a : region.actions) {
            for (const auto d : region.data) {
              for (const auto r : region.requesters) {
                const std::size_t cell = (a * m.data.size() + d) * m.requesters.size() + r;
                region_of[cell] = per_region.size() - 1;
                reached[cell] = true;
              }
            }
          }
        }
        if (!carries(region.assignment)) return true;
        Place& place = per_region.back();
        const std::size_t k = classes.add(region.assignment.tests);
        while (place.seen.size() <= k)
          place.seen.push_back(place.empty);
        Seen& s = place.seen[k];
        const ReferenceVerdict v = verdict_of(impl, fast_verdict(impl, region.witness));
        const std::string clause(impl.clause_id(v.clause));
        const std::string consent =
            v.consent >= 0 ? c.consents[static_cast<std::size_t>(v.consent)].name : "";
        std::size_t index = 0;
        for (; index < s.cell.outcomes.size(); ++index) {
          const MatrixOutcome& o = s.cell.outcomes[index];
          if (o.effect == v.effect && o.clause == clause && o.consent == consent) break;
        }
        if (index == s.cell.outcomes.size()) {
          s.cell.outcomes.push_back({v.effect, clause, consent, {}, {}});
        }
        MatrixOutcome& o = s.cell.outcomes[index];
        // The purposes this assignment stands for.
        const std::int32_t purpose = region.assignment.purpose;
        const auto add_purpose = [&](const std::string& name) {
          if (std::find(o.purposes.begin(), o.purposes.end(), name) == o.purposes.end()) {
            o.purposes.push_back(name);
          }
        };
        if (purpose == -1) {
          add_purpose("");
        } else {
          // Every purpose the rules cannot tell from this one.
          Atoms named;
          for (const std::size_t r : region.rules)
            named.add(c.rules[r].condition);
          const auto same = [&](std::uint32_t id) {
            return std::all_of(named.purposes.begin(), named.purposes.end(), [&](std::uint32_t n) {
              return purpose_under(c.purposes, static_cast<std::int32_t>(id), n) ==
                     purpose_under(c.purposes, purpose, n);
            });
          };
          for (std::uint32_t id = 0; id < c.purposes.size(); ++id) {
            if (same(id)) add_purpose(c.purposes[id].name);
          }
        }
        s.outcome_of[key_of(s, region.assignment)] = index;
        return true;
      },
      q.values);

  // What each region's decision depends on: an atom matters when flipping it alone changes
  // the outcome somewhere. Held values and the varied attribute are not named: within
  // one matrix they do not change.
  const auto depends_on = [&](Seen& s) {
    if (s.cell.outcomes.size() <= 1) return;
    const std::size_t n_facts = s.facts.size();
    const std::size_t n_consents = s.consents.size();
    const std::size_t bits = n_facts + n_consents + s.objections.size();
    for (std::size_t bit = 0; bit < bits; ++bit) {
      bool matters = false;
      for (const auto& [key, outcome] : s.outcome_of) {
        std::vector<std::int32_t> other = key;
        other[bit] = 1 - other[bit];
        auto it = s.outcome_of.find(other);
        if (it != s.outcome_of.end() && it->second != outcome) matters = true;
      }
      if (!matters) continue;
      s.cell.depends_on.push_back(
          bit < n_facts ? c.facts[s.facts[bit]].name
          : bit < n_facts + n_consents
              ? fmt::format("consent {}", c.consents[s.consents[bit - n_facts]].name)
              : fmt::format("objection {}",
                            c.objections[s.objections[bit - n_facts - n_consents]].name));
    }
    // The tests' class (position `bits`) and the purpose (the last) matter when changing
    // only them changes the outcome.
    const auto differs_only_at = [&](std::size_t at) {
      for (const auto& [key, outcome] : s.outcome_of) {
        for (const auto& [other, other_outcome] : s.outcome_of) {
          if (outcome == other_outcome) continue;
          bool same = true;
          for (std::size_t i = 0; i < key.size() && same; ++i)
            same = i == at || key[i] == other[i];
          if (same) return true;
        }
      }
      return false;
    };
    if (!s.tests.empty() && differs_only_at(bits)) {
      std::vector<std::string> paths;
      for (const auto t : s.tests) {
        if (std::find(q.vary_tests.begin(), q.vary_tests.end(), t) != q.vary_tests.end()) continue;
        const dsl::AttributeTest& test = c.tests[t];
        for (const std::int32_t a : {static_cast<std::int32_t>(test.lhs), test.rhs}) {
          if (a < 0) continue;
          const auto id = static_cast<std::uint32_t>(a);
          if (std::find(q.fixed_paths.begin(), q.fixed_paths.end(), id) != q.fixed_paths.end())
            continue;
          const std::string& path = c.attributes[id].path;
          if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
        }
      }
      s.cell.depends_on.insert(s.cell.depends_on.end(), paths.begin(), paths.end());
    }
    if (differs_only_at(bits + 1)) s.cell.depends_on.emplace_back("purpose");
  };
  for (Place& place : per_region) {
    for (Seen& s : place.seen)
      depends_on(s);
  }
  m.complete = complete;
  std::vector<Matrix> out(std::max<std::size_t>(classes.size(), 1), m);
  for (std::size_t k = 0; k < out.size(); ++k) {
    for (std::size_t i = 0; i < m.cells.size(); ++i) {
      if (!reached[i]) continue;
      const Place& place = per_region[region_of[i]];
      if (k < place.seen.size()) out[k].cells[i] = place.seen[k].cell;
    }
  }
  return out;
}

Failure<MatrixError> bad(std::string_view input, std::string message) {
  return Failure{
      MatrixError{MatrixError::Kind::bad_option, std::string(input), std::move(message)}};
}

// `unknown attribute `x``, with the closest declared one.
std::string unknown(std::string_view kind, std::string_view name,
                    const std::vector<std::string_view>& known) {
  std::string message = fmt::format("unknown {} `{}`", kind, name);
  if (const std::string guess = dsl::closest_name(name, known); !guess.empty())
    message += fmt::format("; did you mean `{}`?", guess);
  return message;
}

Result<std::uint32_t, MatrixError> attribute_named(const dsl::CheckedPolicy& c,
                                                   std::string_view input, std::string_view path) {
  std::vector<std::string_view> known;
  for (std::uint32_t a = 0; a < c.attributes.size(); ++a) {
    if (c.attributes[a].path == path) return a;
    known.push_back(c.attributes[a].path);
  }
  if (known.empty()) return bad(input, "the policy declares no attribute");
  return bad(input, unknown("attribute", path, known));
}

// A value as the command line writes it, typed by the attribute's declaration.
Result<Value, std::string> typed_value(const dsl::AttributeInfo& a, std::string_view text) {
  if (text == "absent") {
    if (a.optional) return Value{};
    return Failure{fmt::format("`{}` is not optional: it cannot be absent", a.path)};
  }
  switch (a.type) {
    case AttrType::string: {
      if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
        text = text.substr(1, text.size() - 2);
      if (text.empty()) return Failure{std::string("an id is a non-empty string")};
      return Value{std::string(text)};
    }
    case AttrType::integer: {
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        return Failure{fmt::format("`{}` takes an integer", a.path)};
      return Value{n};
    }
    case AttrType::boolean:
      if (text == "true" || text == "false") return Value{text == "true"};
      return Failure{fmt::format("`{}` takes true or false", a.path)};
    case AttrType::date:
    case AttrType::time: {
      auto at = a.type == AttrType::date ? parse_date(text) : parse_time(text);
      if (!at) return Failure{at.error()};
      return Value{*at};
    }
    case AttrType::string_list: {
      // A comma list: `c-1,c-2`; nothing for the empty list.
      std::vector<std::string> list;
      for (std::size_t at = 0; !text.empty() && at <= text.size();) {
        const std::size_t comma = std::min(text.find(',', at), text.size());
        if (comma == at) return Failure{std::string("a list holds non-empty ids: `a,b`")};
        list.emplace_back(text.substr(at, comma - at));
        at = comma + 1;
      }
      return Value{std::move(list)};
    }
  }
  return Failure{std::string("no value of this type")};
}

// A fixed consent, objection or fact: `consent:NAME`, optionally `=true` or `=false`.
Result<std::pair<dsl::CheckedCond, bool>, MatrixError> named_bit(const dsl::CheckedPolicy& c,
                                                                 std::string_view input,
                                                                 std::string_view name,
                                                                 std::string_view value,
                                                                 bool given) {
  const std::size_t colon = name.find(':');
  const std::string_view kind = name.substr(0, colon);
  const std::string_view word = name.substr(colon + 1);
  const auto [cond_kind, terms] = kind == "consent" ? std::pair{ast::CondKind::consent, &c.consents}
                                  : kind == "objected"
                                      ? std::pair{ast::CondKind::objected, &c.objections}
                                      : std::pair{ast::CondKind::fact, &c.facts};
  if (kind != "consent" && kind != "objected" && kind != "fact")
    return bad(input, "names `consent:NAME`, `objected:NAME` or `fact:NAME`");
  std::vector<std::string_view> known;
  std::optional<std::uint32_t> id;
  for (std::uint32_t i = 0; i < terms->size(); ++i) {
    known.push_back((*terms)[i].name);
    if ((*terms)[i].name == word) id = i;
  }
  const std::string_view what = kind == "consent"    ? "consent"
                                : kind == "objected" ? "objection"
                                                     : "fact";
  if (!id) return bad(input, unknown(what, word, known));
  if (given && value != "true" && value != "false")
    return bad(input, fmt::format("`{}` takes true or false", name));
  return std::pair{dsl::CheckedCond{cond_kind, {*id}, {}, {}}, !given || value == "true"};
}

Result<Query, MatrixError> query_of(const dsl::CheckedPolicy& c, const MatrixOptions& options) {
  Query q;
  q.values.resize(c.attributes.size());
  for (const std::string& input : options.fix) {
    const std::size_t eq = input.find('=');
    const std::string_view name = std::string_view(input).substr(0, eq);
    // No `=`: a name held true, or an attribute missing its value.
    const bool given = eq != std::string::npos;
    const std::string_view value = given ? std::string_view(input).substr(eq + 1) : "";
    if (name.find(':') != std::string_view::npos) {
      auto bit = named_bit(c, input, name, value, given);
      if (!bit) return Failure{bit.error()};
      q.bits.push_back(std::move(*bit));
      continue;
    }
    auto a = attribute_named(c, input, name);
    if (!a) return Failure{a.error()};
    if (!given) return bad(input, fmt::format("give a value: `{}=VALUE`", name));
    auto typed = typed_value(c.attributes[*a], value);
    if (!typed) return bad(input, typed.error());
    // A value outside the attribute's set or range is one no request may carry.
    if (auto why = dsl::not_taken(c.attributes[*a], *typed))
      return bad(input, fmt::format("{} {}", value, *why));
    q.values[*a] = std::move(*typed);  // the last one given wins
    if (std::find(q.fixed_paths.begin(), q.fixed_paths.end(), *a) == q.fixed_paths.end())
      q.fixed_paths.push_back(*a);
  }
  return q;
}

}  // namespace
}  // namespace clause::detail

namespace clause {

Matrix decision_matrix(const Policy& policy) noexcept {
  return detail::whole_or_incomplete<Matrix>([&] {
    const detail::PolicyImpl* impl = detail::Access::impl(policy);
    if (impl == nullptr) return Matrix{};
    detail::VaryClasses classes({});
    return detail::matrix_impl(*impl, {}, classes).front();
  });
}

Result<std::vector<MatrixClass>, MatrixError> decision_matrices(
    const Policy& policy, const MatrixOptions& options) noexcept {
  using Out = Result<std::vector<MatrixClass>, MatrixError>;
  const auto too_large = [](std::string input, std::string message) -> Out {
    return Failure{MatrixError{MatrixError::Kind::too_large, std::move(input), std::move(message)}};
  };
  try {
    const detail::PolicyImpl* impl = detail::Access::impl(policy);
    if (impl == nullptr) return std::vector<MatrixClass>{{"", Matrix{}}};
    const dsl::CheckedPolicy& c = impl->checked();
    auto q = detail::query_of(c, options);
    if (!q) return Failure{q.error()};
    std::vector<std::vector<bool>> answers;  // of each class, in order of value
    std::uint32_t varied = 0;
    if (!options.vary.empty()) {
      auto a = detail::attribute_named(c, options.vary, options.vary);
      if (!a) return Failure{a.error()};
      varied = *a;
      if (q->values[varied]) {
        return Failure{MatrixError{MatrixError::Kind::bad_option, options.vary,
                                   "it is held fixed by --fix: vary another attribute"}};
      }
      q->vary_tests = detail::tests_reading(c, varied);
      const detail::TestClasses found = detail::attribute_classes(c, q->vary_tests, q->values);
      if (!found.complete || found.classes.size() > max_matrix_classes) {
        return too_large(options.vary, fmt::format("its values fall into more than {} classes",
                                                   max_matrix_classes));
      }
      std::vector<const detail::TestClass*> sorted;
      for (const detail::TestClass& k : found.classes)
        sorted.push_back(&k);
      // In order of the varied value; absent last.
      std::stable_sort(sorted.begin(), sorted.end(), [&](const auto* x, const auto* y) {
        const Value& u = x->values[varied];
        const Value& v = y->values[varied];
        const bool ua = std::holds_alternative<std::monostate>(u);
        const bool va = std::holds_alternative<std::monostate>(v);
        return ua != va ? va : u < v;
      });
      for (const detail::TestClass* k : sorted)
        answers.push_back(k->answers);
    }
    detail::VaryClasses classes(q->vary_tests);
    for (const auto& a : answers)
      classes.add(a);
    std::vector<Matrix> matrices = detail::matrix_impl(*impl, *q, classes);
    std::vector<MatrixClass> out;
    for (std::size_t k = 0; k < matrices.size(); ++k) {
      std::string label;
      if (!options.vary.empty()) {
        // A class seen only while deciding: its answers are those its cells were keyed by.
        label = k < answers.size() ? detail::class_label(c, varied, q->vary_tests, answers[k])
                                   : fmt::format("another class of {}", options.vary);
      }
      out.push_back({std::move(label), std::move(matrices[k])});
    }
    return out;
  } catch (...) {
    return too_large(options.vary, "out of memory");
  }
}

}  // namespace clause
