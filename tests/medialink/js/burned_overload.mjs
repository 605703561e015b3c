// Issue 6, media side: an encoder that cannot keep up drops frames in a controlled way and
// reports it, and never stalls the passthrough. The burned-in branch is made too slow on purpose
// (HARVEST_BURNED_SPEED_PRESET, a test-only switch to a slow x264 preset); the drops show in
// GET /api/streams/{id} (ingest.burned), in the host's stream.health and in /metrics, while the
// passthrough playlist keeps up with the wall clock.
import { Server, Client, run, assert, eq, waitUntil } from '../../commerce/js/lib.mjs';
import { rtmpPort, publish, fetchPlaylist } from './medialib.mjs';

const mediaEnd = (pl) => {
  const last = pl?.segments[pl.segments.length - 1];
  return last && last.pdt !== null ? last.pdt + last.duration * 1000 : null;
};

run('burned_in_overload_drops_not_passthrough', async (t) => {
  const server = await Server.start({ env: { HARVEST_BURNED_SPEED_PRESET: process.env.ML_PRESET ?? 'placebo' } });
  t.defer(() => server.stop());
  const stream = await server.createStream('overload');
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  await host.waitFor((m) => m.type === 'welcome');
  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${stream.stream_key}`,
                      { width: 640, height: 1136, fps: 30, gop: 30, seconds: 60 });
  t.defer(() => pub.kill());

  const passthrough = `/hls/${stream.id}/index.m3u8`;
  let first = null;
  await waitUntil(async () => {
    const pl = await fetchPlaylist(server, passthrough);
    if (mediaEnd(pl) !== null) first = { wall: Date.now(), media: mediaEnd(pl) };
    return first !== null;
  }, 30000, 'passthrough playlist');

  // Until the branch has dropped frames and at least 8 s have passed.
  let burned = null;
  await waitUntil(async () => {
    const info = (await server.http('GET', `/api/streams/${stream.id}`, { token: stream.host_token })).json;
    burned = info?.ingest?.burned ?? null;
    return burned !== null && burned.dropped > 0 && Date.now() - first.wall >= 8000;
  }, 40000, 'burned-in drops reported');
  const pl = await fetchPlaylist(server, passthrough);
  const last = { wall: Date.now(), media: mediaEnd(pl) };
  const pace = (last.media - first.media) / (last.wall - first.wall);
  const lag = last.wall - last.media;
  console.log(`burned ${JSON.stringify(burned)}; passthrough: ${(last.media - first.media) / 1000} s of media in ` +
              `${(last.wall - first.wall) / 1000} s (pace ${pace.toFixed(2)}), newest segment ends ${lag} ms before now`);
  assert(burned.dropped > 0 && burned.drop_pct > 0 && burned.frames_in >= burned.encoded, `burned stats ${JSON.stringify(burned)}`);
  // Segments end at keyframes (1 s GOP), so the playlist advances in steps of about a second.
  assert(pace > 0.8, `the passthrough keeps real-time pace (${pace})`);
  assert(lag < 3500, `the passthrough is not behind the wall clock (${lag} ms)`);

  const health = await host.waitFor((m) => m.type === 'stream.health' && m.burned && m.burned.dropped > 0, 10000);
  eq(typeof health.burned.drop_pct, 'number', 'stream.health carries the drop percentage');
  const metrics = (await server.http('GET', '/metrics')).text;
  const m = new RegExp(`^harvest_burned_frames_dropped_total\\{stream="${stream.id}"\\} (\\d+)$`, 'm').exec(metrics);
  assert(m && Number(m[1]) > 0, `/metrics burned drops: ${m ? m[0] : 'missing'}`);
});
