// LL-HLS (docs/ll-hls.md): /hls/{id}/ll.m3u8 of a stream published by ffmpeg over RTMP.
// - Blocking reload: a request for the next part (the preload hint, not yet written when asked)
//   is answered with a playlist that lists it, once the part file exists; several in a row,
//   the wait and the delay between the part file's write and the answer measured (printed,
//   not asserted). The loop keeps serving others meanwhile (/api/health answers while
//   requests are parked).
// - A part asked for by name before it exists (preload hint) comes once written (a fragment).
// - 400 for a far-future _HLS_msn, a part past the Advance Part Limit, malformed values;
//   404 for an unknown stream; 503 + Retry-After for a part that does not come in time
//   (the publisher gone).
// - The init segment + a segment file are valid CMAF for ffprobe and GStreamer (qtdemux + decoders), and a
//   plain HLS reader (ffmpeg's demuxer, no LL) reads the playlist's full segments.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Server, run, assert, eq, waitUntil } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, waitPlaylist, tempDir } from './medialib.mjs';

const execFileP = promisify(execFile);

function hint(text) {
  const m = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text);
  return m ? m[1] : null;
}
// The next part's position as hls.js asks for it: the segment after the last complete one,
// and the count of its parts already listed (those after the last EXTINF).
function nextPart(text) {
  const msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)[1]) + (text.match(/#EXTINF/g) ?? []).length;
  const tail = text.slice(text.lastIndexOf('#EXTINF'));
  return { msn, part: (tail.match(/#EXT-X-PART:/g) ?? []).length };
}
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};

run('ll_hls', async (t) => {
  const tmp = tempDir();
  t.defer(() => tmp.remove());
  const dataDir = join(tmp.path, 'data');
  const server = await Server.start({ dataDir });
  t.defer(() => server.stop());
  const stream = await server.createStream('ll farm');
  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`, { seconds: 60, fps: 25, gop: 25 });
  t.defer(() => pub.kill());
  const path = `/hls/${stream.id}/ll.m3u8`;
  const hlsDir = join(dataDir, 'hls', stream.id);

  // Two complete segments and parts.
  await waitPlaylist(server, path, (p) => p.segments.length >= 2, 30000, 'two LL segments');
  let r = await server.http('GET', path);
  eq(r.status, 200, 'GET ll.m3u8');
  eq(r.headers.get('content-type'), 'application/vnd.apple.mpegurl', 'playlist type');
  assert(/#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1\.500/.test(r.text), 'server control');
  assert(/#EXT-X-PART-INF:PART-TARGET=0\.500/.test(r.text), 'part inf');
  assert(/#EXT-X-PART:DURATION=[\d.]+,URI="[^"]+",INDEPENDENT=YES/.test(r.text), 'an independent part');
  assert(/#EXT-X-MAP:URI="[^"]+\.mp4"/.test(r.text), 'init segment');
  assert(/#EXT-X-PROGRAM-DATE-TIME:\d{4}-/.test(r.text), 'program date time');
  for (const m of r.text.matchAll(/#EXT-X-PART:DURATION=([\d.]+)/g))
    assert(Number(m[1]) <= 0.5, `a part of ${m[1]} s is within PART-TARGET`);

  // The stream's state advertises it.
  const info = (await server.http('GET', `/api/streams/${stream.id}`)).json;
  eq(info.ll_hls_url, path, 'GET /api/streams/{id} advertises ll_hls_url');

  // Blocking reload, part after part: each answer lists the part asked for, which did not exist
  // when asked, and is on disk when the answer comes.
  const waits = [];
  const afterWrite = [];
  let prev = r.text;
  for (let i = 0; i < 12; ++i) {
    const next = hint(prev);
    assert(next, 'a preload hint');
    const want = nextPart(prev);
    assert(!prev.includes(`#EXT-X-PART:DURATION`) || !new RegExp(`#EXT-X-PART:[^\\n]*URI="${next}"`).test(prev),
      'the hinted part is not listed yet');
    const asked = Date.now();
    const parked = server.http('GET', `${path}?_HLS_msn=${want.msn}&_HLS_part=${want.part}`);
    if (i === 0) {
      // The loop thread is free while the request is parked.
      const h = await server.http('GET', '/api/health');
      eq(h.status, 200, 'health answers while a blocking reload waits');
    }
    r = await parked;
    const answered = Date.now();
    eq(r.status, 200, `blocking reload ${want.msn}.${want.part}`);
    assert(new RegExp(`#EXT-X-PART:[^\\n]*URI="${next}"`).test(r.text), `the answer lists ${next}`);
    const written = statSync(join(hlsDir, next)).mtimeMs;
    waits.push(answered - asked);
    afterWrite.push(answered - written);
    assert(answered >= written - 5, `answered after the part was written (${answered - written} ms)`);
    prev = r.text;
  }
  console.log(`blocking reload: waited p50 ${percentile(waits, 0.5)} ms, max ${Math.max(...waits)} ms; ` +
              `answer after the part file's write p50 ${percentile(afterWrite, 0.5).toFixed(1)} ms, ` +
              `max ${Math.max(...afterWrite).toFixed(1)} ms (${waits.length} parts)`);

  // The part after that, asked for by name before it exists (preload hint): comes as a fragment.
  const hinted = hint(prev);
  assert(hinted, 'a new hint');
  const part = await fetch(server.url(`/hls/${stream.id}/${hinted}`));
  eq(part.status, 200, 'hinted part');
  const bytes = Buffer.from(await part.arrayBuffer());
  eq(bytes.subarray(4, 8).toString('latin1'), 'moof', 'the part is a CMAF fragment');

  // Bad requests: 400 at once, 404.
  // (From a fresh playlist, with margins: a segment may close between reading it and asking.)
  const pos = nextPart((await server.http('GET', path)).text);
  eq((await server.http('GET', `${path}?_HLS_msn=${pos.msn + 50}`)).status, 400, 'far-future msn');
  eq((await server.http('GET', `${path}?_HLS_msn=${pos.msn + 3}&_HLS_part=0`)).status, 400, 'msn past the last one plus two');
  eq((await server.http('GET', `${path}?_HLS_msn=${pos.msn + 1}&_HLS_part=40`)).status, 400,
    'part past the Advance Part Limit');
  eq((await server.http('GET', `/hls/${stream.id}/${hinted.replace(/p(\d+)\.m4s$/, (_m, n) => `p${Number(n) + 40}.m4s`)}`)).status,
    404, 'a part file far past the preload hint');
  const bad = await server.http('GET', `${path}?_HLS_msn=abc`);
  eq(bad.status, 400, 'malformed msn');
  assert(/_HLS_msn/.test(bad.text), `the 400 says what is wrong: ${bad.text}`);
  eq((await server.http('GET', `${path}?_HLS_msn=1&_HLS_part=-1`)).status, 400, 'negative part');
  eq((await server.http('GET', `${path}?_HLS_part=1`)).status, 400, 'part without msn');
  eq((await server.http('GET', `/hls/nosuch/ll.m3u8`)).status, 404, 'unknown stream');

  // CMAF: init + one segment file, read by ffprobe and GStreamer.
  const playlist = (await server.http('GET', path)).text;
  const initUri = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)[1];
  const segUri = /#EXTINF:[\d.]+,\n(\S+\.m4s)/.exec(playlist)[1];
  const init = Buffer.from(await (await fetch(server.url(`/hls/${stream.id}/${initUri}`))).arrayBuffer());
  const seg = Buffer.from(await (await fetch(server.url(`/hls/${stream.id}/${segUri}`))).arrayBuffer());
  const cmaf = join(tmp.path, 'one.mp4');
  await writeFile(cmaf, Buffer.concat([init, seg]));
  const probed = JSON.parse((await execFileP('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', cmaf])).stdout);
  const video = probed.streams.find((s) => s.codec_type === 'video');
  const audio = probed.streams.find((s) => s.codec_type === 'audio');
  assert(video && video.codec_name === 'h264' && video.width === 320 && video.height === 568, `ffprobe video ${JSON.stringify(video)}`);
  assert(Number(video.nb_read_frames) >= 20, `ffprobe decodes a segment's frames (${video.nb_read_frames})`);
  assert(audio && audio.codec_name === 'aac' && Number(audio.sample_rate) === 44100, `ffprobe audio ${JSON.stringify(audio)}`);
  // GStreamer (qtdemux, the decoders) plays the same file through to its end.
  await execFileP('gst-launch-1.0', ['-q', 'filesrc', `location=${cmaf}`, '!', 'qtdemux', 'name=d',
    'd.video_0', '!', 'queue', '!', 'h264parse', '!', 'avdec_h264', '!', 'fakesink',
    'd.audio_0', '!', 'queue', '!', 'aacparse', '!', 'avdec_aac', '!', 'fakesink'], { timeout: 30000 });

  // A plain HLS reader: ffmpeg reads the playlist (full segments via EXT-X-MAP) and decodes.
  const out = join(tmp.path, 'plain.mp4');
  await execFileP('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-xerror', '-i', server.url(path), '-t', '3',
                             '-c', 'copy', '-y', out], { timeout: 30000 });
  const probe = JSON.parse((await execFileP('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', out])).stdout);
  const codecs = probe.streams.map((s) => s.codec_name).sort();
  eq(codecs.join(','), 'aac,h264', 'plain reader gets H.264 + AAC');
  const frames = (await execFileP('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', out])).stdout.trim();
  assert(Number(frames) >= 50, `decoded ${frames} frames`);

  // The publisher goes: a part that does not come within three target durations is a 503 with
  // Retry-After (the stream waits for its publisher for the grace period, not ended yet).
  // Ask only once the server has written what it held when the publisher went (the last segment
  // closed: no preload hint): parts cut from that data would answer the request.
  await pub.kill();
  let closed = '';
  await waitUntil(async () => {
    closed = (await server.http('GET', path)).text;
    return !closed.includes('#EXT-X-PRELOAD-HINT');
  }, 15000, 'the last segment closed after the publisher left');
  const at = nextPart(closed);
  const gone = await server.http('GET', `${path}?_HLS_msn=${at.msn}&_HLS_part=${at.part + 1}`);
  eq(gone.status, 503, `a part that does not come in time (${at.msn}.${at.part + 1}): ${gone.text}`);
  eq(gone.headers.get('retry-after'), '1', 'Retry-After');
});
