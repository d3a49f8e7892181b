// Stage: check. Attributes: their declarations and types, the comparisons that read them,
// and the dates of rules and clauses, folded into tests of `context.time`.
#include <fmt/format.h>

#include <algorithm>

#include "checker.hpp"

namespace clause::dsl::checking {

// A test of `context.time` against an instant: `>=` for `from`, `<` for `until`.
std::optional<CheckedCond> Checker::time_test(ast::CompareOp op, Instant at, Span span,
                                              std::string_view what) {
  if (out_.time_attribute == no_id) {
    Diagnostic& d = error("E248", span,
                          fmt::format("{} compares `context.time` with a date, and the policy "
                                      "declares no `context.time`",
                                      what));
    d.help = "declare `attribute context.time time`";
    return std::nullopt;
  }
  AttributeTest t;
  t.kind = AttributeTest::Kind::compare;
  t.lhs = static_cast<std::uint32_t>(out_.time_attribute);
  t.op = op;
  t.constant = at;
  CheckedCond c;
  c.kind = ast::CondKind::attribute;
  c.ids.push_back(add_test(t));
  c.span = span;
  return c;
}

std::optional<Instant> Checker::read_time(const ast::TimeText& t) {
  auto at = parse_time(t.text);
  if (!at) {
    Diagnostic& d = error("E246", t.span,
                          fmt::format("`{}` is not a date or date-time: {}", t.text, at.error()));
    d.help = "write a date as `2026-02-16` or a date-time as `2026-02-16T08:00:00Z`";
    return std::nullopt;
  }
  return *at;
}

// Folds `from`/`until` of the rule and of the clause it cites into its condition, and
// makes `effective from DATE` a denial of every request before DATE.
void Checker::fold_dates(const ast::Rule& rule, std::optional<std::uint32_t> clause,
                         CheckedRule& r) {
  if (rule.effective) {
    if (effective_seen_) {
      Diagnostic& d = error("E250", rule.span, "the policy has a second `effective from`");
      d.notes.push_back({*effective_seen_, "the first is here"});
      d.help = "a policy takes effect once; keep one";
    }
    effective_seen_ = rule.span;
    if (auto at = read_time(*rule.from)) {
      if (auto c = time_test(ast::CompareOp::lt, *at, rule.from->span, "`effective from`"))
        conjoin(r.condition, std::move(*c));
    }
    return;
  }
  if (rule.from) {
    if (auto at = read_time(*rule.from)) {
      if (auto c = time_test(ast::CompareOp::ge, *at, rule.from->span, "`from`"))
        conjoin(r.condition, std::move(*c));
    }
  }
  if (rule.until) {
    if (auto at = read_time(*rule.until)) {
      if (auto c = time_test(ast::CompareOp::lt, *at, rule.until->span, "`until`"))
        conjoin(r.condition, std::move(*c));
    }
  }
  if (!clause) return;
  const ClauseInfo& info = out_.clauses[*clause];
  const ast::ClauseDecl* decl = clause_decl(*clause);
  if (info.from && decl != nullptr && decl->from) {
    if (auto c = time_test(ast::CompareOp::ge, *info.from, decl->from->span, "`from`"))
      conjoin(r.condition, std::move(*c));
  }
  if (info.until && decl != nullptr && decl->until) {
    if (auto c = time_test(ast::CompareOp::lt, *info.until, decl->until->span, "`until`"))
      conjoin(r.condition, std::move(*c));
  }
}

const ast::ClauseDecl* Checker::clause_decl(std::uint32_t clause) const {
  for (const ast::ClauseDecl& c : ast_.clauses) {
    if (c.id.value == out_.clauses[clause].id) return &c;
  }
  return nullptr;
}

// Attributes: each declared once, on `data`, `requester` or `context`, with a type.
void Checker::declare_attributes() {
  // Fields the request format already gives a meaning.
  static constexpr std::string_view built_in[] = {"data.category",   "requester.kind",
                                                  "context.purpose", "context.facts",
                                                  "context.consent", "context.objections"};
  for (const ast::AttributeDecl& a : ast_.attributes) {
    const std::string path = a.path.text();
    if (std::find(std::begin(built_in), std::end(built_in), path) != std::end(built_in)) {
      Diagnostic& d =
          error("E247", a.path.span,
                fmt::format("`{}` is a field of every request, not an attribute", path));
      d.help = "choose another name for the attribute";
      continue;
    }
    std::optional<AttrType> type;
    const std::string& word = a.type.text;
    if (a.list) {
      if (a.element && a.element->text == "string") type = AttrType::string_list;
    } else if (word == "string") {
      type = AttrType::string;
    } else if (word == "integer") {
      type = AttrType::integer;
    } else if (word == "boolean") {
      type = AttrType::boolean;
    } else if (word == "date") {
      type = AttrType::date;
    } else if (word == "time") {
      type = AttrType::time;
    } else if (name_set_index_.contains(word)) {
      type = AttrType::string;
    }
    if (!type) {
      const ast::Name& at = a.list && a.element ? *a.element : a.type;
      Diagnostic& d = error("E242", at.span, fmt::format("unknown attribute type `{}`", at.text));
      d.subject = at.text;
      ill_typed_.insert(path);  // not reported again where a condition reads it
      d.help = a.list ? std::string("lists hold strings: write `list of string`") : [&] {
        std::string guess = type_alias(at.text);
        std::vector<std::string_view> types = {"string", "integer", "boolean", "date", "time"};
        for (const NameSetInfo& set : out_.name_sets)
          types.push_back(set.name);
        if (guess.empty()) guess = closest_name(at.text, types);
        return guess.empty() ? std::string(
                                   "the types are string, integer, boolean, date, time, "
                                   "`list of string` and the sets declared with `names`")
                             : fmt::format("did you mean `{}`?", guess);
      }();
      continue;
    }
    auto [it, fresh] = attribute_index_.emplace(path, out_.attributes.size());
    if (!fresh) {
      Diagnostic& d =
          error("E241", a.path.span, fmt::format("attribute `{}` is declared twice", path));
      d.notes.push_back({out_.attributes[it->second].span, "first declared here"});
      d.help = "remove one of the two declarations";
      continue;
    }
    if (path == "context.time" && *type != AttrType::time) {
      Diagnostic& d = error("E243", a.type.span, "`context.time` is a `time`");
      d.help = "declare it as `attribute context.time time`";
    }
    if (path == "context.time")
      out_.time_attribute = static_cast<std::int32_t>(out_.attributes.size());
    AttributeInfo info{path, *type, a.optional, a.path.span, {}, {}, read_range(a, *type)};
    if (auto set = name_set_index_.find(a.type.text); !a.list && set != name_set_index_.end()) {
      info.name_set = a.type.text;
      info.members = out_.name_sets[set->second].members;
    }
    out_.attributes.push_back(std::move(info));
  }
  for (const ast::ClauseDecl& c : ast_.clauses) {
    auto it = clause_index_.find(c.id.value);
    if (it == clause_index_.end() || clause_id_spans_[it->second].begin != c.id.span.begin)
      continue;
    if (c.from) out_.clauses[it->second].from = read_time(*c.from);
    if (c.until) out_.clauses[it->second].until = read_time(*c.until);
    if ((c.from || c.until) && out_.time_attribute == no_id) {
      Diagnostic& d = error("E248", c.from ? c.from->span : c.until->span,
                            "a clause's dates compare `context.time` with a date, and the "
                            "policy declares no `context.time`");
      d.help = "declare `attribute context.time time`";
    }
  }
}

// Name sets: each declared once, with each name once, and not named like a type.
void Checker::declare_name_sets() {
  static constexpr std::string_view types[] = {"string", "integer", "boolean",
                                               "date",   "time",    "list"};
  for (const ast::NameSetDecl& n : ast_.name_sets) {
    if (std::find(std::begin(types), std::end(types), n.name.text) != std::end(types)) {
      error("E252", n.name.span,
            fmt::format("a name set cannot be called `{}`, a type's name", n.name.text))
          .help = "give the set a name of what it holds, such as `country`";
      continue;
    }
    auto [it, fresh] = name_set_index_.emplace(n.name.text, out_.name_sets.size());
    if (!fresh) {
      Diagnostic& d = error("E252", n.name.span,
                            fmt::format("the name set `{}` is declared twice", n.name.text));
      d.notes.push_back({out_.name_sets[it->second].span, "first declared here"});
      d.help = "declare each set once, with all its names";
      continue;
    }
    NameSetInfo set{n.name.text, {}, n.name.span};
    for (const ast::Name& m : n.members) {
      if (std::find(set.members.begin(), set.members.end(), m.text) != set.members.end()) {
        error("E252", m.span,
              fmt::format("`{}` is in the name set `{}` twice", m.text, n.name.text))
            .help = "remove one of the two";
        continue;
      }
      set.members.push_back(m.text);
    }
    out_.name_sets.push_back(std::move(set));
  }
}

// Reads `LOW..HIGH` of an integer attribute; reports a range on another type, or empty.
std::optional<IntRange> Checker::read_range(const ast::AttributeDecl& a, AttrType type) {
  if (!a.range) return std::nullopt;
  if (type != AttrType::integer) {
    error("E253", a.range->span,
          fmt::format("a range bounds an integer, and `{}` is {}", a.path.text(), type_noun(type)))
        .help = "remove the range, or declare the attribute `integer LOW..HIGH`";
    return std::nullopt;
  }
  const auto low = parse_integer(a.range->low);
  const auto high = parse_integer(a.range->high);
  if (!low || !high) {
    error("E253", a.range->span, "a bound of the range is out of range").help =
        "integers are 64-bit signed numbers";
    return std::nullopt;
  }
  if (*low > *high) {
    error("E253", a.range->span, fmt::format("the range {}..{} is empty", *low, *high)).help =
        fmt::format("write the lower bound first: `{}..{}`", *high, *low);
    return std::nullopt;
  }
  return IntRange{*low, *high};
}

// What a value of the attribute is, for a message: "a name of `country`", "an integer".
std::string Checker::noun_of(const AttributeInfo& a) {
  if (!a.name_set.empty()) return fmt::format("a name of `{}`", a.name_set);
  return std::string(type_noun(a.type));
}

// Whether a compared name is one of the attribute's set; reports it when not.
bool Checker::in_set(const AttributeInfo& a, const ast::Operand& o) {
  if (std::find(a.members.begin(), a.members.end(), o.text) != a.members.end()) return true;
  Diagnostic& d = error("E251", o.span,
                        fmt::format("`{}` is not one of the names of `{}`, the type of `{}`",
                                    o.text, a.name_set, a.path));
  d.subject = o.text;
  if (auto set = name_set_index_.find(a.name_set); set != name_set_index_.end())
    d.notes.push_back({out_.name_sets[set->second].span, "the set is declared here"});
  std::vector<std::string_view> members(a.members.begin(), a.members.end());
  const std::string guess = closest_name(o.text, members);
  d.help = guess.empty()
               ? fmt::format("add `{}` to the set, or compare with one of its names", o.text)
               : fmt::format("did you mean `{}`?", guess);
  return false;
}

// Warns of a comparison with a constant that the attribute's range decides alone.
void Checker::warn_decided_by_range(const ast::Cond& cond, const AttributeInfo& a, std::int64_t c) {
  if (!a.range) return;
  const auto [lo, hi] = *a.range;
  std::optional<bool> always;
  switch (cond.op) {
    case ast::CompareOp::eq:
    case ast::CompareOp::ne: {
      std::optional<bool> equal;
      if (c < lo || c > hi) equal = false;
      if (lo == hi && c == lo) equal = true;
      if (equal) always = cond.op == ast::CompareOp::eq ? *equal : !*equal;
      break;
    }
    case ast::CompareOp::lt:
      if (c <= lo) always = false;
      if (c > hi) always = true;
      break;
    case ast::CompareOp::le:
      if (c < lo) always = false;
      if (c >= hi) always = true;
      break;
    case ast::CompareOp::gt:
      if (c >= hi) always = false;
      if (c < lo) always = true;
      break;
    case ast::CompareOp::ge:
      if (c > hi) always = false;
      if (c <= lo) always = true;
      break;
  }
  if (!always) return;
  Diagnostic& d = warning("W007", cond.span,
                          fmt::format("this comparison is {} true: `{}` is in {}..{}",
                                      *always ? "always" : "never", a.path, lo, hi));
  d.subject = a.path;
  d.help = *always ? "remove the comparison, or widen the range"
                   : "compare with a value inside the range, or widen the range";
}

// The type that other languages' names for a type mean, or "".
std::string Checker::type_alias(std::string_view word) {
  static constexpr std::pair<std::string_view, std::string_view> aliases[] = {
      {"int", "integer"},  {"number", "integer"}, {"bool", "boolean"},  {"str", "string"},
      {"text", "string"},  {"id", "string"},      {"datetime", "time"}, {"timestamp", "time"},
      {"instant", "time"}, {"date_time", "time"},
  };
  for (const auto& [alias, type] : aliases) {
    if (alias == word) return std::string(type);
  }
  return "";
}

std::optional<std::uint32_t> Checker::resolve_attribute(const ast::AttrPath& path) {
  const std::string text = path.text();
  auto it = attribute_index_.find(text);
  if (it != attribute_index_.end()) return static_cast<std::uint32_t>(it->second);
  if (ill_typed_.contains(text)) return std::nullopt;  // its declaration is reported
  Diagnostic& d = error("E240", path.span, fmt::format("unknown attribute `{}`", text));
  d.subject = text;
  std::vector<std::string_view> candidates;
  for (const AttributeInfo& a : out_.attributes)
    candidates.push_back(a.path);
  const std::string guess = closest_name(text, candidates);
  d.help = guess.empty() ? fmt::format("declare it with `attribute {} TYPE`", text)
                         : fmt::format("did you mean `{}`?", guess);
  return std::nullopt;
}

std::uint32_t Checker::add_test(const AttributeTest& t) {
  auto it = std::find(out_.tests.begin(), out_.tests.end(), t);
  if (it != out_.tests.end()) return static_cast<std::uint32_t>(it - out_.tests.begin());
  out_.tests.push_back(t);
  return static_cast<std::uint32_t>(out_.tests.size() - 1);
}

std::optional<Duration> Checker::read_duration(const ast::DurationText& d) {
  std::string unit = d.unit.text;
  if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  constexpr std::int64_t limit = 1'000'000;
  if (d.amount > limit || d.amount < -limit) {
    error("E245", d.span, "the duration is too long").help = "durations are up to 1000000 units";
    return std::nullopt;
  }
  const auto n = d.amount;
  Duration out;
  if (unit == "year") {
    out.years = static_cast<std::int32_t>(n);
  } else if (unit == "month") {
    out.months = static_cast<std::int32_t>(n);
  } else if (unit == "day") {
    out.days = static_cast<std::int32_t>(n);
  } else if (unit == "hour") {
    out.seconds = n * 3600;
  } else if (unit == "minute") {
    out.seconds = n * 60;
  } else if (unit == "second") {
    out.seconds = n;
  } else {
    Diagnostic& d2 =
        error("E245", d.unit.span, fmt::format("unknown unit of time `{}`", d.unit.text));
    d2.subject = d.unit.text;
    const std::string guess =
        closest_name(d.unit.text, {"years", "months", "days", "hours", "minutes", "seconds"});
    d2.help = guess.empty() ? std::string(
                                  "the units are years, months, days, hours, minutes "
                                  "and seconds")
                            : fmt::format("did you mean `{}`?", guess);
    return std::nullopt;
  }
  return out;
}

// Checks a comparison's types and makes it a test; reports each mistake once.
std::optional<AttributeTest> Checker::attribute_test(const ast::Cond& cond) {
  const auto lhs = resolve_attribute(*cond.attribute);
  if (!lhs) return std::nullopt;
  const AttributeInfo& left = out_.attributes[*lhs];
  AttributeTest t;
  t.lhs = *lhs;
  if (cond.kind == ast::CondKind::attribute) {
    if (left.type != AttrType::boolean) {
      Diagnostic& d =
          error("E243", cond.span,
                fmt::format("`{}` is {}, not a condition by itself", left.path, noun_of(left)));
      d.help = fmt::format("compare it: `{} = ...`", left.path);
      return std::nullopt;
    }
    t.kind = AttributeTest::Kind::truth;
    return t;
  }
  const ast::Operand& o = *cond.operand;
  if (cond.kind == ast::CondKind::contains) {
    if (left.type != AttrType::string_list) {
      Diagnostic& d =
          error("E243", cond.attribute->span,
                fmt::format("`in` needs a list, but `{}` is {}", left.path, noun_of(left)));
      d.help = left.type == AttrType::string
                   ? fmt::format("to compare a value with a string, write `{} = \"{}\"`", left.path,
                                 o.text)
                   : "look for a string in an attribute of type `list of string`";
      return std::nullopt;
    }
    t.kind = AttributeTest::Kind::contains;
    t.constant = o.text;
    return t;
  }
  if (cond.kind == ast::CondKind::member) {
    t.kind = AttributeTest::Kind::member;
    const auto rhs = resolve_attribute(o.attribute);
    if (!rhs) return std::nullopt;
    const AttributeInfo& right = out_.attributes[*rhs];
    if (right.type != AttrType::string_list) {
      Diagnostic& d =
          error("E243", o.span,
                fmt::format("`in` needs a list, but `{}` is {}", right.path, noun_of(right)));
      d.help = fmt::format("to compare two values, write `{} = {}`", left.path, right.path);
      return std::nullopt;
    }
    if (left.type != AttrType::string) {
      error("E243", cond.attribute->span,
            fmt::format("`in` looks for a string in a list, but `{}` is {}", left.path,
                        noun_of(left)));
      return std::nullopt;
    }
    t.rhs = static_cast<std::int32_t>(*rhs);
    return t;
  }
  t.kind = AttributeTest::Kind::compare;
  t.op = cond.op;
  if (left.type == AttrType::string_list) {
    Diagnostic& d =
        error("E244", cond.span,
              fmt::format("`{}` is a list: it can only be searched with `in`", left.path));
    d.help = fmt::format("write `requester.id in {}`, say", left.path);
    return std::nullopt;
  }
  const bool ordered = left.type == AttrType::integer || is_time(left.type);
  if (!ordered && cond.op != ast::CompareOp::eq && cond.op != ast::CompareOp::ne) {
    Diagnostic& d = error("E244", cond.span,
                          fmt::format("`{}` is {}: it can only be compared with `=` or `!=`",
                                      left.path, noun_of(left)));
    d.help = !left.name_set.empty() ? "the names of a set have no order; use `=` or `!=`"
             : left.type == AttrType::string
                 ? "strings and ids have no order; compare integers, dates or times"
                 : "use `=` or `!=`";
    return std::nullopt;
  }
  if (o.shift && !is_time(left.type)) {
    Diagnostic& d =
        error("E245", o.shift->span,
              fmt::format("a duration can only be added to a date or time, and `{}` is {}",
                          left.path, noun_of(left)));
    d.help = "remove the duration";
    return std::nullopt;
  }
  if (o.shift) {
    if (auto d = read_duration(*o.shift)) {
      t.shift = *d;
    } else {
      return std::nullopt;
    }
  }
  const auto mismatch = [&](std::string_view right) -> std::optional<AttributeTest> {
    Diagnostic& d = error(
        "E243", o.span,
        fmt::format("`{}` is {}, but it is compared with {}", left.path, noun_of(left), right));
    if (is_time(left.type) && o.kind == ast::Operand::Kind::string) {
      d.help = fmt::format("write the date without quotes: `{}`", o.text);
    } else if (left.type == AttrType::integer && o.kind == ast::Operand::Kind::string) {
      d.help = "write the number without quotes";
    } else if (left.type == AttrType::string && o.kind != ast::Operand::Kind::attribute) {
      d.help = "quote the value: `\"...\"`";
    }
    return std::nullopt;
  };
  switch (o.kind) {
    case ast::Operand::Kind::attribute: {
      const auto rhs = resolve_attribute(o.attribute);
      if (!rhs) return std::nullopt;
      const AttributeInfo& right = out_.attributes[*rhs];
      // A name set's attribute is compared with another of the same set only.
      const bool same = (left.type == right.type && left.name_set == right.name_set) ||
                        (is_time(left.type) && is_time(right.type));
      if (!same) return mismatch(fmt::format("`{}`, {}", right.path, noun_of(right)));
      t.rhs = static_cast<std::int32_t>(*rhs);
      return t;
    }
    case ast::Operand::Kind::integer: {
      if (left.type != AttrType::integer) return mismatch("an integer");
      const auto value = parse_integer(o.text);
      if (!value) {
        error("E243", o.span, "the number is out of range").help =
            "integers are 64-bit signed numbers";
        return std::nullopt;
      }
      t.constant = *value;
      warn_decided_by_range(cond, left, *value);
      return t;
    }
    case ast::Operand::Kind::name:
      if (left.name_set.empty()) return mismatch(fmt::format("the name `{}`", o.text));
      if (!in_set(left, o)) return std::nullopt;
      t.constant = o.text;
      return t;
    case ast::Operand::Kind::string:
      if (left.type != AttrType::string) return mismatch("a string");
      if (!left.name_set.empty() && !in_set(left, o)) return std::nullopt;
      t.constant = o.text;
      return t;
    case ast::Operand::Kind::boolean:
      if (left.type != AttrType::boolean) return mismatch("a boolean");
      t.constant = o.boolean;
      return t;
    case ast::Operand::Kind::time: {
      if (!is_time(left.type)) return mismatch("a date");
      auto at = read_time(ast::TimeText{o.text, o.span});
      if (!at) return std::nullopt;
      t.constant = *at;
      return t;
    }
  }
  return std::nullopt;
}

}  // namespace clause::dsl::checking

namespace clause::dsl {

std::string type_text(const AttributeInfo& a) {
  if (!a.name_set.empty()) return a.name_set;
  std::string out(to_string(a.type));
  if (a.range) out += fmt::format(" {}..{}", a.range->low, a.range->high);
  return out;
}

std::optional<std::string> not_taken(const AttributeInfo& a, const Value& value) {
  if (const auto* s = std::get_if<std::string>(&value); s && !a.name_set.empty()) {
    if (std::find(a.members.begin(), a.members.end(), *s) != a.members.end()) return std::nullopt;
    std::vector<std::string_view> members(a.members.begin(), a.members.end());
    const std::string guess = closest_name(*s, members);
    std::string out = fmt::format("is not one of the names of `{}`", a.name_set);
    if (!guess.empty()) out += fmt::format("; did you mean `{}`?", guess);
    return out;
  }
  if (const auto* n = std::get_if<std::int64_t>(&value); n && a.range) {
    if (*n >= a.range->low && *n <= a.range->high) return std::nullopt;
    return fmt::format("is outside the range {}..{}", a.range->low, a.range->high);
  }
  return std::nullopt;
}

}  // namespace clause::dsl
