// The argument reader and the help texts of the `clause` tool.
#include "cli.hpp"

#include "clause/dsl/check.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>

namespace clause::cli {

Args::Args(std::vector<std::string> args, std::vector<std::string> flags,
           std::vector<std::string> options) {
  const auto known = [](const std::vector<std::string>& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  bool only_positional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positional || a == "-" || !a.starts_with("--")) {
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    const std::size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (known(flags, name)) {
      if (eq != std::string::npos) {
        error_ = "--" + name + " takes no value";
        return;
      }
      given_.emplace_back(name, "");
    } else if (known(options, name)) {
      if (eq != std::string::npos) {
        given_.emplace_back(name, a.substr(eq + 1));
      } else if (i + 1 < args.size()) {
        given_.emplace_back(name, args[++i]);
      } else {
        error_ = "--" + name + " needs a value";
        return;
      }
    } else {
      error_ = "unknown option `" + a + "`";
      std::vector<std::string_view> names;
      for (const auto* list : {&flags, &options}) {
        for (const std::string& n : *list)
          names.push_back(n);
      }
      if (const std::string guess = dsl::closest_name(name, names); !guess.empty()) {
        *error_ += "; did you mean `--" + guess + "`?";
      }
      return;
    }
  }
}

bool Args::flag(std::string_view name) const {
  return std::any_of(given_.begin(), given_.end(), [&](const auto& g) { return g.first == name; });
}

std::optional<std::string> Args::option(std::string_view name) const {
  std::optional<std::string> value;
  for (const auto& g : given_) {
    if (g.first == name) value = g.second;  // the last one given wins
  }
  return value;
}

std::optional<std::size_t> Args::count(std::string_view name, std::size_t fallback) const {
  const auto text = option(name);
  if (!text) return fallback;
  std::size_t value = 0;
  const char* const end = text->data() + text->size();
  const auto [stop, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc{} || stop != end || text->empty()) return std::nullopt;
  return value;
}

clause::Limits& tool_limits() {
  static clause::Limits limits;
  return limits;
}

std::optional<std::string> take_limit_options(std::vector<std::string>& args) {
  const std::pair<std::string_view, std::size_t clause::Limits::*> fields[] = {
      {"max-policy-bytes", &clause::Limits::max_policy_bytes},
      {"max-name-length", &clause::Limits::max_name_length},
      {"max-condition-depth", &clause::Limits::max_condition_depth},
      {"max-rules", &clause::Limits::max_rules},
      {"max-request-bytes", &clause::Limits::max_request_bytes},
      {"max-json-depth", &clause::Limits::max_json_depth}};
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    bool taken = false;
    for (const auto& [name, field] : fields) {
      const std::string flag = "--" + std::string(name);
      std::string value;
      if (a == flag) {
        if (i + 1 == args.size()) return flag + " needs a value";
        value = args[++i];
      } else if (a.starts_with(flag + "=")) {
        value = a.substr(flag.size() + 1);
      } else {
        continue;
      }
      const Args one({flag, value}, {}, {std::string(name)});
      const auto number = one.count(name, 0);
      if (!number || *number == 0) return flag + " takes a positive number";
      tool_limits().*field = *number;
      taken = true;
      break;
    }
    if (!taken) rest.push_back(a);
  }
  args = std::move(rest);
  return std::nullopt;
}

clause::CompileOptions tool_options() {
  clause::CompileOptions options;
  options.limits = tool_limits();
  options.keep_rule_tree = true;
  return options;
}

clause::dsl::ParseLimits tool_parse_limits() {
  const clause::Limits limits = tool_limits();
  clause::dsl::ParseLimits out;
  out.max_condition_depth = limits.max_condition_depth;
  out.max_name_length = limits.max_name_length;
  return out;
}

std::vector<std::string> gather_files(const std::vector<std::string>& inputs,
                                      std::initializer_list<std::string_view> extensions,
                                      std::string& error) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(input, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string ext = it->path().extension().string();
        if (it->is_regular_file(ec) &&
            std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) {
          found.push_back(it->path().generic_string());
        }
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(input, ec)) {
      files.push_back(input);
    } else {
      error = "no such file or folder: `" + input + "`";
      return {};
    }
  }
  return files;
}

// A request as the JSON that `clause eval` reads.
nlohmann::json request_json(const Request& r) {
  nlohmann::json context = nlohmann::json::object();
  if (r.purpose) context["purpose"] = *r.purpose;
  context["consent"] = r.consent;
  for (const std::string& f : r.facts)
    context[f] = true;
  return {{"data", {{"category", r.data}}},
          {"requester", {{"kind", r.requester}, {"id", r.requester_id}}},
          {"action", r.action},
          {"context", std::move(context)}};
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string wrap_words(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out;
  std::size_t column = indent;
  bool first = true;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n'))
      ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n')
      ++j;
    if (j == i) break;
    const std::string_view word = text.substr(i, j - i);
    if (!first && column + 1 + word.size() > width) {
      out += '\n';
      out += std::string(indent, ' ');
      column = indent;
    } else if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
    i = j;
  }
  return out;
}

std::string_view help_text(std::string_view command) {
  if (command == "check") {
    return R"(usage: clause check [options] FILE

Parses and checks a policy file. Prints every error and warning on stderr as
`file:line:col: error[CODE]: message`, with the source line, a caret under the
mistake and, where a fix can be guessed, a `help:` line.

Besides errors it warns, exactly, about: clauses nothing cites (W001), names no
rule uses (W002), rules that repeat another (W003), rules that can never decide
because rules of higher precedence decide every request they match (W004),
conditions that can never be true (W005), and conditions by which granting a
consent can take an allow away (W006). `@ignore W004` written before a
statement silences that warning for it.

options:
  --format text|json   how to print diagnostics (json goes to stdout); default text
  --werror             fail on warnings too
  --help               show this help

exit status: 0 the policy is valid, 1 it has errors (or warnings with --werror),
64 the command line is wrong.
)";
  }
  if (command == "eval") {
    return R"(usage: clause eval --policy FILE [options] [REQUEST.json ... | -]
       clause eval --policy FILE --jsonl [FILE | -]

Decides requests against a policy. A request is a JSON object:
  {"data": {"category": "contact_info"},
   "requester": {"kind": "counterparty", "id": "u-42"},
   "action": "access",
   "context": {"purpose": "service", "consent": ["third_party_disclosure"],
               "in_transaction": true}}
Facts are booleans inside `context`; a fact left out is false.

Each decision is printed as one line of JSON:
  {"decision":"allow","clause":"6.b","rule":"6.b/1","reason":"..."}
with "consent" added for require-consent. A request that is not valid is denied:
  {"decision":"deny","clause":"default","error":"data.category: unknown ..."}
and the other requests still go on.

options:
  --policy FILE        the policy to decide with (required)
  --jsonl              read one request per line from FILE or stdin
  --explain            add the trace: every rule, and why it matched or not
  --format json|text   json (default) or text for people, with the clause's words
  --log FILE           also append each decision, with its request, to FILE as
                       JSON Lines (the decision log of docs/embedding.md)
  --log-redact FIELDS  request fields the log writes as "[redacted]", comma-separated
                       dotted paths such as requester.id,context.*
  --log-max-bytes N    past N bytes, FILE becomes FILE.1 (and FILE.1 FILE.2 ...);
                       0, the default, never rotates
  --log-keep N         rotated files kept, FILE.1 to FILE.N (default 5)
  --help               show this help

With no request file, or `-`, one request is read from stdin.

exit status: 0 every request was decided, 1 the policy has errors, 2 some request
was not valid (it was denied), 64 the command line is wrong.
)";
  }
  if (command == "diff") {
    return R"(usage: clause diff [--json] OLD NEW

Lists every decision that changes between two versions of a policy, grouped into
regions: the actions, requester kinds and data categories that share the change,
the old and the new decision with their clauses, how many requests the region
covers, and a witness request in the JSON that `clause eval` reads. Nothing is
missed and nothing invented: every request either version can name is covered
(a name only one version declares makes the request invalid, so denied, in the
other).

options:
  --json    print the regions as JSON
  --help    show this help

exit status: 0 the two versions decide every request alike, 1 some decision
changes (or a policy has errors), 64 the command line is wrong.
)";
  }
  if (command == "analyze") {
    return R"(usage: clause analyze [--json] FILE

Analyses a policy over every possible request, exactly, and reports:
  - conflicts: pairs of rules with different effects that match a common request
    (the contradictions of the document), with how many requests they share, the
    rule and tier that resolve them, and a witness request;
  - rules that can never decide (duplicates, shadowed rules, impossible conditions);
  - the requests that fall to the fail-closed default, grouped by the names that
    share them, with a witness each;
  - wide permissions: rules covering a quarter or more of the in-scope data by
    requester pairs of their actions, for an author to review.
Each witness is a request in the JSON that `clause eval` reads.

options:
  --json    print the findings as JSON
  --help    show this help

exit status: 0 analysed, 1 the policy has errors, 64 the command line is wrong.
)";
  }
  if (command == "matrix") {
    return R"(usage: clause matrix [--format md|json|html] FILE

Prints the decision matrix of a policy: for each action, a table of data
categories (rows) by requester kinds (columns). Each cell gives the decision and
the clause it cites or, when facts, consents or the purpose change it, what it
depends on and every decision it can take. The matrix is exact: it is computed
over every request, region by region.

options:
  --format md     Markdown (default)
  --format json   JSON: per action, rows of cells, each with its outcomes (decision,
                  clause, consent, the purposes it comes under) and `depends_on`
  --format html   one self-contained page (no network, no other file): colours per
                  decision, the clause's words on hover, a filter per action and
                  per purpose
  --help          show this help

exit status: 0 printed, 1 the policy has errors, 64 the command line is wrong.
)";
  }
  if (command == "verify") {
    return R"(usage: clause verify [options] FILE

Proves every assertion of a policy over every possible request. An assertion is a
promise written in the policy:

  assert never allow buy of personal_info by unrelated_third_party
    unless consent third_party_disclosure
  assert always deny store of credentials when not encrypted

`assert always|never EFFECT [actions] [of data] [by requesters] [when C] [unless C]`,
where EFFECT is allow, deny, or require consent [NAME for]. The proof is exact: the
request space is split into the regions the rules and the assertion tell apart,
and each region is decided once. An assertion that does not hold is shown with a
counterexample request (JSON that `clause eval` accepts) and its decision.

options:
  --json    print the results as JSON
  --help    show this help

exit status: 0 every assertion holds, 1 one does not (or the policy has errors),
64 the command line is wrong.
)";
  }
  if (command == "explain") {
    return R"(usage: clause explain --policy FILE [options] [REQUEST.json | -]

Explains one decision for a person: the decision; the cited clause and its words;
the deciding rule and where it is; for require-consent, what granting the consent
would give, and for deny, each consent whose grant alone would allow; the other
rules that matched and why they lost; and the near misses:
rules that a single change to the request (one fact, the purpose, one consent)
would make match, with the decision that change would give.

options:
  --policy FILE   the policy (required)
  --color         colour the output even when it is not a terminal
  --no-color      never colour (NO_COLOR in the environment does the same)
  --help          show this help

exit status: 0 explained, 1 the policy has errors, 2 the request is not valid or
cannot be read (it is denied), 64 the command line is wrong.
)";
  }
  if (command == "fmt") {
    return R"(usage: clause fmt [--check] FILE|FOLDER ...
       clause fmt [--check] -

Rewrites policy files in place in the one canonical layout that
docs/formatting.md describes. Every comment and `@ignore` annotation is kept,
and so is one blank line wherever there were blank lines between statements;
what the policy says does not change. A folder stands for every `*.policy` and `*.test`
file below it, in sorted order; a file ending in `.test` is formatted as a test file.
With `-`, a policy is read from stdin and written to stdout.

A file with syntax errors is left as it is: its errors are printed on stderr.

options:
  --check   rewrite nothing; print the name of each file that is not formatted
  --help    show this help

exit status: 0 every file is formatted (or was rewritten), 1 a file has syntax
errors, cannot be read or written, or (with --check) is not formatted, 64 the
command line is wrong.
)";
  }
  if (command == "test") {
    return R"(usage: clause test [options] [FILE.test | FOLDER ...]

Runs policy test files (every `*.test` file under each FOLDER; the current folder
when none is given). A test file names its policy and holds cases:

  tests for "privacy.policy"        # the policy, relative to this file

  case "a counterparty sees contact details during a transaction"
    data contact_info
    requester counterparty
    action access
    purpose service                 # optional
    facts in_transaction            # optional, the facts that are true
    consent partner_marketing       # optional, the consents granted
    expect allow cites "6.b"        # or: deny, or: require consent NAME

Each failing case is shown with what was expected, what came, and the rule that
decided. The last line is `N passed, M failed`.

options:
  --coverage   after the cases, list every clause and rule with how many cases
               reached it, and those never reached (a rule is reached when it
               matches a case's request; a clause when a reached rule, the
               decision or a name of the request cites it)
  --json       with --coverage: print the coverage as JSON on stdout:
               {"clauses": [{"id": ..., "hits": N}], "rules": [{"id": ..., "hits": N}]}
  --verbose    also list the cases that pass
  --help       show this help

exit status: 0 every case passed, 1 a case failed or a file has errors,
64 the command line is wrong.
)";
  }
  if (command == "man") {
    return R"(usage: clause man

Writes the manual page clause(1), in roff, on stdout. It is made from the help texts
that `--help` prints, so it says what they say. Read it with
`clause man | man -l -`, or install it: `cmake --install` puts it in
share/man/man1/clause.1.

options:
  --help   show this help
)";
  }
  if (command == "completion") {
    return R"(usage: clause completion bash|zsh

Writes the completion script for bash or zsh on stdout, made from the help texts:
commands, their options, the values an option takes (files, or one of a list).
Load it for one session with `source <(clause completion bash)`; `cmake --install`
puts both in their places under share/ (bash-completion, zsh site-functions).

options:
  --help   show this help
)";
  }
  if (command == "serve") {
    return R"(usage: clause serve --policy FILE [options]

Serves decisions over HTTP/JSON, on 127.0.0.1 unless told otherwise:
  POST /v1/decide        one request (as `clause eval` reads it) -> its decision
  POST /v1/decide/batch  a JSON array of requests -> {"decisions": [...]}, in order
  GET  /v1/policy        name, version, hash, and the clauses with their words
  POST /v1/reload        read the policy file again (also on SIGHUP); a file with
                         errors is refused (422) and the policy in force stays;
                         only with --admin-token, and with its bearer token
  GET  /healthz          "ok"
  GET  /metrics          Prometheus text: decisions by effect and by clause,
                         errors, reloads, latency histogram
Every decision carries policy_version and policy_hash. A request that cannot be
decided is answered 400 with its denial and the error; a body that is not JSON
(batch) 400; too large a body or batch 413; a POST without Content-Type:
application/json 415; an unknown route 404. Reload and the playground want a
Host naming this server and no foreign Origin (403). SIGTERM or SIGINT stops:
requests in flight are answered (for --drain-timeout at most), then the log is
flushed.

With --playground, also a page to try policies in a browser (docs/cli.md):
  GET  /                       the page; its files under /playground/
  GET  /v1/playground/source   the served policy's file name and text
  POST /v1/playground/compile  {"policy": TEXT} -> ok, diagnostics (as
                               `clause check --format json`), vocabulary, clauses
  POST /v1/playground/decide   {"policy": TEXT, "request": {...}} -> decision,
                               trace, clause, rule, and the matrix of the action
These compile the text they are sent, with the limit options, and never change
the served policy. A policy with errors is answered 200 with its diagnostics; a
body that is not such an object 400, an invalid request 400 with its denial.

options:
  --policy FILE          the policy to serve (required)
  --host ADDRESS         the address to listen on; default 127.0.0.1
  --port N               the port; default 8181; 0 picks a free one (printed)
  --max-body BYTES       the largest request body, chunked too; default 1048576
  --max-batch N          the most requests in one batch; default 10000
  --max-connections N    open connections at most; beyond, 503 and close;
                         default 256
  --threads N            threads serving the connections (event-driven, any
                         number of connections each); default 2
  --header-timeout MS    time to send a request's header; default 10000
  --body-timeout MS      time to send a body or read an answer; default 30000
  --idle-timeout MS      a keep-alive connection's wait for the next request;
                         default 60000
  --drain-timeout MS     on SIGTERM, time for requests in flight before their
                         connections are closed; default 5000
  --admin-token FILE     enable POST /v1/reload for callers that send
                         Authorization: Bearer and the token in FILE
  --watch MS             check the policy file every MS milliseconds and reload
                         it when its time or size changes; default 0 (only on
                         demand)
  --log FILE             append every decision to FILE (docs/embedding.md); on
                         SIGHUP the file is opened again (after logrotate)
  --log-redact FIELDS    request fields the log redacts, e.g.
                         requester.id,context.*
  --log-block            wait for room in the log's queue instead of dropping
                         (and counting) records; a failed write is retried
                         for 10 s
  --log-max-bytes N      past N bytes, FILE becomes FILE.1 (and FILE.1 FILE.2
                         ...); 0, the default, never rotates
  --log-keep N           rotated files kept, FILE.1 to FILE.N (default 5)
  --playground           serve the playground page and its endpoints (above);
                         only on a loopback --host
  --allow-remote-playground
                         allow --playground on an address that is not loopback
  --help                 show this help

exit status: 0 stopped by a signal, 1 the policy, the log or the admin token
cannot be opened or the port cannot be bound, 64 the command line is wrong.
)";
  }
  if (command == "lsp") {
    return R"(usage: clause lsp [--stdio]

A language server for editors: the Language Server Protocol (JSON-RPC 2.0 with
Content-Length framing) on stdin and stdout. Log lines go to stderr. It serves
policy files (`*.policy`, language id clause-policy) and test files (`*.test`,
language id clause-test):
  - diagnostics as you type: the errors and warnings of `clause check`
    (`@ignore` honoured), or the syntax errors of a test file;
  - hover on a name (its declaration and cited clause), a clause id (its
    words) or a rule (its id and tier);
  - go to the declaration of a name, or to the `clause` a rule cites;
  - completion of the names that fit where the cursor is, and of clause ids;
  - formatting in the layout of `clause fmt` (none while there are syntax
    errors).
The limit options (`clause --help`) apply to every document.

options:
  --stdio   talk over stdin and stdout (the default and only transport)
  --help    show this help

exit status: 0 after `shutdown` then `exit`, 1 when the input ends or `exit`
comes without `shutdown`, 64 the command line is wrong.
)";
  }
  if (command == "bench") {
    return R"(usage: clause bench --policy FILE [options]

Measures how fast a policy decides. The requests are decoded once; the typed
path then evaluates them again and again and reports the median time per
decision over the repetitions, with the fastest and slowest. The JSON path runs
text to decision text, as `clause eval --jsonl` does. Then the throughput with
1, 2, 4 ... threads sharing the one compiled policy, the compile time (fastest
of up to five runs), the heap the compiled policy holds and the peak resident
memory of the process. docs/performance.md has the results on a reference
machine.

options:
  --policy FILE       the policy to measure (required)
  --jsonl FILE        the requests to run, one JSON object a line; without it,
                      4096 requests are generated over the policy's names
  --iterations N      decisions per repetition of the typed path; default 2000000
  --repetitions N     repetitions of the typed path; default 11
  --threads N         the most threads to measure; default: the machine's cores
  --index-budget N    how many rule copies the index may make (CompileOptions::
                      index_budget); default 6 per rule plus 2^20 - 10 per
                      rule (at least 65,536)
  --json              print one JSON object: typed_ns_per_decision (the median),
                      typed_decisions_per_second, json_decisions_per_second,
                      compile_ms, compiled_bytes, peak_rss_bytes, threads, ...
  --help              show this help

exit status: 0 measured, 1 the policy or the requests cannot be read, 64 the
command line is wrong.
)";
  }
  return R"(usage: clause COMMAND [options]

A policy-rules engine: policy files written as rules that cite the clauses of a
privacy policy, decided as allow, deny or require-consent.

commands:
  check       parse and check a policy file; print its errors and warnings
  eval        decide requests against a policy and print each decision
  test        run policy test files, with coverage of clauses and rules
  explain     explain one decision for a person: clause, rules, near misses
  verify      prove the policy's assertions over every request
  matrix      the decision matrix per action, as Markdown, JSON or an HTML page
  analyze     conflicts, rules that never decide, default regions, wide permissions
  diff        every decision that changes between two versions of a policy
  fmt         rewrite policy files in the canonical layout, keeping every comment
  bench       measure decision speed, compile time and memory of a policy
  serve       an HTTP/JSON decision service, with reload, metrics and a decision log
  lsp         a language server for editors (LSP over stdio)
  man         the manual page clause(1), in roff, made from these help texts
  completion  shell completion for bash or zsh, made from these help texts

limits, taken by every command (docs/reliability.md):
  --max-policy-bytes N     a policy file's size; default 67108864 (64 MiB)
  --max-name-length N      characters in one name; default 128
  --max-condition-depth N  nesting of `not` and parentheses; default 32
  --max-rules N            rules in one policy; default 500000
  --max-request-bytes N    one JSON request; default 1048576 (1 MiB)
  --max-json-depth N       nesting of a request's objects and arrays; default 8

Run `clause COMMAND --help` for a command's options.
)";
}

}  // namespace clause::cli
