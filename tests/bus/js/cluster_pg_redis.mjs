// Issue 19, the whole cluster: two real nodes on one real PostgreSQL and one real Redis, with a
// shared --hls-dir. What one node does, the other knows without a restart:
//  1. a stream created on A exists on B; a catalog put on A sells on B (B's shop cache reloads);
//  2. an order sold on B is known to A (the buyer's orders, a host's cancel, the report);
//  3. units given back on B (a cancel) are on sale again on A at once;
//  4. a flash sale started on A holds on B, its per-buyer limit included;
//  5. a stream published on B is live on A with B as its ingest node, A serves its HLS, and a
//     second publisher on A is refused; a card shown by A's host reaches B's viewers amended
//     with the pts of the frame B's burned-in rendition drew it in;
//  6. kill -9 B with a reservation open: A expires it when it is due.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, run, assert, eq, waitUntil } from '../../commerce/js/lib.mjs';
import { Postgres } from '../../support/postgres.mjs';
import { Redis } from '../../support/redis.mjs';
import { rtmpPort, publish, waitPlaylist } from '../../medialink/js/medialib.mjs';
import { waitLog, enter } from './nodes.mjs';

const WINDOW_S = 25;  // payment window: long enough for steps 1-5, short enough for step 6

async function buy(client, product_id, key) {
  return client.request({ type: 'buy', product_id, qty: 1, idempotency_key: key }, 20000);
}

run('cluster_pg_redis', async (t) => {
  const pg = await Postgres.start();
  t.defer(() => pg.stop());
  const redis = await Redis.start();
  t.defer(() => redis.stop());
  const hlsDir = mkdtempSync(join(tmpdir(), 'harvest-shared-hls-'));
  t.defer(() => rmSync(hlsDir, { recursive: true, force: true }));
  // Every node signs buyer and host tokens with the same secret (docs/deploy.md).
  const args = ['--store', pg.url, '--bus', redis.url, '--hls-dir', hlsDir, '--payment-window', `${WINDOW_S}s`,
                '--token-secret', 'cluster-test-secret-0123456789'];
  const a = await Server.start({ args });
  t.defer(() => a.stop());
  const b = await Server.start({ args });
  t.defer(() => b.stop());
  await waitLog(a, /event=bus_up/, 'node A on the bus');
  await waitLog(b, /event=bus_up/, 'node B on the bus');
  const nodeOf = (s) => /event=listening .* node=(\S+)/.exec(s.log)[1];

  // --- 1. a stream made on A exists on B; its catalog, put on A, sells on B ---
  const stream = await a.createStream('cluster');
  await waitUntil(async () => (await b.http('GET', `/api/streams/${stream.id}`)).status === 200, 10000,
                  'B knows the stream A created');
  // Both rooms open (so both shops are cached) before the catalog exists.
  const buyerB = await enter(t, b, { stream: stream.id }, 'viewer');
  const buyerA = await enter(t, a, { stream: stream.id }, 'viewer');
  const products = [
    { id: 'melon', title: 'Melon', price: 2990, currency: 'CNY', stock: 1 },
    { id: 'pear', title: 'Pear', price: 3990, currency: 'CNY', stock: 20 },
    { id: 'fig', title: 'Fig', price: 500, currency: 'CNY', stock: 3 },
  ];
  eq((await a.putProducts(stream.id, products, stream.host_token)).status, 200, 'PUT products on A');
  await buyerB.waitFor((m) => m.type === 'catalog', 10000);
  const melon = await buy(buyerB, 'melon', 'melon-b');
  eq(melon.type, 'order.confirmed', `B sells what A put in the catalog (${JSON.stringify(melon)})`);

  // --- 2. A knows B's order ---
  const welcomeB = buyerB.messages.find((m) => m.type === 'welcome');
  await waitUntil(async () => {
    const r = await a.http('GET', '/api/me/orders', { token: welcomeB.buyer_token });
    return r.status === 200 && r.json.orders.some((o) => Number(o.order_id) === Number(melon.order_id));
  }, 10000, "A lists the buyer's order made on B");
  const report = await a.http('GET', `/api/streams/${stream.id}/report`, { token: stream.host_token });
  eq(report.status, 200, 'report on A');
  assert(JSON.stringify(report.json).includes('melon'), `A's report counts B's melon order: ${report.text.slice(0, 400)}`);

  // --- 3. units given back on B are on sale on A ---
  const soldOut = await buy(buyerA, 'melon', 'melon-a-1');
  eq(soldOut.type, 'order.rejected', 'the last melon went on B');
  eq(soldOut.reason, 'sold_out', 'sold out on A');
  const cancel = await b.http('POST', `/api/orders/${melon.order_id}/cancel`, { body: { reason: 'test' }, token: stream.host_token });
  eq(cancel.status, 200, `cancel on B: ${cancel.text}`);
  await waitUntil(async () => {
    const r = await a.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token });
    return r.status === 200 && r.json.orders.some((o) => Number(o.order_id) === Number(melon.order_id) && o.status === 'cancelled');
  }, 10000, 'A sees the cancel made on B');
  const again = await buy(buyerA, 'melon', 'melon-a-2');
  eq(again.type, 'order.confirmed', `the melon given back on B sells on A (${JSON.stringify(again)})`);
  // And a host on A may act on an order B sold.
  const pearB = await buy(buyerB, 'pear', 'pear-b-0');
  eq(pearB.type, 'order.confirmed', 'a pear on B');
  const checkout = await b.http('POST', `/api/orders/${pearB.order_id}/checkout`, {
    token: welcomeB.buyer_token,
    body: { name: '张三', phone: '13800138000', address: '山西省临汾市隰县城关镇 1 号', payment: 'offline' } });
  eq(checkout.status, 200, `checkout on B: ${checkout.text}`);
  let paid;
  await waitUntil(async () => {
    paid = await a.http('POST', `/api/orders/${pearB.order_id}/paid`, { token: stream.host_token });
    return paid.status === 200;
  }, 10000, "A's host marks paid an order B checked out");
  eq(paid.json.status, 'paid', 'paid on A');
  const updated = await buyerB.waitFor((m) => m.type === 'order.updated' && Number(m.order_id) === Number(pearB.order_id) && m.status === 'paid', 10000);
  eq(updated.status, 'paid', "the buyer on B hears of A's change");

  // --- 4. a sale started on A holds on B, per-buyer limit included ---
  const hostA = await enter(t, a, { stream: stream.id, token: stream.host_token }, 'host');
  const started = await hostA.request({ type: 'sale.start', product_id: 'pear', price: 1990, quantity: 5, per_buyer_limit: 1, duration_s: 600 });
  eq(started.type, 'sale.started', `sale on A: ${JSON.stringify(started)}`);
  await buyerB.waitFor((m) => m.type === 'sale.started', 10000);
  const inSale = await buy(buyerB, 'pear', 'pear-b-1');
  eq(inSale.type, 'order.confirmed', 'a sale buy on B');
  eq(inSale.unit_price, 1990, 'at the sale price');
  const overLimit = await buy(buyerB, 'pear', 'pear-b-2');
  eq(overLimit.type, 'order.rejected', 'a second unit in the sale on B');
  eq(overLimit.reason, 'limit_reached', 'the per-buyer limit of a sale started on A');
  eq(pg.sql(`SELECT count(*) FROM orders WHERE stream_id = '${stream.id}' AND sale_id <> ''`)[0][0], '1',
     'one sale order in PostgreSQL');

  // --- 5. ingest on B: live on A, HLS served by A, a second publisher on A refused ---
  const pub = publish(`rtmp://127.0.0.1:${rtmpPort(b)}/live/${stream.stream_key}`, { seconds: 40 });
  t.defer(() => pub.kill());
  await waitUntil(async () => {
    const r = await a.http('GET', `/api/streams/${stream.id}`);
    return r.json?.state === 'live' && r.json.ingest_node === nodeOf(b);
  }, 20000, 'A shows the stream live with B as its ingest node');
  await waitPlaylist(a, `/hls/${stream.id}/index.m3u8`, (p) => p.segments.length >= 1, 30000, "A serves the HLS B's ingest writes");
  const second = publish(`rtmp://127.0.0.1:${rtmpPort(a)}/live/${stream.stream_key}`, { seconds: 5 });
  t.defer(() => second.kill());
  await waitLog(a, /event=publish_refused .*reason=other_node/, 'A refuses a second publisher', 15000);
  const viewerB = await enter(t, b, { stream: stream.id }, 'viewer');
  await waitPlaylist(b, `/hls/${stream.id}/burned/index.m3u8`, (p) => p.segments.length >= 1, 30000, 'burned-in playlist on B');
  const shown = await hostA.request({ type: 'card.show', product_id: 'fig', slot: 'bottom' });
  eq(shown.type, 'card.shown', 'card.show on A');
  const amended = await viewerB.waitFor((m) => m.type === 'card.shown' && m.amended === true && m.product_id === 'fig', 20000);
  assert(typeof amended.pts === 'number', "B's viewer gets the frame's pts from B's burned-in rendition");
  pub.kill();

  // --- 6. B dies with a reservation open; A expires it ---
  const fig = await buy(buyerB, 'fig', 'fig-b');
  eq(fig.type, 'order.confirmed', 'a fig reserved on B');
  await b.killHard();
  await waitUntil(() => pg.sql(`SELECT status FROM orders WHERE id = ${Number(fig.order_id)}`)[0][0] === 'expired',
                  (WINDOW_S + 40) * 1000, "A expires the dead node's reservation");
  eq(pg.sql(`SELECT stock_ceiling - sold FROM products WHERE stream_id = '${stream.id}' AND id = 'fig'`)[0][0], '3',
     'the fig is back on sale');
});
