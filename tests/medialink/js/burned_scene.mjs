// Issue 6, media side: what the host changes reaches the burned-in card. A card with the sample
// catalog's picture and one whose picture is missing; then product.update (title, price, stock)
// and a flash sale (sale price, countdown). The burned-in rendition is decoded and compared in
// the card's rectangle (where the overlay said it drew it) before and after each change.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { run, assert, eq } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, collectSegments, grayFrames, pixelsDiffering, lumaStdDev, cardRects, hostedStream } from './medialib.mjs';

const W = 480;
const H = 854;
const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), '../../../samples');
const even = (v) => Math.floor(v / 2) * 2;

run('burned_in_card_scene', async (t) => {
  const { server, tmp, stream, host } = await hostedStream(t, {
    title: 'burned scene',
    serverOptions: { args: ['--samples-dir', SAMPLES] },
    products: [
      { id: 'pear', title: 'Pear', price: 2990, currency: 'CNY', stock: 50, image: '/samples/images/pear-yulu.png' },
      { id: 'crab', title: 'Crab', price: 9900, currency: 'CNY', stock: 9, image: '/samples/images/no-such-picture.png' },
    ],
  });

  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`,
                      { width: W, height: H, seconds: 40, color: '0x2040a0' });
  t.defer(() => pub.kill());
  const burnedPath = `/hls/${stream.id}/burned/index.m3u8`;
  const covered = (wallMs) => (pl) => pl.segments.some((s) => s.pdt !== null && s.pdt + s.duration * 1000 > wallMs);
  await collectSegments(server, burnedPath, tmp.path, (pl) => pl.segments.length >= 1, 40000, 'burned-in playlist');

  const amended = async (req) => {
    const sent = await host.request(req);
    eq(sent.type, 'card.shown', `${req.product_id} card.show answer`);
    return host.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.change_id === sent.change_id, 20000);
  };
  const shown = await amended({ type: 'card.show', product_id: 'pear', slot: 'bottom' });
  await amended({ type: 'card.show', product_id: 'crab', slot: 'top' });
  const pdtShown = Date.parse(shown.program_date_time);
  // Media time (PTS s) of a wall-clock moment: the playlist's PDT mapping, anchored on card.shown.
  const ptsOf = (wallMs) => shown.pts + (wallMs - pdtShown) / 1000;

  await collectSegments(server, burnedPath, tmp.path, covered(pdtShown + 2500), 40000, 'media after the cards');
  const tUpdate = Date.now();
  const upd = await host.request({ type: 'product.update', product_id: 'pear', title: 'Yulu pear 5 jin', price: 1990, stock: 7 });
  eq(upd.type, 'product.updated', 'product.update answer');
  await collectSegments(server, burnedPath, tmp.path, covered(tUpdate + 3000), 40000, 'media after the update');
  const tSale = Date.now();
  const sale = await host.request({ type: 'sale.start', product_id: 'pear', price: 990, quantity: 5, per_buyer_limit: 1, duration_s: 60 });
  eq(sale.type, 'sale.started', 'sale.start answer');
  const segments = await collectSegments(server, burnedPath, tmp.path, covered(tSale + 5000), 40000, 'media in the sale');

  // Stats: the burned-in branch is reported with the ingest stats and to the host.
  const info = (await server.http('GET', `/api/streams/${stream.id}`, { token: stream.host_token })).json;
  const burned = info.ingest.burned;
  assert(burned && burned.frames_in > 0 && burned.encoded > 0 && typeof burned.drop_pct === 'number',
         `ingest.burned: ${JSON.stringify(info.ingest)}`);
  const health = await host.waitFor((m) => m.type === 'stream.health' && m.burned && m.burned.encoded > 0, 10000);
  console.log(`stream.health burned: ${JSON.stringify(health.burned)}`);

  const rects = cardRects(server);
  assert(rects.pear && rects.crab, `both cards drawn: ${JSON.stringify(rects)}`);
  assert(/event=burned_card_without_picture .*product=crab/.test(server.log), 'the missing picture is logged');
  assert(/event=burned_card_updated .*product=pear/.test(server.log), 'the update reached the overlay');
  const geometry = (r) => {
    const p = even(r.h * 0.06);
    return {
      picture: { x: even(r.x + p + 4), y: even(r.y + p + 4), w: even(r.h - 2 * p - 8), h: even(r.h - 2 * p - 8) },
      text: { x: even(r.x + r.h), y: even(r.y + p), w: even(r.w - r.h - p), h: even(r.h - 2 * p) },
    };
  };
  const pear = geometry(rects.pear);
  const crab = geometry(rects.crab);
  const framesOf = (rect) => segments.flatMap((s) => grayFrames(s.file, rect)).sort((a, b) => a.pts - b.pts);
  const within = (frames, from, to) => frames.filter((f) => f.pts >= from && f.pts < to);

  // Picture: the sample picture is not a flat area; the missing one leaves the flat placeholder.
  const pearPic = within(framesOf(pear.picture), shown.pts + 0.2, ptsOf(tUpdate));
  const crabPic = within(framesOf(crab.picture), ptsOf(pdtShown + 1000), ptsOf(tUpdate));
  assert(pearPic.length > 5 && crabPic.length > 5, `picture frames ${pearPic.length}/${crabPic.length}`);
  const pearSd = lumaStdDev(pearPic[pearPic.length - 1].pix);
  const crabSd = lumaStdDev(crabPic[crabPic.length - 1].pix);
  console.log(`picture region luma std dev: with the sample picture ${pearSd.toFixed(1)}, placeholder ${crabSd.toFixed(1)}`);
  assert(pearSd > 15 && crabSd < 6, `the card with the sample picture shows it (${pearSd} vs placeholder ${crabSd})`);

  // product.update: the text of the card changed between frames before and after it (frames
  // before are stable among themselves). Margins of 1 s cover the branch's lag behind the wall clock.
  const text = framesOf(pear.text);
  const before = within(text, shown.pts + 0.5, ptsOf(tUpdate) - 1.0);
  const after = within(text, ptsOf(tUpdate) + 1.0, ptsOf(tSale) - 1.0);
  assert(before.length > 5 && after.length > 5, `text frames before ${before.length}, after ${after.length}`);
  const ref = before[0].pix;
  const noise = Math.max(...before.map((f) => pixelsDiffering(ref, f.pix)));
  const changed = Math.min(...after.map((f) => pixelsDiffering(ref, f.pix)));
  console.log(`product.update: card text pixels differing from the first frame: before ${noise} (max), after ${changed} (min)`);
  assert(noise < 20 && changed > 200, `the update changed the card (noise ${noise}, changed ${changed})`);

  // Flash sale: sale price and a countdown strip; the strip changes once a second.
  const inSale = within(text, ptsOf(tSale) + 1.0, ptsOf(tSale) + 5.0);
  assert(inSale.length > 50, `frames in the sale: ${inSale.length}`);
  const saleChange = Math.min(...inSale.map((f) => pixelsDiffering(after[after.length - 1].pix, f.pix)));
  assert(saleChange > 200, `the sale changed the card (${saleChange})`);
  const ticks = [];
  for (let i = 1; i < inSale.length; i++)
    if (pixelsDiffering(inSale[i - 1].pix, inSale[i].pix) > 5) ticks.push(inSale[i].pts);  // static otherwise: 0
  const gaps = ticks.slice(1).map((p, i) => p - ticks[i]);
  if (process.env.ML_DEBUG) {
    console.log(inSale.map((f, i) => `${f.pts.toFixed(3)}:${i ? pixelsDiffering(inSale[i - 1].pix, f.pix) : 0}`).join(' '));
    console.log(server.log.split('\n').filter((l) => /burned|sale/.test(l)).join('\n'));
  }
  console.log(`countdown ticks at ${ticks.map((p) => p.toFixed(3)).join(', ')}`);
  assert(ticks.length >= 3, `the countdown changes every second (${ticks.length} changes in 4 s)`);
  for (const g of gaps) assert(g > 0.8 && g < 1.2, `countdown ticks 1 s apart (gap ${g.toFixed(3)} s)`);
});
