'use strict';
// client.js - runs one scenario of the npm "ws" client against wsserverd and
// prints one JSON line with what it saw; test_node.py asserts on it.
//
// usage: node client.js '<scenario JSON>'
// scenario: {url, deflate: false | true | {ws perMessageDeflate options},
//            timeoutMs, steps: [...]}
// steps (run in order, each bounded by timeoutMs):
//   {op: "echo", kind: "text"|"binary"|"utf8"|"noise", size, seed}
//   {op: "frag", kind, sizes: [n, ...], seed}   one message, ws fin:false
//   {op: "burst", count, size}                  many messages in flight
//   {op: "ping", data}                          waits for the pong
//   {op: "rawtext", hex}                        a text frame of any bytes
//   {op: "close", code, reason}                 client-initiated close
//   {op: "wait_close"}                          waits for the server's close
//   {op: "recv"}                                reads one message
// Only the loopback address given in url is contacted.

const crypto = require('crypto');
const WebSocket = require('ws');

const scenario = JSON.parse(process.argv[2]);
const timeoutMs = scenario.timeoutMs || 15000;
const out = { open: false, extensions: null, header: null, steps: [],
  close: null, error: null, unexpected: null };

// Deterministic test data; test_node.py rebuilds the same bytes to compare.
function makeData(kind, size, seed) {
  seed = seed || 0;
  if (kind === 'noise')
    return crypto.randomBytes(size);
  if (kind === 'utf8') {
    const unit = Buffer.from('h\u00e9llo w\u00f6rld \u{1F600} ', 'utf8');
    const reps = Math.ceil(size / unit.length) + 1;
    // Whole characters only: cut at a unit boundary at or below size.
    return Buffer.concat(Array(reps).fill(unit)).subarray(0,
      Math.floor(size / unit.length) * unit.length);
  }
  const b = Buffer.alloc(size);
  const period = 251;
  const block = Buffer.alloc(period);
  for (let i = 0; i < period; i++) {
    block[i] = kind === 'text' ? 0x21 + ((i * 7 + seed) % 94) :
      (i * 13 + seed * 31) & 0xff;
  }
  for (let off = 0; off < size; off += period)
    block.copy(b, off, 0, Math.min(period, size - off));
  return b;
}

function sha(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function withTimeout(p, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => {
    t = setTimeout(() => rej(new Error('timeout: ' + what)), timeoutMs);
  })]).finally(() => clearTimeout(t));
}

// A queue of received messages, so that no message is lost between steps.
const inbox = [];
let waiter = null;
let closed = null;
let closeWaiter = null;

function nextMessage() {
  if (inbox.length > 0)
    return Promise.resolve(inbox.shift());
  if (closed)
    return Promise.reject(new Error('closed ' + closed.code));
  return new Promise((res, rej) => { waiter = { res, rej }; });
}

function waitClose() {
  if (closed)
    return Promise.resolve(closed);
  return new Promise((res) => { closeWaiter = res; });
}

function toBuffer(data) {
  if (Buffer.isBuffer(data))
    return data;
  if (Array.isArray(data))
    return Buffer.concat(data);
  return Buffer.from(data);
}

async function runStep(ws, s) {
  const r = { op: s.op };
  if (s.op === 'echo' || s.op === 'frag') {
    const isText = s.kind === 'text' || s.kind === 'utf8';
    const total = s.op === 'echo' ? s.size :
      s.sizes.reduce((a, b) => a + b, 0);
    const data = makeData(s.kind, total, s.seed);
    if (s.op === 'echo') {
      ws.send(isText ? data.toString('utf8') : data, { binary: !isText });
    } else {
      let off = 0;
      s.sizes.forEach((n, i) => {
        const piece = data.subarray(off, off + n);
        off += n;
        ws.send(piece, { binary: !isText, fin: i === s.sizes.length - 1 });
      });
    }
    const m = await withTimeout(nextMessage(), s.op + ' ' + total);
    r.isBinary = m.isBinary;
    r.len = m.data.length;
    r.sentLen = data.length;
    r.equal = m.data.equals(data);
    r.sha = sha(m.data);
    r.sentSha = sha(data);
  } else if (s.op === 'burst') {
    const sent = [];
    for (let i = 0; i < s.count; i++) {
      const d = makeData(i % 2 ? 'text' : 'binary', s.size + i, i);
      sent.push(d);
      ws.send(i % 2 ? d.toString('utf8') : d, { binary: !(i % 2) });
    }
    let good = 0;
    for (let i = 0; i < s.count; i++) {
      const m = await withTimeout(nextMessage(), 'burst ' + i);
      if (m.data.equals(sent[i]) && m.isBinary === !(i % 2))
        good++;
    }
    r.good = good;
  } else if (s.op === 'ping') {
    const data = Buffer.from(s.data || '');
    const pong = new Promise((res) => ws.once('pong', res));
    ws.ping(data);
    const got = await withTimeout(pong, 'pong');
    r.pong = got.toString('utf8');
  } else if (s.op === 'rawtext') {
    ws.send(Buffer.from(s.hex, 'hex'), { binary: false });
  } else if (s.op === 'recv') {
    const m = await withTimeout(nextMessage(), 'recv');
    r.isBinary = m.isBinary;
    r.text = m.data.toString('utf8');
  } else if (s.op === 'close') {
    ws.close(s.code, s.reason || '');
    await withTimeout(waitClose(), 'close');
  } else if (s.op === 'wait_close') {
    await withTimeout(waitClose(), 'server close');
  } else {
    throw new Error('unknown step ' + s.op);
  }
  return r;
}

async function main() {
  const opts = { perMessageDeflate: scenario.deflate === undefined ? false :
    scenario.deflate, maxPayload: 64 * 1024 * 1024, handshakeTimeout: 5000 };
  const ws = new WebSocket(scenario.url, opts);
  ws.on('message', (data, isBinary) => {
    const m = { data: toBuffer(data), isBinary };
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.res(m);
    } else {
      inbox.push(m);
    }
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString('utf8') };
    out.close = closed;
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.rej(new Error('closed ' + code));
    }
    if (closeWaiter)
      closeWaiter(closed);
  });
  ws.on('upgrade', (res) => {
    out.header = res.headers['sec-websocket-extensions'] || null;
  });
  ws.on('unexpected-response', (req, res) => {
    out.unexpected = { status: res.statusCode };
    res.resume();
    ws.terminate();
  });
  const opened = new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
    ws.once('close', () => rej(new Error('closed before open')));
  });
  ws.on('error', (e) => { out.error = out.error || String(e.message || e); });
  try {
    await withTimeout(opened, 'open');
  } catch (e) {
    out.error = out.error || String(e.message || e);
    return;
  }
  out.open = true;
  out.extensions = ws.extensions;
  for (const s of scenario.steps) {
    try {
      out.steps.push(await runStep(ws, s));
    } catch (e) {
      out.steps.push({ op: s.op, error: String(e.message || e) });
      break;
    }
  }
  if (!closed) {
    ws.close(1000);
    try {
      await withTimeout(waitClose(), 'final close');
    } catch (e) {
      ws.terminate();
    }
  }
}

main().catch((e) => { out.error = 'main: ' + String(e.stack || e); })
  .finally(() => {
    process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
  });
