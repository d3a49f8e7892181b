// Golden request errors: one malformed request per file in tests/golden/requests, decided
// against policies/privacy.policy, each with the exact decision JSON and the decode error
// that it must give. Run with CLAUSE_UPDATE_GOLDEN=1 to rewrite the `.expected` files, then
// review the change in the diff. `generate.sh` there writes the cases made of raw bytes.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "clause/detail.hpp"
#include "clause/json.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

namespace fs = std::filesystem;

const char* const requests_dir = "tests/golden/requests";

std::vector<fs::path> request_cases() {
  std::vector<fs::path> out;
  for (const fs::directory_entry& e : fs::directory_iterator(source_dir() / requests_dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("every broken request gives its golden error", "[golden][request]") {
  const std::vector<fs::path> cases = request_cases();
  CHECK(cases.size() >= 60);
  const Policy& p = privacy_policy();
  const detail::PolicyImpl& impl = *detail::Access::impl(p);

  for (const fs::path& path : cases) {
    INFO("case " << requests_dir << "/" << path.filename().string());
    const std::string text = read_file(path);

    const Decision d = p.evaluate_json(text);
    CHECK(d.effect == Effect::deny);
    CHECK(d.clause == "default");
    CHECK_FALSE(d.error.empty());
    CHECK(d.rule.empty());

    const auto decoded = p.decode(text);
    if (decoded.has_value()) {
      FAIL_CHECK("the request was accepted");
      continue;
    }
    const RequestError& error = decoded.error();
    CHECK(error.position.has_value());
    CHECK(d.error == error.to_string());

    // The quick reader gives up on anything unusual; the full one must then say the same.
    const auto full = detail::decode_with_positions(impl, text);
    CHECK_FALSE(full.has_value());
    if (!full.has_value()) {
      CHECK(full.error().field == error.field);
      CHECK(full.error().name == error.name);
      CHECK(full.error().to_string() == error.to_string());
    }

    // The decision is valid JSON, whatever bytes the request held.
    const std::string decision = to_json(d);
    const auto parsed = nlohmann::json::parse(decision, nullptr, false);
    CHECK_FALSE(parsed.is_discarded());

    check_golden(path, decision + "\n" + error.to_string() + "\n");
  }
}

TEST_CASE("every golden request expectation has its request", "[golden][request]") {
  check_no_stale_golden(source_dir() / requests_dir, ".json");
}

// JSON escapes are spelling: a name written with them is the name they spell, on both readers.
TEST_CASE("a name written with escapes decodes as the plain name", "[golden][request]") {
  const Policy& p = privacy_policy();
  const detail::PolicyImpl& impl = *detail::Access::impl(p);
  const std::string plain =
      R"({"data":{"category":"contact_info"},"requester":{"kind":"counterparty"},)"
      R"("action":"access","context":{"consent":["partner_marketing"],"in_transaction":true}})";
  const std::string escaped =
      R"({"data":{"category":"cont\u0061ct_info"},"requester":{"kind":"c\u006funterparty"},)"
      R"("\u0061ction":"acc\u0065ss","context":{"consent":["partner\u005fmarketing"],)"
      R"("in_tr\u0061nsaction":true}})";
  const Decision want = p.evaluate_json(plain);
  REQUIRE(want.error.empty());
  const Decision got = p.evaluate_json(escaped);
  CHECK(got.error.empty());
  CHECK(to_json(got) == to_json(want));

  const auto quick = p.decode(escaped);
  const auto full = detail::decode_with_positions(impl, escaped);
  REQUIRE(quick.has_value());
  REQUIRE(full.has_value());
  using detail::Access;
  CHECK(Access::data(*quick) == Access::data(*full));
  CHECK(Access::requester(*quick) == Access::requester(*full));
  CHECK(Access::action(*quick) == Access::action(*full));
  CHECK(Access::atoms(*quick) == Access::atoms(*full));
}

}  // namespace
}  // namespace clause::test
