// Issue 6 over real websockets: stream.health reaches hosts and never viewers; replay
// connections (?replay=SESSION) buy at the catalog price and their orders record the session;
// bad replay ids are refused like an unknown stream; card.show of an unknown product and bad
// media_time values are `invalid`; the report has the exposure, minute and live/replay parts.
import { Server, Client, run, assert, eq } from './lib.mjs';

run('health_replay', async (t) => {
  const server = await Server.start();
  t.defer(() => server.stop());
  const stream = await server.createStream('health and replay');
  eq((await server.putProducts(stream.id, [
    { id: 'pear', title: 'pear', price: 3990, currency: 'CNY', stock: 10, image: '' }])).status, 200, 'PUT');

  // A viewer first, then the host: the host gets stream.health at once and every few seconds.
  const v = await Client.connect(server, { stream: stream.id });
  t.defer(() => v.close());
  await v.waitFor((m) => m.type === 'welcome');
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  const first = await host.waitFor((m) => m.type === 'stream.health');
  eq(first.stream, stream.id, 'health names the stream');
  eq(first.status, 'offline', 'no publisher: offline');
  eq(first.live, false, 'live flag');
  assert('bitrate_bps' in first && 'fps' in first && 'rtt_ms' in first && 'loss_pct' in first, 'stat fields');
  const firstIndex = host.messages.indexOf(first);
  await host.waitFor((m) => m.type === 'stream.health', 15000, firstIndex + 1);  // a periodic one
  // The viewer was in the room the whole time: a ping answered after that proves nothing was queued.
  eq((await v.request({ type: 'ping' })).type, 'pong', 'viewer alive');
  assert(!v.messages.some((m) => m.type === 'stream.health'), 'viewers never get stream.health');

  // card.show of a product not in the catalog: invalid.
  const bad = await host.request({ type: 'card.show', product_id: 'durian' });
  eq(bad.type, 'error', 'unknown product card');
  eq(bad.code, 'invalid', 'unknown product card code');
  eq((await host.request({ type: 'card.show', product_id: 'pear' })).type, 'card.shown', 'known product card');

  // media_time negative / huge / not a number: invalid.
  for (const [what, raw] of [['negative', '-1'], ['huge', '1e300'], ['NaN-ish', '"NaN"']]) {
    v.send(`{"type":"buy","id":"mt-${what}","product_id":"pear","qty":1,"idempotency_key":"mt-${what}","media_time":${raw}}`);
    const a = await v.waitFor((m) => m.re === `mt-${what}`);
    eq(a.type, 'order.rejected', `media_time ${what}`);
    eq(a.reason, 'invalid', `media_time ${what} reason`);
  }

  // Bad replay ids: an error, then close 1008.
  for (const replay of ['UPPER', 'a_b', 'x'.repeat(65), '']) {
    const c = await Client.connect(server, { stream: stream.id, replay });
    const e = await c.waitFor((m) => m.type === 'error');
    eq(e.code, 'invalid', `replay '${replay}'`);
    eq((await c.waitClosed()).code, 1008, `replay '${replay}' closes 1008`);
  }

  // A replay viewer: welcome.replay is set; buys at the catalog price; the order records it.
  const r = await Client.connect(server, { stream: stream.id, replay: 'live-1' });
  t.defer(() => r.close());
  const welcome = await r.waitFor((m) => m.type === 'welcome');
  eq(welcome.replay, 'live-1', 'welcome.replay');
  eq(welcome.role, 'viewer', 'replay role');
  eq((await v.waitFor((m) => m.type === 'welcome')).replay, null, 'live welcome.replay is null');
  const bought = await r.request({ type: 'buy', product_id: 'pear', qty: 1, idempotency_key: 'replay-1', media_time: 12.5 });
  eq(bought.type, 'order.confirmed', 'replay buy');
  eq(bought.unit_price, 3990, 'catalog price');
  const live = await v.request({ type: 'buy', product_id: 'pear', qty: 2, idempotency_key: 'live-1', media_time: 3 });
  eq(live.type, 'order.confirmed', 'live buy');
  const orders = (await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token })).json.orders;
  eq(orders.find((o) => o.idempotency_key === 'replay-1').replay_session, 'live-1', 'order.replay_session');
  eq(orders.find((o) => o.idempotency_key === 'live-1').replay_session, null, 'live order: no replay_session');
  assert(!r.messages.some((m) => m.type === 'stream.health'), 'replay viewers never get stream.health');

  const report = (await server.http('GET', `/api/streams/${stream.id}/report`, { token: stream.host_token })).json;
  eq(report.orders, 2, 'report orders');
  eq(report.gmv, 3 * 3990, 'report gmv');
  eq(report.replay.orders, 1, 'report replay orders');
  eq(report.live.orders, 1, 'report live orders');
  eq(report.by_replay_session[0].replay_session, 'live-1', 'report by replay session');
  assert(Array.isArray(report.by_exposure), 'by_exposure');
  eq(report.by_minute.reduce((s, m) => s + m.gmv, 0), report.gmv, 'per-minute GMV adds up');
  eq(report.by_minute.reduce((s, m) => s + m.orders, 0), 2, 'per-minute orders add up');
  assert(report.by_minute.some((m) => m.peak_viewers >= 3), 'per-minute peak viewers');
  eq((await server.http('GET', `/api/streams/${stream.id}/report`)).status, 401, 'report needs the host token');
});
