// The protocol side of the language server: JSON-RPC 2.0 messages framed with
// `Content-Length` headers, and the dispatch of LSP methods to the language features
// (language.hpp). Nothing here throws to its caller: every failure becomes an error
// response or a line on the log.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "language.hpp"

namespace clause::lsp {

/// JSON-RPC and LSP error codes.
namespace error_code {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
inline constexpr int server_not_initialized = -32002;
}  // namespace error_code

/// What reading one frame gave.
struct Frame {
  enum class Status : std::uint8_t { message, skipped, end };
  Status status = Status::end;
  std::string body;   // the message, for Status::message
  std::string error;  // why the frame was skipped
};

/// Reads one `Content-Length`-framed message. A header block without a valid length, or a
/// body longer than `max_body` (read and dropped), is skipped; end of input gives end.
Frame read_frame(std::istream& in, std::size_t max_body);

/// Frames a message: `Content-Length: N\r\n\r\n` and its JSON. Text that is not valid
/// UTF-8 is replaced, never thrown about.
std::string write_frame(const nlohmann::json& message);

/// Turns a file URI into a path (`file:///a%20b` -> `/a b`); empty for other schemes.
std::string uri_to_path(std::string_view uri);

/// One LSP session: the open documents and the state of the handshake.
class Server {
 public:
  /// `version` is what `initialize` tells the client in serverInfo.
  explicit Server(AnalyzeOptions options, std::string version = "");

  /// Handles one message body; gives the messages to send back, in order.
  std::vector<nlohmann::json> handle_body(std::string_view body) noexcept;

  /// Handles one decoded message.
  std::vector<nlohmann::json> handle(const nlohmann::json& message) noexcept;

  /// Whether `exit` came, and the exit status: 0 when `shutdown` came before it.
  [[nodiscard]] bool exited() const { return exited_; }
  [[nodiscard]] int exit_code() const { return shutdown_ ? 0 : 1; }

  /// Where the server writes what it cannot tell the client (stderr in the tool).
  void set_log(std::ostream* log) { log_ = log; }

 private:
  using json = nlohmann::json;
  json request(const std::string& method, const json& params);
  void notification(const std::string& method, const json& params, std::vector<json>& out);
  json initialize_result() const;
  void open(const json& params, std::vector<json>& out);
  void change(const json& params, std::vector<json>& out);
  void close(const json& params, std::vector<json>& out);
  json publish(const std::string& uri, const Document& doc, std::optional<std::int64_t> version);
  json hover(const json& params) const;
  json definition(const json& params) const;
  json completion(const json& params) const;
  json formatting(const json& params) const;
  // server_features.cpp
  struct Family;
  Family family(const std::string& uri, const Document& doc) const;
  json symbols(const json& params) const;
  json references(const json& params) const;
  json prepare_rename(const json& params) const;
  json rename(const json& params) const;
  json code_actions(const json& params) const;
  json semantic_tokens(const json& params) const;
  const Document* document(const json& params) const;
  void check_against_policy(const std::string& uri, Document& doc) const;
  void recheck_tests(const std::string& policy_uri, std::vector<json>& out);
  std::optional<Vocabulary> tested_vocabulary(const std::string& uri, const Document& doc) const;
  void log(std::string_view message) const;

  AnalyzeOptions options_;
  std::string version_;
  std::map<std::string, Document> documents_;  // by URI
  std::map<std::string, std::optional<std::int64_t>> versions_;
  bool initialized_ = false;
  bool shutdown_ = false;
  bool exited_ = false;
  std::ostream* log_ = nullptr;
};

/// Runs a session over two streams until `exit` or the end of input; gives the exit
/// status: 0 after `shutdown` then `exit`, 1 otherwise.
int serve(std::istream& in, std::ostream& out, std::ostream& log, const AnalyzeOptions& options,
          const std::string& version = "");

}  // namespace clause::lsp
