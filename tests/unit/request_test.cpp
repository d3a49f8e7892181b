// Requests as JSON: what decodes, and for what does not, the field, the name and the
// position in the error.
#include <nlohmann/json.hpp>
#include <random>

#include "clause/json.hpp"

#include "clause/detail.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

const std::string good =
    R"({"data":{"category":"contact_info","id":"d-1"},"requester":{"kind":"counterparty","id":"u-42"},)"
    R"("action":"access","context":{"purpose":"service","consent":["third_party_disclosure"],)"
    R"("in_transaction":true,"encrypted":false}})";

TEST_CASE("a well-formed request decodes and decides", "[request]") {
  const Policy& p = privacy_policy();
  const Decision d = p.evaluate_json(good);
  CHECK(d.error.empty());
  CHECK(d.effect == Effect::allow);
  CHECK(d.clause == "6.b");
}

TEST_CASE("the context and requester id may be left out; purpose may be null", "[request]") {
  const Policy& p = privacy_policy();
  CHECK(p.evaluate_json(R"({"data":{"category":"usage_info"},"requester":{"kind":"the_software"},)"
                        R"("action":"collect"})")
            .clause == "1.b");
  CHECK(p.evaluate_json(R"({"data":{"category":"usage_info"},"requester":{"kind":"the_software"},)"
                        R"("action":"use","context":{"purpose":null}})")
            .clause == "default");
}

TEST_CASE("facts may also be given as context.facts, an object or a list", "[request]") {
  const Policy& p = privacy_policy();
  const std::string head =
      R"({"id":"req-7","data":{"category":"cookie_data"},"requester":{"kind":"the_software"},)"
      R"("action":"set_cookie","context":)";
  CHECK(p.evaluate_json(head + R"({"facts":{"cookies_refused":true}}})").clause == "5.b");
  CHECK(p.evaluate_json(head + R"({"facts":{"cookies_refused":false}}})").clause == "5.a");
  CHECK(p.evaluate_json(head + R"({"facts":["cookies_refused"]}})").clause == "5.b");
  CHECK(p.evaluate_json(head + R"({"facts":[]}})").clause == "5.a");
  CHECK(p.evaluate_json(head + R"({"facts":["cookies_refusd"]}})").error ==
        "context.facts[0]: unknown fact `cookies_refusd`; did you mean `cookies_refused`? "
        "(at 1:127)");
  CHECK(p.evaluate_json(head + R"({"facts":{"purpose":true}}})").error ==
        "context.facts.purpose: unknown fact `purpose` (at 1:127)");
  CHECK(p.evaluate_json(head + R"({"facts":true}})").error ==
        "context.facts: expected an object of booleans or an array of fact names, found true "
        "(at 1:126)");
}

struct BadRow {
  const char* json;
  const char* error;
};

TEST_CASE("bad requests are denied with the field, the name and the position", "[request]") {
  const BadRow rows[] = {
      {R"({"data":{"category":"contct_info"},"requester":{"kind":"user"},"action":"access"})",
       "data.category: unknown data category `contct_info`; did you mean `contact_info`? (at "
       "1:21)"},
      {R"({"data":{"category":"contact_info"},"requester":{"kind":"usr"},"action":"access"})",
       "requester.kind: unknown requester kind `usr`; did you mean `user`? (at 1:57)"},
      {R"({"data":{"category":"contact_info"},"requester":{"kind":"user"},"action":"peek"})",
       "action: unknown action `peek` (at 1:74)"},
      {R"({"data":{"category":"contact_info"},"requester":{"kind":"user"},"action":"access",)"
       R"("context":{"purpose":"fun"}})",
       "context.purpose: unknown purpose `fun` (at 1:104)"},
      {R"({"data":{"category":"contact_info"},"requester":{"kind":"user"},"action":"access",)"
       R"("context":{"consent":["third_party_disclosure","nope"]}})",
       "context.consent[1]: unknown consent `nope` (at 1:130)"},
      {R"({"data":{"category":"contact_info"},"requester":{"kind":"user"},"action":"access",)"
       R"("context":{"encrypt":true}})",
       "context.encrypt: unknown fact `encrypt`; did you mean `encrypted`? (at 1:94)"},
      {R"({"data":{"category":"contact_info"},"requester":{"kind":"user"},"action":"access",)"
       R"("context":{"encrypted":"yes"}})",
       "context.encrypted: expected true or false, found the string \"yes\" (at 1:106)"},
      {R"({"data":{"category":"contact_info"},"requester":{"kind":"user"},"action":7})",
       "action: expected a string, found a number (at 1:74)"},
      {R"({"data":{"category":"contact_info"},"requester":{"kind":"user"}})",
       "action: missing field: the action is required (at 1:1)"},
      {R"({"requester":{"kind":"user"},"action":"access"})",
       "data.category: missing field: the data's category is required (at 1:1)"},
      {R"({"data":{"category":"contact_info"},"data":{"category":"contact_info"}})",
       "data: duplicate field (at 1:37)"},
      {R"({"data":{"category":"contact_info","owner":"x"}})",
       "data.owner: unknown field `owner`; `data` has `category` and `id` (at 1:36)"},
      {R"({"data":{"category":["contact_info"]}})",
       "data.category: expected a string, found an array (at 1:21)"},
      {R"({"data":{"category":"contact_info"})",
       "invalid JSON: parsing object - unexpected end of input; expected '}' (at 1:36)"},
      {R"([1,2])", "expected an object, found an array (at 1:1)"},
      {"", "the request is empty (at 1:1)"},
      {"{\"data\": tru}",
       "invalid JSON: parsing value - invalid literal; last read: '\"data\": tru}' (at 1:13)"},
  };
  const Policy& p = privacy_policy();
  for (const BadRow& row : rows) {
    INFO(row.json);
    const Decision d = p.evaluate_json(row.json);
    CHECK(d.effect == Effect::deny);
    CHECK(d.clause == "default");
    CHECK(d.error == row.error);
  }
}

TEST_CASE("hostile JSON is refused without a crash", "[request][limits]") {
  const Policy& p = privacy_policy();
  std::string deep(100000, '[');
  CHECK_FALSE(p.evaluate_json(deep).error.empty());
  std::string deep_object = R"({"data":)";
  for (int i = 0; i < 100000; ++i)
    deep_object += R"({"category":)";
  CHECK_FALSE(p.evaluate_json(deep_object).error.empty());
  const std::string huge = R"({"data":{"category":")" + std::string(10'000'000, 'x') + R"("}})";
  CHECK_THAT(p.evaluate_json(huge).error, Catch::Contains("longer than the limit"));
  const std::string long_name = R"({"data":{"category":")" + std::string(1'000'000, 'x') + R"("}})";
  CHECK_THAT(p.evaluate_json(long_name).error, Catch::Contains("unknown data category"));
  CHECK_FALSE(p.evaluate_json("{\"data\":{\"category\":\"\xff\xfe\"}}").error.empty());
  std::mt19937 rng(3);
  for (int i = 0; i < 5000; ++i) {
    std::string junk = good;
    for (int k = 0; k < 3; ++k)
      junk[rng() % junk.size()] = static_cast<char>(rng() % 256);
    const Decision d = p.evaluate_json(junk);
    if (!d.error.empty()) CHECK(d.effect == Effect::deny);
  }
}

// The same request written the ways the format allows.
std::vector<std::string> spellings(const Request& q, std::mt19937_64& rng) {
  nlohmann::json base = {{"data", {{"category", q.data}, {"id", "d-1"}}},
                         {"requester", {{"kind", q.requester}, {"id", "r-1"}}},
                         {"action", q.action}};
  nlohmann::json context = nlohmann::json::object();
  if (q.purpose) context["purpose"] = *q.purpose;
  if (!q.consent.empty()) context["consent"] = q.consent;
  std::vector<std::string> out;
  nlohmann::json inline_facts = base;
  inline_facts["context"] = context;
  for (const std::string& f : q.facts)
    inline_facts["context"][f] = true;
  out.push_back(inline_facts.dump());
  out.push_back(inline_facts.dump(2));
  nlohmann::json listed = base;
  listed["context"] = context;
  listed["context"]["facts"] = q.facts;
  out.push_back(listed.dump());
  nlohmann::json as_object = base;
  as_object["context"] = context;
  as_object["context"]["facts"] = nlohmann::json::object();
  for (const std::string& f : q.facts)
    as_object["context"]["facts"][f] = rng() % 4 != 0;
  out.push_back(as_object.dump(1, '\t'));
  return out;
}

TEST_CASE("the quick JSON reader agrees with the full one, on good and broken text",
          "[request][decode]") {
  const Policy& p = privacy_policy();
  const detail::PolicyImpl& impl = *detail::Access::impl(p);
  std::mt19937_64 rng(11);
  const std::string_view alphabet = "{}[]\",:\\ \n0123456789truefalsnul-abcxyz_.";
  std::size_t quick = 0;
  for (const Request& q : detail::request_mix(p, 400, 5)) {
    for (const std::string& spelled : spellings(q, rng)) {
      for (int m = 0; m < 12; ++m) {
        std::string text = spelled;
        // No change, then one to three edits: replace, insert or delete a character.
        for (int k = 0; k < m % 4; ++k) {
          const std::size_t at = rng() % text.size();
          const char c = alphabet[rng() % alphabet.size()];
          switch (rng() % 3) {
            case 0:
              text[at] = c;
              break;
            case 1:
              text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
              break;
            default:
              text.erase(at, 1);
          }
        }
        const auto decoded = p.decode(text);
        const auto full = detail::decode_with_positions(impl, text);
        INFO(text);
        REQUIRE(decoded.has_value() == full.has_value());
        if (!decoded) {
          CHECK(decoded.error().to_string() == full.error().to_string());
          continue;
        }
        ++quick;
        using detail::Access;
        CHECK(Access::data(*decoded) == Access::data(*full));
        CHECK(Access::requester(*decoded) == Access::requester(*full));
        CHECK(Access::action(*decoded) == Access::action(*full));
        CHECK(Access::purpose(*decoded) == Access::purpose(*full));
        CHECK(Access::atoms(*decoded) == Access::atoms(*full));
      }
    }
  }
  CHECK(quick > 1600);  // the unchanged spellings at least
}

TEST_CASE("json_nesting_exceeds counts brackets outside strings, without recursion",
          "[request][property]") {
  CHECK_FALSE(json_nesting_exceeds(R"({"a":[1,{"b":2}]})", 3));
  CHECK(json_nesting_exceeds(R"({"a":[1,{"b":2}]})", 2));
  // Brackets in strings, and escaped quotes, do not count.
  CHECK_FALSE(json_nesting_exceeds(R"({"a":"[[[[{{{{\"[[["})", 1));
  CHECK_FALSE(json_nesting_exceeds("", 0));
  std::string deep(1000000, '[');
  deep += std::string(1000000, ']');
  CHECK(json_nesting_exceeds(deep, 64));
  CHECK_FALSE(json_nesting_exceeds(deep, 1000000));
}

TEST_CASE("request_id_json finds the top-level id, and only it", "[request]") {
  CHECK(request_id_json(R"({"id":"r-1","data":{"category":"x"}})") == R"("r-1")");
  CHECK(request_id_json(R"( { "data" : {"id":"no"}, "id" : 42 } )") == "42");
  CHECK(request_id_json(R"({"requester":{"id":"u"},"context":{"x":[{"id":1}]},"id":null})") ==
        "null");
  CHECK(request_id_json(R"({"a":"} \" ,\"id\":1","id":"yes"})") == R"("yes")");
  CHECK(request_id_json(R"({"id":-1.5e3})") == "-1.5e3");
  CHECK_FALSE(request_id_json(R"({"data":{"id":"inner"}})"));
  CHECK_FALSE(request_id_json(R"({"id":{"x":1}})"));
  CHECK_FALSE(request_id_json(R"({"id":[1]})"));
  CHECK_FALSE(request_id_json(R"({"id":true})"));
  CHECK_FALSE(request_id_json(R"({"id":"open)"));
  CHECK_FALSE(request_id_json("not json"));
  CHECK_FALSE(request_id_json(""));
  // A broken request still has its id echoed when the id comes first.
  CHECK(request_id_json(R"({"id":"r-9","data":)") == R"("r-9")");
  std::string deep = R"({"context":{"x":)" + std::string(1000000, '[');
  CHECK_FALSE(request_id_json(deep));
}

TEST_CASE("decoding finds the request's id as request_id_json does, quick reader or not",
          "[request]") {
  const auto* impl = detail::Access::impl(privacy_policy());
  const std::string tail = good.substr(1);
  const std::vector<std::string> texts = {
      good,
      R"({"id":"r-1",)" + tail,
      R"(  {  "id"  :  "r 2" ,)" + tail,
      good.substr(0, good.size() - 1) + R"(,"id":"last"})",
      R"({"id":42,)" + tail,
      R"({"id":null,)" + tail,
      R"({"id":"esc\"aped",)" + tail,
      R"({"id":"r-9","data":)",
      R"({"id":"r-1","id":"r-2",)" + tail,
      R"({"id":"r-1",)" + tail + " x",
  };
  for (const std::string& text : texts) {
    INFO(text);
    std::optional<std::string_view> id;
    const auto decoded = detail::decode(*impl, text, std::nullopt, &id);
    CHECK(decoded.has_value() == privacy_policy().decode(text).has_value());
    CHECK(id == request_id_json(text));
  }
  const std::string with_id = R"({"id":"r-1",)" + tail;
  std::optional<std::string_view> id;
  REQUIRE(detail::fast_decode(*impl, with_id, std::nullopt, &id));
  CHECK(id == R"("r-1")");
}

TEST_CASE("a decision can carry its request's id first", "[request]") {
  Decision d;
  d.clause = "default";
  d.reason = "r";
  std::string out;
  append_json_with_id(out, d, R"("r-1")");
  CHECK(out.starts_with(R"({"id":"r-1","decision":"deny","clause":"default")"));
  CHECK_FALSE(nlohmann::json::parse(out, nullptr, false).is_discarded());
  std::string plain;
  append_json_with_id(plain, d, std::nullopt);
  CHECK(plain == to_json(d));
}

TEST_CASE("json_string_end honours escapes", "[request]") {
  CHECK(json_string_end(R"("abc" x)", 0) == 5);
  CHECK(json_string_end(R"("a\"b" x)", 0) == 6);
  CHECK(json_string_end(R"("a\\" x)", 0) == 5);
  CHECK(json_string_end(R"("a\\\"b" x)", 0) == 8);
  CHECK(json_string_end(R"(x "" y)", 2) == 4);
  CHECK(json_string_end(R"("never)", 0) == std::string_view::npos);
  CHECK(json_string_end(R"("ends in \")", 0) == std::string_view::npos);
}

}  // namespace
}  // namespace clause::test
