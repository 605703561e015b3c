// The security review (issue 21), against the real server binary over real sockets: path
// traversal on every file route (raw request lines, so nothing normalises the path on the way),
// headers on every answer (nosniff, CSP on pages, HSTS only under TLS), CORS, forged and
// tampered tokens and sessions, a viewer sending host commands, SQL metacharacters round-tripped
// through the store across a restart, and secrets and personal data absent from the log.
import net from 'node:net';
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, Client, ADMIN, run, assert, eq, waitUntil } from '../commerce/js/lib.mjs';
import { call } from '../accounts/js/farmers.mjs';
import { sqlRoundTrip, PAYMENT_ARGS } from './sql_roundtrip.mjs';

// One request written as given (the path byte for byte); the whole answer, parsed.
function rawRequest(port, head) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => sock.destroy(), 10000);
    sock.on('connect', () => sock.write(head));
    sock.on('data', (d) => { data = Buffer.concat([data, d]); });
    const done = () => {
      clearTimeout(timer);
      const text = data.toString('latin1');
      const [headText, ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headText)?.[1] ?? 0);
      const headers = {};
      for (const line of headText.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status, headers, body: rest.join('\r\n\r\n'), text });
    };
    sock.on('close', done);
    sock.on('error', () => {});
  });
}
const rawGet = (port, path, extra = '') =>
  rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`);

run('security_http', async (t) => {
  // Our own data dir: the store is read again by a second server after a restart.
  const dataDir = mkdtempSync(join(tmpdir(), 'harvest-security-'));
  t.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await Server.start({ dataDir, args: PAYMENT_ARGS });
  t.defer(() => server.stop());
  const port = server.port;
  const stream = await server.createStream('安全检查');

  // --- path traversal: files outside each route's root, each with a marker ---
  const marker = 'SECRET-MARKER-' + Math.random().toString(36).slice(2);
  for (const name of ['leak.m3u8', 'leak.ts', 'leak.jpg', 'leak.html']) writeFileSync(join(server.dataDir, name), marker);
  mkdirSync(join(server.dataDir, 'hls'), { recursive: true });
  const secretFile = readFileSync(join(server.dataDir, 'token-secret'), 'utf8').trim();
  assert(secretFile.length >= 32, 'the signing secret exists in the data dir (a traversal target)');
  const abs = server.dataDir;  // absolute, URL-safe (a temp dir)
  const attempts = [];
  const ups = (enc) => Array(12).fill(enc).join('');
  for (const up of ['../', '%2e%2e/', '..%2f', '%2e%2e%2f', '%2E%2E%2F', '..%5c', '.%2e/', '%252e%252e%252f', '..;/', '....//']) {
    for (const target of [`${abs.slice(1)}/leak.html`, `${abs.slice(1)}/token-secret`, 'etc/passwd']) {
      attempts.push(`/static/${ups(up)}${target}`);
      attempts.push(`/samples/images/${ups(up)}${target}`);
    }
    attempts.push(`/hls/${stream.id}/${ups(up)}${abs.slice(1)}/leak.m3u8`);
    attempts.push(`/hls/${stream.id}/replay/${ups(up)}${abs.slice(1)}/leak.ts`);
    attempts.push(`/hls/${up}${up}leak.m3u8`);
    attempts.push(`/images/${up}${up}leak.jpg`);
    attempts.push(`/images/${ups(up)}${abs.slice(1)}/leak.jpg`);
  }
  for (const p of [`/static/${abs}/leak.html`, `/static//${abs}/leak.html`, `/static/%2f${abs.slice(1)}/leak.html`,
                   `/static/css/base.css%00.html`, `/static/css%00/../../../../${abs.slice(1)}/leak.html`,
                   `/hls/${stream.id}/index.m3u8%00/../../../leak.m3u8`, `/hls/${stream.id}/%2f${abs.slice(1)}/leak.m3u8`,
                   `/images/%2f${abs.slice(1)}%2fleak.jpg`, `/samples/images/%2f${abs.slice(1)}/leak.html`,
                   `/static/..\\..\\..\\etc\\passwd`, `/${ups('../')}${abs.slice(1)}/leak.html`]) attempts.push(p);
  for (const p of attempts) {
    const r = await rawGet(port, p);
    assert(!r.text.includes(marker) && !r.text.includes(secretFile) && !/root:.*:0:0:/.test(r.text),
           `traversal served a file outside its root: ${p} -> ${r.status}`);
    assert(r.status >= 300 || r.status === 0 ? true : r.body.length > 0, 'answered: ' + p);
  }
  // The routes do serve what is inside their roots (the refusals above are not a dead route).
  eq((await rawGet(port, '/static/css/base.css')).status, 200, 'a real static file');
  eq((await rawGet(port, '/samples/images/pear-yulu.png')).status, 200, 'a real sample image');
  eq((await rawGet(port, '/api/health')).status, 200, 'still serving after the traversal attempts');

  // --- headers on every answer ---
  const answers = {
    page: await rawGet(port, '/'), watch: await rawGet(port, `/watch/${stream.id}`), trace: await rawGet(port, '/trace/abc'),
    farm: await rawGet(port, '/farm'), admin: await rawGet(port, '/admin'), dashboard: await rawGet(port, '/dashboard'),
    css: await rawGet(port, '/static/css/base.css'), js: await rawGet(port, '/static/js/dom.js'),
    json: await rawGet(port, '/api/streams'), health: await rawGet(port, '/api/health'),
    unauthorized: await rawGet(port, '/api/me'), notFound: await rawGet(port, '/no/such/route'),
    missingFile: await rawGet(port, '/static/nope.js'), hls404: await rawGet(port, `/hls/${stream.id}/index.m3u8`),
    image404: await rawGet(port, '/images/0000.jpg'), sample: await rawGet(port, '/samples/images/pear-yulu.png'),
    badMethod: await rawRequest(port, 'DELETE /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    whipOptions: await rawRequest(port, `OPTIONS /whip/${stream.id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    tooLong: await rawGet(port, '/' + 'a'.repeat(6000)),
  };
  for (const [what, r] of Object.entries(answers)) {
    assert(r.status > 0, `${what}: answered`);
    eq(r.headers['x-content-type-options'], 'nosniff', `${what} (${r.status}) carries X-Content-Type-Options: nosniff`);
    assert(!('strict-transport-security' in r.headers), `${what}: no HSTS over plain HTTP`);
    assert(!('access-control-allow-credentials' in r.headers), `${what}: never Access-Control-Allow-Credentials`);
  }
  for (const what of ['page', 'watch', 'trace', 'farm', 'admin', 'dashboard']) {
    const csp = answers[what].headers['content-security-policy'] ?? '';
    assert(/script-src 'self'(;|$)/.test(csp) && !/unsafe-inline[^;]*;?\s*$/.test(csp.split('script-src')[1].split(';')[0]),
           `${what}: a CSP without inline script: ${csp}`);
    assert(/object-src 'none'/.test(csp) && /frame-ancestors 'none'/.test(csp), `${what}: no plugins, no framing`);
  }

  // --- CORS: credentialed (cookie/bearer) routes never allow another origin ---
  const evil = 'Origin: https://evil.example\r\n';
  for (const p of ['/api/me', '/api/me/products', '/api/me/streams', '/api/me/orders', '/api/farmers', '/api/streams',
                   `/api/streams/${stream.id}`, `/api/streams/${stream.id}/orders`, `/api/streams/${stream.id}/report`, '/metrics']) {
    const r = await rawGet(port, p, evil);
    assert(!('access-control-allow-origin' in r.headers), `${p}: no Access-Control-Allow-Origin (got ${r.headers['access-control-allow-origin']})`);
  }
  const preflight = await rawRequest(port, `OPTIONS /api/login HTTP/1.1\r\nHost: x\r\n${evil}Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n`);
  assert(!('access-control-allow-origin' in preflight.headers), 'no preflight approval for sign-in');
  // WHIP is cross-origin by design (OBS and other publishers): * without credentials, the
  // stream key travels in Authorization, never in a cookie.
  eq(answers.whipOptions.headers['access-control-allow-origin'], '*', 'WHIP allows any origin (no cookies)');

  // --- forged tokens and sessions ---
  eq((await call(server, 'GET', '/api/me', { cookie: 'hl_session=' + 'a'.repeat(64) })).status, 401, 'a random session cookie');
  eq((await call(server, 'GET', '/api/me/products', { cookie: 'hl_session=' + '0'.repeat(43) })).status, 401, 'a random session on a farmer route');
  eq((await call(server, 'GET', '/api/me', { cookie: 'hl_session=' })).status, 401, 'an empty session cookie');
  const flip = (s) => s.slice(0, -1) + (s.endsWith('0') ? '1' : '0');
  eq((await call(server, 'POST', `/api/streams/${stream.id}/host_token`, { token: flip(stream.host_token) })).status, 401,
     'a tampered host token');
  const forgedExp = stream.host_token.replace(/^(h1\.[^.]+\.)(\d+)\./, (_, a, e) => `${a}${Number(e) + 100000}.`);
  eq((await call(server, 'POST', `/api/streams/${stream.id}/host_token`, { token: forgedExp })).status, 401,
     'a host token with its expiry pushed out');
  const other = await server.createStream('另一家');
  const cross = (await call(server, 'GET', `/api/streams/${other.id}/orders`, { token: stream.host_token })).status;
  assert(cross === 401 || cross === 403, "one stream's host token on another stream: " + cross);
  assert(!('stream_key' in (await call(server, 'GET', `/api/streams/${other.id}`, { token: stream.host_token })).json),
         "another stream's key is not shown to a host");
  const viewer = await Client.connect(server, { stream: stream.id });
  t.defer(() => viewer.close());
  const welcome = await viewer.waitFor((m) => m.type === 'welcome');
  const buyer = welcome.buyer_token;
  eq((await call(server, 'GET', '/api/me/orders', { token: buyer })).status, 200, 'a genuine buyer token');
  eq((await call(server, 'GET', '/api/me/orders', { token: flip(buyer) })).status, 401, 'a tampered buyer token');
  eq((await call(server, 'GET', '/api/me/orders', { token: buyer.replace(/^b1\.[^.]+\./, 'b1.someoneelse.') })).status, 401,
     "a buyer token with another buyer's id");
  // A viewer's websocket cannot act as the host.
  for (const cmd of [{ type: 'card.show', product_id: 'x' }, { type: 'card.hide' }]) {
    const r = await viewer.request(cmd);
    eq(r.code, 'forbidden', `${cmd.type} from a viewer`);
  }
  const viewerAsHost = await Client.connect(server, { stream: stream.id, role: 'host', token: flip(stream.host_token) })
    .then((c) => c, (e) => e);
  if (viewerAsHost instanceof Client) {
    t.defer(() => viewerAsHost.close());
    const w = await Promise.race([viewerAsHost.waitFor((m) => m.type === 'welcome' || m.type === 'error'),
                                  viewerAsHost.waitClosed().then(() => ({ type: 'closed' }))]);
    assert(w.type !== 'welcome' || w.role !== 'host', 'a tampered host token does not make a host: ' + JSON.stringify(w));
  }

  // --- SQL metacharacters through every store input, across a restart (sql_roundtrip.mjs) ---
  const sql = await sqlRoundTrip(t, server, async () => {
    await server.stop();
    const again = await Server.start({ dataDir: server.dataDir, args: PAYMENT_ARGS });
    t.defer(() => again.stop());
    return again;
  });
  const again = sql.again;

  // --- secrets and personal data never in the log (both servers' output) ---
  const log = server.log + again.log;
  for (const [what, secret] of [...sql.secrets, ['address', '洛川县'], ['stream key', stream.stream_key],
                                ['host token', stream.host_token], ['host token mac', stream.host_token.split('.').pop()],
                                ['buyer token', buyer], ['admin token', ADMIN], ['signing secret', secretFile]]) {
    assert(!log.includes(secret), `the log holds the ${what}`);
  }
});
