// Plain HLS (the MPEG-TS playlist, `?player=hls&ll=0`): the host shows a card and the viewer
// page shows it within 100 ms of the frame that carries it (card_in_step.mjs; LL-HLS:
// ll_hls_play.mjs, WHEP: whep_play.mjs). Until 2026-12-05 this allowed a second: the page
// ticked its cards on a 100 ms timer against currentTime; it now ticks them on each presented
// frame (requestVideoFrameCallback).
import { assert, launchBrowser, newPage, requireHls, requireRooms, runTest, startPublisher, waitFor } from './harness.mjs';
import { checkCardInStep } from './card_in_step.mjs';
import { CATALOG } from './fixtures.mjs';

runTest('card_timing', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: 'Card timing test' });
  await server.putProducts(stream, CATALOG);
  await requireRooms(t, server, stream);
  startPublisher(t, server, stream);
  const playlist = await requireHls(server, stream);
  const hasPdt = /#EXT-X-PROGRAM-DATE-TIME/.test(playlist);

  const browser = await launchBrowser(t);
  const viewer = await newPage(t, browser);
  await viewer.goto(`${server.base}/watch/${stream.id}?player=hls&ll=0`);
  await waitFor(() => viewer.evaluate((pdt) => {
    const hls = window.harvestWatch?.player?.hls;
    return document.querySelector('video').currentTime > 0.5 && (!pdt || hls?.playingDate instanceof Date);
  }, hasPdt), { timeout: 60_000, what: 'the viewer playing (with a program date time when the playlist has one)' });
  const url = await viewer.evaluate(() => window.harvestWatch.player.hls?.url ?? '');
  assert(/\/index\.m3u8$/.test(url), `?ll=0 plays the MPEG-TS playlist (${url})`);

  await checkCardInStep(t, { server, stream, browser, viewer, playlist, productId: 'pear-yulu' });
});
