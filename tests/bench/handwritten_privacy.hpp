// The privacy policy decided by a hand-written function: enums and bit tests over the tables
// of reading.md (../shared/spec/reading.md), sharing no code with the engine. It is the
// yardstick of docs/performance.md ("the privacy policy against a hand-written decision
// function"); tests/privacy/handwritten_test.cpp checks that it decides as the engine does.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "clause/clause.hpp"

namespace clause::handwritten {

// The vocabulary of reading.md, in its order. Each tree is listed parent first.
enum class Data : std::uint8_t {
  personal_info,
  registration_info,
  contact_info,
  credentials,
  usage_info,
  cookie_data,
  partner_sourced_info,
  excluded_info,
  search_keywords,
  activity_info,
  enforcement_records,
};
inline constexpr int data_count = 11;

enum class Requester : std::uint8_t {
  the_software,
  affiliate,
  user,
  third_party,
  joint_provider,
  business_partner,
  unrelated_third_party,
  authority,
  ip_respondent,
  platform_user,
  counterparty,
};
inline constexpr int requester_count = 11;

enum class Action : std::uint8_t {
  collect,
  use,
  store,
  transfer_abroad,
  set_cookie,
  access,
  buy,
  edit,
  sell,
  distribute,
};
inline constexpr int action_count = 10;

// `none` is a request without a purpose.
enum class Purpose : std::uint8_t {
  none,
  service,
  personalization,
  marketing,
  partner_marketing,
  legal,
  enforcement,
  dispute,
};
inline constexpr int purpose_count = 8;

// Context facts, one bit each in PrivacyRequest::facts.
enum Fact : std::uint16_t {
  service_active = 1U << 0,
  user_requested = 1U << 1,
  legal_requirement = 1U << 2,
  authority_request = 1U << 3,
  user_violation = 1U << 4,
  ip_complaint = 1U << 5,
  obligation_performed = 1U << 6,
  disclosure_requested = 1U << 7,
  deemed_appropriate = 1U << 8,
  cookies_refused = 1U << 9,
  encrypted = 1U << 10,
  in_transaction = 1U << 11,
  lawful_source = 1U << 12,
};
inline constexpr int fact_count = 13;

// Granted consents, one bit each in PrivacyRequest::consent.
enum ConsentBit : std::uint8_t {
  third_party_disclosure_granted = 1U << 0,
  partner_marketing_granted = 1U << 1,
};
inline constexpr int consent_count = 2;

// The clause ids of reading.md; `fail_closed` is the id "default".
enum class ClauseId : std::uint8_t {
  p,
  c1a,
  c1b,
  c1c,
  c1xa,
  c1xb,
  c1xc,
  c2a,
  c2b,
  c2c,
  c3a,
  c3b,
  c3c,
  c3d,
  c3e,
  c3f,
  c3g,
  c4,
  c5a,
  c5b,
  c5c,
  c6a,
  c6b,
  fail_closed,
};

// The consent a require-consent decision asks for; `none` for the other effects.
enum class ConsentId : std::uint8_t { none, third_party_disclosure, partner_marketing };

enum class Effect : std::uint8_t { allow, deny, require_consent };

// Six bytes, passed in a register.
struct PrivacyRequest {
  Data data = Data::personal_info;
  Requester requester = Requester::the_software;
  Action action = Action::collect;
  Purpose purpose = Purpose::none;
  std::uint16_t facts = 0;   // Fact bits
  std::uint8_t consent = 0;  // ConsentBit bits
};

struct PrivacyDecision {
  Effect effect = Effect::deny;
  ClauseId clause = ClauseId::fail_closed;
  ConsentId consent = ConsentId::none;
};

// Decides a request as reading.md reads the privacy policy. No allocation, no string.
PrivacyDecision decide_privacy(PrivacyRequest request) noexcept;

// Names as the engine's Decision prints them ("require-consent", "3.a", "default", ...).
std::string_view to_string(Effect effect) noexcept;
std::string_view to_string(ClauseId clause) noexcept;
std::string_view to_string(ConsentId consent) noexcept;  // "" for none

// Converts a request by names, once and off the timed path; nullopt for a name outside the
// vocabulary.
std::optional<PrivacyRequest> to_privacy_request(const Request& request);

}  // namespace clause::handwritten
