// Fuzz target: any bytes as a JSON request to the privacy policy, to a policy with typed
// attributes, a time and objections (tests/cli/attributes.policy), and to the clinic's
// policy, also as of a time for requests that give none. A request that cannot be
// decoded is denied citing `default`; the quick reader and the full reader agree on what
// decodes, on the error and on the request; decoding then deciding gives what evaluate_json
// gives; every decision encodes as valid JSON that says the same.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "clause/clause.hpp"
#include "clause/json.hpp"
#include "fuzz_support.hpp"

namespace clause::fuzz {
namespace {

Policy load(const std::string& relative) {
  const std::string path = std::string(CLAUSE_SOURCE_DIR) + "/" + relative;
  auto source = read_source(path);
  if (!source) fail("cannot read " + path + ": " + source.error());
  auto compiled = compile(*source);
  if (!compiled) fail(render_text(*source, compiled.error()));
  return std::move(*compiled);
}

// The JSON of a decision parses, and says what the decision says.
void check_json(const Decision& d, std::string_view input) {
  const std::string text = to_json(d);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail("to_json gave invalid JSON: " + text, input);
  check(j.is_object() && j.value("decision", "") == to_string(d.effect) &&
            j.value("clause", "") == d.clause,
        "to_json says another decision: " + text, input);
  check(d.error.empty() || j.contains("error"), "to_json drops the error: " + text, input);
}

void run_on(const Policy& p, std::string_view input) {
  const detail::PolicyImpl& impl = *detail::Access::impl(p);

  const Decision d = p.evaluate_json(input);
  if (!d.error.empty()) {
    check(d.effect == Effect::deny && d.clause == "default" && d.rule.empty() && d.consent.empty(),
          "a request with an error is not denied citing default: " + describe(d), input);
  }
  check_json(d, input);

  const auto quick = p.decode(input);
  const auto full = detail::decode_with_positions(impl, input);
  if (quick.has_value() != full.has_value()) {
    fail(fmt::format("the quick reader {} it, the full reader {} it",
                     quick ? "decodes" : "refuses (" + quick.error().to_string() + ")",
                     full ? "decodes" : "refuses (" + full.error().to_string() + ")"),
         input);
  }
  check(quick.has_value() == d.error.empty(),
        "decode and evaluate_json disagree on whether the request is valid: " + describe(d), input);
  if (!quick) {
    check(quick.error().to_string() == full.error().to_string(),
          "the readers give different errors: `" + quick.error().to_string() + "` and `" +
              full.error().to_string() + "`",
          input);
    check(d.error == quick.error().to_string(),
          "evaluate_json reports `" + d.error + "`, decode `" + quick.error().to_string() + "`",
          input);
    return;
  }
  using detail::Access;
  check(Access::data(*quick) == Access::data(*full) &&
            Access::requester(*quick) == Access::requester(*full) &&
            Access::action(*quick) == Access::action(*full) &&
            Access::purpose(*quick) == Access::purpose(*full) &&
            Access::atoms(*quick) == Access::atoms(*full) &&
            Access::attributes(*quick) == Access::attributes(*full),
        "the quick and the full reader decode different requests", input);
  const Decision by_full = p.evaluate(*full);
  check(same_decision(d, by_full),
        "evaluate_json says " + describe(d) + ", the full reader's request " + describe(by_full),
        input);
  const Decision traced = p.evaluate(*quick, EvalOptions{.trace = true});
  check(same_decision(d, traced), "traced: " + describe(traced) + ", not: " + describe(d), input);
  check_json(traced, input);
}

// With a time for requests that give none (`clause eval --as-of`), both readers agree too.
void run_as_of(const Policy& p, std::string_view input) {
  static const Instant as_of = *parse_time("2026-03-01T12:00:00Z");
  const auto quick = p.decode(input, as_of);
  const auto full = detail::decode_with_positions(*detail::Access::impl(p), input, as_of);
  if (quick.has_value() != full.has_value()) {
    fail(fmt::format("as of a time, the quick reader {} it, the full reader {} it",
                     quick ? "decodes" : "refuses", full ? "decodes" : "refuses"),
         input);
  }
  if (!quick) {
    check(quick.error().to_string() == full.error().to_string(),
          "as of a time, the readers give different errors", input);
    return;
  }
  using detail::Access;
  check(Access::atoms(*quick) == Access::atoms(*full) &&
            Access::attributes(*quick) == Access::attributes(*full),
        "as of a time, the quick and the full reader decode different requests", input);
}

void run(std::string_view input) {
  static const Policy privacy = load("policies/privacy.policy");
  static const Policy attributes = load("tests/cli/attributes.policy");
  static const Policy clinic = load("policies/clinic.policy");
  run_on(privacy, input);
  run_on(attributes, input);
  run_on(clinic, input);
  run_as_of(attributes, input);
  run_as_of(clinic, input);
}

}  // namespace
}  // namespace clause::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  clause::fuzz::run({reinterpret_cast<const char*>(data), size});
  return 0;
}
