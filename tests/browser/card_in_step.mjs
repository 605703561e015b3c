// The card-in-step check shared by the HLS and LL-HLS browser tests (WHEP: whep_play.mjs reads
// RTP timestamps instead): the host clicks "show" in the host console and the viewer page must
// show that card within 100 ms of its *playback* reaching the card's marker (program date time),
// i.e. with the frame that carries it or within the next three frames at 30 fps, not when the
// websocket message arrives. The viewer plays behind live, so the two differ.
//
// Measured in media time, not wall time: at the moment the card's node is on a presented frame,
// we read hls.js's own `playingDate` (the program date time of the frame on screen) and compare
// it with the marker the server sent in `card.shown`.
import { WsClient, assert, hostLogin, log, missing, newPage } from './harness.mjs';

// `viewer`: a watch page already playing over hls.js; `playlist`: the playlist text it plays.
export async function checkCardInStep(t, { server, stream, browser, viewer, playlist, productId }) {
  const hasPdt = /#EXT-X-PROGRAM-DATE-TIME/.test(playlist);
  // Record, independently of the page's scheduler, which frame was on screen with the card: the
  // first frame presented with the card's node in the page (the page inserts it in its own
  // frame callback, which runs before ours for the same frame; one inserted from the page's
  // timer shows with the next frame). Judged by the frame's media time, not currentTime: on a
  // loaded machine the video lags its clock (currentTime follows the audio) by hundreds of ms.
  await viewer.evaluate((id) => {
    window.__cardSeen = null;
    const video = document.querySelector('video');
    let previousFrameDateMs = null;  // the frame presented before this one (frames may be skipped)
    const onFrame = (_now, meta) => {
      video.requestVideoFrameCallback(onFrame);
      if (window.__cardSeen) return;
      const hls = window.harvestWatch.player.hls;
      const playingDateMs = hls?.playingDate ? hls.playingDate.getTime() : null;
      const frameDateMs = playingDateMs !== null ? playingDateMs + (meta.mediaTime - video.currentTime) * 1000 : null;
      const card = document.querySelector(`.product-card[data-product-id="${id}"]`);
      if (!card) {
        previousFrameDateMs = frameDateMs;
        return;
      }
      window.__cardSeen = {
        playingDateMs,
        frameDateMs,
        previousFrameDateMs,
        wallMs: Date.now(),
        basis: card.dataset.shownBasis,
        clock: window.harvestWatch.cardClock,
      };
    };
    video.requestVideoFrameCallback(onFrame);
  }, productId);

  const listener = new WsClient(server, stream.id);
  t.defer(() => listener.close());
  await listener.open();

  const host = await newPage(t, browser, { width: 1366, height: 768, mobile: false });
  await hostLogin(host, server, stream);
  await host.click(`.product-row[data-product-id="${productId}"] .show-card`);

  // The server sends the change at once, then again (same change_id, `amended`) with the
  // program date time of the first frame that showed it.
  const isCard = (m) => m.type === 'card.shown' && m.product_id === productId;
  await listener.waitForMessage(isCard, 'card.shown');
  const arrivalMs = Date.now();
  const shown = await listener.waitForMessage((m) => isCard(m) && m.program_date_time !== null && m.program_date_time !== undefined,
    'card.shown with program_date_time', 15_000).catch(() => ({}));
  const markerMs = typeof shown.program_date_time === 'number'
    ? (shown.program_date_time < 1e11 ? shown.program_date_time * 1000 : shown.program_date_time)
    : Date.parse(shown.program_date_time ?? '');

  const seen = await viewer.waitForFunction(() => window.__cardSeen, null, { timeout: 60_000 }).then((h) => h.jsonValue());
  const iso = (ms) => (Number.isFinite(ms) ? new Date(ms).toISOString() : '-');
  log(`card.shown marker ${iso(markerMs)} (pts ${shown.pts}); shown at playing date ` +
      `${iso(seen.playingDateMs)} (frame on screen ${iso(seen.frameDateMs)}), ${seen.wallMs - arrivalMs} ms after the message, ` +
      `late by ${seen.frameDateMs - markerMs} ms of media time (the frame presented before it: ` +
      `${seen.previousFrameDateMs === null ? '-' : Math.round(seen.previousFrameDateMs - markerMs)} ms), basis ${seen.basis}, clock ${seen.clock}`);

  if (!hasPdt) {
    missing('server feature: EXT-X-PROGRAM-DATE-TIME in the HLS playlist (the card appeared by the fallback; playback sync not checkable)');
  }
  if (!Number.isFinite(markerMs)) {
    missing('server feature: program_date_time in card.shown (the card appeared on arrival; playback sync not checkable)');
  }
  assert(seen.basis === 'pdt', `the page placed the card by program date time (basis ${seen.basis})`);
  assert(seen.playingDateMs !== null, 'hls.js knew the playing date when the card appeared');
  assert(seen.frameDateMs !== null, 'hls.js knew the playing date of the frame');
  assert(seen.frameDateMs >= markerMs - 50, `not before the frame on screen reached the marker (early by ${markerMs - seen.frameDateMs} ms)`);
  assert(seen.clock === 'video-frame', `the page ticks its cards on each presented frame (clock ${seen.clock})`);
  // Within 100 ms of the frame that carries it; on a loaded machine Chromium skips frames (at
  // hls.js's catch-up rate too), so a card may first be presentable later than that: then it
  // must be on the first presented frame at or after its marker (the one before was earlier).
  const firstPresentable = seen.previousFrameDateMs !== null && seen.previousFrameDateMs < markerMs;
  assert(seen.frameDateMs <= markerMs + 100 || firstPresentable,
    `within 100 ms of the frame that carries it, or on the first frame presented after it (late by ` +
    `${seen.frameDateMs - markerMs} ms of media time; the frame presented before: ${seen.previousFrameDateMs - markerMs} ms)`);
  return { lateMs: seen.frameDateMs - markerMs };
}
