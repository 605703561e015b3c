// Broadcaster page: the phone's camera and microphone, going live over WHIP in one tap, an
// uplink check before it, a bitrate and loss line while live (stepping the resolution down on
// a weak uplink and back up), reconnecting after a drop, and the RTMP/SRT details (with a QR
// code) for encoder apps. WHIP itself is in whip.js, the uplink judgement in uplink.js.
import { $, copyText, setChildren, setText, streamIdFromPath, takeHashParams, toast } from './dom.js';
import { fillIcons, icon } from './icons.js';
import { initLanguageSwitch, onLanguageChange, t } from './i18n.js';
import { renderQr } from './qr_view.js';
import {
  STEPS, UplinkCheck, formatBitrate, formatLoss, linkBetween, nextStep, sampleFromStats, stepForVerdict,
} from './uplink.js';
import { noiseTrack } from './noise_video.js';
import { WhipPublisher, WhipSession } from './whip.js';

const streamId = streamIdFromPath();
const TOKEN_KEY = `harvest.host_token.${streamId}`;  // shared with the host console
const KEY_KEY = `harvest.stream_key.${streamId}`;
// ?codec=vp8 for phones whose H.264 encoder misbehaves; H.264 otherwise (passed through to HLS).
const CODEC = new URLSearchParams(location.search).get('codec') === 'vp8' ? 'vp8' : 'h264';
const LIVE_STATS_MS = 2000;
const CHECK_SAMPLE_MS = 1000;
const CHECK_CONNECT_MS = 15_000;
const CHECK_MAX_BPS = 2_000_000;  // no media through by then: the check failed

const state = {
  facing: 'user',
  stream: null,  // the preview's MediaStream: one video and one audio track
  micOn: true,
  ingest: null,  // {stream_key, rtmp_url, srt_url, whip_url?}: whip_url only where the server has /whip
  revealed: false,
  whip: false,  // the server advertised a whip_url
  publisher: null,
  publish: 'idle',  // idle | connecting | live | reconnecting | failed
  publishDetail: '',
  uplink: { phase: 'idle', result: null, error: '' },  // phase: idle | checking | done | failed
  check: null,  // the running uplink check's session
  live: { step: 0, weak: 0, good: 0, prev: null, link: null, timer: null, since: 0 },
};

// ---------- camera ----------

// Portrait: a phone held upright gives 720×1280 for these constraints; the server does not
// accept the video-orientation extension, so the browser rotates frames before encoding and
// portrait arrives as portrait (docs/protocol.md, WHIP).
function videoConstraints() {
  return { facingMode: state.facing, width: { ideal: 720 }, height: { ideal: 1280 }, frameRate: { ideal: 30 } };
}

async function startCamera() {
  const message = $('#camera-message');
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: videoConstraints(),
      audio: { echoCancellation: true, noiseSuppression: true },
    });
    state.stream = stream;
    for (const track of stream.getAudioTracks()) track.enabled = state.micOn;
    showPreview();
    $('#camera-off').hidden = true;
    document.body.dataset.camera = 'on';
    startUplinkCheck();
  } catch (err) {
    document.body.dataset.camera = 'off';
    $('#camera-off').hidden = false;
    setText(message, t('bc.camera.denied', { message: err.message || err.name }));
  }
  renderControls();
}

function showPreview() {
  const video = $('#preview');
  video.srcObject = state.stream;
  video.classList.toggle('mirrored', state.facing === 'user');
}

// Front/back: only the video track changes, and a live session gets the new one on the same
// sender (replaceTrack): no renegotiation, viewers see a cut, not a reconnect. The old camera
// is released first because many phones cannot open both at once.
async function switchCamera() {
  if (!state.stream) return startCamera();
  const facing = state.facing === 'user' ? 'environment' : 'user';
  const old = state.stream.getVideoTracks()[0];
  old?.stop();
  try {
    const fresh = await navigator.mediaDevices.getUserMedia({ video: { ...videoConstraints(), facingMode: facing } });
    state.facing = facing;
    const track = fresh.getVideoTracks()[0];
    state.stream = new MediaStream([track, ...state.stream.getAudioTracks()]);
    showPreview();
    await state.publisher?.replaceTrack(track);
  } catch (err) {
    toast(t('bc.camera.denied', { message: err.message || err.name }), 'error');
    startCamera();
  }
}

function setMic(on) {
  state.micOn = on;
  // Muting disables the track: silence is sent on the same sender, nothing is renegotiated.
  for (const track of state.stream?.getAudioTracks() || []) track.enabled = on;
  renderControls();
}

$('#camera-start').addEventListener('click', startCamera);
$('#switch-camera').addEventListener('click', switchCamera);
$('#toggle-mic').addEventListener('click', () => setMic(!state.micOn));

// ---------- ingest details ----------

function readSecret() {
  const hash = takeHashParams();
  if (hash.token) sessionStorage.setItem(TOKEN_KEY, hash.token);
  if (hash.key) sessionStorage.setItem(KEY_KEY, hash.key);
  return { token: sessionStorage.getItem(TOKEN_KEY) || '', key: sessionStorage.getItem(KEY_KEY) || '' };
}

async function streamInfo(token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(`/api/streams/${encodeURIComponent(streamId)}`, { headers, cache: 'no-store' });
  if (!res.ok) return null;
  return res.json();
}

// What the page knows without a host token: the key the farmer typed, and the default ports.
function ingestFromKey(key) {
  const host = location.hostname;
  return {
    stream_key: key,
    rtmp_url: `rtmp://${host}:1935/live/${key}`,
    srt_url: `srt://${host}:9000?streamid=#!::r=live/${key},m=publish`,
    // No whip_url: the page cannot know that the server has a /whip route; only the server says so.
  };
}

async function loadIngest() {
  const { token, key } = readSecret();
  const info = await streamInfo(token).catch(() => null);
  if (info) setText($('#stream-title'), info.title ?? '');
  if (info?.stream_key) state.ingest = info;
  else if (key) state.ingest = ingestFromKey(key);
  else state.ingest = null;
  renderDetails();
  renderWhip();
}

$('#key-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const value = $('#key-input').value.trim();
  if (!value) return;
  $('#key-input').value = '';
  const info = await streamInfo(value).catch(() => null);
  if (info?.stream_key) sessionStorage.setItem(TOKEN_KEY, value);  // it was the host token
  else sessionStorage.setItem(KEY_KEY, value);
  loadIngest();
});

function masked(text, key) {
  return state.revealed || !key ? text : text.split(key).join('•'.repeat(8));
}

function renderDetails() {
  const ing = state.ingest;
  $('#key-form').hidden = Boolean(ing);
  $('#details').hidden = !ing;
  if (!ing) return;
  const key = ing.stream_key;
  const rtmp = ing.rtmp_url || '';
  const server = key && rtmp.endsWith(`/${key}`) ? rtmp.slice(0, -key.length - 1) : rtmp;
  setText($('#rtmp-server'), server);
  setText($('#stream-key'), state.revealed ? key : '•'.repeat(8));
  setText($('#srt-url'), masked(ing.srt_url || '', key));
  setText($('#reveal-key'), state.revealed ? t('bc.key.hide') : t('bc.key.show'));
  // The QR carries the full push URL (server + key), as Larix and similar apps expect; like the
  // key it stays blurred until "show", so a glance at the screen does not leak it.
  renderQr($('#ingest-qr'), rtmp, 148);
  $('#ingest-qr').classList.toggle('concealed', !state.revealed);
}

$('#ingest-qr').addEventListener('click', () => {
  state.revealed = true;
  renderDetails();
});
$('#reveal-key').addEventListener('click', () => {
  state.revealed = !state.revealed;
  renderDetails();
});
$('#copy-key').addEventListener('click', async () => {
  if (state.ingest) toast((await copyText(state.ingest.stream_key)) ? t('host.copied') : state.ingest.stream_key);
});

// ---------- WHIP: the uplink check ----------

// The server advertises whip_url only when its /whip route exists (DESIGN "Round 2"); without
// one the button stays disabled and the note says to use an encoder app.
function renderWhip() {
  state.whip = Boolean(state.ingest?.whip_url);
  $('#whip-note').hidden = state.whip;
  renderControls();
  startUplinkCheck();
}

// Before going live, a short WHIP session to the probe endpoint (the server drops its media)
// says what the uplink carries. It never blocks going live: a tap on "Go live" ends it.
async function startUplinkCheck() {
  if (!state.stream || !state.whip || state.check || state.publisher) return;
  state.uplink = { phase: 'checking', result: null, error: '' };
  renderUplink();
  // Noise, not the camera: see noise_video.js. Capped a little above what 720p needs, so the
  // check costs the farmer's data plan about 2 MB.
  const noise = noiseTrack();
  const session = new WhipSession({
    url: state.ingest.whip_url, key: state.ingest.stream_key, stream: new MediaStream([noise.track]), codec: CODEC,
    probe: true, maxBitrateBps: CHECK_MAX_BPS,
  });
  state.check = session;
  const judge = new UplinkCheck();
  let result = null;
  try {
    await session.start();
    // The clock starts with the first media sent: ICE and DTLS take a moment of their own.
    let started = null;
    let prev = null;
    const giveUp = performance.now() + CHECK_CONNECT_MS;
    while (!result && state.check === session) {
      await new Promise((r) => setTimeout(r, CHECK_SAMPLE_MS));
      if (state.check !== session) break;
      const sample = sampleFromStats((await session.pc.getStats()).values());
      if (started === null && sample.bytesSent > 0) started = performance.now();
      if (started === null && performance.now() > giveUp) throw new Error(t('bc.uplink.noconnect'));
      if (prev && started !== null) result = judge.add(linkBetween(prev, sample), performance.now() - started);
      prev = sample;
    }
  } catch (err) {
    if (state.check === session) state.uplink = { phase: 'failed', result: null, error: err.message };
  }
  if (state.check === session) {
    state.check = null;
    if (result) state.uplink = { phase: 'done', result, error: '' };
  }
  session.close();
  noise.stop();
  renderUplink();
}

function stopUplinkCheck() {
  if (!state.check) return;
  state.check.close();
  state.check = null;
  if (state.uplink.phase === 'checking') state.uplink = { phase: 'idle', result: null, error: '' };
}

function renderUplink() {
  const box = $('#uplink');
  const { phase, result, error } = state.uplink;
  box.hidden = phase === 'idle' || state.publish !== 'idle';
  box.dataset.verdict = phase === 'done' ? result.verdict : phase;
  document.body.dataset.uplink = phase === 'done' ? result.verdict : phase;
  setText($('#uplink-verdict'), phase === 'checking' ? t('bc.uplink.checking')
    : phase === 'failed' ? t('bc.uplink.failed') : phase === 'done' ? t(`bc.uplink.${result.verdict}`) : '');
  setText($('#uplink-detail'), phase === 'done' ? t('bc.uplink.detail', {
    bitrate: formatBitrate(result.bitrateBps),
    rtt: result.rttMs === null ? '–' : Math.round(result.rttMs),
    loss: formatLoss(result.loss),
  }) : phase === 'failed' ? error : '');
  $('#uplink-again').hidden = phase === 'checking';
}

$('#uplink-again').addEventListener('click', () => {
  stopUplinkCheck();
  startUplinkCheck();
});

// ---------- WHIP: live ----------

function goLive() {
  if (!state.stream || !state.ingest || !state.whip || state.publisher) return;
  stopUplinkCheck();
  const verdict = state.uplink.phase === 'done' ? state.uplink.result.verdict : null;
  state.live = { step: stepForVerdict(verdict), weak: 0, good: 0, prev: null, link: null, timer: null, since: 0 };
  state.publisher = new WhipPublisher({
    url: state.ingest.whip_url, key: state.ingest.stream_key, stream: state.stream, codec: CODEC,
    scale: STEPS[state.live.step].scale, onStatus: publishStatus,
  });
  state.publisher.start();
  state.live.timer = setInterval(sampleLive, LIVE_STATS_MS);
}

function publishStatus(status) {
  state.publish = status.state;
  state.publishDetail = status.state === 'reconnecting' && status.inMs !== undefined
    ? t('bc.whip.reconnecting', { seconds: Math.ceil(status.inMs / 1000) })
    : status.state === 'failed' ? t('bc.whip.failed', { message: status.error }) : '';
  if (status.state === 'live') {
    state.live.prev = null;  // a new session's counters start at 0
    state.live.since = performance.now();
  }
  if (status.state === 'failed') endLive({ keepStatus: true });
  renderControls();
}

// While live: what goes out, what is lost, and the resolution step for it.
async function sampleLive() {
  const session = state.publisher?.session;
  if (!session?.pc || state.publish !== 'live') return;
  const sample = sampleFromStats((await session.pc.getStats()).values());
  const prev = state.live.prev;
  state.live.prev = sample;
  if (!prev) return;
  const link = linkBetween(prev, sample);
  state.live.link = link;
  const before = state.live.step;
  const next = nextStep(state.live, link, { liveMs: performance.now() - state.live.since });
  Object.assign(state.live, next);
  if (next.step !== before) {
    await state.publisher?.setScale(STEPS[next.step].scale);
    toast(next.step > before ? t('bc.live.lowered') : t('bc.live.raised'));
  }
  renderLiveStats();
}

function renderLiveStats() {
  const line = $('#live-stats');
  const link = state.live.link;
  line.hidden = state.publish !== 'live' || !link;
  if (line.hidden) return;
  setText(line, t('bc.live.stats', {
    bitrate: formatBitrate(link.sentBps),
    loss: formatLoss(link.loss),
    size: link.width && link.height ? `${link.width}×${link.height}` : '–',
    codec: link.codec ?? '',
  }).trim());
}

async function endLive({ keepStatus = false } = {}) {
  const publisher = state.publisher;
  state.publisher = null;
  clearInterval(state.live.timer);
  state.live.link = null;
  if (!keepStatus) {
    state.publish = 'idle';
    state.publishDetail = '';
  }
  renderControls();
  if (publisher) {
    publisher.onStatus = () => {};  // its last word ('idle') must not hide why it failed
    await publisher.stop().catch(() => {});
  }
  if (!keepStatus) {
    state.publish = 'idle';
    renderControls();
  }
}

$('#go-live').addEventListener('click', () => {
  if (state.publisher) endLive();
  else goLive();
});

function renderControls() {
  document.body.dataset.publish = state.publish;
  const go = $('#go-live');
  const active = Boolean(state.publisher);
  go.disabled = !state.whip || !state.stream || !state.ingest;
  setText(go, active ? t('bc.whip.stop') : t('bc.whip.go'));
  go.classList.toggle('is-live', active);
  const status = $('#publish-status');
  setText(status, state.publish === 'live' ? t('bc.whip.live')
    : state.publish === 'connecting' ? t('bc.whip.connecting')
      : state.publish === 'reconnecting' ? (state.publishDetail || t('bc.whip.retrying'))
        : state.publish === 'failed' ? state.publishDetail : '');
  const mic = $('#toggle-mic');
  mic.setAttribute('aria-pressed', String(state.micOn));
  mic.setAttribute('aria-label', state.micOn ? t('bc.mic.on') : t('bc.mic.off'));
  mic.classList.toggle('off', !state.micOn);
  setChildren($('#mic-icon'), icon(state.micOn ? 'mic' : 'mic-off', 24));
  renderLiveStats();
  renderUplink();
}

window.addEventListener('pagehide', () => {
  // Tell the server at once rather than leave the stream to the ICE timeout.
  state.publisher?.stop();
  state.check?.close();
});

// For tests and debugging from the console.
window.harvestBroadcast = { state };

fillIcons();
initLanguageSwitch();
onLanguageChange(() => {
  renderControls();
  renderDetails();
});
renderControls();
startCamera();
loadIngest();
