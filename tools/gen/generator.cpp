#include "generator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <random>
#include <vector>

namespace clause::gen {
namespace {

class Generator {
 public:
  explicit Generator(const SyntheticOptions& o) : o_(o), rng_(o.seed) {
    data_ = std::max<std::size_t>(20, o.rules / 20);
    requesters_ = std::max<std::size_t>(10, o.rules / 40);
    clauses_ = std::max<std::size_t>(5, o.rules / 10);
    // Wide rules (`any`, exclusions) are a fixed share of small policies; large ones are
    // mostly specific grants, with about as many wide rules as a 100-rule policy has.
    wide_ = o.rules <= 100 ? 1.0 : 100.0 / static_cast<double>(o.rules);
  }

  std::string run() {
    std::string out = fmt::format("# Synthetic policy: {} rules, seed {}.\n", o_.rules, o_.seed);
    out += fmt::format("policy \"Synthetic {}\" version \"{}\"\n\n", o_.rules, o_.seed);
    for (std::size_t c = 0; c < clauses_; ++c)
      out += fmt::format("clause \"c{}\" \"Clause {}.\"\n", c, c);
    out += "clause \"default\" \"No clause permits it.\"\n\n";
    tree(out, "data", "d", data_);
    tree(out, "requester", "r", requesters_);
    out += list("action", "a", actions_) + list("purpose", "p", purposes_) +
           list("fact", "f", facts_) + list("consent", "k", consents_) + "\n";
    if (o_.attributes) {
      out += list("objection", "o", objections_) + list("obligation", "g", 2) + "\n" +
             synthetic_attributes + "\n";
    }
    std::vector<std::string> rules;
    for (std::size_t i = 0; i < o_.rules; ++i)
      rules.push_back(rule(i + 1 == o_.rules));
    // A second version: the same rules with a few changed, chosen by their own generator.
    std::mt19937_64 vary(o_.seed * 7919 + o_.vary);
    for (std::size_t k = 0; k < o_.vary && !rules.empty(); ++k) {
      const std::size_t at = vary() % (rules.size() - 1);  // never the final fall-back
      std::string& r = rules[at];
      switch (vary() % 3) {
        case 0:
          rules.erase(rules.begin() + static_cast<std::ptrdiff_t>(at));
          break;
        case 1:
          if (r.starts_with("allow ")) {
            r.replace(0, 5, "deny");
            // Only an allow carries obligations.
            if (const std::size_t duties = r.find(" obliges "); duties != std::string::npos) {
              r.erase(duties, r.find('\n', duties) - duties);
            }
          } else if (r.starts_with("deny ")) {
            r.replace(0, 4, "allow");
          }
          break;
        default: {
          // `when` goes before `obliges`, which goes before `cites`.
          const std::size_t duties = r.find(" obliges ");
          const std::size_t where = duties != std::string::npos ? duties : r.rfind("\n  cites");
          if (where != std::string::npos && r.find(" when ") == std::string::npos &&
              !r.starts_with("exclude")) {
            r.insert(where, fmt::format(" when f{}", vary() % facts_));
          }
          break;
        }
      }
    }
    for (const std::string& r : rules)
      out += r + "\n";
    return out;
  }

 private:
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

  // True with probability `percent` percent, scaled down for large policies.
  bool wide(double percent) {
    return static_cast<double>(rng_() % 1'000'000) < percent * 10'000.0 * wide_;
  }

  // Names in a tree: each one under a random earlier one, about five children each.
  void tree(std::string& out, const char* keyword, const char* prefix, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      out += fmt::format("{} {}{}", keyword, prefix, i);
      if (i >= 4) out += fmt::format(" under {}{}", prefix, (i - 4) / 5 + pick(2));
      out += '\n';
    }
    out += '\n';
  }

  static std::string list(const char* keyword, const char* prefix, std::size_t n) {
    std::string out = keyword;
    for (std::size_t i = 0; i < n; ++i)
      out += fmt::format("{}{}{}", i ? ", " : " ", prefix, i);
    return out + "\n";
  }

  std::string names(const char* prefix, std::size_t n, std::size_t max) {
    std::string out;
    const std::size_t count = 1 + pick(max);
    for (std::size_t i = 0; i < count; ++i)
      out += fmt::format("{}{}{}", i ? ", " : "", prefix, pick(n));
    return out;
  }

  // A comparison of attributes, or an objection.
  std::string attribute_atom() {
    switch (pick(9)) {
      case 0:
        return "requester.id = data.subject";
      case 1:
        return "requester.id in data.team";
      case 2:
        return fmt::format("data.age < {}", 10 + pick(70));
      case 3:
        return fmt::format("data.age >= {}", 10 + pick(70));
      case 4:
        return "data.flag";
      case 5:
        return fmt::format("context.time >= 2026-{:02}-01", 1 + pick(12));
      case 6:
        return fmt::format("context.time >= data.since + {} years", 1 + pick(10));
      case 7:
        return fmt::format("context.region {} {}",
                           pick(2) ? "=" : "!=", std::array{"CA", "US", "FR", "DE"}[pick(4)]);
      default:
        return fmt::format("objected o{}", pick(objections_));
    }
  }

  std::string condition() {
    const auto atom = [&]() -> std::string {
      if (o_.attributes && pick(2) == 0) return attribute_atom();
      switch (pick(4)) {
        case 0:
          return fmt::format("purpose is p{}", pick(purposes_));
        case 1:
          return fmt::format("consent k{}", pick(consents_));
        case 2:
          return fmt::format("not f{}", pick(facts_));
        default:
          return fmt::format("f{}", pick(facts_));
      }
    };
    switch (pick(4)) {
      case 0:
        return atom();
      case 1:
        return atom() + " and " + atom();
      case 2:
        return atom() + " or " + atom();
      default:
        return fmt::format("({} or {}) and {}", atom(), atom(), atom());
    }
  }

  std::string rule(bool last) {
    if (last) return "otherwise deny\n  cites \"default\"";
    const std::string cites = fmt::format("\n  cites \"c{}\"", pick(clauses_));
    if (wide(2)) return fmt::format("exclude d{}{}", data_ - 1 - pick(data_ / 4), cites);
    std::string r;
    if (pick(100) < 3) {
      r = "otherwise ";
    } else if (o_.attributes && pick(100) < 2) {
      r = "first ";
    }
    const std::size_t effect = pick(100);
    if (effect < 45) {
      r += "allow ";
    } else if (effect < 85) {
      r += "deny ";
    } else {
      r += fmt::format("require consent k{} for ", pick(consents_));
    }
    r += wide(20) ? "any" : names("a", actions_, 3);
    r += " of " + (wide(10) ? std::string("any") : names("d", data_, 2));
    r += " by " + (wide(10) ? std::string("any") : names("r", requesters_, 2));
    if (pick(2) == 0) r += " when " + condition();
    if (o_.attributes && effect < 45 && pick(4) == 0) r += fmt::format(" obliges g{}", pick(2));
    return r + cites;
  }

  SyntheticOptions o_;
  std::mt19937_64 rng_;
  std::size_t data_, requesters_, clauses_;
  double wide_ = 1.0;
  std::size_t actions_ = 12, purposes_ = 8, facts_ = 24, consents_ = 6, objections_ = 4;
};

}  // namespace

std::string synthetic_policy(const SyntheticOptions& options) {
  return Generator(options).run();
}

}  // namespace clause::gen
