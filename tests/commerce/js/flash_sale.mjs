// 500 concurrent buyers, a flash sale of 100 units, some buyers retrying with the same
// idempotency key: exactly 100 confirmed orders, stock 0, no duplicate, per-buyer limits held,
// and the confirmed orders are exactly the store's rows (orders API).
import { Server, Client, run, assert, eq, waitUntil } from './lib.mjs';

const BUYERS = 500;
const UNITS = 100;
const LIMIT = 2;

run('flash_sale_500_buyers', async (t) => {
  const server = await Server.start();
  t.defer(() => server.stop());
  const stream = await server.createStream('flash sale');
  const put = await server.putProducts(stream.id, [
    { id: 'pear', title: '隰县玉露香梨', price: 3990, currency: 'CNY', stock: UNITS, image: '/samples/images/pear-yulu.png' },
  ], stream.host_token);
  eq(put.status, 200, 'PUT products');

  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  eq((await host.waitFor((m) => m.type === 'welcome')).role, 'host', 'host role');

  const buyers = await Promise.all(Array.from({ length: BUYERS }, () => Client.connect(server, { stream: stream.id })));
  t.defer(() => buyers.forEach((b) => b.close()));
  // Every buyer gets its own identity from the server.
  const buyerIds = new Set((await Promise.all(buyers.map((b) => b.waitFor((m) => m.type === 'welcome')))).map((w) => w.viewer_id));
  eq(buyerIds.size, BUYERS, 'one buyer id each');

  const started = await host.request({ type: 'sale.start', product_id: 'pear', price: 1990, quantity: UNITS,
                                       per_buyer_limit: LIMIT, duration_s: 600 });
  eq(started.type, 'sale.started', 'sale.start answer');
  await Promise.all(buyers.map((b) => b.waitFor((m) => m.type === 'sale.started')));

  // Every buyer asks three times (qty 1, distinct keys); every fifth repeats each key twice at once.
  const requests = [];  // {buyer, id, key}
  buyers.forEach((b, i) => {
    for (let k = 0; k < 3; k++) {
      const key = `k-${i}-${k}`;
      const copies = i % 5 === 0 ? 3 : 1;
      for (let c = 0; c < copies; c++) {
        const id = `b${i}-${k}-${c}`;
        b.send({ type: 'buy', id, product_id: 'pear', qty: 1, idempotency_key: key, media_time: 12.5 });
        requests.push({ b, i, id, key });
      }
    }
  });
  const answers = await Promise.all(requests.map((r) => r.b.waitFor((m) => m.re === r.id, 30000)));

  const confirmedIds = new Set();
  const unitsByBuyer = new Map();
  const orderByKey = new Map();
  answers.forEach((a, n) => {
    const r = requests[n];
    assert(a.type === 'order.confirmed' || a.type === 'order.rejected', 'answer type ' + a.type);
    if (a.type === 'order.rejected') {
      assert(['sold_out', 'limit_reached', 'sale_ended'].includes(a.reason), 'rejection reason ' + a.reason);
      return;
    }
    const k = `buyer-${String(r.i).padStart(4, '0')}/${r.key}`;
    if (orderByKey.has(k)) eq(a.order_id, orderByKey.get(k), 'repeated key answers with the first order');
    orderByKey.set(k, a.order_id);
    if (!confirmedIds.has(a.order_id)) {
      confirmedIds.add(a.order_id);
      unitsByBuyer.set(r.i, (unitsByBuyer.get(r.i) ?? 0) + a.qty);
      eq(a.total, 1990 * a.qty, 'sale price');
    }
  });
  eq(confirmedIds.size, UNITS, 'confirmed orders');
  for (const [i, units] of unitsByBuyer) assert(units <= LIMIT, `buyer ${i} got ${units} > ${LIMIT}`);

  // Sold out: the sale ended and the stock reached 0 for everyone.
  const ended = await buyers[7].waitFor((m) => m.type === 'sale.ended');
  eq(ended.reason, 'sold_out', 'sale end reason');
  await buyers[7].waitFor((m) => m.type === 'stock' && m.left === 0);
  const products = await server.http('GET', `/api/streams/${stream.id}/products`);
  eq(products.json.products[0].stock, 0, 'stock after the sale');

  // The store has exactly the confirmed orders, no duplicate (viewer, key).
  const orders = await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token });
  eq(orders.status, 200, 'orders API');
  eq(orders.json.orders.length, UNITS, 'stored orders');
  const stored = new Set(orders.json.orders.map((o) => o.order_id));
  for (const id of confirmedIds) assert(stored.has(id), `confirmed order ${id} is stored`);
  eq(new Set(orders.json.orders.map((o) => `${o.viewer_id}/${o.idempotency_key}`)).size, UNITS, 'unique keys');
  for (const o of orders.json.orders) {
    eq(o.stream, stream.id, 'order stream');
    eq(o.media_time, 12.5, 'order media_time');
    assert(o.server_time > 0, 'order server_time');
    eq(o.sale_id, started.sale_id, 'order sale id');
  }
  // The host got one `order` event per durable order (and viewers none): the same ids, no duplicate.
  await host.waitFor(() => host.messages.filter((m) => m.type === 'order').length >= UNITS, 10000);
  const pushed = host.messages.filter((m) => m.type === 'order');
  eq(pushed.length, UNITS, 'order events to the host');
  eq(new Set(pushed.map((o) => o.order_id)).size, UNITS, 'no order pushed twice');
  for (const o of pushed) {
    assert(confirmedIds.has(o.order_id), `pushed order ${o.order_id} was confirmed`);
    eq(o.total, 1990, 'pushed order total');
    assert(/^买家 /.test(o.buyer) && buyerIds.has(o.viewer_id), 'pushed order buyer');
  }
  assert(buyers.every((b) => !b.messages.some((m) => m.type === 'order')), 'viewers never get order events');
  const csv = await server.http('GET', `/api/streams/${stream.id}/orders?format=csv`, { token: stream.host_token });
  eq(csv.text.trim().split('\r\n').length, UNITS + 1, 'CSV rows');
  const viewerOrders = await server.http('GET', `/api/streams/${stream.id}/orders`);
  eq(viewerOrders.status, 401, 'orders need the host token');
  const report = await server.http('GET', `/api/streams/${stream.id}/report`, { token: stream.host_token });
  eq(report.json.gmv, 1990 * UNITS, 'report GMV');
  eq(await server.metric('harvest_orders_confirmed_total'), UNITS, 'metric confirmed orders');
});
