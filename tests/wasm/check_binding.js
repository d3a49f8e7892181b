// The WebAssembly engine's binding (tools/wasm/binding.cpp) in Node.js: each route answers
// as the server's does, and input that is not valid gets an error, never a crash. About 2 s.
//
//   node check_binding.js build-wasm/bin/clause_wasm.js POLICY
// Exits 77 (skipped) when the wasm preset was not built.
'use strict';
const fs = require('fs');

const [modulePath, policyPath] = process.argv.slice(2);
if (!fs.existsSync(modulePath)) {
  console.log(`wasm.binding: skipped, no ${modulePath}: build it with cmake --preset wasm && cmake --build --preset wasm`);
  process.exit(77);
}
const timer = setTimeout(() => {
  console.error('FAIL: timed out after 60 s');
  process.exit(1);
}, 60000);

function expect(what, answer, status, text) {
  const json = JSON.stringify(answer);
  if (answer.status !== status || !json.includes(text)) {
    console.error(`FAIL: ${what}: expected ${status} with ${text}, got ${json.slice(0, 400)}`);
    process.exit(1);
  }
}

require(require('path').resolve(modulePath))().then((engine) => {
  const call = (route, text) => {
    const size = engine.lengthBytesUTF8(text) + 1;
    const at = engine._malloc(size);
    engine.stringToUTF8(text, at, size);
    const out = engine.ccall('clause_answer', 'string', ['string', 'number'], [route, at]);
    engine._free(at);
    return JSON.parse(out);
  };
  const policy = fs.readFileSync(policyPath, 'utf8');
  const request = {
    data: { category: 'contact_info' }, requester: { kind: 'counterparty' }, action: 'access',
    context: { facts: ['in_transaction'], consent: [] },
  };
  expect('compile', call('compile', JSON.stringify({ policy })), 200, '"ok":true');
  const decided = call('decide', JSON.stringify({ policy, request }));
  expect('decide', decided, 200, '"decision":"allow"');
  if (decided.data.clause.id !== '6.b' || decided.data.rule.rule !== '6.b/1' || decided.data.trace.length < 10 ||
      decided.data.matrix.action !== 'access') {
    console.error(`FAIL: the decision lacks its clause, rule, trace or matrix: ${JSON.stringify(decided).slice(0, 400)}`);
    process.exit(1);
  }
  expect('plan', call('plan', JSON.stringify({ policy, request: { requester: { kind: 'counterparty' }, action: 'access', unknown: ['data'] } })),
    200, '"complete":true');
  // A parse error is reported by an exception inside the parser: it must be caught there.
  expect('a broken policy', call('compile', JSON.stringify({ policy: 'policy "x" version 1\nallow read' })), 200, '"severity":"error"');
  expect('a request naming what the policy lacks', call('decide', JSON.stringify({ policy, request: { ...request, action: 'fly' } })),
    400, 'unknown action');
  expect('not JSON', call('decide', 'not json'), 400, 'not a JSON object');
  expect('no policy', call('compile', '{"policy": 3}'), 400, '`policy` must be');
  expect('no request', call('decide', JSON.stringify({ policy })), 400, '`request` must be');
  expect('nested too deep', call('decide', `{"policy": "", "request": ${'['.repeat(100000)}${']'.repeat(100000)}}`), 400, 'nested more than');
  expect('an unknown route', call('nothing', JSON.stringify({ policy })), 404, 'no playground route');
  expect('bytes that are not UTF-8 in a policy', call('compile', JSON.stringify({ policy: '\udcff\ud800 allow' })), 400, 'not a JSON object');
  expect('a policy of control characters', call('compile', JSON.stringify({ policy: '\u0000\u0001' })), 200, '"ok":false');
  // Still answering after all that.
  expect('decide again', call('decide', JSON.stringify({ policy, request })), 200, '"decision":"allow"');
  console.log('wasm.binding: ok');
  clearTimeout(timer);
}).catch((e) => {
  console.error(`FAIL: ${e.stack || e}`);
  process.exit(1);
});
