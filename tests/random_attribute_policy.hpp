// A generator of small random policies that use the whole language: typed attributes and
// every kind of test on them, objections, a purpose tree, first-tier rules, obligations and
// rule dates. For tests that hold the analyses and the index against brute force.
#pragma once

#include <fmt/format.h>

#include <array>
#include <functional>
#include <random>
#include <string>

namespace clause::test {

/// Writes a valid random policy of `rules` rules and `assertions` assertions over data
/// d0..d2, requesters r0..r2, actions a0 and a1, purposes p0 (p1 under it) and p2, facts
/// f0 and f1, consent k0, objections o0 and o1, and attributes data.age (in 0..120),
/// context.time, data.last (a date), requester.id, data.subject, data.team, data.paid, the
/// optional context.place (one of the name set `region`) and the optional list
/// requester.roles.
template <typename Rng = std::mt19937_64>
std::string random_attribute_policy(Rng& rng, int rules, int assertions) {
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string text = R"(policy "r" version "1"
clause "c" "words"
clause "m" "met"
data d0
data d1 under d0
data d2
requester r0
requester r1 under r0
requester r2
action a0, a1
purpose p0
purpose p1 under p0
purpose p2
fact f0, f1
consent k0 cites "m"
objection o0, o1
obligation ob0
names region: CA, US, FR
attribute data.age integer 0..120
attribute context.time time
attribute data.last date
attribute requester.id string
attribute data.subject string
attribute data.team list of string
attribute data.paid boolean
attribute context.place region optional
attribute requester.roles list of string optional
)";
  static const char* ops[] = {"=", "!=", "<", "<=", ">", ">="};
  static const char* instants[] = {"2026-02-16", "2026-03-01T08:00:00+01:00", "2024-01-31"};
  static const char* durations[] = {"6 years", "1 month", "30 days", "2 hours"};
  const auto set = [&](const char* prefix, int n) {
    if (pick(3) == 0) return std::string("any");
    return fmt::format("{}{}", prefix, pick(n));
  };
  std::function<std::string(int)> cond = [&](int depth) -> std::string {
    switch (depth > 1 ? pick(11) : pick(14)) {
      case 0:
        return fmt::format("f{}", pick(2));
      case 1:
        return fmt::format("purpose is p{}", pick(3));
      case 2:
        return "consent k0";
      case 3:
        return fmt::format("objected o{}", pick(2));
      case 4:
        return fmt::format("data.age {} {}", ops[pick(6)], 16 + pick(6));
      case 5:
        return fmt::format("context.time {} {}", ops[2 + pick(4)], instants[pick(3)]);
      case 6:
        return fmt::format("context.time {} data.last + {}", ops[2 + pick(4)], durations[pick(4)]);
      case 7:
        return pick(2) ? "requester.id = data.subject" : "requester.id in data.team";
      case 8:
        return "data.paid";
      case 9:
        return fmt::format("context.place {} {}",
                           pick(2) ? "=" : "!=", std::array{"CA", "US", "\"FR\""}[pick(3)]);
      case 10: {
        const int form = pick(3);
        if (form == 0) return "data.subject in data.team";
        return fmt::format("\"{}\" in {}", std::array{"t0", "x"}[pick(2)],
                           form == 1 ? "data.team" : "requester.roles");
      }
      case 11:
        return "not " + cond(depth + 1);
      case 12:
        return "(" + cond(depth + 1) + " and " + cond(depth + 1) + ")";
      default:
        return "(" + cond(depth + 1) + " or " + cond(depth + 1) + ")";
    }
  };
  for (int i = 0; i < rules; ++i) {
    std::string rule = pick(4) == 0 ? "first " : "";
    const int effect = pick(3);
    rule += effect == 0 ? "allow " : effect == 1 ? "deny " : "require consent k0 for ";
    rule += fmt::format("{} of {} by {}", set("a", 2), set("d", 3), set("r", 3));
    if (pick(4) != 0) rule += " when " + cond(0);
    if (pick(5) == 0) rule += " from 2026-03-01";
    if (effect == 0 && pick(3) == 0) rule += " obliges ob0";
    text += rule + " cites \"c\"\n";
  }
  for (int i = 0; i < assertions; ++i) {
    text += fmt::format("assert {} {} {} of {} by {}", pick(2) ? "always" : "never",
                        pick(2) ? "allow" : "deny", set("a", 2), set("d", 3), set("r", 3));
    if (pick(2) != 0) text += " when " + cond(1);
    text += "\n";
  }
  return text;
}

}  // namespace clause::test
