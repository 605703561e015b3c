// Issue 18 on the burned-in rendition: a product with an origin and a trace code shows its
// origin line under the title and a QR of <public base>/trace/<code>; the same product without
// an origin shows neither. The real server's burned-in HLS is decoded and the QR is read with
// jsQR from the decoded 720p frame, as a phone reading the picture would.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { run, assert, eq } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, collectSegments, grayFrames, pixelsDiffering, cardRects, hostedStream } from './medialib.mjs';

const require = createRequire(new URL('../../package.json', import.meta.url));
const jsQR = require('jsqr');

const W = 720;  // 720p portrait, as a phone sends it
const H = 1280;
const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), '../../../samples');
const even = (v) => Math.floor(v / 2) * 2;
const CODE = 'XJ-2026-0912';

// A luma crop as the RGBA picture jsQR reads; returns jsQR's answer (null: no QR found).
function readQr(frame, w, h) {
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = frame.pix[i];
    rgba[4 * i + 3] = 255;
  }
  return jsQR(rgba, w, h, { inversionAttempts: 'dontInvert' });
}

run('burned_in_origin_and_trace_qr', async (t) => {
  const pear = { title: 'Yulu pear', price: 2990, currency: 'CNY', stock: 50, image: '/samples/images/pear-yulu.png' };
  const { server, tmp, stream, host } = await hostedStream(t, {
    title: 'burned trace',
    serverOptions: { args: ['--samples-dir', SAMPLES, '--public-host', '127.0.0.1'] },
    products: [
      { id: 'traced', ...pear, origin: { place: { county: '隰县', township: '黄土镇' }, harvest_date: '2026-09-12', trace_code: CODE } },
      { id: 'plain', ...pear },
    ],
  });
  const traceUrl = `http://127.0.0.1:${server.port}/trace/${CODE}`;
  // A malformed origin is refused with its reason and stores nothing.
  for (const origin of ['隰县', { harvest_date: '2026-13-01' }, { place: { county: 7 } }]) {
    const bad = await server.putProducts(stream.id, [{ id: 'x', ...pear, origin }], stream.host_token);
    eq(bad.status, 400, `PUT products with origin ${JSON.stringify(origin)}`);
    assert(/origin/.test(bad.json?.message ?? ''), `the reason names the origin: ${bad.text}`);
  }
  const catalog = (await server.http('GET', `/api/streams/${stream.id}/products`)).json;
  eq(catalog.products.map((p) => p.id).join(','), 'traced,plain', 'the catalog is unchanged');

  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`,
                      { width: W, height: H, fps: 15, gop: 15, seconds: 40, color: '0x2040a0' });
  t.defer(() => pub.kill());
  const burnedPath = `/hls/${stream.id}/burned/index.m3u8`;
  await collectSegments(server, burnedPath, tmp.path, (pl) => pl.segments.length >= 1, 40000, 'burned-in playlist');

  const amended = async (req) => {
    const sent = await host.request(req);
    eq(sent.type, 'card.shown', `${req.product_id} card.show answer`);
    return host.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.change_id === sent.change_id, 20000);
  };
  const shown = await amended({ type: 'card.show', product_id: 'traced', slot: 'bottom' });
  await amended({ type: 'card.show', product_id: 'plain', slot: 'top' });
  const pdtShown = Date.parse(shown.program_date_time);
  const segments = await collectSegments(server, burnedPath, tmp.path,
    (pl) => pl.segments.some((s) => s.pdt !== null && s.pdt + s.duration * 1000 > pdtShown + 3000), 40000, 'media after the cards');

  const rects = cardRects(server);
  assert(rects.traced && rects.plain, `both cards drawn: ${JSON.stringify(rects)}`);
  const { traced, plain } = rects;
  const p = Math.max(2, even(traced.h * 0.06));
  // 720p: both cards 200 px high; the traced one is wider by its QR panel, the plain one 2:1.
  eq(traced.h, 200, 'card height at 720p');
  eq(plain.h, traced.h, 'same height');
  eq(plain.w, 2 * plain.h, 'a card without a trace code keeps its 2:1 shape');
  eq(traced.w, 3 * traced.h - p, 'the traced card has a square QR panel');

  // The last frame with both cards on (the picture is static: later frames are the sharpest).
  const lastOf = (rect) => {
    const frames = segments.flatMap((s) => grayFrames(s.file, rect)).filter((f) => f.pts > shown.pts + 1.0);
    assert(frames.length > 0, `frames after the card: ${JSON.stringify(rect)}`);
    return frames[frames.length - 1];
  };

  // The QR: read from the card's right part (panel and the card's white padding).
  const panel = { x: even(traced.x + 2 * traced.h - p), y: traced.y, w: traced.x + traced.w - even(traced.x + 2 * traced.h - p), h: traced.h };
  const qr = readQr(lastOf(panel), panel.w, panel.h);
  assert(qr !== null, 'jsQR finds a QR code on the burned-in card');
  eq(qr.data, traceUrl, 'the QR names the trace page');
  const modulePx = (qr.location.topRightCorner.x - qr.location.topLeftCorner.x) / (17 + 4 * qr.version);
  console.log(`QR version ${qr.version}, ${modulePx.toFixed(2)} px per module in the 720p frame`);
  assert(modulePx >= 3, `modules at least 3 px (${modulePx})`);
  // Read from the whole traced card too; the plain card has no QR anywhere.
  eq(readQr(lastOf({ x: traced.x, y: traced.y, w: traced.w, h: traced.h }), traced.w, traced.h)?.data, traceUrl,
     'the QR reads from the whole card');
  eq(readQr(lastOf({ x: plain.x, y: plain.y, w: plain.w, h: plain.h }), plain.w, plain.h), null,
     'no QR on the card without a trace code');

  // The origin line: under the title, the traced card differs from the plain one (same title,
  // price, picture); the title line above it does not.
  const textX = (r) => r.x + r.h;
  const band = (r, from, to) => ({ x: even(textX(r)), y: even(r.y + p + r.h * from), w: even(r.h - 2 * p), h: even(r.h * (to - from)) });
  const originDiff = pixelsDiffering(lastOf(band(traced, 0.15, 0.25)).pix, lastOf(band(plain, 0.15, 0.25)).pix);
  const titleDiff = pixelsDiffering(lastOf(band(traced, 0.01, 0.12)).pix, lastOf(band(plain, 0.01, 0.12)).pix);
  console.log(`pixels differing from the card without origin: origin band ${originDiff}, title band ${titleDiff}`);
  assert(originDiff > 150, `the origin line is drawn under the title (${originDiff} pixels differ)`);
  assert(titleDiff < 30, `the title is the same on both cards (${titleDiff} pixels differ)`);
});
