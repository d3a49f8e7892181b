// A decision service in a page: load a policy, decide each request (one JSON object a
// line on stdin), ask for consent when the policy requires it, and reload the policy on
// SIGHUP or on a line that says `reload` -- a file with errors keeps the old policy.
#include <clause/clause.hpp>
#include <clause/diff.hpp>
#include <clause/store.hpp>
#include <clause/verify.hpp>

#include <csignal>
#include <iostream>
#include <string>

namespace {
volatile std::sig_atomic_t reload_asked = 0;
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: decide POLICY_FILE < requests.jsonl\n";
    return 64;
  }
  auto store = clause::PolicyStore::open(argv[1]);
  if (!store) {
    for (const clause::Diagnostic& d : store.error())
      std::cerr << d.message << '\n';
    return 1;
  }
  // The promises the policy makes (`assert ...`), proved over every request before serving.
  std::size_t proved = 0;
  const auto promises = clause::verify(store->current());
  for (const clause::AssertionResult& a : promises)
    proved += a.proved ? 1 : 0;
  std::cout << "promises: " << proved << " of " << promises.size() << " proved\n";
  std::signal(SIGHUP, [](int) { reload_asked = 1; });

  std::string line;
  while (std::getline(std::cin, line)) {
    if (reload_asked != 0 || line == "reload") {
      reload_asked = 0;
      const clause::Policy before = store->current();
      auto reloaded = store->reload();
      if (reloaded) {
        // What the new text changes: every decision that differs, over every request.
        const clause::Diff changes = clause::diff_policies(before, *reloaded);
        std::cout << "reloaded version " << reloaded->version() << ", " << changes.changed << " of "
                  << changes.total << " decisions changed\n";
      } else {
        std::cout << "reload failed, keeping version " << store->current().version() << ": "
                  << reloaded.error().front().message << '\n';
      }
      if (line == "reload") continue;
    }
    // One snapshot per request: a reload meanwhile does not change this decision.
    const clause::Policy policy = store->current();
    const clause::Decision d = policy.evaluate_json(line);
    switch (d.effect) {
      case clause::Effect::allow:
        std::cout << "allow, citing " << d.clause;
        break;
      case clause::Effect::require_consent:
        // The service asks the person, then sends the request again with the consent.
        std::cout << "ask for consent `" << d.consent << "`, citing " << d.clause;
        break;
      case clause::Effect::deny:
        std::cout << "deny, citing " << d.clause;
        if (!d.error.empty()) std::cout << " (" << d.error << ')';
        break;
    }
    std::cout << " [version " << d.policy_version << ", " << d.policy_hash.substr(0, 19) << "]\n";
  }
  return 0;
}
