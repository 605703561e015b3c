// WHIP (RFC 9725) from the browser: one RTCPeerConnection that sends the camera and microphone
// to POST /whip/{id} (docs/protocol.md), and a publisher that keeps one going across network
// drops. No trickle ICE: the offer goes out with every candidate, the server answers likewise.
import { RECONNECT_MAX_MS, reconnectDelay } from './uplink.js';

// Codec order for the offer. H.264 first because the server passes it through to HLS without
// re-encoding (constrained baseline, packetization-mode 1, the profile every phone decoder and
// hls.js plays); VP8 stays as the fallback for browsers without H.264. `prefer: 'vp8'` offers
// VP8 alone, since the server would otherwise pick H.264 from anywhere in the list.
// Retransmission and FEC entries are kept after the codecs they serve.
export function orderCodecs(codecs, prefer = 'h264') {
  const mime = (c) => c.mimeType.toLowerCase();
  const isHelper = (c) => /\/(rtx|red|ulpfec|flexfec-03)$/.test(mime(c));
  const rank = (c) => {
    const fmtp = c.sdpFmtpLine || '';
    if (prefer === 'vp8') return mime(c) === 'video/vp8' ? 0 : -1;
    if (mime(c) === 'video/h264' && /packetization-mode=1/.test(fmtp)) return /profile-level-id=42e0/.test(fmtp) ? 0 : 1;
    if (mime(c) === 'video/h264') return -1;  // packetization-mode 0: the server refuses it
    if (mime(c) === 'video/vp8') return 2;
    return -1;  // VP9, AV1, H.265: the server does not ingest them
  };
  const main = codecs.filter((c) => !isHelper(c) && rank(c) >= 0)
    .map((c, i) => ({ c, r: rank(c), i }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.c);
  return [...main, ...codecs.filter(isHelper)];
}

// `Link: <stun:host:port>; rel="ice-server"; username="u"; credential="p"` → RTCIceServer[]
export function iceServersFromLinks(header) {
  if (!header) return [];
  const servers = [];
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]+)>(.*)/.exec(part.trim());
    if (!m || !/rel="?ice-server"?/.test(m[2])) continue;
    const param = (name) => (new RegExp(`${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(m[2])?.[1] ?? '').replace(/\\(.)/g, '$1');
    const server = { urls: m[1] };
    if (param('username')) server.username = param('username');
    if (param('credential')) server.credential = param('credential');
    servers.push(server);
  }
  return servers;
}

export class WhipError extends Error {
  // `retry`: worth trying again later (network, 5xx); not for a wrong key (401) or another
  // publisher on the stream (409).
  constructor(message, { status = 0, retry = true } = {}) {
    super(message);
    this.status = status;
    this.retry = retry;
  }
}

export function waitIceGathering(pc, timeoutMs = 3000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    function finish() {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    }
    function onChange() {
      if (pc.iceGatheringState === 'complete') finish();
    }
    // Send what we have rather than wait forever: a gathering that never completes must not
    // hold a reconnect (this timer once returned without resolving).
    const timer = setTimeout(finish, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

// One WHIP session: start() resolves once the answer is applied; `onState` hears the peer
// connection's state ('connected', 'disconnected', 'failed', ...).
export class WhipSession {
  // `probe`: an uplink check (/whip/{id}?probe=1, the server drops the media).
  // `maxBitrateBps`: a cap on the video the session sends (none: the browser's default).
  constructor({ url, key, stream, codec = 'h264', scale = 1, probe = false, maxBitrateBps = null, onState = () => {} }) {
    this.url = probe ? `${url}${url.includes('?') ? '&' : '?'}probe=1` : url;
    this.maxBitrateBps = maxBitrateBps;
    this.key = key;
    this.stream = stream;
    this.codec = codec;
    this.scale = scale;
    this.onState = onState;
    this.pc = null;
    this.resource = null;
    this.closed = false;
  }

  async start() {
    const iceServers = await this.preflight();
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers });
    this.pc = pc;
    pc.addEventListener('connectionstatechange', () => this.onState(pc.connectionState));
    for (const track of this.stream.getTracks()) {
      const video = track.kind === 'video';
      const transceiver = pc.addTransceiver(track, {
        direction: 'sendonly',
        streams: [this.stream],
        sendEncodings: video
          ? [{ scaleResolutionDownBy: this.scale, ...(this.maxBitrateBps ? { maxBitrate: this.maxBitrateBps } : {}) }]
          : undefined,
      });
      if (video) this.preferCodecs(transceiver);
    }
    await pc.setLocalDescription(await pc.createOffer());
    await waitIceGathering(pc);
    let res;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${this.key}` },
        body: pc.localDescription.sdp,
      });
    } catch (err) {
      throw new WhipError(err.message || 'network error');
    }
    if (res.status !== 201) {
      const body = await res.json().catch(() => ({}));
      throw new WhipError(body.message || `HTTP ${res.status}`, { status: res.status, retry: res.status >= 500 || res.status === 429 });
    }
    const location = res.headers.get('location');
    this.resource = location ? new URL(location, new URL(this.url, window.location.href)).toString() : null;
    if (this.closed) return this.close();  // stopped while the server was answering
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    await this.keepResolution();
  }

  // The ICE servers the server hands out (Link headers on the preflight, RFC 9725 §4.4).
  async preflight() {
    try {
      const res = await fetch(this.url, { method: 'OPTIONS' });
      return iceServersFromLinks(res.headers.get('link'));
    } catch {
      return [];  // the POST will tell what is wrong
    }
  }

  preferCodecs(transceiver) {
    if (typeof transceiver.setCodecPreferences !== 'function' || !window.RTCRtpReceiver?.getCapabilities) return;
    const codecs = orderCodecs(RTCRtpReceiver.getCapabilities('video')?.codecs ?? [], this.codec);
    if (codecs.length) transceiver.setCodecPreferences(codecs);
  }

  // The encoder keeps the camera's resolution under a low bandwidth estimate and lowers the
  // frame rate instead; the page steps the resolution itself (setScale). Without this Chromium
  // starts at a fraction of the size while its estimate ramps up, and HLS changes size mid-stream.
  async keepResolution() {
    const sender = this.pc.getSenders().find((s) => s.track?.kind === 'video');
    if (!sender) return;
    const params = sender.getParameters();
    params.degradationPreference = 'maintain-resolution';
    await sender.setParameters(params).catch(() => {});
  }

  async setScale(scale) {
    this.scale = scale;
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === 'video');
    if (!sender) return;
    const params = sender.getParameters();
    if (!params.encodings?.length) return;
    params.encodings[0].scaleResolutionDownBy = scale;
    await sender.setParameters(params);
  }

  // Camera switch and the like: the new track goes out on the same sender, no renegotiation.
  async replaceTrack(track) {
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === track.kind);
    if (sender) await sender.replaceTrack(track);
  }

  async close() {
    this.closed = true;
    const resource = this.resource;
    this.resource = null;
    if (this.pc) this.pc.close();
    if (resource) {
      await fetch(resource, { method: 'DELETE', headers: { authorization: `Bearer ${this.key}` } }).catch(() => {});
    }
  }
}

// Going live and staying live: a WhipSession, replaced by a new one with backoff (1–15 s)
// when the network drops it. Status changes arrive at `onStatus({ state, ... })`:
//   connecting | live | reconnecting (with inMs, the wait) | failed (with error) | idle
export class WhipPublisher {
  constructor({ url, key, stream, codec, scale = 1, onStatus = () => {} }) {
    Object.assign(this, { url, key, stream, codec, scale, onStatus });
    this.session = null;
    this.attempt = 0;
    this.timer = null;
    this.disconnectTimer = null;
    this.running = false;
    this.onOnline = () => {
      // The phone is back on a network: no point waiting out the backoff.
      if (this.running && this.timer !== null) this.retryNow();
    };
  }

  start() {
    this.running = true;
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  async connect() {
    this.timer = null;
    const session = new WhipSession({
      url: this.url, key: this.key, stream: this.stream, codec: this.codec, scale: this.scale,
      onState: (state) => this.sessionState(session, state),
    });
    this.session = session;
    this.onStatus({ state: this.attempt === 0 ? 'connecting' : 'reconnecting', attempt: this.attempt });
    try {
      await session.start();
    } catch (err) {
      if (session !== this.session || !this.running) return;
      await session.close();
      if (err instanceof WhipError && !err.retry) return this.fail(err);
      this.scheduleRetry(err);
    }
  }

  sessionState(session, state) {
    if (session !== this.session || !this.running) return;
    clearTimeout(this.disconnectTimer);
    if (state === 'connected') {
      this.attempt = 0;
      this.onStatus({ state: 'live' });
    } else if (state === 'failed') {
      this.replace(new Error('connection failed'));
    } else if (state === 'disconnected') {
      // ICE may come back by itself within a few seconds (a Wi-Fi to 4G hand-over); the server
      // ends a silent session soon after, so a longer wait only makes the gap longer.
      this.disconnectTimer = setTimeout(() => this.replace(new Error('connection lost')), 3000);
    }
  }

  async replace(err) {
    const old = this.session;
    this.session = null;
    if (old) old.close();
    this.scheduleRetry(err);
  }

  scheduleRetry(err) {
    const inMs = reconnectDelay(this.attempt);
    this.attempt += 1;
    this.onStatus({ state: 'reconnecting', inMs, error: err.message, attempt: this.attempt });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), Math.min(inMs, RECONNECT_MAX_MS));
  }

  retryNow() {
    clearTimeout(this.timer);
    this.connect();
  }

  fail(err) {
    this.running = false;
    this.onStatus({ state: 'failed', error: err.message, status: err.status });
  }

  async setScale(scale) {
    this.scale = scale;
    await this.session?.setScale(scale).catch(() => {});
  }

  async replaceTrack(track) {
    await this.session?.replaceTrack(track);
  }

  async stop() {
    this.running = false;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.timer);
    clearTimeout(this.disconnectTimer);
    const session = this.session;
    this.session = null;
    if (session) await session.close();
    this.onStatus({ state: 'idle' });
  }
}
