'use strict';
// Starts the clause language server (`clause lsp`, the executable of the setting
// clause.path) for policy and test files, over stdin and stdout. The grammars work without
// it: when the server cannot start, highlighting stays and the Clause output says why.
const vscode = require('vscode');

const LANGUAGES = ['clause-policy', 'clause-test'];
// Files on disk and new unsaved files; not the copies that diff views and other
// schemes show, which would report every problem twice.
const SELECTOR = LANGUAGES.flatMap((language) => [
  { scheme: 'file', language },
  { scheme: 'untitled', language },
]);

let output; // the "Clause" log channel, kept across restarts
let status; // the language status item of policy and test files
let client; // the LanguageClient while one is started
let library; // vscode-languageclient/node, once loaded
let queue = Promise.resolve(); // start, stop and restart run one after another

function serverCommand() {
  const path = vscode.workspace.getConfiguration('clause').get('path', 'clause');
  return typeof path === 'string' && path !== '' ? path : 'clause';
}

function showStatus(text, severity, busy) {
  status.text = text;
  status.severity = severity;
  status.busy = busy;
}

// The client library is an npm dependency: a folder linked into the extensions without
// `npm ci` lacks it, and then only the server is missing.
function loadClient(extensionPath) {
  try {
    library = library || require('vscode-languageclient/node');
  } catch (error) {
    output.error(
      `vscode-languageclient is missing (${error.message}): run \`npm ci\` in ${extensionPath}, ` +
        'then run "Clause: Restart language server". Highlighting works without it.',
    );
  }
  return library;
}

async function start(extensionPath) {
  const { Information, Error: Failed } = vscode.LanguageStatusSeverity;
  if (!loadClient(extensionPath)) {
    showStatus('clause lsp: vscode-languageclient missing', Failed, false);
    return;
  }
  const command = serverCommand();
  const { LanguageClient, State } = library;
  const started = new LanguageClient(
    'clause', // the id under which the client reads clause.trace.server
    'Clause language server',
    { command, args: ['lsp'] },
    { documentSelector: SELECTOR, outputChannel: output },
  );
  client = started;
  started.onDidChangeState(({ newState }) => {
    if (client !== started) return; // a stopped client's last word
    if (newState === State.Running) showStatus(`${command} lsp`, Information, false);
    else if (newState === State.Starting) showStatus(`${command} lsp: starting`, Information, true);
    else showStatus(`${command} lsp: stopped`, Failed, false);
  });
  showStatus(`${command} lsp: starting`, Information, true);
  try {
    await started.start();
  } catch (error) {
    output.error(
      `could not start "${command} lsp": ${error && error.message ? error.message : error}. ` +
        'Set clause.path to the clause executable (a full path when clause is not on PATH), ' +
        'then run "Clause: Restart language server".',
    );
    showStatus(`${command} lsp: not started`, Failed, false);
  }
}

async function stop() {
  const stopping = client;
  client = undefined;
  if (!stopping) return;
  try {
    await stopping.dispose();
  } catch (error) {
    output.warn(`stopping the server: ${error && error.message ? error.message : error}`);
  }
}

function enqueue(step) {
  queue = queue.then(step, step);
  return queue;
}

function activate(context) {
  output = vscode.window.createOutputChannel('Clause', { log: true });
  status = vscode.languages.createLanguageStatusItem('clause.server', SELECTOR);
  status.name = 'Clause language server';
  status.command = { title: 'Show output', command: 'clause.showOutput' };
  context.subscriptions.push(output, status);
  context.subscriptions.push(
    vscode.commands.registerCommand('clause.showOutput', () => output.show(true)),
  );
  const begin = () => start(context.extensionPath);
  const restart = () => enqueue(() => stop().then(begin));
  context.subscriptions.push(
    vscode.commands.registerCommand('clause.restartServer', restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('clause.path')) restart();
    }),
  );
  return enqueue(begin);
}

function deactivate() {
  return enqueue(stop);
}

module.exports = { activate, deactivate };
