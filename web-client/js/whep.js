// WHEP (draft-ietf-wish-whep) playback in the browser: one receive-only RTCPeerConnection
// answered by POST /whep/{id} (docs/protocol.md, "WHEP"). No trickle ICE: the offer goes out
// with every candidate. The server sends the publisher's H.264 as it is (no re-encode) and
// Opus; cards follow the RTP timestamps (see rtpToPts).
import { iceServersFromLinks } from './whip.js';

export class WhepError extends Error {
  // `fallback`: the server asks the page to watch over HLS instead (503 full, 4xx refusal).
  constructor(message, { status = 0, retryAfterS = 0 } = {}) {
    super(message);
    this.status = status;
    this.retryAfterS = retryAfterS;
  }
}

// 2^32 ticks of the 90 kHz video clock, in seconds: how far apart two RTP timestamps that look
// the same are.
const RTP_WRAP_S = 2 ** 32 / 90000;

// The server's video RTP timestamps are the HLS path's MPEG-TS PTS (running time + 1 h) in
// 90 kHz taken mod 2^32, so `pts` of card.shown names a WebRTC frame too. `rtp` is the
// timestamp Chromium reports for the frame on screen (requestVideoFrameCallback's
// metadata.rtpTimestamp); `near` (seconds) picks the wrap: the last value seen, or null.
export function rtpToPts(rtp, near = null) {
  const base = rtp / 90000;
  if (near === null) return base;
  const k = Math.round((near - base) / RTP_WRAP_S);
  return base + k * RTP_WRAP_S;
}

function waitIceGathering(pc, timeoutMs = 3000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

// One viewer session: start() resolves with the MediaStream once the answer is applied.
export class WhepSession {
  constructor(url, { onState = () => {} } = {}) {
    this.url = url;
    this.onState = onState;
    this.pc = null;
    this.resource = null;
  }

  async start() {
    let iceServers = [];
    try {
      iceServers = iceServersFromLinks((await fetch(this.url, { method: 'OPTIONS' })).headers.get('link'));
    } catch {
      // the POST tells what is wrong
    }
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers });
    this.pc = pc;
    const stream = new MediaStream();
    pc.addEventListener('track', (e) => stream.addTrack(e.track));
    pc.addEventListener('connectionstatechange', () => this.onState(pc.connectionState));
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await waitIceGathering(pc);
    let res;
    try {
      res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
    } catch (err) {
      this.close();
      throw new WhepError(err.message || 'network error');
    }
    if (res.status !== 201) {
      const body = await res.json().catch(() => ({}));
      this.close();
      throw new WhepError(body.message || `HTTP ${res.status}`,
        { status: res.status, retryAfterS: Number(res.headers.get('retry-after')) || 0 });
    }
    const location = res.headers.get('location');
    this.resource = location ? new URL(location, new URL(this.url, window.location.href)).toString() : null;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    return stream;
  }

  close() {
    if (this.resource) fetch(this.resource, { method: 'DELETE', keepalive: true }).catch(() => {});
    this.resource = null;
    if (this.pc) this.pc.close();
    this.pc = null;
  }
}
