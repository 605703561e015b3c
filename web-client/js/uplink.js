// The phone's uplink, judged from WebRTC statistics: pure functions over getStats() entries,
// so that node can test them without a browser (tests/web/web_units.mjs).
//
// Two uses on the broadcaster page:
// - the uplink check before going live: a short WHIP session to /whip/{id}?probe=1 (the server
//   drops the media), sampled once a second, ending in a plain verdict;
// - while live: a bitrate and packet-loss line, and the resolution step-down on a weak uplink.

// What a verdict needs. 720p portrait from a phone encoder wants about 1.5 Mbit/s; 480p about
// 0.7. A round trip over 300 ms or loss over 2 % makes 720p stutter even when the rate is there.
export const HD = { bitrateBps: 1_500_000, rttMs: 300, loss: 0.02 };
export const SD = { bitrateBps: 700_000 };

// 'hd' (good for 720p), 'sd' (use 480p) or 'weak' (too weak). An unmeasured round trip
// (`rttMs` null: no RTCP answer yet) does not count against the link; unmeasured loss is none.
export function uplinkVerdict({ bitrateBps, rttMs = null, loss = 0 }) {
  if (!(bitrateBps >= SD.bitrateBps)) return 'weak';
  const rttOk = rttMs === null || rttMs <= HD.rttMs;
  if (bitrateBps >= HD.bitrateBps && rttOk && (loss ?? 0) <= HD.loss) return 'hd';
  return 'sd';
}

// The numbers of one getStats() report that the uplink judgement needs. `entries` is any
// iterable of RTCStats objects (report.values()).
export function sampleFromStats(entries) {
  const sample = {
    timestampMs: null, bytesSent: 0, packetsSent: 0, packetsLost: 0,
    rttMs: null, estimateBps: null, frameWidth: null, frameHeight: null, codecId: null, limitedBy: null,
  };
  const all = [...entries];
  const byId = new Map(all.map((s) => [s.id, s]));
  let selectedPair = null;
  for (const s of all) {
    if (s.type === 'outbound-rtp') {
      sample.bytesSent += s.bytesSent ?? 0;
      sample.packetsSent += s.packetsSent ?? 0;
      sample.timestampMs = Math.max(sample.timestampMs ?? 0, s.timestamp ?? 0);
      if (s.kind === 'video') {
        sample.frameWidth = s.frameWidth ?? sample.frameWidth;
        sample.frameHeight = s.frameHeight ?? sample.frameHeight;
        sample.codecId = s.codecId ?? sample.codecId;
        sample.limitedBy = s.qualityLimitationReason ?? sample.limitedBy;  // 'bandwidth', 'cpu', 'none'
      }
    } else if (s.type === 'remote-inbound-rtp') {
      sample.packetsLost += Math.max(0, s.packetsLost ?? 0);
      if (typeof s.roundTripTime === 'number' && (s.kind === 'video' || sample.rttMs === null)) sample.rttMs = s.roundTripTime * 1000;
    } else if (s.type === 'transport' && s.selectedCandidatePairId) {
      selectedPair = byId.get(s.selectedCandidatePairId) ?? selectedPair;
    } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && !selectedPair) {
      selectedPair = s;
    }
  }
  if (selectedPair) {
    if (typeof selectedPair.availableOutgoingBitrate === 'number') sample.estimateBps = selectedPair.availableOutgoingBitrate;
    if (sample.rttMs === null && typeof selectedPair.currentRoundTripTime === 'number') sample.rttMs = selectedPair.currentRoundTripTime * 1000;
  }
  const codec = sample.codecId ? byId.get(sample.codecId) : null;
  sample.codec = codec?.mimeType ? codec.mimeType.replace(/^video\//, '') : null;
  return sample;
}

// The link between two samples of the same session: what was sent per second, the share of
// packets lost (as the receiver reported them), the round trip and the browser's own estimate
// of what the link carries (availableOutgoingBitrate, from congestion control).
export function linkBetween(prev, cur) {
  const seconds = prev && cur.timestampMs !== null && prev.timestampMs !== null
    ? (cur.timestampMs - prev.timestampMs) / 1000 : 0;
  const sentBps = seconds > 0 ? Math.max(0, (cur.bytesSent - prev.bytesSent) * 8 / seconds) : null;
  const sent = prev ? cur.packetsSent - prev.packetsSent : 0;
  const lost = prev ? Math.max(0, cur.packetsLost - prev.packetsLost) : 0;
  return {
    sentBps,
    loss: sent > 0 ? Math.min(1, lost / (sent + lost)) : 0,
    rttMs: cur.rttMs,
    estimateBps: cur.estimateBps,
    width: cur.frameWidth,
    height: cur.frameHeight,
    codec: cur.codec,
    limitedBy: cur.limitedBy ?? null,
  };
}

// What the link carries, for a verdict: the browser's estimate when it has one (a camera
// showing a still scene sends less than the link could take), else what was sent.
export function linkBitrate(link) {
  return Math.max(link.sentBps ?? 0, link.estimateBps ?? 0);
}

// The uplink check: fed one link sample a second, says when it has seen enough. Congestion
// control starts low and ramps up, so a good link is declared as soon as two samples in a row
// say so (after `minMs`), and anything else is judged on the best of the last samples at `maxMs`.
export class UplinkCheck {
  constructor({ minMs = 2000, maxMs = 8000 } = {}) {
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.links = [];
    this.hdInARow = 0;
  }

  // Returns null while it wants more, else { verdict, bitrateBps, rttMs, loss }.
  add(link, elapsedMs) {
    this.links.push(link);
    const judged = this.judge(link);
    this.hdInARow = judged.verdict === 'hd' ? this.hdInARow + 1 : 0;
    if (elapsedMs >= this.minMs && this.hdInARow >= 2) return judged;
    if (elapsedMs < this.maxMs) return null;
    const recent = this.links.slice(-3).map((l) => this.judge(l));
    return recent.reduce((best, j) => (j.bitrateBps > best.bitrateBps ? j : best), recent[0]);
  }

  judge(link) {
    const measured = { bitrateBps: linkBitrate(link), rttMs: link.rttMs ?? null, loss: link.loss ?? 0 };
    return { ...measured, verdict: uplinkVerdict(measured) };
  }
}

// Resolution steps while live: scaleResolutionDownBy of the camera's size (720×1280 → 480×853
// → 360×640), and what each step needs. Stepping is the page's job, not the encoder's: the
// sender keeps its resolution (degradationPreference 'maintain-resolution') so the HLS
// renditions do not change size on every dip, and the step is a deliberate, lasting one.
export const STEPS = [
  { scale: 1, needsBps: HD.bitrateBps },
  { scale: 1.5, needsBps: SD.bitrateBps },
  { scale: 2, needsBps: 0 },
];
const DOWN_AFTER = 3;  // weak samples in a row before stepping down (samples every 2 s)
const UP_AFTER = 5;    // good samples in a row before stepping back up
const HEAVY_LOSS = 0.05;

// Congestion control starts every new connection at about 300 kbit/s and needs a few seconds
// to find the link's rate: a low estimate that early says nothing about the uplink.
export const WARM_UP_MS = 10_000;

// One decision per live sample: { step, weak, good } in, the same shape out (start with
// { step: 0, weak: 0, good: 0 }, or the step the uplink check chose). `liveMs`: how long the
// current connection has been up.
//
// A low estimate alone is not a weak uplink: congestion control raises its estimate only as
// far as the encoder actually sends (a still scene needs little), so it is believed only when
// the encoder says the bandwidth holds it back (qualityLimitationReason 'bandwidth').
export function nextStep(state, link, { liveMs = Infinity } = {}) {
  const bitrate = liveMs >= WARM_UP_MS ? link.estimateBps ?? null : null;  // no estimate: only loss is judged
  const need = STEPS[state.step].needsBps;
  const heldBack = link.limitedBy === 'bandwidth';
  const weak = link.loss > HEAVY_LOSS || (heldBack && bitrate !== null && bitrate < need * 0.8);
  const up = state.step > 0 ? STEPS[state.step - 1] : null;
  const roomy = up !== null && link.loss <= HD.loss && bitrate !== null && bitrate >= up.needsBps * 1.2;
  const s = { step: state.step, weak: weak ? state.weak + 1 : 0, good: roomy ? state.good + 1 : 0 };
  if (s.weak >= DOWN_AFTER && s.step < STEPS.length - 1) return { step: s.step + 1, weak: 0, good: 0 };
  if (s.good >= UP_AFTER) return { step: s.step - 1, weak: 0, good: 0 };
  return s;
}

// The step to go live at, from the uplink check's verdict.
export function stepForVerdict(verdict) {
  return verdict === 'hd' || !verdict ? 0 : verdict === 'sd' ? 1 : 2;
}

// Delay before reconnecting attempt `attempt` (0, 1, ...): 1 s doubling to at most 15 s, with
// jitter so that phones that lost the same cell tower do not all come back at once.
export const RECONNECT_MIN_MS = 1000;
export const RECONNECT_MAX_MS = 15_000;
export function reconnectDelay(attempt, random = Math.random) {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
  return Math.round(Math.max(RECONNECT_MIN_MS, base / 2 + random() * (base / 2)));
}

// "1.8 Mbps", "650 kbps".
export function formatBitrate(bps) {
  if (!Number.isFinite(bps)) return '–';
  if (bps >= 1_000_000) return `${(bps / 1_000_000).toFixed(1)} Mbps`;
  return `${Math.round(bps / 1000)} kbps`;
}

// "0.4 %" for a loss fraction.
export function formatLoss(fraction) {
  return `${((fraction ?? 0) * 100).toFixed(fraction >= 0.1 ? 0 : 1)} %`;
}
