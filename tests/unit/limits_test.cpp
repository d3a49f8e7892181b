// Every limit of clause::Limits, at its edge and one past it: the input at the limit is
// taken, the input past it gets a clean error that says which limit, and nothing crashes.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "clause/dsl/parse.hpp"
#include "clause/json.hpp"
#include "support.hpp"

namespace clause::test {
namespace {

namespace fs = std::filesystem;

const char* const small_policy = R"(policy "p" version "1"
clause "c" "Words."
data records
requester staff
action read
fact on_duty
allow read of records by staff when on_duty cites "c"
)";

const char* const small_request =
    R"({"data":{"category":"records"},"requester":{"kind":"staff"},"action":"read",)"
    R"("context":{"facts":{"on_duty":true}}})";

Result<Policy, std::vector<Diagnostic>> compile_with(const std::string& text,
                                                     const Limits& limits) {
  CompileOptions options;
  options.limits = limits;
  return compile(SourceFile{"limits.policy", text}, options);
}

// The code of the first diagnostic, or "" when the policy compiled.
std::string first_code(const Result<Policy, std::vector<Diagnostic>>& compiled) {
  if (compiled) return "";
  return compiled.error().empty() ? "?" : compiled.error().front().code;
}

// A policy declaring `action NAME` and using it.
std::string policy_with_name(const std::string& name) {
  return fmt::format(
      "policy \"p\" version \"1\"\nclause \"c\" \"w\"\naction {0}\nallow {0} cites \"c\"\n", name);
}

// A condition nested `depth` levels: an atom inside `depth` parentheses and `not`s.
std::string policy_with_depth(std::size_t depth) {
  std::string condition = "on_duty";
  for (std::size_t i = 0; i < depth; ++i)
    condition = (i % 2 == 0 ? "not " : "(") + condition + (i % 2 == 0 ? "" : ")");
  return fmt::format(
      "policy \"p\" version \"1\"\nclause \"c\" \"w\"\nfact on_duty\nallow when {} cites \"c\"\n",
      condition);
}

struct TempFile {
  fs::path path;
  explicit TempFile(const std::string& name)
      : path(fs::temp_directory_path() / fmt::format("clause-limits-{}-{}", ::getpid(), name)) {}
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

}  // namespace

TEST_CASE("limits: the policy's size in bytes", "[limits]") {
  const std::string text = small_policy;
  Limits limits;
  limits.max_policy_bytes = text.size();
  CHECK(compile_with(text, limits).has_value());
  limits.max_policy_bytes = text.size() - 1;
  const auto refused = compile_with(text, limits);
  REQUIRE(first_code(refused) == "E003");
  CHECK(refused.error().front().message ==
        fmt::format("the policy is {} bytes long; the limit is {}", text.size(), text.size() - 1));

  // A 100 MB policy in memory is refused before it is parsed.
  const std::string huge(100'000'000, '#');
  CHECK(first_code(compile_with(huge, Limits{})) == "E003");

  // On disk, the file is refused before it is read: a sparse 100 MB file costs nothing.
  TempFile file("huge.policy");
  { std::ofstream(file.path) << "x"; }
  fs::resize_file(file.path, 100'000'000);
  const auto read = read_source(file.path.string());
  REQUIRE_FALSE(read.has_value());
  CHECK_THAT(read.error(), Catch::Contains("is 100000000 bytes long; the limit for a policy "
                                           "file is 67108864"));
  TempFile exact("exact.policy");
  write_file(exact.path, text);
  CHECK(read_source(exact.path.string(), text.size()).has_value());
  CHECK_FALSE(read_source(exact.path.string(), text.size() - 1).has_value());
}

TEST_CASE("limits: a stream past the size limit is not read to its end", "[limits]") {
  // /dev/zero never ends: reading stops one byte past the limit.
  const auto read = read_source("/dev/zero", 1 << 16);
  REQUIRE_FALSE(read.has_value());
  CHECK_THAT(read.error(), Catch::Contains("more than 65536 bytes long"));
}

TEST_CASE("limits: the length of a name", "[limits]") {
  Limits limits;
  const std::string at_limit(limits.max_name_length, 'a');
  CHECK(compile_with(policy_with_name(at_limit), limits).has_value());
  const auto refused = compile_with(policy_with_name(at_limit + "a"), limits);
  REQUIRE(first_code(refused) == "E102");
  const Diagnostic& d = refused.error().front();
  CHECK(d.message == "name is 129 characters long; the limit is 128");
  CHECK(line_column(policy_with_name(at_limit + "a"), d.span.begin).line == 3);
  CHECK(d.span.end - d.span.begin == 129);

  limits.max_name_length = 8;
  CHECK(compile_with(policy_with_name("eightchr"), limits).has_value());
  CHECK(first_code(compile_with(policy_with_name("ninechars"), limits)) == "E102");

  // Test files keep to the same limit.
  dsl::ParseLimits parse_limits;
  parse_limits.max_name_length = 8;
  const auto tests =
      dsl::parse_tests(SourceFile{"t.test",
                                  "tests for \"p.policy\"\ncase \"one\"\n  data recordsrecords\n"
                                  "  requester staff\n  action read\n  expect allow cites \"c\"\n"},
                       parse_limits);
  REQUIRE_FALSE(tests.diagnostics.empty());
  CHECK(tests.diagnostics.front().code == "E102");

  // A name of a million characters: one error, at once.
  const auto huge = compile_with(policy_with_name(std::string(1'000'000, 'n')), Limits{});
  REQUIRE(first_code(huge) == "E102");
}

TEST_CASE("limits: the nesting of a condition", "[limits]") {
  Limits limits;
  CHECK(compile_with(policy_with_depth(limits.max_condition_depth), limits).has_value());
  const auto past = compile_with(policy_with_depth(limits.max_condition_depth + 1), limits);
  REQUIRE(first_code(past) == "E101");
  CHECK_THAT(past.error().front().message, Catch::Contains("nested too deeply"));
  limits.max_condition_depth = 4;
  CHECK(compile_with(policy_with_depth(4), limits).has_value());
  CHECK(first_code(compile_with(policy_with_depth(5), limits)) == "E101");
  // 100,000 levels: an error, not a stack overflow.
  CHECK(first_code(compile_with(policy_with_depth(100'000), Limits{})) == "E101");
}

TEST_CASE("limits: the number of rules", "[limits]") {
  const std::string text = read_file(source_dir() / "policies" / "privacy.policy");
  const auto compiled = compile_with(text, Limits{});
  REQUIRE(compiled.has_value());
  const auto parsed = dsl::parse(SourceFile{"privacy.policy", text});
  REQUIRE(parsed.policy.rules.size() == 29);
  Limits limits;
  limits.max_rules = 29;  // the privacy policy's rules
  CHECK(compile_with(text, limits).has_value());
  limits.max_rules = 28;
  const auto refused = compile_with(text, limits);
  REQUIRE(first_code(refused) == "E291");
  CHECK(refused.error().front().message == "the policy has 29 rules; the limit is 28");
  // The caret is on the first rule past the limit.
  CHECK(refused.error().front().span.begin == parsed.policy.rules[28].span.begin);
}

TEST_CASE("limits: the size of a request", "[limits]") {
  const std::string request = small_request;
  Limits limits;
  limits.max_request_bytes = request.size();
  auto policy = compile_with(small_policy, limits);
  REQUIRE(policy.has_value());
  CHECK(policy->evaluate_json(request).effect == Effect::allow);
  limits.max_request_bytes = request.size() - 1;
  policy = compile_with(small_policy, limits);
  REQUIRE(policy.has_value());
  const auto refused = policy->decode(request);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().to_string() ==
        fmt::format("the request is longer than the limit of {} bytes (at 1:{})",
                    request.size() - 1, request.size()));
  const Decision d = policy->evaluate_json(request);
  CHECK(d.effect == Effect::deny);
  CHECK(d.clause == "default");

  // A 10 MB string is refused by its size alone, before anything reads it.
  const auto privacy = compile_with(small_policy, Limits{});
  const std::string huge = R"({"data":{"category":")" + std::string(10'000'000, 'x') + R"("}})";
  CHECK_THAT(privacy->evaluate_json(huge).error,
             Catch::Contains("longer than the limit of 1048576 bytes"));
}

TEST_CASE("limits: the nesting of a request's JSON", "[limits]") {
  const std::string request = small_request;  // three levels: context.facts.on_duty
  Limits limits;
  limits.max_json_depth = 3;
  auto policy = compile_with(small_policy, limits);
  REQUIRE(policy.has_value());
  CHECK(policy->evaluate_json(request).effect == Effect::allow);
  limits.max_json_depth = 2;
  policy = compile_with(small_policy, limits);
  REQUIRE(policy.has_value());
  const auto refused = policy->decode(request);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().field == "context.facts");
  CHECK(refused.error().message == "JSON nested more than 2 levels deep");
  REQUIRE(refused.error().position.has_value());
  CHECK(refused.error().position->column == request.find("{\"on_duty\"") + 1);

  // 100,000 levels, of arrays and of objects: a clean error at the default limit.
  const auto defaults = compile_with(small_policy, Limits{});
  CHECK_FALSE(defaults->evaluate_json(std::string(100'000, '[')).error.empty());
  std::string objects;
  for (int i = 0; i < 100'000; ++i)
    objects += R"({"context":)";
  const Decision d = defaults->evaluate_json(objects);
  CHECK(d.effect == Effect::deny);
  CHECK_FALSE(d.error.empty());
}

// Nothing that reads request JSON recurses on it: a million levels of arrays or objects,
// wherever they stand in the request, give one clean error from every entry point (the
// decoder, evaluation with a trace, the error's text, the decision's JSON, the id finder).
TEST_CASE("a request nested a million levels deep is refused cleanly everywhere",
          "[limits][property]") {
  const auto policy = compile_with(small_policy, Limits{});
  REQUIRE(policy.has_value());
  constexpr std::size_t levels = 1'000'000;
  for (const char* opener : {"[", R"({"x":)"}) {
    std::string deep;
    for (std::size_t i = 0; i < levels; ++i)
      deep += opener;
    for (const std::string& request :
         {deep, R"({"data":)" + deep, R"({"data":{"category":"info"},"context":)" + deep,
          R"({"context":{"facts":)" + deep, R"({"context":{"consent":)" + deep,
          R"({"id":"r-1","requester":{"id":)" + deep}) {
      INFO(request.substr(0, 40));
      const auto decoded = policy->decode(request);
      REQUIRE_FALSE(decoded.has_value());
      CHECK_FALSE(decoded.error().to_string().empty());
      const Decision d = policy->evaluate_json(request, EvalOptions{.trace = true});
      CHECK(d.effect == Effect::deny);
      CHECK_FALSE(d.error.empty());
      CHECK(d.error.size() < 1000);  // the error names the place, never quotes the text
      CHECK_FALSE(to_json(d).empty());
      CHECK(json_nesting_exceeds(request, 64));
      (void)request_id_json(request);
    }
  }
}

}  // namespace clause::test
