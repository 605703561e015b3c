// Burned-in ladder (--burned-ladder): a 640x360 source with one 240-line rung. The rung's playlist
// /hls/{id}/burned/240p/index.m3u8 gets segments of 426x240 H.264 + AAC (the long side keeps the
// aspect ratio, rounded to the nearest even number: 426.67 -> 426); the master playlist lists the
// source-size rendition and the rung; a card shown by the host is burned into the rung too (same
// DATERANGE, the card's pixels from its frame on).
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { run, assert, eq } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, waitPlaylist, download, regionLuma, videoSize, hostedStream, parseAttributes } from './medialib.mjs';

const W = 640;
const H = 360;

function streams(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name',
                                       '-of', 'csv=p=0', file]).toString();
  // Each stream is listed once per program and once alone: distinct, non-empty entries.
  return [...new Set(out.split('\n').map((l) => l.trim()).filter((l) => l !== ''))].sort();
}

run('burned_ladder_rung', async (t) => {
  const { server, tmp, stream, host } = await hostedStream(t, {
    title: 'ladder',
    serverOptions: { args: ['--burned-ladder', '240'] },
    products: [
      { id: 'melon', title: 'Melon', price: 2990, currency: 'CNY', stock: 5 },
    ],
  });

  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`,
                      { width: W, height: H, seconds: 14, color: '0x2040a0' });
  t.defer(() => pub.kill());
  const rungPath = `/hls/${stream.id}/burned/240p/index.m3u8`;
  const first = await waitPlaylist(server, rungPath, (p) => p.segments.length >= 1, 40000, '240p playlist');

  const seg0 = join(tmp.path, 'rung0.ts');
  await download(server, `/hls/${stream.id}/burned/240p/${first.segments[0].uri}`, seg0);
  const size = videoSize(seg0);
  eq(`${size.width}x${size.height}`, '426x240', 'the rung keeps the aspect ratio, even width');
  eq(streams(seg0).join(' '), 'aac,audio h264,video', 'the rung has H.264 video and AAC audio');

  const master = await server.http('GET', `/hls/${stream.id}/burned/master.m3u8`);
  eq(master.status, 200, 'master playlist served');
  const infs = [];
  const lines = master.text.split('\n');
  for (let i = 0; i < lines.length; ++i) {
    if (lines[i].startsWith('#EXT-X-STREAM-INF:')) infs.push({ ...parseAttributes(lines[i].slice(18)), uri: lines[i + 1] });
  }
  eq(infs.map((e) => `${e.uri}@${e.RESOLUTION}`).join(' '), 'index.m3u8@640x360 240p/index.m3u8@426x240', 'master entries');
  for (const e of infs) {
    assert(Number(e.BANDWIDTH) > 0, `BANDWIDTH of ${e.uri}`);
    assert(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/.test(e.CODECS), `CODECS of ${e.uri}: ${e.CODECS}`);
  }

  // A card: in the rung's playlist (DATERANGE) and on its pixels.
  const sent = await host.request({ type: 'card.show', product_id: 'melon', slot: 'bottom' });
  eq(sent.type, 'card.shown', 'card.show answer');
  const shown = await host.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.change_id === sent.change_id, 20000);
  const pdt = Date.parse(shown.program_date_time);
  const pl = await waitPlaylist(server, rungPath, (p) =>
    p.segments.some((s) => s.pdt !== null && s.pdt > pdt + 1000), 40000, '240p segments past the card');
  const dr = pl.dateRanges.find((d) => d.ID === `card-${shown.change_id}`);
  assert(dr && dr['X-PRODUCT-ID'] === 'melon', 'the rung playlist has the card DATERANGE too');

  // The card at the source size (2:1, 300/1080 of the short side, centred, 5 % bottom margin),
  // scaled by 240/360, shrunk by a margin for the scaler's blur.
  const ch = Math.floor((300 / 1080) * H / 2) * 2;
  const cw = 2 * ch;
  const k = 240 / H;
  const x0 = ((W - cw) / 2) * k;
  const y0 = (H - Math.round(0.05 * H) - ch) * k;
  const region = { x: Math.ceil(x0 + 8), y: Math.ceil(y0 + 8), w: Math.floor(cw * k - 16), h: Math.floor(ch * k - 16) };
  const frames = [];
  for (const seg of pl.segments) {
    if (seg.pdt > pdt + 2000) continue;
    const file = join(tmp.path, seg.uri.replace(/[^A-Za-z0-9._-]/g, '_'));
    await download(server, `/hls/${stream.id}/burned/240p/${seg.uri}`, file);
    frames.push(...regionLuma(file, region));
  }
  // The rung scales the overlaid frames: the same PTS as the source-size rendition (within half a
  // frame of card.shown's pts); frames its leaky queue dropped are missing.
  const HALF = 0.02;
  const before = frames.filter((f) => f.pts < shown.pts - HALF);
  const after = frames.filter((f) => f.pts >= shown.pts - HALF && f.pts < shown.pts + 0.5);
  assert(before.length > 0 && after.length > 0, `frames around ${shown.pts}: ${frames.map((f) => f.pts.toFixed(3)).join(',')}`);
  const base = before.reduce((a, f) => a + f.y, 0) / before.length;
  for (const f of before) assert(Math.abs(f.y - base) < 15, `no card before its frame (pts ${f.pts}: Y ${f.y} vs ${base})`);
  for (const f of after) assert(Math.abs(f.y - base) > 40, `the card is on the rung from ${shown.pts} (pts ${f.pts}: Y ${f.y} vs ${base})`);
  // The rung reports what it encoded and what its leaky queue dropped, beside the source size.
  const info = (await server.http('GET', `/api/streams/${stream.id}`, { token: stream.host_token })).json;
  const rungs = info.ingest?.burned?.ladder ?? [];
  eq(rungs.map((r) => `${r.rung}:${r.width}x${r.height}`).join(' '), '240:426x240', 'ingest.burned.ladder lists the rung');
  assert(rungs[0].frames_in > 0 && rungs[0].encoded > 0, `the rung counts frames: ${JSON.stringify(rungs[0])}`);
  assert(rungs[0].dropped >= 0 && rungs[0].dropped <= rungs[0].frames_in && rungs[0].drop_pct >= 0,
         `the rung's drops are counted: ${JSON.stringify(rungs[0])}`);
  console.log(`rung 426x240: ${frames.length} frames checked, card from pts ${after[0].pts} (card.shown ${shown.pts}); ` +
              `stats ${JSON.stringify(rungs[0])}`);
});
