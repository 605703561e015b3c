// Glass-to-glass latency, per playback path, side by side in one run (prints figures, never fails
// on time).
//
// Publisher: this process draws frames (gray, WxH) with its wall clock at the moment it hands each
// frame to the encoder written into the picture as a barcode (42 bits of Date.now(), two copies,
// 16 px blocks), pipes them raw into one ffmpeg (x264 ultrafast zerolatency, GOP 1 s, no audio)
// and ffmpeg's tee muxer publishes the same encoded stream over RTMP to harvest-server and to
// nginx with Debian's libnginx-mod-rtmp (as bench/ingest/run.py sets it up), so every path plays
// the very same frames.
// Player: one headless Chromium page with one <video> per path. On every presented frame
// (requestVideoFrameCallback) the page draws the frame into a canvas, reads the barcode back and
// records (expected display time − drawn send time): the latency from "frame ready on the
// sender" to "frame on the viewer's screen", on one machine, so one clock. Frames whose two
// copies disagree are counted as unreadable and dropped.
//
// Paths (--paths, comma-separated; default harvest-hls,nginx-hls):
//   harvest-hls    hls.js, default live settings, harvest's /hls/{id}/index.m3u8
//   harvest-llhls  hls.js with lowLatencyMode, harvest's LL-HLS playlist /hls/{id}/ll.m3u8
//   harvest-whep   WHEP (POST /whep/{id}, recvonly) into the <video>, as the viewer page does
//   nginx-hls      hls.js, default live settings, nginx-rtmp's playlist
//   NAME=KIND:URL  any other: KIND hls|llhls|whep, URL absolute; "{id}" in it is harvest's stream id
// Both players are configured alike (hls.js defaults: 3 target durations behind live), so the
// HLS figures compare the servers (segmenting, playlist publication), not player settings.
//
// Usage: HARVEST_SERVER_BIN=build/server/harvest-server node bench/medialink/glass_to_glass.mjs
//        [--paths harvest-hls,nginx-hls] [--seconds 60] [--warmup 15] [--size 640x360] [--fps 30]
//        [--server-args "--burned-in off"]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from '../../tests/commerce/js/lib.mjs';
import { rtmpPort } from '../../tests/medialink/js/medialib.mjs';
import { RECVONLY_OFFER_SOURCE } from '../../tests/browser/whep_offer.mjs';

const require = createRequire(new URL('../../tests/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const arg = (name, def) => {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
};
const [W, H] = arg('size', '640x360').split('x').map(Number);
const FPS = Number(arg('fps', '30'));
const SECONDS = Number(arg('seconds', '60'));
const WARMUP = Number(arg('warmup', '15'));
const PATHS = arg('paths', 'harvest-hls,nginx-hls').split(',').filter(Boolean);
const SERVER_ARGS = arg('server-args', '').split(' ').filter(Boolean);
const CHROMIUM = process.env.HARVEST_CHROMIUM || '/usr/bin/chromium';
const HLS_JS = new URL('../../web-client/vendor/hls.js/hls.light.min.js', import.meta.url);

// ---------------------------------------------------------------- barcode (sender and page)
// Shared by the frame writer here and the reader in the page (passed as source text).
const BITS = 42;  // Date.now() < 2^42 until the year 2109
const BLOCK = 14;  // px per bit at 640 wide (scaled with the width)
const ROW_H = 40;
const ROWS_Y = [16, 72];  // two copies: a frame whose copies differ was not read right
const X0 = 22;

function drawBarcode(frame, width, value) {
  const scale = width / 640;
  for (const y0 of ROWS_Y) {
    for (let b = 0; b < BITS; b++) {
      const bit = Math.floor(value / 2 ** (BITS - 1 - b)) % 2;
      const luma = bit ? 235 : 16;
      const xa = Math.round((X0 + b * BLOCK) * scale), xb = Math.round((X0 + (b + 1) * BLOCK) * scale);
      for (let y = Math.round(y0 * scale); y < Math.round((y0 + ROW_H) * scale); y++) frame.fill(luma, y * width + xa, y * width + xb);
    }
  }
}

// Page side: reads the two copies from RGBA pixels of the top of the frame (any size).
const READER_SOURCE = `
function readBarcode(rgba, width) {
  const scale = width / 640;
  const rows = ${JSON.stringify(ROWS_Y)}.map((y0) => {
    let v = 0;
    const y = Math.round((y0 + ${ROW_H} / 2) * scale);
    for (let b = 0; b < ${BITS}; b++) {
      const x = Math.round((${X0} + (b + 0.5) * ${BLOCK}) * scale);
      let sum = 0;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) sum += rgba[((y + dy) * width + x + dx) * 4 + 1];
      v = v * 2 + (sum / 25 > 128 ? 1 : 0);
    }
    return v;
  });
  return rows[0] === rows[1] ? rows[0] : null;
}`;

// ---------------------------------------------------------------- the page
const PAGE = `<!doctype html><meta charset="utf-8"><title>glass to glass</title>
<style>body{margin:0;background:#000} video{width:320px;height:180px}</style>
<body><script src="/__g2g/hls.js"></script><script>
${READER_SOURCE}
${RECVONLY_OFFER_SOURCE}
window.g2g = {};
async function playWhep(video, url) {
  const pc = await window.recvonlyOffer(2000);  // as the viewer page (web-client/js/whep.js)
  const stream = new MediaStream();
  pc.ontrack = (e) => { stream.addTrack(e.track); video.srcObject = stream; };
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (r.status !== 201) throw new Error('WHEP answered ' + r.status + ': ' + (await r.text()).slice(0, 200));
  const answer = await r.text();
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return pc;
}
window.startPath = async (name, kind, url) => {
  const st = { samples: [], unreadable: 0, frames: 0, waiting: 0, error: null, recording: false };
  window.g2g[name] = st;
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.append(video);
  video.addEventListener('waiting', () => { if (st.recording) st.waiting++; });
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const onFrame = (_now, meta) => {
    video.requestVideoFrameCallback(onFrame);
    const w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) return;
    const top = Math.min(h, Math.ceil(130 * w / 640));
    if (canvas.width !== w || canvas.height !== top) { canvas.width = w; canvas.height = top; }
    ctx.drawImage(video, 0, 0, w, top, 0, 0, w, top);
    const sent = readBarcode(ctx.getImageData(0, 0, w, top).data, w);
    const shown = performance.timeOrigin + meta.expectedDisplayTime;
    if (!st.recording) return;
    st.frames++;
    if (sent === null || Math.abs(shown - sent) > 120000) { st.unreadable++; return; }
    st.samples.push(shown - sent);
  };
  video.requestVideoFrameCallback(onFrame);
  try {
    if (kind === 'whep') {
      st.pc = await playWhep(video, url);
    } else {
      // LL-HLS as the viewer page plays it (web-client/js/player.js): catch up to PART-HOLD-BACK
      // at up to 1.5x after a slow start; plain HLS with hls.js defaults (the servers compared).
      const hls = new Hls(kind === 'llhls' ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 } : { lowLatencyMode: false });
      hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) st.error = d.type + ' ' + d.details; });
      hls.loadSource(url);
      hls.attachMedia(video);
    }
    video.play().catch(() => {});  // resolves only once media flows: not awaited
  } catch (e) {
    st.error = String(e && e.message || e);
  }
};
</script></body>`;

// ---------------------------------------------------------------- nginx-rtmp
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
    s.on('error', rej);
  });
}

function nginxAvailable() {
  return spawnSync('sh', ['-c', 'command -v nginx']).status === 0 && existsSync('/usr/lib/nginx/modules/ngx_rtmp_module.so');
}

// The same configuration as bench/ingest/run.py (1 s fragments, 8 s playlist), plus CORS-free
// serving (the page runs with web security off anyway).
async function startNginx(dir) {
  const rtmp = await freePort(), http = await freePort();
  mkdirSync(join(dir, 'hls'), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), `
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
user root;
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
rtmp {
  server {
    listen 127.0.0.1:${rtmp};
    chunk_size 4096;
    application live {
      live on;
      record off;
      hls on;
      hls_path ${dir}/hls;
      hls_nested on;
      hls_fragment 1s;
      hls_playlist_length 8s;
      hls_cleanup on;
    }
  }
}
http {
  access_log off;
  server {
    listen 127.0.0.1:${http};
    location /hls/ {
      root ${dir};
      types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
      add_header Cache-Control no-cache;
    }
  }
}
`);
  const proc = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  return { proc, rtmpUrl: `rtmp://127.0.0.1:${rtmp}/live/g2g`, playlist: `http://127.0.0.1:${http}/hls/g2g/index.m3u8` };
}

// ---------------------------------------------------------------- publisher
function startPublisher(urls, seconds) {
  const tee = urls.map((u) => `[f=flv:onfail=ignore]${u}`).join('|');
  const ff = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error',
    '-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', `${W}x${H}`, '-framerate', String(FPS), '-i', 'pipe:0',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', String(FPS), '-keyint_min', String(FPS), '-sc_threshold', '0', '-b:v', '1500k', '-flags', '+global_header',
    '-map', '0:v', '-f', 'tee', tee], { stdio: ['pipe', 'ignore', 'inherit'] });
  ff.stdin.on('error', () => {});
  const frame = Buffer.alloc(W * H, 96);
  const start = Date.now();
  let n = 0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    // Something that moves, so the encoder works as on a camera picture: a sweeping bar.
    const bar = Math.floor((n * 8) % W);
    for (let y = Math.floor(H / 2); y < H; y++) frame.fill(n % 2 ? 150 : 60, y * W, (y + 1) * W).fill(220, y * W + bar, y * W + Math.min(W, bar + 24));
    drawBarcode(frame, W, Date.now());
    ff.stdin.write(frame);
    n++;
    if (Date.now() - start > seconds * 1000) { stopped = true; ff.stdin.end(); return; }
    setTimeout(tick, Math.max(0, start + (n * 1000) / FPS - Date.now()));
  };
  tick();
  return { frames: () => n, kill: () => { stopped = true; try { ff.kill('SIGKILL'); } catch {} } };
}

// ---------------------------------------------------------------- run
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

const work = mkdtempSync(join(tmpdir(), 'harvest-g2g-'));
const wantNginx = PATHS.includes('nginx-hls');
if (wantNginx && !nginxAvailable()) {
  console.error('nginx-hls needs nginx and libnginx-mod-rtmp: apt-get install nginx libnginx-mod-rtmp');
  process.exit(2);
}
const server = await Server.start({ args: SERVER_ARGS });
let nginx = null;
let pub = null;
let browser = null;
try {
  const stream = await server.createStream('glass to glass');
  const targets = [`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`];
  if (wantNginx) {
    nginx = await startNginx(join(work, 'nginx'));
    targets.push(nginx.rtmpUrl);
  }
  const known = {
    'harvest-hls': ['hls', server.url(`/hls/${stream.id}/index.m3u8`)],
    'harvest-llhls': ['llhls', server.url(`/hls/${stream.id}/ll.m3u8`)],
    'harvest-whep': ['whep', server.url(`/whep/${stream.id}`)],
    'nginx-hls': ['hls', nginx?.playlist],
  };
  const paths = PATHS.map((p) => {
    if (known[p]) return { name: p, kind: known[p][0], url: known[p][1] };
    const m = /^([\w.-]+)=(hls|llhls|whep):(.+)$/.exec(p);
    if (!m) throw new Error(`unknown path ${p}: one of ${Object.keys(known).join(', ')} or NAME=KIND:URL`);
    return { name: m[1], kind: m[2], url: m[3].replaceAll('{id}', stream.id) };
  });
  pub = startPublisher(targets, WARMUP + SECONDS + 60);
  // Every HLS path waits for its playlist before its player starts (no 404 retries counted).
  const deadline = Date.now() + 60000;
  for (const p of paths.filter((x) => x.kind !== 'whep')) {
    for (;;) {
      const r = await fetch(p.url).catch(() => null);
      if (r && r.ok && /#EXTINF/.test(await r.text())) break;
      if (Date.now() > deadline) throw new Error(`no playlist at ${p.url} within 60 s`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [
    '--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--disable-web-security'] });
  const page = await browser.newPage();
  page.on('crash', () => console.error('g2g: the page crashed'));
  page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
  browser.on('disconnected', () => console.error('g2g: the browser went away'));
  // The page is served under the harvest server's origin (a path the server does not have), so
  // its requests are same-origin like the viewer page's.
  const pageBase = server.url('/__g2g/');
  await page.route(`${pageBase}**`, (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/__g2g/hls.js') return route.fulfill({ contentType: 'text/javascript', body: readFileSync(HLS_JS) });
    return route.fulfill({ contentType: 'text/html', body: PAGE });
  });
  await page.goto(pageBase);
  for (const p of paths) await page.evaluate(([n, k, u]) => window.startPath(n, k, u), [p.name, p.kind, p.url]);
  await new Promise((res) => setTimeout(res, WARMUP * 1000));
  const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
  await page.evaluate(() => { for (const st of Object.values(window.g2g)) st.recording = true; });
  await new Promise((res) => setTimeout(res, SECONDS * 1000));
  const results = await page.evaluate(() => Object.fromEntries(Object.entries(window.g2g).map(([k, st]) => {
    st.recording = false;
    return [k, { samples: st.samples, unreadable: st.unreadable, frames: st.frames, waiting: st.waiting, error: st.error }];
  })));
  console.log(`glass to glass, ${W}x${H}@${FPS} x264 ultrafast zerolatency GOP 1 s over RTMP (one encode, tee'd to every server); ` +
              `${SECONDS} s recorded after ${WARMUP} s warm-up; load average at start ${load0}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
  for (const p of paths) {
    const r = results[p.name];
    const s = r.samples;
    console.log(`${p.name.padEnd(14)} ${p.kind.padEnd(5)} frames ${String(r.frames).padStart(5)} (${(r.frames / SECONDS).toFixed(1)} fps), ` +
                `unreadable ${r.unreadable}, waiting events ${r.waiting}: ` +
                `p50 ${f0(pct(s, 50))} ms, p90 ${f0(pct(s, 90))} ms, p99 ${f0(pct(s, 99))} ms, min ${f0(Math.min(...s))} ms, max ${f0(Math.max(...s))} ms` +
                (r.error ? ` [error: ${r.error}]` : ''));
  }
  for (const p of paths.filter((x) => x.kind === 'whep')) {
    console.log(p.name, await page.evaluate(async (n) => {
      const st = window.g2g[n];
      if (!st.pc) return 'no peer connection';
      const out = [];
      (await st.pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') out.push(`${r.kind}: ${r.packetsReceived} packets, ${r.framesDecoded ?? '-'} frames decoded, ${r.keyFramesDecoded ?? '-'} keyframes`); });
      return out.join('; ');
    }, p.name));
  }
  if (paths.some((p) => p.kind === 'whep' && results[p.name].frames === 0)) {
    console.log('WHEP brought no frame; the server said:\n' + server.log.split('\n').filter((l) => /whep|webrtc|error/.test(l)).join('\n'));
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  if (pub) pub.kill();
  if (nginx) { try { nginx.proc.kill('SIGQUIT'); } catch {} }
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
