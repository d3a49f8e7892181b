// A generator of small random policies, for tests that compare two ways of reaching
// the same answer (index and reference, linter and brute force, formatter and source).
#pragma once

#include <fmt/format.h>

#include <functional>
#include <random>
#include <string>

#include "clause/clause.hpp"

namespace clause::test {

/// Writes a valid random policy of `rules` rules over a small vocabulary: data d0..,
/// requesters r0.. (random trees), actions a0..a3, purposes p0..p2, facts f0..f3 and
/// consents k0 (citing clause "m") and k1. Any generator of 64-bit values will do; the fuzz
/// targets pass one that reads the fuzzer's bytes.
template <typename Rng = std::mt19937_64>
std::string random_policy(Rng& rng, int rules) {
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string text = "policy \"r\" version \"1\"\nclause \"c\" \"words\"\n";
  text += "clause \"m\" \"met\"\n";
  const int data = 6 + pick(8);
  const int requesters = 4 + pick(8);
  for (int i = 0; i < data; ++i) {
    text += "data d" + std::to_string(i);
    if (i > 0 && pick(3) != 0) text += " under d" + std::to_string(pick(i));
    text += "\n";
  }
  for (int i = 0; i < requesters; ++i) {
    text += "requester r" + std::to_string(i);
    if (i > 0 && pick(3) != 0) text += " under r" + std::to_string(pick(i));
    text += "\n";
  }
  text += "action a0, a1, a2, a3\npurpose p0, p1, p2\nfact f0, f1, f2, f3\n";
  text += "consent k0 cites \"m\"\nconsent k1\n";
  const auto set = [&](const char* prefix, int n) {
    if (pick(4) == 0) return std::string("any");
    std::string s;
    const int count = 1 + pick(2);
    for (int i = 0; i < count; ++i)
      s += (i ? ", " : "") + std::string(prefix) + std::to_string(pick(n));
    return s;
  };
  std::function<std::string(int)> cond = [&](int depth) -> std::string {
    switch (depth > 2 ? pick(3) : pick(7)) {
      case 0:
        return "f" + std::to_string(pick(4));
      case 1:
        return "purpose is p" + std::to_string(pick(3));
      case 2:
        return "consent k" + std::to_string(pick(2));
      case 3:
        return "not " + cond(depth + 1);
      case 4:
        return "(" + cond(depth + 1) + " and " + cond(depth + 1) + ")";
      case 5:
        return "(" + cond(depth + 1) + " or " + cond(depth + 1) + ")";
      default:
        return "purpose in (p0, p" + std::to_string(1 + pick(2)) + ")";
    }
  };
  for (int i = 0; i < rules; ++i) {
    const int kind = pick(10);
    std::string rule;
    if (kind == 0) {
      rule = "exclude " + set("d", data);
    } else {
      if (kind == 9) rule = "otherwise ";
      switch (pick(3)) {
        case 0:
          rule += "allow ";
          break;
        case 1:
          rule += "deny ";
          break;
        default:
          rule += "require consent k" + std::to_string(pick(2)) + " for ";
          break;
      }
      rule += set("a", 4) + " of " + set("d", data) + " by " + set("r", requesters);
      if (pick(2) == 0) rule += " when " + cond(0);
    }
    text += rule + " cites \"c\"\n";
  }
  return text;
}

/// Builds a request over random_policy's vocabulary: purpose p<purpose> (none when -1),
/// facts f0..f3 from bits 0 to 3 of `bits`, consents k0 and k1 from bits 4 and 5.
// Not inlined: GCC 12 misreports -Wrestrict on the inlined string copies.
[[gnu::noinline]] inline Request small_request(const std::string& data,
                                               const std::string& requester,
                                               const std::string& action, int purpose, int bits) {
  const auto numbered = [](char prefix, int n) {
    std::string name(1, prefix);
    name.push_back(static_cast<char>('0' + n));
    return name;
  };
  Request q;
  q.data = data;
  q.requester = requester;
  q.action = action;
  q.requester_id = "t";
  if (purpose >= 0) q.purpose = numbered('p', purpose);
  for (int f = 0; f < 4; ++f) {
    if (((bits >> f) & 1) != 0) q.facts.push_back(numbered('f', f));
  }
  for (int k = 0; k < 2; ++k) {
    if (((bits >> (4 + k)) & 1) != 0) q.consent.push_back(numbered('k', k));
  }
  return q;
}

}  // namespace clause::test
