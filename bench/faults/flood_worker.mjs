// One flood of bench/faults/floods.mjs, run in a worker thread so that the flood's own client
// work (thousands of sockets, parsing) does not starve the bystanders' event loop and show up
// as server latency. Repeats the flood until the parent posts 'stop', then posts 'done'.
// With FLOOD_PIN the parent forks it as a process of its own instead (a worker thread shares
// V8's helper threads, its garbage collection among them, with the parent's CPU): the same
// messages go over the IPC channel, and `opened` is posted instead of shared.
import { parentPort as workerPort, workerData as workerArgs } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import * as floods from '../../tests/faults/js/flood_lib.mjs';

const forked = !workerPort;
const workerData = forked ? JSON.parse(process.env.FLOOD_WORKER_DATA) : workerArgs;
const parentPort = forked
  ? { postMessage: (m) => process.send(m), on: (event, f) => process.on(event, f) }
  : workerPort;
// `room`: the stream the websocket floods open to (the bystanders' own, or another's).
const { name, port, rtmpPort, srtPort, stream, room, connections, nice, cpus, counters } = workerData;
// `nice` (FLOOD_NICE): this thread (the flood's clients) at a lower priority than the
// bystanders and the server. Bots run on machines of their own; here they share the 2 cores.
// Linux keeps a nice value per thread; /proc/thread-self is this worker's own thread.
const tid = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
if (nice) setPriority(tid, nice);
// `cpus` (FLOOD_PIN): this thread, and the processes it starts (the SRT flood's), run on those
// CPUs only, and the server and the bystanders on the others: the bots' own machine.
if (cpus) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(forked ? process.pid : tid)], { stdio: 'ignore' });
// [0]: websockets opened (welcome received) by the 'opening' flood so far, read by the parent
// at any time (a message would wait for this thread's busy event loop).
const opened = new Int32Array(counters ?? new SharedArrayBuffer(4));
if (forked) setInterval(() => parentPort.postMessage({ openedSoFar: Atomics.load(opened, 0) }), 100).unref();
const server = { port, url: (p) => `http://127.0.0.1:${port}${p}`, wsUrl: (q) => `ws://127.0.0.1:${port}/ws?${new URLSearchParams(q)}` };
let stop = false;
parentPort.on('message', (m) => { if (m === 'stop') stop = true; });
const sink = { messages: [] };
const once = {
  hold: async () => {
    const m = await floods.openMany(server, room, connections);
    parentPort.postMessage({ opened: m.open, refused: m.refused });
    while (!stop) await new Promise((r) => setTimeout(r, 50));
    m.sockets.forEach((ws) => ws.terminate());
  },
  opening: async () => {
    const m = await floods.openMany(server, room, connections, { onOpen: () => Atomics.add(opened, 0, 1) });
    m.sockets.forEach((ws) => ws.terminate());
    parentPort.postMessage({ roundDone: true });
  },
  buy: () => floods.buyFlood(server, stream, 'apple', 3000),
  chat: () => floods.chatSpam(server, stream, 1000, sink),
  slowloris: () => floods.slowloris(server, 300, { everyMs: 1000, giveUpMs: 30000 }),
  uploads: () => floods.uploads(server, stream, 8, 6 * 1024 * 1024),
  rtmp: () => floods.halfOpenRtmp(rtmpPort, 200, { giveUpMs: 10000 }),
  whip: () => floods.whipFlood(server, stream.id, 200, 'wrong-key'),
  // Many SRT callers with a wrong key, then handshakes begun and never finished.
  srt: async () => {
    await floods.srtFlood('connect', srtPort, { streamId: '#!::r=live/sk_wrong,m=publish', count: 100 });
    await floods.srtFlood('induction', srtPort, { count: 500 });
  },
  // Offers with the right key, 40 at once: one WebRTC session, 39 refused; the one ended.
  whipKey: async () => {
    const offers = await floods.whipOffers(server, stream.id, 40, stream.stream_key);
    for (const o of offers.filter((x) => x.location))
      await fetch(server.url(o.location), { method: 'DELETE' }).then((r) => r.text()).catch(() => {});
  },
  // Plain HTTP requests from one (not exempt) address, 300 at once: over its budget, 429.
  http: () => floods.httpFlood(server, 300, { path: `/api/streams/${stream.id}`, localAddress: '127.0.0.2' }),
}[name];
parentPort.postMessage({ started: true });
while (!stop) {
  try { await once(); } catch { /* keep flooding */ }
}
parentPort.postMessage({ done: true });
if (forked) process.disconnect();
process.exit(0);
