// Issue 6, "Recording": every live session is kept as a replay (HLS VOD) with its card
// timeline as chapters; buying from a replay is attributed to it.
// A publisher streams with a card shown and hidden, drops, comes back within the grace period
// (one live session, one DISCONTINUITY) and stops; the replay then has every segment of the
// session (more than the small live window keeps), decodable, ≈ the published duration, the
// card's DATERANGE and its chapter. A replay viewer's buy is attributed to the replay. After a
// restart the replay is still listed, and a session cut by a crash is closed with ENDLIST.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import { join } from 'node:path';
import { Server, Client, run, assert, eq, waitUntil, ADMIN } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, waitPlaylist, fetchPlaylist, download, tempDir } from './medialib.mjs';

const execFileP = promisify(execFile);
const WINDOW = 3;        // --hls-window: the live playlist keeps 3 (+4 lingering) segments
const FIRST_S = 9;       // first publisher
const SECOND_S = 4;      // the reconnect
const ARGS = ['--hls-window', String(WINDOW)];

// Replay position (s) of a program date time: segment durations end to end (as players do).
function positionOf(segments, pdt) {
  let at = 0;
  for (const s of segments) {
    if (pdt < s.pdt) return at;
    if (pdt < s.pdt + s.duration * 1000) return at + (pdt - s.pdt) / 1000;
    at += s.duration;
  }
  return at;
}

function rawStatus(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', reject);
    req.end();
  });
}

async function replays(server, id) {
  const r = await server.http('GET', `/api/streams/${id}/replays`);
  eq(r.status, 200, 'GET replays');
  return r.json.replays;
}

run('replay_recording', async (t) => {
  const tmp = tempDir();
  t.defer(() => tmp.remove());
  const dataDir = join(tmp.path, 'data');
  let server = await Server.start({ dataDir, args: ARGS });
  t.defer(() => server.stop());
  const stream = await server.createStream('replay farm');
  eq((await server.putProducts(stream.id, [
    { id: 'pear', title: 'Pear', price: 3990, currency: 'CNY', stock: 50, image: '/samples/images/pear-yulu.png' },
  ], stream.host_token)).status, 200, 'PUT products');
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  await host.waitFor((m) => m.type === 'welcome');
  eq((await replays(server, stream.id)).length, 0, 'no replay before the first publish');

  // --- the live session: publisher 1 with a card shown and hidden ---
  const url = `rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`;
  const pub1 = publish(url, { seconds: FIRST_S });
  t.defer(() => pub1.kill());
  const live = `/hls/${stream.id}/index.m3u8`;
  await waitPlaylist(server, live, (p) => p.segments.length >= 2, 30000, 'live segments');
  const [rec] = await replays(server, stream.id);
  assert(rec && rec.live === true && rec.ended_at === null, 'a live replay is listed while recording: ' + JSON.stringify(rec));
  const session = rec.session;
  const base = `/hls/${stream.id}/replay/${session}/`;
  const event = await fetchPlaylist(server, base + 'index.m3u8');
  assert(event && event.text.includes('#EXT-X-PLAYLIST-TYPE:EVENT') && !event.ended, 'EVENT playlist while live');

  const show = await host.request({ type: 'card.show', product_id: 'pear' });
  const shown = await host.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.change_id === show.change_id, 15000);
  await waitPlaylist(server, live, (p) => p.segments.some((s) => s.pdt > Date.parse(shown.program_date_time) + 1500), 15000, 'card on video');
  const hide = await host.request({ type: 'card.hide', product_id: 'pear' });
  const hidden = await host.waitFor((m) => m.type === 'card.hidden' && m.amended === true && m.change_id === hide.change_id, 15000);
  const r1 = await pub1.exited;
  eq(r1.code, 0, 'publisher 1 ran to the end: ' + r1.err);

  // --- reconnect within the grace period: the same live session ---
  const pub2 = publish(url, { seconds: SECOND_S, color: 'green' });
  t.defer(() => pub2.kill());
  const r2 = await pub2.exited;
  eq(r2.code, 0, 'publisher 2 ran to the end: ' + r2.err);

  // --- the session ends (grace period): VOD + ENDLIST ---
  const vod = await waitPlaylist(server, base + 'index.m3u8', (p) => p.ended, 40000, 'replay ENDLIST');
  assert(vod.text.includes('#EXT-X-PLAYLIST-TYPE:VOD'), 'VOD playlist after the session');
  eq(vod.text.split('\n').filter((l) => l === '#EXT-X-DISCONTINUITY').length, 1, 'one DISCONTINUITY (the reconnect)');
  const list = await replays(server, stream.id);
  eq(list.length, 1, 'one replay for one live session (reconnect included)');
  const info = list[0];
  eq(info.session, session, 'same session');
  eq(info.live, false, 'ended');
  eq(info.segments, vod.segments.length, 'segment count');
  eq(info.discontinuities, 1, 'discontinuities');
  eq(info.playlist_url, base + 'index.m3u8', 'playlist url');
  eq(info.chapters_url, base + 'chapters.json', 'chapters url');
  assert(info.ended_at > info.started_at, 'ended_at after started_at');
  assert(vod.segments.length > WINDOW + 4, `more segments (${vod.segments.length}) than the live window keeps (${WINDOW}+4)`);
  const total = vod.segments.reduce((a, s) => a + s.duration, 0);
  assert(Math.abs(total - (FIRST_S + SECOND_S)) <= 2.5, `replay lasts ≈ the published ${FIRST_S + SECOND_S} s: ${total}`);
  assert(Math.abs(info.duration_s - total) < 0.01, 'duration_s is the sum of the segments');
  // The first segment left the live window long ago; the replay still serves it.
  eq((await server.http('GET', `/hls/${stream.id}/${vod.segments[0].uri}`)).status, 404, 'live copy deleted');
  // All downloads first, then the decoders (async, so the HTTP client keeps its sockets serviced).
  const files = [];
  for (const [i, seg] of vod.segments.entries()) {
    files.push(join(tmp.path, `seg${i}.ts`));
    await download(server, base + seg.uri, files[i]);
  }
  for (const [i, file] of files.entries()) {
    const uri = vod.segments[i].uri;
    const { stderr } = await execFileP('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
    eq(stderr, '', `segment ${uri} decodes`);
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name',
                                                   '-of', 'csv=p=0', file]);
    const codec = stdout.split(/\s+/).filter(Boolean);
    assert(codec.length > 0 && codec.every((c) => c === 'h264'), `segment ${uri} has H.264 video: ${codec}`);
  }
  const segRes = await server.http('GET', base + vod.segments[0].uri);
  eq(segRes.headers.get('content-type'), 'video/mp2t', 'segment content type');
  const plRes = await server.http('GET', base + 'index.m3u8');
  eq(plRes.headers.get('content-type'), 'application/vnd.apple.mpegurl', 'playlist content type');

  // The card's DATERANGE, closed at the hide.
  const dr = vod.dateRanges.find((d) => d.ID === `card-${show.change_id}`);
  assert(dr, 'card DATERANGE in the replay:\n' + vod.text);
  eq(dr['X-PRODUCT-ID'], 'pear', 'DATERANGE product');
  eq(Date.parse(dr['START-DATE']), Date.parse(shown.program_date_time), 'DATERANGE START-DATE');
  eq(Date.parse(dr['END-DATE']), Date.parse(hidden.program_date_time), 'DATERANGE END-DATE');

  // Chapters: the card at its place on the replay's timeline.
  const ch = await server.http('GET', base + 'chapters.json');
  eq(ch.status, 200, 'chapters.json');
  eq(ch.json.chapters.length, 1, 'one chapter: ' + ch.text);
  const chapter = ch.json.chapters[0];
  eq(chapter.product_id, 'pear', 'chapter product');
  eq(chapter.title, 'Pear', 'chapter title');
  eq(chapter.program_date_time, shown.program_date_time, 'chapter PDT');
  eq(chapter.pts, shown.pts, 'chapter pts');
  const expStart = positionOf(vod.segments, Date.parse(shown.program_date_time));
  const expEnd = positionOf(vod.segments, Date.parse(hidden.program_date_time));
  assert(Math.abs(chapter.start - expStart) < 0.01, `chapter start ${chapter.start} vs ${expStart}`);
  assert(Math.abs(chapter.end - expEnd) < 0.01, `chapter end ${chapter.end} vs ${expEnd}`);
  assert(chapter.start > 0 && chapter.end > chapter.start, 'chapter inside the replay');

  // Unknown things are 404; no way out of the replay directory.
  for (const p of [`/hls/${stream.id}/replay/1/index.m3u8`, `/hls/${stream.id}/replay/1/chapters.json`,
                   '/api/streams/nope/replays'])
    eq((await server.http('GET', p)).status, 404, 'GET ' + p);
  // fetch() would normalise "..": send the raw paths.
  for (const p of [`/hls/${stream.id}/replay/${session}/../../../token-secret`, `/hls/${stream.id}/replay/${session}/../../../../../token-secret`,
                   `/hls/${stream.id}/replay/${session}/..%2f..%2f..%2ftoken-secret`])
    eq(await rawStatus(server.port, p), 404, 'raw GET ' + p);

  // --- a buy from a replay viewer is attributed to the replay ---
  const viewer = await Client.connect(server, { stream: stream.id, replay: session });
  t.defer(() => viewer.close());
  await viewer.waitFor((m) => m.type === 'welcome');
  const mediaTime = Math.round((chapter.pts + 0.3) * 1000) / 1000;
  const ans = await viewer.request({ type: 'buy', product_id: 'pear', qty: 2, idempotency_key: 'replay-buy-1', media_time: mediaTime });
  eq(ans.type, 'order.confirmed', 'replay buy confirmed: ' + JSON.stringify(ans));
  const orders = await server.http('GET', `/api/streams/${stream.id}/orders`, { token: ADMIN });
  const order = orders.json.orders.find((o) => o.order_id === ans.order_id || o.id === ans.order_id);
  assert(order, 'order listed: ' + orders.text);
  eq(order.replay_session, session, 'order replay_session');
  eq(order.media_card_product_id, 'pear', 'order attributed to the card of the replay');
  const report = await server.http('GET', `/api/streams/${stream.id}/report`, { token: ADMIN });
  eq(report.json.replay.orders, 1, 'report: one replay order');
  eq(report.json.live.orders, 0, 'report: no live order');
  const byReplay = report.json.by_replay_session.find((r) => r.replay_session === session);
  assert(byReplay && byReplay.units === 2, 'report by replay session: ' + JSON.stringify(report.json.by_replay_session));
  viewer.close();
  host.close();

  // --- restart: still listed, still served, chapters still there ---
  await server.stop();
  server = await Server.start({ dataDir, args: ARGS });
  const after = await replays(server, stream.id);
  eq(after.length, 1, 'replay listed after restart');
  eq(after[0].session, session, 'same session after restart');
  eq(after[0].segments, info.segments, 'same segments after restart');
  eq((await server.http('GET', base + vod.segments[0].uri)).status, 200, 'segment served after restart');
  const ch2 = await server.http('GET', base + 'chapters.json');
  eq(ch2.json.chapters.length, 1, 'chapters after restart');

  // --- a session cut by a crash is closed with ENDLIST at startup ---
  const pub3 = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`, { seconds: 30 });
  t.defer(() => pub3.kill());
  await waitUntil(async () => {
    const l = await replays(server, stream.id);
    return l.length === 2 && l[0].live && l[0].segments >= 2;
  }, 30000, 'a second replay recording');
  const crashed = (await replays(server, stream.id))[0].session;
  await server.killHard();
  await pub3.kill();
  server = await Server.start({ dataDir, args: ARGS });
  const afterCrash = await replays(server, stream.id);
  eq(afterCrash.length, 2, 'both replays after the crash');
  eq(afterCrash[0].session, crashed, 'newest first');
  eq(afterCrash[0].live, false, 'the cut session is closed');
  const closed = await fetchPlaylist(server, `/hls/${stream.id}/replay/${crashed}/index.m3u8`);
  assert(closed.ended && closed.text.includes('#EXT-X-PLAYLIST-TYPE:VOD'), 'ENDLIST after the crash:\n' + closed.text);

  // --- delete: host or admin only ---
  eq((await server.http('DELETE', `/api/streams/${stream.id}/replays/${crashed}`)).status, 401, 'DELETE without a token');
  eq((await server.http('DELETE', `/api/streams/${stream.id}/replays/${crashed}`, { token: stream.host_token })).status, 200, 'DELETE as host');
  eq((await replays(server, stream.id)).length, 1, 'one replay left');
  eq((await server.http('GET', `/hls/${stream.id}/replay/${crashed}/index.m3u8`)).status, 404, 'deleted replay is gone');
});
