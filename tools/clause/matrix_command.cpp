// The command `matrix`: per action, the decision for every data category and requester
// kind, as Markdown, JSON, or one self-contained HTML page.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "clause/clause.hpp"
#include "clause/dsl/check.hpp"
#include "clause/matrix.hpp"
#include "cli.hpp"

namespace clause::cli {
namespace {

std::string short_effect(const MatrixOutcome& o) {
  if (o.effect == Effect::require_consent) return fmt::format("consent `{}`", o.consent);
  return std::string(to_string(o.effect));
}

std::string cell_text(const MatrixCell& cell) {
  if (cell.outcomes.empty()) return "not analysed";
  std::string out;
  if (cell.outcomes.size() > 1) {
    std::string on;
    for (const auto& d : cell.depends_on)
      on += (on.empty() ? "" : ", ") + d;
    out = fmt::format("depends on {}: ", on);
  }
  for (std::size_t i = 0; i < cell.outcomes.size(); ++i) {
    const auto& o = cell.outcomes[i];
    out += fmt::format("{}{} {}", i ? " / " : "", short_effect(o), o.clause);
  }
  return out;
}

// The actions of one matrix: per action, rows of cells.
nlohmann::json actions_json(const Matrix& m) {
  nlohmann::json actions = nlohmann::json::array();
  for (std::size_t a = 0; a < m.actions.size(); ++a) {
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t d = 0; d < m.data.size(); ++d) {
      nlohmann::json cells = nlohmann::json::array();
      for (std::size_t r = 0; r < m.requesters.size(); ++r) {
        const MatrixCell& cell = m.at(a, d, r);
        nlohmann::json outcomes = nlohmann::json::array();
        for (const auto& o : cell.outcomes) {
          nlohmann::json item = {
              {"decision", to_string(o.effect)}, {"clause", o.clause}, {"purposes", o.purposes}};
          if (!o.consent.empty()) item["consent"] = o.consent;
          outcomes.push_back(std::move(item));
        }
        cells.push_back({{"requester", m.requesters[r]},
                         {"outcomes", std::move(outcomes)},
                         {"depends_on", cell.depends_on}});
      }
      rows.push_back({{"data", m.data[d]}, {"cells", std::move(cells)}});
    }
    actions.push_back({{"action", m.actions[a]}, {"rows", std::move(rows)}});
  }
  return actions;
}

bool all_complete(const std::vector<MatrixClass>& ms) {
  return std::all_of(ms.begin(), ms.end(), [](const MatrixClass& m) { return m.matrix.complete; });
}

// One matrix as `actions`; split by a varied attribute, one entry of `vary` per class.
nlohmann::json matrix_json(const Policy& p, const std::vector<MatrixClass>& ms,
                           const MatrixOptions& asked) {
  const Matrix& first = ms.front().matrix;
  nlohmann::json clauses = nlohmann::json::object();
  for (const auto& c : p.checked().clauses)
    clauses[c.id] = c.words;
  nlohmann::json out = {{"policy", p.checked().name},
                        {"version", p.checked().version},
                        {"complete", all_complete(ms)},
                        {"purposes", first.purposes},
                        {"clauses", std::move(clauses)}};
  if (!asked.fix.empty()) out["fixed"] = asked.fix;
  if (asked.vary.empty()) {
    out["actions"] = actions_json(first);
    return out;
  }
  out["varied"] = asked.vary;
  out["vary"] = nlohmann::json::array();
  for (const MatrixClass& m : ms) {
    out["vary"].push_back(
        {{"class", m.label}, {"complete", m.matrix.complete}, {"actions", actions_json(m.matrix)}});
  }
  return out;
}

// The tables of one matrix, one per action, under headings of `level`.
std::string tables(const Matrix& m, std::string_view level) {
  std::string out;
  for (std::size_t a = 0; a < m.actions.size(); ++a) {
    out += fmt::format("\n{} {}\n\n| data \\ requester |", level, m.actions[a]);
    for (const auto& r : m.requesters)
      out += fmt::format(" {} |", r);
    out += "\n|---|";
    for (std::size_t r = 0; r < m.requesters.size(); ++r)
      out += "---|";
    out += '\n';
    for (std::size_t d = 0; d < m.data.size(); ++d) {
      out += fmt::format("| {} |", m.data[d]);
      for (std::size_t r = 0; r < m.requesters.size(); ++r) {
        out += fmt::format(" {} |", cell_text(m.at(a, d, r)));
      }
      out += '\n';
    }
  }
  return out;
}

std::string markdown(const Policy& p, const std::vector<MatrixClass>& ms,
                     const MatrixOptions& asked) {
  std::string out =
      fmt::format("# Decision matrix: {} (version {})\n\n", p.checked().name, p.checked().version);
  out +=
      "Each cell gives the decision and the clause it cites for that data category (row) and "
      "requester kind (column), or, when facts, consents or the purpose change it, what it "
      "depends on and every decision it can take.\n";
  if (!asked.fix.empty()) {
    std::string held;
    for (const std::string& f : asked.fix)
      held += fmt::format("{}`{}`", held.empty() ? "" : ", ", f);
    out += fmt::format("\nFor the requests with {}.\n", held);
  }
  if (asked.vary.empty()) return out + tables(ms.front().matrix, "##");
  out += fmt::format("\nOne matrix per class of `{}` that the policy tells apart ({}).\n",
                     asked.vary, ms.size());
  for (const MatrixClass& m : ms)
    out += fmt::format("\n## When {}\n", m.label) + tables(m.matrix, "###");
  return out;
}

// The page carries its data and its script; it loads nothing from anywhere.
std::string html(const Policy& p, const std::vector<MatrixClass>& ms, const MatrixOptions& asked) {
  std::string data = matrix_json(p, ms, asked).dump();
  // Keep `</script>` out of the embedded JSON.
  for (std::size_t at = data.find("</"); at != std::string::npos; at = data.find("</", at)) {
    data.replace(at, 2, "<\\/");
  }
  static constexpr std::string_view head = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Decision matrix</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
.controls { margin: 1em 0; display: flex; gap: 1.5em; flex-wrap: wrap; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
th.row { text-align: left; }
td { min-width: 6em; font-size: 12px; }
td.allow { background: #d8f0d8; }
td.deny { background: #f6d5d5; }
td.require-consent { background: #fbeccb; }
td.mixed { background: repeating-linear-gradient(45deg, #eee, #eee 6px, #f8f8f8 6px, #f8f8f8 12px); }
.legend span { padding: 2px 8px; margin-right: 6px; border: 1px solid #ccc; }
.dep { color: #555; font-style: italic; display: block; }
</style>
</head>
<body>
<h1 id="title"></h1>
<div class="controls">
<label id="class-label" hidden>Class <select id="class"></select></label>
<label>Action <select id="action"></select></label>
<label>Purpose <select id="purpose"></select></label>
</div>
<p class="legend"><span style="background:#d8f0d8">allow</span><span style="background:#f6d5d5">deny</span><span style="background:#fbeccb">require consent</span><span style="background:#eee">depends on facts or consent</span> Hover a cell for the words of its clause.</p>
<table id="matrix"></table>
<script>
const M = )HTML";
  static constexpr std::string_view tail = R"HTML(;
const $ = (id) => document.getElementById(id);
$("title").textContent = "Decision matrix: " + M.policy + " (version " + M.version + ")" +
  (M.fixed ? ", for " + M.fixed.join(", ") : "");
const classes = M.vary || [{ class: "", actions: M.actions }];
classes.forEach((c, i) => $("class").add(new Option(c.class, i)));
$("class-label").hidden = !M.vary;
for (const a of classes[0].actions) $("action").add(new Option(a.action, a.action));
$("purpose").add(new Option("any purpose", "*"));
$("purpose").add(new Option("no purpose", ""));
for (const p of M.purposes) $("purpose").add(new Option(p, p));
function label(o) {
  return (o.decision === "require-consent" ? "consent " + o.consent : o.decision) + " " + o.clause;
}
function render() {
  const action = classes[$("class").value].actions.find((a) => a.action === $("action").value);
  const purpose = $("purpose").value;
  const table = $("matrix");
  table.replaceChildren();
  const head = table.insertRow();
  const corner = document.createElement("th");
  corner.textContent = "data \u2193 / requester \u2192";
  head.appendChild(corner);
  for (const c of action.rows[0].cells) {
    const th = document.createElement("th");
    th.textContent = c.requester;
    head.appendChild(th);
  }
  for (const row of action.rows) {
    const tr = table.insertRow();
    const th = document.createElement("th");
    th.className = "row";
    th.textContent = row.data;
    tr.appendChild(th);
    for (const cell of row.cells) {
      const td = tr.insertCell();
      const shown = cell.outcomes.filter((o) => purpose === "*" || o.purposes.includes(purpose));
      const kinds = new Set(shown.map((o) => o.decision));
      td.className = kinds.size === 1 ? [...kinds][0] : "mixed";
      if (shown.length > 1 && cell.depends_on.length) {
        const dep = document.createElement("span");
        dep.className = "dep";
        dep.textContent = "depends on " + cell.depends_on.join(", ");
        td.appendChild(dep);
      }
      td.appendChild(document.createTextNode(shown.map(label).join(" / ")));
      td.title = shown.map((o) => o.clause + ": " + (M.clauses[o.clause] || "")).join("\n\n");
    }
  }
}
$("class").onchange = render;
$("action").onchange = render;
$("purpose").onchange = render;
render();
</script>
</body>
</html>
)HTML";
  return std::string(head) + data + std::string(tail);
}

}  // namespace

int run_matrix(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    return print_help("matrix");
  }
  Args args(argv, "matrix");
  if (args.error()) return usage_error("matrix", *args.error());
  if (args.positional().size() != 1) return usage_error("matrix", "expected one policy file");
  const std::string format = args.format("md");
  const std::optional<Policy> policy = load_policy(args.positional()[0]);
  if (!policy) return exit_failed;
  const MatrixOptions asked{args.options("fix"), args.option("vary").value_or("")};
  const auto ms = decision_matrices(*policy, asked);
  if (!ms) {
    const MatrixError& e = ms.error();
    const std::string flag = e.input == asked.vary ? "--vary" : "--fix";
    const std::string message =
        e.input.empty() ? e.message : fmt::format("{} {}: {}", flag, e.input, e.message);
    if (e.kind == MatrixError::Kind::bad_option) return usage_error("matrix", message);
    fmt::print(stderr, "clause matrix: {}\n", message);
    return exit_failed;
  }
  if (!all_complete(*ms)) {
    fmt::print(stderr,
               "clause matrix: the policy is too large to decide every cell; cells left out "
               "say \"not analysed\"\n");
  }
  if (format == "json") {
    nlohmann::json out = matrix_json(*policy, *ms, asked);
    out["schema_version"] = schema_version;
    fmt::print("{}\n", out.dump(1));
  } else if (format == "html") {
    std::fputs(html(*policy, *ms, asked).c_str(), stdout);
  } else {
    std::fputs(markdown(*policy, *ms, asked).c_str(), stdout);
  }
  return exit_ok;
}

}  // namespace clause::cli
