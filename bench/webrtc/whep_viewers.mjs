#!/usr/bin/env node
// WHEP viewers per core: one 1280x720 30 fps stream (~2 Mbit/s H.264 + AAC, ffmpeg over RTMP)
// into a fresh harvest-server, then WHEP viewers added in steps (real RTCPeerConnections in one
// headless Chromium, receive-only, no <video> attached). At each step the server's CPU
// (utime+stime from /proc over --window s, 100 % = one core) is measured, and every viewer's
// inbound video packets are checked to grow (getStats), so a step only counts viewers that are
// actually served. Per-viewer cost = (CPU(N) − CPU(0 viewers)) / N; viewers per core =
// (100 % − CPU(0)) / per-viewer cost. The step from 0 to 1 viewer also includes the stream's
// WebRTC branch (payloader, AAC → Opus), paid once per stream.
//
// Prints a table; never fails on time. Chromium (the receivers) runs on the same machine and
// is not counted, but loads it. Usage:
//   HARVEST_SERVER_BIN=build/server/harvest-server node bench/webrtc/whep_viewers.mjs [--steps 1,4,8,16] [--window 10]
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, launchBrowser, log, waitFor } from '../../tests/browser/harness.mjs';
import { RECVONLY_OFFER_SOURCE } from '../../tests/browser/whep_offer.mjs';
import { cpuSeconds } from '../proc_cpu.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
process.env.HARVEST_SERVER_BIN ??= path.join(ROOT, 'build', 'server', 'harvest-server');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const STEPS = arg('steps', '1,4,8,16,24').split(',').map(Number);
const WINDOW_S = Number(arg('window', '10'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function cpuPercent(pid) {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  return (100 * (cpuSeconds(pid) - c0)) / ((performance.now() - t0) / 1000);
}

const cleanups = [];
const t = { defer: (fn) => cleanups.push(fn) };
try {
  const server = new Server({ dataDir: (await import('node:fs')).mkdtempSync('/tmp/harvest-whep-bench-'), adminToken: 'bench-whep-admin',
    args: ['--whep-max-viewers', '1000', '--burned-in', 'off'] });
  cleanups.push(() => server.stop());
  await server.start();
  const stream = await server.createStream({ title: 'WHEP bench' });
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-b:v', '2000k', '-maxrate', '2000k', '-bufsize', '1000k', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k',
    '-f', 'flv', `rtmp://127.0.0.1:${server.rtmpPort}/live/${stream.stream_key}`], { stdio: 'ignore' });
  cleanups.push(() => ff.kill('SIGKILL'));
  await waitFor(async () => /#EXTINF/.test((await server.fetch(`/hls/${stream.id}/index.m3u8`)).text), { timeout: 60_000, what: 'HLS' });
  const pid = server.proc.pid;
  const browser = await launchBrowser(t);
  cleanups.unshift(() => browser.close());
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.base}/`);
  await page.evaluate(RECVONLY_OFFER_SOURCE);

  const rows = [];
  await sleep(3000);
  const base = await cpuPercent(pid);
  rows.push({ viewers: 0, served: 0, cpu: base, load: loadavg()[0] });
  log(`0 viewers: server CPU ${base.toFixed(1)} %`);
  let have = 0;
  for (const target of STEPS) {
    const add = target - have;
    const statuses = await page.evaluate(async ({ n, pathname }) => {
      window.__pcs ??= [];
      const out = [];
      for (let i = 0; i < n; i++) {
        const pc = await window.recvonlyOffer();
        const res = await fetch(pathname, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
        out.push(res.status);
        if (res.status === 201) {
          await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
          window.__pcs.push(pc);
        } else {
          pc.close();
        }
      }
      return out;
    }, { n: add, pathname: `/whep/${stream.id}` });
    have = target;
    if (statuses.some((s) => s !== 201)) log(`answers: ${statuses.join(',')}`);
    await sleep(4000);  // connected, first keyframe
    const packets = () => page.evaluate(async () => Promise.all(window.__pcs.map(async (pc) => {
      let n = 0;
      (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') n = r.packetsReceived; });
      return n;
    })));
    const before = await packets();
    const cpu = await cpuPercent(pid);
    const after = await packets();
    const served = after.filter((n, i) => n > (before[i] ?? 0) + 100).length;
    rows.push({ viewers: target, served, cpu, load: loadavg()[0] });
    log(`${target} viewers (${served} receiving video): server CPU ${cpu.toFixed(1)} %`);
  }
  console.log('| WHEP viewers | receiving video | server CPU | per viewer (vs 0) | load |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    const per = r.viewers > 0 ? `${((r.cpu - base) / r.viewers).toFixed(2)} %` : '–';
    console.log(`| ${r.viewers} | ${r.served} | ${r.cpu.toFixed(1)} % | ${per} | ${r.load.toFixed(1)} |`);
  }
  const last = rows[rows.length - 1];
  const per = (last.cpu - base) / last.viewers;
  console.log(`\nper viewer at ${last.viewers}: ${per.toFixed(2)} % of a core -> about ${Math.floor((100 - base) / per)} viewers per core`);
} finally {
  for (const fn of cleanups.reverse()) {
    try { await fn(); } catch { /* best effort */ }
  }
}
