// `clause serve --gateway FILE`: the backend of nginx's auth_request and of Envoy's HTTP
// ext_authz. A mapping file (docs/deploy.md, "Gateways") says how the original request's
// method, path and headers become a clause request; the decision comes back as a status
// (200 allow, 403 deny, the mapping's consent_status for require-consent) and headers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "clause/clause.hpp"
#include "http_server.hpp"

namespace clause::cli::gateway {

/// How a field's text (a path segment, a header) becomes its JSON value.
enum class Shape : std::uint8_t { text, list, boolean, integer };

/// One field a mapping may bind: `data.category`, `context.consent`, `context.FACT`, ...
struct Field {
  std::string path;
  Shape shape = Shape::text;
  std::vector<std::string> names;  // the values it may take, when the policy names them
  std::string noun;                // "an action", "a data category", ... for errors
};

/// One path template, "/records/{data.category}/{data.id}", and what it binds.
struct Route {
  std::string path;
  std::vector<std::string> segments;  // "{data.category}" kept as the field's path in braces
  using Bindings = std::map<std::string, nlohmann::json, std::less<>>;
  std::map<std::string, Bindings, std::less<>> methods;  // method -> field -> value
  std::map<std::string, nlohmann::json, std::less<>> constants;
};

struct Mapping {
  int consent_status = 401;
  std::vector<std::pair<std::string, std::string>> headers;  // header name -> field path
  std::map<std::string, nlohmann::json, std::less<>> constants;
  std::vector<Route> routes;
  std::map<std::string, Field, std::less<>> fields;  // the policy's, by path
};

/// Reads a mapping file and checks it against the policy's vocabulary. The error is
/// compiler-style: `FILE:LINE:COL: error: WHERE: what is wrong`. Never throws.
[[nodiscard]] Result<Mapping, std::string> read_mapping(const Policy& policy,
                                                        std::string_view file_name,
                                                        std::string_view text) noexcept;

/// A mapping file, read against whichever policy is in force: checked and built once per
/// policy (its text and documents), so that a policy swapped in by a reload or a bundle is
/// decided with a mapping built for it, or refused by it. Copies share one cache; every
/// member is safe to call from many threads at once. Never throws.
class MappingSource {
 public:
  MappingSource(std::string file_name, std::string text);

  /// The mapping for `policy`, or the compiler-style error of read_mapping().
  [[nodiscard]] Result<std::shared_ptr<const Mapping>, std::string> for_policy(
      const Policy& policy) const noexcept;

 private:
  struct Cache;
  std::shared_ptr<Cache> cache_;
};

/// The clause request (JSON text) an original request maps to, or why it maps to none.
/// `target` is the original URI (its query is ignored); `header` finds a header by name.
[[nodiscard]] Result<std::string, std::string> map_request(
    const Mapping& mapping, std::string_view method, std::string_view target,
    const std::function<std::optional<std::string_view>(std::string_view)>& header);

/// The gateway's answer to a decision: its status and the X-Clause-* headers.
[[nodiscard]] http::Response answer(const Mapping& mapping, const Decision& decision);

/// What the routes need of the server: the policy in force, and where a decision goes
/// (the decision log, /metrics) with the request text it answers and the time it took.
struct Decider {
  std::function<Policy()> policy;
  std::function<void(std::string_view request, const Decision& decision, double seconds)> record;
};

/// Adds GET /v1/gateway/nginx (the original request in X-Original-Method and
/// X-Original-URI) and /v1/gateway/envoy/... (the original path after the prefix, the
/// original method), both for every usual method. Each request is mapped with the mapping
/// built for the policy that decides it; a policy the mapping does not fit denies (403).
void add_routes(http::Server& server, MappingSource mappings, Decider decider);

}  // namespace clause::cli::gateway
