// Test support for the commerce suite: runs the real harvest-server and talks to it over real
// websockets (npm `ws`). Every process started here is killed when the test ends; waits are
// conditions with deadlines, never sleeps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startProcess } from '../../support/process.mjs';

const require = createRequire(new URL('../../package.json', import.meta.url));
export const WebSocket = require('ws');

export const ADMIN = 'test-admin-token';

export function serverBin() {
  const bin = process.env.HARVEST_SERVER_BIN;
  if (!bin) throw new Error('HARVEST_SERVER_BIN is not set');
  return bin;
}

// HARVEST_SERVER_ARGS: extra flags for every server a test starts (ctest runs the suite again
// with --fanout-threads).
function extraServerArgs() {
  return (process.env.HARVEST_SERVER_ARGS ?? '').split(' ').filter((a) => a !== '');
}

export class Server {
  // Starts harvest-server on free ports with `dataDir` (a new temp dir when omitted).
  static async start({ dataDir, env = {}, args = [] } = {}) {
    const s = new Server();
    s.ownDir = !dataDir;
    s.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'harvest-commerce-'));
    s.log = '';
    s.child = startProcess(serverBin(), ['--http-port', '0', '--rtmp-port', '0', '--srt-port', '0', '--bind', '127.0.0.1',
                                         '--data-dir', s.dataDir, ...extraServerArgs(), ...args],
                           { env: { ...process.env, HARVEST_ADMIN_TOKEN: ADMIN, ASAN_OPTIONS: 'detect_leaks=0',
                                    HARVEST_EXIT_WITH_PARENT: '1', ...env },
                             onOutput: (text) => { s.log += text; } });
    s.proc = s.child.proc;
    s.exited = s.child.exited.then(({ code, signal }) => ({ code, sig: signal }));
    await waitUntil(() => /event=listening .*http_port=(\d+)/.test(s.log) || s.proc.exitCode !== null, 30000, 'server start');
    const m = /event=listening .*http_port=(\d+)/.exec(s.log);
    if (!m) throw new Error('server did not start:\n' + s.log);
    s.port = Number(m[1]);
    return s;
  }
  url(path) { return `http://127.0.0.1:${this.port}${path}`; }
  wsUrl(query) { return `ws://127.0.0.1:${this.port}/ws?${new URLSearchParams(query)}`; }
  async killHard() {
    await this.child.kill();
  }
  async stop() {
    await this.child.stop(15000);
    if (this.ownDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
  async http(method, path, { body, token } = {}) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(this.url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch {}
    return { status: r.status, text, json, headers: r.headers };
  }
  // Creates a stream; returns {id, host_token, ...}.
  async createStream(title = 'test farm') {
    const r = await this.http('POST', '/api/streams', { body: { title, farmer: 'tester' }, token: ADMIN });
    if (r.status !== 201) throw new Error('create stream failed: ' + r.text);
    return r.json;
  }
  async putProducts(stream, products, token = ADMIN) {
    return this.http('PUT', `/api/streams/${stream}/products`, { body: { products }, token });
  }
  async metric(name) {
    const r = await this.http('GET', '/metrics');
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(r.text);
    return m ? Number(m[1]) : NaN;
  }
}

export async function waitUntil(cond, timeoutMs = 10000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// A websocket client that keeps every message it got and can wait for one.
export class Client {
  static async connect(server, query) {
    const c = new Client();
    c.messages = [];
    c.waiters = [];
    c.closed = null;
    c.ws = new WebSocket(server.wsUrl(query));
    c.ws.on('message', (data) => {
      const parsed = JSON.parse(data.toString());
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        m._at = Date.now();
        c.messages.push(m);
      }
      c.poke();
    });
    c.ws.on('close', (code, reason) => { c.closed = { code, reason: reason.toString() }; c.poke(); });
    c.ws.on('error', () => {});
    await new Promise((resolve, reject) => {
      c.ws.once('open', resolve);
      c.ws.once('error', reject);
      c.ws.once('unexpected-response', (_req, res) => reject(new Error('upgrade refused: ' + res.statusCode)));
    });
    return c;
  }
  poke() {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }
  // Resolves with the first message matching `pred` (from the start of history when `from` is 0).
  async waitFor(pred, timeoutMs = 10000, from = 0) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.messages.length; i++) if (pred(this.messages[i])) return this.messages[i];
      if (Date.now() > deadline) throw new Error('timed out waiting for a message; got: ' +
        JSON.stringify(this.messages.slice(-5)) + (this.closed ? ' closed ' + JSON.stringify(this.closed) : ''));
      await new Promise((resolve) => { this.waiters.push(resolve); setTimeout(resolve, Math.max(1, Math.min(200, deadline - Date.now()))); });
    }
  }
  async waitClosed(timeoutMs = 10000) {
    await waitUntil(() => this.closed !== null, timeoutMs, 'close');
    return this.closed;
  }
  // Sends a request with an id and waits for the answer carrying it as "re".
  async request(obj, timeoutMs = 10000) {
    const id = obj.id ?? `r${Client.seq++}`;
    this.send({ ...obj, id });
    return this.waitFor((m) => m.re === id, timeoutMs);
  }
  close() { try { this.ws.terminate(); } catch {} }
}
Client.seq = 1;

// Runs `body` with cleanup of everything registered through `t.defer`.
export async function run(name, body) {
  const cleanups = [];
  const t = { defer: (fn) => cleanups.push(fn) };
  let failed = null;
  const started = Date.now();
  try {
    await body(t);
  } catch (e) {
    failed = e;
  }
  for (const fn of cleanups.reverse()) { try { await fn(); } catch {} }
  if (failed) {
    console.error(`FAIL ${name}: ${failed.stack ?? failed}`);
    process.exit(1);
  }
  console.log(`ok ${name} (${Date.now() - started} ms)`);
  process.exit(0);
}

export function assert(cond, message) {
  if (!cond) throw new Error('assertion failed: ' + message);
}

export function eq(actual, expected, message) {
  if (actual !== expected) throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
