// Benchmark 2: fan-out of one event to N connected viewers (default 10,000), harvest-server vs a
// broadcast server on npm `ws`, in one run. The event is a host chat message carrying the
// publisher's send time; each viewer records (receive time - send time).
//   node fanout.mjs <harvest-server binary> [viewers=10000] [events=20] [burst=20] [workers=4]
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startHarvest, connect, now, percentile, track } from './common.mjs';

const self = fileURLToPath(import.meta.url);

async function worker([url, count]) {
  const sockets = [];
  let received = 0;
  let latencies = [];
  let last = 0;
  const onMessage = (data) => {
    const text = data.toString();
    if (!text.includes('"chat"')) return;
    const m = JSON.parse(text);
    if (m.type !== 'chat') return;
    const t = now();
    latencies.push(t - Number(m.text));
    last = t;
    received++;
  };
  for (let i = 0; i < count; i += 250) {
    const batch = await Promise.all(Array.from({ length: Math.min(250, count - i) }, () => connect(url)));
    batch.forEach((ws) => ws.on('message', onMessage));
    sockets.push(...batch);
  }
  process.send({ ready: true });
  process.on('message', (cmd) => {
    if (cmd.reset) { received = 0; latencies = []; last = 0; return; }
    if (cmd.report) {
      process.send({ received, latencies, last });
      return;
    }
    if (cmd.exit) { sockets.forEach((ws) => ws.terminate()); process.exit(0); }
  });
}

async function measure(label, publisherUrl, viewerUrl, { viewers, events, burst, workers }) {
  const per = Math.ceil(viewers / workers);
  const kids = Array.from({ length: workers }, () => track(fork(self, ['worker', viewerUrl, per])));
  await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
  const pub = await connect(publisherUrl);
  const total = per * workers;
  const ask = async (cmd) => Promise.all(kids.map((k) => new Promise((r) => { k.once('message', r); k.send(cmd); })));
  const waitReceived = async (n, timeoutMs = 20000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reps = await ask({ report: true });
      const got = reps.reduce((a, r) => a + r.received, 0);
      if (got >= n || Date.now() > deadline) return reps;
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  // Warm-up event (connections settle, welcome/viewers traffic ends).
  pub.send(JSON.stringify({ type: 'chat.send', text: String(now()) }));
  await waitReceived(total);
  kids.forEach((k) => k.send({ reset: true }));

  // Single events, one at a time: delivery latency.
  let lat = [];
  const perEventAll = [];
  for (let e = 0; e < events; e++) {
    const t0 = now();
    pub.send(JSON.stringify({ type: 'chat.send', text: String(t0) }));
    const reps = await waitReceived(total);
    const lastAt = Math.max(...reps.map((r) => r.last));
    perEventAll.push(lastAt - t0);
    lat = lat.concat(reps.flatMap((r) => r.latencies));
    kids.forEach((k) => k.send({ reset: true }));
  }
  lat.sort((a, b) => a - b);
  perEventAll.sort((a, b) => a - b);

  // A burst of events back to back: delivered messages per second.
  const b0 = now();
  for (let e = 0; e < burst; e++) pub.send(JSON.stringify({ type: 'chat.send', text: String(now()) }));
  const reps = await waitReceived(total * burst, 60000);
  const got = reps.reduce((a, r) => a + r.received, 0);
  const bEnd = Math.max(...reps.map((r) => r.last));
  const blat = reps.flatMap((r) => r.latencies).sort((a, b) => a - b);
  kids.forEach((k) => k.send({ exit: true }));
  pub.terminate();
  return {
    server: label, viewers: total, events,
    p50_ms: percentile(lat, 50), p99_ms: percentile(lat, 99), max_ms: lat[lat.length - 1],
    all_delivered_p50_ms: percentile(perEventAll, 50),
    single_event_msgs_per_s: total / (percentile(perEventAll, 50) / 1000),
    burst_events: burst, burst_delivered: got, burst_msgs_per_s: got / ((bEnd - b0) / 1000),
    burst_p99_ms: percentile(blat, 99),
  };
}

export async function runFanout(bin, opts) {
  const results = [];
  // harvest-server
  const h = await startHarvest(bin, { HARVEST_WS_MESSAGE_RATE: '1000000', HARVEST_WS_MESSAGE_BURST: '1000000',
                                      HARVEST_WS_CHAT_RATE: '1000000', HARVEST_WS_CHAT_BURST: '1000000' });
  try {
    const s = (await h.http('POST', '/api/streams', { title: 'fanout', farmer: 'bench' })).json;
    results.push(await measure('harvest-server (lws, 1 loop thread)',
      `ws://127.0.0.1:${h.port}/ws?stream=${s.id}&token=${s.host_token}`,
      `ws://127.0.0.1:${h.port}/ws?stream=${s.id}`, opts));
  } finally {
    await h.stop();
  }
  // npm ws
  const w = track(spawn(process.execPath, [fileURLToPath(new URL('./ws_broadcast_server.mjs', import.meta.url))],
                        { stdio: ['ignore', 'pipe', 'inherit'] }));
  const port = await new Promise((resolve) => w.stdout.on('data', (d) => {
    const m = /port=(\d+)/.exec(d.toString());
    if (m) resolve(Number(m[1]));
  }));
  try {
    results.push(await measure('npm ws 8 (node 20, 1 process)', `ws://127.0.0.1:${port}/pub`,
                               `ws://127.0.0.1:${port}/sub`, opts));
  } finally {
    w.kill('SIGKILL');
  }
  return results;
}

if (process.argv[2] === 'worker') {
  worker([process.argv[3], Number(process.argv[4])]);
} else if (process.argv[1] === self) {
  const [bin, viewers, events, burst, workers] = process.argv.slice(2);
  const r = await runFanout(bin, { viewers: Number(viewers ?? 10000), events: Number(events ?? 20),
                                   burst: Number(burst ?? 20), workers: Number(workers ?? 4) });
  console.log(JSON.stringify(r, null, 1));
  process.exit(0);
}
