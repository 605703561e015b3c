// Shared helpers for the browser tests: run the real harvest-server on free ports with its own
// data directory, create streams, drive Debian's Chromium through playwright-core, wait on
// conditions with deadlines, and clean up everything that was started, even on failure.
//
// A test file is `runTest('name', async (t) => { ... })`. Exit code 0 pass, 1 fail. There is no
// "skipped": a feature the product is meant to have that does not appear (no HLS within the
// deadline, a missing route) is a failure naming the feature, so a regression reads as one.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { startProcess } from '../support/process.mjs';

const CHROMIUM = process.env.HARVEST_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  // The broadcaster page: a synthetic camera and microphone, permission granted.
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  // Muted autoplay is allowed anyway; this keeps the unmute test path deterministic.
  '--autoplay-policy=no-user-gesture-required',
];

// Fails the test because something the product is meant to have is missing.
export function missing(message) {
  throw new Error(`missing: ${message}`);
}

export function log(...args) {
  console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...args);
}

// Polls `fn` until it returns a truthy value (returned) or the deadline passes (throws,
// with `what` and the last value or error). Never a bare sleep: every wait has a condition.
export async function waitFor(fn, { timeout = 10_000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

// Waits for entrance animations (cards, sheets, toasts) to finish so a screenshot is not
// mid-motion. Infinite ones (the LIVE dot) are left alone.
export async function settle(page) {
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a.effect?.getTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => {}))));
}

export function screenshotDir() {
  const dir = process.env.HARVEST_SCREENSHOT_DIR || path.resolve('screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

// ---------- the server ----------

export class Server {
  // `args`: extra flags (e.g. --tls-self-signed).
  constructor({ dataDir, adminToken, httpPort = 0, args = [] }) {
    this.dataDir = dataDir;
    this.extraArgs = args;
    this.adminToken = adminToken;
    this.requestedHttpPort = httpPort;
    this.lines = [];
    this.proc = null;
  }

  async start() {
    const bin = process.env.HARVEST_SERVER_BIN;
    if (!bin) throw new Error('HARVEST_SERVER_BIN is not set (ctest sets it)');
    const args = ['--http-port', String(this.requestedHttpPort), '--rtmp-port', String(this.rtmpPort ?? 0),
      '--srt-port', String(this.srtPort ?? 0), '--bind', '127.0.0.1', '--data-dir', this.dataDir, ...this.extraArgs];
    const env = {
      ...process.env,
      HARVEST_ADMIN_TOKEN: this.adminToken,
      ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
      UBSAN_OPTIONS: 'print_stacktrace=1',
      HARVEST_EXIT_WITH_PARENT: '1',  // the server stops if this test process dies
    };
    let buffer = '';
    const onData = (text) => {
      buffer += text;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.lines.push(line);
        if (this.lines.length > 2000) this.lines.shift();
        if (process.env.HARVEST_TEST_VERBOSE) log('server:', line);
      }
    };
    this.child = startProcess(bin, args, { env, onOutput: onData });
    this.proc = this.child.proc;
    this.exited = this.child.exited;
    const listening = await Promise.race([
      waitFor(() => this.lines.find((l) => l.includes('event=listening')), { timeout: 30_000, what: 'event=listening' }),
      this.exited.then(({ code, signal }) => {
        throw new Error(`harvest-server exited early (code ${code}, signal ${signal}):\n${this.lines.join('\n')}`);
      }),
    ]);
    const field = (name) => {
      const m = new RegExp(`(?:^|\\s)${name}=(\\d+)`).exec(listening);
      return m ? Number(m[1]) : null;
    };
    this.httpPort = field('http_port');
    // Ingest ports appear on the same line once ingest exists; keep them across restarts.
    this.rtmpPort = field('rtmp_port') ?? this.rtmpPort ?? null;
    this.srtPort = field('srt_port') ?? this.srtPort ?? null;
    // With TLS the same port serves https too; plain http from this machine keeps working, so
    // the test's own requests stay on http and pages that need a secure context use httpsBase.
    this.base = `http://127.0.0.1:${this.httpPort}`;
    this.httpsBase = `https://127.0.0.1:${this.httpPort}`;
    this.wsBase = `ws://127.0.0.1:${this.httpPort}`;
    return this;
  }

  async stop() {
    if (this.child) await this.child.stop(10_000);
  }

  // Stops and starts again on the same HTTP port (and the same data dir).
  async restart() {
    await this.stop();
    this.requestedHttpPort = this.httpPort;
    this.lines.push('--- restart ---');
    // The port was just released; a rare race with another process is retried.
    await waitFor(async () => {
      try {
        await this.start();
        return true;
      } catch (err) {
        if (/exited early/.test(err.message)) return false;
        throw err;
      }
    }, { timeout: 30_000, interval: 250, what: 'the server to start again on the same port' });
  }

  logTail(n = 60) {
    return this.lines.slice(-n).join('\n');
  }

  async fetch(pathname, { method = 'GET', token, body, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(this.base + pathname, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  async createStream({ title = 'Test farm stream', farmer = 'Test farmer' } = {}) {
    const r = await this.fetch('/api/streams', { method: 'POST', token: this.adminToken, body: { title, farmer } });
    if (r.status === 404) missing('server feature: POST /api/streams');
    if (r.status !== 201 && r.status !== 200) throw new Error(`POST /api/streams: ${r.status} ${r.text}`);
    return r.json;
  }

  // PUT /api/streams/{id}/products with the host token; fails if the route does not exist.
  async putProducts(stream, products) {
    const r = await this.fetch(`/api/streams/${stream.id}/products`, {
      method: 'PUT', token: stream.host_token, body: { products },
    });
    if (r.status === 404 || r.status === 405) missing('server feature: PUT /api/streams/{id}/products');
    if (r.status < 200 || r.status >= 300) throw new Error(`PUT products: ${r.status} ${r.text}`);
    return r.json;
  }
}

// ---------- websocket clients (for setting up state and for feature detection) ----------

export class WsClient {
  constructor(server, streamId, token) {
    const q = new URLSearchParams({ stream: streamId });
    if (token) q.set('token', token);
    this.url = `${server.wsBase}/ws?${q}`;
    this.messages = [];
    this.nextId = 1;
  }

  // Resolves with the welcome, or rejects if the server refuses the upgrade.
  open(timeout = 10_000) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      const timer = setTimeout(() => reject(new Error('no welcome')), timeout);
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`upgrade refused: HTTP ${res.statusCode}`));
      });
      ws.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.on('message', (data) => {
        let msg;
        try {
          msg = JSON.parse(data.toString());
        } catch {
          return;
        }
        this.messages.push(msg);
        if (msg.type === 'welcome') {
          clearTimeout(timer);
          this.welcome = msg;
          resolve(msg);
        }
      });
    });
  }

  send(msg) {
    const id = msg.id ?? `t${this.nextId++}`;
    this.ws.send(JSON.stringify({ ...msg, id }));
    return id;
  }

  // Sends and waits for the reply carrying `re`.
  async request(msg, timeout = 10_000) {
    const id = this.send(msg);
    return waitFor(() => this.messages.find((m) => m.re === id), { timeout, what: `reply to ${msg.type}` });
  }

  waitForMessage(pred, what, timeout = 10_000) {
    return waitFor(() => this.messages.find(pred), { timeout, what });
  }

  close() {
    try {
      this.ws?.terminate();
    } catch {
      // already gone
    }
  }
}

// Fails the test, naming the feature, when /ws does not answer.
export async function requireRooms(t, server, stream) {
  const probe = new WsClient(server, stream.id);
  try {
    await probe.open(5000);
  } catch (err) {
    missing(`server feature: websocket rooms at /ws (${err.message})`);
  } finally {
    probe.close();
  }
}

export async function openHost(t, server, stream) {
  const c = new WsClient(server, stream.id, stream.host_token);
  t.defer(() => c.close());
  const welcome = await c.open();
  assert(welcome.role === 'host', `host token gives role host (got ${welcome.role})`);
  return c;
}

// ---------- media ----------

// Publishes a synthetic portrait test stream over RTMP with ffmpeg; fails without ingest.
// `audio: false`: video only (a phone app with the microphone off, a screen capture).
// `protocol` 'srt': MPEG-TS over SRT instead of FLV over RTMP.
export function startPublisher(t, server, stream, { audio = true, protocol = 'rtmp' } = {}) {
  const srt = protocol === 'srt';
  if (!srt && !server.rtmpPort) missing('server feature: RTMP ingest (no rtmp_port in event=listening)');
  if (srt && !server.srtPort) missing('server feature: SRT ingest (no srt_port in event=listening)');
  const url = srt ? `srt://127.0.0.1:${server.srtPort}?streamid=#!::r=live/${stream.stream_key},m=publish`
                  : `rtmp://127.0.0.1:${server.rtmpPort}/live/${stream.stream_key}`;
  const args = ['-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=360x640:rate=25',
    ...(audio ? ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'] : []),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p',
    ...(audio ? ['-c:a', 'aac', '-b:a', '64k'] : []), '-f', srt ? 'mpegts' : 'flv', url];
  const errors = [];
  const child = startProcess('ffmpeg', args, { stdout: false, onOutput: (text) => errors.push(text) });
  t.defer(() => child.kill());
  return { proc: child.proc, url, errors, exited: child.exited.then(({ code }) => code) };
}

// Waits until the stream's HLS playlist has segments; fails if HLS never appears.
export async function requireHls(server, stream, timeout = 30_000) {
  const p = `/hls/${stream.id}/index.m3u8`;
  try {
    return await waitFor(async () => {
      const r = await server.fetch(p);
      return r.status === 200 && /#EXTINF/.test(r.text) ? r.text : false;
    }, { timeout, interval: 250, what: `${p} with segments` });
  } catch (err) {
    missing(`server feature: HLS output at ${p} (${err.message})`);
  }
}

// ---------- the browser ----------

// `args`: extra Chromium flags (e.g. --ignore-certificate-errors for a self-signed server).
export async function launchBrowser(t, { args = [] } = {}) {
  // playwright-core gives Chromium a fresh temporary --user-data-dir of its own and removes it
  // on close; each newContext() is a separate profile (its own localStorage).
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args] });
  t.defer(() => browser.close());
  return browser;
}

// A phone-sized page (390×844) unless told otherwise; page errors fail the test.
export async function newPage(t, browser, { width = 390, height = 844, locale = 'en-US', mobile = true, https = false } = {}) {
  const context = await browser.newContext({
    viewport: { width, height }, deviceScaleFactor: mobile ? 2 : 1, isMobile: mobile, hasTouch: mobile, locale,
    ignoreHTTPSErrors: https,  // the server's self-signed certificate
  });
  t.defer(() => context.close());
  const page = await context.newPage();
  page.on('pageerror', (err) => t.pageErrors.push(`${err.message}\n${err.stack || ''}`));
  page.on('console', (m) => {
    // Failed loads (an offline stream's playlist, a refused websocket) are expected noise.
    const noise = /Failed to load resource|WebSocket connection to/.test(m.text());
    if (process.env.HARVEST_TEST_VERBOSE || (m.type() === 'error' && !noise)) log(`page[${m.type()}]:`, m.text());
  });
  page.on('dialog', (d) => {
    t.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  return page;
}

// Logs a host page in through its sign-in form, as a person would. Waits for the token to
// be accepted (REST), and with `room` for the websocket's host welcome too.
export async function hostLogin(page, server, stream, { room = true } = {}) {
  await page.goto(`${server.base}/host/${stream.id}`);
  await page.fill('#token-input', stream.host_token);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('body[data-auth="ok"]', { timeout: 15_000 });
  if (room) await page.waitForSelector('body[data-role="host"]', { timeout: 15_000 });
}

// ---------- running a test ----------

export async function runTest(name, body, { timeout = 240_000 } = {}) {
  const cleanups = [];
  const t = {
    name,
    pageErrors: [],
    dialogs: [],
    defer(fn) {
      cleanups.push(fn);
    },
    tmpDir(prefix = 'harvest-web-') {
      const dir = mkdtempSync(path.join(tmpdir(), prefix));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    async server({ args = [] } = {}) {
      const s = new Server({ dataDir: t.tmpDir('harvest-data-'), adminToken: randomBytes(16).toString('hex'), args });
      cleanups.push(() => s.stop());
      t.servers.push(s);
      await s.start();
      log(`server listening: http ${s.httpPort}, rtmp ${s.rtmpPort ?? '-'}, srt ${s.srtPort ?? '-'}`);
      return s;
    },
    servers: [],
  };
  let code = 0;
  const timer = setTimeout(() => {
    console.error(`FAIL ${name}: whole-test deadline of ${timeout} ms passed`);
    for (const s of t.servers) s.proc?.kill('SIGKILL');
    process.exit(1);
  }, timeout);
  try {
    await body(t);
    if (t.pageErrors.length) throw new Error(`uncaught errors in the page:\n${t.pageErrors.join('\n')}`);
    console.log(`PASS ${name}`);
  } catch (err) {
    console.error(`FAIL ${name}: ${err.stack || err}`);
    for (const s of t.servers) console.error(`--- server log (last lines) ---\n${s.logTail()}`);
    code = 1;
  } finally {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${err.message}`);
      }
    }
    clearTimeout(timer);
  }
  process.exit(code);
}
