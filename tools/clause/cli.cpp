// The argument reader and the help texts of the `clause` tool.
#include "cli.hpp"

#include <algorithm>

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

std::string_view help_text(std::string_view command) {
  if (command == "check") {
    return R"(usage: clause check [options] FILE

Parses and checks a policy file. Prints every error and warning on stderr as
`file:line:col: error[CODE]: message`, with the source line, a caret under the
mistake and, where a fix can be guessed, a `help:` line.

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
  --help               show this help

With no request file, or `-`, one request is read from stdin.

exit status: 0 every request was decided, 1 the policy has errors, 2 some request
was not valid (it was denied), 64 the command line is wrong.
)";
  }
  return R"(usage: clause COMMAND [options]

A policy-rules engine: policy files written as rules that cite the clauses of a
privacy policy, decided as allow, deny or require-consent.

commands:
  check    parse and check a policy file; print its errors and warnings
  eval     decide requests against a policy and print each decision

Run `clause COMMAND --help` for a command's options.
)";
}

}  // namespace clause::cli
