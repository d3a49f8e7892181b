// `clause serve --playground` in headless Chromium, driven over the DevTools protocol on
// a pipe (fd 3 and 4, NUL-delimited JSON): load the page, decide, change the request,
// plan a partial request in the Plan tab, break the policy, share a link and open it, and
// check the page reports without a console error. The screenshot
// it takes is checked to be a PNG of the window's size with more than one colour.
//
//   node playground_browser.js CLAUSE POLICY SCREENSHOT.png
//   node playground_browser.js --static FOLDER SCREENSHOT.png
//
// With --static, the static playground of the WebAssembly build (FOLDER/index.html, whose
// first policy is policies/privacy.policy) is opened from file:// with no server at all,
// and its size and speed are reported.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const [clause, policy, screenshot] = process.argv.slice(2);
const staticFolder = clause === '--static' ? path.resolve(policy) : null;
const name = staticFolder ? 'playground.static-browser' : 'serve.playground-browser';
if (staticFolder && !fs.existsSync(path.join(staticFolder, 'playground', 'engine.js'))) {
  console.log(`${name}: skipped, no ${staticFolder}: build it with cmake --preset wasm && cmake --build --preset wasm`);
  process.exit(77);
}
const WIDTH = 1280;
const HEIGHT = 900;
const children = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'clause-chromium-'));

function fail(message) {
  console.error(`FAIL: ${message}`);
  cleanup().then(() => process.exit(1));
}
// Stops the server and the browser (each in a process group of its own, so that the
// browser's helpers go too), waiting for them, then removes the profile.
async function cleanup() {
  for (const child of children) {
    child.removeAllListeners('exit');
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
    }
  }
  await sleep(100);
  try {
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  } catch (e) {
    console.error(`note: ${profile} not removed: ${e.message}`);
  }
}
const timer = setTimeout(() => fail('timed out after 90 s'), 90000);

function startServer() {
  const server = spawn(clause, ['serve', '--policy', policy, '--port', '0', '--playground'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  children.push(server);
  return new Promise((resolve) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /playground at (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => fail(`clause serve exited (${code}): ${out}`));
  });
}

// A DevTools protocol client on the browser's pipe.
function startBrowser() {
  const browser = spawn('chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--hide-scrollbars', `--window-size=${WIDTH},${HEIGHT}`, `--user-data-dir=${profile}`,
    '--remote-debugging-pipe', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
  children.push(browser);
  browser.on('error', (e) => fail(`cannot run chromium (tools/run test installs it): ${e.message}`));
  let stderr = '';
  browser.stderr.on('data', (chunk) => { stderr += chunk; });
  browser.on('exit', (code) => fail(`chromium exited (${code}): ${stderr.slice(-2000)}`));
  const pending = new Map();
  const listeners = [];
  let nextId = 1;
  let buffer = '';
  browser.stdio[4].on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let end;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      if (message.id && pending.has(message.id)) {
        const { resolve, reject, method } = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result);
      } else if (message.method) {
        for (const listen of listeners) listen(message);
      }
    }
  });
  const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject, method });
    browser.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  });
  return { send, on: (f) => listeners.push(f) };
}


// The PNG's size and how many colours it has (8-bit RGB or RGBA, not interlaced).
function inspectPng(png) {
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  if (!png.subarray(0, 8).equals(signature)) throw new Error('not a PNG signature');
  let pos = 8;
  let width = 0, height = 0, channels = 0;
  const idat = [];
  while (pos < png.length) {
    const length = png.readUInt32BE(pos);
    const type = png.toString('ascii', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('not 8-bit, non-interlaced');
      channels = { 2: 3, 6: 4 }[data[9]];
      if (!channels) throw new Error(`colour type ${data[9]} not read here`);
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    pos += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const row = Buffer.alloc(stride);
  const colours = new Set();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      row[x] = v & 0xff;
    }
    for (let x = 0; x < stride && colours.size < 1000; x += channels) {
      colours.add(row.readUIntBE(x, 3));
    }
    row.copy(prev);
  }
  return { width, height, colours: colours.size };
}

// Mends the policy the last step broke, marks it with a comment, asks for a decision,
// shares a link, and opens the link in a fresh page: the text, the request and the
// decision come back.
async function checkShareLink(send, evaluate, waitFor, ready) {
  const before = await evaluate('document.body.dataset.decided || ""');
  await evaluate(`(() => {
    const ta = document.getElementById('source');
    ta.value = ta.value.replace('data contact_inf0 ', 'data contact_info ') + '\\n# shared from the playground\\n';
    ta.dispatchEvent(new Event('input', { bubbles: true }));
  })()`);
  await waitFor('the mended policy', `document.body.dataset.state === 'ready' && document.body.dataset.decided !== ${JSON.stringify(before)}`);
  const asked = await evaluate('document.body.dataset.decided');
  await evaluate(`(() => {
    for (const box of document.querySelectorAll('#request input[type=checkbox]')) box.checked = box.value === 'in_transaction';
    document.getElementById('action').dispatchEvent(new Event('change', { bubbles: true }));
  })()`);
  await waitFor('the decision to share', `document.body.dataset.decided !== ${JSON.stringify(asked)}`);
  const shared = await evaluate(`({ effect: document.getElementById('decision').dataset.effect,
    clause: document.getElementById('decision').dataset.clause, text: document.getElementById('source').value })`);
  if (shared.effect !== 'allow' || shared.clause !== '6.b') bad(`before sharing: ${JSON.stringify(shared.effect)} ${shared.clause}`);
  await evaluate(`document.getElementById('share').click()`);
  const link = await waitFor('the share link', `document.getElementById('share-link').value`);
  if (!/#p=[\w-]+&r=[\w-]+$/.test(link)) bad(`the share link is not as documented: ${link}`);
  await send('Page.navigate', { url: 'about:blank' });
  await waitFor('the blank page', `location.href === 'about:blank'`);
  await send('Page.navigate', { url: link });
  await waitFor('the shared page', ready);
  const restored = await evaluate(`({ effect: document.getElementById('decision').dataset.effect,
    clause: document.getElementById('decision').dataset.clause, text: document.getElementById('source').value,
    data: document.getElementById('data').value, requester: document.getElementById('requester').value,
    facts: [...document.querySelectorAll('input[name=fact]:checked')].map((i) => i.value) })`);
  if (restored.text !== shared.text) bad('the shared link did not restore the policy text');
  if (restored.effect !== 'allow' || restored.clause !== '6.b' || restored.data !== 'contact_info' ||
      restored.requester !== 'counterparty' || restored.facts.join() !== 'in_transaction') {
    bad(`the shared link did not reproduce the decision: ${JSON.stringify({ ...restored, text: undefined })}`);
  }
}

// Fails the check in progress; main's catch reports it.
function bad(message) {
  throw new Error(message);
}

// The static folder's bytes, as they are and each file gzip'd.
function folderSize(folder, total = { bytes: 0, gzipped: 0 }) {
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const file = path.join(folder, entry.name);
    if (entry.isDirectory()) folderSize(file, total);
    if (!entry.isFile()) continue;
    const data = fs.readFileSync(file);
    total.bytes += data.length;
    total.gzipped += zlib.gzipSync(data, { level: 9 }).length;
  }
  return total;
}

async function main() {
  const started = Date.now();
  const url = staticFolder ? `file://${staticFolder}/index.html` : await startServer();
  const cdp = startBrowser();
  const problems = [];
  cdp.on((m) => {
    if (m.method === 'Runtime.exceptionThrown') {
      problems.push(`exception: ${m.params.exceptionDetails.text} ${JSON.stringify(m.params.exceptionDetails.exception || {})}`);
    } else if (m.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(m.params.type)) {
      problems.push(`console.${m.params.type}: ${m.params.args.map((a) => a.value ?? a.description).join(' ')}`);
    } else if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error') {
      problems.push(`log: ${m.params.entry.text} ${m.params.entry.url || ''}`);
    }
  });
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const send = (method, params) => cdp.send(method, params, sessionId);
  await send('Runtime.enable');
  await send('Log.enable');
  await send('Page.enable');
  await send('Emulation.setDeviceMetricsOverride', { width: WIDTH, height: HEIGHT, deviceScaleFactor: 1, mobile: false });
  await send('Page.navigate', { url });

  const evaluate = async (expression) => {
    const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  };
  const waitFor = async (what, expression, ms = 15000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
      // While the page loads, the expression may throw: try again.
      const value = await evaluate(expression).catch(() => false);
      if (value) return value;
    }
    throw new Error(`timed out waiting for ${what}; problems: ${problems.join('; ')}`);
  };
  const decided = () => evaluate('document.body.dataset.decided || ""');
  // Ticks or unticks a checkbox as a click would, telling the form.
  const tick = (selector, checked) => evaluate(`(() => {
    const box = document.querySelector(${JSON.stringify(selector)});
    box.checked = ${checked};
    box.dispatchEvent(new Event('change', { bubbles: true }));
  })()`);

  const ready = `document.body.dataset.state === 'ready' && !!document.body.dataset.decided &&
    [...document.getElementById('action').options].some((o) => o.value === 'access')`;
  await waitFor('the vocabulary', ready);
  const loaded = Date.now() - started;
  if (staticFolder && !(await evaluate('!!state.engine'))) bad('the static page did not load its engine');
  // The request: a counterparty accesses contact information during a transaction.
  let before = await decided();
  await evaluate(`(() => {
    const set = (id, v) => { document.getElementById(id).value = v; };
    set('data', 'contact_info'); set('requester', 'counterparty'); set('action', 'access'); set('purpose', '');
    for (const box of document.querySelectorAll('#request input[type=checkbox]')) box.checked = box.value === 'in_transaction';
    document.getElementById('action').dispatchEvent(new Event('change', { bubbles: true }));
  })()`);
  await waitFor('a decision', `(document.body.dataset.decided || '') !== ${JSON.stringify(before)}`);
  const first = await evaluate(`(() => {
    const d = document.getElementById('decision');
    return { effect: d.dataset.effect, clause: d.dataset.clause, rule: d.dataset.rule, text: d.textContent,
      clauseLines: document.querySelectorAll('#highlight .line.cited-clause').length,
      ruleLines: document.querySelectorAll('#highlight .line.cited-rule').length,
      clauseText: [...document.querySelectorAll('#highlight .line.cited-clause')].map((l) => l.textContent).join('\\n'),
      decidedSteps: document.querySelectorAll('#trace li.decided').length,
      steps: document.querySelectorAll('#trace li').length,
      cells: document.querySelectorAll('#matrix td').length,
      current: (document.querySelector('#matrix td.current') || {}).textContent };
  })()`);
  if (first.effect !== 'allow' || first.clause !== '6.b') bad(`expected allow citing 6.b, got ${JSON.stringify(first)}`);
  if (!first.text.includes('6.b/1')) bad(`the decision does not name its rule: ${first.text}`);
  if (!first.clauseText.includes('clause "6.b"')) bad(`the clause marked is not 6.b: ${first.clauseText}`);
  if (first.ruleLines < 1) bad('the deciding rule is not marked in the editor');
  if (first.decidedSteps !== 1 || first.steps < 10) bad(`the explanation is wrong: ${JSON.stringify(first)}`);
  if (first.cells < 100 || !first.current.includes('6.b')) bad(`the matrix is wrong: ${JSON.stringify(first)}`);

  // The screenshot, with the decision on screen.
  const shot = Buffer.from((await send('Page.captureScreenshot', { format: 'png' })).data, 'base64');
  fs.writeFileSync(screenshot, shot);
  const png = inspectPng(shot);
  if (png.width !== WIDTH || png.height !== HEIGHT) bad(`the screenshot is ${png.width}x${png.height}`);
  if (png.colours < 16) bad(`the screenshot looks blank: ${png.colours} colours`);

  // Untick the fact: the decision changes.
  before = await decided();
  await tick('input[name=fact][value=in_transaction]', false);
  await waitFor('the new decision', `(document.body.dataset.decided || '') !== ${JSON.stringify(before)}`);
  const second = await evaluate(`({ effect: document.getElementById('decision').dataset.effect,
    clause: document.getElementById('decision').dataset.clause })`);
  if (second.effect === 'allow' && second.clause === '6.b') bad('the decision did not change without the fact');

  // The Plan tab: what may a business partner access for partner marketing, with the
  // category and the consents unknown?
  await evaluate(`document.getElementById('tab-plan').click()`);
  await waitFor('the first plan', `!!document.body.dataset.planned && !document.getElementById('pane-plan').hidden`);
  let planned = await evaluate('document.body.dataset.planned');
  await evaluate(`(() => {
    const set = (id, v) => { document.getElementById(id).value = v; };
    set('plan-requester', 'business_partner'); set('plan-action', 'access'); set('plan-purpose', 'partner_marketing');
    for (const box of document.querySelectorAll('#plan-request input[type=checkbox]')) {
      box.checked = ['data', 'context.consent'].includes(box.value);
    }
    document.getElementById('plan-action').dispatchEvent(new Event('change', { bubbles: true }));
  })()`);
  await waitFor('the plan', `(document.body.dataset.planned || '') !== ${JSON.stringify(planned)} &&
    !!document.querySelector('#plan-summary tr[data-category=search_keywords]')`);
  const plan = await evaluate(`(() => {
    const row = (c) => {
      const tr = document.querySelector('#plan-summary tr[data-category=' + c + ']');
      return { outcome: tr.cells[1].textContent, kind: tr.cells[1].className, details: tr.cells[2].textContent };
    };
    const outcome = (d) => {
      const div = document.querySelector('#plan .outcome[data-decision="' + d + '"]');
      return div ? div.textContent : '';
    };
    return { keywords: row('search_keywords'), personal: row('personal_info'), excluded: row('excluded_info'),
      allow: outcome('allow'), consent: outcome('require-consent'), sent: document.getElementById('plan-sent').textContent,
      decideHidden: document.getElementById('pane-decide').hidden };
  })()`);
  if (plan.keywords.outcome !== 'allowed' || plan.keywords.kind !== 'allow' || !plan.keywords.details.includes('citing 1.x.a (rule 1.x.a/1)')) {
    bad(`search_keywords is not allowed citing 1.x.a: ${JSON.stringify(plan)}`);
  }
  if (plan.personal.outcome !== 'requires consent partner_marketing' || plan.personal.kind !== 'require-consent') {
    bad(`personal_info does not require consent partner_marketing: ${JSON.stringify(plan)}`);
  }
  if (plan.excluded.outcome !== 'denied') bad(`excluded_info is not denied: ${JSON.stringify(plan)}`);
  if (!plan.allow.includes('search_keywords') || !plan.allow.includes('citing 1.x.a (rule 1.x.a/1)') ||
      !plan.consent.includes('partner_marketing') || !plan.consent.includes('not consent partner_marketing')) {
    bad(`the outcomes are wrong: ${JSON.stringify(plan)}`);
  }
  if (!plan.sent.includes('"unknown": ["data","context.consent"]') || !plan.decideHidden) bad(`the plan tab is wrong: ${JSON.stringify(plan)}`);
  // With the purpose unknown too, a personal category's outcome depends on it.
  planned = await evaluate('document.body.dataset.planned');
  await tick('input[name=plan-unknown][value="context.purpose"]', true);
  await waitFor('the plan with the purpose unknown', `(document.body.dataset.planned || '') !== ${JSON.stringify(planned)}`);
  const depends = await evaluate(`(() => {
    const tr = document.querySelector('#plan-summary tr[data-category=personal_info]');
    return { outcome: tr.cells[1].textContent, details: tr.cells[2].textContent,
      purposeOff: document.getElementById('plan-purpose').disabled };
  })()`);
  if (depends.outcome !== 'depends' || !depends.details.includes('purpose is partner_marketing') || !depends.purposeOff) {
    bad(`personal_info does not depend on the purpose: ${JSON.stringify(depends)}`);
  }
  await evaluate(`document.querySelector('input[name=plan-unknown][value="context.purpose"]').checked = false`);

  // A mistake in the partial request: the error, with where it stands in the text sent.
  planned = await evaluate('document.body.dataset.planned');
  await evaluate(`(() => {
    const extra = document.getElementById('plan-extra');
    extra.value = '{"context": {"consent": ["partner_marketing"]}}';
    extra.dispatchEvent(new Event('change', { bubbles: true }));
  })()`);
  await waitFor('the refusal', `(document.body.dataset.planned || '') !== ${JSON.stringify(planned)}`);
  const refused = await evaluate(`document.getElementById('plan').textContent + ' | ' + document.getElementById('plan-sent').textContent`);
  if (!refused.includes('context.consent: given, and also listed as unknown (at ')) bad(`the refusal is wrong: ${refused}`);
  // The browser logs the 400 it was given; that one was asked for.
  const expected = problems.findIndex((p) => p.includes('status of 400') && p.includes('/v1/playground/plan'));
  if (expected >= 0) problems.splice(expected, 1);
  await evaluate(`document.getElementById('tab-decide').click()`);

  // Break the policy: a diagnostic appears inline, with its help.
  await evaluate(`(() => {
    const ta = document.getElementById('source');
    ta.value = ta.value.replace('data contact_info ', 'data contact_inf0 ');
    ta.dispatchEvent(new Event('input', { bubbles: true }));
  })()`);
  await waitFor('a diagnostic', `document.body.dataset.state === 'errors' &&
    document.querySelectorAll('#diagnostics li.error').length > 0 &&
    document.querySelectorAll('#highlight .line.diag-error').length > 0`);
  const diagnostic = await evaluate(`document.querySelector('#diagnostics li.error').textContent`);
  if (!/error\[E\d+\]/.test(diagnostic) || !diagnostic.includes('help:')) bad(`the diagnostic lacks its code or help: ${diagnostic}`);

  await checkShareLink(send, evaluate, waitFor, ready);
  let speed = '';
  if (staticFolder) {
    // What one decision costs in the page: compiling the text, deciding with its trace,
    // and the action's matrix, as each change of the form asks.
    const ms = await evaluate(`(async () => {
      const body = { policy: document.getElementById('source').value, request: currentRequest() };
      const start = performance.now();
      for (let i = 0; i < 20; i++) await post('/v1/playground/decide', body);
      return (performance.now() - start) / 20;
    })()`);
    const size = folderSize(staticFolder);
    speed = `; ${size.bytes} bytes, ${size.gzipped} gzip'd; ready ${loaded} ms after the browser started; ` +
      `a decision (compile, decide, trace, matrix) ${ms.toFixed(1)} ms`;
  }
  await sleep(200); // late console messages
  if (problems.length) bad(`the page reported problems:\n${problems.join('\n')}`);
  console.log(`${name}: ok (screenshot ${screenshot}, ${png.colours}+ colours${speed})`);
  clearTimeout(timer);
  await cleanup();
}

main().catch((e) => fail(e.message));
