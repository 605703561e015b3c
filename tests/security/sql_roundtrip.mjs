// SQL metacharacters through every store input, across a restart (issue 21, security review).
// Shared by security_http (SQLite) and security_sql_pg (PostgreSQL): the same inputs, the same
// round trip, whichever store the server runs on.
//
// Stored inputs: a stream's title, farmer text and later title (PATCH); product ids and titles;
// origin records (farm, place, method, certificates); a farmer's name and catalog; an invite's
// name; a buy's idempotency key; a checkout's contact; a shipment's carrier and tracking; a
// refund's reason; a payment notification's payment id. Each carries quotes, comment markers
// and statement separators; each must come back byte for byte after a restart, and the orders,
// products, accounts and catalogs must all still be there.
import { createHmac } from 'node:crypto';
import { Client, ADMIN, assert, eq } from '../commerce/js/lib.mjs';
import { call, createFarmer, login } from '../accounts/js/farmers.mjs';

export const PAYMENT_SECRET = 'sql-roundtrip-payment-secret-01';
export const PAYMENT_ARGS = ['--payment-secret', PAYMENT_SECRET, '--payment-url', 'https://pay.example.com/c?o={order_id}'];
export const NASTY = `梨'); DROP TABLE orders;-- "x" \\ %_ ' OR '1'='1`;

// `server` runs with PAYMENT_ARGS; `restart()` stops it and starts another on the same store.
// Returns the restarted server and the secrets that must stay out of the log.
export async function sqlRoundTrip(t, server, restart) {
  const nasty = NASTY;
  const shady = await server.createStream(nasty);
  // Product ids are [A-Za-z0-9_-]{1,64} (api/products.cpp): quotes there are refused, nothing stored.
  eq((await server.putProducts(shady.id, [{ id: "p'1", title: 'x', price: 100, currency: 'CNY', stock: 5 }], shady.host_token)).status,
     400, 'a quote in a product id is refused');
  const origin = { farm: `'); DELETE FROM products WHERE ''='`, place: { county: `隰县'--`, township: `"; DROP TABLE streams;--`, village: `\\'` },
                   harvest_date: '2026-09-12', method: `1'; UPDATE products SET price=0;--`, certificates: [`' OR 1=1--`, `$1$$`],
                   trace_code: 'SQL-TEST-0001' };
  eq((await server.putProducts(shady.id, [
    { id: 'p1', title: nasty, price: 100, currency: 'CNY', stock: 5, origin },
    { id: 'p2--', title: 'Robert\'); DROP TABLE products;--', price: 200, currency: 'CNY', stock: 3 },
  ], shady.host_token)).status, 200, 'products with quotes in titles and origin');
  const patched = `$$; DROP TABLE streams; $$ '--`;
  const other = await server.http('POST', '/api/streams', { token: ADMIN, body: { title: 'x', farmer: `'); DELETE FROM streams;--` } });
  eq(other.status, 201, 'a stream with quotes in its farmer text');
  eq((await server.http('PATCH', `/api/streams/${other.json.id}`, { token: ADMIN, body: { title: patched } })).status, 200,
     'a new title with dollar quotes');
  const wang = await createFarmer(server, 'wang.q', 'correct horse 1', `王'大姐"; DELETE FROM accounts;--`);
  const wangCookie = await login(server, 'wang.q');
  eq((await call(server, 'PUT', '/api/me/products', { cookie: wangCookie, body: { products: [
    { id: 'x-or-1', title: `'); DELETE FROM catalog;--`, price: 300, currency: 'CNY' }] } })).status, 200, 'a catalog with quotes');
  const invite = await call(server, 'POST', '/api/invites', { token: ADMIN, body: { name: `李'); DROP TABLE invites;--` } });
  eq(invite.status, 201, 'an invite with quotes in its name: ' + invite.text);
  const inviteCode = invite.json.code;
  const buyerOf = await Client.connect(server, { stream: shady.id });
  t.defer(() => buyerOf.close());
  const bw = await buyerOf.waitFor((m) => m.type === 'welcome');
  const order = await buyerOf.request({ type: 'buy', product_id: 'p1', qty: 1, idempotency_key: `k'; DROP TABLE orders;--` });
  eq(order.type, 'order.confirmed', 'an order with quotes in its key');
  const order2 = await buyerOf.request({ type: 'buy', product_id: 'p2--', qty: 1, idempotency_key: `k2"; --` });
  eq(order2.type, 'order.confirmed', 'a second order');
  const contact = { name: `O'Brien"; --`, phone: '13912345678', address: `路'; DROP TABLE orders;-- 8 号`, payment: 'gateway' };
  for (const o of [order, order2])
    eq((await call(server, 'POST', `/api/orders/${o.order_id}/checkout`, { token: bw.buyer_token, body: contact })).status, 200,
       'checkout with quotes in the contact');
  // Paid through a signed notification whose payment id has quotes; then shipped and refunded.
  const payId = `pay');DELETE/**/FROM/**/payments;--`;  // printable ASCII, no spaces (payment_notice.cpp)
  const notice = JSON.stringify({ order_id: order.order_id, payment_id: payId, amount: 100, currency: 'CNY', status: 'paid' });
  const paid = await fetch(server.url('/api/payments/notify'), { method: 'POST', body: notice, headers: {
    'content-type': 'application/json', 'x-signature': createHmac('sha256', PAYMENT_SECRET).update(notice).digest('hex') } });
  eq(paid.status, 200, 'a payment id with quotes: ' + await paid.text());
  // Tracking numbers are letters, digits and '-' (order_lifecycle.cpp): a quote is refused.
  eq((await call(server, 'POST', `/api/orders/${order.order_id}/ship`, { token: shady.host_token,
    body: { carrier: 'SF', tracking: `SF1'; DROP TABLE orders;--` } })).status, 400, 'a quote in a tracking number is refused');
  const shipment = { carrier: `顺丰'); DROP TABLE orders;--`, tracking: 'SF1--DROP-TABLE' };
  eq((await call(server, 'POST', `/api/orders/${order.order_id}/ship`, { token: shady.host_token, body: shipment })).status, 200,
     'a shipment with quotes');
  const reason = `'); UPDATE orders SET status='paid';--`;
  eq((await call(server, 'POST', `/api/orders/${order2.order_id}/cancel`, { token: shady.host_token, body: { reason } })).status, 200,
     'a cancel with quotes in its reason');
  buyerOf.close();

  const again = await restart();
  const s2 = await again.http('GET', `/api/streams/${shady.id}`);
  eq(s2.json?.title, nasty, 'the title round-trips intact: ' + s2.status + ' ' + s2.text.slice(0, 300));
  const o2 = await again.http('GET', `/api/streams/${other.json.id}`);
  eq(o2.json?.title, patched, 'the patched title intact');
  eq(o2.json?.farmer, `'); DELETE FROM streams;--`, 'the farmer text intact');
  const prods = (await again.http('GET', `/api/streams/${shady.id}/products`)).json.products;
  eq(prods.map((p) => p.id).sort().join('|'), `p1|p2--`, 'product ids intact');
  const p1 = prods.find((p) => p.id === 'p1');
  eq(p1.title, nasty, 'product title intact');
  eq(p1.price, 100, 'price intact');
  eq(JSON.stringify(p1.origin.place), JSON.stringify(origin.place), 'origin place intact');
  eq(p1.origin.method, origin.method, 'origin method intact');
  eq(p1.origin.farm, origin.farm, 'origin farm intact');
  eq(p1.origin.certificates.join('|'), origin.certificates.join('|'), 'certificates intact');
  eq(p1.stock, 4, 'stock after the paid order, intact');
  eq(prods.find((p) => p.id === 'p2--').stock, 3, 'the cancelled order gave its unit back');
  const trace = await again.http('GET', `/api/trace/${origin.trace_code}`);
  eq(trace.json?.product?.origin?.method, origin.method, 'the trace record intact');
  const mine = await call(again, 'GET', '/api/me/orders', { token: bw.buyer_token });
  eq(mine.json.orders.length, 2, 'both orders still there (the orders table too)');
  const shipped = mine.json.orders.find((o) => o.order_id === order.order_id);
  eq(shipped.status, 'shipped', 'the shipped order: ' + JSON.stringify(shipped));
  eq(shipped.contact?.address, contact.address, 'the address intact');
  eq(shipped.contact?.name, contact.name, 'the name intact');
  eq(shipped.carrier, shipment.carrier, 'the carrier intact: ' + JSON.stringify(shipped));
  eq(shipped.tracking, shipment.tracking, 'the tracking number intact');
  const cancelled = mine.json.orders.find((o) => o.order_id === order2.order_id);
  eq(cancelled.status, 'cancelled', 'the cancelled order');
  eq(cancelled.reason, reason, 'the reason intact');
  const hostView = (await again.http('GET', `/api/streams/${shady.id}/orders`, { token: shady.host_token })).json.orders;
  eq(hostView.find((o) => o.order_id === order.order_id)?.idempotency_key, `k'; DROP TABLE orders;--`, 'the idempotency key intact');
  // A repeated notification with the same payment id is recognised (the id was stored as sent).
  const repeat = await fetch(again.url('/api/payments/notify'), { method: 'POST', body: notice, headers: {
    'content-type': 'application/json', 'x-signature': createHmac('sha256', PAYMENT_SECRET).update(notice).digest('hex') } });
  const repeatBody = await repeat.json();
  eq(repeat.status, 200, 'the repeated notification');
  eq(repeatBody.repeated, true, 'the payment id was stored intact: ' + JSON.stringify(repeatBody));
  const farmers = (await call(again, 'GET', '/api/farmers', { token: ADMIN })).json.farmers;
  eq(farmers.length, 1, 'accounts table intact');
  eq(farmers[0].name, wang.name, 'the farmer name intact');
  eq((await call(again, 'GET', `/api/invites/${inviteCode}`)).json?.name, `李'); DROP TABLE invites;--`, 'the invite name intact');
  const wangAgain = await login(again, 'wang.q');
  const catalog = (await call(again, 'GET', '/api/me/products', { cookie: wangAgain })).json.products;
  eq(catalog.map((p) => p.id).join('|'), 'x-or-1', 'catalog intact');
  eq(catalog[0].title, `'); DELETE FROM catalog;--`, 'catalog title intact');
  return {
    again,
    secrets: [['password', 'correct horse 1'], ['phone', contact.phone], ['address', contact.address],
              ['stream key', shady.stream_key], ['host token', shady.host_token], ['buyer token', bw.buyer_token],
              ['session', wangCookie.split('=')[1]], ['session', wangAgain.split('=')[1]], ['invite code', inviteCode]],
  };
}
