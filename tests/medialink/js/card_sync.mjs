// Issue 6, item 1: card changes drive the passthrough video.
// A card shown while the stream is offline is kept and applied when a publisher comes; a card
// shown live is amended (card.shown with pts/program_date_time), appears in the playlist as an
// EXT-X-DATERANGE at that program date time, and as our SEI in the access unit with that PTS
// (and in no earlier access unit of the segment).
import { join } from 'node:path';
import { run, assert, eq } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, waitPlaylist, download, videoPackets, hexOf, hostedStream, SEI_UUID_HEX } from './medialib.mjs';

const approx = (a, b, eps) => Math.abs(a - b) <= eps;

async function checkCard(server, stream, tmp, shown, productId) {
  assert(typeof shown.pts === 'number', 'card.shown pts is a number: ' + JSON.stringify(shown));
  assert(typeof shown.program_date_time === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(shown.program_date_time),
         'program_date_time is ISO 8601 with ms: ' + shown.program_date_time);
  const pdt = Date.parse(shown.program_date_time);
  const path = `/hls/${stream.id}/index.m3u8`;
  // The DATERANGE for this change, at the frame's PDT, with the product id.
  const pl = await waitPlaylist(server, path, (p) =>
    p.dateRanges.some((d) => d.ID === `card-${shown.change_id}`) &&
    p.segments.some((s) => s.pdt !== null && s.pdt + s.duration * 1000 > pdt), 20000, 'DATERANGE and the segment');
  const dr = pl.dateRanges.find((d) => d.ID === `card-${shown.change_id}`);
  eq(dr.CLASS, 'com.harvestlive.card', 'DATERANGE class');
  eq(dr['X-PRODUCT-ID'], productId, 'DATERANGE product');
  eq(Date.parse(dr['START-DATE']), pdt, 'DATERANGE START-DATE is the card.shown program_date_time');
  // The segment whose PDT span holds the frame (1 ms rounding either side).
  const seg = pl.segments.find((s) => s.pdt - 1 <= pdt && pdt < s.pdt + s.duration * 1000 + 1);
  assert(seg, `a segment holds PDT ${shown.program_date_time}:\n${pl.text}`);
  const file = join(tmp.path, seg.uri.replace(/[^A-Za-z0-9._-]/g, '_'));
  await download(server, `/hls/${stream.id}/${seg.uri}`, file);
  const packets = videoPackets(file);
  const pts90 = Math.round(shown.pts * 90000);
  const idx = packets.findIndex((p) => p.pts === pts90);
  assert(idx >= 0, `the segment ${seg.uri} has the access unit with PTS ${pts90} (${shown.pts} s); got ${packets.map((p) => p.pts).join(',')}`);
  const sei = SEI_UUID_HEX + hexOf(JSON.stringify({ product_id: productId, action: 'shown' }));
  assert(packets[idx].hex.includes(sei), 'our SEI (uuid + JSON) is in the access unit with that PTS');
  for (let i = 0; i < idx; i++) assert(!packets[i].hex.includes(sei), 'no earlier access unit carries the cue');
  // Its PDT is consistent with the playlist: segment PDT + (frame PTS - segment's first PTS).
  const first = Math.min(...packets.map((p) => p.pts));
  assert(approx(seg.pdt + (pts90 - first) / 90, pdt, 2), `PDT ${pdt} vs segment ${seg.pdt} + ${(pts90 - first) / 90} ms`);
}

run('card_sync_passthrough', async (t) => {
  const { server, tmp, stream, host } = await hostedStream(t, {
    title: 'media link',
    products: [
      { id: 'pear', title: 'Pear', price: 3990, currency: 'CNY', stock: 10, image: '/samples/images/pear-yulu.png' },
      { id: 'apple', title: 'Apple', price: 1990, currency: 'CNY', stock: 10, image: '/samples/images/pear-yulu.png' },
    ],
  });

  // Offline: the change is kept; card.shown goes out with null timing.
  const offline = await host.request({ type: 'card.show', product_id: 'pear', slot: 'top' });
  eq(offline.type, 'card.shown', 'card.show answer');
  eq(offline.pts, null, 'offline card.shown has no pts yet');

  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`, { seconds: 10 });
  t.defer(() => pub.kill());
  // Applied when the stream comes back: the amendment arrives.
  const pearShown = await host.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.product_id === 'pear', 30000);
  eq(pearShown.change_id, offline.change_id, 'amendment of the offline change');
  await checkCard(server, stream, tmp, pearShown, 'pear');

  // Live: a second card.
  const live = await host.request({ type: 'card.show', product_id: 'apple', slot: 'bottom' });
  eq(live.type, 'card.shown', 'live card.show answer');
  const appleShown = await host.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.change_id === live.change_id, 15000);
  assert(appleShown.pts > pearShown.pts, 'later card, later pts');
  await checkCard(server, stream, tmp, appleShown, 'apple');

  // Hiding closes the DATERANGE (END-DATE) at the hide's frame.
  const hidden = await host.request({ type: 'card.hide', product_id: 'apple' });
  eq(hidden.type, 'card.hidden', 'card.hide answer');
  const hideAmended = await host.waitFor((m) => m.type === 'card.hidden' && m.amended === true && m.change_id === hidden.change_id, 15000);
  const pl = await waitPlaylist(server, `/hls/${stream.id}/index.m3u8`, (p) =>
    p.dateRanges.some((d) => d.ID === `card-${live.change_id}` && d['END-DATE']), 15000, 'END-DATE');
  const dr = pl.dateRanges.find((d) => d.ID === `card-${live.change_id}`);
  eq(Date.parse(dr['END-DATE']), Date.parse(hideAmended.program_date_time), 'END-DATE at the hide frame');
});
