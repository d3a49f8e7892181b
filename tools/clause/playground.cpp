// The playground's routes. Every answer is JSON except the page and its assets; the POST
// routes' answers are tools/playground/answers.cpp's, which the WebAssembly build gives too.
#include "playground.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "answers.hpp"
#include "cli.hpp"
#include "playground_assets.hpp"

namespace clause::cli {
namespace {

using nlohmann::json;

void send_json(http::Response& res, int status, const json& body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

void send_error(http::Response& res, int status, std::string_view message) {
  res = http::json_error(status, message);
}

std::string_view content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  return "application/json";
}

const playground::Asset* find_asset(std::string_view name) {
  for (const auto& asset : playground::assets) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

void send_asset(http::Response& res, const playground::Asset& asset) {
  res.content_type = std::string(content_type(asset.name));
  res.body.assign(reinterpret_cast<const char*>(asset.data), asset.size);
  res.headers.emplace_back("Cache-Control", "no-cache");
}

// Asks `admit` before the handler runs; the server turns an exception into a JSON 500.
http::Handler admitted(const Admission& admit, bool json_body,
                       std::function<void(const http::Request&, http::Response&)> f) {
  return [admit, json_body, f = std::move(f)](const http::Request& req, http::Response& res) {
    if (auto refused = admit(req, json_body)) {
      res = std::move(*refused);
      return;
    }
    f(req, res);
  };
}

// Answers a POST route from the posted body, compiled with the tools' limits.
http::Handler answered(const Admission& admit, std::string_view route) {
  return admitted(admit, true, [route](const http::Request& req, http::Response& res) {
    const playground_api::Answer a = playground_api::answer(route, req.body, tool_options());
    send_json(res, a.status, a.body);
  });
}

}  // namespace

void add_playground_routes(http::Server& server, const PolicyStore& store, Admission admit) {
  server.route("GET", "/", admitted(admit, false, [](const auto&, auto& res) {
                 if (const auto* page = find_asset("index.html")) send_asset(res, *page);
               }));
  server.route_prefix("GET", "/playground/", admitted(admit, false, [](const auto& req, auto& res) {
                        const std::string_view name = std::string_view(req.path).substr(
                            std::string_view("/playground/").size());
                        const auto* asset = find_asset(name);
                        if (asset == nullptr || asset->name == "index.html") {
                          return send_error(res, 404, fmt::format("no asset {}", req.path));
                        }
                        send_asset(res, *asset);
                      }));
  server.route(
      "GET", "/v1/playground/source", admitted(admit, false, [&store](const auto&, auto& res) {
        const Policy policy = store.current();
        send_json(res, 200, json{{"name", policy.source().name}, {"text", policy.source().text}});
      }));
  for (const std::string_view route : {"compile", "decide", "plan"}) {
    server.route("POST", fmt::format("/v1/playground/{}", route), answered(admit, route));
  }
}

}  // namespace clause::cli
