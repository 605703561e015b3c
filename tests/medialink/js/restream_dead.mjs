// Issue 6: a restream whose remote is dead (a free port nobody listens on) retries with backoff
// while A's passthrough and burned-in HLS keep growing; DELETE stops it; bad URLs get 400, callers
// without the stream's host token 401; the target survives a restart.
import { createServer } from 'node:net';
import { Server, run, assert, eq, waitUntil } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, waitPlaylist, tempDir } from './medialib.mjs';

// Segments ever listed (the playlist is a sliding window): media sequence + segments listed.
const made = (p) => Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(p.text)?.[1] ?? 0) + p.segments.length;

async function deadPort() {
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = srv.address().port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

run('restream_dead_remote', async (t) => {
  const data = tempDir();
  t.defer(() => data.remove());
  let server = await Server.start({ dataDir: data.path });
  t.defer(() => server.stop());
  t.defer(() => { if (process.env.ML_DEBUG) console.log(server.log.split('\n').filter((l) => /restream|pipeline|publish|error|warn/.test(l)).join('\n')); });
  const a = await server.createStream('restream dead');
  const other = await server.createStream('someone else');
  const path = `/api/streams/${a.id}/restream`;
  const dead = `rtmp://127.0.0.1:${await deadPort()}/live/secret-key-123`;

  // Who may, and what is refused.
  eq((await server.http('PUT', path, { body: { url: dead } })).status, 401, 'no token');
  eq((await server.http('PUT', path, { body: { url: dead }, token: other.host_token })).status, 401, 'another stream\'s host');
  eq((await server.http('GET', path)).status, 401, 'GET without token');
  eq((await server.http('PUT', '/api/streams/nope/restream', { body: { url: dead }, token: a.host_token })).status, 404, 'no stream');
  for (const url of ['http://x/live/k', 'rtmp://host/live/k ey', 'rtmp://host/k', 'rtmp:///live/k', 'rtmp://h:99999/a/k',
                     'rtmp://h/live/k\n', 'rtmp://h/a/' + 'k'.repeat(1100), 42]) {
    const r = await server.http('PUT', path, { body: { url }, token: a.host_token });
    eq(r.status, 400, `bad url ${JSON.stringify(url).slice(0, 40)}`);
    eq(r.json?.error, 'invalid', 'error code');
    assert(typeof r.json?.message === 'string' && r.json.message.includes('url'), 'a clear message: ' + r.text);
  }
  eq((await server.http('PUT', path, { body: 'not json', token: a.host_token })).status, 400, 'not an object');

  const put = await server.http('PUT', path, { body: { url: dead }, token: a.host_token });
  eq(put.status, 200, 'PUT: ' + put.text);
  assert(!put.text.includes('secret-key-123'), 'masked');

  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${a.stream_key}`, { seconds: 60 });
  t.defer(() => pub.kill());
  const count = async (p) => made(await waitPlaylist(server, p, (pl) => pl.segments.length >= 1, 30000, p));
  await count(`/hls/${a.id}/burned/index.m3u8`);

  let st = null;
  const status = async () => (await server.http('GET', path, { token: a.host_token })).json.restream;
  await waitUntil(async () => { st = await status(); return st.attempts >= 3 && st.state === 'retrying'; }, 30000, 'three failed attempts');
  assert(typeof st.last_error === 'string' && st.last_error.length > 0, 'last_error: ' + JSON.stringify(st));
  assert(st.retry_in_ms > 0 && st.retry_in_ms <= 4000, 'backoff 1 s, 2 s, 4 s: ' + JSON.stringify(st));
  const pass0 = await count(`/hls/${a.id}/index.m3u8`);
  const burned0 = await count(`/hls/${a.id}/burned/index.m3u8`);
  await waitUntil(async () => { st = await status(); return st.attempts >= 4; }, 15000, 'a fourth attempt');
  await waitPlaylist(server, `/hls/${a.id}/index.m3u8`, (p) => made(p) >= pass0 + 3, 20000, 'passthrough grows');
  await waitPlaylist(server, `/hls/${a.id}/burned/index.m3u8`, (p) => made(p) >= burned0 + 3, 20000, 'burned-in grows');
  eq((await server.http('GET', `/api/streams/${a.id}`)).json.state, 'live', 'A stays live');
  assert(!/pipeline_error/.test(server.log), 'the ingest pipeline never failed');

  // DELETE stops it: no attempt after it while the stream keeps going.
  const del = await server.http('DELETE', path, { token: a.host_token });
  eq(del.status, 200, 'DELETE');
  eq(del.json.restream, null, 'no restream');
  const attemptsAt = (server.log.match(/event=restream_connecting/g) ?? []).length;
  const pass1 = await count(`/hls/${a.id}/index.m3u8`);
  await waitPlaylist(server, `/hls/${a.id}/index.m3u8`, (p) => made(p) >= pass1 + 6, 30000, 'passthrough after DELETE');
  eq((server.log.match(/event=restream_connecting/g) ?? []).length, attemptsAt, 'no attempt after DELETE');
  eq((await status()), null, 'GET after DELETE');

  // Configured while live: it starts at once (the taps of the session are reused).
  const again = await server.http('PUT', path, { body: { url: dead }, token: a.host_token });
  eq(again.status, 200, 'PUT again while live');
  assert(['connecting', 'retrying'].includes(again.json.restream.state), 'started at once: ' + again.text);
  await waitUntil(async () => { st = await status(); return st.attempts >= 2; }, 15000, 'attempts after the new PUT');
  await pub.kill();

  // The target is stored: after a restart it is there, waiting for the publisher.
  await server.stop();
  server = await Server.start({ dataDir: data.path });
  const after = (await server.http('GET', path, { token: a.host_token })).json?.restream;
  eq(after?.url, dead.replace('secret-key-123', '****'), 'stored across a restart');
  eq(after?.state, 'idle', 'idle until a publisher comes');
});
