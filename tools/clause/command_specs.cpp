// The description of every command: what `--help` prints, what the argument reader
// accepts, and what the man page and the completions say all come from here.
#include "help_pages.hpp"

#include "cli.hpp"

namespace clause::cli {

std::string_view general_intro() {
  return R"(A policy-rules engine: policy files written as rules that cite the clauses of a
privacy policy, decided as allow, deny or require-consent.
)";
}

const std::vector<OptionSpec>& limit_options() {
  static const std::vector<OptionSpec> limits = {
      {.flag = "--max-policy-bytes",
       .argument = "N",
       .description = {"a policy file's size; default 67108864 (64 MiB)"}},
      {.flag = "--max-name-length",
       .argument = "N",
       .description = {"characters in one name; default 128"}},
      {.flag = "--max-condition-depth",
       .argument = "N",
       .description = {"nesting of `not` and parentheses; default 32"}},
      {.flag = "--max-rules",
       .argument = "N",
       .description = {"rules in one policy; default 500000"}},
      {.flag = "--max-request-bytes",
       .argument = "N",
       .description = {"one JSON request; default 1048576 (1 MiB)"}},
      {.flag = "--max-json-depth",
       .argument = "N",
       .description = {"nesting of a request's objects and arrays; default 8"}},
      {.flag = "--max-documents",
       .argument = "N",
       .description = {"documents one policy declares; default 64"}},
      {.flag = "--max-document-bytes",
       .argument = "N",
       .description = {"one document a policy reads; default 67108864 (64 MiB)"}},
      {.flag = "--max-document-depth",
       .argument = "N",
       .description = {"nesting of a document's objects and arrays; default 16"}},
  };
  return limits;
}

const std::vector<CommandSpec>& command_specs() {
  static const std::vector<CommandSpec> specs = {
      {.name = "check",
       .summary = "parse and check a policy file; print its errors and warnings",
       .usage = {"clause check [options] FILE|-"},
       .body = R"(Parses and checks a policy file. Prints every error and warning on stderr as
`file:line:col: error[CODE]: message`, with the source line, a caret under the
mistake and, where a fix can be guessed, a `help:` line. With `-`, the policy is
read from stdin (named `<stdin>`).

Besides errors it warns, exactly, about: clauses nothing cites (W001), names no
rule uses (W002), rules that repeat another (W003), rules that can never decide
because rules of higher precedence decide every request they match (W004),
conditions that can never be true (W005), and conditions by which granting a
consent can take an allow away (W006). `@ignore W004` written before a
statement silences that warning for it.
)",
       .option_column = 23,
       .options =
           {
               {.flag = "--format",
                .argument = "text|json",
                .description = {"how to print diagnostics (json goes to stdout); default text"}},
               {.flag = "--format",
                .argument = "sarif",
                .description = {"a SARIF 2.1.0 log on stdout, for code scanning (docs/cli.md)"}},
               {.flag = "--werror", .argument = "", .description = {"fail on warnings too"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 the policy is valid, 1 it has errors (or warnings with --werror),
64 the command line is wrong.
)",
       .run = run_check},
      {.name = "eval",
       .summary = "decide requests against a policy and print each decision",
       .usage = {"clause eval --policy FILE [options] [REQUEST.json ... | -]",
                 "clause eval --policy FILE --jsonl [FILE | -]"},
       .body = R"(Decides requests against a policy. A request is a JSON object:
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
)",
       .option_column = 23,
       .options =
           {
               {.flag = "--policy",
                .argument = "FILE",
                .description = {"the policy to decide with (required)"}},
               {.flag = "--jsonl",
                .argument = "",
                .description = {"read one request per line from FILE or stdin"}},
               {.flag = "--explain",
                .argument = "",
                .description = {"add the trace: every rule, and why it matched or not"}},
               {.flag = "--as-of",
                .argument = "TIME",
                .description = {"read a request without `context.time` as made at TIME,",
                                "a date or an RFC 3339 date-time (the policy must declare it)"}},
               {.flag = "--format",
                .argument = "json|text",
                .description = {"json (default) or text for people, with the clause's words"}},
               {.flag = "--log",
                .argument = "FILE",
                .description = {"also append each decision, with its request, to FILE as",
                                "JSON Lines (the decision log of docs/embedding.md)"}},
               {.flag = "--log-redact",
                .argument = "FIELDS",
                .description = {"request fields the log writes as \"[redacted]\", comma-separated",
                                "dotted paths such as requester.id,context.*"}},
               {.flag = "--log-max-bytes",
                .argument = "N",
                .description = {"past N bytes, FILE becomes FILE.1 (and FILE.1 FILE.2 ...);",
                                "0, the default, never rotates"}},
               {.flag = "--log-keep",
                .argument = "N",
                .description = {"rotated files kept, FILE.1 to FILE.N (default 5)"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(With no request file, or `-`, one request is read from stdin.

exit status: 0 every request was decided, 1 the policy has errors, 2 some request
was not valid (it was denied), 64 the command line is wrong.
)",
       .run = run_eval},
      {.name = "test",
       .summary = "run policy test files, with coverage of clauses and rules",
       .usage = {"clause test [options] [FILE.test | FOLDER ... | -]"},
       .body = R"(Runs policy test files (every `*.test` file under each FOLDER; the current folder
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

A case may also give the attributes the policy declares, the request's time,
consents with dates, objections, and the obligations the decision carries:

    with requester.id = "c-1", data.care_team = ["c-1"], data.subject_age = 15
    at 2026-03-01T10:00:00Z         # context.time
    consent sud_consent expires 2027-01-01 withdrawn 2026-06-01
    objections family_disclosure
    expect allow cites "L" obliges record_disclosure

Each failing case is shown with what was expected, what came, and the rule that
decided. The last line is `N passed, M failed`. With `-`, one test file is read
from stdin; it names its policy relative to the current folder.
)",
       .option_column = 23,
       .options =
           {
               {.flag = "--coverage",
                .argument = "",
                .description = {"after the cases, list every clause and rule with how many",
                                "cases reached it, and those never reached (a rule is",
                                "reached when it matches a case's request; a clause when a",
                                "reached rule, the decision or a name of the request cites it)"}},
               {.flag = "--format",
                .argument = "text|json",
                .description = {"text (default), or one JSON object on stdout (the failing",
                                "cases stay on stderr): {\"schema_version\": 1, \"passed\": N,",
                                "\"failed\": M}, with --coverage also",
                                "\"clauses\": [{\"id\": ..., \"hits\": N}], \"rules\": [...]"}},
               {.flag = "--format",
                .argument = "junit|tap",
                .description = {"JUnit XML, or TAP version 14, on stdout (docs/cli.md)"}},
               {.flag = "--verbose",
                .argument = "",
                .description = {"also list the cases that pass"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 every case passed, 1 a case failed or a file has errors,
64 the command line is wrong.
)",
       .run = run_test},
      {.name = "explain",
       .summary = "explain one decision for a person: clause, rules, near misses",
       .usage = {"clause explain --policy FILE [options] [REQUEST.json | -]"},
       .body = R"(Explains one decision for a person: the decision; the cited clause and its words;
the deciding rule and where it is; for require-consent, what granting the consent
would give, and for deny, each consent whose grant alone would allow; the other
rules that matched and why they lost; and the near misses:
rules that a single change to the request (one fact, the purpose, one consent)
would make match, with the decision that change would give; and, for each
attribute those rules read, one value of each other class of its values that the
policy's tests tell apart, where that value alone would change the decision.
)",
       .option_column = 23,
       .options =
           {
               {.flag = "--policy", .argument = "FILE", .description = {"the policy (required)"}},
               {.flag = "--color",
                .argument = "",
                .description = {"colour the output even when it is not a terminal"}},
               {.flag = "--no-color",
                .argument = "",
                .description = {"never colour (NO_COLOR in the environment does the same)"}},
               {.flag = "--format",
                .argument = "text|json",
                .description = {"text (default), or the same explanation as one JSON object"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 explained, 1 the policy has errors, 2 the request is not valid or
cannot be read (it is denied), 64 the command line is wrong.
)",
       .run = run_explain},
      {.name = "plan",
       .summary = "for a request with unknown fields, when each decision is given",
       .usage = {"clause plan --policy FILE [options] [REQUEST.json | -]"},
       .body = R"(Plans a request that leaves some fields unknown: for each decision (allow,
require-consent with each consent, deny), the condition over the unknown fields
under which a completed request gets it, as parts joined by `or`, each citing the
rule and clause that decide it and the obligations that come with it. The
conditions are exact: every completion of the request meets the parts of the
decision it gets, and no part of another. The request is JSON as `clause eval`
reads it, with `"unknown": [FIELD, ...]` naming the fields it leaves out:
"data" (the category and every `data.` attribute), "data.category", an
attribute's path, a fact as "context.NAME", "context.purpose", "context.consent"
or "context.objections". docs/plan.md has examples.
)",
       .option_column = 23,
       .options =
           {
               {.flag = "--policy", .argument = "FILE", .description = {"the policy (required)"}},
               {.flag = "--sql",
                .argument = "postgres|sqlite",
                .description = {"write each condition as a SQL WHERE clause with bound",
                                "parameters, over the columns --mapping names"}},
               {.flag = "--mapping",
                .argument = "FILE",
                .description = {"where the request's fields stand in the database (with",
                                "--sql; docs/plan.md, \"The mapping\")"}},
               {.flag = "--format",
                .argument = "text|json",
                .description = {"text (default), or the plan as one JSON object"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 planned, 1 the policy has errors or the request space is too large
to plan, 2 the request or the mapping is not valid or cannot be read, or the
mapping leaves a field the plan reads unmapped, 64 the command line is wrong.
)",
       .run = run_plan},
      {.name = "verify",
       .summary = "prove the policy's assertions over every request",
       .usage = {"clause verify [options] FILE"},
       .body = R"(Proves every assertion of a policy over every possible request. An assertion is a
promise written in the policy:

  assert never allow buy of personal_info by unrelated_third_party
    unless consent third_party_disclosure
  assert always deny store of credentials when not encrypted

`assert always|never EFFECT [actions] [of data] [by requesters] [when C] [unless C]`,
where EFFECT is allow, deny, or require consent [NAME for]. The proof is exact: the
request space is split into the regions the rules and the assertion tell apart,
and each region is decided once. An assertion that does not hold is shown with a
counterexample request (JSON that `clause eval` accepts) and its decision.
)",
       .option_column = 23,
       .options =
           {
               {.flag = "--format",
                .argument = "text|json",
                .description = {"text (default), or JSON: the results with their",
                                "counterexamples"}},
               {.flag = "--format",
                .argument = "sarif",
                .description = {"a SARIF 2.1.0 log: refuted assertions as errors (docs/cli.md)"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 every assertion holds, 1 one does not (or the policy has errors),
64 the command line is wrong.
)",
       .run = run_verify},
      {.name = "matrix",
       .summary = "the decision matrix per action, as Markdown, JSON or an HTML page",
       .usage = {"clause matrix [--format md|json|html] [--fix PATH=VALUE]... [--vary PATH] FILE"},
       .body = R"(Prints the decision matrix of a policy: for each action, a table of data
categories (rows) by requester kinds (columns). Each cell gives the decision and
the clause it cites or, when facts, consents or the purpose change it, what it
depends on and every decision it can take. The matrix is exact: it is computed
over every request, region by region.
)",
       .option_column = 22,
       .options =
           {
               {.flag = "--fix",
                .argument = "PATH=VALUE",
                .description = {"only the requests whose attribute PATH has VALUE, typed by its",
                                "declaration: `12`, `p-7`, `true`, `2026-03-01`, a comma list",
                                "`c-1,c-2`, `absent` when optional; or `consent:NAME`,",
                                "`objected:NAME`, `fact:NAME` (`=false` for not); repeatable"},
                .repeatable = true},
               {.flag = "--vary",
                .argument = "PATH",
                .description = {"one matrix per class of the attribute's values that the",
                                "policy's tests tell apart, e.g. `data.subject_age < 18`"}},
               {.flag = "--format", .argument = "md", .description = {"Markdown (default)"}},
               {.flag = "--format",
                .argument = "json",
                .description =
                    {"JSON: per action, rows of cells, each with its outcomes (decision,",
                     "clause, consent, the purposes it comes under) and `depends_on`;",
                     "with --vary, `vary`: per class, its label and its actions"}},
               {.flag = "--format",
                .argument = "html",
                .description = {"one self-contained page (no network, no other file): colours per",
                                "decision, the clause's words on hover, a filter per action and",
                                "per purpose"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after =
           R"(exit status: 0 printed, 1 the policy has errors or --vary splits it into more than
64 classes, 64 the command line is wrong (an unknown attribute or name, a value
its declaration does not take).
)",
       .run = run_matrix},
      {.name = "analyze",
       .summary = "conflicts, rules that never decide, default regions, wide permissions",
       .usage = {"clause analyze [--format text|json|sarif] FILE"},
       .body = R"(Analyses a policy over every possible request, exactly, and reports:
  - conflicts: pairs of rules with different effects that match a common request
    (the contradictions of the document), with how many requests they share, the
    rule and tier that resolve them, and a witness request;
  - rules that can never decide (duplicates, shadowed rules, impossible conditions);
  - the requests that fall to the fail-closed default, grouped by the names that
    share them, with a witness each;
  - wide permissions: rules covering a quarter or more of the in-scope data by
    requester pairs of their actions, for an author to review.
Each witness is a request in the JSON that `clause eval` reads.
)",
       .option_column = 23,
       .options =
           {
               {.flag = "--format",
                .argument = "text|json",
                .description = {"text (default), or JSON: every finding, every group"}},
               {.flag = "--format",
                .argument = "sarif",
                .description = {"a SARIF 2.1.0 log: the findings as warnings and notes"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 analysed, 1 the policy has errors, 64 the command line is wrong.
)",
       .run = run_analyze},
      {.name = "diff",
       .summary = "every decision that changes between two versions of a policy",
       .usage = {"clause diff [--format text|json] OLD NEW",
                 "clause diff [--format text|json] --data NAME=FILE POLICY"},
       .body = R"(Lists every decision that changes between two versions of a policy, grouped into
regions: the actions, requester kinds and data categories that share the change,
the old and the new decision with their clauses, how many requests the region
covers, and a witness request in the JSON that `clause eval` reads. Nothing is
missed and nothing invented: every request valid under both versions is covered,
attribute values included. Names only one version declares (and attributes whose
type or optionality changed) are listed once at the top: a request naming them is
invalid under the other version, so it is not compared.

With --data, compares one policy under two versions of its document NAME: the one
it declares and FILE. It lists the entries whose read fields changed, then every
decision that changes for the requests whose key names one of them, all other
inputs free; keys whose entries changed alike share a region.
)",
       .option_column = 23,
       .options =
           {
               {.flag = "--format",
                .argument = "text|json",
                .description = {"text (default), or JSON: the regions"}},
               {.flag = "--data",
                .argument = "NAME=FILE",
                .description = {"compare POLICY with its document NAME read from FILE"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 the two versions declare the same names and decide every request
alike, 1 some name or decision changes (or a policy has errors), 64 the command
line is wrong.
)",
       .run = run_diff},
      {.name = "bundle",
       .summary = "pack a policy with its data and tests into a signed archive, or check one",
       .usage = {"clause bundle build --key PRIVATE.pem [--output FILE] POLICY [FILE ...]",
                 "clause bundle verify --key PUBLIC.pem [--format text|json] BUNDLE"},
       .body = R"(`build` packs POLICY, the documents it declares and each FILE (its test files,
say; all under the policy's folder) into one gzip'd tar archive with a manifest
(the policy's name, version and content hash, and each file's SHA-256) signed with
the Ed25519 key PRIVATE.pem. The same files and key give the same bytes.

`verify` checks a bundle as `clause serve` does before it decides with one: the
archive within its bounds, the signature by PUBLIC.pem, every file against the
manifest and none besides, then compiles the policy from the bundle's files alone
and checks that it gives the manifest's content hash.

Keys: `openssl genpkey -algorithm ed25519 -out private.pem`, then
`openssl pkey -in private.pem -pubout -out public.pem`.
)",
       .option_column = 24,
       .options =
           {
               {.flag = "--key",
                .argument = "FILE",
                .description = {"build: the Ed25519 private key; verify: the public key"}},
               {.flag = "--output",
                .argument = "FILE",
                .description = {"build: where to write; default POLICY's stem + .bundle.tar.gz"}},
               {.flag = "--format",
                .argument = "text|json",
                .description = {"verify: text (default), or JSON: the manifest"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 built or verified, 1 the policy has errors or the bundle is
refused (why, on stderr), 64 the command line is wrong.
)",
       .run = run_bundle},
      {.name = "fmt",
       .summary = "rewrite policy files in the canonical layout, keeping every comment",
       .usage = {"clause fmt [--check] FILE|FOLDER ...", "clause fmt [--check] -"},
       .body = R"(Rewrites policy files in place in the one canonical layout that
docs/formatting.md describes. Every comment and `@ignore` annotation is kept,
and so is one blank line wherever there were blank lines between statements;
what the policy says does not change. A folder stands for every `*.policy` and `*.test`
file below it, in sorted order; a file ending in `.test` is formatted as a test file.
With `-`, a policy is read from stdin and written to stdout.

A file with syntax errors is left as it is: its errors are printed on stderr.
)",
       .option_column = 12,
       .options =
           {
               {.flag = "--check",
                .argument = "",
                .description =
                    {"rewrite nothing; print the name of each file that is not formatted"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 every file is formatted (or was rewritten), 1 a file has syntax
errors, cannot be read or written, or (with --check) is not formatted, 64 the
command line is wrong.
)",
       .run = run_fmt},
      {.name = "bench",
       .summary = "measure decision speed, compile time and memory of a policy",
       .usage = {"clause bench --policy FILE [options]"},
       .body = R"(Measures how fast a policy decides. The requests are decoded once; the typed
path then evaluates them again and again and reports the median time per
decision over the repetitions, with the fastest and slowest. The JSON path runs
text to decision text, as `clause eval --jsonl` does. Then the throughput with
1, 2, 4 ... threads sharing the one compiled policy, the compile time (fastest
of up to five runs), the heap the compiled policy holds and the peak resident
memory of the process. docs/performance.md has the results on a reference
machine.
)",
       .option_column = 22,
       .options =
           {
               {.flag = "--policy",
                .argument = "FILE",
                .description = {"the policy to measure (required)"}},
               {.flag = "--jsonl",
                .argument = "FILE",
                .description = {"the requests to run, one JSON object a line (`-`: stdin);",
                                "without it, 4096 requests are generated over the policy's",
                                "names"}},
               {.flag = "--iterations",
                .argument = "N",
                .description = {"decisions per repetition of the typed path; default 2000000"}},
               {.flag = "--repetitions",
                .argument = "N",
                .description = {"repetitions of the typed path; default 11"}},
               {.flag = "--threads",
                .argument = "N",
                .description = {"the most threads to measure; default: the machine's cores"}},
               {.flag = "--index-budget",
                .argument = "N",
                .description = {"how many rule copies the index may make (CompileOptions::",
                                "index_budget); default 6 per rule plus 2^20 - 10 per",
                                "rule (at least 65,536)"}},
               {.flag = "--format",
                .argument = "text|json",
                .description = {"text (default), or one JSON object: typed_ns_per_decision",
                                "(the median), typed_decisions_per_second,",
                                "json_decisions_per_second, compile_ms, compiled_bytes,",
                                "peak_rss_bytes, threads, ..."}},
               {.flag = "--json",
                .argument = "",
                .description = {"the same as --format json (docs/performance.md)"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 measured, 1 the policy or the requests cannot be read, 64 the
command line is wrong.
)",
       .run = run_bench},
      {.name = "serve",
       .summary = "an HTTP/JSON decision service, with reload, metrics and a decision log",
       .usage = {"clause serve --policy FILE [options]",
                 "clause serve --bundle-url URL --bundle-key PUBLIC.pem [--poll MS] [options]"},
       .body = R"(Serves decisions over HTTP/JSON, on 127.0.0.1 unless told otherwise:
  POST /v1/decide        one request (as `clause eval` reads it) -> its decision
  POST /v1/decide/batch  a JSON array of requests -> {"decisions": [...]}, in order
  POST /v1/plan          a partial request -> its plan, as `clause plan --format
                         json` prints it; 400 when the partial request is not valid
  POST /v1/sql/postgres  a partial request -> its plan as SQL filters, as `clause
  POST /v1/sql/sqlite    plan --sql D --mapping M --format json` prints it; only
                         with --mapping
  GET  /v1/policy        name, version, hash, and the clauses with their words
  POST /v1/reload        read the policy file again (also on SIGHUP); a file with
                         errors is refused (422) and the policy in force stays;
                         only with --admin-token, and with its bearer token
  GET  /healthz          "ok"
  GET  /metrics          Prometheus text: decisions by effect and by clause,
                         errors, reloads, latency histogram
  POST /access/v1/evaluation   AuthZEN 1.0 (docs/http.md): one evaluation ->
  POST /access/v1/evaluations  {"decision": bool}; a batch with defaults and
                               options.evaluations_semantic -> {"evaluations"}
  POST /access/v1/search/subject|resource|action  AuthZEN searches: the
                               document keys (or actions) allowed -> {"results"},
                               paged by page.limit and page.token
  GET  /.well-known/authzen-configuration  the AuthZEN metadata
  ANY  /v1/gateway/nginx       with --gateway (docs/deploy.md): nginx's
                               auth_request, the original request in
                               X-Original-Method and X-Original-URI
  ANY  /v1/gateway/envoy/PATH  Envoy's ext_authz (http_service): the original
                               path after the prefix; both answer 200 allow,
                               403 deny or not mappable, 401 require-consent,
                               with X-Clause-Decision, -Clause and -Consent
Every decision carries policy_version and policy_hash. A request that cannot be
decided is answered 400 with its denial and the error; a body that is not JSON
(batch) 400; too large a body or batch 413; a POST without Content-Type:
application/json 415; an unknown route 404. Reload and the playground want a
Host naming this server and no foreign Origin (403). SIGTERM or SIGINT stops:
requests in flight are answered (for --drain-timeout at most), then the log is
flushed; with --log-url, shipping has --drain-timeout more to deliver, and what
is left stays in the --log-buffer folder for the next start.

With --playground, also a page to try policies in a browser (docs/cli.md):
  GET  /                       the page; its files under /playground/
  GET  /v1/playground/source   the served policy's file name and text
  POST /v1/playground/compile  {"policy": TEXT} -> ok, diagnostics (as
                               `clause check --format json`), vocabulary, clauses
  POST /v1/playground/decide   {"policy": TEXT, "request": {...}} -> decision,
                               trace, clause, rule, and the matrix of the action
  POST /v1/playground/plan     {"policy": TEXT, "request": PARTIAL} -> the plan
                               (as `clause plan --format json`), categories
These compile the text they are sent, with the limit options, and never change
the served policy. A policy with errors is answered 200 with its diagnostics; a
body that is not such an object 400, an invalid request 400 with its denial
or, for a plan, its error and position.

With --bundle-url, the policy comes from a signed bundle (`clause bundle build`)
fetched over plain HTTP every --poll MS with If-None-Match (docs/deploy.md). A
new bundle is swapped in only when its signature, manifest and hashes verify and
its policy compiles; any failure keeps the policy in force. Until the first
bundle is in force, /healthz answers 503 and decisions 503, denied, with why.
/v1/policy adds "bundle" (the active one, the last failure) and /metrics the
clause_bundle_* series.
)",
       .option_column = 25,
       .options =
           {
               {.flag = "--policy",
                .argument = "FILE",
                .description = {"the policy to serve (or --bundle-url)"}},
               {.flag = "--bundle-url",
                .argument = "URL",
                .description = {"serve the signed bundle at this http:// URL instead",
                                "of --policy"}},
               {.flag = "--bundle-key",
                .argument = "PUBLIC.pem",
                .description = {"the Ed25519 public key bundles must be signed with"}},
               {.flag = "--poll",
                .argument = "MS",
                .description = {"fetch the bundle every MS milliseconds; default 10000"}},
               {.flag = "--bundle-timeout",
                .argument = "MS",
                .description = {"time for one whole fetch; default 10000"}},
               {.flag = "--host",
                .argument = "ADDRESS",
                .description = {"the address to listen on; default 127.0.0.1"}},
               {.flag = "--port",
                .argument = "N",
                .description = {"the port; default 8181; 0 picks a free one (printed)"}},
               {.flag = "--max-body",
                .argument = "BYTES",
                .description = {"the largest request body, chunked too; default 1048576"}},
               {.flag = "--max-batch",
                .argument = "N",
                .description = {"the most requests in one batch; default 10000"}},
               {.flag = "--max-connections",
                .argument = "N",
                .description = {"open connections at most; beyond, 503 and close;", "default 256"}},
               {.flag = "--threads",
                .argument = "N",
                .description = {"threads serving the connections (event-driven, any",
                                "number of connections each); default 2"}},
               {.flag = "--header-timeout",
                .argument = "MS",
                .description = {"time to send a request's header; default 10000"}},
               {.flag = "--body-timeout",
                .argument = "MS",
                .description = {"time to send a body or read an answer; default 30000"}},
               {.flag = "--idle-timeout",
                .argument = "MS",
                .description = {"a keep-alive connection's wait for the next request;",
                                "default 60000"}},
               {.flag = "--drain-timeout",
                .argument = "MS",
                .description = {"on SIGTERM, time for requests in flight before their",
                                "connections are closed; default 5000"}},
               {.flag = "--admin-token",
                .argument = "FILE",
                .description = {"enable POST /v1/reload for callers that send",
                                "Authorization: Bearer and the token in FILE"}},
               {.flag = "--watch",
                .argument = "MS",
                .description = {"check the policy file every MS milliseconds and reload",
                                "it when its time or size changes; default 0 (only on", "demand)"}},
               {.flag = "--log",
                .argument = "FILE",
                .description = {"append every decision to FILE (docs/embedding.md); on",
                                "SIGHUP the file is opened again (after logrotate)"}},
               {.flag = "--log-redact",
                .argument = "FIELDS",
                .description = {"request fields the log redacts, e.g.", "requester.id,context.*"}},
               {.flag = "--log-block",
                .argument = "",
                .description = {"wait for room in the log's queue instead of dropping",
                                "(and counting) records; a failed write is retried", "for 10 s"}},
               {.flag = "--log-max-bytes",
                .argument = "N",
                .description = {"past N bytes, FILE becomes FILE.1 (and FILE.1 FILE.2",
                                "...); 0, the default, never rotates"}},
               {.flag = "--log-keep",
                .argument = "N",
                .description = {"rotated files kept, FILE.1 to FILE.N (default 5)"}},
               {.flag = "--log-url",
                .argument = "URL",
                .description = {"also (or, without --log, only) POST the log to an",
                                "http:// collector in gzip'd JSON Lines batches, at",
                                "least once, retried with backoff (docs/deploy.md)"}},
               {.flag = "--log-buffer",
                .argument = "DIR",
                .description = {"keep batches not yet acknowledged in DIR; a restart",
                                "sends them (default: in memory only)"}},
               {.flag = "--log-buffer-bytes",
                .argument = "N",
                .description = {"the buffer's bound, compressed; past it the oldest",
                                "batches are dropped (counted); default 268435456"}},
               {.flag = "--log-batch",
                .argument = "N",
                .description = {"records per batch; default 500"}},
               {.flag = "--log-flush",
                .argument = "MS",
                .description = {"longest wait before a partial batch is sent; default", "1000"}},
               {.flag = "--mapping",
                .argument = "FILE",
                .description = {"where plans' fields stand in a database (docs/plan.md):",
                                "serve POST /v1/sql/postgres and /v1/sql/sqlite"}},
               {.flag = "--gateway",
                .argument = "FILE",
                .description = {"how a gateway's original request becomes a clause",
                                "request (docs/deploy.md): serve /v1/gateway/nginx",
                                "and /v1/gateway/envoy/"}},
               {.flag = "--authzen-context",
                .argument = "on|off",
                .description = {"AuthZEN decisions carry a context (effect, clause, rule,",
                                "reason, policy, error); off: only the decision; default on"}},
               {.flag = "--authzen-issuer",
                .argument = "URL",
                .description = {"the AuthZEN metadata's policy_decision_point and its",
                                "endpoints' base; default http:// and the Host header"}},
               {.flag = "--playground",
                .argument = "",
                .description = {"serve the playground page and its endpoints (above);",
                                "only on a loopback --host"}},
               {.flag = "--allow-remote-playground",
                .argument = "",
                .description = {"allow --playground on an address that is not loopback"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 stopped by a signal, 1 the policy, the log, the admin token, the
mapping, the gateway mapping or the bundle key cannot be opened (or a mapping is
not valid) or the port cannot be bound, 64 the command line is wrong (--policy
with --bundle-url among it).
)",
       .run = run_serve},
      {.name = "lsp",
       .summary = "a language server for editors (LSP over stdio)",
       .usage = {"clause lsp [--stdio]"},
       .body = R"(A language server for editors: the Language Server Protocol (JSON-RPC 2.0 with
Content-Length framing) on stdin and stdout. Log lines go to stderr. It serves
policy files (`*.policy`, language id clause-policy) and test files (`*.test`,
language id clause-test):
  - diagnostics as you type: the errors and warnings of `clause check`
    (`@ignore` honoured); for a test file, its syntax errors and the names,
    clause ids and attributes its policy does not declare;
  - hover on a name (its declaration and cited clause), a clause id (its
    words) or a rule (its id and tier);
  - go to the declaration of a name, or to the `clause` a rule cites;
  - the outline of a policy or a test file;
  - references and rename of a name, clause id, attribute, name set or
    document, in the policy and the test files beside it;
  - quick fixes: the `did you mean` of a diagnostic, `@ignore` for a warning;
  - completion of the names that fit where the cursor is, and of clause ids;
  - semantic tokens, for highlighting by what a name is;
  - formatting in the layout of `clause fmt` (none while there are syntax
    errors).
The limit options (`clause --help`) apply to every document.
)",
       .option_column = 12,
       .options =
           {
               {.flag = "--stdio",
                .argument = "",
                .description = {"talk over stdin and stdout (the default and only transport)"}},
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = R"(exit status: 0 after `shutdown` then `exit`, 1 when the input ends or `exit`
comes without `shutdown`, 64 the command line is wrong.
)",
       .run = run_lsp},
      {.name = "man",
       .summary = "the manual page clause(1), in roff, made from these help texts",
       .usage = {"clause man"},
       .body =
           R"(Writes the manual page clause(1), in roff, on stdout. It is made from the same
description of each command as the help that `--help` prints, so it says what
that says. Read it with `clause man | man -l -`, or install it: `cmake --install`
puts it in share/man/man1/clause.1.
)",
       .option_column = 11,
       .options =
           {
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = "",
       .run = run_man},
      {.name = "completion",
       .summary = "shell completion for bash or zsh, made from these help texts",
       .usage = {"clause completion bash|zsh"},
       .body = R"(Writes the completion script for bash or zsh on stdout, made from the descriptions
that the help texts come from: commands, their options, the values an option
takes (files, or one of a list). Load it for one session with
`source <(clause completion bash)`; `cmake --install` puts both in their places
under share/ (bash-completion, zsh site-functions).
)",
       .option_column = 11,
       .options =
           {
               {.flag = "--help", .argument = "", .description = {"show this help"}},
           },
       .after = "",
       .run = run_completion},
  };
  return specs;
}

}  // namespace clause::cli
