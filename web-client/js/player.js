// Live playback, the lowest latency the server offers first: WebRTC (WHEP, under a second
// behind), then LL-HLS (fMP4 parts, about 1.5 s), then plain HLS (MPEG-TS, several seconds).
// hls.js plays both HLS playlists in low-latency mode where Media Source Extensions exist;
// native HLS elsewhere (Safari on iPhone). A WHEP refusal (503: the server's WebRTC viewers are
// full; 409: not live yet) or a WebRTC session that stops falls back to HLS, and WHEP is tried
// again when the page starts over. Muted autoplay; keeps retrying while the stream is offline
// and starts again by itself when it comes back; tells the card scheduler where playback is.
import { backoffDelay } from './room.js';
import { WhepSession, rtpToPts } from './whep.js';

const STALL_RELOAD_MS = 8_000;

// state: 'loading' | 'playing' | 'waiting' (stream offline or not started) | 'blocked' (autoplay refused)
export class Player extends EventTarget {
  // `src`: the HLS playlist when the server offers nothing better (a replay's, or index.m3u8).
  // `vod`: a replay (EXT-X-ENDLIST is its normal end, not a stream that went offline).
  // `offers`: async () => { whepUrl, llHlsUrl }, each a URL or null (GET /api/streams/{id}:
  // the server advertises them only while it can serve them), asked again at every start.
  constructor(video, src, { vod = false, offers = null } = {}) {
    super();
    this.offers = offers;
    this.hlsSrc = src;      // the playlist HLS plays: src, or the offered LL-HLS one
    this.whep = null;       // the WhepSession while playing over WebRTC
    this.whepRefusedUntil = 0;  // performance.now() before which HLS is used (after a refusal)
    this.rtpPts = null;     // WHEP: stream PTS (s) of the frame on screen, from its RTP timestamp
    this.transport = null;  // 'whep' | 'hls' | 'native' (data-transport on <body> for tests)
    this.video = video;
    this.src = src;
    this.vod = vod;
    this.hls = null;
    this.state = 'loading';
    this.attempt = 0;
    this.retryTimer = null;
    this.initPts = null;  // seconds of stream PTS at media time 0 (hls.js, MPEG-TS)
    this.lastProgress = { time: -1, at: performance.now() };
    video.muted = true;
    video.playsInline = true;
    video.autoplay = true;
    video.addEventListener('playing', () => this.setState('playing'));
    video.addEventListener('timeupdate', () => this.noteProgress());
    // A live playlist that got an EXT-X-ENDLIST: the farmer stopped; wait for them to return.
    video.addEventListener('ended', () => { if (!this.vod) this.retryLater(); });
    this.watchdog = setInterval(() => this.checkStall(), 1000);
    // Leaving the page ends the WebRTC session at once (DELETE) instead of the server noticing
    // the silence seconds later.
    window.addEventListener('pagehide', () => { if (this.whep) this.whep.close(); });
  }

  get usesHlsJs() {
    return typeof window.Hls !== 'undefined' && window.Hls.isSupported();
  }

  async start() {
    clearTimeout(this.retryTimer);
    this.teardown();
    this.lastProgress = { time: -1, at: performance.now() };
    const token = (this.startToken = (this.startToken ?? 0) + 1);
    const offered = !this.vod && this.offers ? await this.offers().catch(() => ({})) : {};
    if (token !== this.startToken) return;
    this.hlsSrc = offered.llHlsUrl || this.src;
    if (offered.whepUrl && typeof RTCPeerConnection !== 'undefined' && performance.now() >= this.whepRefusedUntil) {
      if (await this.startWhep(offered.whepUrl, token)) return;
      if (token !== this.startToken) return;
    }
    this.startHls();
  }

  startHls() {
    this.transport = this.usesHlsJs ? 'hls' : 'native';
    if (this.usesHlsJs) this.startHlsJs();
    else if (this.video.canPlayType('application/vnd.apple.mpegurl')) this.startNative();
    else this.setState('waiting');
  }

  // True when WebRTC playback started; false (after a refusal or failure) to use HLS instead.
  async startWhep(url, token) {
    const session = new WhepSession(url, {
      onState: (st) => {
        if (this.whep !== session) return;
        // Lost: HLS at once (the stream may still be live), WHEP again on the next start.
        if (st === 'failed' || st === 'closed' || st === 'disconnected') this.fallBack(15_000);
      },
    });
    try {
      const stream = await session.start();
      if (token !== this.startToken) {
        session.close();
        return true;
      }
      this.whep = session;
      this.transport = 'whep';
      this.video.srcObject = stream;
      this.tryPlay();
      return true;
    } catch (err) {
      // 503: full (Retry-After says for how long); 409: not live; others: try HLS for a while.
      const wait = err.retryAfterS ? err.retryAfterS * 1000 : err.status === 409 ? 5_000 : 30_000;
      this.whepRefusedUntil = performance.now() + wait;
      return false;
    }
  }

  fallBack(ms) {
    this.whepRefusedUntil = performance.now() + ms;
    this.teardown();
    this.startHls();
  }

  startHlsJs() {
    const Hls = window.Hls;
    const hls = new Hls({
      lowLatencyMode: !this.vod,
      // Behind the live edge (a slow start, a stall on 4G) hls.js plays up to 1.5x until it is
      // back at its target latency (PART-HOLD-BACK on LL-HLS); at 1 (its default) a viewer who
      // fell behind in a flash sale would stay behind for the rest of the stream.
      maxLiveSyncPlaybackRate: this.vod ? 1 : 1.5,
      backBufferLength: 30,
      manifestLoadingMaxRetry: 1,
      levelLoadingMaxRetry: 2,
      fragLoadingMaxRetry: 3,
    });
    this.hls = hls;
    hls.on(Hls.Events.INIT_PTS_FOUND, (_e, data) => {
      if (Number.isFinite(data.initPTS) && data.timescale) this.initPts = data.initPTS / data.timescale;
    });
    hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => {
      // A playlist with EXT-X-ENDLIST is a stream that ended: replaying its last segments as
      // if they were live would mislead; wait for the farmer to come back instead.
      if (!this.vod && data.details && data.details.live === false) this.retryLater();
      else if (data.details) this.applyRotation(data.details.dateRanges);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      this.attempt = 0;
      this.tryPlay();
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && this.state === 'playing') {
        hls.recoverMediaError();
        return;
      }
      this.retryLater();
    });
    hls.loadSource(this.hlsSrc);
    hls.attachMedia(this.video);
  }

  // A publisher's rotation (RTMP onMetaData) arrives as an open "com.harvestlive.orientation"
  // DATERANGE: passthrough pixels are not turned on the server, so the player turns the picture.
  applyRotation(ranges) {
    if (!ranges) return;
    let latest = null;
    for (const r of Object.values(ranges)) {
      if (r.class !== 'com.harvestlive.orientation' || r.endDate) continue;
      if (!latest || r.startDate > latest.startDate) latest = r;
    }
    const deg = latest && latest.attr ? Number(latest.attr['X-ROTATION']) || 0 : 0;
    this.video.style.transform = deg ? `rotate(${deg}deg)` : '';
  }

  startNative() {
    const v = this.video;
    const onError = () => {
      v.removeEventListener('error', onError);
      this.retryLater();
    };
    v.addEventListener('error', onError);
    v.src = this.hlsSrc;
    v.addEventListener('loadedmetadata', () => this.tryPlay(), { once: true });
  }

  async tryPlay() {
    try {
      await this.video.play();
    } catch (err) {
      if (err && err.name === 'NotAllowedError') this.setState('blocked');
    }
  }

  retryLater() {
    this.teardown();
    this.setState('waiting');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.start(), backoffDelay(Math.min(this.attempt++, 3)) + 1000);
  }

  teardown() {
    if (this.whep) {
      this.whep.close();
      this.whep = null;
      this.rtpPts = null;
      this.video.srcObject = null;
    }
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    } else if (this.video.getAttribute('src')) {
      this.video.removeAttribute('src');
      this.video.load();
    }
    this.initPts = null;
  }

  noteProgress() {
    const t = this.video.currentTime;
    if (t !== this.lastProgress.time) this.lastProgress = { time: t, at: performance.now() };
  }

  // A live stream that stopped (the farmer's phone dropped) leaves the player waiting on a
  // playlist that no longer grows; start over so it picks the stream up when it returns.
  checkStall() {
    if (this.vod || this.state !== 'playing' || this.video.paused) return;
    this.noteProgress();
    if (performance.now() - this.lastProgress.at <= STALL_RELOAD_MS) return;
    // WebRTC stopped bringing frames (the publisher left): HLS knows when the stream ends.
    if (this.whep) this.fallBack(15_000);
    else this.retryLater();
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state } }));
  }

  unmute() {
    this.video.muted = false;
    if (this.video.paused) this.tryPlay();
  }

  // Program date time (ms since the epoch) of the frame at media time `t` (default: the
  // current position), or null.
  playingDateMs(t = this.video.currentTime) {
    if (this.hls) {
      // hls.js gives the date of currentTime; a frame callback's mediaTime may differ by a hair.
      const d = this.hls.playingDate;
      return d && Number.isFinite(d.getTime()) ? d.getTime() + (t - this.video.currentTime) * 1000 : null;
    }
    const start = this.video.getStartDate?.();
    if (start && Number.isFinite(start.getTime()) && start.getTime() > 0)
      return start.getTime() + t * 1000;
    return null;
  }

  // What the card scheduler needs to know about the frame at media time `mediaTime` (a frame
  // callback's), or about the current position; see cards.js (`decide`). Every playback path
  // answers in these terms: HLS and LL-HLS with the program date time (and PTS), WHEP with the
  // PTS its RTP timestamps map to.
  playback(mediaTime = null) {
    const active = this.state === 'playing' && this.video.readyState >= 2;
    const t = Number.isFinite(mediaTime) ? mediaTime : this.video.currentTime;
    return {
      active,
      pdtMs: active ? this.playingDateMs(t) : null,
      pts: !active ? null : this.whep ? this.rtpPts : this.initPts !== null ? t + this.initPts : null,
    };
  }

  // Calls `fn(playback)` for each frame the video presents, with that frame's media time:
  // requestVideoFrameCallback, so a card goes up with the frame that carries it (a timer or
  // `timeupdate`, every 100-250 ms, showed it up to that late). Without it (older browsers):
  // once per animation frame while the video plays.
  onFrame(fn) {
    const v = this.video;
    if (typeof v.requestVideoFrameCallback === 'function') {
      const onVideoFrame = (_now, meta) => {
        v.requestVideoFrameCallback(onVideoFrame);
        // WHEP: the frame's RTP timestamp is its stream PTS (see whep.js rtpToPts).
        if (this.whep && Number.isFinite(meta.rtpTimestamp)) {
          this.rtpPts = rtpToPts(meta.rtpTimestamp, this.rtpPts);
        }
        fn(this.playback(meta.mediaTime));
      };
      v.requestVideoFrameCallback(onVideoFrame);
      return 'video-frame';
    }
    const onAnimationFrame = () => {
      requestAnimationFrame(onAnimationFrame);
      if (!v.paused) fn(this.playback());
    };
    requestAnimationFrame(onAnimationFrame);
    return 'animation-frame';
  }
}
