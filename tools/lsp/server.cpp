#include "server.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <istream>
#include <limits>
#include <ostream>
#include <stdexcept>

#include <fmt/format.h>

#include "protocol.hpp"
#include "semantic_tokens.hpp"
#include "test_check.hpp"

namespace clause::lsp {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_header_line = 8192;  // longer header lines are cut, not stored

// Reads one line, without its "\r\n" or "\n"; false at the end of input.
bool read_header_line(std::istream& in, std::string& line) {
  line.clear();
  std::streambuf* buffer = in.rdbuf();
  if (buffer == nullptr) return false;
  bool any = false;
  for (;;) {
    const int c = buffer->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return any;
    }
    any = true;
    if (c == '\n') break;
    if (line.size() < max_header_line) line.push_back(static_cast<char>(c));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// Reads and drops `count` bytes, so that the next frame starts where it should.
bool discard(std::istream& in, std::size_t count) {
  char chunk[1 << 14];
  while (count > 0) {
    const std::size_t n = std::min(count, sizeof chunk);
    in.read(chunk, static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in.gcount()) != n) return false;
    count -= n;
  }
  return true;
}

// The LSP CompletionItemKind of a proposal.
int completion_kind(const Completion& c) {
  if (c.kind == CompletionKind::keyword) return 14;  // Keyword
  if (c.kind == CompletionKind::clause) return 18;   // Reference
  switch (c.decl) {
    case ast::DeclKind::data:
      return 7;  // Class
    case ast::DeclKind::requester:
      return 8;  // Interface
    case ast::DeclKind::action:
      return 3;  // Function
    case ast::DeclKind::purpose:
      return 20;  // EnumMember
    case ast::DeclKind::fact:
      return 6;  // Variable
    case ast::DeclKind::consent:
      return 10;  // Property
    case ast::DeclKind::objection:
      return 10;  // Property
    case ast::DeclKind::obligation:
      return 24;  // Event
  }
  return 1;  // Text
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Applies one change of `textDocument/didChange`: the whole text, or a range of it.
void apply_change(std::string& text, const json& change) {
  std::string replacement = change.at("text").get<std::string>();
  if (!change.contains("range")) {
    text = std::move(replacement);
    return;
  }
  const LineIndex lines(text);
  const json& range = change.at("range");
  const std::uint32_t begin = lines.offset(position_of(range.at("start")));
  const std::uint32_t end = std::max(begin, lines.offset(position_of(range.at("end"))));
  text.replace(begin, end - begin, replacement);
}

}  // namespace

Frame read_frame(std::istream& in, std::size_t max_body) {
  // Not an optional: gcc 12 wrongly finds its value maybe uninitialized.
  std::size_t length = 0;
  bool has_length = false;
  bool headers = false;
  bool bad_length = false;
  std::string line;
  for (;;) {
    if (!read_header_line(in, line)) return Frame{};  // end of input
    if (line.empty()) {
      if (!headers) continue;  // blank lines between frames
      break;
    }
    headers = true;
    // A frame that follows garbage on the same line is found again by its header.
    const std::size_t found = line.find("Content-Length:");
    std::string_view header(line);
    if (found != std::string::npos) header.remove_prefix(found);
    const std::size_t colon = header.find(':');
    if (colon == std::string_view::npos) continue;
    if (!equals_ignoring_case(trim(header.substr(0, colon)), "content-length")) continue;
    const std::string_view value = trim(header.substr(colon + 1));
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || end != value.data() + value.size() || value.empty()) {
      bad_length = true;
      has_length = false;
    } else {
      length = n;
      has_length = true;
    }
  }
  Frame frame;
  frame.status = Frame::Status::skipped;
  if (!has_length) {
    frame.error = bad_length ? "a header block with an invalid Content-Length was skipped"
                             : "a header block without Content-Length was skipped";
    return frame;
  }
  if (length > max_body) {
    if (!discard(in, length)) return Frame{};
    frame.error = "a message of " + std::to_string(length) + " bytes was dropped; the limit is " +
                  std::to_string(max_body);
    return frame;
  }
  frame.body.resize(length);
  in.read(frame.body.data(), static_cast<std::streamsize>(length));
  if (static_cast<std::size_t>(in.gcount()) != length) return Frame{};
  frame.status = Frame::Status::message;
  return frame;
}

std::string write_frame(const json& message) {
  const std::string body = message.dump(-1, ' ', false, json::error_handler_t::replace);
  return "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string uri_to_path(std::string_view uri) {
  constexpr std::string_view scheme = "file://";
  if (!uri.starts_with(scheme)) return {};
  uri.remove_prefix(scheme.size());
  // `file://host/path`: only the local host is a path here.
  if (!uri.starts_with('/')) {
    if (!uri.starts_with("localhost/")) return {};
    uri.remove_prefix(std::string_view("localhost").size());
  }
  std::string path;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size() && hex_value(uri[i + 1]) >= 0 &&
        hex_value(uri[i + 2]) >= 0) {
      path.push_back(static_cast<char>(hex_value(uri[i + 1]) * 16 + hex_value(uri[i + 2])));
      i += 2;
    } else {
      path.push_back(uri[i]);
    }
  }
  return path;
}

Server::Server(AnalyzeOptions options, std::string version)
    : options_(std::move(options)), version_(std::move(version)) {}

void Server::log(std::string_view message) const {
  if (log_ == nullptr) return;
  try {
    *log_ << "clause lsp: " << message << '\n' << std::flush;
  } catch (...) {
    // A log that cannot be written is not worth stopping for.
  }
}

std::vector<json> Server::handle_body(std::string_view body) noexcept {
  try {
    json message = json::parse(body, nullptr, false);
    if (message.is_discarded()) {
      log("a message that is not JSON was refused");
      return {error_response(nullptr, error_code::parse_error, "the message is not valid JSON")};
    }
    return handle(message);
  } catch (...) {
    log("a message could not be handled");
    return {};
  }
}

std::vector<json> Server::handle(const json& message) noexcept {
  std::vector<json> out;
  try {
    if (!message.is_object()) {
      out.push_back(
          error_response(nullptr, error_code::invalid_request, "a message must be a JSON object"));
      return out;
    }
    const json id = message.contains("id") ? message["id"] : json();
    const bool has_id = message.contains("id");
    if (!message.contains("method") || !message["method"].is_string()) {
      // A response to the server (it sends no requests), or nonsense.
      if (has_id && (message.contains("result") || message.contains("error"))) return out;
      out.push_back(error_response(id, error_code::invalid_request, "the message has no method"));
      return out;
    }
    const std::string method = message["method"].get<std::string>();
    const json params = message.contains("params") ? message["params"] : json::object();
    if (!has_id) {
      notification(method, params, out);
      return out;
    }
    if (!id.is_number_integer() && !id.is_string()) {
      out.push_back(error_response(nullptr, error_code::invalid_request,
                                   "a request id must be a number or a string"));
      return out;
    }
    if (!initialized_ && method != "initialize") {
      out.push_back(
          error_response(id, error_code::server_not_initialized, "the server is not initialized"));
      return out;
    }
    if (shutdown_) {
      out.push_back(error_response(id, error_code::invalid_request, "the server is shut down"));
      return out;
    }
    try {
      out.push_back(response(id, request(method, params)));
    } catch (const RequestError& e) {
      out.push_back(error_response(id, e.code, e.what()));
    } catch (const std::out_of_range&) {
      out.push_back(
          error_response(id, error_code::method_not_found, "unknown method `" + method + "`"));
    } catch (const json::exception& e) {
      out.push_back(error_response(id, error_code::invalid_params,
                                   std::string("invalid params: ") + e.what()));
    } catch (const std::exception& e) {
      out.push_back(error_response(id, error_code::internal_error, e.what()));
    }
  } catch (...) {
    log("a message could not be handled");
  }
  return out;
}

json Server::request(const std::string& method, const json& params) {
  if (method == "initialize") {
    if (initialized_) throw std::runtime_error("the server is already initialized");
    initialized_ = true;
    return initialize_result();
  }
  if (method == "shutdown") {
    shutdown_ = true;
    return nullptr;
  }
  if (method == "textDocument/hover") return hover(params);
  if (method == "textDocument/definition") return definition(params);
  if (method == "textDocument/completion") return completion(params);
  if (method == "textDocument/formatting") return formatting(params);
  if (method == "textDocument/documentSymbol") return symbols(params);
  if (method == "textDocument/references") return references(params);
  if (method == "textDocument/prepareRename") return prepare_rename(params);
  if (method == "textDocument/rename") return rename(params);
  if (method == "textDocument/codeAction") return code_actions(params);
  if (method == "textDocument/semanticTokens/full") return semantic_tokens(params);
  throw std::out_of_range(method);  // answered with MethodNotFound
}

void Server::notification(const std::string& method, const json& params, std::vector<json>& out) {
  if (method == "exit") {
    exited_ = true;
    return;
  }
  if (!initialized_ || shutdown_) return;  // dropped, as LSP says
  try {
    if (method == "textDocument/didOpen") {
      open(params, out);
    } else if (method == "textDocument/didChange") {
      change(params, out);
    } else if (method == "textDocument/didClose") {
      close(params, out);
    }
    // `initialized`, `$/cancelRequest` and other notifications need nothing.
  } catch (const std::exception& e) {
    log(method + ": " + e.what());
  }
}

json Server::initialize_result() const {
  return json{
      {"capabilities",
       {{"positionEncoding", "utf-16"},
        {"textDocumentSync", {{"openClose", true}, {"change", 1}}},
        {"hoverProvider", true},
        {"definitionProvider", true},
        {"completionProvider", {{"triggerCharacters", json::array({" ", "\"", ",", "("})}}},
        {"documentFormattingProvider", true},
        {"documentSymbolProvider", true},
        {"referencesProvider", true},
        {"renameProvider", {{"prepareProvider", true}}},
        {"codeActionProvider", {{"codeActionKinds", json::array({"quickfix"})}}},
        {"semanticTokensProvider",
         {{"legend",
           {{"tokenTypes", json(std::vector<std::string>(token_types.begin(), token_types.end()))},
            {"tokenModifiers",
             json(std::vector<std::string>(token_modifiers.begin(), token_modifiers.end()))}}},
          {"full", true}}}}},
      {"serverInfo", {{"name", "clause"}, {"version", version_}}}};
}

json Server::publish(const std::string& uri, const Document& doc,
                     std::optional<std::int64_t> version) {
  json diagnostics = json::array();
  for (const Diagnostic& d : doc.diagnostics()) {
    diagnostics.push_back(diagnostic_json(d, doc.lines(), uri));
  }
  json params{{"uri", uri}, {"diagnostics", std::move(diagnostics)}};
  if (version) params["version"] = *version;
  return json{
      {"jsonrpc", "2.0"}, {"method", "textDocument/publishDiagnostics"}, {"params", params}};
}

void Server::open(const json& params, std::vector<json>& out) {
  const json& item = params.at("textDocument");
  const std::string uri = item.at("uri").get<std::string>();
  const std::string language = item.value("languageId", std::string());
  std::optional<std::int64_t> version;
  if (item.contains("version") && item["version"].is_number_integer()) {
    version = item["version"].get<std::int64_t>();
  }
  const std::string path = uri_to_path(uri);
  SourceFile source{path.empty() ? uri : path, item.at("text").get<std::string>()};
  Document doc(kind_of(uri, language), std::move(source), options_);
  check_against_policy(uri, doc);
  out.push_back(publish(uri, doc, version));
  documents_.insert_or_assign(uri, std::move(doc));
  versions_[uri] = version;
  recheck_tests(uri, out);
}

void Server::change(const json& params, std::vector<json>& out) {
  const json& item = params.at("textDocument");
  const std::string uri = item.at("uri").get<std::string>();
  const auto it = documents_.find(uri);
  if (it == documents_.end()) {
    log("a change to `" + uri + "`, which is not open, was ignored");
    return;
  }
  std::string text = it->second.source().text;
  for (const json& change : params.at("contentChanges"))
    apply_change(text, change);
  std::optional<std::int64_t> version;
  if (item.contains("version") && item["version"].is_number_integer()) {
    version = item["version"].get<std::int64_t>();
  }
  Document doc(it->second.kind(), SourceFile{it->second.source().name, std::move(text)}, options_,
               &it->second);
  check_against_policy(uri, doc);
  out.push_back(publish(uri, doc, version));
  it->second = std::move(doc);
  versions_[uri] = version;
  recheck_tests(uri, out);
}

void Server::check_against_policy(const std::string& uri, Document& doc) const {
  if (doc.kind() != DocumentKind::tests || uri_to_path(uri).empty()) return;
  if (!doc.tested_policy()) {
    // The parser reports a missing `tests for` in a text it could not read.
    if (doc.diagnostics().empty()) {
      doc.set_policy_diagnostics({Diagnostic{Severity::error,
                                             "E401",
                                             "the test file names no policy",
                                             Span{},
                                             {},
                                             "start it with `tests for \"POLICY FILE\"`"}});
    }
    return;
  }
  const auto policy = tested_vocabulary(uri, doc);
  if (!policy) {
    const Span at = doc.tests().policy ? doc.tests().policy->span : Span{};
    doc.set_policy_diagnostics(
        {Diagnostic{Severity::error,
                    "E402",
                    fmt::format("cannot read the tested policy `{}`", *doc.tested_policy()),
                    at,
                    {},
                    ""}});
    return;
  }
  doc.set_policy_diagnostics(check_tests(doc.tests(), *policy));
}

void Server::recheck_tests(const std::string& policy_uri, std::vector<json>& out) {
  namespace fs = std::filesystem;
  const auto it = documents_.find(policy_uri);
  const std::string policy_path = uri_to_path(policy_uri);
  if (it == documents_.end() || it->second.kind() != DocumentKind::policy || policy_path.empty())
    return;
  for (auto& [uri, doc] : documents_) {
    if (doc.kind() != DocumentKind::tests || !doc.tested_policy()) continue;
    const fs::path tested =
        (fs::path(uri_to_path(uri)).parent_path() / *doc.tested_policy()).lexically_normal();
    if (tested != fs::path(policy_path).lexically_normal()) continue;
    check_against_policy(uri, doc);
    out.push_back(publish(uri, doc, versions_[uri]));
  }
}

void Server::close(const json& params, std::vector<json>& out) {
  const std::string uri = params.at("textDocument").at("uri").get<std::string>();
  documents_.erase(uri);
  versions_.erase(uri);
  out.push_back(json{{"jsonrpc", "2.0"},
                     {"method", "textDocument/publishDiagnostics"},
                     {"params", {{"uri", uri}, {"diagnostics", json::array()}}}});
}

const Document* Server::document(const json& params) const {
  const std::string uri = params.at("textDocument").at("uri").get<std::string>();
  const auto it = documents_.find(uri);
  return it == documents_.end() ? nullptr : &it->second;
}

json Server::hover(const json& params) const {
  const Document* doc = document(params);
  if (doc == nullptr) return nullptr;
  const auto found = doc->hover(doc->lines().offset(position_of(params.at("position"))));
  if (!found) return nullptr;
  return json{{"contents", {{"kind", "markdown"}, {"value", found->markdown}}},
              {"range", range_json(doc->lines().range(found->span))}};
}

json Server::definition(const json& params) const {
  const Document* doc = document(params);
  if (doc == nullptr) return nullptr;
  const auto span = doc->definition(doc->lines().offset(position_of(params.at("position"))));
  if (!span) return nullptr;
  return json{{"uri", params.at("textDocument").at("uri")},
              {"range", range_json(doc->lines().range(*span))}};
}

std::optional<Vocabulary> Server::tested_vocabulary(const std::string& uri,
                                                    const Document& doc) const {
  namespace fs = std::filesystem;
  const std::string test_path = uri_to_path(uri);
  if (!doc.tested_policy() || test_path.empty()) return std::nullopt;
  const fs::path policy =
      (fs::path(test_path).parent_path() / *doc.tested_policy()).lexically_normal();
  // An open policy wins over the file on disk: it is what the author sees.
  for (const auto& [other_uri, other] : documents_) {
    if (other.kind() != DocumentKind::policy) continue;
    const std::string other_path = uri_to_path(other_uri);
    if (!other_path.empty() && fs::path(other_path).lexically_normal() == policy) {
      return other.vocabulary();
    }
  }
  auto source = read_source(policy.string(), options_.compile.limits.max_policy_bytes);
  if (!source) return std::nullopt;
  return vocabulary_of(dsl::parse(*source, options_.parse).policy);
}

json Server::completion(const json& params) const {
  const Document* doc = document(params);
  json items = json::array();
  if (doc == nullptr) return items;
  const std::uint32_t offset = doc->lines().offset(position_of(params.at("position")));
  std::optional<Vocabulary> policy;
  if (doc->kind() == DocumentKind::tests) {
    policy = tested_vocabulary(params.at("textDocument").at("uri").get<std::string>(), *doc);
  }
  for (const Completion& c : doc->completion(offset, policy ? &*policy : nullptr)) {
    json item{{"label", c.label}, {"kind", completion_kind(c)}, {"detail", c.detail}};
    const std::string& text = c.insert.empty() ? c.label : c.insert;
    if (c.replace) {
      item["textEdit"] = {{"range", range_json(doc->lines().range(*c.replace))}, {"newText", text}};
    } else if (!c.insert.empty()) {
      item["insertText"] = text;
    }
    items.push_back(std::move(item));
  }
  return items;
}

json Server::formatting(const json& params) const {
  const Document* doc = document(params);
  json edits = json::array();
  if (doc == nullptr) return edits;
  const std::optional<std::string> text = doc->formatted();
  if (!text || *text == doc->source().text) return edits;
  edits.push_back(
      {{"range", range_json(Range{Position{}, doc->lines().end()})}, {"newText", *text}});
  return edits;
}

int serve(std::istream& in, std::ostream& out, std::ostream& log, const AnalyzeOptions& options,
          const std::string& version) {
  Server server(options, version);
  server.set_log(&log);
  // A message may carry a whole policy, escaped: room for twice its limit, and the rest.
  const std::size_t limit = options.compile.limits.max_policy_bytes;
  const std::size_t max_body = limit > (std::numeric_limits<std::size_t>::max() - (1 << 20)) / 2
                                   ? limit
                                   : 2 * limit + (1 << 20);
  try {
    while (!server.exited()) {
      const Frame frame = read_frame(in, max_body);
      if (frame.status == Frame::Status::end) break;
      if (frame.status == Frame::Status::skipped) {
        log << "clause lsp: " << frame.error << '\n' << std::flush;
        continue;
      }
      for (const json& message : server.handle_body(frame.body))
        out << write_frame(message);
      out.flush();
      if (!out) return 1;  // the client is gone
    }
  } catch (const std::exception& e) {
    log << "clause lsp: stopped: " << e.what() << '\n';
    return 1;
  } catch (...) {
    log << "clause lsp: stopped\n";
    return 1;
  }
  return server.exit_code();
}

}  // namespace clause::lsp
