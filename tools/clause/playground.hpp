// `clause serve --playground`: a page for trying a policy in the browser, and the JSON
// endpoints it calls. They compile the text they are sent; the served policy is only read.
#pragma once

#include <httplib.h>

#include <cstddef>

#include "clause/store.hpp"

namespace clause::cli {

/// Adds `GET /` (the page), `GET /playground/NAME` (its assets),
/// `GET /v1/playground/source`, `POST /v1/playground/compile` and
/// `POST /v1/playground/decide` to `server`.
void add_playground_routes(httplib::Server& server, const PolicyStore& store);

}  // namespace clause::cli
