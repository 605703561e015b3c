// Replays (a past live session as HLS VOD): the session's card timeline as chapters.
// Pure helpers, unit tested in tests/web/web_units.mjs.

// A replay session id as the server names them (the unix ms of the publish): [0-9a-z-], 1-64.
export function replaySessionFromSearch(search) {
  const s = new URLSearchParams(search).get('replay') ?? '';
  return /^[0-9a-z-]{1,64}$/.test(s) ? s : '';
}

// The chapter on screen at replay position `t` (seconds; the player's currentTime): the most
// recently started one whose [start, end) holds t (an open end lasts to the end of the replay).
export function chapterAt(chapters, t) {
  let best = null;
  for (const c of chapters) {
    if (!Number.isFinite(c.start) || t < c.start) continue;
    if (c.end !== null && c.end !== undefined && t >= c.end) continue;
    if (!best || c.start >= best.start) best = c;
  }
  return best;
}

// Every product whose chapter holds `t`: productId -> chapter (for drawing the cards).
export function chaptersAt(chapters, t) {
  const out = new Map();
  for (const c of chapters) {
    if (!Number.isFinite(c.start) || t < c.start) continue;
    if (c.end !== null && c.end !== undefined && t >= c.end) continue;
    out.set(c.product_id, c);
  }
  return out;
}

// A buy's `media_time` on a replay: the stream PTS the server's attribution uses. Inside a
// chapter it is exact from the chapter's own pts (works across reconnects, where PTS restarts);
// elsewhere the player's PTS, else its position.
export function replayMediaTime(chapters, t, playerPts) {
  const c = chapterAt(chapters, t);
  if (c && Number.isFinite(c.pts)) return Math.round((c.pts + (t - c.start)) * 1000) / 1000;
  return Math.round((playerPts ?? t) * 1000) / 1000;
}

// "1:05" / "1:02:03" for a position in seconds.
export function formatPosition(s) {
  const total = Math.max(0, Math.floor(s));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
