// Issue 18: a product photo uploaded from the phone (POST /api/images) is the picture of the
// burned-in card. The photo is a solid magenta, a colour neither the video (dark blue) nor the
// card draws; the burned-in rendition is decoded in the card's picture rectangle (where the
// overlay said it drew the card) and must be magenta there.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, assert, eq, Server, Client, ADMIN } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, collectSegments, cardRects, tempDir } from './medialib.mjs';

const W = 480;
const H = 854;
const even = (v) => Math.floor(v / 2) * 2;

// Mean R, G, B of a rectangle over the frames of a TS file whose PTS is at or after `fromPts`.
function meanColour(file, { x, y, w, h }, fromPts) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'info', '-copyts', '-i', file, '-an',
                                 '-vf', `crop=${w}:${h}:${x}:${y},format=rgb24,showinfo`, '-fps_mode', 'passthrough',
                                 '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ffmpeg ${file}: ${r.stderr}`);
  const pts = [...r.stderr.toString().matchAll(/\] n:\s*\d+ pts:\s*\S+\s+pts_time:([0-9.]+)/g)].map((m) => Number(m[1]));
  const size = w * h * 3;
  const sum = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < pts.length && (i + 1) * size <= r.stdout.length; i++) {
    if (pts[i] < fromPts) continue;
    const frame = r.stdout.subarray(i * size, (i + 1) * size);
    for (let p = 0; p < frame.length; p += 3) { sum[0] += frame[p]; sum[1] += frame[p + 1]; sum[2] += frame[p + 2]; }
    n += w * h;
  }
  return { frames: n / (w * h), rgb: sum.map((s) => (n ? s / n : NaN)) };
}

run('burned_in_card_shows_uploaded_photo', async (t) => {
  const server = await Server.start();
  t.defer(() => server.stop());
  const tmp = tempDir();
  t.defer(() => tmp.remove());

  // The phone's photo: a magenta PNG, uploaded as the host would.
  const png = join(tmp.path, 'magenta.png');
  eq(spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0xff00ff:size=400x400',
                          '-frames:v', '1', png]).status, 0, 'ffmpeg made the photo');
  const stream = await server.createStream('burned photo');
  const up = await fetch(server.url('/api/images'), {
    method: 'POST', headers: { 'content-type': 'image/png', authorization: `Bearer ${stream.host_token}` },
    body: readFileSync(png),
  });
  eq(up.status, 201, 'photo upload');
  const { url } = await up.json();
  assert(/^\/images\/[0-9a-f]{32}\.jpg$/.test(url), `photo URL ${url}`);

  eq((await server.putProducts(stream.id, [{ id: 'plum', title: 'Plum', price: 1990, currency: 'CNY', stock: 20, image: url }],
                               stream.host_token)).status, 200, 'PUT products with the photo');
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  eq((await host.waitFor((m) => m.type === 'welcome')).role, 'host', 'host role');

  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`,
                      { width: W, height: H, seconds: 40, color: '0x2040a0' });
  t.defer(() => pub.kill());
  const burnedPath = `/hls/${stream.id}/burned/index.m3u8`;
  await collectSegments(server, burnedPath, tmp.path, (pl) => pl.segments.length >= 1, 40000, 'burned-in playlist');

  const sent = await host.request({ type: 'card.show', product_id: 'plum', slot: 'bottom' });
  eq(sent.type, 'card.shown', 'card.show answer');
  const shown = await host.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.change_id === sent.change_id, 20000);
  const pdtShown = Date.parse(shown.program_date_time);
  const segments = await collectSegments(server, burnedPath, tmp.path,
    (pl) => pl.segments.some((s) => s.pdt !== null && s.pdt + s.duration * 1000 > pdtShown + 3000), 40000, 'media with the card');

  assert(!/event=burned_card_without_picture/.test(server.log), 'the overlay found the photo');
  const rect = cardRects(server).plum;
  assert(rect, `card drawn: ${server.log.split('\n').filter((l) => /burned_card/.test(l)).join('\n')}`);
  const p = even(rect.h * 0.06);
  // The middle of the picture square (the card's left part), clear of its rounded edges.
  const side = even(rect.h - 2 * p - 8);
  const picture = { x: even(rect.x + p + 4 + side / 4), y: even(rect.y + p + 4 + side / 4), w: even(side / 2), h: even(side / 2) };
  let frames = 0;
  const sum = [0, 0, 0];
  for (const s of segments) {
    const m = meanColour(s.file, picture, shown.pts + 0.2);
    if (!m.frames) continue;
    frames += m.frames;
    for (let c = 0; c < 3; c++) sum[c] += m.rgb[c] * m.frames;
  }
  const rgb = sum.map((v) => v / frames);
  console.log(`picture region over ${frames} frames: mean RGB ${rgb.map((v) => v.toFixed(0)).join(', ')}`);
  assert(frames > 25, `frames with the card: ${frames}`);
  assert(rgb[0] > 190 && rgb[1] < 70 && rgb[2] > 190, `the burned card shows the magenta photo (${rgb.map((v) => v.toFixed(0))})`);
});
