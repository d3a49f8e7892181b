// A small TextMate-grammar tokenizer and HTML highlighter for clause policy and test files.
//
// It runs the subset of TextMate grammars that the grammars in vscode/syntaxes use:
// `patterns`, `match`, `begin`/`end`, `name`, `contentName`, `captures`, `beginCaptures`,
// `endCaptures` and `include` of `#name`, `$self` and `$base`. Regexes are JavaScript
// regexes, so a grammar must keep to what both JavaScript and Oniguruma read alike.
// Lines are matched one at a time with a trailing "\n", as editors do, so a `begin`/`end`
// block may run over several lines.
//
// The same file serves a web page (as a plain <script>, it defines `ClauseHighlight`) and
// Node (require() it, or run it: `node highlight.js dump|html GRAMMAR.json FILE`).
(function (root, factory) {
  const api = factory();
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.ClauseHighlight = api;
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  // Compiles a grammar (the parsed JSON) into a reusable object for tokenize().
  function compile(json) {
    const compiled = new Map(); // raw rule -> compiled rule
    const regex = (source, where) => {
      try {
        return new RegExp(source, 'dgm'); // d: capture offsets; g: search from lastIndex
      } catch (e) {
        throw new Error(`${json.scopeName}: bad regex in ${where}: ${e.message}`);
      }
    };
    const rule = (raw, where) => {
      if (compiled.has(raw)) return compiled.get(raw);
      const r = { raw, name: raw.name, contentName: raw.contentName };
      compiled.set(raw, r);
      if (raw.match !== undefined) {
        r.match = regex(raw.match, where);
        r.captures = raw.captures || {};
      } else if (raw.begin !== undefined) {
        if (raw.end === undefined) throw new Error(`${json.scopeName}: ${where} has begin but no end`);
        r.begin = regex(raw.begin, where);
        r.end = regex(raw.end, where);
        r.beginCaptures = raw.beginCaptures || raw.captures || {};
        r.endCaptures = raw.endCaptures || raw.captures || {};
      }
      r.patterns = null; // resolved on first use: includes may point anywhere
      return r;
    };
    // The rules a `patterns` list stands for, includes and pattern groups flattened.
    const flatten = (list, where, seen = new Set()) => {
      const out = [];
      for (const p of list || []) {
        let target = p;
        if (p.include !== undefined) {
          if (p.include === '$self' || p.include === '$base') target = json;
          else if (p.include.startsWith('#')) target = (json.repository || {})[p.include.slice(1)];
          else throw new Error(`${json.scopeName}: unsupported include ${p.include} in ${where}`);
          if (!target) throw new Error(`${json.scopeName}: no repository entry ${p.include} in ${where}`);
        }
        if (target.match !== undefined || target.begin !== undefined) {
          out.push(rule(target, p.include || where));
        } else if (!seen.has(target)) {
          seen.add(target);
          out.push(...flatten(target.patterns, p.include || where, seen));
        }
      }
      return out;
    };
    const patternsOf = (r) => {
      if (r.patterns === null) r.patterns = flatten(r.raw.patterns, r.name || 'a rule');
      return r.patterns;
    };
    const top = { raw: json, name: json.scopeName, patterns: null };
    patternsOf(top);
    // Compile every reachable rule now, so that a bad regex shows at once.
    const pending = [top];
    for (let i = 0; i < pending.length; i++) {
      for (const r of patternsOf(pending[i])) if (!pending.includes(r)) pending.push(r);
    }
    return { scopeName: json.scopeName, top, patternsOf };
  }

  // Splits the text a match covers into tokens, each with `base` and the scopes of the
  // capture groups that cover it (outer groups first, as groups nest in index order).
  function emitCaptures(m, captures, base, add) {
    const [start, end] = m.indices[0];
    const ranges = [];
    for (const key of Object.keys(captures).map(Number).sort((a, b) => a - b)) {
      const span = m.indices[key];
      if (span && captures[key].name && span[1] > span[0]) ranges.push([span[0], span[1], captures[key].name]);
    }
    const cuts = new Set([start, end]);
    for (const [s, e] of ranges) cuts.add(s).add(e);
    const points = [...cuts].filter((p) => p >= start && p <= end).sort((a, b) => a - b);
    for (let i = 0; i + 1 < points.length; i++) {
      const [a, b] = [points[i], points[i + 1]];
      add(a, b, base.concat(ranges.filter(([s, e]) => s <= a && e >= b).map((r) => r[2])));
    }
  }

  // Tokenizes one line. `stack` holds the open begin/end blocks and is updated in place.
  function tokenizeLine(grammar, line, stack) {
    const text = line + '\n';
    const tokens = [];
    const add = (start, end, scopes) => {
      end = Math.min(end, line.length);
      if (end <= start) return;
      const last = tokens[tokens.length - 1];
      if (last && last.end === start && last.scopes.join(' ') === scopes.join(' ')) last.end = end;
      else tokens.push({ start, end, scopes });
    };
    let pos = 0;
    while (pos <= line.length) {
      const frame = stack[stack.length - 1];
      // The earliest match wins; on a tie the end of the block, then the first pattern.
      let best = null;
      const tryRegex = (re, r, isEnd) => {
        re.lastIndex = pos;
        const m = re.exec(text);
        if (m && m.index <= line.length && (!best || m.index < best.m.index)) best = { m, r, isEnd };
      };
      if (frame.rule.end) tryRegex(frame.rule.end, frame.rule, true);
      for (const r of grammar.patternsOf(frame.rule)) tryRegex(r.match || r.begin, r, false);
      if (!best) break;
      const { m, r, isEnd } = best;
      const [start, end] = m.indices[0];
      add(pos, start, frame.inner);
      if (isEnd) {
        emitCaptures(m, r.endCaptures, frame.outer, add);
        stack.pop();
      } else if (end === start) {
        // An empty match or begin would loop forever: take one character as plain text.
        add(start, start + 1, frame.inner);
        pos = start + 1;
        continue;
      } else if (r.match) {
        emitCaptures(m, r.captures, r.name ? frame.inner.concat(r.name) : frame.inner, add);
      } else {
        const outer = r.name ? frame.inner.concat(r.name) : frame.inner;
        emitCaptures(m, r.beginCaptures, outer, add);
        stack.push({ rule: r, outer, inner: r.contentName ? outer.concat(r.contentName) : outer });
      }
      pos = end;
    }
    add(pos, line.length, stack[stack.length - 1].inner);
    return tokens;
  }

  // The stack before a file's first line. tokenizeLine() pushes and pops frames but never
  // changes one, so `stack.slice()` after a line is enough to restart from there.
  function start(grammar) {
    return [{ rule: grammar.top, outer: [grammar.scopeName], inner: [grammar.scopeName] }];
  }

  // Tokenizes a whole text: one array of tokens {start, end, text, scopes} per line.
  function tokenize(grammar, source) {
    const stack = start(grammar);
    return source.split(/\r?\n/).map((line) =>
      tokenizeLine(grammar, line, stack).map((t) => ({ ...t, text: line.slice(t.start, t.end) })));
  }

  // One line per token, `LINE:COLUMN<TAB>"TEXT"<TAB>SCOPES` without the grammar's own
  // scope; blank tokens are left out. Golden tests compare this.
  function dump(grammar, source) {
    const out = [];
    tokenize(grammar, source).forEach((tokens, i) => {
      for (const t of tokens) {
        if (/^\s*$/.test(t.text)) continue;
        out.push(`${i + 1}:${t.start + 1}\t${JSON.stringify(t.text)}\t${t.scopes.slice(1).join(' ')}`);
      }
    });
    return out.join('\n') + '\n';
  }

  // A light theme: the longest matching scope prefix of the innermost scope that has one
  // gives the colour, as editor themes do.
  const THEME = [
    ['comment', 'color:#6e7781;font-style:italic'],
    ['string', 'color:#0a3069'],
    ['constant.character.escape', 'color:#0550ae;font-weight:bold'],
    ['invalid', 'color:#82071e;background:#ffebe9'],
    ['storage.type', 'color:#cf222e;font-weight:bold'],
    ['storage.type.annotation', 'color:#9a6700;font-weight:bold'],
    ['keyword.control', 'color:#8250df;font-weight:bold'],
    ['keyword.operator', 'color:#0550ae'],
    ['keyword.other', 'color:#cf222e'],
    ['constant.language', 'color:#0550ae;font-weight:bold'],
    ['constant.other', 'color:#9a6700'],
    ['support.constant', 'color:#116329;font-weight:bold'],
    ['entity.name.type', 'color:#953800'],
    ['entity.other.inherited-class', 'color:#953800;font-style:italic'],
    ['entity.name.function', 'color:#6639ba;font-weight:bold'],
    ['entity.name.section', 'color:#116329;font-weight:bold'],
    ['variable.other', 'color:#24292f'],
  ];
  const classOfPrefix = (prefix) => 'hl-' + prefix.replace(/\./g, '-');

  // The CSS class of a token's scopes, or '' when the theme does not colour it.
  function scopeClass(scopes) {
    for (let i = scopes.length - 1; i >= 0; i--) {
      let best = null;
      for (const [prefix] of THEME) {
        const hit = scopes[i] === prefix || scopes[i].startsWith(prefix + '.');
        if (hit && (!best || prefix.length > best.length)) best = prefix;
      }
      if (best) return classOfPrefix(best);
    }
    return '';
  }

  function css() {
    return THEME.map(([prefix, style]) => `.${classOfPrefix(prefix)} { ${style} }`).join('\n');
  }

  const escapeHtml = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

  // The highlighted text as HTML lines (no enclosing element), for a <pre> or an editor.
  function toHtml(grammar, source) {
    const lines = source.split(/\r?\n/);
    return tokenize(grammar, source).map((tokens, i) => {
      const line = lines[i];
      let html = '';
      let pos = 0;
      for (const t of tokens) {
        html += escapeHtml(line.slice(pos, t.start));
        const cls = scopeClass(t.scopes);
        html += cls ? `<span class="${cls}">${escapeHtml(t.text)}</span>` : escapeHtml(t.text);
        pos = t.end;
      }
      return html + escapeHtml(line.slice(pos));
    }).join('\n');
  }

  // A whole page: the text highlighted in a <pre>, with the theme's CSS.
  function page(grammar, source, title) {
    return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { margin: 0; padding: 16px 20px; background: #ffffff; }
pre { margin: 0; font: 14px/1.45 "DejaVu Sans Mono", monospace; color: #24292f; }
${css()}
</style></head>
<body><pre class="clause-highlight">${toHtml(grammar, source)}</pre></body></html>
`;
  }

  return { compile, start, tokenize, tokenizeLine, dump, scopeClass, css, toHtml, page, THEME };
});

if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) {
  const fs = require('fs');
  const path = require('path');
  const api = module.exports;
  const [mode, grammarFile, file] = process.argv.slice(2);
  if (!['dump', 'html'].includes(mode) || !grammarFile || !file) {
    process.stderr.write('usage: node highlight.js dump|html GRAMMAR.tmLanguage.json FILE\n');
    process.exit(64);
  }
  const grammar = api.compile(JSON.parse(fs.readFileSync(grammarFile, 'utf8')));
  const source = fs.readFileSync(file, 'utf8').replace(/\n$/, '');
  process.stdout.write(mode === 'dump' ? api.dump(grammar, source) : api.page(grammar, source, path.basename(file)));
}
