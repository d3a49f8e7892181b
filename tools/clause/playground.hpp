// `clause serve --playground`: a page for trying a policy in the browser, and the JSON
// endpoints it calls. They compile the text they are sent; the served policy is only read.
#pragma once

#include <functional>
#include <optional>

#include "clause/store.hpp"
#include "http_server.hpp"

namespace clause::cli {

/// Adds `GET /` (the page), `GET /playground/NAME` (its assets),
/// `GET /v1/playground/source`, `POST /v1/playground/compile`, `POST /v1/playground/decide`
/// and `POST /v1/playground/plan` to `server`. Each route asks `admit` first (with whether
/// it takes a JSON body) and answers its refusal, if any, instead.
using Admission =
    std::function<std::optional<http::Response>(const http::Request&, bool json_body)>;
void add_playground_routes(http::Server& server, const PolicyStore& store, Admission admit);

}  // namespace clause::cli
