// Stage: analysis. Cuts each attribute's domain at the constants, durations and attribute
// pairs the tests mention, tries every combination of the cut points and their neighbours,
// and keeps one witness per distinct answer vector.
#include "analysis/attribute_classes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <set>
#include <string>

#include "core/attribute_test.hpp"
#include "core/policy_impl.hpp"

namespace clause::detail {
namespace {

constexpr std::int64_t micros_per_day = 86'400'000'000;
// Relations are followed this many times: a chain `x < y + d`, `y < z + e` needs two.
constexpr int closure_rounds = 3;
constexpr std::size_t max_points = 256;         // cut points of one attribute
constexpr std::size_t max_pool = 12;            // strings a list may hold: 2^12 subsets
constexpr std::uint64_t max_classes = 200'000;  // across groups

Instant first_instant() {
  static const Instant at = parse_date_time("0001-01-01T00:00:00Z").value();
  return at;
}
Instant last_instant() {
  static const Instant at = parse_date_time("9999-12-31T23:59:59.999999Z").value();
  return at;
}

Instant clamp(std::int64_t micros) {
  return Instant{std::clamp(micros, first_instant().micros, last_instant().micros)};
}

Instant shifted(Instant at, std::int64_t micros) {
  // Saturating: a shift past either end of the range stays at the end.
  if (micros > 0 && at.micros > std::numeric_limits<std::int64_t>::max() - micros) {
    return last_instant();
  }
  if (micros < 0 && at.micros < std::numeric_limits<std::int64_t>::min() - micros) {
    return first_instant();
  }
  return clamp(at.micros + micros);
}

Instant day_floor(Instant at) {
  std::int64_t days = at.micros / micros_per_day;
  if (at.micros % micros_per_day < 0) --days;
  return clamp(days * micros_per_day);
}

Duration negated(const Duration& d) {
  return {-d.years, -d.months, -d.days, -d.seconds};
}

bool is_time(AttrType t) {
  return t == AttrType::date || t == AttrType::time;
}

std::int64_t plus(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return out;
}

// The attributes tests connect, and the tests of each such group.
struct Group {
  std::vector<std::uint32_t> attributes;
  std::vector<std::uint32_t> tests;
};

std::vector<Group> groups_of(const dsl::CheckedPolicy& p, std::span<const std::uint32_t> tests) {
  std::vector<std::uint32_t> parent(p.attributes.size());
  std::iota(parent.begin(), parent.end(), 0U);
  const auto find = [&](std::uint32_t x) {
    while (parent[x] != x)
      x = parent[x] = parent[parent[x]];
    return x;
  };
  std::vector<bool> read(p.attributes.size(), false);
  for (const std::uint32_t t : tests) {
    const dsl::AttributeTest& test = p.tests.at(t);
    read.at(test.lhs) = true;
    if (test.rhs != dsl::no_id) {
      read.at(static_cast<std::size_t>(test.rhs)) = true;
      parent[find(test.lhs)] = find(static_cast<std::uint32_t>(test.rhs));
    }
  }
  std::map<std::uint32_t, std::size_t> at;
  std::vector<Group> out;
  for (std::uint32_t a = 0; a < p.attributes.size(); ++a) {
    if (!read[a]) continue;
    auto [it, fresh] = at.emplace(find(a), out.size());
    if (fresh) out.emplace_back();
    out[it->second].attributes.push_back(a);
  }
  for (const std::uint32_t t : tests)
    out[at.at(find(p.tests[t].lhs))].tests.push_back(t);
  return out;
}

// The cut points of the ordered attributes of a group: their constants, and the images of
// each other's points through the relations between them, followed a few rounds.
class CutPoints {
 public:
  CutPoints(const dsl::CheckedPolicy& p, const Group& g, const FixedValues& fixed) : p_(p), g_(g) {
    for (const std::uint32_t t : g.tests) {
      const dsl::AttributeTest& test = p.tests[t];
      if (test.kind != dsl::AttributeTest::Kind::compare || test.rhs != dsl::no_id) continue;
      if (const auto* c = std::get_if<std::int64_t>(&test.constant)) integers_[test.lhs].insert(*c);
      if (const auto* c = std::get_if<Instant>(&test.constant))
        insert_instant(test.lhs, add(*c, test.shift));
    }
    // A fixed value is a constant of its attribute: the others are cut where they meet it.
    for (const std::uint32_t a : g.attributes) {
      if (a >= fixed.size() || !fixed[a]) continue;
      if (const auto* c = std::get_if<std::int64_t>(&*fixed[a])) integers_[a].insert(*c);
      if (const auto* c = std::get_if<Instant>(&*fixed[a])) insert_instant(a, *c);
    }
    for (const std::uint32_t a : g.attributes) {
      // An attribute with no constant still needs one point to stand on.
      if (p.attributes[a].type == AttrType::integer && integers_[a].empty()) integers_[a] = {0};
      if (is_time(p.attributes[a].type) && instants_[a].empty())
        instants_[a] = {parse_date("2026-01-01").value()};
    }
    for (int round = 0; round < closure_rounds && complete_; ++round)
      follow_relations();
  }

  bool complete() const { return complete_; }
  const std::set<std::int64_t>& integers(std::uint32_t a) { return integers_[a]; }
  const std::set<Instant>& instants(std::uint32_t a) { return instants_[a]; }

 private:
  // A date holds whole days: a point inside a day stands for that day and the next.
  void insert_instant(std::uint32_t a, Instant at) {
    if (p_.attributes[a].type != AttrType::date) {
      instants_[a].insert(at);
      return;
    }
    const Instant day = day_floor(at);
    instants_[a].insert(day);
    if (day != at) instants_[a].insert(day_floor(shifted(day, micros_per_day)));
  }

  void follow_relations() {
    for (const std::uint32_t t : g_.tests) {
      const dsl::AttributeTest& test = p_.tests[t];
      if (test.kind != dsl::AttributeTest::Kind::compare || test.rhs == dsl::no_id) continue;
      const auto x = test.lhs;
      const auto y = static_cast<std::uint32_t>(test.rhs);
      if (p_.attributes[x].type == AttrType::integer) {
        const std::set<std::int64_t> xs = integers_[x], ys = integers_[y];
        integers_[x].insert(ys.begin(), ys.end());
        integers_[y].insert(xs.begin(), xs.end());
        complete_ =
            complete_ && integers_[x].size() <= max_points && integers_[y].size() <= max_points;
      } else if (is_time(p_.attributes[x].type)) {
        const std::set<Instant> xs = instants_[x], ys = instants_[y];
        for (const Instant v : ys)
          insert_instant(x, add(v, test.shift));
        // Calendar arithmetic is not invertible (2024-01-31 + 1 month = 2024-03-02): where
        // going back and forth misses, the days around are tried too.
        for (const Instant u : xs) {
          const Instant w = add(u, negated(test.shift));
          insert_instant(y, w);
          if (add(w, test.shift) == u) continue;
          for (std::int64_t k = -3; k <= 3; ++k)
            insert_instant(y, shifted(w, k * micros_per_day));
        }
        complete_ =
            complete_ && instants_[x].size() <= max_points && instants_[y].size() <= max_points;
      }
    }
  }

  const dsl::CheckedPolicy& p_;
  const Group& g_;
  std::map<std::uint32_t, std::set<std::int64_t>> integers_;
  std::map<std::uint32_t, std::set<Instant>> instants_;
  bool complete_ = true;
};

// The candidate values of every attribute of a group; false when they grow past the bounds.
bool group_candidates(const dsl::CheckedPolicy& p, const Group& g, const FixedValues& fixed,
                      std::vector<std::vector<Value>>& out) {
  CutPoints points(p, g, fixed);
  const auto fixed_value = [&](std::uint32_t a) -> const Value* {
    return a < fixed.size() && fixed[a] ? &*fixed[a] : nullptr;
  };
  if (!points.complete()) return false;
  // Strings: the constants, and as many fresh ids as the group has string attributes, so
  // that they can be all equal or all different.
  std::vector<std::string> pool;
  std::size_t strings = 0;
  for (const std::uint32_t t : g.tests) {
    if (const auto* s = std::get_if<std::string>(&p.tests[t].constant)) {
      if (std::find(pool.begin(), pool.end(), *s) == pool.end()) pool.push_back(*s);
    }
  }
  for (const std::uint32_t a : g.attributes) {
    const Value* v = fixed_value(a);
    std::vector<std::string> named;
    if (const auto* s = v != nullptr ? std::get_if<std::string>(v) : nullptr) named = {*s};
    if (const auto* l = v != nullptr ? std::get_if<std::vector<std::string>>(v) : nullptr)
      named = *l;
    for (std::string& s : named) {
      if (std::find(pool.begin(), pool.end(), s) == pool.end()) pool.push_back(std::move(s));
    }
  }
  // Ordered attributes related in a chain `x < y < z` need that many steps between points.
  std::int64_t steps = 1;
  for (const std::uint32_t t : g.tests) {
    const dsl::AttributeTest& test = p.tests[t];
    if (test.kind == dsl::AttributeTest::Kind::compare && test.rhs != dsl::no_id) ++steps;
  }
  steps = std::min<std::int64_t>(steps, 3);
  for (const std::uint32_t a : g.attributes)
    strings += p.attributes[a].type == AttrType::string ? 1 : 0;
  // A name set's attribute takes its names only: those the tests mention, and as many
  // unmentioned ones as the group has string attributes (a name stands for all the
  // unmentioned ones). They join the pool, so that strings and lists can hold them too.
  for (const std::uint32_t a : g.attributes) {
    const dsl::AttributeInfo& info = p.attributes[a];
    std::size_t added = 0;
    for (const std::string& m : info.members) {
      if (added == strings) break;
      if (std::find(pool.begin(), pool.end(), m) != pool.end()) continue;
      pool.push_back(m);
      ++added;
    }
  }
  for (std::size_t n = 1, added = 0; added < std::max<std::size_t>(strings, 1); ++n) {
    std::string id = "witness-" + std::to_string(n);
    if (std::find(pool.begin(), pool.end(), id) != pool.end()) continue;
    pool.push_back(std::move(id));
    ++added;
  }
  for (const std::uint32_t a : g.attributes) {
    const dsl::AttributeInfo& info = p.attributes[a];
    std::vector<Value>& values = out[a];
    values.clear();
    if (const Value* v = fixed_value(a)) {
      values = {*v};
      continue;
    }
    switch (info.type) {
      case AttrType::boolean:
        values = {false, true};
        break;
      case AttrType::integer: {
        std::set<std::int64_t> all;
        for (const std::int64_t v : points.integers(a)) {
          for (std::int64_t k = -steps; k <= steps; ++k)
            all.insert(plus(v, k));
        }
        if (info.range) {
          // Only values inside the range; its ends stand for the classes cut off.
          std::erase_if(
              all, [&](std::int64_t v) { return v < info.range->low || v > info.range->high; });
          all.insert(info.range->low);
          all.insert(info.range->high);
        }
        values.assign(all.begin(), all.end());
        break;
      }
      case AttrType::time:
      case AttrType::date: {
        // A date's points are whole days already: its neighbours are the days around. A
        // time's are a few microseconds and days away.
        std::set<Instant> all;
        for (const Instant v : points.instants(a)) {
          for (std::int64_t k = -steps; k <= steps; ++k) {
            all.insert(shifted(v, k * micros_per_day));
            if (info.type == AttrType::time) all.insert(shifted(v, k));
          }
        }
        values.assign(all.begin(), all.end());
        break;
      }
      case AttrType::string:
        for (const std::string& s : pool) {
          const bool takes =
              info.name_set.empty() ||
              std::find(info.members.begin(), info.members.end(), s) != info.members.end();
          if (takes) values.emplace_back(s);
        }
        break;
      case AttrType::string_list: {
        if (pool.size() > max_pool) return false;
        for (std::uint32_t mask = 0; mask < (1U << pool.size()); ++mask) {
          std::vector<std::string> list;
          for (std::size_t i = 0; i < pool.size(); ++i) {
            if (((mask >> i) & 1U) != 0) list.push_back(pool[i]);
          }
          values.emplace_back(std::move(list));
        }
        break;
      }
    }
    if (info.optional) values.emplace_back(std::monostate{});
  }
  return true;
}

// The distinct answers of one group's tests over the product of its candidates.
bool group_classes(const dsl::CheckedPolicy& p, const Group& g,
                   const std::vector<std::vector<Value>>& candidates, std::vector<TestClass>& out) {
  std::uint64_t combinations = 1;
  for (const std::uint32_t a : g.attributes) {
    combinations *= std::max<std::size_t>(candidates[a].size(), 1);
    if (combinations > max_value_combinations) return false;
  }
  std::vector<Value> values(p.attributes.size());
  std::vector<std::size_t> at(g.attributes.size(), 0);
  std::set<std::vector<bool>> seen;
  for (std::uint64_t n = 0; n < combinations; ++n) {
    for (std::size_t i = 0; i < g.attributes.size(); ++i)
      values[g.attributes[i]] = candidates[g.attributes[i]][at[i]];
    std::vector<bool> answers;
    answers.reserve(g.tests.size());
    for (const std::uint32_t t : g.tests)
      answers.push_back(run_test(p.tests[t], values));
    if (seen.insert(answers).second) {
      TestClass c;
      c.answers.assign(p.tests.size(), false);
      for (std::size_t i = 0; i < g.tests.size(); ++i)
        c.answers[g.tests[i]] = answers[i];
      c.values = values;
      out.push_back(std::move(c));
    }
    for (std::size_t i = 0; i < at.size(); ++i) {
      if (++at[i] < candidates[g.attributes[i]].size()) break;
      at[i] = 0;
    }
  }
  return true;
}

}  // namespace

Value default_value(const dsl::AttributeInfo& a) {
  if (a.optional) return std::monostate{};
  switch (a.type) {
    case AttrType::string:
      return a.members.empty() ? std::string("witness") : a.members.front();
    case AttrType::integer:
      return a.range ? std::clamp<std::int64_t>(0, a.range->low, a.range->high) : 0;
    case AttrType::boolean:
      return false;
    case AttrType::date:
    case AttrType::time:
      return parse_date("2026-01-01").value();
    case AttrType::string_list:
      return std::vector<std::string>{};
  }
  return std::monostate{};
}

namespace {

// The value of an attribute no test reads: the fixed one, else the default.
Value unread_value(const dsl::CheckedPolicy& p, const FixedValues& fixed, std::size_t a) {
  return a < fixed.size() && fixed[a] ? *fixed[a] : default_value(p.attributes[a]);
}

}  // namespace

std::vector<std::vector<Value>> candidate_values(const dsl::CheckedPolicy& p,
                                                 std::span<const std::uint32_t> tests,
                                                 const FixedValues& fixed) {
  std::vector<std::vector<Value>> out(p.attributes.size());
  for (std::size_t a = 0; a < p.attributes.size(); ++a)
    out[a] = {unread_value(p, fixed, a)};
  for (const Group& g : groups_of(p, tests)) {
    if (!group_candidates(p, g, fixed, out)) return {};
  }
  return out;
}

TestClasses attribute_classes(const dsl::CheckedPolicy& p, std::span<const std::uint32_t> tests,
                              const FixedValues& fixed) {
  TestClasses out;
  TestClass all;
  all.answers.assign(p.tests.size(), false);
  for (std::size_t a = 0; a < p.attributes.size(); ++a)
    all.values.push_back(unread_value(p, fixed, a));
  out.classes.push_back(std::move(all));
  std::vector<std::vector<Value>> candidates(p.attributes.size());
  for (const Group& g : groups_of(p, tests)) {
    std::vector<TestClass> mine;
    if (!group_candidates(p, g, fixed, candidates) || !group_classes(p, g, candidates, mine) ||
        out.classes.size() * mine.size() > max_classes) {
      out.complete = false;
      out.classes.clear();
      return out;
    }
    // Groups share no attribute: their classes combine freely.
    std::vector<TestClass> product;
    product.reserve(out.classes.size() * mine.size());
    for (const TestClass& left : out.classes) {
      for (const TestClass& right : mine) {
        TestClass c = left;
        for (const std::uint32_t t : g.tests)
          c.answers[t] = right.answers[t];
        for (const std::uint32_t a : g.attributes)
          c.values[a] = right.values[a];
        product.push_back(std::move(c));
      }
    }
    out.classes = std::move(product);
  }
  return out;
}

const TestClasses& TestClassCache::of(const std::vector<std::uint32_t>& tests) {
  auto it = cache_.find(tests);
  if (it == cache_.end()) it = cache_.emplace(tests, attribute_classes(p_, tests, fixed_)).first;
  return it->second;
}

}  // namespace clause::detail

namespace clause::detail {

std::vector<std::uint32_t> tests_reading(const dsl::CheckedPolicy& p, std::uint32_t a) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t t = 0; t < p.tests.size(); ++t) {
    if (p.tests[t].lhs == a || p.tests[t].rhs == static_cast<std::int32_t>(a)) out.push_back(t);
  }
  return out;
}

namespace {

// A test as answered: its text when true, its opposite when false.
std::string answered_text(const dsl::CheckedPolicy& p, const dsl::AttributeTest& t, bool answer) {
  const std::string text = test_text(p, t);
  if (answer) return text;
  using Kind = dsl::AttributeTest::Kind;
  if (t.kind == Kind::truth) return "not " + text;
  const bool optional =
      p.attributes[t.lhs].optional ||
      (t.rhs != dsl::no_id && p.attributes[static_cast<std::size_t>(t.rhs)].optional);
  // An absent value answers every test false, so the opposite operator would not say it.
  if (optional) return fmt::format("not ({})", text);
  if (t.kind == Kind::contains) {
    return fmt::format("{} not in {}", value_text(t.constant), p.attributes[t.lhs].path);
  }
  if (t.kind == Kind::member) {
    return fmt::format("{} not in {}", p.attributes[t.lhs].path,
                       p.attributes[static_cast<std::size_t>(t.rhs)].path);
  }
  using Op = ast::CompareOp;
  dsl::AttributeTest opposite = t;
  switch (t.op) {
    case Op::eq:
      opposite.op = Op::ne;
      break;
    case Op::ne:
      opposite.op = Op::eq;
      break;
    case Op::lt:
      opposite.op = Op::ge;
      break;
    case Op::ge:
      opposite.op = Op::lt;
      break;
    case Op::le:
      opposite.op = Op::gt;
      break;
    case Op::gt:
      opposite.op = Op::le;
      break;
  }
  return test_text(p, opposite);
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts)
    out += (out.empty() ? "" : " and ") + part;
  return out;
}

// The interval of ordered values `members` (a contiguous run of `sorted`), bounded by the
// neighbouring candidates or by the cut points themselves; empty when not contiguous.
std::string interval_label(const std::string& path, const std::vector<Value>& sorted,
                           const std::vector<Value>& members, const std::set<Value>& cuts) {
  const auto first = std::find(sorted.begin(), sorted.end(), members.front());
  const auto i = static_cast<std::size_t>(first - sorted.begin());
  const std::size_t j = i + members.size() - 1;
  if (j >= sorted.size() || !std::equal(members.begin(), members.end(), first)) return "";
  std::string low, high;  // "18 <= " and " < 21"
  std::string lower_op, upper_op;
  if (i > 0) {
    low = cuts.contains(sorted[i]) ? value_text(sorted[i]) : value_text(sorted[i - 1]);
    lower_op = cuts.contains(sorted[i]) ? ">=" : ">";
  }
  if (j + 1 < sorted.size()) {
    high = cuts.contains(sorted[j]) ? value_text(sorted[j]) : value_text(sorted[j + 1]);
    upper_op = cuts.contains(sorted[j]) ? "<=" : "<";
  }
  if (!low.empty() && low == high && lower_op == ">=" && upper_op == "<=")
    return fmt::format("{} = {}", path, low);
  if (!low.empty() && !high.empty()) {
    return fmt::format("{} {} {} {} {}", low, lower_op == ">=" ? "<=" : "<", path, upper_op, high);
  }
  if (!low.empty()) return fmt::format("{} {} {}", path, lower_op, low);
  if (!high.empty()) return fmt::format("{} {} {}", path, upper_op, high);
  return fmt::format("{} given", path);
}

// The strings of a class: one constant, or everything but some constants.
std::string string_label(const std::string& path, const std::vector<Value>& members,
                         const std::set<Value>& constants) {
  const bool fresh = std::any_of(members.begin(), members.end(),
                                 [&](const Value& v) { return !constants.contains(v); });
  if (!fresh) {
    return members.size() == 1 ? fmt::format("{} = {}", path, value_text(members[0])) : "";
  }
  std::vector<std::string> parts;
  for (const Value& c : constants) {
    if (std::find(members.begin(), members.end(), c) != members.end()) return "";
    parts.push_back(fmt::format("{} != {}", path, value_text(c)));
  }
  return joined(parts);
}

// The label of the tests that compare `a` with constants only.
std::string constant_label(const dsl::CheckedPolicy& p, std::uint32_t a,
                           const std::vector<std::uint32_t>& constant,
                           const std::vector<bool>& answers) {
  const dsl::AttributeInfo& info = p.attributes[a];
  const auto literal = [&] {
    std::vector<std::string> parts;
    for (const std::uint32_t t : constant)
      parts.push_back(answered_text(p, p.tests[t], answers[t]));
    return joined(parts);
  };
  const auto grid = candidate_values(p, constant);
  if (grid.empty()) return literal();
  std::vector<Value> values(p.attributes.size());
  const auto in_class = [&](const Value& v) {
    values[a] = v;
    return std::all_of(constant.begin(), constant.end(),
                       [&](std::uint32_t t) { return run_test(p.tests[t], values) == answers[t]; });
  };
  bool absent = false;
  std::vector<Value> sorted, members;
  for (const Value& v : grid[a]) {
    if (std::holds_alternative<std::monostate>(v)) {
      absent = in_class(v);
      continue;
    }
    sorted.push_back(v);
    if (in_class(v)) members.push_back(v);
  }
  if (members.empty()) return absent ? fmt::format("{} absent", info.path) : literal();
  std::set<Value> cuts;
  for (const std::uint32_t t : constant) {
    const dsl::AttributeTest& test = p.tests[t];
    if (const auto* at = std::get_if<Instant>(&test.constant)) {
      cuts.insert(add(*at, test.shift));
    } else if (test.kind == dsl::AttributeTest::Kind::compare) {
      cuts.insert(test.constant);
    }
  }
  std::string body;
  switch (info.type) {
    case AttrType::boolean:
      body = members.size() > 1           ? fmt::format("{} given", info.path)
             : std::get<bool>(members[0]) ? info.path
                                          : "not " + info.path;
      break;
    case AttrType::integer:
    case AttrType::date:
    case AttrType::time:
      std::sort(sorted.begin(), sorted.end());
      std::sort(members.begin(), members.end());
      body = interval_label(info.path, sorted, members, cuts);
      break;
    case AttrType::string:
      body = string_label(info.path, members, cuts);
      break;
    case AttrType::string_list:
      break;
  }
  if (body.empty()) return literal();
  return absent ? fmt::format("{} or absent", body) : body;
}

}  // namespace

std::string class_label(const dsl::CheckedPolicy& p, std::uint32_t a,
                        std::span<const std::uint32_t> tests, const std::vector<bool>& answers) {
  std::vector<std::uint32_t> constant;
  std::vector<std::string> parts;
  for (const std::uint32_t t : tests) {
    if (p.tests[t].rhs == dsl::no_id) constant.push_back(t);
  }
  if (!constant.empty()) parts.push_back(constant_label(p, a, constant, answers));
  for (const std::uint32_t t : tests) {
    if (p.tests[t].rhs != dsl::no_id) parts.push_back(answered_text(p, p.tests[t], answers[t]));
  }
  return parts.empty() ? fmt::format("any {}", p.attributes[a].path) : joined(parts);
}

}  // namespace clause::detail
