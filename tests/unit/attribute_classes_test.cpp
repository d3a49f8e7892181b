// Attribute classes: the combinations of test answers the analyses enumerate are exactly
// those some values give. Random small test sets are held against a wider grid of values.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "analysis/attribute_classes.hpp"
#include "clause/detail.hpp"
#include "clause/lint.hpp"
#include "clause/matrix.hpp"
#include "clause/verify.hpp"
#include "core/attribute_test.hpp"
#include "grid_request.hpp"
#include "random_attribute_policy.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

using detail::TestClasses;
using dsl::AttributeTest;

Instant at(const char* text) {
  return parse_time(text).value();
}

dsl::CheckedPolicy attribute_vocabulary() {
  dsl::CheckedPolicy p;
  const auto declare = [&](const char* path, AttrType type, bool optional = false) {
    p.attributes.push_back({path, type, optional, {}, {}, {}, {}});
  };
  declare("data.a", AttrType::integer);              // 0
  declare("data.b", AttrType::integer);              // 1
  declare("context.time", AttrType::time);           // 2
  declare("data.last", AttrType::time);              // 3
  declare("data.born", AttrType::date);              // 4
  declare("requester.id", AttrType::string);         // 5
  declare("data.subject", AttrType::string);         // 6
  declare("data.team", AttrType::string_list);       // 7
  declare("data.paid", AttrType::boolean);           // 8
  declare("context.place", AttrType::string, true);  // 9
  declare("data.count", AttrType::integer, true);    // 10
  declare("data.seen", AttrType::time, true);        // 11
  return p;
}

AttributeTest random_test(std::mt19937_64& rng) {
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const auto op = [&] { return static_cast<ast::CompareOp>(pick(6)); };
  static const std::uint32_t integers[] = {0, 1, 10};
  static const std::uint32_t times[] = {2, 3, 4, 11};
  static const std::uint32_t strings[] = {5, 6, 9};
  static const std::int64_t numbers[] = {-2, 0, 5, 18, 21};
  static const char* instants[] = {"2026-01-01", "2026-02-16T08:00:00Z", "2024-02-29", "2024-01-31",
                                   "2026-03-01T00:00:00.000001Z"};
  static const Duration shifts[] = {{},           {6, 0, 0, 0},  {0, 1, 0, 0},   {0, -1, 0, 0},
                                    {0, 0, 1, 0}, {0, 0, 0, 90}, {1, 2, 3, 7200}};
  AttributeTest t;
  switch (pick(6)) {
    case 0:
      t.kind = AttributeTest::Kind::compare;
      t.lhs = integers[pick(3)];
      t.op = op();
      if (pick(3) == 0) {
        t.rhs = static_cast<std::int32_t>(integers[pick(3)]);
      } else {
        t.constant = numbers[pick(5)];
      }
      break;
    case 1:
    case 2:
      t.kind = AttributeTest::Kind::compare;
      t.lhs = times[pick(4)];
      t.op = op();
      t.shift = shifts[pick(7)];
      if (pick(2) == 0) {
        t.rhs = static_cast<std::int32_t>(times[pick(4)]);
      } else {
        t.constant = at(instants[pick(5)]);
      }
      break;
    case 3:
      t.kind = AttributeTest::Kind::compare;
      t.lhs = strings[pick(3)];
      t.op = pick(2) == 0 ? ast::CompareOp::eq : ast::CompareOp::ne;
      if (pick(2) == 0) {
        t.rhs = static_cast<std::int32_t>(strings[pick(3)]);
      } else {
        t.constant = std::string(pick(2) == 0 ? "CA" : "US");
      }
      break;
    case 4:
      t.kind = AttributeTest::Kind::member;
      t.lhs = strings[pick(3)];
      t.rhs = 7;
      break;
    default:
      t.lhs = 8;
      if (pick(2) == 0) {
        t.kind = AttributeTest::Kind::truth;
      } else {
        t.kind = AttributeTest::Kind::compare;
        t.op = pick(2) == 0 ? ast::CompareOp::eq : ast::CompareOp::ne;
        t.constant = pick(2) == 0;
      }
      break;
  }
  return t;
}

// More values than the classes try: around each candidate at other distances, and others.
std::vector<Value> wider(const dsl::AttributeInfo& a, const std::vector<Value>& candidates,
                         std::mt19937_64& rng) {
  std::vector<Value> out = candidates;
  constexpr std::int64_t day = 86'400'000'000;
  for (const Value& v : candidates) {
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
      for (std::int64_t k = -3; k <= 3; ++k)
        out.emplace_back(*n + k);
    }
    if (const auto* i = std::get_if<Instant>(&v)) {
      for (const std::int64_t d : {std::int64_t{2}, std::int64_t{3'600'000'000}, day / 2, 2 * day,
                                   15 * day, 40 * day, 200 * day, 400 * day}) {
        for (const std::int64_t sign : {std::int64_t{-1}, std::int64_t{1}}) {
          const std::int64_t m = i->micros + sign * d;
          out.emplace_back(Instant{a.type == AttrType::date ? m - (m % day + day) % day : m});
        }
      }
    }
  }
  if (a.type == AttrType::string) {
    for (const char* s : {"CA", "US", "other", "witness-1", "witness-2"})
      out.emplace_back(std::string(s));
  }
  if (a.type == AttrType::string_list) {
    for (int i = 0; i < 20; ++i) {
      std::vector<std::string> list;
      for (const char* s : {"CA", "US", "other", "witness-1", "witness-2"}) {
        if (rng() % 3 == 0) list.emplace_back(s);
      }
      out.emplace_back(std::move(list));
    }
  }
  if (a.optional) out.emplace_back(std::monostate{});
  return out;
}

bool valid(const dsl::AttributeInfo& a, const Value& v) {
  switch (a.type) {
    case AttrType::string:
      return std::holds_alternative<std::string>(v) || (a.optional && v.index() == 0);
    case AttrType::integer:
      return std::holds_alternative<std::int64_t>(v) || (a.optional && v.index() == 0);
    case AttrType::boolean:
      return std::holds_alternative<bool>(v) || (a.optional && v.index() == 0);
    case AttrType::string_list:
      return std::holds_alternative<std::vector<std::string>>(v) || (a.optional && v.index() == 0);
    case AttrType::time:
    case AttrType::date: {
      if (a.optional && v.index() == 0) return true;
      const auto* i = std::get_if<Instant>(&v);
      if (i == nullptr) return false;
      const std::string text = a.type == AttrType::date ? format_date(*i) : format_date_time(*i);
      const auto back = a.type == AttrType::date ? parse_date(text) : parse_date_time(text);
      return back && back.value() == *i;
    }
  }
  return false;
}

TEST_CASE("attribute classes are exact on random small test sets", "[analysis][attributes]") {
  std::mt19937_64 rng(15);
  int incomplete = 0;
  for (int round = 0; round < 500; ++round) {
    dsl::CheckedPolicy p = attribute_vocabulary();
    const int tests = 1 + static_cast<int>(rng() % 5);
    std::vector<std::uint32_t> ids;
    for (int i = 0; i < tests; ++i) {
      p.tests.push_back(random_test(rng));
      ids.push_back(static_cast<std::uint32_t>(i));
    }
    const TestClasses classes = detail::attribute_classes(p, ids);
    // Past the bound the answer is "incomplete", never a guess: it must stay rare here.
    if (!classes.complete) {
      ++incomplete;
      continue;
    }
    std::set<std::vector<bool>> found;
    for (const detail::TestClass& c : classes.classes) {
      for (std::size_t a = 0; a < p.attributes.size(); ++a)
        REQUIRE(valid(p.attributes[a], c.values[a]));
      std::vector<bool> answers;
      for (const std::uint32_t t : ids) {
        answers.push_back(detail::run_test(p.tests[t], c.values));
        REQUIRE(answers.back() == c.answers[t]);
      }
      REQUIRE(found.insert(answers).second);  // one witness per class
    }
    const auto candidates = detail::candidate_values(p, ids);
    REQUIRE(candidates.size() == p.attributes.size());
    std::vector<std::vector<Value>> grid;
    for (std::size_t a = 0; a < p.attributes.size(); ++a)
      grid.push_back(wider(p.attributes[a], candidates[a], rng));
    std::vector<Value> values(p.attributes.size());
    for (int draw = 0; draw < 3000; ++draw) {
      for (std::size_t a = 0; a < p.attributes.size(); ++a)
        values[a] = grid[a][rng() % grid[a].size()];
      std::vector<bool> answers;
      for (const std::uint32_t t : ids)
        answers.push_back(detail::run_test(p.tests[t], values));
      if (found.count(answers) == 0) {
        std::string text;
        for (const std::uint32_t t : ids) {
          const auto& x = p.tests[t];
          text += fmt::format("[kind {} lhs {} op {} rhs {} shift {} const {}] ", int(x.kind),
                              x.lhs, int(x.op), x.rhs, format_duration(x.shift),
                              std::holds_alternative<Instant>(x.constant)
                                  ? format_date_time(std::get<Instant>(x.constant))
                              : std::holds_alternative<std::int64_t>(x.constant)
                                  ? std::to_string(std::get<std::int64_t>(x.constant))
                                  : "?");
        }
        for (const auto& v : values) {
          if (const auto* i = std::get_if<Instant>(&v))
            text += format_date_time(*i) + " ";
          else if (const auto* n = std::get_if<std::int64_t>(&v))
            text += std::to_string(*n) + " ";
          else
            text += "_ ";
        }
        FAIL(text);
      }
    }
  }
  CHECK(incomplete < 10);
}

// Ranges and name sets: every answer that valid values give has a witness, and every
// witness is valid (inside the range, one of the set's names).
TEST_CASE("attribute classes keep to ranges and name sets", "[analysis][attributes][types]") {
  dsl::CheckedPolicy p;
  const std::vector<std::string> countries = {"CA", "US", "FR"};
  p.attributes = {
      {"data.age", AttrType::integer, false, {}, {}, {}, dsl::IntRange{0, 150}},  // 0
      {"data.b", AttrType::integer, false, {}, {}, {}, {}},                       // 1
      {"context.place", AttrType::string, true, {}, "country", countries, {}},    // 2
      {"context.home", AttrType::string, false, {}, "country", countries, {}},    // 3
      {"data.team", AttrType::string_list, false, {}, {}, {}, {}},                // 4
  };
  std::mt19937_64 rng(150);
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  static const std::int64_t numbers[] = {-1, 0, 5, 18, 150, 151};
  const auto random_test = [&] {
    AttributeTest t;
    t.kind = AttributeTest::Kind::compare;
    switch (pick(4)) {
      case 0:
        t.lhs = 0;
        t.op = static_cast<ast::CompareOp>(pick(6));
        t.constant = numbers[pick(6)];
        break;
      case 1:
        t.lhs = static_cast<std::uint32_t>(pick(2));
        t.op = static_cast<ast::CompareOp>(pick(6));
        t.rhs = static_cast<std::int32_t>(1 - t.lhs);
        break;
      case 2:
        t.lhs = 2 + static_cast<std::uint32_t>(pick(2));
        t.op = pick(2) == 0 ? ast::CompareOp::eq : ast::CompareOp::ne;
        if (pick(3) == 0) {
          t.rhs = static_cast<std::int32_t>(5 - t.lhs);
        } else {
          t.constant = countries[pick(3)];
        }
        break;
      default:
        t.kind = AttributeTest::Kind::member;
        t.lhs = 2 + static_cast<std::uint32_t>(pick(2));
        t.rhs = 4;
        break;
    }
    return t;
  };
  std::vector<Value> ages, bs, places, homes, teams;
  for (std::int64_t n = 0; n <= 150; ++n)
    ages.emplace_back(n);
  for (std::int64_t n = -5; n <= 160; ++n)
    bs.emplace_back(n);
  for (const std::string& c : countries) {
    places.emplace_back(c);
    homes.emplace_back(c);
  }
  places.emplace_back(std::monostate{});
  const std::vector<std::string> pool = {"CA", "US", "FR", "x"};
  for (std::uint32_t mask = 0; mask < 16; ++mask) {
    std::vector<std::string> list;
    for (std::size_t i = 0; i < pool.size(); ++i) {
      if (((mask >> i) & 1U) != 0) list.push_back(pool[i]);
    }
    teams.emplace_back(std::move(list));
  }
  const std::vector<std::vector<Value>*> valid_values = {&ages, &bs, &places, &homes, &teams};
  for (int round = 0; round < 200; ++round) {
    p.tests.clear();
    std::vector<std::uint32_t> ids;
    for (std::uint32_t i = 0; i < 1 + pick(4); ++i) {
      p.tests.push_back(random_test());
      ids.push_back(i);
    }
    const TestClasses classes = detail::attribute_classes(p, ids);
    REQUIRE(classes.complete);
    std::set<std::vector<bool>> found;
    for (const detail::TestClass& c : classes.classes) {
      for (std::size_t a = 0; a < p.attributes.size(); ++a)
        REQUIRE_FALSE(dsl::not_taken(p.attributes[a], c.values[a]).has_value());
      std::vector<bool> answers;
      for (const std::uint32_t t : ids)
        answers.push_back(detail::run_test(p.tests[t], c.values));
      found.insert(answers);
    }
    std::vector<Value> values(p.attributes.size());
    for (int draw = 0; draw < 2000; ++draw) {
      for (std::size_t a = 0; a < p.attributes.size(); ++a)
        values[a] = (*valid_values[a])[pick(valid_values[a]->size())];
      std::vector<bool> answers;
      for (const std::uint32_t t : ids)
        answers.push_back(detail::run_test(p.tests[t], values));
      REQUIRE(found.count(answers) == 1);
    }
  }
}

}  // namespace
}  // namespace clause::test

namespace clause::test {
namespace {

// Resolves a witness through the request decoder, values and objections included.
ResolvedRequest resolve_witness(const Policy& policy, const Request& witness) {
  auto resolved = policy.resolve(witness);
  if (!resolved) FAIL(resolved.error().to_string());
  return std::move(resolved.value());
}

TEST_CASE(
    "verify reads attribute tests as the values allow, and its witnesses are decided as "
    "reported",
    "[verify][attributes]") {
  // Each assertion was proved before the analyses knew the tests' values: the witness's
  // test bits were never set, and `age < 18` and `age >= 20` were independent.
  const Policy p = must_compile(R"(policy "t" version "1"
clause "c" "words"
data record
requester clinician
action access
purpose operations
purpose training under operations
objection family
attribute data.age integer
attribute context.time time
attribute context.place string optional
allow access of record by clinician when data.age < 18 and not objected family cites "c"
allow access of record by clinician when context.place = "CA" and context.time >= 2026-02-16 cites "c"
deny access of record by clinician when data.age >= 21 cites "c"
deny access of record by clinician when purpose is operations cites "c"
assert never allow access of record by clinician when data.age >= 20 and context.place != "CA"
assert never allow access of record by clinician when data.age < 10
assert always deny access of record by clinician when purpose is training
assert never allow access of record by clinician unless objected family
assert never allow access of record by clinician when data.age = 19
)");
  const std::vector<AssertionResult> results = verify(p);
  REQUIRE(results.size() == 5);
  CHECK(results[0].proved);
  CHECK(!results[1].proved);
  CHECK(results[2].proved);
  CHECK(!results[3].proved);
  CHECK(!results[4].proved);
  for (const AssertionResult& r : results) {
    REQUIRE(r.complete);
    if (!r.counterexample) continue;
    INFO(r.text);
    const Decision d = p.evaluate(resolve_witness(p, *r.counterexample));
    CHECK(d.effect == r.effect);
    CHECK(d.clause == r.clause);
  }
  // The last needs the place and the time: the witness carries both.
  const Request& w = *results[4].counterexample;
  CHECK(std::any_of(w.attributes.begin(), w.attributes.end(), [](const Attribute& a) {
    return a.path == "context.place" && a.value == Value{std::string("CA")};
  }));
}

// The assignment a concrete request gives, to read an assertion's conditions.
detail::Assignment assignment_of(const detail::PolicyImpl& impl, const ResolvedRequest& q) {
  const dsl::CheckedPolicy& c = impl.checked();
  detail::Assignment a;
  const auto& atoms = detail::Access::atoms(q);
  for (std::uint32_t i = 0; i < c.facts.size(); ++i)
    a.facts.push_back(detail::test_bit(atoms, impl.layout.fact(i)));
  for (std::uint32_t i = 0; i < c.consents.size(); ++i)
    a.consents.push_back(detail::test_bit(atoms, impl.layout.consent(i)));
  for (std::uint32_t i = 0; i < c.objections.size(); ++i)
    a.objections.push_back(detail::test_bit(atoms, impl.layout.objection(i)));
  for (std::uint32_t i = 0; i < c.tests.size(); ++i)
    a.tests.push_back(detail::test_bit(atoms, impl.layout.test(i)));
  a.purpose = detail::Access::purpose(q);
  a.purposes = &c.purposes;
  return a;
}

TEST_CASE("index, reference and verify agree with brute force on random policies with attributes",
          "[property][attributes]") {
  std::mt19937_64 rng(1515);
  int proved = 0, refuted = 0;
  for (int round = 0; round < 40; ++round) {
    const std::string text = random_attribute_policy(rng, 2 + static_cast<int>(rng() % 6), 3);
    INFO(text);
    const Policy p = must_compile(text);
    const detail::PolicyImpl& impl = *detail::Access::impl(p);
    const dsl::CheckedPolicy& c = impl.checked();
    const auto grid = whole_grid(c);
    if (grid.empty()) continue;  // past the bounds: the analyses say incomplete
    // Random concrete requests from the grid, with every other atom random too.
    const auto random_request = [&] { return grid_request(rng, c, grid); };
    for (int n = 0; n < 300; ++n) {
      const ResolvedRequest q = resolve_witness(p, random_request());
      const detail::ReferenceVerdict slow = detail::reference_evaluate(impl, q, nullptr);
      const detail::ReferenceVerdict fast = detail::verdict_of(impl, detail::fast_verdict(impl, q));
      REQUIRE(slow.rule == fast.rule);
      REQUIRE(slow.effect == fast.effect);
    }
    const std::vector<AssertionResult> results = verify(p);
    for (std::size_t n = 0; n < results.size(); ++n) {
      if (!results[n].complete) continue;
      INFO(results[n].text);
      const dsl::CheckedAssertion& a = c.assertions[n];
      const auto breaks = [&](const ResolvedRequest& q) {
        const detail::Assignment x = assignment_of(impl, q);
        if (!detail::holds(a.when, x) || (a.unless && detail::holds(*a.unless, x))) return false;
        if (!detail::covers(a.actions, c.actions, detail::Access::action(q), false) ||
            !detail::covers(a.data, c.data, detail::Access::data(q), true) ||
            !detail::covers(a.requesters, c.requesters, detail::Access::requester(q), true)) {
          return false;
        }
        const Decision d = p.evaluate(q);
        const bool is = d.effect == (a.effect == ast::Effect::allow  ? Effect::allow
                                     : a.effect == ast::Effect::deny ? Effect::deny
                                                                     : Effect::require_consent);
        return is != a.always;
      };
      if (results[n].counterexample) {
        ++refuted;
        const ResolvedRequest q = resolve_witness(p, *results[n].counterexample);
        CHECK(breaks(q));
        CHECK(p.evaluate(q).effect == results[n].effect);
      } else {
        ++proved;
        for (int k = 0; k < 2000; ++k)
          REQUIRE(!breaks(resolve_witness(p, random_request())));
      }
    }
  }
  CHECK(proved > 5);
  CHECK(refuted > 5);
}

TEST_CASE("the matrix says which objections and attributes a cell depends on",
          "[matrix][attributes]") {
  const Policy p = must_compile(R"(policy "t" version "1"
clause "c" "words"
data record
requester clinician
action access
objection family
attribute data.age integer
attribute context.time time
allow access of record by clinician when data.age < 18 and not objected family cites "c"
)");
  const Matrix m = decision_matrix(p);
  REQUIRE(m.complete);
  REQUIRE(m.cells.size() == 1);
  CHECK(m.cells[0].outcomes.size() == 2);
  CHECK(m.cells[0].depends_on == std::vector<std::string>{"objection family", "data.age"});
}

TEST_CASE("the linter reads tests over one attribute as related", "[lint][attributes]") {
  const Policy p = must_compile(R"(policy "t" version "1"
clause "c" "words"
data record
requester clinician
action access
attribute data.age integer
attribute context.time time
attribute data.last date
allow access of record by clinician when data.age < 18 and data.age >= 21 cites "c"
allow access of record by clinician when context.time < 2026-01-01 and context.time >= data.last + 6 years and data.last > 2020-01-01 cites "c"
allow access of record by clinician when data.age < 18 and data.age >= 17 cites "c"
)");
  std::vector<std::size_t> never;
  for (const Diagnostic& d : lint(p)) {
    if (d.code == "W005") never.push_back(d.span.begin);
  }
  // The first two can never hold; the third can, at 17.
  CHECK(never.size() == 2);
}

}  // namespace
}  // namespace clause::test
