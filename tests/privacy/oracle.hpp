#pragma once
// Test reference: the decisions fixed by reading.md, written out without the engine so that
// tests can check the engine against something that shares none of its code.
#include <set>
#include <string>
#include <vector>
namespace clause::oracle {
// One request, by names, as reading.md describes it.
struct Request {
  std::string data;       // data.category
  std::string requester;  // requester.kind
  std::string action;
  std::string purpose;            // empty when the request has no purpose
  std::set<std::string> facts;    // facts that are true
  std::set<std::string> consent;  // consent ids granted
};
// What reading.md says the answer is.
struct Expected {
  std::string decision;  // "allow", "deny" or "require-consent"
  std::string clause;    // clause id, e.g. "2.b", "P", "default"
  std::string consent;   // consent id, only when decision is "require-consent"; else empty
};
// Decides a request exactly as reading.md reads the policy.
Expected decide(const Request& request);
// The vocabulary of reading.md, every name (parents included).
const std::vector<std::string>& data_categories();
const std::vector<std::string>& requester_kinds();
const std::vector<std::string>& actions();
const std::vector<std::string>& purposes();
const std::vector<std::string>& facts();
const std::vector<std::string>& consents();
}  // namespace clause::oracle
