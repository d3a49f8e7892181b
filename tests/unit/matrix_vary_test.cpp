// The matrix held to fixed values and split by an attribute's classes, and the other values
// explain tries, against brute force over the candidate grid on random policies.
#include <fmt/format.h>

#include <map>
#include <random>
#include <set>

#include "analysis/attribute_classes.hpp"
#include "clause/detail.hpp"
#include "clause/matrix.hpp"
#include "clause/near_miss.hpp"
#include "core/attribute_test.hpp"
#include "grid_request.hpp"
#include "random_attribute_policy.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

std::string outcome_key(Effect e, std::string_view clause, std::string_view consent) {
  return fmt::format("{} {} {}", to_string(e), clause, consent);
}

// A fix as the command line writes it.
std::string fix_text(const dsl::AttributeInfo& a, const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return a.path + "=absent";
  if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
    std::string out;
    for (const std::string& s : *l)
      out += (out.empty() ? "" : ",") + s;
    return a.path + "=" + out;
  }
  if (const auto* s = std::get_if<std::string>(&v)) return a.path + "=" + *s;
  return a.path + "=" + detail::value_text(v);
}

// Random requests of one cell over the grid.
struct Sampler {
  const dsl::CheckedPolicy& c;
  const std::vector<std::vector<Value>>& grid;
  std::mt19937_64& rng;
  Request operator()(const Matrix& m, std::size_t a, std::size_t d, std::size_t r) const {
    Request q = grid_request(rng, c, grid);
    q.action = m.actions[a];
    q.data = m.data[d];
    q.requester = m.requesters[r];
    return q;
  }
};

// Calls `check` on random policies with attributes whose grid is within the bounds.
template <class Check>
void on_random_policies(std::mt19937_64& rng, Check check) {
  for (int round = 0; round < 30; ++round) {
    const std::string text = random_attribute_policy(rng, 1 + static_cast<int>(rng() % 5), 0);
    INFO(text);
    const Policy p = must_compile(text);
    const auto grid = whole_grid(p.checked());
    if (!grid.empty()) check(p, grid);
  }
}

Value value_of(const Request& q, const std::string& path) {
  for (const Attribute& a : q.attributes) {
    if (a.path == path) return a.value;
  }
  return {};
}

TEST_CASE("every cell of a fixed or split matrix holds the decisions of its requests",
          "[matrix][attributes][property]") {
  std::mt19937_64 rng(1507);
  int split = 0, fixed = 0;
  on_random_policies(rng, [&](const Policy& p, const std::vector<std::vector<Value>>& grid) {
    const dsl::CheckedPolicy& c = p.checked();
    const Sampler sample{c, grid, rng};
    const std::uint32_t attribute = static_cast<std::uint32_t>(rng() % c.attributes.size());
    const Value held = grid[attribute][rng() % grid[attribute].size()];
    const std::uint32_t varied = static_cast<std::uint32_t>(rng() % c.attributes.size());
    MatrixOptions asked;
    const bool fix_value = rng() % 2 == 0;
    const bool fix_objection = rng() % 3 == 0;
    if (fix_value) asked.fix.push_back(fix_text(c.attributes[attribute], held));
    if (fix_objection) asked.fix.emplace_back("objected:o0");
    if (!fix_value || varied != attribute) asked.vary = c.attributes[varied].path;
    INFO(fmt::format("fix {} vary {}", fmt::join(asked.fix, " "), asked.vary));
    const auto ms = decision_matrices(p, asked);
    REQUIRE(ms);
    const Matrix whole = decision_matrix(p);
    const std::vector<std::uint32_t> vary_tests = detail::tests_reading(c, varied);
    std::map<std::string, std::size_t> by_label;
    for (std::size_t k = 0; k < ms->size(); ++k) {
      REQUIRE((*ms)[k].matrix.complete);
      by_label[(*ms)[k].label] = k;
    }
    if (!asked.vary.empty()) {
      // Labels tell the classes apart.
      REQUIRE(by_label.size() == ms->size());
      ++split;
    }
    fixed += asked.fix.empty() ? 0 : 1;
    for (std::size_t a = 0; a < whole.actions.size(); ++a) {
      for (std::size_t d = 0; d < whole.data.size(); ++d) {
        for (std::size_t r = 0; r < whole.requesters.size(); ++r) {
          // Each class's outcomes come from the whole matrix's.
          std::set<std::string> outcomes;
          for (const auto& o : whole.at(a, d, r).outcomes)
            outcomes.insert(outcome_key(o.effect, o.clause, o.consent));
          for (const MatrixClass& m : *ms) {
            for (const auto& o : m.matrix.at(a, d, r).outcomes)
              CHECK(outcomes.contains(outcome_key(o.effect, o.clause, o.consent)));
          }
          for (int n = 0; n < 40; ++n) {
            Request q = sample(whole, a, d, r);
            if (fix_value) q = with_value(q, c.attributes[attribute].path, held);
            if (fix_objection &&
                std::find(q.objections.begin(), q.objections.end(), "o0") == q.objections.end())
              q.objections.push_back("o0");
            auto resolved = p.resolve(q);
            REQUIRE(resolved);
            const Decision dec = p.evaluate(*resolved);
            // The request's class, by its answers to the varied attribute's tests.
            std::size_t k = 0;
            if (!asked.vary.empty()) {
              std::vector<Value> values(c.attributes.size());
              for (std::size_t i = 0; i < c.attributes.size(); ++i)
                values[i] = value_of(q, c.attributes[i].path);
              if (c.attributes[varied].path == "requester.id" &&
                  std::holds_alternative<std::monostate>(values[varied]))
                values[varied] = q.requester_id;
              std::vector<bool> answers(c.tests.size(), false);
              for (const std::uint32_t t : vary_tests)
                answers[t] = detail::run_test(c.tests[t], values);
              const std::string label = detail::class_label(c, varied, vary_tests, answers);
              INFO(label);
              REQUIRE(by_label.contains(label));
              k = by_label[label];
            }
            const MatrixCell& cell = (*ms)[k].matrix.at(a, d, r);
            bool found = false;
            for (const auto& o : cell.outcomes) {
              if (outcome_key(o.effect, o.clause, o.consent) ==
                  outcome_key(dec.effect, dec.clause, dec.consent)) {
                found = std::find(o.purposes.begin(), o.purposes.end(), q.purpose.value_or("")) !=
                        o.purposes.end();
              }
            }
            CHECK(found);
          }
        }
      }
    }
  });
  CHECK(split > 5);
  CHECK(fixed > 5);
}

TEST_CASE("the other values of an attribute are every other class its value can take",
          "[explain][attributes][property]") {
  std::mt19937_64 rng(1508);
  int tried = 0;
  on_random_policies(rng, [&](const Policy& p, const std::vector<std::vector<Value>>& grid) {
    const dsl::CheckedPolicy& c = p.checked();
    const Sampler sample{c, grid, rng};
    const Matrix whole = decision_matrix(p);
    for (int n = 0; n < 20; ++n) {
      const Request q = sample(whole, rng() % whole.actions.size(), rng() % whole.data.size(),
                               rng() % whole.requesters.size());
      const auto a = static_cast<std::uint32_t>(rng() % c.attributes.size());
      const std::string& path = c.attributes[a].path;
      const std::vector<std::uint32_t> tests = detail::tests_reading(c, a);
      const auto answers_of = [&](const Request& r) {
        const ResolvedRequest resolved = p.resolve(r).value();
        const auto& values = detail::Access::attributes(resolved);
        std::vector<bool> out;
        for (const std::uint32_t t : tests)
          out.push_back(detail::run_test(c.tests[t], values));
        return out;
      };
      const auto decided = [&](const Request& r) {
        const Decision d = p.evaluate(r);
        return fmt::format("{} {} {}", to_string(d.effect), d.clause, d.consent);
      };
      const std::vector<bool> own = answers_of(q);
      std::map<std::vector<bool>, std::string> classes;  // answers -> the decision explain shows
      for (const OtherValue& other : other_values(p, q, path)) {
        const Request changed = with_value(q, path, other.value);
        REQUIRE(p.resolve(changed));
        const std::vector<bool> answers = answers_of(changed);
        CHECK(answers != own);
        CHECK(classes.emplace(answers, decided(changed)).second);
        ++tried;
      }
      // Every value of the grid falls in the request's class or in one found, and gets the
      // decision shown for its class: the value explain names stands for all of them.
      for (const Value& v : grid[a]) {
        const Request changed = with_value(q, path, v);
        const std::vector<bool> answers = answers_of(changed);
        if (answers == own) {
          CHECK(decided(changed) == decided(q));
          continue;
        }
        REQUIRE(classes.contains(answers));
        CHECK(decided(changed) == classes[answers]);
      }
    }
  });
  CHECK(tried > 50);
}

TEST_CASE("matrix options name what is wrong", "[matrix][attributes]") {
  const Policy p = must_compile(R"(policy "t" version "1"
clause "c" "words"
data record
requester clinician
action access
objection family
attribute data.age integer
attribute context.time time
attribute context.place string optional
allow access of record by clinician when data.age < 18 and not objected family cites "c"
)");
  const auto error = [&](MatrixOptions o) {
    const auto m = decision_matrices(p, o);
    REQUIRE(!m);
    return m.error().message;
  };
  CHECK(error({{"data.ag=3"}, ""}) == "unknown attribute `data.ag`; did you mean `data.age`?");
  CHECK(error({{"data.age=x"}, ""}) == "`data.age` takes an integer");
  CHECK(error({{"data.age"}, ""}) == "give a value: `data.age=VALUE`");
  CHECK(error({{"data.age=absent"}, ""}) == "`data.age` is not optional: it cannot be absent");
  CHECK(error({{"objected:famly"}, ""}) == "unknown objection `famly`; did you mean `family`?");
  CHECK(error({{}, "data.agee"}) == "unknown attribute `data.agee`; did you mean `data.age`?");
  CHECK(error({{"data.age=3"}, "data.age"}) == "it is held fixed by --fix: vary another attribute");
  const auto split = decision_matrices(p, {{"context.place=absent"}, "data.age"});
  REQUIRE(split);
  REQUIRE(split->size() == 2);
  CHECK((*split)[0].label == "data.age < 18");
  CHECK((*split)[1].label == "data.age >= 18");
  CHECK((*split)[0].matrix.cells[0].depends_on == std::vector<std::string>{"objection family"});
  CHECK((*split)[1].matrix.cells[0].outcomes.size() == 1);
  const auto held = decision_matrices(p, {{"objected:family", "data.age=12"}, ""});
  REQUIRE(held);
  REQUIRE(held->front().matrix.cells[0].outcomes.size() == 1);
  CHECK(held->front().matrix.cells[0].outcomes[0].effect == Effect::deny);
  const auto lifted = decision_matrices(p, {{"objected:family=false", "data.age=12"}, ""});
  REQUIRE(lifted);
  CHECK(lifted->front().matrix.cells[0].outcomes[0].effect == Effect::allow);
}

TEST_CASE("a split into more classes than a matrix shows is refused", "[matrix][attributes]") {
  std::string text = R"(policy "t" version "1"
clause "c" "words"
data record
requester clinician
action access
attribute data.place string
)";
  // Each constant is a class of its own, and every other id one more.
  for (std::size_t n = 0; n < max_matrix_classes; ++n)
    text += fmt::format(
        "allow access of record by clinician when data.place = \"p{}\" cites \"c\"\n", n);
  const Policy p = must_compile(text);
  const auto m = decision_matrices(p, {{}, "data.place"});
  REQUIRE(!m);
  CHECK(m.error().kind == MatrixError::Kind::too_large);
  CHECK(m.error().message == "its values fall into more than 64 classes");
  const auto held = decision_matrices(p, {{"data.place=p3"}, ""});
  REQUIRE(held);
  CHECK(held->front().matrix.cells[0].outcomes.size() == 1);
  CHECK(held->front().matrix.cells[0].outcomes[0].effect == Effect::allow);
}

}  // namespace
}  // namespace clause::test
