// Burned-in sustain benchmark (prints figures, never fails on time): N streams published at once
// from one pre-encoded file (ffmpeg -re -c copy, so the publishers cost little), each with its
// burned-in rendition (decode, productoverlay with a card shown, x264 ultrafast). Over a window after
// a warm-up, per stream: frames into the branch, encoded, dropped by its leaky queues (from
// GET /api/streams/{id} ingest.burned), and the server's CPU (utime+stime, 100% = one core).
// Usage: HARVEST_SERVER_BIN=build/server/harvest-server node bench/medialink/sustain.mjs
//        [--streams 1] [--size 1280x720] [--fps 30] [--seconds 20] [--warmup 8]
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Server, Client } from '../../tests/commerce/js/lib.mjs';
import { cpuSeconds } from '../proc_cpu.mjs';
import { rtmpPort, waitPlaylist, tempDir, preEncode } from '../../tests/medialink/js/medialib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
};
const N = Number(arg('streams', '1'));
const SIZE = arg('size', '1280x720');
const FPS = Number(arg('fps', '30'));
const SECONDS = Number(arg('seconds', '20'));
const WARMUP = Number(arg('warmup', '8'));
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

const tmp = tempDir();
const input = join(tmp.path, 'in.flv');
preEncode(input, { size: SIZE, fps: FPS });
const pubs = [];
const server = await Server.start({ env: { HARVEST_WS_MESSAGE_RATE: '1000', HARVEST_WS_MESSAGE_BURST: '1000' } });
try {
  const streams = [];
  for (let i = 0; i < N; i++) {
    const s = await server.createStream(`sustain ${i}`);
    await server.putProducts(s.id, [{ id: 'p1', title: '隰县玉露香梨 5斤装', price: 3990, currency: 'CNY', stock: 120 }], s.host_token);
    streams.push(s);
    const p = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', input,
                               '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort(server)}/live/${s.stream_key}`],
                    { stdio: 'ignore' });
    pubs.push(p);
  }
  for (const s of streams) {
    await waitPlaylist(server, `/hls/${s.id}/burned/index.m3u8`, (p) => p.segments.length >= 1, 60000, 'burned playlist');
    const host = await Client.connect(server, { stream: s.id, token: s.host_token });
    await host.request({ type: 'card.show', product_id: 'p1' });
    host.close();
  }
  const sample = async () => Promise.all(streams.map(async (s) =>
    (await server.http('GET', `/api/streams/${s.id}`, { token: s.host_token })).json.ingest.burned));
  const cpu = () => cpuSeconds(server.proc.pid);
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const a = await sample();
  const c0 = cpu();
  const t0 = Date.now();
  const load0 = load();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const b = await sample();
  const cpuPct = (100 * (cpu() - c0)) / ((Date.now() - t0) / 1000);
  console.log(`${N} stream(s) ${SIZE}@${FPS} burned-in, ${SECONDS} s window after ${WARMUP} s warm-up; load average ${load0} -> ${load()}`);
  streams.forEach((s, i) => {
    const fin = b[i].frames_in - a[i].frames_in;
    const enc = b[i].encoded - a[i].encoded;
    const drop = b[i].dropped - a[i].dropped;
    console.log(`  ${s.id}: in ${fin} (${(fin / SECONDS).toFixed(1)} fps), encoded ${enc} (${(enc / SECONDS).toFixed(1)} fps), ` +
                `dropped ${drop} (${fin ? ((100 * drop) / fin).toFixed(1) : 0} %)`);
  });
  console.log(`server CPU ${cpuPct.toFixed(0)}% of one core (${(cpuPct / N).toFixed(0)}% per stream)`);
} finally {
  for (const p of pubs) { try { p.kill('SIGKILL'); } catch {} }
  await server.stop();
  tmp.remove();
}
