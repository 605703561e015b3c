#!/usr/bin/env node
// What each flood of issue 21 does to everyone else: a bystander buyer's `buy` ack latency and
// a bystander viewer's fan-out latency (host card.show -> card.shown at the viewer), unloaded
// and while each flood runs (the flood repeated for the whole sampling window). Prints the
// median and p99 and the ratio to the unloaded figure. Never fails on time; figures go into
// docs/reliability.md "## Floods".
//
//   HARVEST_SERVER_BIN=build/server/harvest-server node bench/faults/floods.mjs [samples]
//
// The floods and the bystanders are tests/faults/js/flood_lib.mjs (the same as the test's); each
// flood runs in a worker thread (flood_worker.mjs) so its client work does not starve the
// bystanders. Run with `ulimit -n 20000` for 5,000 websockets.
import { Server } from '../../tests/commerce/js/lib.mjs';
import { Worker } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { Bystanders } from '../../tests/faults/js/flood_lib.mjs';

const SAMPLES = Number(process.argv[2] ?? 40);
const CONNECTIONS = Number(process.env.FLOOD_CONNECTIONS ?? 5000);

const server = await Server.start({ env: { ASAN_OPTIONS: 'detect_leaks=0' } });
const rtmpPort = Number(/event=listening .*rtmp_port=(\d+)/.exec(server.log)[1]);
const srtPort = Number(/event=listening .*srt_port=(\d+)/.exec(server.log)[1]);
const stream = await server.createStream('flood bench');
await server.putProducts(stream.id, [
  { id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 1000000, image: '' },
  { id: 'pear', title: '砀山梨', price: 1500, currency: 'CNY', stock: 1000000, image: '' }]);
const by = await Bystanders.start(server, stream);
const benchStart = Date.now();
let benchDone = false;  // the bench closes the bystanders itself at the end
for (const [who, c] of [['host', by.host], ['buyer', by.buyer], ['viewer', by.viewer]])
  c.ws.on('close', (code, reason) => { if (!benchDone) console.log(`bystander ${who} closed ${code} ${reason} at ${Date.now() - benchStart} ms`); });
if (process.env.FLOOD_SERVER_LOG) process.on('exit', () => writeFileSync(process.env.FLOOD_SERVER_LOG, server.log));

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
async function sample(n) {
  const buy = [];
  const fan = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const b = await by.buy('pear');
    if (b.ok) buy.push(b.ms); else failed++;
    const f = await by.fanout(i % 2 ? 'apple' : 'pear');
    if (f.ok) fan.push(f.ms); else failed++;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { buy, fan, failed };
}
// Runs the flood `name` (bench/faults/flood_worker.mjs) in a worker thread over and over while
// sampling; `waitFor` (optional) is a message from the worker to wait for before sampling.
async function during(name, n, { waitFor = null, samples = n } = {}) {
  const w = new Worker(new URL('./flood_worker.mjs', import.meta.url),
                       { workerData: { name, port: server.port, rtmpPort, srtPort, stream, connections: CONNECTIONS } });
  const seen = [];
  let done = null;
  const finished = new Promise((r) => { done = r; });
  w.on('message', (m) => { seen.push(m); if (m.done) done(); });
  w.on('error', (e) => { console.error(name, e); done(); });
  w.on('exit', () => done());
  const t0 = Date.now();
  while (!seen.some((m) => m.started)) await new Promise((r) => setTimeout(r, 20));
  if (waitFor) while (!seen.some((m) => m[waitFor] !== undefined)) await new Promise((r) => setTimeout(r, 50));
  else await new Promise((r) => setTimeout(r, 1000));  // let it build up
  const info = seen.find((m) => waitFor && m[waitFor] !== undefined);
  const s = await sample(samples);
  w.postMessage('stop');
  await Promise.race([finished, new Promise((r) => setTimeout(r, 60000))]);
  await w.terminate();
  s.info = info ? `(${info.opened} open, ${info.refused} refused, in ${Date.now() - t0} ms incl. sampling)` : '';
  return s;
}

const rows = [];
const base = await sample(SAMPLES);
const report = (name, s, note = '') => {
  const row = {
    flood: name,
    buy_p50: pct(s.buy, 0.5), buy_p99: pct(s.buy, 0.99), fan_p50: pct(s.fan, 0.5), fan_p99: pct(s.fan, 0.99), failed: s.failed, note,
  };
  row.buy_x = row.buy_p50 / pct(base.buy, 0.5);
  row.fan_x = row.fan_p50 / pct(base.fan, 0.5);
  rows.push(row);
  console.log(`${name.padEnd(34)} buy ack p50 ${row.buy_p50.toFixed(1)} ms p99 ${row.buy_p99.toFixed(1)} ms (${row.buy_x.toFixed(2)}x)  ` +
              `fan-out p50 ${row.fan_p50.toFixed(1)} ms p99 ${row.fan_p99.toFixed(1)} ms (${row.fan_x.toFixed(2)}x)  failed ${s.failed} ${note}`);
};
report('unloaded', base);

let s = await during('hold', SAMPLES, { waitFor: 'opened' });
report(`${CONNECTIONS} websockets held`, s, s.info);
report(`${CONNECTIONS} websockets opening at once`, await during('opening', SAMPLES, { samples: Math.min(SAMPLES, 15) }));
report('buy flood (one client, reconnecting)', await during('buy', SAMPLES));
report('chat spam (one client, reconnecting)', await during('chat', SAMPLES));
report('head slowloris (300 connections)', await during('slowloris', SAMPLES));
report('uploads at 6 MiB (8 at once)', await during('uploads', SAMPLES));
report('half-open RTMP (200 at once)', await during('rtmp', SAMPLES));
report('WHIP offers, wrong key (200 at once)', await during('whip', SAMPLES));
report('WHIP offers, right key (40 at once)', await during('whipKey', SAMPLES));
report('SRT callers, wrong key (100) + 500 half-open', await during('srt', SAMPLES));
report('HTTP requests, one address (300 at once)', await during('http', SAMPLES));

console.log('\n| flood | buy ack p50 / p99 (ms) | × unloaded | fan-out p50 / p99 (ms) | × unloaded | failed |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.flood} ${r.note} | ${r.buy_p50.toFixed(1)} / ${r.buy_p99.toFixed(1)} | ${r.buy_x.toFixed(2)} | ` +
              `${r.fan_p50.toFixed(1)} / ${r.fan_p99.toFixed(1)} | ${r.fan_x.toFixed(2)} | ${r.failed} |`);
}
benchDone = true;
by.close();
await server.stop();
process.exit(0);
