'use strict';
// echo.js - echoes text and binary messages of several sizes through
// wsserverd from a real browser and reports what it saw: POSTed as JSON
// to /result on the page's own (loopback) server and shown in #result.
// query: ?port=N&path=/echo

const params = new URLSearchParams(location.search);
const url = 'ws://127.0.0.1:' + params.get('port') + (params.get('path') ||
  '/echo');
const STEP_MS = 15000;
const MIB = 1024 * 1024;
const report = { url: url, opened: false, extensions: null, checks: [],
  close: null, error: null };

// Deterministic, compressible ASCII text of n characters.
function makeText(n, seed) {
  const unit = 'wsserverd ' + seed + ' the quick brown fox jumps. ';
  return unit.repeat(Math.ceil(n / unit.length) + 1).slice(0, n);
}

// Bytes: a pattern, or random (incompressible) when seed is 'random'.
function makeBytes(n, seed) {
  const b = new Uint8Array(n);
  if (seed === 'random') {
    for (let off = 0; off < n; off += 65536)
      crypto.getRandomValues(b.subarray(off, Math.min(n, off + 65536)));
  } else {
    for (let i = 0; i < n; i++)
      b[i] = (i * 13 + seed * 7 + (i >> 9)) & 0xff;
  }
  return b;
}

function sameBytes(a, b) {
  if (a.length !== b.length)
    return false;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i])
      return false;
  return true;
}

function finish() {
  const text = JSON.stringify(report);
  document.getElementById('result').textContent = text;
  return fetch('/result', { method: 'POST', body: text }).catch(() => {});
}

function timeout(p, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => {
    t = setTimeout(() => rej(new Error('timeout: ' + what)), STEP_MS);
  })]).finally(() => clearTimeout(t));
}

async function main() {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const inbox = [];
  let waiter = null;
  let closed = null;
  const closedP = new Promise((res) => {
    ws.onclose = (ev) => {
      closed = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
      report.close = closed;
      if (waiter)
        waiter.rej(new Error('closed ' + ev.code));
      res(closed);
    };
  });
  ws.onmessage = (ev) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.res(ev.data);
    } else {
      inbox.push(ev.data);
    }
  };
  function next() {
    if (inbox.length)
      return Promise.resolve(inbox.shift());
    if (closed)
      return Promise.reject(new Error('closed'));
    return new Promise((res, rej) => { waiter = { res, rej }; });
  }
  await timeout(new Promise((res, rej) => {
    ws.onopen = res;
    ws.onerror = () => rej(new Error('websocket error before open'));
  }), 'open');
  report.opened = true;
  report.extensions = ws.extensions;

  const cases = [];
  for (const n of [0, 1, 125, 126, 65536, MIB])
    cases.push(['text', n, n % 5], ['binary', n, n % 3]);
  cases.push(['binary', 300000, 'random'], ['utf8', 50000, 0]);
  for (const [kind, n, seed] of cases) {
    let sent;
    if (kind === 'text')
      sent = makeText(n, seed);
    else if (kind === 'utf8')
      sent = 'h\u00e9llo \u{1F600} w\u00f6rld '.repeat(n / 20);
    else
      sent = makeBytes(n, seed);
    ws.send(sent);
    const got = await timeout(next(), kind + ' ' + n);
    let ok;
    if (kind === 'binary')
      ok = got instanceof ArrayBuffer && sameBytes(new Uint8Array(got), sent);
    else
      ok = typeof got === 'string' && got === sent;
    report.checks.push({ kind: kind, size: n, ok: ok,
      got: typeof got === 'string' ? got.length : got.byteLength });
  }
  // Many small messages in flight at once.
  const many = [];
  for (let i = 0; i < 200; i++) {
    many.push('burst ' + i + ' ' + 'x'.repeat(i * 5));
    ws.send(many[i]);
  }
  let good = 0;
  for (let i = 0; i < many.length; i++)
    if ((await timeout(next(), 'burst ' + i)) === many[i])
      good++;
  report.checks.push({ kind: 'burst', size: many.length, ok: good ===
    many.length, got: good });

  ws.close(4000, 'done');
  await timeout(closedP, 'close');
}

window.addEventListener('error', (ev) => {
  report.error = report.error || String(ev.message);
});
main().catch((e) => { report.error = String(e && e.message || e); })
  .finally(finish);
