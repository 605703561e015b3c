// Issue 6, item 2: the burned-in rendition. A solid-colour portrait source; the host shows a card;
// the burned-in rendition (same size, portrait) has the card's pixels from the frame whose PTS
// card.shown gave, and not before.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, assert, eq } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, waitPlaylist, download, regionLuma, videoSize, hostedStream } from './medialib.mjs';

const W = 320;
const H = 568;

run('burned_in_card_pixels', async (t) => {
  const { server, tmp, stream, host } = await hostedStream(t, {
    title: 'burned in',
    products: [
      { id: 'melon', title: 'Melon', price: 2990, currency: 'CNY', stock: 5 },
    ],
  });

  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`,
                      { width: W, height: H, seconds: 12, color: '0x2040a0' });
  t.defer(() => pub.kill());
  const burnedPath = `/hls/${stream.id}/burned/index.m3u8`;
  await waitPlaylist(server, burnedPath, (p) => p.segments.length >= 1, 30000, 'burned-in playlist');

  // The thread that decodes and draws the card runs ahead of the encoders (nice -10) where the
  // server may raise it (root here); otherwise the server says once that it could not.
  const drawing = threadNices(server.proc.pid).filter((th) => th.name.startsWith('burned_coded'));
  assert(drawing.length >= 1, 'the drawing thread is found by its name');
  if (process.getuid() === 0) {
    for (const th of drawing) eq(th.nice, -10, `the drawing thread's nice value (${JSON.stringify(drawing)})`);
  } else {
    assert(/event=thread_priority_refused/.test(server.log), 'the refused priority is logged');
  }

  const sent = await host.request({ type: 'card.show', product_id: 'melon', slot: 'bottom' });
  eq(sent.type, 'card.shown', 'card.show answer');
  const shown = await host.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.change_id === sent.change_id, 20000);
  const pdt = Date.parse(shown.program_date_time);
  const pl = await waitPlaylist(server, burnedPath, (p) =>
    p.segments.some((s) => s.pdt !== null && s.pdt > pdt + 500), 30000, 'burned segments past the card');
  const dr = pl.dateRanges.find((d) => d.ID === `card-${shown.change_id}`);
  assert(dr && dr['X-PRODUCT-ID'] === 'melon', 'the burned-in playlist has the DATERANGE too');

  // Inside the card (2:1, height 300/1080 of the shorter side, centred, 5 % bottom margin).
  const ch = Math.floor((300 / 1080) * W / 2) * 2;
  const cw = 2 * ch;
  const cx = (W - cw) / 2;
  const cy = H - Math.round(0.05 * H) - ch;
  const region = { x: cx + 8, y: cy + 8, w: cw - 16, h: ch - 16 };

  const frames = [];
  for (const seg of pl.segments) {
    if (seg.pdt > pdt + 1500) continue;
    const file = join(tmp.path, seg.uri.replace(/[^A-Za-z0-9._-]/g, '_'));
    await download(server, `/hls/${stream.id}/burned/${seg.uri}`, file);
    const size = videoSize(file);
    eq(`${size.width}x${size.height}`, `${W}x${H}`, 'burned-in keeps the source size and orientation');
    frames.push(...regionLuma(file, region));
  }
  // The decoder may re-time frames by a few ms against the passthrough access units (the SEI's
  // PTS); the frame card.shown names is the burned-in frame nearest to that PTS (within half a
  // frame). Frames the leaky queue dropped are missing; no frame before it has the card.
  const HALF = 0.02;
  const before = frames.filter((f) => f.pts < shown.pts - HALF);
  const after = frames.filter((f) => f.pts >= shown.pts - HALF && f.pts < shown.pts + 0.5);
  if (process.env.ML_DEBUG) {
    console.log(server.log.split('\n').filter((l) => /burned|card_presented/.test(l)).join('\n'));
    console.log(frames.map((f) => f.pts.toFixed(6) + ':' + f.y.toFixed(0)).join(' '));
  }
  assert(before.length > 0 && after.length > 0, `frames around ${shown.pts}: ${frames.map((f) => f.pts.toFixed(3)).join(',')}`);
  const base = before.reduce((a, f) => a + f.y, 0) / before.length;
  for (const f of before) assert(Math.abs(f.y - base) < 15, `no card before its frame (pts ${f.pts}: Y ${f.y} vs ${base})`);
  for (const f of after) assert(Math.abs(f.y - base) > 40, `the card is on every frame from ${shown.pts} (pts ${f.pts}: Y ${f.y} vs ${base})`);
  const exact = after.find((f) => Math.abs(f.pts - shown.pts) < HALF);
  console.log(exact ? `card frame pts ${exact.pts} for card.shown pts ${shown.pts}`
                    : `the frame at ${shown.pts} was dropped by the leaky queue; first card frame ${after[0].pts}`);
});

// The threads of a process with their names and nice values (/proc/PID/task/TID/stat: the name
// is in parentheses, the nice value the 19th field).
function threadNices(pid) {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');  // fields from the 3rd (state) on
    return { tid: Number(tid), name: stat.slice(stat.indexOf('(') + 1, close), nice: Number(fields[16]) };
  });
}
