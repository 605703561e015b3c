// Sign-in figures (docs/benchmarks.md "Accounts"), against the release server:
//   1. the time a wrong password and an unknown username take, interleaved (they must not tell
//      an attacker which usernames exist), 30 of each, sequential;
//   2. sign-ins per second with 4 clients at once (argon2id on its one worker thread);
//   3. a viewer's websocket round trip (ping → pong) while sign-ins run flat out, against the
//      same with no sign-ins: the hashing must not stall the loop.
// Prints figures; never fails on time.
// Usage: node bench/accounts/signin.mjs [path/to/harvest-server]
import { Server, Client, ADMIN } from '../../tests/commerce/js/lib.mjs';
import { call, createFarmer } from '../../tests/accounts/js/farmers.mjs';

const bin = process.argv[2] ?? new URL('../../build/server/harvest-server', import.meta.url).pathname;
process.env.HARVEST_SERVER_BIN = bin;
const server = await Server.start({ args: ['--login-attempts-per-address', '1000000', '--login-failures-per-account', '1000000'] });
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const fmt = (xs) => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p90 ${pct(xs, 0.9).toFixed(1)} ms, mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)} ms`;

try {
  await createFarmer(server, 'wang', 'pear orchard 7', 'W');
  const timed = async (body) => {
    const t0 = performance.now();
    const r = await call(server, 'POST', '/api/login', { body });
    return { ms: performance.now() - t0, status: r.status, text: r.text };
  };
  const wrong = [], unknown = [];
  for (let i = 0; i < 30; i++) {
    const a = await timed({ username: 'wang', password: 'wrong ' + i });
    const b = await timed({ username: 'nobody' + i, password: 'wrong ' + i });
    if (a.status !== 401 || b.status !== 401 || a.text !== b.text) throw new Error('answers differ');
    wrong.push(a.ms);
    unknown.push(b.ms);
  }
  console.log(`wrong password: ${fmt(wrong)}`);
  console.log(`unknown user:   ${fmt(unknown)}`);

  const pingRtt = async (viewer, n) => {
    const out = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await viewer.request({ type: 'ping' });
      out.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));  // under the room's message rate limit
    }
    return out;
  };
  const stream = await server.createStream('bench');
  const viewer = await Client.connect(server, { stream: stream.id });
  await viewer.waitFor((m) => m.type === 'welcome');
  const quiet = await pingRtt(viewer, 40);

  let stop = false, done = 0, busy = 0;
  const worker = async () => {
    while (!stop) {
      const r = await call(server, 'POST', '/api/login', { body: { username: 'wang', password: 'pear orchard 7' } });
      if (r.status === 200) done++;
      else if (r.status === 503) busy++;
    }
  };
  const t0 = performance.now();
  const workers = Array.from({ length: 4 }, worker);
  const loaded = await pingRtt(viewer, 40);
  await new Promise((r) => setTimeout(r, 5000));
  stop = true;
  await Promise.all(workers);
  const secs = (performance.now() - t0) / 1000;
  console.log(`sign-ins: ${(done / secs).toFixed(1)}/s with 4 clients (${done} in ${secs.toFixed(1)} s, ${busy} answered 503 busy)`);
  console.log(`viewer ping round trip, no sign-ins:  ${fmt(quiet)}`);
  console.log(`viewer ping round trip, sign-ins running: ${fmt(loaded)}`);
  viewer.close();
} finally {
  await server.stop();
}
