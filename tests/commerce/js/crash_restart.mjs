// kill -9 of the server in the middle of a flash sale, then a restart on the same data dir:
// every order a buyer saw confirmed is there; stock, the sale and idempotency come back; the
// sale then sells exactly its remaining units.
import { Server, Client, run, assert, eq } from './lib.mjs';

const BUYERS = 300;
const UNITS = 100;

run('crash_restart_mid_sale', async (t) => {
  let server = await Server.start();
  const dataDir = server.dataDir;
  t.defer(async () => { await server.stop(); (await import('node:fs')).rmSync(dataDir, { recursive: true, force: true }); });
  const stream = await server.createStream('crash');
  eq((await server.putProducts(stream.id, [
    { id: 'crab', title: '宿迁大闸蟹', price: 16800, currency: 'CNY', stock: UNITS, image: '' }])).status, 200, 'PUT');
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  const sale = await host.request({ type: 'sale.start', product_id: 'crab', price: 9900, quantity: UNITS,
                                    per_buyer_limit: 1, duration_s: 900 });
  eq(sale.type, 'sale.started', 'sale started');

  const buyers = await Promise.all(Array.from({ length: BUYERS }, () => Client.connect(server, { stream: stream.id })));
  // Each buyer's identity is the server's: its id, and the token it comes back with after the crash.
  const welcomes = await Promise.all(buyers.map((b) => b.waitFor((m) => m.type === 'welcome')));
  const viewerId = (i) => welcomes[i].viewer_id;
  const asBuyer = (i) => ({ stream: stream.id, buyer: welcomes[i].buyer_token });

  // Two waves answered in full, then a third wave in flight when the server is killed.
  const seenConfirmed = new Map();  // order_id -> {i, key}
  const record = (i, a) => { if (a.type === 'order.confirmed') seenConfirmed.set(a.order_id, { i, key: `key-${i}` }); };
  for (const wave of [[0, 20], [20, 40]]) {
    const idx = Array.from({ length: wave[1] - wave[0] }, (_, k) => wave[0] + k);
    const answers = await Promise.all(idx.map((i) =>
      buyers[i].request({ type: 'buy', product_id: 'crab', qty: 1, idempotency_key: `key-${i}` })));
    answers.forEach((a, k) => record(idx[k], a));
  }
  eq(seenConfirmed.size, 40, 'first waves confirmed');
  for (let i = 40; i < 90; i++) {
    buyers[i].ws.on('message', () => {});
    buyers[i].send({ type: 'buy', id: `late-${i}`, product_id: 'crab', qty: 1, idempotency_key: `key-${i}` });
  }
  // Kill as soon as some of the third wave are confirmed: the rest are in flight.
  await buyers[40].waitFor((m) => m.re === 'late-40' || m.type === 'order.confirmed', 10000).catch(() => {});
  await server.killHard();
  for (let i = 40; i < 90; i++) {
    for (const m of buyers[i].messages) if (m.re === `late-${i}`) record(i, m);
  }
  buyers.forEach((b) => b.close());
  host.close();
  const seenBeforeCrash = seenConfirmed.size;
  assert(seenBeforeCrash >= 40, 'confirmations seen before the crash');

  server = await Server.start({ dataDir });
  const orders = await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token });
  const stored = new Map(orders.json.orders.map((o) => [o.order_id, o]));
  for (const [id, who] of seenConfirmed) {
    assert(stored.has(id), `order ${id} confirmed before the crash is stored`);
    eq(stored.get(id).viewer_id, viewerId(who.i), 'stored order viewer');
  }
  const storedCount = orders.json.orders.length;
  assert(storedCount >= seenBeforeCrash && storedCount <= UNITS, `stored ${storedCount}`);

  // Stock and the running sale come back from the store.
  const products = await server.http('GET', `/api/streams/${stream.id}/products`);
  eq(products.json.products[0].stock, UNITS - storedCount, 'stock after restart');
  const v = await Client.connect(server, asBuyer(0));
  t.defer(() => v.close());
  const welcome = await v.waitFor((m) => m.type === 'welcome');
  eq(welcome.sales.length, 1, 'the sale is still running');
  eq(welcome.sales[0].sale_id, sale.sale_id, 'same sale');
  eq(welcome.sales[0].sold, storedCount, 'sale sold count');

  // Idempotency survives: buyer 0's key answers with its first order, not a second one.
  const again = await v.request({ type: 'buy', product_id: 'crab', qty: 1, idempotency_key: 'key-0' });
  eq(again.type, 'order.confirmed', 'repeat after restart');
  const firstOf0 = [...seenConfirmed].find(([, w]) => w.i === 0)[0];
  eq(again.order_id, firstOf0, 'same order id after restart');
  // The per-buyer limit survives too.
  const more = await v.request({ type: 'buy', product_id: 'crab', qty: 1, idempotency_key: 'key-0-b' });
  eq(more.reason, 'limit_reached', 'limit after restart');

  // Everyone else buys again (same keys): the sale sells exactly what is left.
  const rest = await Promise.all(Array.from({ length: BUYERS - 1 }, (_, k) => k + 1).map((i) =>
    Client.connect(server, asBuyer(i))));
  t.defer(() => rest.forEach((c) => c.close()));
  const answers = await Promise.all(rest.map((c, k) =>
    c.request({ type: 'buy', product_id: 'crab', qty: 1, idempotency_key: `key-${k + 1}` }, 30000)));
  const ids = new Set([firstOf0]);
  answers.forEach((a) => { if (a.type === 'order.confirmed') ids.add(a.order_id); });
  eq(ids.size, UNITS, 'confirmed orders in all');
  const final = await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token });
  eq(final.json.orders.length, UNITS, 'stored orders in all');
  const after = await server.http('GET', `/api/streams/${stream.id}/products`);
  eq(after.json.products[0].stock, 0, 'stock at the end');

  // A rejection is a key's first answer too, and it is stored: after a restock and a restart the
  // same key is still sold out (no second decision), while a new key buys the new stock.
  const soldOutAt = answers.findIndex((a) => a.type === 'order.rejected');
  assert(soldOutAt >= 0, 'some buyers were turned away');
  const firstAnswer = answers[soldOutAt].reason;
  assert(firstAnswer === 'sold_out' || firstAnswer === 'sale_ended', `turned away with ${firstAnswer}`);
  rest.forEach((c) => c.close());
  eq((await server.putProducts(stream.id, [
    { id: 'crab', title: '宿迁大闸蟹', price: 16800, currency: 'CNY', stock: 5, image: '' }])).status, 200, 'restock');
  await server.stop();
  server = await Server.start({ dataDir });
  const late = await Client.connect(server, asBuyer(soldOutAt + 1));
  t.defer(() => late.close());
  const retry = await late.request({ type: 'buy', product_id: 'crab', qty: 1, idempotency_key: `key-${soldOutAt + 1}` });
  eq(retry.type, 'order.rejected', 'a rejected key after restock and restart');
  eq(retry.reason, firstAnswer, 'the first answer, from the store');
  const fresh = await late.request({ type: 'buy', product_id: 'crab', qty: 1, idempotency_key: 'after-restock' });
  eq(fresh.type, 'order.confirmed', 'a new key buys the restock');
});
