'use strict';
// Usage: node vscode_smoke.js EXTENSION_DIR CLAUSE
// The extension's wiring, without VS Code: extension.js is loaded with a small stub of the
// `vscode` module and a recording LanguageClient, and must start `CLAUSE lsp` (clause.path)
// for the two languages, restart it on command and when clause.path changes, and stop it;
// package.json must declare the same commands, the settings, and pinned dependencies.
// The real vscode-languageclient must export what extension.js uses. Then the command line
// the extension built is run over stdio with an LSP session: initialize, a broken policy's
// diagnostics, shutdown and exit.
const assert = require('assert');
const { spawn } = require('child_process');
const Module = require('module');
const path = require('path');

const [extensionArg, clause] = process.argv.slice(2);
const extensionDir = extensionArg && path.resolve(extensionArg);
if (!extensionArg || !clause) {
  console.error('usage: node vscode_smoke.js EXTENSION_DIR CLAUSE');
  process.exit(64);
}

// --- the stub of `vscode`: only what extension.js calls, and recorded ---
const settings = { path: clause };
const commands = new Map();
const configListeners = [];
const logged = [];
const vscode = {
  LanguageStatusSeverity: { Information: 0, Warning: 1, Error: 2 },
  window: {
    createOutputChannel: (name, options) => ({
      name,
      options,
      error: (line) => logged.push(`error: ${line}`),
      warn: (line) => logged.push(`warn: ${line}`),
      show() {},
      dispose() {},
    }),
  },
  languages: {
    createLanguageStatusItem: (id, selector) => ({ id, selector, dispose() {} }),
  },
  commands: {
    registerCommand: (name, run) => {
      commands.set(name, run);
      return { dispose: () => commands.delete(name) };
    },
  },
  workspace: {
    getConfiguration: (section) => ({
      get: (key, fallback) => (section === 'clause' && key in settings ? settings[key] : fallback),
    }),
    onDidChangeConfiguration: (listener) => {
      configListeners.push(listener);
      return { dispose() {} };
    },
  },
};

// The real library loads against a stub that also has the classes it extends.
function realClientLibrary() {
  const stub = Object.assign({}, vscode);
  for (const name of ['CompletionItem', 'CodeLens', 'DocumentLink', 'CodeAction', 'Diagnostic',
    'CallHierarchyItem', 'TypeHierarchyItem', 'SymbolInformation', 'InlayHint',
    'CancellationError']) {
    stub[name] = class {};
  }
  const file = require.resolve('vscode-languageclient/node', { paths: [extensionDir] });
  const restore = intercept({ vscode: stub });
  try {
    return require(file);
  } finally {
    restore();
  }
}

// require(NAME) gives replacements[NAME] (throws it, if an Error) until the returned
// function is called.
function intercept(replacements) {
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (Object.prototype.hasOwnProperty.call(replacements, request)) {
      if (replacements[request] instanceof Error) throw replacements[request];
      return replacements[request];
    }
    return load.call(this, request, ...rest);
  };
  return () => {
    Module._load = load;
  };
}

const real = realClientLibrary();
const exported = 'vscode-languageclient/node exports';
assert.strictEqual(typeof real.LanguageClient, 'function', `${exported} LanguageClient`);
for (const state of ['Running', 'Starting', 'Stopped']) {
  assert.strictEqual(typeof real.State[state], 'number', `${exported} State.${state}`);
}

// --- a recording LanguageClient ---
const clients = [];
let failNextStart = false;
class RecordingClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions });
    Object.assign(this, { started: false, disposed: false });
    this.stateListeners = [];
    clients.push(this);
  }
  onDidChangeState(listener) {
    this.stateListeners.push(listener);
    return { dispose() {} };
  }
  async start() {
    for (const listener of this.stateListeners) listener({ newState: real.State.Starting });
    if (failNextStart) {
      failNextStart = false;
      throw new Error('spawn nowhere/clause ENOENT');
    }
    this.started = true;
    for (const listener of this.stateListeners) listener({ newState: real.State.Running });
  }
  async dispose() {
    this.disposed = true;
    for (const listener of this.stateListeners) listener({ newState: real.State.Stopped });
  }
}

// Kept in place: extension.js requires the client library when it activates.
const fakes = {
  vscode,
  'vscode-languageclient/node': { LanguageClient: RecordingClient, State: real.State },
};
intercept(fakes);
const manifest = require(path.join(extensionDir, 'package.json'));
const extension = require(path.join(extensionDir, manifest.main));

const expectedSelector = [
  { scheme: 'file', language: 'clause-policy' },
  { scheme: 'untitled', language: 'clause-policy' },
  { scheme: 'file', language: 'clause-test' },
  { scheme: 'untitled', language: 'clause-test' },
];

// package.json declares what extension.js provides, and pins its dependencies.
function checkManifest() {
  assert.deepStrictEqual(manifest.activationEvents.slice().sort(),
    ['onLanguage:clause-policy', 'onLanguage:clause-test']);
  const properties = manifest.contributes.configuration.properties;
  assert.strictEqual(properties['clause.path'].default, 'clause');
  assert.ok(properties['clause.trace.server'], 'the setting clause.trace.server');
  const contributed = manifest.contributes.commands.map((command) => command.command).sort();
  assert.deepStrictEqual(contributed, [...commands.keys()].sort(),
    'the commands of package.json are those that activate() registers');
  for (const [name, version] of Object.entries({ ...manifest.dependencies,
    ...manifest.devDependencies })) {
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is pinned to one version`);
  }
}

async function checkWiring() {
  const context = { subscriptions: [], extensionPath: extensionDir };
  await extension.activate(context);
  assert.strictEqual(clients.length, 1, 'activate() creates one LanguageClient');
  const first = clients[0];
  assert.strictEqual(first.id, 'clause', 'the client id is clause, so clause.trace.server applies');
  assert.deepStrictEqual(first.serverOptions, { command: clause, args: ['lsp'] });
  assert.deepStrictEqual(first.clientOptions.documentSelector, expectedSelector);
  assert.strictEqual(first.clientOptions.outputChannel.name, 'Clause');
  assert.deepStrictEqual(first.clientOptions.outputChannel.options, { log: true });
  assert.ok(first.started, 'activate() starts the client');
  for (const name of ['clause.restartServer', 'clause.showOutput']) {
    assert.ok(commands.has(name), `activate() registers ${name}`);
  }
  checkManifest();
  const status = context.subscriptions.find((item) => item.id === 'clause.server');
  assert.ok(status, 'a language status item');
  assert.deepStrictEqual(status.selector, expectedSelector);
  assert.strictEqual(status.text, `${clause} lsp`);

  // The restart command stops the client and starts a new one.
  await commands.get('clause.restartServer')();
  assert.strictEqual(clients.length, 2);
  assert.ok(first.disposed && clients[1].started, 'restart stops the client and starts another');

  // A change of clause.path restarts with the new command; a failed start is shown.
  settings.path = 'nowhere/clause';
  failNextStart = true;
  const unrelated = { affectsConfiguration: (key) => key === 'editor.tabSize' };
  for (const listener of configListeners) listener(unrelated);
  assert.strictEqual(clients.length, 2, 'other settings do not restart the server');
  const clausePath = { affectsConfiguration: (key) => key === 'clause.path' };
  for (const listener of configListeners) listener(clausePath);
  await extension.deactivate(); // queued after the restart
  assert.strictEqual(clients.length, 3);
  assert.deepStrictEqual(clients[2].serverOptions, { command: 'nowhere/clause', args: ['lsp'] });
  assert.ok(clients[1].disposed && clients[2].disposed, 'deactivate() stops the client');
  assert.ok(
    logged.some((line) => line.startsWith('error: could not start "nowhere/clause lsp"')
      && line.includes('clause.path')),
    `a failed start is logged with the setting to change: ${JSON.stringify(logged)}`,
  );
  assert.strictEqual(status.severity, vscode.LanguageStatusSeverity.Error);
  return first.serverOptions;
}

// Without the client library (a linked folder without `npm ci`) the output says what to do.
async function checkMissingLibrary() {
  const main = require.resolve(path.join(extensionDir, manifest.main));
  delete require.cache[main];
  const fresh = require(main);
  fakes['vscode-languageclient/node'] = new Error('Cannot find module vscode-languageclient/node');
  const context = { subscriptions: [], extensionPath: extensionDir };
  const before = clients.length;
  await fresh.activate(context);
  assert.strictEqual(clients.length, before, 'no client without the library');
  assert.ok(logged.some((line) => line.startsWith('error: vscode-languageclient is missing')
    && line.includes('npm ci')), `the missing library is logged: ${JSON.stringify(logged)}`);
  const status = context.subscriptions.find((item) => item.id === 'clause.server');
  assert.strictEqual(status.severity, vscode.LanguageStatusSeverity.Error);
  await fresh.deactivate();
}

// --- the server, started as the extension starts it ---
function frame(message) {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

function runServer({ command, args }) {
  return new Promise((resolve, reject) => {
    const server = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const timer = setTimeout(() => {
      server.kill();
      reject(new Error(`${command} ${args.join(' ')}: no answer in 20 s`));
    }, 20000);
    let buffer = Buffer.alloc(0);
    const messages = [];
    server.stdout.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) break;
        const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString())[1]);
        if (buffer.length < end + 4 + length) break;
        messages.push(JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString('utf8')));
        buffer = buffer.subarray(end + 4 + length);
      }
    });
    // A server that exits early closes its input; its exit status tells what happened.
    server.stdin.on('error', () => {});
    server.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, messages });
    });
    const uri = 'file:///tmp/smoke/broken.policy';
    server.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { processId: process.pid, rootUri: null, capabilities: {} } }));
    server.stdin.write(frame({ jsonrpc: '2.0', method: 'initialized', params: {} }));
    server.stdin.write(frame({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: {
      textDocument: { uri, languageId: 'clause-policy', version: 1,
        text: 'policy "p" version "1"\nallow use of nothing_declared by anyone\n' } } }));
    server.stdin.write(frame({ jsonrpc: '2.0', id: 2, method: 'shutdown' }));
    server.stdin.end(frame({ jsonrpc: '2.0', method: 'exit' }));
  });
}

async function checkServer(serverOptions) {
  const { code, messages } = await runServer(serverOptions);
  assert.strictEqual(code, 0, 'the server exits 0 after shutdown and exit');
  const init = messages.find((m) => m.id === 1);
  assert.ok(init && init.result, `initialize is answered: ${JSON.stringify(messages)}`);
  const caps = init.result.capabilities;
  for (const provider of ['hoverProvider', 'definitionProvider', 'documentFormattingProvider']) {
    assert.strictEqual(caps[provider], true, provider);
  }
  assert.ok(caps.completionProvider, 'completionProvider');
  assert.strictEqual(init.result.serverInfo.name, 'clause');
  const published = messages.find((m) => m.method === 'textDocument/publishDiagnostics');
  assert.ok(published && published.params.diagnostics.length > 0,
    `the broken policy gets diagnostics: ${JSON.stringify(messages)}`);
  assert.ok(published.params.diagnostics.every((d) => d.source === 'clause'));
  assert.ok(messages.some((m) => m.id === 2 && 'result' in m), 'shutdown is answered');
}

checkWiring()
  .then(async (serverOptions) => {
    await checkMissingLibrary();
    await checkServer(serverOptions);
  })
  .then(() => console.log('vscode extension: wiring and server session ok'))
  .catch((error) => {
    console.error(`FAILED: ${error.stack || error}`);
    process.exit(1);
  });
