// The viewer page without WebRTC (`?player=hls`) plays what the stream API offers next: the
// LL-HLS playlist (/hls/{id}/ll.m3u8, fMP4 parts), with hls.js (web-client's copy) in
// lowLatencyMode, for 60 s of playback: after the first frame no `waiting` event (a stall) at
// all, currentTime advances with the wall clock, and hls.js really runs in low-latency mode on a
// playlist with parts. Then the host shows a card and the page shows it within 100 ms of the
// frame that carries it (card_in_step.mjs). Latency to the live edge is printed (not asserted).
// The publisher is ffmpeg at 25 fps with a 25-frame GOP: the case that left a 40 ms last part
// per segment, which hls.js skipped (docs/ll-hls.md).
import path from 'node:path';
import {
  assert, launchBrowser, log, newPage, requireHls, requireRooms, runTest, screenshotDir, settle, startPublisher, waitFor,
} from './harness.mjs';
import { checkCardInStep } from './card_in_step.mjs';
import { CATALOG } from './fixtures.mjs';

// `node ll_hls_play.mjs srt`: the same over an SRT publisher (MPEG-TS; the LL rendition from
// converted Annex B + ADTS), browser.ll_hls_play_srt.
const protocol = process.argv[2] === 'srt' ? 'srt' : 'rtmp';

runTest(protocol === 'srt' ? 'll_hls_play_srt' : 'll_hls_play', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: 'LL-HLS test' });
  await server.putProducts(stream, CATALOG);
  await requireRooms(t, server, stream);
  startPublisher(t, server, stream, { protocol });
  await requireHls(server, stream);
  const info = await server.fetch(`/api/streams/${stream.id}`);
  assert(JSON.parse(info.text).ll_hls_url === `/hls/${stream.id}/ll.m3u8`, `the stream API offers LL-HLS (${info.text})`);

  const browser = await launchBrowser(t);
  const page = await newPage(t, browser);
  await page.goto(`${server.base}/watch/${stream.id}?player=hls`);
  await waitFor(() => page.evaluate(() => {
    const v = document.querySelector('video');
    if (v.currentTime > 0 && !v.paused && !window.__ll) {
      window.__ll = { waiting: 0, start: v.currentTime, at: performance.now(), stalls: [] };
      v.addEventListener('waiting', () => {
        window.__ll.waiting += 1;
        const b = v.buffered;
        window.__ll.stalls.push({ after_s: +((performance.now() - window.__ll.at) / 1000).toFixed(2), t: v.currentTime,
          buffered: Array.from({ length: b.length }, (_x, i) => [+b.start(i).toFixed(3), +b.end(i).toFixed(3)]) });
      });
    }
    return !!window.__ll;
  }), { timeout: 60_000, what: 'the LL-HLS video playing' });
  const mode = await page.evaluate(() => {
    const hls = window.harvestWatch.player.hls;
    const details = hls?.levels?.[0]?.details;
    return { url: hls?.url, lowLatency: hls?.config?.lowLatencyMode, parts: details?.partList?.length ?? 0,
             canBlock: details?.canBlockReload };
  });
  log(`hls.js: ${JSON.stringify(mode)}`);
  assert(/\/ll\.m3u8$/.test(mode.url ?? ''), `plays ll.m3u8 (${mode.url})`);
  assert(mode.lowLatency === true, 'hls.js lowLatencyMode');
  assert(mode.parts > 0 && mode.canBlock === true, 'hls.js sees parts and CAN-BLOCK-RELOAD');

  const samples = [];
  for (let i = 0; i < 60; ++i) {
    await new Promise((r) => setTimeout(r, 1000));  // sampling period, not synchronisation
    samples.push(await page.evaluate(() => {
      const hls = window.harvestWatch.player.hls;
      return { t: document.querySelector('video').currentTime, waiting: window.__ll.waiting, latency: hls?.latency };
    }));
  }
  const end = await page.evaluate(() => ({ t: document.querySelector('video').currentTime, ...window.__ll,
                                           wall: (performance.now() - window.__ll.at) / 1000 }));
  const lat = samples.map((s) => s.latency).filter(Number.isFinite).sort((a, b) => a - b);
  log(`played ${(end.t - end.start).toFixed(1)} s of media in ${end.wall.toFixed(1)} s; waiting events ${end.waiting}; ` +
      `hls.js latency p50 ${lat[Math.floor(lat.length / 2)]?.toFixed(2)} s, max ${lat[lat.length - 1]?.toFixed(2)} s, last ${samples.at(-1).latency?.toFixed(2)} s; ` +
      `stalls ${JSON.stringify(end.stalls)}`);
  assert(end.waiting === 0, `no stall after the first frame (waiting events: ${end.waiting})`);
  assert(end.t - end.start > 50, `currentTime advanced ${(end.t - end.start).toFixed(1)} s in ${end.wall.toFixed(1)} s`);

  const playlist = (await server.fetch(`/hls/${stream.id}/ll.m3u8`)).text;
  await checkCardInStep(t, { server, stream, browser, viewer: page, playlist, productId: 'pear-yulu' });

  // Screenshots of the page playing LL-HLS with the card up (phone and desktop, both languages);
  // the page is the same whatever the ingest, so the SRT run leaves them out (CI time).
  if (protocol === 'srt') return;
  for (const size of [{ width: 390, height: 844, mobile: true }, { width: 1366, height: 800, mobile: false }]) {
    for (const locale of ['zh-CN', 'en-US']) {
      const shot = await newPage(t, browser, { ...size, locale });
      await shot.goto(`${server.base}/watch/${stream.id}?player=hls`);
      await waitFor(() => shot.evaluate(() => /\/ll\.m3u8$/.test(window.harvestWatch.player.hls?.url ?? '') &&
        document.querySelector('video').currentTime > 1 && !!document.querySelector('.product-card[data-product-id="pear-yulu"]')),
      { timeout: 60_000, what: `LL-HLS playing with the card for the ${size.width}x${size.height} ${locale} screenshot` });
      await settle(shot);
      const file = path.join(screenshotDir(), `llhls-watch-${size.width}x${size.height}-${locale}.png`);
      await shot.screenshot({ path: file });
      log(`screenshot ${file}`);
      await shot.context().close();
    }
  }
});
