// The playground: edit a policy, build a request from its names, and see the decision,
// why, and the decision matrix; or leave fields of a request unknown and see the plan: under
// which conditions each outcome is given. Every answer comes from the engine, which
// compiles the text as it stands; nothing here decides anything. The engine is the server
// (`clause serve --playground`, its /v1/playground routes) or, in the static build
// (docs/playground.md), the WebAssembly one that playground/engine.js loads into the page.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  grammar: null,
  vocabulary: null, // from the last text that compiled
  diagnostics: [],
  marks: { clause: null, rule: null }, // [first, last] lines of the cited clause and rule
  clauses: [], // id, words and lines of each clause, from the last text that compiled
  tab: 'decide',
  compileSeq: 0,
  decideSeq: 0,
  planSeq: 0,
  engine: null, // the WebAssembly engine, when engine.js brought one
  restore: null, // the request of a shared link, put into the form once the names are known
};

async function post(path, body) {
  if (state.engine) return engineAnswer(state.engine, path.slice(path.lastIndexOf('/') + 1), body);
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({ error: `answer ${res.status} is not JSON` }));
  return { status: res.status, data };
}

function setStatus(text) {
  $('status').textContent = text;
}

// --- the editor ---------------------------------------------------------------------

function lineClasses() {
  const classes = new Map();
  const add = (range, cls) => {
    if (!range) return;
    for (let l = range[0]; l <= range[1]; l++) classes.set(l, (classes.get(l) || []).concat(cls));
  };
  add(state.marks.clause, 'cited-clause');
  add(state.marks.rule, 'cited-rule');
  for (const d of state.diagnostics) {
    add([d.span.begin.line, d.span.end.line], d.severity === 'error' ? 'diag-error' : 'diag-warning');
  }
  return classes;
}

function renderEditor() {
  const text = $('source').value;
  const lines = state.grammar ? ClauseHighlight.toHtml(state.grammar, text).split('\n') : text.split('\n').map(escapeHtml);
  const classes = lineClasses();
  const titles = new Map();
  for (const d of state.diagnostics) {
    const l = d.span.begin.line;
    titles.set(l, (titles.has(l) ? titles.get(l) + '\n' : '') + `${d.severity}[${d.code}]: ${d.message}`);
  }
  $('highlight').innerHTML = lines.map((html, i) => {
    const cls = ['line'].concat(classes.get(i + 1) || []).join(' ');
    const title = titles.has(i + 1) ? ` title="${escapeHtml(titles.get(i + 1))}"` : '';
    return `<span class="${cls}" data-line="${i + 1}"${title}>${html || ' '}</span>`;
  }).join('');
  syncScroll();
}

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function syncScroll() {
  $('highlight').scrollTop = $('source').scrollTop;
  $('highlight').scrollLeft = $('source').scrollLeft;
}

function goToLine(line) {
  const ta = $('source');
  const lines = ta.value.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  ta.focus();
  ta.setSelectionRange(offset, offset);
  ta.scrollTop = Math.max(0, (line - 5) * 19);
  syncScroll();
}

// --- diagnostics --------------------------------------------------------------------

function renderDiagnostics() {
  const list = $('diagnostics');
  list.replaceChildren();
  if (state.diagnostics.length === 0) {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = 'No errors, no warnings.';
    list.appendChild(li);
    return;
  }
  for (const d of state.diagnostics) {
    const li = document.createElement('li');
    li.className = d.severity;
    const head = document.createElement('div');
    head.textContent = `${d.span.begin.line}:${d.span.begin.column}: ${d.severity}[${d.code}]: ${d.message}`;
    li.appendChild(head);
    const pre = document.createElement('pre');
    pre.textContent = d.text; // as `clause check` prints it: the line, a caret, notes, help
    li.appendChild(pre);
    li.onclick = () => goToLine(d.span.begin.line);
    list.appendChild(li);
  }
}

// --- the request form ---------------------------------------------------------------

function fillSelect(select, names, extra) {
  const keep = select.value;
  select.replaceChildren();
  if (extra) select.add(new Option(extra, ''));
  for (const n of names) select.add(new Option(n, n));
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function fillChecks(box, names, kind) {
  const keep = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
  box.replaceChildren();
  for (const n of names) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.name = kind;
    input.value = n;
    input.checked = keep.has(n);
    label.append(input, n);
    box.appendChild(label);
  }
  if (names.length === 0) box.textContent = 'none declared';
}

// One input per declared attribute, typed: a number (within its range), a checkbox, a date
// or date-time picker (UTC), a comma-separated list, a select of a name set's names, or
// text. Values typed before are kept.
function fillAttributes(box, attributes) {
  const keep = new Map([...box.querySelectorAll('[data-path]')].map((i) => [i.dataset.path, i]));
  box.replaceChildren();
  for (const a of attributes || []) {
    const label = document.createElement('label');
    const input = document.createElement(a.names ? 'select' : 'input');
    input.dataset.path = a.path;
    input.dataset.type = a.type;
    input.dataset.optional = a.optional ? '1' : '';
    if (a.names) {
      for (const name of a.optional ? ['', ...a.names] : a.names) {
        const option = document.createElement('option');
        option.value = name;
        option.textContent = name || '(absent)';
        input.appendChild(option);
      }
    } else if (a.type === 'integer') {
      input.type = 'number';
      if (a.min !== undefined) input.min = a.min;
      if (a.max !== undefined) input.max = a.max;
    } else if (a.type === 'boolean') input.type = 'checkbox';
    else if (a.type === 'date') input.type = 'date';
    else if (a.type === 'time') input.type = 'datetime-local';
    else input.type = 'text';
    if (a.names) input.dataset.type = 'names';
    if (a.type === 'list of string') input.placeholder = 'a, b, c';
    const old = keep.get(a.path);
    if (old && old.dataset.type === input.dataset.type) {
      if (input.type === 'checkbox') input.checked = old.checked;
      else input.value = old.value;
    } else if (a.type === 'time') {
      input.value = new Date().toISOString().slice(0, 16);
    }
    label.append(`${a.path} (${a.type}${a.optional ? ', optional' : ''}) `, input);
    box.appendChild(label);
  }
  box.parentElement.hidden = (attributes || []).length === 0;
}

// Puts each attribute's value at its place in the request: `data.subject` in `data`.
function addAttributes(request) {
  for (const input of document.querySelectorAll('#attributes [data-path]')) {
    const [root, field] = input.dataset.path.split('.');
    const type = input.dataset.type;
    let value;
    if (type === 'boolean') value = input.checked;
    else if (input.value === '' && input.dataset.optional) continue;
    else if (type === 'integer') value = Number.parseInt(input.value, 10);
    else if (type === 'time') value = input.value ? `${input.value}:00Z` : '';
    else if (type === 'list of string') value = input.value.split(',').map((x) => x.trim()).filter((x) => x);
    else value = input.value;
    const target = root === 'data' ? request.data : root === 'requester' ? request.requester : request.context;
    target[field] = value;
  }
}

function fillForm(v) {
  fillSelect($('data'), v.data);
  fillSelect($('requester'), v.requesters);
  fillSelect($('action'), v.actions);
  fillSelect($('purpose'), v.purposes, '(no purpose)');
  fillChecks($('facts'), v.facts, 'fact');
  fillChecks($('consents'), v.consents, 'consent');
  fillChecks($('objections'), v.objections || [], 'objection');
  $('objections-box').hidden = (v.objections || []).length === 0;
  fillAttributes($('attributes'), v.attributes);
  fillSelect($('plan-requester'), v.requesters);
  fillSelect($('plan-action'), v.actions);
  fillSelect($('plan-purpose'), v.purposes, '(no purpose)');
  fillChecks($('plan-facts'), v.facts, 'plan-fact');
}

function currentRequest() {
  const checked = (kind) => [...document.querySelectorAll(`input[name=${kind}]:checked`)].map((i) => i.value);
  const request = {
    data: { category: $('data').value },
    requester: { kind: $('requester').value },
    action: $('action').value,
    context: { facts: checked('fact'), consent: checked('consent') },
  };
  if ($('purpose').value) request.context.purpose = $('purpose').value;
  const objections = checked('objection');
  if (objections.length > 0) request.context.objections = objections;
  addAttributes(request);
  return request;
}

// --- compiling and deciding ---------------------------------------------------------

async function compileNow() {
  const seq = ++state.compileSeq;
  setStatus('compiling…');
  const { status, data } = await post('/v1/playground/compile', { policy: $('source').value });
  if (seq !== state.compileSeq) return; // a newer edit is on its way
  if (status !== 200) {
    state.diagnostics = [];
    setStatus(`refused: ${data.error}`);
    renderEditor();
    return;
  }
  state.diagnostics = data.diagnostics;
  renderDiagnostics();
  if (data.ok) {
    state.vocabulary = data.vocabulary;
    state.clauses = data.clauses;
    fillForm(data.vocabulary);
    if (state.restore) {
      applyRequest(state.restore);
      state.restore = null;
    }
    document.body.dataset.state = 'ready';
    setStatus(`${data.name} version ${data.version}`);
    await (state.tab === 'plan' ? planNow() : decideNow());
  } else {
    const errors = data.diagnostics.filter((d) => d.severity === 'error').length;
    document.body.dataset.state = 'errors';
    setStatus(`${errors} error${errors === 1 ? '' : 's'}; the request form keeps the last good names`);
    state.marks = { clause: null, rule: null };
    setStale(true); // the decision shown is the last good text's
    renderEditor();
  }
}

function setStale(stale) {
  for (const id of ['decision', 'trace', 'matrix', 'plan', 'plan-summary']) $(id).classList.toggle('stale', stale);
}

// Scrolls the editor so that a line range shows, when it does not already.
function reveal(range) {
  if (!range) return;
  const ta = $('source');
  const top = (range[0] - 3) * 19;
  if (top < ta.scrollTop || range[1] * 19 > ta.scrollTop + ta.clientHeight) ta.scrollTop = Math.max(0, top);
  syncScroll();
}

async function decideNow(show = false) {
  if (!state.vocabulary) return;
  const seq = ++state.decideSeq;
  const { status, data } = await post('/v1/playground/decide', {
    policy: $('source').value,
    request: currentRequest(),
  });
  if (seq !== state.decideSeq) return;
  if (status === 200 && data.ok === false) {
    // The text changed into one with errors since it last compiled.
    state.diagnostics = data.diagnostics;
    renderDiagnostics();
    renderEditor();
    return;
  }
  renderDecision(status, data);
  if (show) reveal(state.marks.clause);
  document.body.dataset.decided = String(seq);
}

function renderDecision(status, data) {
  setStale(false);
  const box = $('decision');
  box.replaceChildren();
  const d = data.decision;
  if (!d) {
    box.textContent = `Refused (${status}): ${data.error}`;
    box.dataset.effect = '';
    return;
  }
  box.dataset.effect = d.decision;
  box.dataset.clause = d.clause;
  box.dataset.rule = d.rule || '';
  const line = document.createElement('div');
  const effect = document.createElement('span');
  effect.className = `effect ${d.decision}`;
  effect.textContent = d.decision;
  line.append(effect, ` citing clause ${d.clause}`);
  if (d.rule) line.append(`, by rule ${d.rule}`);
  if (d.consent) line.append(`; ask for consent ${d.consent}`);
  if (d.obligations && d.obligations.length > 0) line.append(`; duties: ${d.obligations.join(', ')}`);
  box.appendChild(line);
  const reason = document.createElement('div');
  reason.textContent = d.error ? `The request is not valid: ${d.error}` : d.reason;
  box.appendChild(reason);
  if (data.clause) {
    const words = document.createElement('blockquote');
    words.textContent = data.clause.words;
    box.appendChild(words);
  }
  state.marks = { clause: data.clause && data.clause.lines, rule: data.rule && data.rule.lines };
  renderEditor();
  renderTrace(data.trace || []);
  renderMatrix(data.matrix);
}

const OUTCOME_WORDS = {
  decided: 'decided',
  outranked: 'matched, but a rule of higher precedence decided',
  'consent granted': 'matched; its consent is granted',
};

function renderTrace(trace) {
  const list = $('trace');
  list.replaceChildren();
  for (const step of trace) {
    const li = document.createElement('li');
    const matched = step.outcome in OUTCOME_WORDS;
    li.className = step.outcome === 'decided' ? 'decided' : matched ? 'matched' : 'miss';
    const code = document.createElement('code');
    code.textContent = step.text;
    const why = OUTCOME_WORDS[step.outcome] || step.outcome;
    li.append(`${step.rule} (${step.tier}, line ${step.lines[0]}): ${why}${step.detail ? ` — ${step.detail}` : ''} `, code);
    li.onclick = () => goToLine(step.lines[0]);
    list.appendChild(li);
  }
}

function renderMatrix(m) {
  const table = $('matrix');
  table.replaceChildren();
  $('matrix-action').textContent = m ? m.action : '';
  if (!m) return;
  const request = currentRequest();
  const head = table.insertRow();
  const corner = document.createElement('th');
  corner.textContent = 'data \u2193 / requester \u2192';
  head.appendChild(corner);
  for (const r of m.requesters) {
    const th = document.createElement('th');
    th.textContent = r;
    head.appendChild(th);
  }
  for (const row of m.rows) {
    const tr = table.insertRow();
    const th = document.createElement('th');
    th.textContent = row.data;
    tr.appendChild(th);
    row.cells.forEach((cell, i) => {
      const td = tr.insertCell();
      const kinds = new Set(cell.outcomes.map((o) => o.decision));
      td.className = kinds.size === 1 ? [...kinds][0] : 'mixed';
      if (row.data === request.data.category && m.requesters[i] === request.requester.kind) td.classList.add('current');
      const label = (o) => `${o.decision === 'require-consent' ? `consent ${o.consent}` : o.decision} ${o.clause}`;
      td.textContent = (cell.outcomes.length > 1 ? `depends on ${cell.depends_on.join(', ')}: ` : '') +
        cell.outcomes.map(label).join(' / ');
    });
  }
}

// --- planning -----------------------------------------------------------------------

// Merges `extra` into `target`, objects key by key; anything else replaces.
function mergeInto(target, extra) {
  for (const [key, value] of Object.entries(extra)) {
    const isObject = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
    if (isObject(value) && isObject(target[key])) mergeInto(target[key], value);
    else target[key] = value;
  }
  return target;
}

// The partial request of the form, as the JSON text sent: one top-level field a line, so
// that the position of a mistake reads easily. Throws when the extra JSON does not parse.
function planRequestText() {
  const unknown = [...document.querySelectorAll('input[name=plan-unknown]:checked')].map((i) => i.value);
  const facts = [...document.querySelectorAll('input[name=plan-fact]:checked')].map((i) => i.value);
  const request = {
    requester: { kind: $('plan-requester').value },
    action: $('plan-action').value,
    context: { facts },
  };
  if ($('plan-requester-id').value.trim()) request.requester.id = $('plan-requester-id').value.trim();
  // A purpose left unknown is not given: its select is off meanwhile.
  $('plan-purpose').disabled = unknown.includes('context.purpose');
  if ($('plan-purpose').value && !unknown.includes('context.purpose')) request.context.purpose = $('plan-purpose').value;
  const extra = $('plan-extra').value.trim();
  if (extra) {
    let parsed;
    try {
      parsed = JSON.parse(extra);
    } catch (e) {
      throw new Error(`the extra fields are not JSON: ${e.message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the extra fields must be a JSON object');
    mergeInto(request, parsed);
  }
  request.unknown = unknown;
  return `{${Object.entries(request).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n ')}}`;
}

async function planNow() {
  if (!state.vocabulary) return;
  const seq = ++state.planSeq;
  const sent = $('plan-sent');
  let text;
  try {
    text = planRequestText();
  } catch (e) {
    sent.textContent = e.message;
    sent.classList.add('error');
    document.body.dataset.planned = String(seq);
    return;
  }
  const { status, data } = await post('/v1/playground/plan', { policy: $('source').value, request: text });
  if (seq !== state.planSeq) return;
  sent.textContent = text;
  sent.classList.toggle('error', status !== 200);
  if (status === 200 && data.ok === false) {
    state.diagnostics = data.diagnostics;
    renderDiagnostics();
    renderEditor();
    return;
  }
  setStale(false);
  if (status !== 200) {
    // The partial request is the mistake: say which field, and where in the text above.
    sent.textContent = `${text}\n\nRefused (${status}): ${data.error}`;
    $('plan').replaceChildren(note(`No plan: ${data.error}`, true));
    $('plan-summary').replaceChildren();
  } else {
    renderPlan(data.plan);
    renderPlanSummary(data.plan, data.categories);
  }
  document.body.dataset.planned = String(seq);
}

function note(text, bad = false) {
  const div = document.createElement('div');
  div.className = bad ? 'note bad' : 'note';
  div.textContent = text;
  return div;
}

const decisionLabel = (o) => o.decision === 'require-consent' ? `requires consent ${o.consent}` : o.decision === 'allow' ? 'allowed' : 'denied';
const citing = (part) => `citing ${part.clause} ${part.rule ? `(rule ${part.rule})` : '(no rule matched)'}` +
  (part.obligations.length > 0 ? `, obliges ${part.obligations.join(', ')}` : '');
const categoryTest = (part) => part.conditions.find((c) => c.kind === 'category');
// A part's conditions other than its category list, as the policy would write them.
const restText = (conditions) => conditions.filter((c) => c.kind !== 'category').map((c) => c.text).join(' and ');

function goToClause(id) {
  const clause = state.clauses.find((c) => c.id === id);
  if (!clause || !clause.lines) return;
  state.marks = { clause: clause.lines, rule: null };
  renderEditor();
  goToLine(clause.lines[0]);
}

function renderPlan(plan) {
  const box = $('plan');
  box.replaceChildren();
  box.dataset.complete = String(plan.complete);
  if (!plan.complete) {
    box.appendChild(note('The plan is incomplete: the unknown fields span more classes than a plan enumerates, ' +
      'so every request must be taken as denied. Leave fewer fields unknown.', true));
    return;
  }
  box.appendChild(note(`Unknown: ${plan.unknown.join(', ') || 'nothing'}. Each outcome is given exactly when one of its parts holds.`));
  for (const o of plan.outcomes) {
    const div = document.createElement('div');
    div.className = 'outcome';
    div.dataset.decision = o.decision;
    div.dataset.consent = o.consent || '';
    const effect = document.createElement('span');
    effect.className = `effect ${o.decision}`;
    effect.textContent = o.decision;
    div.append(effect, o.consent ? ` ${o.consent}` : '', o.parts.length === 0 ? ': never' : ' when');
    const list = document.createElement('ol');
    for (const part of o.parts) {
      const li = document.createElement('li');
      li.dataset.clause = part.clause;
      li.dataset.rule = part.rule;
      const categories = categoryTest(part);
      const rest = restText(part.conditions);
      if (categories) {
        const names = document.createElement('span');
        names.className = 'categories';
        names.textContent = `${categories.negated ? 'categories other than' : 'categories'}: ${categories.names.join(', ')}`;
        li.append(names, rest ? ' when ' : '');
      }
      if (rest || !categories) {
        const code = document.createElement('code');
        code.textContent = rest || part.condition;
        li.appendChild(code);
      }
      li.title = part.condition;
      const cite = document.createElement('div');
      cite.className = 'cite';
      cite.textContent = citing(part);
      li.appendChild(cite);
      li.onclick = () => goToClause(part.clause);
      list.appendChild(li);
    }
    div.appendChild(list);
    box.appendChild(div);
  }
}

// What a plan gives one category: one outcome whatever the other unknown fields hold, an
// outcome and the consent it asks for, or outcomes that depend on the other fields.
function summarize(plan, category) {
  const entries = [];
  for (const o of plan.outcomes) {
    for (const part of o.parts) {
      const test = categoryTest(part);
      const listed = !test || test.names.includes(category) !== test.negated;
      if (listed) entries.push({ outcome: o, part, rest: part.conditions.filter((c) => c.kind !== 'category') });
    }
  }
  const key = (o) => `${o.decision} ${o.consent || ''}`;
  const outcomes = [...new Map(entries.map((e) => [key(e.outcome), e.outcome])).values()];
  const cites = (list) => [...new Set(list.map((e) => citing(e.part)))];
  if (outcomes.length === 1) {
    return { kind: outcomes[0].decision, text: decisionLabel(outcomes[0]), details: cites(entries) };
  }
  // Allowed with a consent, asked for without it, and nothing else read.
  const asks = outcomes.find((o) => o.decision === 'require-consent');
  const onlyConsent = (e) => e.rest.every((c) => c.kind === 'consent' && c.names[0] === asks.consent);
  if (outcomes.length === 2 && asks && outcomes.some((o) => o.decision === 'allow') && entries.every(onlyConsent)) {
    return { kind: 'require-consent', text: decisionLabel(asks), details: [`allowed once ${asks.consent} is granted`, ...cites(entries)] };
  }
  return {
    kind: 'mixed',
    text: 'depends',
    details: entries.map((e) => `${decisionLabel(e.outcome)} when ${restText(e.rest) || 'always'} (${citing(e.part)})`),
  };
}

function renderPlanSummary(plan, categories) {
  const table = $('plan-summary');
  table.replaceChildren();
  const open = plan.unknown.includes('data') || plan.unknown.includes('data.category');
  if (!plan.complete || !open) {
    table.insertRow().insertCell().textContent = plan.complete
      ? 'Leave data (or data.category) unknown to see each category.'
      : 'No plan: it is incomplete.';
    return;
  }
  const head = table.insertRow();
  for (const title of ['data category', 'outcome', 'conditions and citations']) {
    const th = document.createElement('th');
    th.textContent = title;
    head.appendChild(th);
  }
  for (const category of categories) {
    const s = summarize(plan, category);
    const tr = table.insertRow();
    tr.dataset.category = category;
    const th = document.createElement('th');
    th.textContent = category;
    tr.appendChild(th);
    const outcome = tr.insertCell();
    outcome.className = s.kind;
    outcome.textContent = s.text;
    const details = tr.insertCell();
    for (const line of s.details) details.appendChild(note(line));
  }
}

function showTab(name) {
  state.tab = name;
  for (const tab of document.querySelectorAll('.tabs [data-tab]')) {
    const selected = tab.dataset.tab === name;
    tab.setAttribute('aria-selected', String(selected));
    $(`pane-${tab.dataset.tab}`).hidden = !selected;
  }
  return name === 'plan' ? planNow() : decideNow();
}

// --- wiring -------------------------------------------------------------------------

function debounce(f, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(f, ms);
  };
}

async function main() {
  // The static build brings the engine, the grammar and a first policy in engine.js; the
  // server's page asks the server for them.
  const bundled = window.ClauseStatic;
  if (bundled && window.ClauseEngine) state.engine = await window.ClauseEngine();
  const grammar = bundled ? bundled.grammar : await fetch('/playground/clause-policy.tmLanguage.json').then((r) => r.json());
  state.grammar = ClauseHighlight.compile(grammar);
  const styles = document.createElement('style');
  styles.textContent = ClauseHighlight.css();
  document.head.appendChild(styles);
  const shared = await readShareLink(location.hash);
  if (shared && shared.request) state.restore = shared.request;
  const source = shared ? { text: shared.policy } : bundled ? bundled.source : await fetch('/v1/playground/source').then((r) => r.json());
  $('source').value = source.text;
  $('share').addEventListener('click', share);
  renderEditor();
  const recompile = debounce(compileNow, 300);
  $('source').addEventListener('input', () => {
    renderEditor();
    recompile();
  });
  $('source').addEventListener('scroll', syncScroll);
  $('request').addEventListener('change', () => decideNow(true));
  $('plan-request').addEventListener('change', () => planNow());
  $('plan-extra').addEventListener('input', debounce(planNow, 500));
  $('plan-requester-id').addEventListener('input', debounce(planNow, 500));
  for (const tab of document.querySelectorAll('.tabs [data-tab]')) tab.addEventListener('click', () => showTab(tab.dataset.tab));
  await compileNow();
}

main().catch((e) => {
  setStatus(`failed: ${e.message}`);
  console.error(e);
});
