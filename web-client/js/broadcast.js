// Broadcaster page: the phone's camera and microphone, front/back switch, going live over
// WHIP where the server has it, and the RTMP/SRT details (with a QR code) for encoder apps.
import { $, copyText, setChildren, setText, streamIdFromPath, takeHashParams, toast } from './dom.js';
import { fillIcons, icon } from './icons.js';
import { initLanguageSwitch, onLanguageChange, t } from './i18n.js';
import { renderQr } from './qr_view.js';

const streamId = streamIdFromPath();
const TOKEN_KEY = `harvest.host_token.${streamId}`;  // shared with the host console
const KEY_KEY = `harvest.stream_key.${streamId}`;

const state = {
  facing: 'user',
  stream: null,
  micOn: true,
  ingest: null,  // {stream_key, rtmp_url, srt_url, whip_url?}: whip_url only where the server has /whip
  revealed: false,
  whip: false,  // the server advertised a whip_url
  pc: null,
  resource: null,
  publish: 'idle',  // idle | connecting | live | failed
  publishError: '',
};

// ---------- camera ----------

async function startCamera() {
  stopTracks();
  const message = $('#camera-message');
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: state.facing, width: { ideal: 720 }, height: { ideal: 1280 }, frameRate: { ideal: 30 } },
      audio: { echoCancellation: true, noiseSuppression: true },
    });
    state.stream = stream;
    for (const track of stream.getAudioTracks()) track.enabled = state.micOn;
    const video = $('#preview');
    video.srcObject = stream;
    video.classList.toggle('mirrored', state.facing === 'user');
    $('#camera-off').hidden = true;
    document.body.dataset.camera = 'on';
    // Swap the tracks of a running WHIP session without renegotiating.
    if (state.pc) {
      for (const sender of state.pc.getSenders()) {
        const track = stream.getTracks().find((tr) => tr.kind === sender.track?.kind);
        if (track) await sender.replaceTrack(track);
      }
    }
  } catch (err) {
    document.body.dataset.camera = 'off';
    $('#camera-off').hidden = false;
    setText(message, t('bc.camera.denied', { message: err.message || err.name }));
  }
  renderControls();
}

function stopTracks() {
  if (state.stream && !state.pc) for (const track of state.stream.getTracks()) track.stop();
}

$('#camera-start').addEventListener('click', startCamera);
$('#switch-camera').addEventListener('click', () => {
  state.facing = state.facing === 'user' ? 'environment' : 'user';
  startCamera();
});
$('#toggle-mic').addEventListener('click', () => {
  state.micOn = !state.micOn;
  for (const track of state.stream?.getAudioTracks() || []) track.enabled = state.micOn;
  renderControls();
});

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

// ---------- WHIP ----------

// The server advertises whip_url only when its /whip route exists (DESIGN "Round 2"); without
// one the button stays disabled and the note says to use an encoder app.
function renderWhip() {
  state.whip = Boolean(state.ingest?.whip_url);
  $('#whip-note').hidden = state.whip;
  renderControls();
}

function waitIceGathering(pc, timeoutMs = 3000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === 'complete') {
        pc.removeEventListener('icegatheringstatechange', done);
        resolve();
      }
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, timeoutMs);  // send what we have: the server may do ICE-lite
  });
}

async function goLive() {
  if (!state.stream || !state.ingest || !state.whip) return;
  state.publish = 'connecting';
  renderControls();
  try {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    state.pc = pc;
    for (const track of state.stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [state.stream] });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') state.publish = 'live';
      if (pc.connectionState === 'failed') {
        state.publish = 'failed';
        state.publishError = 'ICE';
      }
      renderControls();
    });
    await pc.setLocalDescription(await pc.createOffer());
    await waitIceGathering(pc);
    const url = state.ingest.whip_url;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${state.ingest.stream_key}` },
      body: pc.localDescription.sdp,
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`HTTP ${res.status}`);
    const resourcePath = res.headers.get('location');
    state.resource = resourcePath ? new URL(resourcePath, new URL(url, window.location.href)).toString() : null;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  } catch (err) {
    state.publish = 'failed';
    state.publishError = err.message;
    closePeer();
  }
  renderControls();
}

function closePeer() {
  if (state.pc) state.pc.close();
  state.pc = null;
}

async function endLive() {
  const resource = state.resource;
  closePeer();
  state.resource = null;
  state.publish = 'idle';
  renderControls();
  if (resource) {
    await fetch(resource, { method: 'DELETE', headers: { authorization: `Bearer ${state.ingest?.stream_key}` } }).catch(() => {});
  }
}

$('#go-live').addEventListener('click', () => {
  if (state.publish === 'live' || state.publish === 'connecting') endLive();
  else goLive();
});

function renderControls() {
  document.body.dataset.publish = state.publish;
  const go = $('#go-live');
  const live = state.publish === 'live' || state.publish === 'connecting';
  go.disabled = !state.whip || !state.stream || !state.ingest;
  setText(go, live ? t('bc.whip.stop') : t('bc.whip.go'));
  go.classList.toggle('is-live', live);
  const status = $('#publish-status');
  setText(status, state.publish === 'live' ? t('bc.whip.live')
    : state.publish === 'connecting' ? t('bc.whip.connecting')
      : state.publish === 'failed' ? t('bc.whip.failed', { message: state.publishError }) : '');
  const mic = $('#toggle-mic');
  mic.setAttribute('aria-pressed', String(state.micOn));
  mic.setAttribute('aria-label', state.micOn ? t('bc.mic.on') : t('bc.mic.off'));
  mic.classList.toggle('off', !state.micOn);
  setChildren($('#mic-icon'), icon(state.micOn ? 'mic' : 'mic-off', 24));
}

fillIcons();
initLanguageSwitch();
onLanguageChange(() => {
  renderControls();
  renderDetails();
});
renderControls();
startCamera();
loadIngest();
renderWhip();
