#include "handwritten_privacy.hpp"

#include <array>
#include <cstddef>

namespace clause::handwritten {
namespace {

constexpr std::uint16_t bit(Data d) {
  return static_cast<std::uint16_t>(1U << static_cast<unsigned>(d));
}
constexpr std::uint16_t bit(Requester r) {
  return static_cast<std::uint16_t>(1U << static_cast<unsigned>(r));
}

// The subtrees the tables name, as sets of categories and kinds: a rule about a parent
// covers every descendant, so "is a kind of" is one bit test.
constexpr std::uint16_t registration_tree =
    bit(Data::registration_info) | bit(Data::contact_info) | bit(Data::credentials);
constexpr std::uint16_t usage_tree = bit(Data::usage_info) | bit(Data::cookie_data);
constexpr std::uint16_t third_party_tree =
    bit(Requester::third_party) | bit(Requester::joint_provider) |
    bit(Requester::business_partner) | bit(Requester::unrelated_third_party) |
    bit(Requester::authority) | bit(Requester::ip_respondent) | bit(Requester::platform_user) |
    bit(Requester::counterparty);
constexpr std::uint16_t first_parties = bit(Requester::the_software) | bit(Requester::affiliate);

constexpr bool in(std::uint16_t set, Data d) {
  return (set & bit(d)) != 0;
}
constexpr bool in(std::uint16_t set, Requester r) {
  return (set & bit(r)) != 0;
}

constexpr PrivacyDecision allow(ClauseId c) {
  return {Effect::allow, c, ConsentId::none};
}
constexpr PrivacyDecision deny(ClauseId c) {
  return {Effect::deny, c, ConsentId::none};
}
constexpr PrivacyDecision fail_closed = deny(ClauseId::fail_closed);

// Precedence 4: a granted third_party_disclosure is allow citing 3.a, whichever rule asked.
constexpr PrivacyDecision needs_disclosure_consent(std::uint8_t consent, ClauseId asking) {
  if ((consent & third_party_disclosure_granted) != 0) return allow(ClauseId::c3a);
  return {Effect::require_consent, asking, ConsentId::third_party_disclosure};
}

// `access` of personal data: every row for it names a third party, so anyone else falls
// to the default.
PrivacyDecision decide_access(const PrivacyRequest q) noexcept {
  const std::uint16_t f = q.facts;
  if (!in(third_party_tree, q.requester)) return fail_closed;
  // 2.a decides for a joint provider either way: the prohibition without service_active,
  // the first permission with it.
  if (q.requester == Requester::joint_provider) {
    return (f & service_active) != 0 ? allow(ClauseId::c2a) : deny(ClauseId::c2a);
  }
  // Permissions, in table order.
  if (q.purpose == Purpose::service && (f & user_requested) != 0) return allow(ClauseId::c3b);
  if ((f & legal_requirement) != 0) return allow(ClauseId::c3c);
  if (q.requester == Requester::authority && (f & authority_request) != 0) {
    return allow(ClauseId::c3c);
  }
  if ((f & user_violation) != 0) return allow(ClauseId::c3d);
  if (q.requester == Requester::ip_respondent && (f & ip_complaint) != 0) {
    return allow(ClauseId::c3e);
  }
  // counterparty and contact_info are leaves: equality is "a kind of".
  const bool counterparty_contact =
      q.requester == Requester::counterparty && q.data == Data::contact_info;
  constexpr std::uint16_t performed_and_requested = obligation_performed | disclosure_requested;
  if (counterparty_contact && (f & performed_and_requested) == performed_and_requested) {
    return allow(ClauseId::c3f);
  }
  if ((f & deemed_appropriate) != 0) return allow(ClauseId::c3g);
  if (counterparty_contact && (f & in_transaction) != 0) return allow(ClauseId::c6b);
  // Consent requirements, then the fall-back.
  if (q.requester == Requester::business_partner && q.purpose == Purpose::partner_marketing) {
    if ((q.consent & partner_marketing_granted) != 0) return allow(ClauseId::c2c);
    return {Effect::require_consent, ClauseId::c2c, ConsentId::partner_marketing};
  }
  if (q.requester == Requester::unrelated_third_party) {
    return needs_disclosure_consent(q.consent, ClauseId::c2a);
  }
  return needs_disclosure_consent(q.consent, ClauseId::p);
}

}  // namespace

PrivacyDecision decide_privacy(const PrivacyRequest q) noexcept {
  // Precedence 1: the excluded branches are outside the policy; their bare parent names no
  // branch and falls to the default.
  switch (q.data) {
    case Data::search_keywords:
      return allow(ClauseId::c1xa);
    case Data::activity_info:
      return allow(ClauseId::c1xb);
    case Data::enforcement_records:
      return allow(ClauseId::c1xc);
    case Data::excluded_info:
      return fail_closed;
    default:
      break;  // personal_info or below it: the rule tables apply
  }
  const bool third_party = in(third_party_tree, q.requester);
  const std::uint16_t f = q.facts;
  switch (q.action) {
    case Action::collect:
      if (third_party) return deny(ClauseId::c2b);
      if (q.requester != Requester::the_software) return fail_closed;
      if (in(registration_tree, q.data)) return allow(ClauseId::c1a);
      if (in(usage_tree, q.data)) return allow(ClauseId::c1b);
      if (q.data == Data::partner_sourced_info) {
        return (f & lawful_source) != 0 ? allow(ClauseId::c1c) : deny(ClauseId::c1c);
      }
      return fail_closed;  // bare personal_info: no collect row names it
    case Action::edit:
    case Action::sell:
    case Action::distribute:
      return third_party ? deny(ClauseId::c2b) : fail_closed;
    case Action::use:
      if (q.requester != Requester::the_software) return fail_closed;
      switch (q.purpose) {
        case Purpose::service:
        case Purpose::personalization:
          return allow(ClauseId::p);
        case Purpose::marketing:
          return allow(ClauseId::c2c);
        default:
          return fail_closed;
      }
    case Action::store:
      // 6.a's prohibition binds every requester; its permission is never reached, since 4
      // comes first in the table and already allows every store it would.
      if (q.data == Data::credentials && (f & encrypted) == 0) return deny(ClauseId::c6a);
      return in(first_parties, q.requester) ? allow(ClauseId::c4) : fail_closed;
    case Action::transfer_abroad:
      return in(first_parties, q.requester) ? allow(ClauseId::c4) : fail_closed;
    case Action::set_cookie:
      if (q.requester != Requester::the_software) return fail_closed;
      return (f & cookies_refused) != 0 ? deny(ClauseId::c5b) : allow(ClauseId::c5a);
    case Action::access:
      return decide_access(q);
    case Action::buy:
      // No permission names `buy`: only the consent requirement and the fall-back do.
      if (q.requester == Requester::unrelated_third_party) {
        return needs_disclosure_consent(q.consent, ClauseId::c2a);
      }
      return third_party ? needs_disclosure_consent(q.consent, ClauseId::p) : fail_closed;
  }
  return fail_closed;  // an action outside the enum
}

std::string_view to_string(Effect effect) noexcept {
  switch (effect) {
    case Effect::allow:
      return "allow";
    case Effect::deny:
      return "deny";
    case Effect::require_consent:
      return "require-consent";
  }
  return "deny";
}

std::string_view to_string(ClauseId clause) noexcept {
  static constexpr std::array<std::string_view, 24> ids = {
      "P",   "1.a", "1.b", "1.c", "1.x.a", "1.x.b", "1.x.c", "2.a", "2.b", "2.c", "3.a", "3.b",
      "3.c", "3.d", "3.e", "3.f", "3.g",   "4",     "5.a",   "5.b", "5.c", "6.a", "6.b", "default"};
  const auto i = static_cast<std::size_t>(clause);
  return i < ids.size() ? ids[i] : "default";
}

std::string_view to_string(ConsentId consent) noexcept {
  switch (consent) {
    case ConsentId::none:
      return "";
    case ConsentId::third_party_disclosure:
      return "third_party_disclosure";
    case ConsentId::partner_marketing:
      return "partner_marketing";
  }
  return "";
}

namespace {

constexpr std::array<std::string_view, data_count> data_names = {
    "personal_info",   "registration_info", "contact_info",         "credentials",
    "usage_info",      "cookie_data",       "partner_sourced_info", "excluded_info",
    "search_keywords", "activity_info",     "enforcement_records"};
constexpr std::array<std::string_view, requester_count> requester_names = {
    "the_software",          "affiliate",      "user",
    "third_party",           "joint_provider", "business_partner",
    "unrelated_third_party", "authority",      "ip_respondent",
    "platform_user",         "counterparty"};
constexpr std::array<std::string_view, action_count> action_names = {
    "collect", "use",  "store", "transfer_abroad", "set_cookie", "access",
    "buy",     "edit", "sell",  "distribute"};
// Index 0 is Purpose::none, which has no name.
constexpr std::array<std::string_view, purpose_count> purpose_names = {
    "",      "service",     "personalization", "marketing", "partner_marketing",
    "legal", "enforcement", "dispute"};
// Index i is bit i of Fact and of ConsentBit.
constexpr std::array<std::string_view, fact_count> fact_names = {"service_active",
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
constexpr std::array<std::string_view, consent_count> consent_names = {"third_party_disclosure",
                                                                       "partner_marketing"};

// The index of `name` in `names`, or -1.
template <std::size_t N>
int index_of(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

std::optional<PrivacyRequest> to_privacy_request(const Request& request) {
  PrivacyRequest q;
  const int d = index_of(data_names, request.data);
  const int r = index_of(requester_names, request.requester);
  const int a = index_of(action_names, request.action);
  if (d < 0 || r < 0 || a < 0) return std::nullopt;
  q.data = static_cast<Data>(d);
  q.requester = static_cast<Requester>(r);
  q.action = static_cast<Action>(a);
  if (request.purpose) {
    const int p = index_of(purpose_names, *request.purpose);
    if (p <= 0) return std::nullopt;
    q.purpose = static_cast<Purpose>(p);
  }
  for (const std::string& name : request.facts) {
    const int i = index_of(fact_names, name);
    if (i < 0) return std::nullopt;
    q.facts = static_cast<std::uint16_t>(q.facts | (1U << i));
  }
  for (const std::string& name : request.consent) {
    const int i = index_of(consent_names, name);
    if (i < 0) return std::nullopt;
    q.consent = static_cast<std::uint8_t>(q.consent | (1U << i));
  }
  return q;
}

}  // namespace clause::handwritten
