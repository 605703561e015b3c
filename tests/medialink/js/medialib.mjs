// Media-link test helpers on top of the commerce suite's lib.mjs (real server, real websockets):
// an ffmpeg RTMP publisher, playlist polling, and SEI extraction from TS segments with ffprobe.
import { spawnSync, execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, Client, waitUntil, eq } from '../../commerce/js/lib.mjs';
import { startProcess } from '../../support/process.mjs';

export const SEI_UUID_HEX = '568debb8653d4648af65ce50b4bdca36';

export function rtmpPort(server) {
  const m = /event=listening .*rtmp_port=(\d+)/.exec(server.log);
  if (!m) throw new Error('no rtmp_port in the server log');
  return Number(m[1]);
}

export function srtPort(server) {
  const m = /event=listening .*srt_port=(\d+)/.exec(server.log);
  if (!m) throw new Error('no srt_port in the server log');
  return Number(m[1]);
}

// The SRT publish URL of a stream key (stream id as docs/ingest.md gives it).
export function srtUrl(server, key) {
  return `srt://127.0.0.1:${srtPort(server)}?streamid=#!::r=live/${key},m=publish`;
}

// Publishes a test pattern in real time, over RTMP (FLV) or, with format 'mpegts' and an
// srt:// URL, over SRT; returns {proc, exited}.
export function publish(url, { width = 320, height = 568, fps = 25, seconds = 6, gop = 25, color = null, format = 'flv' } = {}) {
  const src = color ? `color=c=${color}:size=${width}x${height}:rate=${fps}`
                    : `testsrc2=size=${width}x${height}:rate=${fps}`;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', src,
                '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(seconds),
                '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
                '-g', String(gop), '-b:v', '300k', '-c:a', 'aac', '-b:a', '48k', '-ac', '1', '-f', format, url];
  const child = startProcess('ffmpeg', args, { stdout: false });
  const exited = child.exited.then(({ code, output }) => ({ code, err: output }));
  return { proc: child.proc, exited, kill: () => child.kill().then(() => exited) };
}

// A 10 s testsrc2 file as a phone's encoder would push it (H.264 2 Mbit/s, GOP 1 s, AAC), for
// publishers that only copy it (`ffmpeg -re -c copy`) and so cost the machine little.
export function preEncode(file, { size = '1280x720', fps = 30 } = {}) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`,
                          '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '10', '-c:v', 'libx264',
                          '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(fps),
                          '-b:v', '2000k', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', file]);
}

// Media playlist: segments [{uri, duration, pdt (ms)}], dateRanges [{attrs}], text.
export function parsePlaylist(text) {
  const segments = [];
  const dateRanges = [];
  let pdt = null;
  let duration = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line.startsWith('#EXTINF:')) duration = parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-DATERANGE:')) dateRanges.push(parseAttributes(line.slice(17)));
    else if (line && !line.startsWith('#')) {
      segments.push({ uri: line.trim(), duration, pdt });
      if (pdt !== null && duration !== null) pdt += Math.round(duration * 1000);
      duration = null;
    }
  }
  return { text, segments, dateRanges, ended: text.includes('#EXT-X-ENDLIST') };
}

export function parseAttributes(s) {
  const out = {};
  const re = /([A-Z0-9-]+)=("([^"]*)"|[^,]*)/g;
  let m;
  while ((m = re.exec(s)) !== null) out[m[1]] = m[3] !== undefined ? m[3] : m[2];
  return out;
}

export async function fetchPlaylist(server, path) {
  const r = await server.http('GET', path);
  return r.status === 200 ? parsePlaylist(r.text) : null;
}

export async function waitPlaylist(server, path, pred, timeoutMs = 20000, what = 'playlist') {
  let last = null;
  await waitUntil(async () => {
    last = await fetchPlaylist(server, path);
    return last !== null && pred(last);
  }, timeoutMs, what);
  return last;
}

export async function download(server, path, file) {
  const r = await fetch(server.url(path));
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
  writeFileSync(file, Buffer.from(await r.arrayBuffer()));
}

// Video packets of a TS file: [{pts (90 kHz), hex (payload as hex)}] in file order.
export function videoPackets(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_packets', '-show_data',
                                       '-show_entries', 'packet=pts,data', '-of', 'default', file],
                           { maxBuffer: 256 * 1024 * 1024 }).toString();
  const packets = [];
  let cur = null;
  let inData = false;
  for (const line of out.split('\n')) {
    if (line === '[PACKET]') { cur = { pts: null, hex: '' }; inData = false; }
    else if (line === '[/PACKET]') { packets.push(cur); cur = null; }
    else if (cur && line.startsWith('pts=')) cur.pts = Number(line.slice(4));
    else if (cur && line.startsWith('data=')) inData = true;
    else if (cur && inData) {
      const m = /^[0-9a-f]{8}: ((?:[0-9a-f]{2,4} ?)+)/.exec(line);
      if (m) cur.hex += m[1].replace(/ /g, '').slice(0, 32);
    }
  }
  return packets;
}

export function hexOf(text) { return Buffer.from(text, 'utf8').toString('hex'); }

export function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'harvest-medialink-'));
  return { path: d, remove: () => rmSync(d, { recursive: true, force: true }) };
}

// Per-frame mean luma of a rectangle, with the TS timestamps kept: [{pts (s), y}].
export function regionLuma(file, { x, y, w, h }) {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-copyts', '-i', file,
                                      '-an', '-vf', `crop=${w}:${h}:${x}:${y},signalstats,metadata=print:file=-`,
                                      '-f', 'null', '-'], { maxBuffer: 64 * 1024 * 1024 }).toString();
  const frames = [];
  let cur = null;
  for (const line of out.split('\n')) {
    const m = /pts_time:([0-9.]+)/.exec(line);
    if (m) { cur = { pts: Number(m[1]), y: NaN }; frames.push(cur); continue; }
    const v = /lavfi\.signalstats\.YAVG=([0-9.]+)/.exec(line);
    if (v && cur) cur.y = Number(v[1]);
  }
  return frames;
}

export function videoSize(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height',
                                       '-of', 'csv=p=0', file]).toString().trim();
  const m = /(\d+)\D+(\d+)/.exec(out);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : { width: NaN, height: NaN, out };
}

// Downloads every segment of a playlist as it appears (the live window moves on) into `dir`
// until `done(playlist)` holds; returns [{uri, file, pdt, duration}] in playlist order.
export async function collectSegments(server, path, dir, done, timeoutMs = 60000, what = 'segments') {
  const base = path.slice(0, path.lastIndexOf('/') + 1);
  const got = new Map();
  await waitUntil(async () => {
    const pl = await fetchPlaylist(server, path);
    if (pl === null) return false;
    for (const seg of pl.segments) {
      if (got.has(seg.uri)) continue;
      const file = join(dir, seg.uri.replace(/[^A-Za-z0-9._-]/g, '_'));
      await download(server, base + seg.uri, file);
      got.set(seg.uri, { ...seg, file });
    }
    return done(pl);
  }, timeoutMs, what);
  return [...got.values()];
}

// The decoded luma of a rectangle, frame by frame: [{pts (s, TS timestamps kept), pix (Buffer w*h)}].
export function grayFrames(file, { x, y, w, h }) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'info', '-copyts', '-i', file, '-an',
                                 '-vf', `crop=${w}:${h}:${x}:${y},format=gray,showinfo`, '-fps_mode', 'passthrough',
                                 '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ffmpeg ${file}: ${r.stderr}`);
  const pts = [...r.stderr.toString().matchAll(/\] n:\s*\d+ pts:\s*\S+\s+pts_time:([0-9.]+)/g)].map((m) => Number(m[1]));
  const size = w * h;
  const frames = [];
  for (let i = 0; i < pts.length && (i + 1) * size <= r.stdout.length; i++)
    frames.push({ pts: pts[i], pix: r.stdout.subarray(i * size, (i + 1) * size) });
  return frames;
}

// Pixels that differ by more than `threshold` between two equally sized luma buffers.
export function pixelsDiffering(a, b, threshold = 48) {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > threshold) n++;
  return n;
}

// Standard deviation of a luma buffer (a flat area is near 0).
export function lumaStdDev(pix) {
  let sum = 0;
  let sq = 0;
  for (const v of pix) { sum += v; sq += v * v; }
  const mean = sum / pix.length;
  return Math.sqrt(Math.max(0, sq / pix.length - mean * mean));
}

// The card rectangles the overlay announced (server log burned_card_frame rect=x,y,w,h), by product.
export function cardRects(server) {
  const out = {};
  for (const m of server.log.matchAll(/event=burned_card_frame .*product=(\S+) action=shown .*rect=(\d+),(\d+),(\d+),(\d+)/g))
    out[m[1]] = { x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]) };
  return out;
}

// The common start of a media-link test: a server (Server.start options), a temp dir, one stream
// with `products` in its catalog, and its host connected and welcomed as host; `t` cleans up all.
export async function hostedStream(t, { title, products, serverOptions = {} }) {
  const server = await Server.start(serverOptions);
  t.defer(() => server.stop());
  const tmp = tempDir();
  t.defer(() => tmp.remove());
  const stream = await server.createStream(title);
  eq((await server.putProducts(stream.id, products, stream.host_token)).status, 200, 'PUT products');
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  eq((await host.waitFor((m) => m.type === 'welcome')).role, 'host', 'host role');
  return { server, tmp, stream, host };
}
