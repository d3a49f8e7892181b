// Share links: the policy and the request in the URL's fragment, which no server sees.
// `#p=` is the policy deflated (CompressionStream) and `#t=` the policy as it is, each in
// base64url; `r=` is the request's JSON in base64url. A link restores both on load.
// Also the call into the WebAssembly engine, when the static build brought one.
'use strict';

// The WebAssembly engine's answer for a route: the server's answer, computed in the page.
// The body goes through the engine's heap (its stack is too small for a large policy).
function engineAnswer(engine, route, body) {
  const text = JSON.stringify(body);
  const size = engine.lengthBytesUTF8(text) + 1;
  const at = engine._malloc(size);
  if (!at) return { status: 413, data: { error: `the page has no memory for ${size} bytes` } };
  try {
    engine.stringToUTF8(text, at, size);
    return JSON.parse(engine.ccall('clause_answer', 'string', ['string', 'number'], [route, at]));
  } finally {
    engine._free(at);
  }
}

function toBase64Url(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  const plain = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(plain, (c) => c.charCodeAt(0));
}

async function pipeThrough(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

async function shareFragment(policy, request) {
  const bytes = new TextEncoder().encode(policy);
  const policyPart = typeof CompressionStream === 'function'
    ? `p=${toBase64Url(await pipeThrough(bytes, new CompressionStream('deflate')))}`
    : `t=${toBase64Url(bytes)}`;
  return `#${policyPart}&r=${toBase64Url(new TextEncoder().encode(JSON.stringify(request)))}`;
}

// The policy and request of a fragment, or null when it carries none; a damaged link is
// reported in the status line and the page starts as without one.
async function readShareLink(hash) {
  const fields = new URLSearchParams(hash.replace(/^#/, ''));
  if (!fields.has('p') && !fields.has('t')) return null;
  try {
    const policy = fields.has('p')
      ? await pipeThrough(fromBase64Url(fields.get('p')), new DecompressionStream('deflate'))
      : fromBase64Url(fields.get('t'));
    const out = { policy: new TextDecoder().decode(policy), request: null };
    if (fields.has('r')) out.request = JSON.parse(new TextDecoder().decode(fromBase64Url(fields.get('r'))));
    return out;
  } catch (e) {
    setStatus(`the shared link is damaged (${e.message}); showing the default policy`);
    return null;
  }
}

async function share() {
  const fragment = await shareFragment($('source').value, currentRequest());
  const link = location.href.replace(/#.*$/, '') + fragment;
  try {
    history.replaceState(null, '', link);
  } catch (e) {
    location.hash = fragment; // where a file:// page may not replace its own address
  }
  $('share-link').value = link;
  $('share-link').hidden = false;
  $('share-link').select();
  // Copying needs a secure context and permission; the link is shown selected either way.
  if (navigator.clipboard) navigator.clipboard.writeText(link).catch(() => {});
}

// Puts a request's fields into the form: the names into the selects and checkboxes, the
// attributes into their inputs. Names the policy does not declare are left out.
function applyRequest(request) {
  const set = (id, value) => {
    if (value !== undefined && [...$(id).options].some((o) => o.value === value)) $(id).value = value;
  };
  const context = request.context || {};
  set('data', request.data && request.data.category);
  set('requester', request.requester && request.requester.kind);
  set('action', request.action);
  set('purpose', context.purpose || '');
  const check = (kind, names) => {
    for (const input of document.querySelectorAll(`input[name=${kind}]`)) input.checked = (names || []).includes(input.value);
  };
  check('fact', context.facts);
  check('consent', context.consent);
  check('objection', context.objections);
  for (const input of document.querySelectorAll('#attributes [data-path]')) {
    const [root, field] = input.dataset.path.split('.');
    const value = (request[root] || {})[field];
    if (input.dataset.type === 'boolean') input.checked = value === true;
    else if (value === undefined) input.value = '';
    else if (input.dataset.type === 'time') input.value = String(value).slice(0, 16);
    else if (Array.isArray(value)) input.value = value.join(', ');
    else input.value = String(value);
  }
}
