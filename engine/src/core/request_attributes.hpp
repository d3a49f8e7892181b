// Stage: evaluate (input). What the JSON reader (request.cpp) and requests given in code
// (request_attributes.cpp) share: quoting a request's text in errors, reading dates, and
// settling consent records and attribute values into a request's bits.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/policy_impl.hpp"

namespace clause::detail {

/// Shows text from a request in a one-line error: control characters and bytes that are
/// not UTF-8 are escaped, so that the error stays one line of valid UTF-8 wherever it is
/// printed or logged; past `limit` bytes it is cut, at a character's start, with "...".
std::string printable(std::string_view s, std::size_t limit = std::string_view::npos);

// How much of a name, and of a wrong value, an error quotes.
inline constexpr std::size_t quoted_name_bytes = 64;
inline constexpr std::size_t quoted_value_bytes = 40;

/// An unknown name of `kind` in `field`, with the closest declared name as a guess.
RequestError unknown_name(std::string field, std::string_view kind, const std::string& name,
                          const std::vector<dsl::Term>& terms);

/// A request with nothing set and room for every declared attribute.
ResolvedRequest blank(const PolicyImpl& p);

/// Reads the text of a date or time field; the error quotes the text and says what is wrong.
Result<Instant, std::string> read_instant(AttrType type, std::string_view text);

/// A consent given with dates: it counts only while each date given is after context.time.
struct DatedConsent {
  std::uint32_t consent = 0;
  std::optional<Instant> expires;
  std::optional<Instant> withdrawn;
};

/// Turns what a request said into bits, once: the consents whose records count at
/// `context.time`, and the answer of every attribute test.
void settle(const PolicyImpl& p, ResolvedRequest& r, const std::vector<DatedConsent>& records);

/// The first declared attribute that a request must give and did not, if any. `open`,
/// when given, says which attributes a partial request (a plan's) may leave out.
const dsl::AttributeInfo* missing_attribute(
    const PolicyImpl& p, const ResolvedRequest& r,
    const std::function<bool(const std::string&)>& open = nullptr);
std::string missing_message(const dsl::AttributeInfo& a);

/// The error of a value of the attribute's type that the attribute does not take: `"XX" is
/// not one of the names of `country``, `-3 is outside the range 0..150`; nothing when it
/// takes it.
std::optional<std::string> refused_value(const dsl::AttributeInfo& a, const Value& v);

/// Guesses the declared attribute meant by an unknown `root.name`, among those under root.
std::string attribute_guess(const PolicyImpl& p, std::string_view root, std::string_view name);

}  // namespace clause::detail
