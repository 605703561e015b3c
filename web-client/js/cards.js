// When does a product card appear on this viewer's screen?
//
// The host presses "show" at some moment of the *live* stream; the server stamps the card
// event with the program date time (wall clock of the frame, as in the playlist's
// EXT-X-PROGRAM-DATE-TIME) and the PTS of the first frame that showed it. A viewer plays
// some seconds behind live, so the websocket message arrives before their player reaches
// that frame. The scheduler holds each card event until the player's position reaches the
// event's marker, so the card appears together with the farmer holding up the pears.
//
// Positions are compared in this order:
//   1. program date time: the player's playing date (hls.js `playingDate`, Safari
//      `getStartDate()`), against the event's `program_date_time`;
//   2. PTS: the player's media time mapped to stream PTS (hls.js init PTS), against `pts`;
//   3. neither (no video yet, stream without PDT, event without markers): the arrival time,
//      i.e. at once.
// A marker further away from the playback position than MAX_AHEAD_MS is not trusted (clock
// trouble, a stream restart) and falls back to the arrival time too.
//
// The server sends each card change at once with `pts`/`program_date_time` null, then again
// with the same `change_id`, the fields filled and `amended: true` once the media pipeline has
// put it on a frame (docs/protocol.md, "Media seam"). While the video plays, an event without
// timing is held for AMEND_GRACE_MS waiting for its amendment (the viewer is seconds behind
// live, so this costs nothing visible); the amendment replaces it in the queue. If none comes
// (no media side), the card shows when the grace ends.

export const MAX_AHEAD_MS = 60_000;
export const AMEND_GRACE_MS = 2_000;
// A marker this close ahead of the frame counts as reached: the marker's program date time is
// rounded to the ms and the player's date of a frame is computed from the segment's, so the frame
// that carries the card can come out a ms short of it; waiting would show the card one frame late.
// Half a frame at 60 fps.
export const FRAME_SLACK_MS = 8;

export function parseProgramDateTime(value) {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return null;
    return value < 1e11 ? value * 1000 : value;  // seconds or milliseconds since the epoch
  }
  const ms = Date.parse(String(value));
  return Number.isFinite(ms) ? ms : null;
}

// A card event from `card.shown`/`card.hidden` (or a visible card in `welcome`).
export function markerFromMessage(msg, arrivalMs, kind) {
  return {
    kind,  // 'show' | 'hide'
    changeId: msg.change_id ?? null,
    amended: Boolean(msg.amended),
    productId: msg.product_id ?? null,  // hide with no product: all
    slot: msg.slot ?? msg.card?.slot ?? 'bottom',
    card: msg.card ?? null,
    pdtMs: parseProgramDateTime(msg.program_date_time),
    pts: Number.isFinite(msg.pts) ? msg.pts : null,
    arrivalMs,
  };
}

// playback: the frame being presented (or the current position) in the stream's own clocks,
// whatever the path that delivered it:
//   active: the player has a media timeline that advances (playing or about to),
//   pdtMs: program date time of the frame, or null (HLS and LL-HLS: EXT-X-PROGRAM-DATE-TIME),
//   pts:   stream PTS (s) of the frame, the clock of card.shown's `pts`, or null (HLS: media
//          time + hls.js init PTS; WHEP: the frame's RTP timestamp mapped to that PTS),
//   nowMs: local clock (Date.now()), for the amendment grace.
// The page calls it once per presented frame (Player.onFrame): a card goes up with its frame.
// Returns 'due' | 'wait'; `basis` says which clock decided (for the page's debug hook).
export function decide(marker, playback) {
  if (!playback || !playback.active) return { state: 'due', basis: 'arrival' };
  if (marker.pdtMs !== null && playback.pdtMs !== null && playback.pdtMs !== undefined) {
    const ahead = marker.pdtMs - playback.pdtMs;
    if (ahead > MAX_AHEAD_MS) return { state: 'due', basis: 'arrival' };
    return { state: ahead <= FRAME_SLACK_MS ? 'due' : 'wait', basis: 'pdt' };
  }
  if (marker.pts !== null && playback.pts !== null && playback.pts !== undefined) {
    const ahead = (marker.pts - playback.pts) * 1000;
    if (ahead > MAX_AHEAD_MS || ahead < -MAX_AHEAD_MS * 10) return { state: 'due', basis: 'arrival' };
    return { state: ahead <= FRAME_SLACK_MS ? 'due' : 'wait', basis: 'pts' };
  }
  if (marker.pdtMs === null && marker.pts === null && marker.changeId !== null) {
    const now = playback.nowMs ?? Date.now();
    if (now - marker.arrivalMs < AMEND_GRACE_MS) return { state: 'wait', basis: 'amend' };
  }
  return { state: 'due', basis: 'arrival' };
}

// Holds card events until they are due, then applies them in order per product.
export class CardScheduler {
  constructor() {
    this.queue = [];
    this.visible = new Map();  // productId -> {card, slot, shownBasis}
    this.applied = new Set();  // change ids already applied
  }

  // Replaces everything with the cards a fresh `welcome` says are visible (each still
  // waits for its own marker, so a late joiner does not see a card before its frame).
  reset(markers) {
    this.queue = [];
    this.visible = new Map();
    for (const m of markers) this.queue.push(m);
  }

  // An event with the `change_id` of one still queued replaces it (the amendment with media
  // timing); one whose change was already applied is dropped (it would only repeat it).
  push(marker) {
    if (marker.changeId !== null) {
      const i = this.queue.findIndex((m) => m.changeId === marker.changeId);
      if (i >= 0) {
        this.queue[i] = { ...marker, arrivalMs: this.queue[i].arrivalMs };
        return;
      }
      if (this.applied.has(marker.changeId)) return;
    }
    this.queue.push(marker);
  }

  // Applies every due event; returns true when the visible set changed.
  tick(playback) {
    let changed = false;
    const blocked = new Set();  // products with an earlier event still waiting
    const rest = [];
    for (const m of this.queue) {
      const key = m.productId ?? '*';
      if (blocked.has(key) || (key !== '*' && blocked.has('*')) || (key === '*' && blocked.size)) {
        rest.push(m);
        continue;
      }
      const d = decide(m, playback);
      if (d.state === 'wait') {
        blocked.add(key);
        rest.push(m);
        continue;
      }
      changed = true;
      if (m.changeId !== null) {
        this.applied.add(m.changeId);
        if (this.applied.size > 500) this.applied.delete(this.applied.values().next().value);
      }
      if (m.kind === 'show') {
        // One card per slot: a card shown into an occupied slot replaces it.
        for (const [id, v] of this.visible) if (v.slot === m.slot && id !== m.productId) this.visible.delete(id);
        this.visible.set(m.productId, { card: m.card, slot: m.slot, basis: d.basis, marker: m });
      } else if (m.productId === null) {
        this.visible.clear();
      } else {
        this.visible.delete(m.productId);
      }
    }
    this.queue = rest;
    return changed;
  }

  pendingCount() {
    return this.queue.length;
  }
}
