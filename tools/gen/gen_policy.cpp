// clause-gen: writes synthetic policies of any size as ordinary policy files, for
// benchmarks and for the analyses' scale tests. The same seed gives the same policy;
// --vary K gives a second version of it with K rules changed, for `clause diff`.
#include <cstdio>
#include <string>

#include "generator.hpp"

namespace {

int usage() {
  std::fputs(
      "usage: clause-gen --rules N [--seed S] [--vary K] [--attributes]\n\n"
      "Writes a synthetic policy of N rules to stdout: a vocabulary that grows with N (data\n"
      "categories and requester kinds in trees, actions, purposes, facts, consents), N/10\n"
      "clauses, and rules of every tier with conditions. Up to 100 rules, a fifth name any\n"
      "action and a tenth any data or any requester; larger policies keep about that many\n"
      "wide rules and are otherwise specific. --vary K writes the same policy\n"
      "with K of its rules changed (dropped, turned from allow to deny or back, or given a\n"
      "condition), as a new version for `clause diff`. --attributes declares typed\n"
      "attributes, objections and obligations, and conditions compare them.\n",
      stderr);
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  clause::gen::SyntheticOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--attributes") {
      o.attributes = true;
      continue;
    }
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    try {
      if (a == "--rules") {
        o.rules = std::stoul(value);
      } else if (a == "--seed") {
        o.seed = std::stoull(value);
      } else if (a == "--vary") {
        o.vary = std::stoul(value);
      } else {
        return usage();
      }
    } catch (const std::exception&) {
      return usage();
    }
  }
  if (o.rules == 0) return usage();
  const std::string text = clause::gen::synthetic_policy(o);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
