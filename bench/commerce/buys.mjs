// Benchmark 1: durable buys per second end to end over websockets, with ack latency.
// Each buyer connection keeps WINDOW buys outstanding; an order.confirmed (sent by the server
// only after the order's group commit fsync'd) releases the next one.
//   node buys.mjs <harvest-server binary> [connections=256] [window=16] [seconds=10] [workers=2]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startHarvest, connect, now, percentile, track } from './common.mjs';

async function worker([port, stream, conns, windowSize, seconds, base]) {
  const sockets = [];
  for (let i = 0; i < conns; i += 64) {
    sockets.push(...await Promise.all(Array.from({ length: Math.min(64, conns - i) }, (_, k) =>
      connect(`ws://127.0.0.1:${port}/ws?stream=${stream}&viewer_id=bench-buyer-${base + i + k}`))));
  }
  process.send({ ready: true });
  await new Promise((r) => process.once('message', r));
  const latencies = [];
  let confirmed = 0, rejected = 0;
  const stopAt = now() + seconds * 1000;
  const started = now();
  await Promise.all(sockets.map((ws, c) => new Promise((resolve) => {
    const sentAt = new Map();
    let seq = 0, inflight = 0;
    const sendOne = () => {
      const id = seq++;
      sentAt.set(id, now());
      inflight++;
      ws.send(`{"type":"buy","id":${id},"product_id":"bench","qty":1,"idempotency_key":"c${c}-${id}"}`);
    };
    ws.on('message', (data) => {
      const text = data.toString();
      if (!text.includes('"order.')) return;
      const m = JSON.parse(text);
      const t0 = sentAt.get(m.re);
      if (t0 === undefined) return;
      sentAt.delete(m.re);
      inflight--;
      if (m.type === 'order.confirmed') { confirmed++; latencies.push(now() - t0); } else rejected++;
      if (now() < stopAt) sendOne();
      else if (inflight === 0) resolve();
    });
    for (let k = 0; k < windowSize; k++) sendOne();
  })));
  const elapsed = now() - started;
  sockets.forEach((ws) => ws.terminate());
  // Exit only once the (large) report has gone through the IPC channel.
  process.send({ confirmed, rejected, elapsed, latencies }, () => process.exit(0));
}

export async function runBuys(bin, { connections = 256, windowSize = 16, seconds = 10, workers = 2 } = {}) {
  const server = await startHarvest(bin, { HARVEST_WS_MESSAGE_RATE: '1000000', HARVEST_WS_MESSAGE_BURST: '1000000' });
  try {
    const s = (await server.http('POST', '/api/streams', { title: 'bench', farmer: 'bench' })).json;
    await server.http('PUT', `/api/streams/${s.id}/products`,
                      { products: [{ id: 'bench', title: '隰县玉露香梨', price: 3990, currency: 'CNY', stock: 100000000 }] });
    const self = fileURLToPath(import.meta.url);
    const per = Math.ceil(connections / workers);
    const kids = Array.from({ length: workers }, (_, w) => track(fork(self, ['worker', server.port, s.id, per, windowSize, seconds, w * per])));
    await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
    const results = kids.map((k) => new Promise((r) => k.once('message', r)));
    kids.forEach((k) => k.send('go'));
    const all = await Promise.all(results);
    const confirmed = all.reduce((a, r) => a + r.confirmed, 0);
    const rejected = all.reduce((a, r) => a + r.rejected, 0);
    const elapsed = Math.max(...all.map((r) => r.elapsed)) / 1000;
    const lat = all.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const metrics = await server.metricsText();
    const groups = /harvest_store_commit_group_size_count (\d+)/.exec(metrics);
    const commitSum = Number(/harvest_store_commit_seconds_sum (\S+)/.exec(metrics)?.[1]);
    const durableSum = Number(/harvest_order_durable_seconds_sum (\S+)/.exec(metrics)?.[1]);
    const stored = (await server.http('GET', `/api/streams/${s.id}/report`)).json;
    return {
      connections: per * workers, window: windowSize, seconds: elapsed, confirmed, rejected,
      buys_per_s: confirmed / elapsed, p50_ms: percentile(lat, 50), p99_ms: percentile(lat, 99),
      commit_groups: groups ? Number(groups[1]) : NaN,
      orders_per_group: groups ? confirmed / Number(groups[1]) : NaN,
      mean_commit_ms: groups ? (commitSum * 1000) / Number(groups[1]) : NaN,
      mean_durable_ms: (durableSum * 1000) / confirmed,
      stored_orders: stored?.orders,
    };
  } finally {
    await server.stop();
  }
}

if (process.argv[2] === 'worker') {
  worker(process.argv.slice(3).map((v, i) => (i === 1 ? v : Number(v))));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [bin, connections, windowSize, seconds, workers] = process.argv.slice(2);
  const r = await runBuys(bin, { connections: Number(connections ?? 256), windowSize: Number(windowSize ?? 16),
                                 seconds: Number(seconds ?? 10), workers: Number(workers ?? 2) });
  console.log(JSON.stringify(r, null, 1));
  process.exit(0);
}
