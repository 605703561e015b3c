// Issue 19: a card shown by a host on node B reaches the burned-in rendition made on node A,
// which holds the stream's ingest: the card.show crosses the bus, drives A's card link, and the
// frame that first shows the card comes back to B as the amended card.shown (with its pts),
// so B's viewers and B's host see it in step with A's picture. Pixels are read from A's
// burned-in segments as in tests/medialink/js/burned_in.mjs.
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { run, assert, eq } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, waitPlaylist, download, regionLuma } from '../../medialink/js/medialib.mjs';
import { twoNodes, enter } from './nodes.mjs';

const W = 320;
const H = 568;

run('bus_card_from_b_burned_in_on_a', async (t) => {
  const { a, b, stream } = await twoNodes(t, {
    products: [{ id: 'melon', title: 'Melon', price: 2990, currency: 'CNY', stock: 5 }],
  });
  const tmp = mkdtempSync(join(tmpdir(), 'harvest-bus-burned-'));
  t.defer(() => rmSync(tmp, { recursive: true, force: true }));
  const hostB = await enter(t, b, { stream: stream.id, token: stream.host_token }, 'host');
  const viewerA = await enter(t, a, { stream: stream.id }, 'viewer');

  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(a)}/live/${stream.stream_key}`,
                      { width: W, height: H, seconds: 14, color: '0x2040a0' });
  t.defer(() => pub.kill());
  const burnedPath = `/hls/${stream.id}/burned/index.m3u8`;
  await waitPlaylist(a, burnedPath, (p) => p.segments.length >= 1, 30000, 'burned-in playlist on A');

  const sent = await hostB.request({ type: 'card.show', product_id: 'melon', slot: 'bottom' });
  eq(sent.type, 'card.shown', 'card.show answer on B');
  // A's viewer sees it, and then A's picture has it: the amended card.shown on A and, relayed,
  // on B (B's own change id).
  await viewerA.waitFor((m) => m.type === 'card.shown' && m.product_id === 'melon', 5000);
  const onA = await viewerA.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.product_id === 'melon', 20000);
  const onB = await hostB.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.change_id === sent.change_id, 10000);
  eq(onB.pts, onA.pts, 'B learns the pts of the frame A burned the card into');

  const pdt = Date.parse(onA.program_date_time);
  const pl = await waitPlaylist(a, burnedPath, (p) =>
    p.segments.some((s) => s.pdt !== null && s.pdt > pdt + 500), 30000, 'burned segments past the card');
  const ch = Math.floor((300 / 1080) * W / 2) * 2;
  const cw = 2 * ch;
  const region = { x: (W - cw) / 2 + 8, y: H - Math.round(0.05 * H) - ch + 8, w: cw - 16, h: ch - 16 };
  const frames = [];
  for (const seg of pl.segments) {
    if (seg.pdt > pdt + 1500) continue;
    const file = join(tmp, seg.uri.replace(/[^A-Za-z0-9._-]/g, '_'));
    await download(a, `/hls/${stream.id}/burned/${seg.uri}`, file);
    frames.push(...regionLuma(file, region));
  }
  const HALF = 0.02;
  const before = frames.filter((f) => f.pts < onA.pts - HALF);
  const after = frames.filter((f) => f.pts >= onA.pts - HALF && f.pts < onA.pts + 0.5);
  assert(before.length > 0 && after.length > 0, `frames around ${onA.pts}: ${frames.map((f) => f.pts.toFixed(3)).join(',')}`);
  const base = before.reduce((s, f) => s + f.y, 0) / before.length;
  for (const f of before) assert(Math.abs(f.y - base) < 15, `no card before its frame (pts ${f.pts}: Y ${f.y} vs ${base})`);
  for (const f of after) assert(Math.abs(f.y - base) > 40, `the card from B is burned in on A (pts ${f.pts}: Y ${f.y} vs ${base})`);
});
