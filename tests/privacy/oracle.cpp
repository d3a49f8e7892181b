#include "oracle.hpp"

#include <initializer_list>
#include <string_view>
#include <utility>

namespace clause::oracle {
namespace {

// Both trees of reading.md as parent links; their names are disjoint, so one table serves.
// An unknown name or a root has no parent.
std::string_view parent(std::string_view name) {
  // Data categories.
  if (name == "registration_info" || name == "usage_info" || name == "partner_sourced_info") {
    return "personal_info";
  }
  if (name == "contact_info" || name == "credentials") return "registration_info";
  if (name == "cookie_data") return "usage_info";
  if (name == "search_keywords" || name == "activity_info" || name == "enforcement_records") {
    return "excluded_info";
  }
  // Requester kinds.
  if (name == "joint_provider" || name == "business_partner" || name == "unrelated_third_party" ||
      name == "authority" || name == "ip_respondent" || name == "platform_user") {
    return "third_party";
  }
  if (name == "counterparty") return "platform_user";
  return {};
}

// True when `child` is `ancestor` or one of its descendants.
bool is_a(std::string_view child, std::string_view ancestor) {
  for (std::string_view n = child; !n.empty(); n = parent(n)) {
    if (n == ancestor) return true;
  }
  return false;
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

Expected allow(std::string clause) {
  return {"allow", std::move(clause), {}};
}
Expected deny(std::string clause) {
  return {"deny", std::move(clause), {}};
}

// A consent rule: met when the id is granted (third_party_disclosure then cites its own clause,
// 3.a), else the request waits for that consent under the rule's clause.
Expected needs_consent(const Request& r, const std::string& clause, const std::string& id) {
  if (r.consent.count(id) > 0) return allow(id == "third_party_disclosure" ? "3.a" : clause);
  return {"require-consent", clause, id};
}

}  // namespace

Expected decide(const Request& r) {
  const std::string_view who = r.requester;
  const std::string_view act = r.action;
  const std::string_view data = r.data;
  const std::string_view purpose = r.purpose;
  const auto fact = [&r](const char* name) { return r.facts.count(name) > 0; };

  // Tier 1: out of scope. Bare excluded_info names no branch, so no clause can be cited for it;
  // it falls through to the default below.
  if (is_a(data, "search_keywords")) return allow("1.x.a");
  if (is_a(data, "activity_info")) return allow("1.x.b");
  if (is_a(data, "enforcement_records")) return allow("1.x.c");

  // Every rule below is about personal_info (its "any" included), so nothing else can match.
  if (!is_a(data, "personal_info")) return deny("default");

  const bool third_party = is_a(who, "third_party");
  const bool software = is_a(who, "the_software");
  const bool first_parties = software || is_a(who, "affiliate");

  // Tier 2: prohibitions, in table order.
  if (third_party && one_of(act, {"collect", "edit", "sell", "distribute"})) return deny("2.b");
  if (is_a(who, "joint_provider") && act == "access" && !fact("service_active")) {
    return deny("2.a");
  }
  if (software && act == "set_cookie" && fact("cookies_refused")) return deny("5.b");
  if (act == "store" && is_a(data, "credentials") && !fact("encrypted")) return deny("6.a");
  if (software && act == "collect" && is_a(data, "partner_sourced_info") &&
      !fact("lawful_source")) {
    return deny("1.c");
  }

  // Tier 3: permissions, in table order; the first matching row is cited.
  if (software && act == "collect") {
    if (is_a(data, "registration_info")) return allow("1.a");
    if (is_a(data, "usage_info")) return allow("1.b");
    if (is_a(data, "partner_sourced_info") && fact("lawful_source")) return allow("1.c");
  }
  if (software && act == "use") {
    if (purpose == "service" || purpose == "personalization") return allow("P");
    if (purpose == "marketing") return allow("2.c");
  }
  if (act == "access") {
    if (is_a(who, "joint_provider") && fact("service_active")) return allow("2.a");
    if (third_party && purpose == "service" && fact("user_requested")) return allow("3.b");
    if (third_party && fact("legal_requirement")) return allow("3.c");
    if (is_a(who, "authority") && fact("authority_request")) return allow("3.c");
    if (third_party && fact("user_violation")) return allow("3.d");
    if (is_a(who, "ip_respondent") && fact("ip_complaint")) return allow("3.e");
    if (is_a(who, "counterparty") && is_a(data, "contact_info") && fact("obligation_performed") &&
        fact("disclosure_requested")) {
      return allow("3.f");
    }
    if (third_party && fact("deemed_appropriate")) return allow("3.g");
  }
  if (first_parties && one_of(act, {"store", "transfer_abroad"})) return allow("4");
  // Never decides: row 4 above already allows every store this row would. Kept so that the
  // table reads whole.
  if (first_parties && act == "store" && is_a(data, "credentials") && fact("encrypted")) {
    return allow("6.a");
  }
  if (software && act == "set_cookie") return allow("5.a");
  if (is_a(who, "counterparty") && act == "access" && is_a(data, "contact_info") &&
      fact("in_transaction")) {
    return allow("6.b");
  }

  // Tier 4: consent requirements.
  if (is_a(who, "business_partner") && act == "access" && purpose == "partner_marketing") {
    return needs_consent(r, "2.c", "partner_marketing");
  }
  if (is_a(who, "unrelated_third_party") && one_of(act, {"access", "buy"})) {
    return needs_consent(r, "2.a", "third_party_disclosure");
  }

  // Tier 5: fall-back.
  if (third_party && one_of(act, {"access", "buy"})) {
    return needs_consent(r, "P", "third_party_disclosure");
  }
  return deny("default");
}

const std::vector<std::string>& data_categories() {
  static const std::vector<std::string> names = {
      "personal_info",   "registration_info", "contact_info",         "credentials",
      "usage_info",      "cookie_data",       "partner_sourced_info", "excluded_info",
      "search_keywords", "activity_info",     "enforcement_records"};
  return names;
}

const std::vector<std::string>& requester_kinds() {
  static const std::vector<std::string> names = {
      "the_software",          "affiliate",      "user",
      "third_party",           "joint_provider", "business_partner",
      "unrelated_third_party", "authority",      "ip_respondent",
      "platform_user",         "counterparty"};
  return names;
}

const std::vector<std::string>& actions() {
  static const std::vector<std::string> names = {
      "collect", "use",  "store", "transfer_abroad", "set_cookie", "access",
      "buy",     "edit", "sell",  "distribute"};
  return names;
}

const std::vector<std::string>& purposes() {
  static const std::vector<std::string> names = {
      "service", "personalization", "marketing", "partner_marketing",
      "legal",   "enforcement",     "dispute"};
  return names;
}

const std::vector<std::string>& facts() {
  static const std::vector<std::string> names = {"service_active",
                                                 "user_requested",
                                                 "legal_requirement",
                                                 "authority_request",
                                                 "user_violation",
                                                 "ip_complaint",
                                                 "obligation_performed",
                                                 "disclosure_requested",
                                                 "deemed_appropriate",
                                                 "cookies_refused",
                                                 "encrypted",
                                                 "in_transaction",
                                                 "lawful_source"};
  return names;
}

const std::vector<std::string>& consents() {
  static const std::vector<std::string> names = {"third_party_disclosure", "partner_marketing"};
  return names;
}

}  // namespace clause::oracle
