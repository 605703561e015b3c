// Card offset on the viewer's page (prints figures, never fails on time): how far from the frame
// that carries a card the watch page puts it up, in media time.
//
// A real server, a publisher (a pre-encoded file pushed with `ffmpeg -re -c copy`), the real watch
// page in headless Chromium, and a host that shows and hides a card N times over the websocket.
// For each show, the page's own record (window.harvestWatch.shown, written when the card's node
// is created) gives the program date time of the frame on screen at that moment (hls.js
// playingDate) and the marker card.shown carried; offset = playing date − marker (> 0: late,
// < 0: early). WHEP frames carry no program date time: there the offset is in PTS only (the
// presented frame's RTP timestamp − card.shown's pts). The page plays what it prefers (WHEP when
// offered, then LL-HLS); `--query player=hls` skips WHEP, `--query player=hls&ll=0` plays the
// MPEG-TS playlist. The line printed names the path it played.
//
// Usage: HARVEST_SERVER_BIN=build/server/harvest-server node bench/medialink/card_offset.mjs
//        [--cards 20] [--size 640x360] [--fps 30] [--query ""]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Server, Client } from '../../tests/commerce/js/lib.mjs';
import { rtmpPort, waitPlaylist, tempDir, preEncode } from '../../tests/medialink/js/medialib.mjs';

const require = createRequire(new URL('../../tests/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const arg = (name, def) => {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
};
const N = Number(arg('cards', '20'));
const SIZE = arg('size', '640x360');
const FPS = Number(arg('fps', '30'));
const QUERY = arg('query', '');
const CHROMIUM = process.env.HARVEST_CHROMIUM || '/usr/bin/chromium';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tmp = tempDir();
const server = await Server.start();
let browser = null;
let ff = null;
try {
  const stream = await server.createStream('card offset');
  await server.putProducts(stream.id, [{ id: 'p1', title: 'Pear', price: 100, currency: 'CNY', stock: 5 }], stream.host_token);
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  await host.waitFor((m) => m.type === 'welcome');
  const input = join(tmp.path, 'in.flv');
  preEncode(input, { size: SIZE, fps: FPS });
  ff = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', input,
                        '-t', String(60 + N * 4), '-c', 'copy', '-f', 'flv',
                        `rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`], { stdio: 'ignore' });
  await waitPlaylist(server, `/hls/${stream.id}/index.m3u8`, (p) => p.segments.length >= 2, 60000, 'playlist');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
                                    args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'] });
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(server.url(`/watch/${stream.id}${QUERY ? '?' + QUERY : ''}`));
  await until(() => page.evaluate(() => {
    const w = window.harvestWatch;
    return document.querySelector('video').currentTime > 0.5 &&
      (w?.player?.transport === 'whep' ? w.player.rtpPts !== null : w?.player?.playingDateMs() !== null);
  }), 60000, 'the page playing');
  // 'whep', or the playlist hls.js plays (ll.m3u8: LL-HLS; index.m3u8: HLS).
  const path = await page.evaluate(() => {
    const p = window.harvestWatch.player;
    return p.transport === 'whep' ? 'whep' : `${p.transport} ${new URL(p.hls?.url ?? p.hlsSrc, location.href).pathname.split('/').pop()}`;
  });
  const clock = await page.evaluate(() => window.harvestWatch.cardClock ?? 'timer');
  const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
  const offsets = [];
  const ptsOffsets = [];
  const late = [];
  for (let i = 0; i < N; i++) {
    const before = await page.evaluate(() => window.harvestWatch.shown.length);
    const r = await host.request({ type: 'card.show', product_id: 'p1' });
    await host.waitFor((x) => x.amended === true && x.change_id === r.change_id, 10000);
    const rec = await until(() => page.evaluate((n) => window.harvestWatch.shown[n] ?? null, before), 30000, 'the card on the page');
    if (rec.basis === 'pdt' && rec.markerPdtMs !== null && rec.playingDateMs !== null) offsets.push(rec.playingDateMs - rec.markerPdtMs);
    if (rec.pts !== null && rec.markerPts !== null) ptsOffsets.push((rec.pts - rec.markerPts) * 1000);
    else late.push(rec.basis);
    const h = await host.request({ type: 'card.hide', product_id: 'p1' });
    await host.waitFor((x) => x.amended === true && x.change_id === h.change_id, 10000);
    await until(() => page.evaluate(() => !document.querySelector('.product-card[data-product-id="p1"]')), 30000, 'the card gone');
    await new Promise((res) => setTimeout(res, 300 + Math.random() * 400));  // not in step with the frames
  }
  const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
  console.log(`card offset on the watch page, ${SIZE}@${FPS}, path ${path}, cards ticked on ${clock}; ${N} shows; ` +
              `load average at start ${load0}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`playing date when the card went up − card.shown's program date time (ms of media time, > 0 late): ` +
              `p50 ${f0(pct(offsets, 50))}, p90 ${f0(pct(offsets, 90))}, max ${f0(Math.max(...offsets))}, min ${f0(Math.min(...offsets))} ` +
              `(${offsets.length} of ${N} placed by program date time${late.length ? `; others: ${late.join(', ')}` : ''})`);
  console.log(`the same in PTS (HLS: media time + hls.js init PTS; WHEP: the frame's RTP timestamp; − card.shown's pts): p50 ${f0(pct(ptsOffsets, 50))}, ` +
              `p90 ${f0(pct(ptsOffsets, 90))}, max ${f0(Math.max(...ptsOffsets))}, min ${f0(Math.min(...ptsOffsets))} (${ptsOffsets.length})`);
  host.close();
} finally {
  if (browser) await browser.close().catch(() => {});
  if (ff) { try { ff.kill('SIGKILL'); } catch {} }
  await server.stop();
  tmp.remove();
}
