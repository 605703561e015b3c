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
//
// The 5,000 websockets are two things, printed apart: a *flood* (bots opening to another
// stream's room, read against the unloaded room) and an *audience* (viewers in the bystanders'
// own room, to whom every buy and card change goes; read against the same room with 5,000
// idle viewers in it). Each row also prints where the 2 cores went (server and bench threads:
// ran, and waited for a CPU). FLOOD_ONLY=ws,uploads runs only those rows; FLOOD_NICE=N runs
// the flood's clients at nice N (bots do not share the server's cores in real life);
// FLOOD_PIN=1 goes further: the flood's clients get the last CPU to themselves, the server and
// the bystanders the others (on 2 cores: one each), baselines included.
import { Server } from '../../tests/commerce/js/lib.mjs';
import { Worker } from 'node:worker_threads';
import { execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Bystanders } from '../../tests/faults/js/flood_lib.mjs';

const SAMPLES = Number(process.argv[2] ?? 40);
const CONNECTIONS = Number(process.env.FLOOD_CONNECTIONS ?? 5000);

const server = await Server.start({ env: { ASAN_OPTIONS: 'detect_leaks=0' } });
const rtmpPort = Number(/event=listening .*rtmp_port=(\d+)/.exec(server.log)[1]);
const srtPort = Number(/event=listening .*srt_port=(\d+)/.exec(server.log)[1]);
// FLOOD_PIN: every thread of the server and of this process (the bystanders) on all CPUs but
// the last; threads made later inherit it. The flood worker moves itself to the last one.
const floodCpus = process.env.FLOOD_PIN ? String(cpus().length - 1) : null;
if (floodCpus) {
  const others = cpus().length > 1 ? `0-${cpus().length - 2}` : '0';
  for (const pid of [server.proc.pid, process.pid])
    execFileSync('taskset', ['-a', '-p', '-c', others, String(pid)], { stdio: 'ignore' });
  console.log(`flood clients on CPU ${floodCpus}; the server and the bystanders on CPU ${others}`);
}
const stream = await server.createStream('flood bench');
await server.putProducts(stream.id, [
  { id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 1000000, image: '' },
  { id: 'pear', title: '砀山梨', price: 1500, currency: 'CNY', stock: 1000000, image: '' }]);
// The flood's own room: bots opening websockets to another live stream must not cost the
// bystanders more than 2x (issue 21). Bots in the bystanders' own room are an audience, not a
// flood: every buy and card change is fanned out to them, which has its own baseline below.
const floodStream = await server.createStream('flood bench: the bots\' room');
await server.putProducts(floodStream.id, [
  { id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 1000000, image: '' }]);
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
// `room`: the stream the flood's websockets open to (default: the bystanders').
// The room is sampled unloaded first, just before the flood: the 2 cores are shared with
// other work whose load drifts over minutes (load averages of 1 to 12 while these figures were
// taken), so each flood is read against the unloaded room of the same minute.
async function during(name, n, { waitFor = null, samples = n, room = stream } = {}) {
  const before = await timed(() => sample(samples));
  const counters = new SharedArrayBuffer(4);
  const data = { name, port: server.port, rtmpPort, srtPort, stream, room, connections: CONNECTIONS,
                 nice: Number(process.env.FLOOD_NICE ?? 0), cpus: floodCpus };
  const workerUrl = new URL('./flood_worker.mjs', import.meta.url);
  // Pinned, the flood is a process of its own (flood_worker.mjs says why); `opened` then comes
  // as messages.
  let openedSoFar = 0;
  const w = floodCpus
    ? fork(fileURLToPath(workerUrl), [], { env: { ...process.env, FLOOD_WORKER_DATA: JSON.stringify(data) } })
    : new Worker(workerUrl, { workerData: { ...data, counters } });
  floodPid = floodCpus ? w.pid : null;
  const seen = [];
  let done = null;
  const finished = new Promise((r) => { done = r; });
  w.on('message', (m) => {
    if (m.openedSoFar !== undefined) { openedSoFar = m.openedSoFar; return; }
    seen.push(m);
    if (m.done) done();
  });
  w.on('error', (e) => { console.error(name, e); done(); });
  w.on('exit', () => done());
  const t0 = Date.now();
  while (!seen.some((m) => m.started)) await new Promise((r) => setTimeout(r, 20));
  if (waitFor) while (!seen.some((m) => m[waitFor] !== undefined)) await new Promise((r) => setTimeout(r, 50));
  else await new Promise((r) => setTimeout(r, 1000));  // let it build up
  const info = seen.find((m) => waitFor && m[waitFor] !== undefined && m.opened !== undefined);
  const openedAt = () => (floodCpus ? openedSoFar : Atomics.load(new Int32Array(counters), 0));
  const [o0, t1] = [openedAt(), Date.now()];
  const s = await timed(() => sample(samples));
  const opensPerS = (openedAt() - o0) / ((Date.now() - t1) / 1000);
  if (floodCpus) w.send('stop'); else w.postMessage('stop');
  await Promise.race([finished, new Promise((r) => setTimeout(r, 60000))]);
  if (floodCpus) w.kill(); else await w.terminate();
  floodPid = null;
  s.before = before;
  s.info = info ? `(${info.opened} open, ${info.refused} refused, in ${Date.now() - t0} ms incl. sampling)` : '';
  if (name === 'opening') {
    // CPU per 1,000 websockets opened (and closed): the server's, and the bench's (its clients).
    const opened = opensPerS * s.wall / 1000;
    const per1000 = (ms) => (opened > 0 ? (ms / opened * 1000).toFixed(0) : '?');
    s.info = `(${opensPerS.toFixed(0)} opened/s while sampled; CPU per 1,000 opened: server ${per1000(s.cpu.serverRun)} ms, ` +
             `bench ${per1000(s.cpu.benchRun)} ms)`;
  }
  return s;
}

// Where the 2 cores went while a row was sampled, for the server and for this process (the
// bench's clients, its flood worker included): the time their threads ran, and the time they
// were ready to run but waited for a CPU (/proc/PID/task/*/schedstat: run ns, wait ns). A
// bystander's buy crosses ~6 threads (bench, shard, loop, store writer, loop, shard, bench);
// each waits its turn for a core when the box is busy, whoever makes it busy.
const schedstat = (pid) => {
  let run = 0; let wait = 0;
  let tasks = [];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { /* it ended */ }
  for (const t of tasks) {
    try {
      const [r, w] = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ').map(Number);
      run += r; wait += w;
    } catch { /* the thread ended */ }
  }
  return { run: run / 1e6, wait: wait / 1e6 };  // ms
};
// A forked flood (FLOOD_PIN) counts as the bench's.
let floodPid = null;
const add = (a, b) => ({ run: a.run + b.run, wait: a.wait + b.wait });
const cpuNow = () => ({ at: Date.now(), server: schedstat(server.proc.pid),
                        bench: floodPid ? add(schedstat(process.pid), schedstat(floodPid)) : schedstat(process.pid) });
const cpuSince = (c0) => {
  const c1 = cpuNow();
  const wall = c1.at - c0.at;
  const pc = (ms) => `${(ms / wall * 100).toFixed(0)}`;
  const text = `server ran ${pc(c1.server.run - c0.server.run)} %, waited ${pc(c1.server.wait - c0.server.wait)} %; ` +
               `bench ran ${pc(c1.bench.run - c0.bench.run)} %, waited ${pc(c1.bench.wait - c0.bench.wait)} % (of one core)`;
  return { text, serverRun: c1.server.run - c0.server.run, benchRun: c1.bench.run - c0.bench.run };
};

const rows = [];
// Each row is read against a baseline of the same shape: `unloaded` (3 connections in the room)
// for the floods, `audience` (the same 3 plus CONNECTIONS idle viewers in the room) for a flood
// that runs with an audience in the room.
const baselines = {};
const report = (name, s, { note = s.info ?? '', against = 'unloaded' } = {}) => {
  // `unloaded`: the room sampled just before this flood (during), else the first one.
  const base = (against === 'unloaded' ? s.before : null) ?? baselines[against] ?? s;
  const row = {
    flood: name, against,
    buy_p50: pct(s.buy, 0.5), buy_p99: pct(s.buy, 0.99), fan_p50: pct(s.fan, 0.5), fan_p99: pct(s.fan, 0.99), failed: s.failed, note,
    cpu: s.cpu?.text ?? '',
  };
  row.buy_x = row.buy_p50 / pct(base.buy, 0.5);
  // Fan-out is timed with Date.now(): a baseline of 0 ms reads as its 1 ms resolution.
  row.fan_x = row.fan_p50 / Math.max(pct(base.fan, 0.5), 1);
  row.base = `${against} ${pct(base.buy, 0.5).toFixed(1)} / ${pct(base.fan, 0.5).toFixed(1)} ms`;
  rows.push(row);
  console.log(`${name.padEnd(34)} buy ack p50 ${row.buy_p50.toFixed(1)} ms p99 ${row.buy_p99.toFixed(1)} ms (${row.buy_x.toFixed(2)}x ${against})  ` +
              `fan-out p50 ${row.fan_p50.toFixed(1)} ms p99 ${row.fan_p99.toFixed(1)} ms (${row.fan_x.toFixed(2)}x) against ${row.base}  failed ${s.failed} ${note} ${row.cpu}`);
};
const timed = async (f) => {
  const c0 = cpuNow();
  const s = await f();
  s.cpu = cpuSince(c0);
  s.wall = Date.now() - c0.at;
  return s;
};
if (process.env.FLOOD_NICE) console.log(`flood clients at nice ${process.env.FLOOD_NICE}`);
console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').trim()}; server pid ${server.proc.pid}`);
baselines.unloaded = await timed(() => sample(SAMPLES));
report('unloaded (3 connections)', baselines.unloaded);

// FLOOD_ONLY=ws,uploads (optional): only those groups of rows (ws: the websocket floods and the
// audience; otherwise a flood's worker name), to look at one of them without the whole run.
const only = process.env.FLOOD_ONLY ? new Set(process.env.FLOOD_ONLY.split(',')) : null;
const wanted = (key) => !only || only.has(key);
if (wanted('ws')) {
  // The flood: CONNECTIONS bots opening websockets to another stream's room.
  const floodRoom = { room: floodStream };
  report(`flood: ${CONNECTIONS} websockets held, another room`,
         await during('hold', SAMPLES, { waitFor: 'opened', ...floodRoom }));
  report(`flood: ${CONNECTIONS} websockets opening at once, another room, over and over`,
         await during('opening', SAMPLES, { waitFor: 'roundDone', ...floodRoom }));
  // The audience: CONNECTIONS viewers in the bystanders' own room. Idle, they are the baseline
  // of a crowded room (each buy and card change goes to all of them); printed against the
  // unloaded room too, which is the audience's cost, not a flood's.
  baselines.audience = await during('hold', SAMPLES, { waitFor: 'opened' });
  report(`audience: ${CONNECTIONS} idle viewers in the room (its own baseline)`, baselines.audience, { against: 'audience' });
  report(`audience: ${CONNECTIONS} idle viewers in the room`, baselines.audience);
  report(`audience: ${CONNECTIONS} viewers opening at once into the room, over and over`,
         await during('opening', SAMPLES, { waitFor: 'roundDone' }), { against: 'audience' });
}
const floods = [
  ['buy', 'buy flood (one client, reconnecting)'],
  ['chat', 'chat spam (one client, reconnecting)'],
  ['slowloris', 'head slowloris (300 connections)'],
  ['uploads', 'uploads at 6 MiB (8 at once)'],
  ['rtmp', 'half-open RTMP (200 at once)'],
  ['whip', 'WHIP offers, wrong key (200 at once)'],
  ['whipKey', 'WHIP offers, right key (40 at once)'],
  ['srt', 'SRT callers, wrong key (100) + 500 half-open'],
  ['http', 'HTTP requests, one address (300 at once)'],
];
for (const [key, title] of floods) if (wanted(key)) report(title, await during(key, SAMPLES));

console.log('\n| flood | buy ack p50 / p99 (ms) | × baseline (p50) | fan-out p50 / p99 (ms) | × baseline (p50) | baseline: buy / fan-out p50 | failed | CPU while sampled |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.flood} ${r.note} | ${r.buy_p50.toFixed(1)} / ${r.buy_p99.toFixed(1)} | ${r.buy_x.toFixed(2)} | ` +
              `${r.fan_p50.toFixed(1)} / ${r.fan_p99.toFixed(1)} | ${r.fan_x.toFixed(2)} | ${r.base} | ${r.failed} | ${r.cpu} |`);
}
benchDone = true;
by.close();
await server.stop();
process.exit(0);
