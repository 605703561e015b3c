// The farmer's dashboard (GET /api/me/dashboard) against the real server: farmer A's show is
// published over RTMP, a product card is shown by a helper with a host token (a card
// exposure), viewers open the room over websockets and some buy; the dashboard and the show's
// report must give exactly the GMV, orders, buyers, unique viewers and conversion made.
// Farmer B sees none of it; nobody signed in gets 401.
import { Server, Client, ADMIN, run, assert, eq, waitUntil } from '../../commerce/js/lib.mjs';
import { publish, rtmpPort } from '../../medialink/js/medialib.mjs';
import { call, createFarmer, login } from './farmers.mjs';

run('dashboard', async (t) => {
  const server = await Server.start();
  t.defer(() => server.stop());
  await createFarmer(server, 'wang', 'pear orchard 7', '隰县 王大姐');
  await createFarmer(server, 'lishifu', 'crab pond 88', '阳澄湖 李师傅');
  const a = await login(server, 'wang', 'pear orchard 7');
  const b = await login(server, 'lishifu', 'crab pond 88');

  const show = (await call(server, 'POST', '/api/streams', { cookie: a, body: { title: '梨园直播' } })).json;
  const quiet = (await call(server, 'POST', '/api/streams', { cookie: a, body: { title: '下周预告', scheduled_at: Date.now() + 86400_000 } })).json;
  const bShow = (await call(server, 'POST', '/api/streams', { cookie: b, body: { title: '大闸蟹' } })).json;
  eq((await call(server, 'PUT', `/api/streams/${show.id}/products`, { cookie: a, body: { products: [
    { id: 'pear', title: '玉露香梨 5斤', price: 3990, stock: 50 }, { id: 'jam', title: '梨膏 2瓶', price: 5800, stock: 50 }] } })).status,
     200, 'products');

  // Live, and the pear card on screen: a card exposure the buys below fall in.
  const mine = (await call(server, 'GET', '/api/me/streams', { cookie: a })).json.streams.find((s) => s.id === show.id);
  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${mine.stream_key}`, { seconds: 90 });
  t.defer(() => pub.kill());
  await waitUntil(async () => (await call(server, 'GET', `/api/streams/${show.id}`)).json.state === 'live', 30000, 'live');
  const tok = await call(server, 'POST', `/api/streams/${show.id}/host_token`, { cookie: a });
  const host = await Client.connect(server, { stream: show.id, token: tok.json.host_token });
  t.defer(() => host.close());
  await host.waitFor((m) => m.type === 'welcome');
  host.send({ type: 'card.show', product_id: 'pear' });
  let exposure = null;
  await waitUntil(async () => {
    exposure = (await call(server, 'GET', `/api/streams/${show.id}/report`, { cookie: a })).json.by_exposure[0];
    return exposure !== undefined;
  }, 30000, 'the card exposure');
  // Its start is the burned frame's program date-time, which may run ahead of the server
  // clock by the encoder's buffer: the buys below must come after it to fall inside.
  await waitUntil(() => Date.now() > exposure.shown_pdt_ms + 200, 20000, 'the exposure to have begun');

  // Five buyer ids open the room (one of them in two tabs with its buyer token); three buy.
  const viewers = [];
  for (let i = 0; i < 5; i++) {
    const v = await Client.connect(server, { stream: show.id });
    t.defer(() => v.close());
    v.welcome = await v.waitFor((m) => m.type === 'welcome');
    viewers.push(v);
  }
  const secondTab = await Client.connect(server, { stream: show.id, buyer: viewers[0].welcome.buyer_token });
  t.defer(() => secondTab.close());
  eq((await secondTab.waitFor((m) => m.type === 'welcome')).viewer_id, viewers[0].welcome.viewer_id, 'the same buyer in a second tab');
  const buy = async (c, product, qty, key) => {
    const ack = await c.request({ type: 'buy', product_id: product, qty, idempotency_key: key });
    eq(ack.type, 'order.confirmed', `buy ${key}: ${JSON.stringify(ack)}`);
  };
  await buy(viewers[0], 'pear', 2, 'a1');
  await buy(secondTab, 'jam', 1, 'a2');
  await buy(viewers[1], 'pear', 1, 'b1');
  await buy(viewers[2], 'jam', 3, 'c1');
  const gmv = 2 * 3990 + 5800 + 3990 + 3 * 5800;

  const dash = await call(server, 'GET', '/api/me/dashboard', { cookie: a });
  eq(dash.status, 200, 'the farmer reads their dashboard: ' + dash.text);
  eq(dash.headers.get('cache-control'), 'no-store', 'not cached');
  const d = dash.json;
  eq(d.shows.map((s) => s.id).join(','), [show.id, quiet.id].join(','), 'their two shows, live first');
  const s = d.shows[0];
  eq(s.title, '梨园直播', 'title');
  eq(s.phase, 'live', 'phase');
  assert(Number.isInteger(s.live_since), 'live_since');
  eq(s.gmv, gmv, 'GMV in fen');
  eq(s.orders, 4, 'orders');
  eq(s.units, 7, 'units');
  eq(s.buyers, 3, 'buyers (the two tabs are one buyer)');
  eq(s.unique_viewers, 5, 'unique viewers (the host is not one; the second tab is the same buyer)');
  eq(s.conversion, 3 / 5, 'conversion');
  assert(s.peak_viewers >= 7, `peak viewers counts every connection: ${s.peak_viewers}`);
  eq(d.shows[1].conversion, null, 'no viewers, no conversion');
  eq(d.shows[1].scheduled_at !== null, true, 'the upcoming show keeps its date');
  const byId = Object.fromEntries(d.products.map((p) => [p.product_id, p]));
  eq(byId.jam.gmv, 4 * 5800, 'jam GMV');
  eq(byId.jam.buyers, 2, 'jam buyers');
  eq(byId.pear.title, '玉露香梨 5斤', 'pear title');
  eq(byId.pear.units, 3, 'pear units');
  eq(byId.pear.shows, 1, 'pear sold in one show');
  eq(d.totals.gmv, gmv, 'total GMV');
  eq(d.totals.orders, 4, 'total orders');
  eq(d.totals.conversion, 3 / 5, 'total conversion');

  // The show's report carries the same conversion, per product buyers, and the exposure sold.
  const report = (await call(server, 'GET', `/api/streams/${show.id}/report`, { cookie: a })).json;
  eq(report.buyers, 3, 'report buyers');
  eq(report.unique_viewers, 5, 'report unique viewers');
  eq(report.conversion, 3 / 5, 'report conversion');
  eq(report.by_product.find((p) => p.product_id === 'pear').buyers, 2, 'pear buyers in the report');
  const pearCard = report.by_exposure.find((e) => e.product_id === 'pear');
  eq(pearCard.by_server_time.orders, 4, 'the four live buys fell while the pear card was shown');

  // Farmer B: only their own show. The admin: all. Nobody: 401.
  const other = (await call(server, 'GET', '/api/me/dashboard', { cookie: b })).json;
  eq(other.shows.map((x) => x.id).join(','), bShow.id, 'farmer B sees only their show');
  eq(other.totals.gmv, 0, 'and none of A\'s money');
  assert(!JSON.stringify(other).includes('梨'), 'nothing of A\'s in B\'s dashboard');
  eq((await call(server, 'GET', `/api/streams/${show.id}/report`, { cookie: b })).status, 403, 'B may not read A\'s report');
  const admin = (await call(server, 'GET', '/api/me/dashboard', { token: ADMIN })).json;
  eq(admin.shows.length, 3, 'the admin sees every show');
  eq(admin.totals.gmv, gmv, 'the admin totals');
  const anon = await call(server, 'GET', '/api/me/dashboard');
  eq(anon.status, 401, 'anonymous');
  eq((await call(server, 'GET', '/api/me/dashboard', { cookie: 'hl_session=forged' })).status, 401, 'a forged session');

  // The page itself is served.
  const page = await fetch(server.url('/dashboard'));
  eq(page.status, 200, '/dashboard');
  assert((await page.text()).includes('/static/js/dashboard.js'), 'the dashboard page');
});
