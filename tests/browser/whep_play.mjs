// WHEP playback (POST /whep/{id}): ffmpeg publishes over RTMP, the viewer page prefers WebRTC
// because the stream advertises whep_url, and Chromium plays it (currentTime advances, frames
// decoded); a card the host shows appears within 100 ms of media time of the frame that carries
// it (RTP timestamp = card.shown's pts). Then the refusals: malformed SDP (400), unknown stream
// (404), offline stream (409), wrong media type (415), too many viewers (503 + Retry-After, and
// a second viewer page falls back to HLS), DELETE (200, then 404), and a viewer that vanishes
// without DELETE is cleaned up (harvest_whep_viewers back to 0); a stream without audio plays too. Screenshots of the page
// playing over WHEP at 390×844 and 1366×800 in zh-CN and en.
// The server runs with --whep-max-viewers 1.
import path from 'node:path';
import {
  WsClient, assert, launchBrowser, log, newPage, openHost, requireHls, requireRooms, runTest, screenshotDir, settle,
  startPublisher, waitFor,
} from './harness.mjs';
import { CATALOG } from './fixtures.mjs';
import { RECVONLY_OFFER_SOURCE } from './whep_offer.mjs';

async function whepViewers(server) {
  const r = await server.fetch('/metrics', { token: server.adminToken });
  const m = /^harvest_whep_viewers (\d+)$/m.exec(r.text);
  assert(m, `GET /metrics has harvest_whep_viewers (status ${r.status})`);
  return Number(m[1]);
}

// POSTs an offer from the page: a real recvonly RTCPeerConnection's (kept in window.__pcs and
// given the answer), or `sdp` as it is.
async function whepPost(page, pathname, { sdp = null, type = 'application/sdp' } = {}) {
  await page.evaluate(RECVONLY_OFFER_SOURCE);
  return page.evaluate(async ({ pathname, sdp, type }) => {
    let body = sdp;
    let pc = null;
    if (body === null) {
      pc = await window.recvonlyOffer();
      body = pc.localDescription.sdp;
    }
    const res = await fetch(pathname, { method: 'POST', headers: { 'content-type': type }, body });
    const text = await res.text();
    if (pc && res.status === 201) {
      await pc.setRemoteDescription({ type: 'answer', sdp: text });
      (window.__pcs ??= []).push(pc);
    }
    return { status: res.status, text, location: res.headers.get('location'), retryAfter: res.headers.get('retry-after'),
      link: res.headers.get('link') };
  }, { pathname, sdp, type });
}

runTest('whep_play', async (t) => {
  const server = await t.server({ args: ['--whep-max-viewers', '1'] });
  const stream = await server.createStream({ title: '隰县玉露香梨 · WebRTC', farmer: '李大姐' });
  const offline = await server.createStream({ title: 'Not live' });
  await server.putProducts(stream, CATALOG);
  await requireRooms(t, server, stream);

  const info = await server.fetch(`/api/streams/${stream.id}`);
  assert(typeof info.json?.whep_url === 'string' && info.json.whep_url.endsWith(`/whep/${stream.id}`),
    `GET /api/streams/{id} advertises whep_url (got ${info.json?.whep_url})`);

  startPublisher(t, server, stream);
  await requireHls(server, stream);

  const browser = await launchBrowser(t);
  const viewer = await newPage(t, browser);
  await viewer.goto(`${server.base}/watch/${stream.id}`);
  await waitFor(() => viewer.evaluate(() => document.body.dataset.transport === 'whep'),
    { timeout: 60_000, what: 'the viewer page playing over WHEP (data-transport=whep)' });
  const first = await waitFor(() => viewer.evaluate(() => {
    const v = document.querySelector('video');
    return v.currentTime > 0 && !v.paused ? v.currentTime : 0;
  }), { timeout: 60_000, what: 'video currentTime > 0 over WebRTC' });
  const frames = await waitFor(() => viewer.evaluate((t0) => {
    const v = document.querySelector('video');
    const q = v.getVideoPlaybackQuality();
    return v.currentTime > t0 + 2 && q.totalVideoFrames > 30 ? { t: v.currentTime, frames: q.totalVideoFrames, w: v.videoWidth } : null;
  }, first), { timeout: 60_000, what: 'currentTime to advance 2 s with more than 30 frames decoded' });
  log(`WHEP playing: currentTime ${frames.t.toFixed(2)} s, ${frames.frames} frames, width ${frames.w}`);
  assert(frames.w === 360, `the publisher's picture arrives as it is (360 wide, got ${frames.w})`);
  assert(await whepViewers(server) === 1, 'harvest_whep_viewers is 1 with one viewer');

  // A card the host shows appears on the WebRTC viewer at its frame (RTP timestamp vs pts).
  await viewer.evaluate(() => {
    window.__cardSeen = null;
    new MutationObserver(() => {
      if (window.__cardSeen) return;
      const card = document.querySelector('.product-card[data-product-id="pear-yulu"]');
      if (!card) return;
      window.__cardSeen = { pts: window.harvestWatch.player.rtpPts, basis: card.dataset.shownBasis };
    }).observe(document.body, { childList: true, subtree: true });
  });
  const host = await openHost(t, server, stream);
  host.send({ type: 'card.show', product_id: 'pear-yulu', slot: 'bottom' });
  const shown = await host.waitForMessage((m) => m.type === 'card.shown' && m.product_id === 'pear-yulu' && Number.isFinite(m.pts),
    'card.shown with pts', 20_000);
  const seen = await viewer.waitForFunction(() => window.__cardSeen, null, { timeout: 30_000 }).then((h) => h.jsonValue());
  const lateMs = (seen.pts - shown.pts) * 1000;
  log(`card pts ${shown.pts.toFixed(3)}; shown on the WHEP frame with pts ${seen.pts?.toFixed(3)} (${lateMs.toFixed(0)} ms), basis ${seen.basis}`);
  assert(seen.basis === 'pts', `the page placed the card by the frame's RTP timestamp (basis ${seen.basis})`);
  assert(lateMs >= -40, `not before the frame that carries it (early by ${-lateMs} ms)`);
  assert(lateMs <= 100, `within 100 ms of media time of the frame that carries it (late by ${lateMs} ms)`);

  // Refusals, from a page of the same origin (a real offer where one is needed).
  const probe = await newPage(t, browser, { width: 1366, height: 800, mobile: false });
  await probe.goto(`${server.base}/`);
  const bad = await whepPost(probe, `/whep/${stream.id}`, { sdp: 'this is not SDP' });
  assert(bad.status === 400 && /bad_sdp/.test(bad.text), `malformed SDP: 400 bad_sdp (got ${bad.status} ${bad.text})`);
  const sendonly = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n' +
    'a=fingerprint:sha-256 AB:CD\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=rtpmap:96 H264/90000\r\n' +
    'a=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n';
  const noVideo = await whepPost(probe, `/whep/${stream.id}`, { sdp: sendonly });
  assert(noVideo.status === 400 && /no_usable_codec/.test(noVideo.text), `an offer that receives nothing: 400 (got ${noVideo.status})`);
  const unknown = await whepPost(probe, '/whep/no-such-stream');
  assert(unknown.status === 404, `unknown stream: 404 (got ${unknown.status} ${unknown.text})`);
  const notLive = await whepPost(probe, `/whep/${offline.id}`);
  assert(notLive.status === 409 && /offline/.test(notLive.text), `offline stream: 409 offline (got ${notLive.status} ${notLive.text})`);
  const wrongType = await whepPost(probe, `/whep/${stream.id}`, { sdp: 'v=0', type: 'text/plain' });
  assert(wrongType.status === 415, `wrong media type: 415 (got ${wrongType.status})`);
  const full = await whepPost(probe, `/whep/${stream.id}`);
  assert(full.status === 503, `a second viewer with --whep-max-viewers 1: 503 (got ${full.status} ${full.text})`);
  assert(Number(full.retryAfter) > 0, `503 carries Retry-After (got ${full.retryAfter})`);
  assert(JSON.parse(full.text).hls_url === `/hls/${stream.id}/index.m3u8`, `503 names the HLS playlist (${full.text})`);
  assert(JSON.parse(full.text).ll_hls_url === `/hls/${stream.id}/ll.m3u8`, `503 sends the rest to LL-HLS (${full.text})`);
  assert(/<\/hls\/[^>]+\/ll\.m3u8>; rel="alternate"/.test(full.link ?? ''), `503 links the LL-HLS playlist (Link: ${full.link})`);
  const metrics = await server.fetch('/metrics', { token: server.adminToken });
  assert(/^harvest_whep_refused_full_total [1-9]/m.test(metrics.text), 'the refusal is counted');

  // A second viewer page while full: falls back to LL-HLS (what the stream API offers) and plays.
  const second = await newPage(t, browser);
  await second.goto(`${server.base}/watch/${stream.id}`);
  await waitFor(() => second.evaluate(() => document.body.dataset.transport === 'hls' && document.querySelector('video').currentTime > 0.5),
    { timeout: 60_000, what: 'the second viewer playing over HLS after the 503' });
  const secondSrc = await second.evaluate(() => window.harvestWatch.player.hls?.url ?? '');
  assert(/\/ll\.m3u8$/.test(secondSrc), `the fallback is LL-HLS (${secondSrc})`);
  await second.context().close();
  assert(await whepViewers(server) === 1, 'the HLS viewer is no WHEP viewer');

  // The first viewer leaves (its page DELETEs its session).
  await viewer.evaluate(() => window.harvestWatch.player.teardown());
  await viewer.context().close();
  await waitFor(async () => (await whepViewers(server)) === 0, { timeout: 15_000, what: 'harvest_whep_viewers back to 0 after the page ended its session' });

  // DELETE of a session's Location: 200, then 404.
  const session = await whepPost(probe, `/whep/${stream.id}`);
  assert(session.status === 201 && session.location?.startsWith(`/whep/${stream.id}/`), `201 + Location (got ${session.status} ${session.location})`);
  assert(/^a=sendonly/m.test(session.text) && /H264/.test(session.text), 'the answer sends H.264');
  const del = await server.fetch(session.location, { method: 'DELETE' });
  assert(del.status === 200, `DELETE the session: 200 (got ${del.status})`);
  const again = await server.fetch(session.location, { method: 'DELETE' });
  assert(again.status === 404, `DELETE it again: 404 (got ${again.status})`);
  await waitFor(async () => (await whepViewers(server)) === 0, { timeout: 10_000, what: 'no viewer after DELETE' });
  const preflight = await server.fetch(`/whep/${stream.id}`, { method: 'OPTIONS' });
  assert(preflight.status === 204 && /POST/.test(preflight.headers.get('access-control-allow-methods') ?? ''), 'OPTIONS preflight');

  // A viewer that vanishes (its browser context closes without DELETE) is cleaned up.
  const ghostContext = await browser.newContext();
  const ghost = await ghostContext.newPage();
  await ghost.goto(`${server.base}/`);
  const ghostSession = await whepPost(ghost, `/whep/${stream.id}`);
  assert(ghostSession.status === 201, `the vanishing viewer is answered (got ${ghostSession.status})`);
  await waitFor(() => ghost.evaluate(() => window.__pcs[0].connectionState === 'connected'), { timeout: 20_000, what: 'the vanishing viewer connected' });
  await ghostContext.close();
  await waitFor(async () => (await whepViewers(server)) === 0, { timeout: 45_000, interval: 500, what: 'the vanished viewer cleaned up (harvest_whep_viewers 0)' });
  assert(server.lines.some((l) => /whep_viewer_ended/.test(l) && /RTCP|ICE/.test(l)), 'ended for its silence or ICE');

  // A stream without audio plays over WHEP too (its answer still sends an audio section).
  const silent = await server.createStream({ title: 'No microphone' });
  startPublisher(t, server, silent, { audio: false });
  await requireHls(server, silent);
  const silentViewer = await newPage(t, browser);
  await silentViewer.goto(`${server.base}/watch/${silent.id}`);
  const silentPlay = await waitFor(() => silentViewer.evaluate(() => {
    const v = document.querySelector('video');
    const decoded = v.getVideoPlaybackQuality().totalVideoFrames;
    return document.body.dataset.transport === 'whep' && decoded > 30 ? decoded : null;
  }), { timeout: 60_000, what: 'a video-only stream playing over WHEP with more than 30 frames decoded' });
  log(`video-only stream over WHEP: ${silentPlay} frames decoded`);
  await silentViewer.evaluate(() => window.harvestWatch.player.teardown());
  await silentViewer.context().close();
  await waitFor(async () => (await whepViewers(server)) === 0, { timeout: 15_000, what: 'the video-only viewer gone' });

  // --whep-max-viewers 0: no WebRTC playback, so no whep_url is advertised and the page uses HLS.
  const noWhep = await t.server({ args: ['--whep-max-viewers', '0'] });
  const plain = await noWhep.createStream({ title: 'HLS only' });
  const plainInfo = await noWhep.fetch(`/api/streams/${plain.id}`);
  assert(plainInfo.status === 200 && plainInfo.json.whep_url === null,
    `with --whep-max-viewers 0 whep_url is null (got ${JSON.stringify(plainInfo.json?.whep_url)})`);

  // Screenshots of the page playing over WHEP (one viewer at a time: the cap is 1).
  const dir = screenshotDir();
  for (const size of [{ width: 390, height: 844, mobile: true }, { width: 1366, height: 800, mobile: false }]) {
    for (const locale of ['zh-CN', 'en-US']) {
      const page = await newPage(t, browser, { ...size, locale });
      await page.goto(`${server.base}/watch/${stream.id}`);
      await waitFor(() => page.evaluate(() => document.body.dataset.transport === 'whep' && document.querySelector('video').currentTime > 1),
        { timeout: 60_000, what: `WHEP playing for the ${size.width}x${size.height} ${locale} screenshot` });
      await settle(page);
      const file = path.join(dir, `whep-watch-${size.width}x${size.height}-${locale}.png`);
      await page.screenshot({ path: file });
      log(`screenshot ${file}`);
      await page.evaluate(() => window.harvestWatch.player.teardown());
      await page.context().close();
      await waitFor(async () => (await whepViewers(server)) === 0, { timeout: 15_000, what: 'the screenshot viewer gone' });
    }
  }
});
