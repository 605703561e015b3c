#!/usr/bin/env node
// What each flood of issue 21 does to everyone else: a bystander buyer's `buy` ack latency and
// a bystander viewer's fan-out latency (host card.show -> card.shown at the viewer), unloaded
// and while each flood runs (the flood repeated for the whole sampling window). Prints the
// median and p95 and the ratio to the unloaded figure. Never fails on time; figures go into
// docs/reliability.md "## Floods".
//
//   HARVEST_SERVER_BIN=build/server/harvest-server node bench/faults/floods.mjs [samples]
//
// The floods and the bystanders are tests/faults/js/flood_lib.mjs (the same as the test's).
import { Server } from '../../tests/commerce/js/lib.mjs';
import { Bystanders, openMany, buyFlood, chatSpam, slowloris, uploads, halfOpenRtmp, whipFlood } from '../../tests/faults/js/flood_lib.mjs';

const SAMPLES = Number(process.argv[2] ?? 40);
const CONNECTIONS = Number(process.env.FLOOD_CONNECTIONS ?? 5000);

const server = await Server.start({ env: { ASAN_OPTIONS: 'detect_leaks=0' } });
const rtmpPort = Number(/event=listening .*rtmp_port=(\d+)/.exec(server.log)[1]);
const stream = await server.createStream('flood bench');
await server.putProducts(stream.id, [
  { id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 1000000, image: '' },
  { id: 'pear', title: '砀山梨', price: 1500, currency: 'CNY', stock: 1000000, image: '' }]);
const by = await Bystanders.start(server, stream);

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
// Runs `flood` over and over (or once, when it holds its load itself) while sampling.
async function during(flood, n) {
  let stop = false;
  const loop = (async () => { while (!stop) { try { await flood(() => stop); } catch { /* keep flooding */ } } })();
  await new Promise((r) => setTimeout(r, 1000));  // let it build up
  const s = await sample(n);
  stop = true;
  await loop;
  return s;
}

const rows = [];
const base = await sample(SAMPLES);
const report = (name, s, note = '') => {
  const row = {
    flood: name,
    buy_p50: pct(s.buy, 0.5), buy_p95: pct(s.buy, 0.95), fan_p50: pct(s.fan, 0.5), fan_p95: pct(s.fan, 0.95), failed: s.failed, note,
  };
  row.buy_x = row.buy_p50 / pct(base.buy, 0.5);
  row.fan_x = row.fan_p50 / pct(base.fan, 0.5);
  rows.push(row);
  console.log(`${name.padEnd(34)} buy ack p50 ${row.buy_p50.toFixed(1)} ms p95 ${row.buy_p95.toFixed(1)} ms (${row.buy_x.toFixed(2)}x)  ` +
              `fan-out p50 ${row.fan_p50.toFixed(1)} ms p95 ${row.fan_p95.toFixed(1)} ms (${row.fan_x.toFixed(2)}x)  failed ${s.failed} ${note}`);
};
report('unloaded', base);

// Websockets held: opened once, kept open while sampling.
{
  const t0 = Date.now();
  const many = await openMany(server, stream, CONNECTIONS);
  const openMs = Date.now() - t0;
  report(`${CONNECTIONS} websockets held`, await sample(SAMPLES), `(${many.open} open, ${many.refused} refused, opened in ${openMs} ms)`);
  // And while they all connect at once.
  many.sockets.forEach((ws) => ws.terminate());
  let again = null;
  const opening = openMany(server, stream, CONNECTIONS).then((m) => { again = m; });
  report(`${CONNECTIONS} websockets opening at once`, await sample(Math.min(SAMPLES, 15)));
  await opening;
  again.sockets.forEach((ws) => ws.terminate());
}
report('buy flood (one client, reconnecting)', await during(() => buyFlood(server, stream, 'apple', 3000), SAMPLES));
report('chat spam (one client, reconnecting)', await during(() => chatSpam(server, stream, 1000, by.viewer), SAMPLES));
report('head slowloris (300 connections)', await during(() => slowloris(server, 300, { everyMs: 1000, giveUpMs: 30000 }), SAMPLES));
report('uploads at 6 MiB (8 at once)', await during(() => uploads(server, stream, 8, 6 * 1024 * 1024), SAMPLES));
report('half-open RTMP (200 at once)', await during(() => halfOpenRtmp(rtmpPort, 200, { giveUpMs: 10000 }), SAMPLES));
report('WHIP offers, wrong key (200 at once)', await during(() => whipFlood(server, stream.id, 200, 'wrong-key'), SAMPLES));

console.log('\n| flood | buy ack p50 / p95 (ms) | × unloaded | fan-out p50 / p95 (ms) | × unloaded | failed |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.flood} ${r.note} | ${r.buy_p50.toFixed(1)} / ${r.buy_p95.toFixed(1)} | ${r.buy_x.toFixed(2)} | ` +
              `${r.fan_p50.toFixed(1)} / ${r.fan_p95.toFixed(1)} | ${r.fan_x.toFixed(2)} | ${r.failed} |`);
}
by.close();
await server.stop();
process.exit(0);
