// One flood of bench/faults/floods.mjs, run in a worker thread so that the flood's own client
// work (thousands of sockets, parsing) does not starve the bystanders' event loop and show up
// as server latency. Repeats the flood until the parent posts 'stop', then posts 'done'.
import { parentPort, workerData } from 'node:worker_threads';
import * as floods from '../../tests/faults/js/flood_lib.mjs';

const { name, port, rtmpPort, stream, connections } = workerData;
const server = { port, url: (p) => `http://127.0.0.1:${port}${p}`, wsUrl: (q) => `ws://127.0.0.1:${port}/ws?${new URLSearchParams(q)}` };
let stop = false;
parentPort.on('message', (m) => { if (m === 'stop') stop = true; });
const sink = { messages: [] };
const once = {
  hold: async () => {
    const m = await floods.openMany(server, stream, connections);
    parentPort.postMessage({ opened: m.open, refused: m.refused });
    while (!stop) await new Promise((r) => setTimeout(r, 50));
    m.sockets.forEach((ws) => ws.terminate());
  },
  opening: async () => { const m = await floods.openMany(server, stream, connections); m.sockets.forEach((ws) => ws.terminate()); },
  buy: () => floods.buyFlood(server, stream, 'apple', 3000),
  chat: () => floods.chatSpam(server, stream, 1000, sink),
  slowloris: () => floods.slowloris(server, 300, { everyMs: 1000, giveUpMs: 30000 }),
  uploads: () => floods.uploads(server, stream, 8, 6 * 1024 * 1024),
  rtmp: () => floods.halfOpenRtmp(rtmpPort, 200, { giveUpMs: 10000 }),
  whip: () => floods.whipFlood(server, stream.id, 200, 'wrong-key'),
}[name];
parentPort.postMessage({ started: true });
while (!stop) {
  try { await once(); } catch { /* keep flooding */ }
}
parentPort.postMessage({ done: true });
process.exit(0);
