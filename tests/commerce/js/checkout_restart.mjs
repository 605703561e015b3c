// kill -9 while reservations are pending and while payment notifications are being handled.
// After the restart: every order a buyer was told about is there once; reservations expire on
// time (not before their pay_by, and they do expire although the server was down); a repeated
// notification pays once; units left + units held = the initial stock.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, Client, run, assert, eq, waitUntil } from './lib.mjs';

const SECRET = 'restart-payment-secret-0123456789';
const UNITS = 40;
const WINDOW_S = 15;

function notify(server, notice) {
  const body = JSON.stringify(notice);
  const signature = createHmac('sha256', SECRET).update(body).digest('hex');
  return fetch(server.url('/api/payments/notify'),
               { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body })
    .then(async (r) => ({ status: r.status, json: await r.json().catch(() => null) }));
}

run('checkout_kill9_restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'harvest-checkout-restart-'));
  t.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const args = ['--payment-secret', SECRET, '--payment-url', 'https://pay.example.com/cashier?order={order_id}', '--payment-window', `${WINDOW_S}s`];
  let server = await Server.start({ dataDir, args });
  t.defer(() => server.stop());
  const stream = await server.createStream('restart');
  eq((await server.putProducts(stream.id, [
    { id: 'rice', title: '五常大米', price: 5900, currency: 'CNY', stock: UNITS, image: '/samples/images/rice.png' },
  ], stream.host_token)).status, 200, 'PUT products');

  const buyers = await Promise.all(Array.from({ length: 30 }, () => Client.connect(server, { stream: stream.id })));
  const tokens = (await Promise.all(buyers.map((b) => b.waitFor((m) => m.type === 'welcome')))).map((w) => w.buyer_token);

  // Ten reservations become durable; five of them will be paid by notifications in flight at the kill.
  const first = await Promise.all(buyers.slice(0, 10).map((b, i) =>
    b.request({ type: 'buy', product_id: 'rice', qty: 1, idempotency_key: `first-${i}` })));
  first.forEach((a) => eq(a.type, 'order.confirmed', 'first reservations'));
  const notices = first.slice(0, 5).map((o, i) => ({ order_id: o.order_id, payment_id: `pay-${i}`, amount: 5900, currency: 'CNY', status: 'paid' }));

  // Then, at once: twenty more buys and the five notifications, and kill -9 in the middle.
  const told = new Map();  // order id -> order.confirmed, for every buyer that heard "confirmed"
  for (const o of first) told.set(o.order_id, o);
  buyers.slice(10).forEach((b, i) => b.send({ type: 'buy', id: `late-${i}`, product_id: 'rice', qty: 1, idempotency_key: `late-${i}` }));
  const inFlight = notices.map((n) => notify(server, n).catch(() => null));
  await waitUntil(() => buyers.slice(10).some((b) => b.messages.some((m) => m.type === 'order.confirmed')), 10000, 'a late buy confirmed');
  await server.killHard();
  await Promise.all(inFlight);
  for (const b of buyers) for (const m of b.messages) if (m.type === 'order.confirmed') told.set(m.order_id, m);
  buyers.forEach((b) => b.close());

  server = await Server.start({ dataDir, args });
  const list = async () => (await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token })).json.orders;
  let orders = await list();
  for (const id of told.keys()) eq(orders.filter((o) => o.order_id === id).length, 1, `confirmed order ${id} is there once`);
  eq(new Set(orders.map((o) => `${o.viewer_id}/${o.idempotency_key}`)).size, orders.length, 'no buy stored twice');

  // Every notification again (the payment service repeats what it got no answer for): each pays once.
  for (const n of notices) {
    const r = await notify(server, n);
    eq(r.status, 200, 'notification after restart');
    assert(r.json.outcome === 'paid', 'paid (first time or repeated): ' + JSON.stringify(r.json));
  }
  for (const n of notices) {
    const again = await notify(server, n);
    eq(again.json.repeated, true, 'a repeat changes nothing');
  }
  orders = await list();
  for (const n of notices) eq(orders.find((o) => o.order_id === n.order_id).status, 'paid', 'paid once');

  // The rest expire on time although the server was killed in their window.
  const unpaid = orders.filter((o) => o.status === 'reserved');
  assert(unpaid.length >= told.size - notices.length, 'the unpaid reservations are still held after the restart');
  const lastPayBy = Math.max(...unpaid.map((o) => o.pay_by));
  await waitUntil(async () => (await list()).filter((o) => o.status === 'reserved').length === 0,
                  Math.max(0, lastPayBy - Date.now()) + 20000, 'every unpaid reservation expired');
  orders = await list();
  for (const o of orders.filter((x) => x.status === 'expired')) assert(o.updated_at >= o.pay_by, `order ${o.order_id} expired no earlier than pay_by`);
  eq(orders.filter((o) => o.status === 'expired').length, orders.length - notices.length, 'all but the paid ones expired');

  const left = (await server.http('GET', `/api/streams/${stream.id}/products`)).json.products[0].stock;
  const held = orders.filter((o) => o.status === 'paid').reduce((n, o) => n + o.qty, 0);
  eq(left + held, UNITS, 'units left + units held = initial');
  eq(held, notices.length, 'only the paid units are held');
});
