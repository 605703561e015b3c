// LL-HLS (docs/ll-hls.md): /hls/{id}/ll.m3u8 of a stream published by ffmpeg over RTMP.
// Blocking reload answers with the part asked for (the next one, not yet written when asked);
// a part asked for through the preload hint before it exists comes once written; a far-future
// _HLS_msn and a malformed one get 400; a plain player (ffmpeg's HLS demuxer, no LL) reads the
// playlist's full segments and decodes H.264 + AAC.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Server, run, assert, eq } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, waitPlaylist, tempDir } from './medialib.mjs';

const execFileP = promisify(execFile);

function hint(text) {
  const m = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text);
  return m ? m[1] : null;
}
function partPosition(uri) {
  const m = /p(\d+)\.(\d+)\.m4s$/.exec(uri);
  return m ? { msn: Number(m[1]), part: Number(m[2]) } : null;
}

run('ll_hls', async (t) => {
  const tmp = tempDir();
  t.defer(() => tmp.remove());
  const server = await Server.start({ dataDir: join(tmp.path, 'data') });
  t.defer(() => server.stop());
  const stream = await server.createStream('ll farm');
  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`, { seconds: 40, fps: 25, gop: 25 });
  t.defer(() => pub.kill());
  const path = `/hls/${stream.id}/ll.m3u8`;

  // Two complete segments and parts.
  await waitPlaylist(server, path, (p) => p.segments.length >= 2, 30000, 'two LL segments');
  let r = await server.http('GET', path);
  eq(r.status, 200, 'GET ll.m3u8');
  assert(/#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=/.test(r.text), 'server control');
  assert(/#EXT-X-PART-INF:PART-TARGET=/.test(r.text), 'part inf');
  assert(/#EXT-X-PART:DURATION=[\d.]+,URI="[^"]+",INDEPENDENT=YES/.test(r.text), 'an independent part');
  assert(/#EXT-X-MAP:URI="[^"]+\.mp4"/.test(r.text), 'init segment');

  // Blocking reload for the part not written yet: the answer lists it.
  const next = hint(r.text);
  assert(next, 'a preload hint');
  const want = partPosition(next);
  assert(want, `hint names a part: ${next}`);
  r = await server.http('GET', `${path}?_HLS_msn=${want.msn}&_HLS_part=${want.part}`);
  eq(r.status, 200, 'blocking reload');
  assert(r.text.includes(`URI="${next}"`), `the answer lists ${next}`);

  // The part after that, asked for by name before it exists (preload hint): comes as a fragment.
  const hinted = hint(r.text);
  assert(hinted && hinted !== next, 'a new hint');
  const part = await fetch(server.url(`/hls/${stream.id}/${hinted}`));
  eq(part.status, 200, 'hinted part');
  const bytes = Buffer.from(await part.arrayBuffer());
  eq(bytes.subarray(4, 8).toString('latin1'), 'moof', 'the part is a CMAF fragment');

  // Far ahead, malformed.
  eq((await server.http('GET', `${path}?_HLS_msn=${want.msn + 50}`)).status, 400, 'far-future msn');
  eq((await server.http('GET', `${path}?_HLS_msn=abc`)).status, 400, 'malformed msn');
  eq((await server.http('GET', `${path}?_HLS_part=1`)).status, 400, 'part without msn');
  eq((await server.http('GET', `/hls/nosuch/ll.m3u8`)).status, 404, 'unknown stream');

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
});
