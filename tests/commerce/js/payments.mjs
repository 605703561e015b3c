// Payment and the rest of an order's life, over real HTTP and websockets. The payment service
// is played by this script, which signs notifications with the shared secret (the only
// stand-in): a good one pays once; a bad signature, a wrong amount, an unknown order and a
// replay are refused or change nothing; money for an expired order is refused and flagged for
// refund. A second device with another buyer token can neither see nor cancel the first
// buyer's orders. Shipping, delivery and refunds follow the state machine (409 otherwise).
import { createHmac } from 'node:crypto';
import { Server, Client, run, assert, eq } from './lib.mjs';

const SECRET = 'test-payment-secret-0123456789';
const PAY_URL = 'https://pay.example.com/cashier?order={order_id}&amount={amount}&currency={currency}';
const sign = (body, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

async function notify(server, notice, { secret = SECRET, raw } = {}) {
  const body = raw ?? JSON.stringify(notice);
  const r = await fetch(server.url('/api/payments/notify'),
                        { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': sign(body, secret) }, body });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, json, text };
}

run('payments_and_lifecycle', async (t) => {
  const server = await Server.start({ args: ['--payment-secret', SECRET, '--payment-url', PAY_URL, '--payment-window', '4s'] });
  t.defer(() => server.stop());
  const stream = await server.createStream('payments');
  eq((await server.putProducts(stream.id, [
    { id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 10, image: '/samples/images/apple.png' },
  ], stream.host_token)).status, 200, 'PUT products');

  const alice = await Client.connect(server, { stream: stream.id });
  t.defer(() => alice.close());
  const aw = await alice.waitFor((m) => m.type === 'welcome');
  eq(JSON.stringify(aw.payments), JSON.stringify(['offline', 'gateway']), 'gateway offered when a secret is set');
  const aliceToken = aw.buyer_token;

  const stock = async () => (await server.http('GET', `/api/streams/${stream.id}/products`)).json.products[0].stock;
  const buy = async (client, key, qty = 1) => client.request({ type: 'buy', product_id: 'apple', qty, idempotency_key: key });

  // --- gateway payment ---
  const o1 = await buy(alice, 'a1', 2);
  eq(o1.type, 'order.confirmed', 'buy');
  eq(o1.status, 'reserved', 'reserved');
  eq(o1.total, 5000, 'total in fen');
  const checkout = await server.http('POST', `/api/orders/${o1.order_id}/checkout`, { token: aliceToken,
    body: { name: '李四', phone: '+86 139-1234-5678', address: '陕西省延安市洛川县凤栖镇 8 号', payment: 'gateway' } });
  eq(checkout.status, 200, 'checkout ' + checkout.text);
  eq(checkout.json.contact.phone, '13912345678', 'the number is normalised');
  assert(checkout.json.pay_by !== null, 'gateway payment keeps the window');
  eq(checkout.json.pay_url, `https://pay.example.com/cashier?order=${o1.order_id}&amount=5000&currency=CNY`, 'the buyer is given the payment page');

  const good = { order_id: o1.order_id, payment_id: 'wx-1001', amount: 5000, currency: 'CNY', status: 'paid' };
  // Refusals first: none of them changes anything.
  eq((await notify(server, good, { secret: 'not-the-secret-at-all' })).status, 401, 'bad signature');
  eq((await notify(server, { ...good, amount: 4999 })).status, 400, 'wrong amount');
  eq((await notify(server, { ...good, currency: 'USD' })).status, 400, 'wrong currency');
  eq((await notify(server, { ...good, order_id: 999999 })).status, 404, 'unknown order');
  eq((await notify(server, null, { raw: '{"order_id": "x"' })).status, 400, 'malformed body');
  const unsigned = await fetch(server.url('/api/payments/notify'), { method: 'POST', body: JSON.stringify(good) });
  eq(unsigned.status, 401, 'no signature');
  let mine = await server.http('GET', '/api/me/orders', { token: aliceToken });
  eq(mine.json.orders[0].status, 'reserved', 'still reserved after the refusals');

  const paid = await notify(server, good);
  eq(paid.status, 200, 'paid: ' + paid.text);
  eq(paid.json.outcome, 'paid', 'outcome paid');
  eq(paid.json.repeated, false, 'first time');
  await alice.waitFor((m) => m.type === 'order.updated' && m.order_id === o1.order_id && m.status === 'paid');
  const replay = await notify(server, good);
  eq(replay.status, 200, 'a replay is acknowledged');
  eq(replay.json.repeated, true, 'and recognised as a repeat');
  const reused = await notify(server, { ...good, order_id: o1.order_id + 1000 });
  assert(reused.status === 409 || reused.status === 404, 'a payment id is not reused for another order');
  mine = await server.http('GET', '/api/me/orders', { token: aliceToken });
  eq(mine.json.orders.length, 1, 'one order');
  eq(mine.json.orders[0].status, 'paid', 'paid once');
  eq(mine.json.orders[0].pay_url, undefined, 'no payment page once paid');
  eq(mine.json.orders[0].title, '洛川苹果', 'my orders name the product');
  eq(await stock(), 8, 'paid units stay sold');

  // --- a second device: another buyer token sees and touches nothing of Alice's ---
  const bob = await Client.connect(server, { stream: stream.id });
  t.defer(() => bob.close());
  const bobToken = (await bob.waitFor((m) => m.type === 'welcome')).buyer_token;
  assert(bobToken !== aliceToken, 'a new device is a new buyer');
  eq((await server.http('GET', '/api/me/orders', { token: bobToken })).json.orders.length, 0, 'Bob sees none of Alice\'s orders');
  eq((await server.http('POST', `/api/orders/${o1.order_id}/cancel`, { token: bobToken })).status, 404, 'Bob cannot cancel it');
  eq((await server.http('POST', `/api/orders/${o1.order_id}/ship`, { token: bobToken, body: { carrier: 'x', tracking: 'SF123456' } })).status,
     404, 'nor ship it');
  eq((await server.http('GET', '/api/me/orders', { token: 'b1.forged.0000' })).status, 401, 'a forged token is refused');
  eq((await server.http('POST', `/api/orders/${o1.order_id}/cancel`)).status, 401, 'no token at all');

  // --- the state machine over HTTP ---
  eq((await server.http('POST', `/api/orders/${o1.order_id}/cancel`, { token: aliceToken })).status, 409, 'paid: the buyer cannot cancel');
  eq((await server.http('POST', `/api/orders/${o1.order_id}/deliver`, { token: stream.host_token })).status, 409, 'not shipped yet');
  const badShip = await server.http('POST', `/api/orders/${o1.order_id}/ship`, { token: stream.host_token, body: { carrier: '顺丰', tracking: 'x' } });
  eq(badShip.status, 400, 'a tracking number is checked');
  const ship = await server.http('POST', `/api/orders/${o1.order_id}/ship`, { token: stream.host_token, body: { carrier: '顺丰速运', tracking: 'SF1234567890' } });
  eq(ship.status, 200, 'ship');
  const shipped = await alice.waitFor((m) => m.type === 'order.updated' && m.order_id === o1.order_id && m.status === 'shipped');
  eq(shipped.tracking, 'SF1234567890', 'the buyer hears the tracking number');
  eq((await server.http('POST', `/api/orders/${o1.order_id}/paid`, { token: stream.host_token })).status, 409, 'already past paid');
  eq((await server.http('POST', `/api/orders/${o1.order_id}/deliver`, { token: stream.host_token })).json.status, 'delivered', 'delivered');
  const refundShipped = await server.http('POST', `/api/orders/${o1.order_id}/refund`, { token: stream.host_token, body: { reason: '果子坏了' } });
  eq(refundShipped.json.status, 'refunded', 'refund after delivery');
  eq(await stock(), 8, 'shipped goods do not come back on sale');

  // Offline: the farmer marks it paid, then refunds before shipping: the units come back.
  const o2 = await buy(alice, 'a2', 1);
  eq((await server.http('POST', `/api/orders/${o2.order_id}/paid`, { token: stream.host_token })).status, 409,
     'not paid before the buyer has checked out');
  eq((await server.http('POST', `/api/orders/${o2.order_id}/checkout`, { token: aliceToken,
    body: { name: '李四', phone: '12345', address: '陕西省延安市洛川县', payment: 'offline' } })).status, 400, 'a bad number is refused');
  eq((await server.http('POST', `/api/orders/${o2.order_id}/checkout`, { token: aliceToken,
    body: { name: '李四', phone: '13912345678', address: '陕西省延安市洛川县', payment: 'offline' } })).status, 200, 'checkout offline');
  eq((await server.http('POST', `/api/orders/${o2.order_id}/paid`, { token: aliceToken })).status, 403, 'a buyer cannot mark paid');
  eq((await server.http('POST', `/api/orders/${o2.order_id}/paid`, { token: stream.host_token })).status, 200, 'host marks paid');
  eq(await stock(), 7, 'held');
  eq((await server.http('POST', `/api/orders/${o2.order_id}/refund`, { token: stream.host_token, body: { reason: '缺货' } })).status,
     200, 'refund before shipping');
  eq(await stock(), 8, 'a refund before shipping gives the unit back');

  // Late payment: the order expired first; the money is refused and flagged for refund.
  const o3 = await buy(alice, 'a3', 1);
  await alice.waitFor((m) => m.type === 'order.updated' && m.order_id === o3.order_id && m.status === 'expired', 20000);
  eq(await stock(), 8, 'the expired unit is back');
  const late = await notify(server, { order_id: o3.order_id, payment_id: 'wx-late', amount: 2500, currency: 'CNY', status: 'paid' });
  eq(late.status, 200, 'a late payment is acknowledged (so the service stops repeating it)');
  eq(late.json.outcome, 'refund_due', 'and refused: flagged for refund');
  eq(late.json.status, 'expired', 'the order stays expired');
  const hostList = await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token });
  eq(hostList.json.orders.find((o) => o.order_id === o3.order_id).flag, 'refund_due', 'the farmer sees what to refund');
  eq(await stock(), 8, 'the late payment took no unit');

  // The farmer's CSV for the courier carries the address.
  const csv = await server.http('GET', `/api/streams/${stream.id}/orders?format=csv`, { token: stream.host_token });
  assert(csv.text.split('\r\n')[0].includes('address'), 'CSV has an address column');
  assert(csv.text.includes('陕西省延安市洛川县凤栖镇 8 号'), 'CSV carries the address');
});
