// A farmer's whole show, self-served, against the real server: sign in, schedule a show, fill it
// from their catalog, publish with ffmpeg over real RTMP, sell to a viewer over a websocket,
// read the report; rotate the key (the publisher on the old key is cut off and refused) and
// end the show (no publishing after it).
import { Server, Client, ADMIN, run, assert, eq, waitUntil } from '../../commerce/js/lib.mjs';
import { publish, rtmpPort } from '../../medialink/js/medialib.mjs';
import { call, createFarmer, login } from './farmers.mjs';

run('farmer_show', async (t) => {
  const server = await Server.start();
  t.defer(() => server.stop());
  await createFarmer(server, 'wang', 'pear orchard 7', '隰县 王大姐');
  const cookie = await login(server, 'wang', 'pear orchard 7');

  const startsAt = Date.now() + 2 * 3600_000;
  const created = await call(server, 'POST', '/api/streams', { cookie, body: { title: '梨园直播', scheduled_at: startsAt } });
  eq(created.status, 201, 'create a show');
  const show = created.json;
  const other = await call(server, 'POST', '/api/streams', { token: ADMIN, body: { title: 'admin show' } });
  eq(other.status, 201, 'the admin still creates shows');
  const home = (await call(server, 'GET', '/api/streams')).json.streams;
  eq(home[0].id, show.id, 'the upcoming show is listed before past ones');
  eq(home[0].scheduled_at, startsAt, 'with its start time');

  // The catalog: defined once, put in the show by reference with this show's stock.
  eq((await call(server, 'PUT', '/api/me/products', { cookie, body: { products: [
    { id: 'pear', title: '玉露香梨 5斤', price: 3990 }, { id: 'jam', title: '梨膏 2瓶', price: 5800 }] } })).status, 200, 'catalog');
  const put = await call(server, 'PUT', `/api/streams/${show.id}/products`, { cookie, body: { products: [{ id: 'pear', stock: 20 }] } });
  eq(put.status, 200, 'the show takes a catalog product by reference: ' + put.text);
  eq(put.json.products[0].title, '玉露香梨 5斤', 'title from the catalog');
  eq(put.json.products[0].price, 3990, 'price from the catalog');
  eq(put.json.products[0].stock, 20, 'stock of this show');
  // A product made in the show goes into the catalog for the next show.
  await call(server, 'PUT', `/api/streams/${show.id}/products`, { cookie, body: { products: [{ id: 'pear', stock: 20 },
    { id: 'honey', title: '槐花蜜', price: 4500, stock: 5 }] } });
  const catalog = (await call(server, 'GET', '/api/me/products', { cookie })).json.products.map((p) => p.id);
  eq(catalog.join(','), 'pear,jam,honey', 'the catalog keeps every product the farmer sells');

  // Go live with the key the farmer sees.
  const mine = (await call(server, 'GET', '/api/me/streams', { cookie })).json.streams.find((s) => s.id === show.id);
  const url = `rtmp://127.0.0.1:${rtmpPort(server)}/live/${mine.stream_key}`;
  const pub = publish(url, { seconds: 60 });
  t.defer(() => pub.kill());
  await waitUntil(async () => (await call(server, 'GET', `/api/streams/${show.id}`)).json.state === 'live', 30000, 'live');
  eq((await call(server, 'GET', '/api/streams')).json.streams[0].phase, 'live', 'a live show comes first');

  // A helper gets a host token; a viewer buys.
  const tok = await call(server, 'POST', `/api/streams/${show.id}/host_token`, { cookie });
  eq(tok.status, 200, 'a fresh host token');
  const host = await Client.connect(server, { stream: show.id, token: tok.json.host_token });
  t.defer(() => host.close());
  eq((await host.waitFor((m) => m.type === 'welcome')).role, 'host', 'the token makes a host');
  const viewer = await Client.connect(server, { stream: show.id });
  t.defer(() => viewer.close());
  await viewer.waitFor((m) => m.type === 'welcome');
  const ack = await viewer.request({ type: 'buy', product_id: 'pear', qty: 2, idempotency_key: 'k1' });
  eq(ack.type, 'order.confirmed', 'the buy is confirmed');
  const report = await call(server, 'GET', `/api/streams/${show.id}/report`, { cookie });
  eq(report.status, 200, 'the farmer reads the report');
  eq(report.json.gmv, 7980, 'GMV in fen');
  const orders = await call(server, 'GET', `/api/streams/${show.id}/orders`, { cookie });
  eq(orders.json.orders.length, 1, 'the farmer sees the order');

  // A new key: the old one stops working at once, including the publisher using it.
  const rotated = await call(server, 'POST', `/api/streams/${show.id}/key`, { cookie });
  eq(rotated.status, 200, 'rotate');
  assert(rotated.json.stream_key !== mine.stream_key, 'a different key');
  await Promise.race([pub.exited, new Promise((_, rej) => setTimeout(() => rej(new Error('publisher not cut off')), 20000))]);
  await waitUntil(async () => /event=publish_refused|reason=key|stream key was changed/.test(server.log), 5000, 'kick logged');
  const stale = publish(url, { seconds: 5 });
  const staleEnd = await stale.exited;
  assert(staleEnd.code !== 0, 'the old key is refused');
  assert(/bad_key/.test(server.log), 'refused as a bad key');

  // End the show: nobody may publish to it any more, even with the current key.
  const ended = await call(server, 'POST', `/api/streams/${show.id}/end`, { cookie });
  eq(ended.status, 200, 'end');
  eq(ended.json.phase, 'ended', 'the show is over');
  const late = publish(`rtmp://127.0.0.1:${rtmpPort(server)}/live/${rotated.json.stream_key}`, { seconds: 5 });
  const lateEnd = await late.exited;
  assert(lateEnd.code !== 0, 'publishing to an ended show is refused');
  assert(/reason=ended/.test(server.log), 'refused because it ended');
  eq((await call(server, 'PATCH', `/api/streams/${show.id}`, { cookie, body: { title: 'again' } })).status, 409, 'an ended show stays ended');
});
