// The engine's entry for the page: one C function taking a route and the JSON body the
// server's route would take, giving `{"status": N, "data": ANSWER}` as JSON text (valid until the
// next call). The answers are the server's own (tools/playground/answers.cpp), so the page cannot
// tell them apart; nothing throws out of here.
#include <emscripten/emscripten.h>

#include <string>

#include "answers.hpp"

namespace {

// The last answer: the page copies it out before it calls again (one thread).
std::string last;

}  // namespace

extern "C" EMSCRIPTEN_KEEPALIVE const char* clause_answer(const char* route, const char* body) {
  clause::CompileOptions options;
  options.keep_rule_tree = true;  // as the tools compile, for the plan
  const clause::playground_api::Answer a = clause::playground_api::answer(
      route != nullptr ? route : "", body != nullptr ? body : "", options);
  last = nlohmann::json{{"status", a.status}, {"data", a.body}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return last.c_str();
}
