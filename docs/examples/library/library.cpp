// The clause library in one program: compile a policy, decide requests three ways, trace a
// decision, prove its promises, lint it, keep it live in a PolicyStore and log decisions.
// Usage: clause-library-example POLICY_FILE (docs/library.md shows a run).
#include <clause/clause.hpp>
#include <clause/json.hpp>
#include <clause/lint.hpp>
#include <clause/log.hpp>
#include <clause/store.hpp>
#include <clause/verify.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: clause-library-example POLICY_FILE\n";
    return 64;
  }

  // 1. Compile. Both steps give a Result: the value, or what went wrong.
  auto source = clause::read_source(argv[1]);
  if (!source) {
    std::cerr << source.error() << '\n';
    return 1;
  }
  clause::CompileOptions options;
  options.limits.max_request_bytes = 4096;  // refuse larger JSON requests
  auto compiled = clause::compile(*source, options);
  if (!compiled) {
    std::cerr << clause::render_text(*source, compiled.error());
    return 1;
  }
  const clause::Policy policy = *compiled;  // copies share one compiled form
  std::cout << "compiled " << policy.name() << ", version " << policy.version() << ", "
            << policy.clauses().size() << " clauses, " << policy.warnings().size()
            << " warnings\n";

  // 2. A request built in code. evaluate() resolves the names, then decides.
  clause::Request request;
  request.data = "medical_record";
  request.requester = "outside_provider";
  request.action = "read";
  request.consent = {"share_record"};
  clause::Decision d = policy.evaluate(request);
  std::cout << "in code:  " << clause::to_string(d.effect) << ", clause " << d.clause
            << ", rule " << d.rule << '\n';

  // 3. Resolve once, decide many times: a ResolvedRequest costs no string compare and no
  //    allocation to evaluate. Names the policy does not know are errors here.
  auto resolved = policy.resolve(request);
  if (resolved) {
    d = policy.evaluate(*resolved);
    std::cout << "resolved: " << clause::to_string(d.effect) << '\n';
  }
  request.data = "x_ray";
  auto unknown = policy.resolve(request);
  if (!unknown) std::cout << "resolve:  " << unknown.error().to_string() << '\n';

  // 4. JSON in, JSON out. decode() reports mistakes with their position; evaluate_json()
  //    denies an invalid request, citing `default`, with the error.
  const std::string json =
      R"({"data":{"category":"contact_details"},"requester":{"kind":"reception"},)"
      R"("action":"message","context":{"purpose":"reminders"}})";
  d = policy.evaluate_json(json);
  std::cout << "json:     " << clause::to_json(d) << '\n';
  std::cout << "consent:  ask for `" << d.consent << "`, clause " << d.clause << ": "
            << policy.clause_words(d.clause) << '\n';
  auto bad = policy.decode(R"({"data":{"category":"contact_details"},"action":"read"})");
  if (!bad) std::cout << "decode:   " << bad.error().to_string() << '\n';
  d = policy.evaluate_json(std::string(5000, ' '));
  std::cout << "too big:  " << d.error << '\n';

  // 5. A trace: every rule in file order, and how it fared.
  clause::EvalOptions traced;
  traced.trace = true;
  d = policy.evaluate_json(json, traced);
  for (const clause::TraceStep& step : d.trace) {
    std::cout << "trace:    " << step.rule << " (" << clause::to_string(step.tier)
              << ", line " << step.position.line << "): " << clause::to_string(step.outcome)
              << '\n';
  }

  // 6. The promises (`assert`), proved over every request; then the linter's warnings.
  for (const clause::AssertionResult& r : clause::verify(policy))
    std::cout << (r.proved ? "proved:   " : "FAILED:   ") << r.text << '\n';
  std::cout << "lint:     " << clause::lint(policy).size() << " warnings\n";

  // 7. A live policy: a PolicyStore hands out snapshots and swaps in a new version only
  //    when it compiles. A Decision's texts point into the policy that made it, so keep
  //    the snapshot alive for as long as the decision is used.
  auto store = clause::PolicyStore::open(argv[1], options);
  if (!store) return 1;
  const clause::Policy snapshot = store->current();
  d = snapshot.evaluate_json(json);
  auto reloaded = store->reload();
  std::cout << "store:    version " << d.policy_version << ", " << d.policy_hash.substr(0, 19)
            << "..., reload " << (reloaded ? "ok" : "failed") << ", " << store->reloads()
            << " reloads\n";

  // 8. The decision log: record() queues, close() writes, flushes and fsyncs.
  clause::DecisionLogOptions log_options;
  log_options.path = "decisions.jsonl";
  log_options.redact = {"requester.id"};
  auto log = clause::DecisionLog::open(log_options);
  if (!log) {
    std::cerr << log.error() << '\n';
    return 1;
  }
  log->record(json, snapshot.evaluate_json(json));
  log->close();
  std::cout << "log:      " << log->written() << " written, " << log->dropped()
            << " dropped\n";

  // 9. A policy with errors: compile() gives every diagnostic, rendered as `clause check`.
  const clause::SourceFile text{"broken.policy", "policy \"B\" version \"1\"\nallow read\n"};
  auto broken = clause::compile(text);
  if (!broken) std::cout << clause::render_text(text, broken.error());
  return 0;
}
