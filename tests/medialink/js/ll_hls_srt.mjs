// LL-HLS for an SRT-ingested stream (docs/ll-hls.md, "Inputs"): ffmpeg publishes MPEG-TS over
// a real SRT socket; the server converts the demuxed Annex B H.264 and ADTS AAC into CMAF parts.
// - GET /api/streams/{id} (ingest protocol srt) offers ll_hls_url;
// - ll.m3u8 has parts within PART-TARGET, an independent part, an init segment (EXT-X-MAP);
// - a blocking reload for the next part is answered with a playlist that lists it;
// - init + one segment decode with ffprobe (H.264 at the publisher's size, AAC 44.1 kHz) and
//   through GStreamer's qtdemux + decoders; the TS rendition (index.m3u8) is still written.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Server, run, assert, eq } from '../../commerce/js/lib.mjs';
import { srtUrl, publish, waitPlaylist, tempDir } from './medialib.mjs';

const execFileP = promisify(execFile);

run('ll_hls_srt', async (t) => {
  const tmp = tempDir();
  t.defer(() => tmp.remove());
  const server = await Server.start({ dataDir: join(tmp.path, 'data') });
  t.defer(() => server.stop());
  const stream = await server.createStream('srt ll farm');
  const pub = publish(srtUrl(server, stream.stream_key), { seconds: 40, fps: 25, gop: 25, format: 'mpegts' });
  t.defer(() => pub.kill());
  const path = `/hls/${stream.id}/ll.m3u8`;

  // Two complete segments, made of parts.
  await waitPlaylist(server, path, (p) => p.segments.length >= 2 && p.text.includes('#EXT-X-PART:'), 30000,
    'two LL segments from SRT');
  let r = await server.http('GET', path);
  eq(r.status, 200, 'GET ll.m3u8');
  assert(/#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1\.500/.test(r.text), 'server control');
  assert(/#EXT-X-PART:DURATION=[\d.]+,URI="[^"]+",INDEPENDENT=YES/.test(r.text), `an independent part:\n${r.text}`);
  assert(/#EXT-X-MAP:URI="[^"]+\.mp4"/.test(r.text), 'init segment');
  const parts = [...r.text.matchAll(/#EXT-X-PART:DURATION=([\d.]+)/g)].map((m) => Number(m[1]));
  assert(parts.length >= 4, `parts listed (${parts.length})`);
  for (const d of parts) assert(d > 0 && d <= 0.5, `a part of ${d} s is within PART-TARGET`);

  // The stream's state: ingested over SRT, offering LL-HLS.
  const info = (await server.http('GET', `/api/streams/${stream.id}`)).json;
  eq(info.ingest?.protocol, 'srt', 'published over SRT');
  eq(info.ll_hls_url, path, 'GET /api/streams/{id} advertises ll_hls_url for SRT');

  // Blocking reload for the next part (parts keep coming from the SRT publisher).
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(r.text)?.[1];
  assert(hint, 'a preload hint');
  const msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(r.text)[1]) + (r.text.match(/#EXTINF/g) ?? []).length;
  const part = (r.text.slice(r.text.lastIndexOf('#EXTINF')).match(/#EXT-X-PART:/g) ?? []).length;
  const asked = Date.now();
  r = await server.http('GET', `${path}?_HLS_msn=${msn}&_HLS_part=${part}`);
  eq(r.status, 200, `blocking reload ${msn}.${part}`);
  console.log(`blocking reload for the next part answered after ${Date.now() - asked} ms; ` +
              `part durations ${Math.min(...parts).toFixed(3)}..${Math.max(...parts).toFixed(3)} s (${parts.length} listed)`);
  assert(new RegExp(`#EXT-X-PART:[^\\n]*URI="${hint}"`).test(r.text), `the answer lists ${hint}`);

  // CMAF: init + one complete segment, read by ffprobe and GStreamer.
  const playlist = (await server.http('GET', path)).text;
  const initUri = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)[1];
  const segUri = /#EXTINF:[\d.]+,\n(\S+\.m4s)/.exec(playlist)[1];
  const get = async (uri) => {
    const res = await fetch(server.url(`/hls/${stream.id}/${uri}`));
    eq(res.status, 200, `GET ${uri}`);
    return Buffer.from(await res.arrayBuffer());
  };
  const cmaf = join(tmp.path, 'one.mp4');
  await writeFile(cmaf, Buffer.concat([await get(initUri), await get(segUri)]));
  const probed = JSON.parse((await execFileP('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', cmaf])).stdout);
  const video = probed.streams.find((s) => s.codec_type === 'video');
  const audio = probed.streams.find((s) => s.codec_type === 'audio');
  assert(video && video.codec_name === 'h264' && video.width === 320 && video.height === 568, `ffprobe video ${JSON.stringify(video)}`);
  assert(Number(video.nb_read_frames) >= 20, `ffprobe decodes a segment's frames (${video?.nb_read_frames})`);
  assert(audio && audio.codec_name === 'aac' && Number(audio.sample_rate) === 44100 && audio.channels === 1,
    `ffprobe audio ${JSON.stringify(audio)}`);
  assert(Number(audio.nb_read_frames) >= 30, `ffprobe decodes a segment's audio (${audio?.nb_read_frames})`);
  await execFileP('gst-launch-1.0', ['-q', 'filesrc', `location=${cmaf}`, '!', 'qtdemux', 'name=d',
    'd.video_0', '!', 'queue', '!', 'h264parse', '!', 'avdec_h264', '!', 'fakesink',
    'd.audio_0', '!', 'queue', '!', 'aacparse', '!', 'avdec_aac', '!', 'fakesink'], { timeout: 30000 });

  // The MPEG-TS rendition of the same input is still there.
  const ts = await waitPlaylist(server, `/hls/${stream.id}/index.m3u8`, (p) => p.segments.length >= 1, 10000, 'TS playlist');
  assert(ts.segments[0].uri.endsWith('.ts'), 'index.m3u8 lists TS segments');
});
