// Issue 6: RTMP restream of the burned-in rendition. Stream A restreams to this same server's
// RTMP ingest for stream B: B goes live with A's burned-in picture (same size, H.264 + AAC, the
// card A's host shows burned into B's frames). The restream goes through a TCP relay that the
// test cuts and reopens: the restream retries and is live again, A never stops.
import { join } from 'node:path';
import { createServer, connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { Server, Client, run, assert, eq, waitUntil } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, waitPlaylist, download, regionLuma, videoSize, tempDir } from './medialib.mjs';

// Segments ever listed (the playlist is a sliding window): media sequence + segments listed.
const made = (p) => Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(p.text)?.[1] ?? 0) + p.segments.length;

// A TCP relay to 127.0.0.1:target that can be cut (listener and connections) and reopened on the
// same port: a remote that goes away and comes back.
function relay(target) {
  const sockets = new Set();
  const r = { port: 0, server: null };
  r.open = async () => {
    r.server = createServer((down) => {
      const up = connect(target, '127.0.0.1');
      const done = () => { down.destroy(); up.destroy(); sockets.delete(down); sockets.delete(up); };
      for (const s of [down, up]) { sockets.add(s); s.on('error', done); s.on('close', done); }
      down.pipe(up);
      up.pipe(down);
    });
    await new Promise((resolve) => r.server.listen(r.port, '127.0.0.1', resolve));
    r.port = r.server.address().port;
  };
  r.cut = async () => {
    const closed = new Promise((resolve) => r.server.close(resolve));
    for (const s of sockets) s.destroy();
    await closed;
  };
  return r;
}

const W = 320;
const H = 568;

run('restream_to_own_ingest', async (t) => {
  const server = await Server.start();
  t.defer(() => server.stop());
  t.defer(() => { if (process.env.ML_DEBUG) console.log(server.log.split('\n').filter((l) => /restream|pipeline|publish|error|warn/.test(l)).join('\n')); });
  const tmp = tempDir();
  t.defer(() => tmp.remove());
  const a = await server.createStream('restream source A');
  const b = await server.createStream('restream target B');
  eq((await server.putProducts(a.id, [
    { id: 'melon', title: 'Melon', price: 2990, currency: 'CNY', stock: 5 },
  ], a.host_token)).status, 200, 'PUT products');

  const remote = relay(rtmpPort(server));
  await remote.open();
  t.defer(() => remote.cut());
  const target = `rtmp://127.0.0.1:${remote.port}/live/${b.stream_key}`;
  const put = await server.http('PUT', `/api/streams/${a.id}/restream`, { body: { url: target }, token: a.host_token });
  eq(put.status, 200, 'PUT restream: ' + put.text);
  eq(put.json.restream.state, 'idle', 'offline: waits for the publisher');
  assert(!put.text.includes(b.stream_key), 'the stream key is masked: ' + put.text);
  eq(put.json.restream.url, `rtmp://127.0.0.1:${remote.port}/live/****`, 'masked url');

  const host = await Client.connect(server, { stream: a.id, token: a.host_token });
  t.defer(() => host.close());
  await host.waitFor((m) => m.type === 'welcome');

  const publishedAt = Date.now();
  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${a.stream_key}`,
                      { width: W, height: H, seconds: 90, color: '0x2040a0' });
  t.defer(() => pub.kill());
  await waitPlaylist(server, `/hls/${a.id}/burned/index.m3u8`, (p) => p.segments.length >= 1, 30000, 'A burned-in playlist');

  let status = null;
  await waitUntil(async () => {
    status = (await server.http('GET', `/api/streams/${a.id}/restream`, { token: a.host_token })).json?.restream;
    return status?.state === 'live';
  }, 30000, 'restream live');
  const liveAt = Date.now();
  await waitUntil(async () => (await server.http('GET', `/api/streams/${b.id}`)).json?.state === 'live', 30000, 'B live');
  console.log(`publish A -> restream live ${liveAt - publishedAt} ms; B live ${Date.now() - publishedAt} ms`);

  const sent = await host.request({ type: 'card.show', product_id: 'melon', slot: 'bottom' });
  eq(sent.type, 'card.shown', 'card.show answer');
  await host.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.change_id === sent.change_id, 20000);
  const shownAt = Date.now();

  // B's segments made after the card was shown on A (restream + B's ingest add some delay).
  const bPath = `/hls/${b.id}/index.m3u8`;
  const first = (await waitPlaylist(server, bPath, (p) => p.segments.length >= 1, 30000, 'B playlist'));
  const before = made(first);
  const pl = await waitPlaylist(server, bPath, (p) => made(p) >= before + 4 &&
    p.segments.some((s) => s.pdt !== null && s.pdt > shownAt + 2000), 40000, 'B segments after the card');

  // Inside the card (see burned_in.mjs) and a reference rectangle at the top (never covered).
  const ch = Math.floor((300 / 1080) * W / 2) * 2;
  const cw = 2 * ch;
  const cx = (W - cw) / 2;
  const cy = H - Math.round(0.05 * H) - ch;
  const card = { x: cx + 8, y: cy + 8, w: cw - 16, h: ch - 16 };
  const top = { x: cx + 8, y: 20, w: cw - 16, h: ch - 16 };
  const last = pl.segments[pl.segments.length - 1];
  const file = join(tmp.path, last.uri.replace(/[^A-Za-z0-9._-]/g, '_'));
  await download(server, `/hls/${b.id}/${last.uri}`, file);
  const size = videoSize(file);
  eq(`${size.width}x${size.height}`, `${W}x${H}`, 'B has the burned-in size and orientation');
  const codecs = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'csv=p=0', file])
    .toString().trim().split('\n').map((l) => l.trim()).sort();
  assert(codecs.includes('h264,video') && codecs.includes('aac,audio'), 'B segment is H.264 + AAC: ' + codecs.join(' '));
  const inCard = regionLuma(file, card);
  const atTop = regionLuma(file, top);
  assert(inCard.length > 0 && inCard.length === atTop.length, `decoded frames: ${inCard.length}/${atTop.length}`);
  for (let i = 0; i < inCard.length; i++)
    assert(Math.abs(inCard[i].y - atTop[i].y) > 40, `the card is burned into B's frame ${i} (card Y ${inCard[i].y}, top Y ${atTop[i].y})`);
  console.log(`B segment ${last.uri}: ${inCard.length} frames with the card (Y ${inCard[0].y.toFixed(0)} vs ${atTop[0].y.toFixed(0)})`);

  status = (await server.http('GET', `/api/streams/${a.id}/restream`, { token: a.host_token })).json.restream;
  eq(status.state, 'live', 'still live');
  assert(status.bytes_sent > 0 && status.frames_sent > 0 && status.attempts === 1, 'stats: ' + JSON.stringify(status));

  // The remote goes away: the restream retries (A keeps going), and is live again when the
  // remote comes back; B resumes its live session.
  const made0 = made(await waitPlaylist(server, `/hls/${a.id}/burned/index.m3u8`, () => true, 5000, 'A burned'));
  await remote.cut();
  const path = `/api/streams/${a.id}/restream`;
  await waitUntil(async () => {
    status = (await server.http('GET', path, { token: a.host_token })).json.restream;
    return status.state === 'retrying' && status.attempts >= 2;
  }, 30000, 'restream retrying after the remote went away');
  assert(typeof status.last_error === 'string', 'last_error: ' + JSON.stringify(status));
  await remote.open();
  const reopenedAt = Date.now();
  await waitUntil(async () => {
    status = (await server.http('GET', path, { token: a.host_token })).json.restream;
    return status.state === 'live';
  }, 30000, 'restream live again');
  console.log(`remote back -> restream live again ${Date.now() - reopenedAt} ms (attempts ${status.attempts})`);
  const bBack = made(await waitPlaylist(server, bPath, () => true, 5000, 'B'));
  await waitPlaylist(server, bPath, (p) => made(p) >= bBack + 2, 30000, 'B segments after the remote came back');
  await waitPlaylist(server, `/hls/${a.id}/burned/index.m3u8`, (p) => made(p) >= made0 + 3, 30000, 'A burned-in kept going');
  eq((await server.http('GET', `/api/streams/${a.id}`)).json.state, 'live', 'A stayed live');
  assert(!/pipeline_error/.test(server.log), 'no pipeline error');
});
