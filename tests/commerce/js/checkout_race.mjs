// Stock exact through checkout: 300 buyers race for 50 units. Of the 50 reservations, 20 are
// left to expire, 10 are cancelled by their buyers and 20 are checked out and paid; the 30 units
// that come back are sold to later buyers. At the end, for the product: units in orders that
// hold stock + units left = 50, every confirmed order is stored once, and every viewer saw the
// stock rise when units came back.
import { Server, Client, run, assert, eq, waitUntil } from './lib.mjs';

const BUYERS = 300;
const UNITS = 50;
const WINDOW_S = 6;

const contact = (i) => ({ name: `买家${i}`, phone: '13800138' + String(i).padStart(3, '0'), address: '山西省临汾市隰县龙泉镇 ' + i + ' 号' });

run('checkout_race_300_buyers_50_units', async (t) => {
  const server = await Server.start({ args: ['--payment-window', `${WINDOW_S}s`] });
  t.defer(() => server.stop());
  const stream = await server.createStream('checkout race');
  eq((await server.putProducts(stream.id, [
    { id: 'pear', title: '隰县玉露香梨', price: 3990, currency: 'CNY', stock: UNITS, image: '/samples/images/pear-yulu.png' },
  ], stream.host_token)).status, 200, 'PUT products');

  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  await host.waitFor((m) => m.type === 'welcome');

  const buyers = await Promise.all(Array.from({ length: BUYERS }, () => Client.connect(server, { stream: stream.id })));
  t.defer(() => buyers.forEach((b) => b.close()));
  const welcomes = await Promise.all(buyers.map((b) => b.waitFor((m) => m.type === 'welcome')));
  eq(new Set(welcomes.map((w) => w.buyer_token)).size, BUYERS, 'a buyer token each');
  assert(welcomes[0].payments.includes('offline'), 'offline payment offered');
  eq(welcomes[0].payment_window_s, WINDOW_S, 'payment window in welcome');
  const tokenOf = (i) => welcomes[i].buyer_token;

  // The race: everyone taps at once.
  const answers = await Promise.all(buyers.map((b, i) =>
    b.request({ type: 'buy', product_id: 'pear', qty: 1, idempotency_key: `race-${i}` }, 30000)));
  const winners = [];
  answers.forEach((a, i) => {
    if (a.type === 'order.confirmed') winners.push({ i, order: a });
    else eq(a.reason, 'sold_out', 'a loser is told sold_out');
  });
  eq(winners.length, UNITS, 'exactly the units were reserved');
  for (const w of winners) {
    eq(w.order.status, 'reserved', 'a confirmed buy is a reservation');
    assert(w.order.pay_by >= w.order.server_time + WINDOW_S * 1000, 'pay_by is the window after the buy');
  }

  const expiring = winners.slice(0, 20);
  const cancelling = winners.slice(20, 30);
  const paying = winners.slice(30, 50);

  // 10 buyers cancel before paying; their units are on sale again at once.
  for (const w of cancelling) {
    const r = await server.http('POST', `/api/orders/${w.order.order_id}/cancel`, { token: tokenOf(w.i), body: { reason: '不要了' } });
    eq(r.status, 200, 'buyer cancels a reservation');
    eq(r.json.status, 'cancelled', 'cancelled');
    const again = await server.http('POST', `/api/orders/${w.order.order_id}/cancel`, { token: tokenOf(w.i) });
    eq(again.status, 409, 'a second cancel is a conflict');
    eq(again.json.status, 'cancelled', '409 names the current state');
  }
  // 20 check out (offline payment) and the farmer marks them paid.
  for (const w of paying) {
    const r = await server.http('POST', `/api/orders/${w.order.order_id}/checkout`,
                                { token: tokenOf(w.i), body: { ...contact(w.i), payment: 'offline' } });
    eq(r.status, 200, 'checkout: ' + r.text);
    eq(r.json.pay_by, null, 'offline payment stops the clock');
    const paid = await server.http('POST', `/api/orders/${w.order.order_id}/paid`, { token: stream.host_token });
    eq(paid.status, 200, 'host marks paid');
    eq(paid.json.status, 'paid', 'paid');
  }
  // Buyers hear their own changes.
  await buyers[paying[0].i].waitFor((m) => m.type === 'order.updated' && m.status === 'paid');

  // The 20 untouched reservations expire on their own: not before pay_by.
  const expired = await Promise.all(expiring.map((w) =>
    buyers[w.i].waitFor((m) => m.type === 'order.updated' && m.order_id === w.order.order_id && m.status === 'expired',
                        WINDOW_S * 1000 + 20000)));
  expired.forEach((e, n) => assert(e.updated_at >= expiring[n].order.pay_by, 'expired no earlier than pay_by'));

  // Everyone saw the stock come back to 30.
  await waitUntil(() => buyers[299].messages.some((m) => m.type === 'stock' && m.product_id === 'pear' && m.left === 30),
                  10000, 'viewers see 30 units back');

  // Later buyers (those who lost the race) buy the 30 returned units; offline checkout so they hold.
  const losers = answers.map((a, i) => (a.type === 'order.rejected' ? i : -1)).filter((i) => i >= 0);
  const second = await Promise.all(losers.map((i) =>
    buyers[i].request({ type: 'buy', product_id: 'pear', qty: 1, idempotency_key: `second-${i}` }, 30000)));
  const secondWinners = second.map((a, n) => ({ a, i: losers[n] })).filter((x) => x.a.type === 'order.confirmed');
  eq(secondWinners.length, 30, 'the 30 returned units sold again, no more');

  // The ledger: every confirmed order stored once; holding units + left = 50.
  const list = await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token });
  eq(list.status, 200, 'orders list');
  const orders = list.json.orders;
  eq(orders.length, UNITS + 30, 'every confirmed order is stored');
  eq(new Set(orders.map((o) => o.order_id)).size, orders.length, 'no order twice');
  const count = (s) => orders.filter((o) => o.status === s).length;
  eq(count('expired'), 20, 'expired');
  eq(count('cancelled'), 10, 'cancelled');
  eq(count('paid'), 20, 'paid');
  eq(count('reserved'), 30, 'reserved');
  const holding = orders.filter((o) => ['reserved', 'paid', 'shipped', 'delivered'].includes(o.status))
                        .reduce((n, o) => n + o.qty, 0);
  const products = await server.http('GET', `/api/streams/${stream.id}/products`);
  const left = products.json.products.find((p) => p.id === 'pear').stock;
  eq(holding + left, UNITS, 'sold + reserved + left = initial');
  eq(left, 0, 'nothing left');

  // Contact details: hosts see them in the list; the buyers' broadcast never carries them.
  const withContact = orders.filter((o) => o.contact);
  eq(withContact.length, 20, 'the checked-out orders carry the address for the farmer');
  for (const b of buyers.slice(0, 20))
    for (const m of b.messages)
      if (m.type === 'purchase') assert(!JSON.stringify(m).includes('1380013'), 'no phone number in a broadcast');
  assert(!server.log.includes('1380013'), 'no phone number in the log');
});
