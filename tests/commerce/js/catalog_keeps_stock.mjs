// PUT /api/streams/{id}/products without a product's "stock" keeps the stock it has live: the
// host console adds a product without overwriting what sold meanwhile with its stale copy.
import { Server, Client, run, eq } from './lib.mjs';

run('catalog_keeps_stock', async (t) => {
  const server = await Server.start();
  t.defer(() => server.stop());
  const stream = await server.createStream('catalog keeps stock');
  const pear = { id: 'pear', title: 'pear', price: 3990, currency: 'CNY', image: '' };
  eq((await server.putProducts(stream.id, [{ ...pear, stock: 10 }])).status, 200, 'first catalog');

  const viewer = await Client.connect(server, { stream: stream.id });
  t.defer(() => viewer.close());
  await viewer.waitFor((m) => m.type === 'welcome');
  const bought = await viewer.request({ type: 'buy', product_id: 'pear', qty: 3, idempotency_key: 'k1' });
  eq(bought.type, 'order.confirmed', 'the buy is confirmed');

  // The console's stale catalog: pear without stock, plus a new product with its stock.
  const put = await server.putProducts(stream.id, [pear, { ...pear, id: 'chili', title: 'chili', stock: 5 }]);
  eq(put.status, 200, 'PUT with stock left out');
  const byId = (list) => Object.fromEntries(list.map((p) => [p.id, p]));
  const after = byId((await server.http('GET', `/api/streams/${stream.id}/products`)).json.products);
  eq(after.pear.stock, 7, 'pear keeps its live stock (10 - 3)');
  eq(after.pear.sold, 3, 'and its sold count');
  eq(after.chili.stock, 5, 'the new product has the stock it was given');
  const catalog = await viewer.waitFor((m) => m.type === 'catalog');
  eq(byId(catalog.products).pear.stock, 7, 'viewers are told the live stock, not a stale one');

  // A product sent with a stock still takes it: the host means that number.
  eq((await server.putProducts(stream.id, [{ ...pear, stock: 20 }])).status, 200, 'PUT with stock');
  eq(byId((await server.http('GET', `/api/streams/${stream.id}/products`)).json.products).pear.stock, 20, 'stock given is stock set');
  // A new product without stock has none to sell.
  eq((await server.putProducts(stream.id, [{ ...pear, stock: 20 }, { ...pear, id: 'crab', title: 'crab' }])).status, 200, 'PUT new without stock');
  eq(byId((await server.http('GET', `/api/streams/${stream.id}/products`)).json.products).crab.stock, 0, 'a new product without stock has 0');
});
