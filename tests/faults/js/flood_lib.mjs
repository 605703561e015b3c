// The floods of issue 21, shared by the test (tests/faults/js/floods.mjs: each flood's outcome
// asserted) and the bench (bench/faults/floods.mjs: the effect on other viewers and buyers
// measured). Each flood returns what it saw; the callers decide what to assert or print.
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startProcess } from '../../support/process.mjs';
import { Client, WebSocket, waitUntil, ADMIN } from '../../commerce/js/lib.mjs';

// Someone else on the stream while a flood runs: a buyer whose `buy` ack is timed, and a
// viewer who times the fan-out of the host's card changes (host sends card.show -> the viewer
// receives card.shown).
export class Bystanders {
  static async start(server, stream) {
    const b = new Bystanders();
    b.server = server;
    b.stream = stream;
    b.host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
    b.buyer = await Client.connect(server, { stream: stream.id });
    b.viewer = await Client.connect(server, { stream: stream.id });
    await b.viewer.waitFor((m) => m.type === 'welcome');
    await b.buyer.waitFor((m) => m.type === 'welcome');
    b.seq = 0;
    return b;
  }
  // One buy by the bystander buyer: {ok, ms}.
  async buy(productId, timeoutMs = 20000) {
    const t0 = performance.now();
    const a = await this.buyer.request({ type: 'buy', product_id: productId, qty: 1, idempotency_key: `by-${this.seq++}` }, timeoutMs);
    return { ok: a.type === 'order.confirmed', ms: performance.now() - t0, answer: a };
  }
  // One card change seen by the bystander viewer: {ok, ms}.
  async fanout(productId, timeoutMs = 20000) {
    const from = this.viewer.messages.length;
    const t0 = Date.now();  // the viewer stamps messages with Date.now() (lib.mjs)
    const shown = await this.host.request({ type: 'card.show', product_id: productId, slot: 'bottom' }, timeoutMs);
    if (shown.type !== 'card.shown') return { ok: false, ms: NaN, answer: shown };
    const seen = await this.viewer.waitFor((m) => m.type === 'card.shown' && m.change_id === shown.change_id, timeoutMs, from);
    return { ok: true, ms: seen._at - t0, answer: seen };
  }
  async health() {
    const r = await fetch(this.server.url('/api/health'), { signal: AbortSignal.timeout(20000) });
    await r.text();
    return r.status;
  }
  close() { this.host.close(); this.buyer.close(); this.viewer.close(); }
}

// N websockets opened at once (raw `ws`, no message history): resolves when each opened and got
// its welcome, or failed. Returns {open, refused, sockets}. `onOpen` (optional) is called at
// each welcome.
export async function openMany(server, stream, n, { localAddress, onOpen } = {}) {
  const sockets = [];
  const results = await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const ws = new WebSocket(server.wsUrl({ stream: stream.id }), { localAddress, handshakeTimeout: 180000 });
    sockets.push(ws);
    ws.on('error', () => resolve('refused'));
    ws.on('unexpected-response', () => resolve('refused'));
    ws.on('close', () => resolve('refused'));
    ws.once('message', (data) => {
      const welcomed = JSON.parse(data.toString()).type === 'welcome';
      if (welcomed && onOpen) onOpen();
      resolve(welcomed ? 'open' : 'refused');
    });
  })));
  return { open: results.filter((r) => r === 'open').length, refused: results.filter((r) => r === 'refused').length, sockets };
}

// One client sending `count` buys as fast as it can. Returns the answers and the close.
export async function buyFlood(server, stream, productId, count) {
  const c = await Client.connect(server, { stream: stream.id });
  await c.waitFor((m) => m.type === 'welcome');
  for (let i = 0; i < count && c.ws.readyState === WebSocket.OPEN; i++) {
    c.send({ type: 'buy', id: `f${i}`, product_id: productId, qty: 1, idempotency_key: `flood-${i}` });
  }
  await c.waitClosed(30000).catch(() => {});
  const answers = c.messages.filter((m) => typeof m.re === 'string' && m.re.startsWith('f'));
  c.close();
  return {
    confirmed: answers.filter((m) => m.type === 'order.confirmed').length,
    rateLimited: answers.filter((m) => m.type === 'order.rejected' && m.reason === 'rate_limited').length,
    answered: answers.length,
    closed: c.closed,
  };
}

// One client sending `count` chat messages as fast as it can; `watcher` counts what reached
// another viewer.
export async function chatSpam(server, stream, count, watcher) {
  const c = await Client.connect(server, { stream: stream.id });
  const welcome = await c.waitFor((m) => m.type === 'welcome');
  const from = watcher.messages.length;
  for (let i = 0; i < count && c.ws.readyState === WebSocket.OPEN; i++) c.send({ type: 'chat.send', id: `c${i}`, text: `spam ${i}` });
  await c.waitClosed(30000).catch(() => {});
  c.close();
  const rateLimited = c.messages.filter((m) => m.type === 'error' && m.code === 'rate_limited').length;
  // What the others saw of it, once the room had time to fan it out (the spammer's last
  // accepted message is the last one a viewer can get).
  const relayed = () => watcher.messages.slice(from).filter((m) => m.type === 'chat' && String(m.text).startsWith('spam ')).length;
  return { rateLimited, closed: c.closed, relayed, viewerId: welcome.viewer_id };
}

// `n` connections that send part of a request head and then one more byte every `everyMs`.
// Resolves once every one was closed by the server (or `giveUpMs` passed): {closed, heldMs[]}.
export async function slowloris(server, n, { everyMs = 1000, giveUpMs = 60000 } = {}) {
  const started = performance.now();
  const held = await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: server.port });
    let timer = null;
    const done = () => { clearInterval(timer); resolve(performance.now() - started); };
    s.on('connect', () => {
      s.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      timer = setInterval(() => s.write('X'), everyMs);
    });
    s.on('error', () => {});
    s.on('close', done);
    setTimeout(() => { s.destroy(); }, giveUpMs);
  })));
  return { heldMs: held };
}

// `n` uploads of `bytes` each to POST /api/images at once (as the host). Returns the statuses.
export async function uploads(server, stream, n, bytes) {
  const body = Buffer.alloc(bytes, 0x41);
  return Promise.all(Array.from({ length: n }, async () => {
    try {
      const r = await fetch(server.url('/api/images'), { method: 'POST', body,
        headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${stream.host_token}` }, signal: AbortSignal.timeout(60000) });
      const json = await r.json().catch(() => null);
      return { status: r.status, error: json?.error, retryAfter: r.headers.get('retry-after') };
    } catch (e) {
      return { status: 0, error: String(e) };
    }
  }));
}

// `n` RTMP connections that send the first half of the handshake (C0 and part of C1) and
// stall. Resolves when the server has closed each (or `giveUpMs`): the time each was held.
export async function halfOpenRtmp(rtmpPort, n, { giveUpMs = 30000, localAddress } = {}) {
  const started = performance.now();
  return Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: rtmpPort, localAddress });
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(700, 1)])));
    s.on('error', () => {});
    s.on('close', () => resolve(performance.now() - started));
    setTimeout(() => { s.destroy(); }, giveUpMs);
  })));
}

// `n` WHIP offers at once to `path` with `token`: a valid-looking SDP offer (audio + video,
// ICE credentials, a fingerprint). Returns the statuses.
// A valid-looking WHIP offer (audio + video, ICE credentials, a fingerprint) from no real peer.
const WHIP_OFFER = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'a=msid-semantic: WMS', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0',
  'a=setup:actpass', 'a=mid:0', 'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0',
  'a=setup:actpass', 'a=mid:1', 'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:96 H264/90000',
  'a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f', '',
].join('\r\n');

export async function whipFlood(server, streamId, n, token) {
  const offer = WHIP_OFFER;
  return (await whipOffers(server, streamId, n, token, offer)).map((r) => r.status);
}

// The same offers, answered in detail: [{status, location, error}] (status 0: no answer).
export async function whipOffers(server, streamId, n, token, offer = WHIP_OFFER) {
  return Promise.all(Array.from({ length: n }, async () => {
    try {
      const r = await fetch(server.url(`/whip/${streamId}`), { method: 'POST', body: offer,
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60000) });
      const text = await r.text();
      let error = null;
      try { error = JSON.parse(text).error ?? null; } catch { /* an SDP answer */ }
      return { status: r.status, location: r.headers.get('location'), error };
    } catch {
      return { status: 0, location: null, error: null };
    }
  }));
}

// `n` HTTP requests at once from `localAddress` (any 127.x.y.z names another client address on
// this machine), each on a connection of its own: [{status, retryAfter, error}] (status 0: the
// connection failed or was closed without an answer).
export function httpFlood(server, n, { path = '/api/health', method = 'GET', localAddress = '127.0.0.1' } = {}) {
  return Promise.all(Array.from({ length: n }, () => httpRequest(server, { path, method, localAddress })));
}

// One request from `localAddress` (`agent`: a keep-alive http.Agent to reuse its connection).
export function httpRequest(server, { path = '/api/health', method = 'GET', localAddress = '127.0.0.1', agent = false } = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path, method, localAddress, agent, timeout: 60000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        let error = null;
        try { error = JSON.parse(body).error ?? null; } catch { /* not JSON */ }
        resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] ?? null, error });
      });
      res.on('error', () => resolve({ status: 0, retryAfter: null, error: 'response' }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', (e) => resolve({ status: 0, retryAfter: null, error: e.code ?? String(e) }));
    req.end();
  });
}

// SRT floods through libsrt (tests/faults/srt_flood.py): `connect` — `count` callers at once
// with `streamId`, each {accepted, reject, ms, closed_after_ms}; `induction` — `count`
// handshakes begun and never finished, {sent, answered}.
export async function srtFlood(mode, srtPort, { streamId = '', count = 10, holdS = 0 } = {}) {
  const script = fileURLToPath(new URL('../srt_flood.py', import.meta.url));
  const args = mode === 'connect' ? [script, 'connect', String(srtPort), streamId, String(count), String(holdS)]
                                  : [script, 'induction', String(srtPort), String(count)];
  const child = startProcess('python3', args);
  const { code, output } = await child.exited;
  const line = output.trim().split('\n').pop();
  if (code !== 0) throw new Error(`srt_flood.py ${mode} failed (${code}): ${output}`);
  return JSON.parse(line);
}

// Threads of a process (/proc/PID/status).
export function threadCount(pid) {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

export { waitUntil, ADMIN };
