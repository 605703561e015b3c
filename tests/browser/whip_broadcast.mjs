// A farmer goes live from the phone's browser: the broadcaster page over https (the server's
// self-signed certificate), Chromium's synthetic camera, one tap on "Go live", WHIP into the
// server. Two publishers, one after the other on the same server:
//   1. H.264 (the default): the uplink check gives a verdict; the stream goes live; every HLS
//      segment decodes with ffprobe, starts on a keyframe and has the published size; the
//      sender's bandwidth estimate climbs (getStats); a card the host shows is in the pixels of
//      the burned-in rendition; a viewer page plays the stream.
//   2. VP8 (?codec=vp8) from a portrait 720×1280 camera: HLS is 720×1280, portrait; stepped
//      down to 480×853 (an odd height, which the transcode crops) HLS goes on at 480×852.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  assert, launchBrowser, log, newPage, openHost, requireRooms, runTest, waitFor,
} from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

// ---------- HLS helpers ----------

function parsePlaylist(text) {
  const segments = [];
  let pdt = null;
  let duration = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line.startsWith('#EXTINF:')) duration = parseFloat(line.slice(8));
    else if (line && !line.startsWith('#')) {
      segments.push({ uri: line.trim(), duration, pdt });
      if (pdt !== null && duration !== null) pdt += Math.round(duration * 1000);
      duration = null;
    }
  }
  return segments;
}

// Downloads the segments of `playlist` as they appear until `enough(segments)` holds (the live
// window moves on, so each is fetched when first seen). Returns [{uri, file, pdt}].
async function collectSegments(t, server, playlist, dir, enough, { timeout = 60_000, what }) {
  const base = playlist.slice(0, playlist.lastIndexOf('/') + 1);
  const got = new Map();
  await waitFor(async () => {
    const r = await server.fetch(playlist);
    if (r.status !== 200) return false;
    for (const seg of parsePlaylist(r.text)) {
      if (got.has(seg.uri)) continue;
      const res = await fetch(server.base + base + seg.uri);
      if (res.status !== 200) continue;  // left the window already
      const file = path.join(dir, `${path.basename(base)}-${seg.uri.replace(/[^A-Za-z0-9._-]/g, '_')}`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      got.set(seg.uri, { ...seg, file });
    }
    return enough([...got.values()]);
  }, { timeout, interval: 300, what });
  return [...got.values()];
}

// What ffprobe decodes of a segment's video: its size and whether the first frame is a keyframe.
function probeSegment(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
    'frame=width,height,key_frame', '-read_intervals', '%+#3', '-of', 'csv=p=0', file]).toString().trim();
  const frames = out.split('\n').filter(Boolean).map((l) => {
    const [key, width, height] = l.split(',').map(Number);
    return { key: key === 1, width, height };
  });
  assert(frames.length > 0, `ffprobe decodes video frames from ${path.basename(file)}`);
  return { width: frames[0].width, height: frames[0].height, startsOnKeyframe: frames[0].key };
}

// The luma of a rectangle in every decoded frame of a segment: [{pts, pix}].
function grayFrames(file, { x, y, w, h }) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'info', '-copyts', '-i', file, '-an',
    '-vf', `crop=${w}:${h}:${x}:${y},format=gray,showinfo`, '-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1'],
  { maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ffmpeg ${file}: ${r.stderr}`);
  const pts = [...r.stderr.toString().matchAll(/\] n:\s*\d+ pts:\s*\S+\s+pts_time:([0-9.]+)/g)].map((m) => Number(m[1]));
  const size = w * h;
  const frames = [];
  for (let i = 0; i < pts.length && (i + 1) * size <= r.stdout.length; i++) {
    frames.push({ pts: pts[i], pix: r.stdout.subarray(i * size, (i + 1) * size) });
  }
  return frames;
}

// The share of a frame's pixels that are near white (the card's background is white).
function whiteShare(pix) {
  let n = 0;
  for (const v of pix) if (v >= 200) n++;
  return n / pix.length;
}

// ---------- the broadcaster page ----------

// A portrait camera: Chromium's fake device gives any size asked for exactly.
function forcePortraitCamera(page, width, height) {
  return page.addInitScript(([w, h]) => {
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = (constraints) => original(constraints.video
      ? { ...constraints, video: { ...constraints.video, width: { exact: w }, height: { exact: h } } } : constraints);
  }, [width, height]);
}

// Opens the page (signed in by the host token in the fragment, as the host console links it),
// waits for the uplink verdict, taps Go live once, and waits until it is live.
async function goLive(t, server, browser, stream, { codec, portrait }) {
  const page = await newPage(t, browser, { https: true });
  if (portrait) await forcePortraitCamera(page, portrait.width, portrait.height);
  const query = codec === 'vp8' ? '?codec=vp8' : '';
  await page.goto(`${server.httpsBase}/broadcast/${stream.id}${query}#token=${stream.host_token}`);
  assert(await page.evaluate(() => window.isSecureContext), 'the broadcaster page is a secure context (https)');
  await page.waitForSelector('body[data-camera="on"]', { timeout: 20_000 });
  await page.waitForSelector('#go-live:not([disabled])', { timeout: 20_000 });

  const verdict = await waitFor(() => page.evaluate(() => {
    const u = window.harvestBroadcast.state.uplink;
    return u.phase === 'done' || u.phase === 'failed' ? { ...u, text: document.querySelector('#uplink').innerText } : null;
  }), { timeout: 30_000, what: 'the uplink check verdict' });
  log(`uplink check: ${verdict.phase} ${JSON.stringify(verdict.result)} "${verdict.text.replace(/\n/g, ' | ')}"`);
  assert(verdict.phase === 'done', `the uplink check gives a verdict (${verdict.error})`);
  // The verdict depends on the machine's load (round trip, rate), so any of the three will do;
  // the numbers are logged for the report.
  assert(['hd', 'sd', 'weak'].includes(verdict.result.verdict), 'the verdict is one of the three');
  await waitFor(() => server.lines.some((l) => l.includes('event=whip_probe_ended')), { what: 'the probe session ended on the server' });

  const taps = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/whip/')) taps.push(r.url()); });
  await page.tap('#go-live');
  await page.waitForSelector('body[data-publish="live"]', { timeout: 30_000 });
  assert(taps.length === 1 && !taps[0].includes('probe'), `one tap, one WHIP POST (${taps.join(', ')})`);
  const live = await page.evaluate(() => {
    const { state } = window.harvestBroadcast;
    const s = state.stream.getVideoTracks()[0].getSettings();
    return { width: s.width, height: s.height, answer: state.publisher.session.pc.remoteDescription.sdp };
  });
  const settings = { width: live.width, height: live.height };
  log(`live (${codec}); camera ${settings.width}x${settings.height}`);
  // Congestion feedback: the answer accepts transport-wide-cc on the video, so Chromium's
  // bandwidth estimate can leave its 300 kbit/s start rate (webrtcbin alone drops the extmap).
  const video = live.answer.split(/\r?\nm=/).find((m) => m.startsWith('video'));
  assert(/a=extmap:\d+ http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/.test(video ?? ''),
    'the answer accepts the transport-wide-cc header extension for video');
  assert(/a=rtcp-fb:\d+ transport-cc/.test(video ?? ''), 'the answer has transport-cc feedback for video');
  return { page, settings, verdict };
}

// The sender's own numbers: what it sends and what congestion control thinks the link carries.
async function senderStats(page) {
  return page.evaluate(async () => {
    const pc = window.harvestBroadcast.state.publisher.session.pc;
    const out = { codec: null, pli: 0, fir: 0, keyFrames: 0, estimate: null, bytes: 0, ts: 0, width: 0, height: 0, qualityLimitation: null };
    const stats = await pc.getStats();
    for (const s of stats.values()) {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        Object.assign(out, { pli: s.pliCount, fir: s.firCount, keyFrames: s.keyFramesEncoded, bytes: s.bytesSent, ts: s.timestamp,
          width: s.frameWidth, height: s.frameHeight, qualityLimitation: s.qualityLimitationReason });
        out.codec = stats.get(s.codecId)?.mimeType ?? null;
      }
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') out.estimate = s.availableOutgoingBitrate;
    }
    return out;
  });
}

// The sizes the page may publish a camera at: its own size, or stepped down (uplink.js STEPS:
// 1, 1.5, 2) when the uplink check or the live statistics say the uplink is weak, which on a
// loaded test machine they may. Encoders round to even sizes.
function publishedSizes(camera) {
  const even = (v) => v - (v % 2);
  return [1, 1.5, 2].flatMap((scale) => {
    const w = camera.width / scale;
    const h = camera.height / scale;
    return [{ width: Math.round(w), height: Math.round(h) }, { width: even(Math.floor(w)), height: even(Math.floor(h)) }];
  });
}

// What the page has sent so far, per kind: when media stops reaching HLS, this says whether
// the browser stopped sending or the server stopped taking it.
async function sentPackets(page) {
  return page.evaluate(async () => {
    const pc = window.harvestBroadcast.state.publisher?.session?.pc;
    if (!pc) return 'no session';
    const out = [];
    for (const s of (await pc.getStats()).values()) {
      if (s.type === 'outbound-rtp') out.push(`${s.kind} ${s.packetsSent} packets`);
    }
    return `${pc.connectionState}: ${out.join(', ')}`;
  });
}

async function explained(page, step) {
  try {
    return await step();
  } catch (err) {
    const before = await sentPackets(page).catch((e) => e.message);
    log(`sent by the page when this failed: ${before}`);
    throw err;
  }
}

// HLS of the passthrough rendition: segments after going live decode at a size the page
// publishes (the camera's orientation kept) and start on a keyframe (the server asks for them).
async function checkHls(t, server, stream, dir, camera) {
  const sizes = publishedSizes(camera);
  const playlist = `/hls/${stream.id}/index.m3u8`;
  const segments = await collectSegments(t, server, playlist, dir, (segs) => segs.length >= 4,
    { timeout: 60_000, what: `4 segments of ${playlist}` });
  const probes = segments.map((s) => ({ uri: s.uri, ...probeSegment(s.file) }));
  log(`HLS ${playlist}: ${probes.map((p) => `${p.uri} ${p.width}x${p.height}${p.startsOnKeyframe ? ' key' : ' NOT-KEY'}`).join(', ')}`);
  for (const p of probes) {
    assert(p.startsOnKeyframe, `${p.uri} starts on a keyframe`);
    assert(sizes.some((s) => s.width === p.width && s.height === p.height),
      `${p.uri} is ${camera.width}x${camera.height} or a step down of it, as published (got ${p.width}x${p.height})`);
  }
  return segments;
}

// The page steps its resolution down while live, as it does when the uplink weakens (uplink.js
// STEPS; the uplink check may also start it there). A 720×1280 camera at scale 1.5 sends
// 480×853 in VP8, an odd height x264 cannot encode: the server's transcode crops it to 480×852
// and HLS goes on in the same session. (Before, x264 refused the size, the session stalled
// with ICE and DTLS up, and every reconnect at that step did the same.)
async function checkStepDown(t, server, stream, dir, page) {
  const ended = () => server.lines.filter((l) => l.includes('event=whip_session_ended')).length;
  const endedBefore = ended();
  await page.evaluate(async () => {
    const { state } = window.harvestBroadcast;
    // The test steps instead of the page: its own sampling (which could step back up on this
    // roomy loopback, or further down on a busy machine) stops here.
    clearInterval(state.live.timer);
    state.live.step = 1;
    await state.publisher.setScale(1.5);
  });
  const playlist = `/hls/${stream.id}/index.m3u8`;
  const probed = new Map();
  await collectSegments(t, server, playlist, dir, (segs) => {
    for (const s of segs) if (!probed.has(s.uri)) probed.set(s.uri, probeSegment(s.file));
    return [...probed.values()].some((p) => p.width === 480);
  }, { timeout: 60_000, what: `a segment of ${playlist} at the stepped-down size` });
  const stepped = [...probed.entries()].filter(([, p]) => p.width === 480);
  log(`stepped down: ${stepped.map(([uri, p]) => `${uri} ${p.width}x${p.height}${p.startsOnKeyframe ? ' key' : ' NOT-KEY'}`).join(', ')}`);
  for (const [uri, p] of stepped) {
    assert(p.height === 852, `${uri} is 480x852, 480x853 cropped to an even height (got ${p.width}x${p.height})`);
    assert(p.startsOnKeyframe, `${uri} starts on a keyframe`);
  }
  assert(ended() === endedBefore, `the session went on through the step (${server.lines.filter((l) => l.includes('event=whip_session_ended')).slice(endedBefore).join(' | ')})`);
}

// The host shows a card; once the server says which frame first showed it (card.shown with
// its program date time), the burned-in segments after it have the card's white rectangle
// where the overlay said it drew it. Sampled over several later frames and segments, never
// the first after the event (that is where an earlier attempt met black or late frames).
async function checkBurnedCard(t, server, stream, dir) {
  const host = await openHost(t, server, stream);
  const sent = await host.request({ type: 'card.show', product_id: 'pear-yulu', slot: 'bottom' });
  assert(sent.type === 'card.shown', `card.show is answered with card.shown (got ${sent.type} ${sent.code ?? ''})`);
  const shown = await host.waitForMessage((m) => m.type === 'card.shown' && m.product_id === 'pear-yulu' &&
    m.change_id === sent.change_id && m.amended === true, 'card.shown with the frame that showed it', 60_000)
    .catch((err) => {
      log(`host messages: ${host.messages.filter((m) => /card/.test(m.type)).map((m) => JSON.stringify(m)).join('\n')}`);
      throw err;
    });
  const pdt = Date.parse(shown.program_date_time);
  log(`card.shown at pts ${shown.pts}, program date time ${shown.program_date_time}`);
  const rectLine = await waitFor(() => server.lines.find((l) => /event=burned_card_frame .*product=pear-yulu action=shown/.test(l)),
    { timeout: 30_000, what: 'the overlay drawing the card (burned_card_frame)' });
  const [x, y, w, h] = /rect=(\d+),(\d+),(\d+),(\d+)/.exec(rectLine).slice(1).map(Number);
  // Inside the card, away from its rounded corners.
  const inner = { x: x + Math.round(w * 0.1), y: y + Math.round(h * 0.1), w: Math.round(w * 0.2) & ~1, h: Math.round(h * 0.2) & ~1 };

  const burned = `/hls/${stream.id}/burned/index.m3u8`;
  const after = await collectSegments(t, server, burned, dir,
    (segs) => segs.filter((s) => s.pdt !== null && s.pdt > pdt + 1000).length >= 3,
    { timeout: 90_000, what: 'three burned-in segments that start after the card appeared' });
  const frames = after.filter((s) => s.pdt > pdt + 1000).flatMap((s) => {
    try {
      return grayFrames(s.file, inner).map((f) => ({ ...f, uri: s.uri }));
    } catch (err) {
      // A segment cut where the publisher reconnected may hold no decodable video.
      log(`${s.uri}: no frames (${err.message.split('\n')[0]})`);
      return [];
    }
  });
  assert(frames.length >= 10, `frames decoded from the burned-in segments after the card (${frames.length})`);
  const shares = frames.map((f) => whiteShare(f.pix));
  log(`card rect ${x},${y} ${w}x${h}; white share inside it over ${frames.length} frames: ` +
      `min ${Math.min(...shares).toFixed(2)}, median ${shares.sort()[Math.floor(shares.length / 2)].toFixed(2)}`);
  // Most frames, not all: where the publisher reconnected, the new session's first frames
  // come before the card is cued into it again.
  const carded = shares.filter((s) => s > 0.8).length;
  assert(carded >= 10 && carded >= frames.length * 0.5,
    `the card's white background is in the burned-in frames after card.shown (${carded}/${frames.length})`);
  return host;
}

async function viewerPlays(t, server, browser, stream) {
  const viewer = await newPage(t, browser, { https: true });
  await viewer.goto(`${server.httpsBase}/watch/${stream.id}`);
  const first = await waitFor(() => viewer.evaluate(() => {
    const v = document.querySelector('video');
    return v.currentTime > 0 && !v.paused ? v.currentTime : 0;
  }), { timeout: 60_000, what: 'the viewer video playing' });
  const later = await waitFor(() => viewer.evaluate((t0) => {
    const v = document.querySelector('video');
    return v.currentTime > t0 + 1 ? v.currentTime : 0;
  }, first), { timeout: 30_000, what: 'the viewer video currentTime advancing' });
  log(`viewer plays: ${first.toFixed(2)} s → ${later.toFixed(2)} s`);
  // The room (cards, stock, buying) over wss on the same https port. Were h2 offered by ALPN,
  // Chromium would open its websocket over h2 (RFC 8441), which the server does not serve.
  const room = await waitFor(() => viewer.evaluate(() => (window.harvestWatch.room.state === 'open' ? 'open' : null)),
    { timeout: 20_000, what: 'the viewer\'s room websocket open over wss' }).catch(async (err) => {
    log(`room state: ${await viewer.evaluate(() => window.harvestWatch.room.state)}`);
    throw err;
  });
  assert(room === 'open', 'the viewer page joined the room over wss');
  const refused = server.lines.filter((l) => l.includes('User code denied connection')).length;
  assert(refused === 0, `no websocket upgrade was refused on the way (${refused} refused)`);
}

async function endLive(server, page) {
  await page.tap('#go-live');
  await page.waitForSelector('body[data-publish="idle"]', { timeout: 15_000 });
  await waitFor(() => server.lines.some((l) => /event=whip_session_ended .*reason="?publisher ended \(DELETE\)/.test(l)),
    { timeout: 15_000, what: 'the server ending the session on DELETE' });
}

runTest('whip_broadcast', async (t) => {
  const server = await t.server({ args: ['--tls-self-signed', '--burned-in', 'on'] });
  const browser = await launchBrowser(t, { args: ['--ignore-certificate-errors'] });
  const dir = t.tmpDir('harvest-whip-');

  // 1. H.264, the page's own camera size.
  const farm = await server.createStream({ title: 'Pears from the orchard' });
  assert(typeof farm.whip_url === 'string' && farm.whip_url.startsWith('https://'), `whip_url is advertised over https (${farm.whip_url})`);
  await server.putProducts(farm, CATALOG);
  await requireRooms(t, server, farm);
  const h264 = await goLive(t, server, browser, farm, { codec: 'h264' });
  const live = await waitFor(async () => (await server.fetch(`/api/streams/${farm.id}`)).json?.state === 'live',
    { timeout: 30_000, what: 'the stream state live' });
  assert(live, 'the stream is live');
  await explained(h264.page, () => checkHls(t, server, farm, dir, h264.settings));

  const s1 = await senderStats(h264.page);
  const s2 = await waitFor(async () => {
    const s = await senderStats(h264.page);
    return s.ts - s1.ts >= 3000 ? s : null;
  }, { timeout: 20_000, what: 'three seconds of sender statistics' });
  const sentBps = ((s2.bytes - s1.bytes) * 8) / ((s2.ts - s1.ts) / 1000);
  log(`sender: ${s2.codec} ${s2.width}x${s2.height}, sent ${(sentBps / 1e6).toFixed(2)} Mbit/s, ` +
      `estimate ${(s2.estimate / 1e6).toFixed(2)} Mbit/s, PLI ${s2.pli} FIR ${s2.fir} received, keyframes ${s2.keyFrames}, ` +
      `limited by ${s2.qualityLimitation}`);
  assert(/H264/i.test(s2.codec), `H.264 is sent by default (${s2.codec})`);
  assert(s2.pli + s2.fir > 0, 'the server asked for keyframes (PLI or FIR)');

  await explained(h264.page, () => checkBurnedCard(t, server, farm, dir));
  await viewerPlays(t, server, browser, farm);
  await endLive(server, h264.page);

  // 2. VP8 from a portrait camera.
  const portrait = await server.createStream({ title: 'Crabs at the lake' });
  const vp8 = await goLive(t, server, browser, portrait, { codec: 'vp8', portrait: { width: 720, height: 1280 } });
  assert(vp8.settings.width === 720 && vp8.settings.height === 1280, `the camera is 720x1280 (${vp8.settings.width}x${vp8.settings.height})`);
  await explained(vp8.page, () => checkHls(t, server, portrait, dir, { width: 720, height: 1280 }));
  const s3 = await senderStats(vp8.page);
  assert(/VP8/i.test(s3.codec), `?codec=vp8 sends VP8 (${s3.codec})`);
  await explained(vp8.page, () => checkStepDown(t, server, portrait, dir, vp8.page));
  await endLive(server, vp8.page);
}, { timeout: 280_000 });
