// One farmer touching another's data (issue 21, security review), over the whole route table.
//
// The server logs its route table and its websocket commands at debug level (event=route,
// event=ws_command). Every route and command there must have a case below, or this test fails
// naming it: a new route cannot be added without saying who may touch whose data through it.
//
// Farmer A (李) has a show with a catalog, a trace code, a photo, orders from a buyer (one
// checked out with a name, phone and address), a flash sale running and a chat message. Farmer
// B (张) has a show of their own, and tries each of A's resources with every credential B holds:
// B's session cookie, B's host token, B's stream key, B's buyer token. Each attempt must be
// refused (401/403/404) with none of A's secrets or buyers' data in the answer, or, for a
// public route, answer without them; afterwards A's show, catalog, orders, trace record, photo
// and sign-in are exactly as before. (Accounts have no county here: the county-admin case of
// the brief does not apply; the admin token is the only role above a farmer.)
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { Server, Client, WebSocket, ADMIN, run, assert, eq, waitUntil } from '../commerce/js/lib.mjs';
import { call, createFarmer, login } from '../accounts/js/farmers.mjs';

const PAY_SECRET = 'cross-tenant-payment-secret-0123';
const PAY_URL = 'https://pay.example.com/cashier?order={order_id}';
const REFUSED = [401, 403, 404];
const PNG = readFileSync(new URL('../../samples/images/pear-yulu.png', import.meta.url));
const PNG_B = readFileSync(new URL('../../samples/images/crab-suqian.png', import.meta.url));

// A websocket that also sends a Cookie header (a signed-in farmer's browser does).
function wsWithCookie(server, query, cookie) {
  return new Promise((resolve, reject) => {
    const c = Object.create(Client.prototype);
    c.messages = [];
    c.waiters = [];
    c.closed = null;
    c.ws = new WebSocket(server.wsUrl(query), { headers: { cookie } });
    c.ws.on('message', (d) => { for (const m of [JSON.parse(d.toString())].flat()) c.messages.push(m); c.poke(); });
    c.ws.on('close', (code) => { c.closed = { code }; c.poke(); });
    c.ws.on('error', () => {});
    c.ws.once('open', () => resolve(c));
    c.ws.once('unexpected-response', (_q, res) => reject(new Error('upgrade refused: ' + res.statusCode)));
  });
}

run('security_cross_tenant', async (t) => {
  const server = await Server.start({ args: ['--log-level', 'debug', '--payment-secret', PAY_SECRET, '--payment-url', PAY_URL] });
  t.defer(() => server.stop());

  // --- the route table and the commands, as the server has them ---
  const routes = [...server.log.matchAll(/event=route route="([A-Z]+ [^"]+)"/g)].map((m) => m[1]);
  const commands = [...server.log.matchAll(/event=ws_command type=(\S+) host_only=(true|false)/g)]
    .map((m) => ({ type: m[1], hostOnly: m[2] === 'true' }));
  assert(routes.length > 30, `the server logged its route table (${routes.length} routes)`);
  assert(commands.length >= 10, `the server logged its websocket commands (${commands.length})`);

  // --- A's world ---
  const liA = await createFarmer(server, 'li.a', 'pear orchard A1', '李家梨园');
  await createFarmer(server, 'zhang.b', 'crab pond B22', '张家蟹塘');
  const cookieA = await login(server, 'li.a', 'pear orchard A1');
  const cookieB = await login(server, 'zhang.b', 'crab pond B22');
  const showA = (await call(server, 'POST', '/api/streams', { cookie: cookieA, body: { title: '李家梨园直播' } })).json;
  const showB = (await call(server, 'POST', '/api/streams', { cookie: cookieB, body: { title: '张家蟹塘直播' } })).json;
  assert(showA?.stream_key && showB?.stream_key, 'both farmers have a show');
  const photo = await fetch(server.url('/api/images'), { method: 'POST', body: PNG,
                                                          headers: { 'content-type': 'image/png', cookie: cookieA } });
  eq(photo.status, 201, "A's photo upload");
  const photoUrl = (await photo.json()).url;
  const photoBytes = Buffer.from(await (await fetch(server.url(photoUrl))).arrayBuffer());
  const traceA = 'LI-PEAR-2026-0901';
  const origin = { farm: '李家梨园', place: { county: '隰县', township: '黄土镇', village: '北庄村' }, harvest_date: '2026-09-01',
                   method: '有机', certificates: [], trace_code: traceA };
  eq((await call(server, 'PUT', '/api/me/products', { cookie: cookieA, body: { products: [
    { id: 'pear', title: '玉露香梨 5斤', price: 3990, image: photoUrl, origin }] } })).status, 200, "A's catalog");
  eq((await call(server, 'PUT', `/api/streams/${showA.id}/products`, { cookie: cookieA, body: { products: [
    { id: 'pear', stock: 50 }, { id: 'jam', title: '梨膏', price: 5800, currency: 'CNY', stock: 10 }] } })).status, 200, "A's show catalog");
  eq((await call(server, 'PUT', `/api/streams/${showB.id}/products`, { cookie: cookieB, body: { products: [
    { id: 'crab', title: '大闸蟹', price: 16800, currency: 'CNY', stock: 10 }] } })).status, 200, "B's show catalog");

  const hostA = await Client.connect(server, { stream: showA.id, token: showA.host_token });
  t.defer(() => hostA.close());
  eq((await hostA.waitFor((m) => m.type === 'welcome')).role, 'host', "A's host console");
  const buyerA = await Client.connect(server, { stream: showA.id });
  t.defer(() => buyerA.close());
  const buyerWelcome = await buyerA.waitFor((m) => m.type === 'welcome');
  const orderA = await buyerA.request({ type: 'buy', product_id: 'pear', qty: 2, idempotency_key: 'a-1' });
  const orderA2 = await buyerA.request({ type: 'buy', product_id: 'jam', qty: 1, idempotency_key: 'a-2' });
  eq(orderA.type, 'order.confirmed', "A's buyer's first order");
  eq(orderA2.type, 'order.confirmed', "A's buyer's second order");
  const contact = { name: '赵买家', phone: '13987654321', address: '陕西省延安市洛川县凤栖镇 12 号', payment: 'offline' };
  eq((await call(server, 'POST', `/api/orders/${orderA.order_id}/checkout`, { token: buyerWelcome.buyer_token, body: contact })).status,
     200, "A's buyer checks out");
  const sale = await hostA.request({ type: 'sale.start', product_id: 'jam', price: 4900, quantity: 5, per_buyer_limit: 1, duration_s: 600 });
  eq(sale.type, 'sale.started', "A's flash sale: " + JSON.stringify(sale));
  buyerA.send({ type: 'chat.send', text: '好梨！' });
  const chatA = await hostA.waitFor((m) => m.type === 'chat' && m.text === '好梨！');

  // --- B's credentials ---
  const hostTokenB = showB.host_token;
  const buyerB = await Client.connect(server, { stream: showB.id });
  t.defer(() => buyerB.close());
  const buyerTokenB = (await buyerB.waitFor((m) => m.type === 'welcome')).buyer_token;
  const asB = [
    { who: "B's session", cookie: cookieB },
    { who: "B's host token", token: hostTokenB },
    { who: "B's stream key", token: showB.stream_key },
    { who: "B's buyer token", token: buyerTokenB },
  ];

  // What must never reach B: A's secrets and A's buyers' personal data.
  const secrets = [['stream key', showA.stream_key], ['host token', showA.host_token], ['buyer token', buyerWelcome.buyer_token],
                   ['buyer phone', contact.phone], ['buyer name', contact.name], ['buyer address', contact.address],
                   ['session', cookieA.split('=')[1]]];
  const noSecrets = (r, what) => {
    for (const [name, s] of secrets) assert(!r.text.includes(s), `${what}: the answer holds A's ${name} (${r.status})`);
  };

  // A snapshot of everything A owns, as A sees it.
  async function snapshot() {
    const strip = (j) => JSON.stringify(j, (k, v) => (['viewers', 'peak_viewers', 'server_time', 'ingest'].includes(k) ? undefined : v));
    return {
      show: strip((await call(server, 'GET', `/api/streams/${showA.id}`, { cookie: cookieA })).json),
      products: strip((await call(server, 'GET', `/api/streams/${showA.id}/products`)).json),
      orders: strip((await call(server, 'GET', `/api/streams/${showA.id}/orders`, { cookie: cookieA })).json),
      catalog: strip((await call(server, 'GET', '/api/me/products', { cookie: cookieA })).json),
      myShows: strip((await call(server, 'GET', '/api/me/streams', { cookie: cookieA })).json),
      trace: strip((await call(server, 'GET', `/api/trace/${traceA}`)).json),
      restream: (await call(server, 'GET', `/api/streams/${showA.id}/restream`, { cookie: cookieA })).text,
      buyerOrders: strip((await call(server, 'GET', '/api/me/orders', { token: buyerWelcome.buyer_token })).json),
    };
  }
  const before = await snapshot();
  assert(before.show.includes(showA.stream_key), 'A sees their own key (the snapshot is of real data)');
  assert(before.orders.includes(contact.phone), "A sees the buyer's phone (the snapshot is of real data)");

  // --- one case per route ---
  const tried = new Map();   // route -> attempts made
  const refusedAll = async (route, method, path, body, { raw, contentType } = {}) => {
    for (const cred of asB) {
      const r = raw !== undefined
        ? await fetch(server.url(path), { method, body: raw, headers: { 'content-type': contentType,
            ...(cred.cookie ? { cookie: cred.cookie } : { authorization: `Bearer ${cred.token}` }) } })
            .then(async (x) => ({ status: x.status, text: await x.text() }))
        : await call(server, method, path, { ...cred, body });
      assert(REFUSED.includes(r.status), `${route} ${path} as ${cred.who}: refused, got ${r.status} ${r.text.slice(0, 200)}`);
      noSecrets(r, `${route} as ${cred.who}`);
      tried.set(route, (tried.get(route) ?? 0) + 1);
    }
  };
  // A public route: anyone may read it, but nothing private of A's comes back.
  const publicRead = async (route, method, path) => {
    for (const cred of [...asB, { who: 'anonymous' }]) {
      const r = await call(server, method, path, cred);
      assert(r.status < 500, `${route} ${path} as ${cred.who}: ${r.status}`);
      noSecrets(r, `${route} as ${cred.who}`);
      tried.set(route, (tried.get(route) ?? 0) + 1);
    }
  };
  const A = showA.id;
  const cases = {
    // Public by design (a viewer's pages and media, the catalog shown on the video, the trace
    // page a buyer scans): read with each of B's credentials, no secret in the answer.
    'GET /': () => publicRead('GET /', 'GET', '/'),
    'GET /watch/{id}': (r) => publicRead(r, 'GET', `/watch/${A}`),
    'GET /host/{id}': (r) => publicRead(r, 'GET', `/host/${A}`),
    'GET /broadcast/{id}': (r) => publicRead(r, 'GET', `/broadcast/${A}`),
    'GET /login': (r) => publicRead(r, 'GET', '/login'),
    'GET /join/{code}': (r) => publicRead(r, 'GET', '/join/nope'),
    'GET /farm': (r) => publicRead(r, 'GET', '/farm'),
    'GET /admin': (r) => publicRead(r, 'GET', '/admin'),
    'GET /dashboard': (r) => publicRead(r, 'GET', '/dashboard'),
    'GET /trace/{code}': (r) => publicRead(r, 'GET', `/trace/${traceA}`),
    'GET /static/{path...}': (r) => publicRead(r, 'GET', '/static/css/base.css'),
    'GET /samples/images/{path...}': (r) => publicRead(r, 'GET', '/samples/images/pear-yulu.png'),
    'GET /images/{name}': (r) => publicRead(r, 'GET', photoUrl),
    'GET /api/health': (r) => publicRead(r, 'GET', '/api/health'),
    'GET /api/tls': (r) => publicRead(r, 'GET', '/api/tls'),
    'GET /tls/ca.pem': (r) => publicRead(r, 'GET', '/tls/ca.pem'),  // under --tls-self-signed only
    'GET /metrics': (r) => publicRead(r, 'GET', '/metrics'),
    'GET /api/streams': (r) => publicRead(r, 'GET', '/api/streams'),
    'GET /api/streams/{id}': (r) => publicRead(r, 'GET', `/api/streams/${A}`),
    'GET /api/streams/{id}/products': (r) => publicRead(r, 'GET', `/api/streams/${A}/products`),
    'GET /api/streams/{id}/replays': (r) => publicRead(r, 'GET', `/api/streams/${A}/replays`),
    'GET /hls/{id}/{file...}': (r) => publicRead(r, 'GET', `/hls/${A}/index.m3u8`),
    'GET /hls/{id}/replay/{session}/chapters.json': (r) => publicRead(r, 'GET', `/hls/${A}/replay/s1/chapters.json`),
    'GET /api/trace/{code}': (r) => publicRead(r, 'GET', `/api/trace/${traceA}`),
    'GET /api/invites/{code}': (r) => publicRead(r, 'GET', '/api/invites/not-a-code'),
    'OPTIONS /whip/{id}': (r) => publicRead(r, 'OPTIONS', `/whip/${A}`),
    'OPTIONS /whip/{id}/{session}': (r) => publicRead(r, 'OPTIONS', `/whip/${A}/s1`),
    // Watching over WebRTC is public like HLS (A's show is offline here: 409/415, no secret).
    'OPTIONS /whep/{id}': (r) => publicRead(r, 'OPTIONS', `/whep/${A}`),
    'OPTIONS /whep/{id}/{session}': (r) => publicRead(r, 'OPTIONS', `/whep/${A}/s1`),
    'POST /whep/{id}': (r) => publicRead(r, 'POST', `/whep/${A}`),
    // A viewer's session is ended by its own unguessable Location only.
    'DELETE /whep/{id}/{session}': (r) => refusedAll(r, 'DELETE', `/whep/${A}/0123456789abcdef`),
    // A's show and everything hanging off it.
    'PATCH /api/streams/{id}': (r) => refusedAll(r, 'PATCH', `/api/streams/${A}`, { title: 'hijacked' }),
    'POST /api/streams/{id}/key': (r) => refusedAll(r, 'POST', `/api/streams/${A}/key`, {}),
    'POST /api/streams/{id}/host_token': (r) => refusedAll(r, 'POST', `/api/streams/${A}/host_token`, {}),
    'POST /api/streams/{id}/end': (r) => refusedAll(r, 'POST', `/api/streams/${A}/end`, {}),
    'PUT /api/streams/{id}/products': (r) => refusedAll(r, 'PUT', `/api/streams/${A}/products`,
      { products: [{ id: 'pear', title: '假梨', price: 1, currency: 'CNY', stock: 0 }] }),
    'GET /api/streams/{id}/orders': async (r) => {
      await refusedAll(r, 'GET', `/api/streams/${A}/orders`);
      await refusedAll(r, 'GET', `/api/streams/${A}/orders?format=csv`);
    },
    'GET /api/streams/{id}/report': (r) => refusedAll(r, 'GET', `/api/streams/${A}/report`),
    'GET /api/streams/{id}/restream': (r) => refusedAll(r, 'GET', `/api/streams/${A}/restream`),
    'PUT /api/streams/{id}/restream': (r) => refusedAll(r, 'PUT', `/api/streams/${A}/restream`, { url: 'rtmp://evil.example/live/x' }),
    'DELETE /api/streams/{id}/restream': (r) => refusedAll(r, 'DELETE', `/api/streams/${A}/restream`),
    'DELETE /api/streams/{id}/replays/{session}': (r) => refusedAll(r, 'DELETE', `/api/streams/${A}/replays/s1`),
    'POST /whip/{id}': (r) => refusedAll(r, 'POST', `/whip/${A}`, undefined,
      { raw: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n', contentType: 'application/sdp' }),
    // No session of A's exists to guess; an unknown one ends nothing.
    'DELETE /whip/{id}/{session}': (r) => refusedAll(r, 'DELETE', `/whip/${A}/0123456789abcdef`),
    // A's buyer's orders: every change, with each of B's credentials.
    ...Object.fromEntries(['checkout', 'cancel', 'paid', 'ship', 'deliver', 'refund'].map((action) => [
      `POST /api/orders/{id}/${action}`, async (r) => {
        for (const o of [orderA, orderA2])
          await refusedAll(r, 'POST', `/api/orders/${o.order_id}/${action}`,
                           { ...contact, name: 'B 冒充', carrier: 'SF', tracking: 'SF0000', reason: 'x' });
      }])),
    // Only the payment service's signature moves money: B signs with a guess, A's order stays unpaid.
    'POST /api/payments/notify': async (r) => {
      const body = JSON.stringify({ order_id: orderA.order_id, payment_id: 'pay-b', amount: 1, currency: 'CNY', status: 'paid' });
      for (const sig of ['', createHmac('sha256', 'guessed-secret').update(body).digest('hex'), '0'.repeat(64)]) {
        const x = await fetch(server.url('/api/payments/notify'), { method: 'POST', body,
                                                                     headers: { 'content-type': 'application/json', 'x-signature': sig, cookie: cookieB } });
        eq(x.status, 401, `${r} with a forged signature`);
        tried.set(r, (tried.get(r) ?? 0) + 1);
      }
    },
    // The operator's routes: never a farmer's.
    'POST /api/farmers': (r) => refusedAll(r, 'POST', '/api/farmers', { username: 'evil', password: 'evil password 1', name: 'x' }),
    'GET /api/farmers': (r) => refusedAll(r, 'GET', '/api/farmers'),
    'POST /api/farmers/{id}/disable': (r) => refusedAll(r, 'POST', `/api/farmers/${liA.id}/disable`, {}),
    'POST /api/farmers/{id}/enable': (r) => refusedAll(r, 'POST', `/api/farmers/${liA.id}/enable`, {}),
    'POST /api/invites': (r) => refusedAll(r, 'POST', '/api/invites', { name: 'x' }),
    // An invite is its code's secret: an unknown code accepts nothing.
    'POST /api/invites/{code}/accept': (r) => refusedAll(r, 'POST', '/api/invites/not-a-code/accept',
                                                          { username: 'li.a', password: 'stolen pass 123' }),
    // "Mine" routes: B gets B's, never A's.
    'GET /api/me': async (r) => {
      const x = await call(server, 'GET', '/api/me', { cookie: cookieB });
      eq(x.status, 200, 'B is signed in');
      assert(x.json.username === 'zhang.b' || JSON.stringify(x.json).includes('zhang.b'), '/api/me is B: ' + x.text);
      assert(!x.text.includes('li.a'), '/api/me as B names A');
      tried.set(r, 1);
    },
    'GET /api/me/streams': async (r) => {
      const x = await call(server, 'GET', '/api/me/streams', { cookie: cookieB });
      eq(x.status, 200, r);
      const ids = x.json.streams.map((s) => s.id);
      assert(ids.includes(showB.id) && !ids.includes(showA.id), "B's shows are B's only: " + ids);
      noSecrets(x, r);
      tried.set(r, 1);
    },
    'GET /api/me/products': async (r) => {
      const x = await call(server, 'GET', '/api/me/products', { cookie: cookieB });
      eq(x.status, 200, r);
      eq(x.json.products.map((p) => p.id).join(), 'crab', "B's catalog is B's only");
      tried.set(r, 1);
    },
    'PUT /api/me/products': async (r) => {
      // B's catalog may use any product id, A's included: it is B's own row, A's is untouched
      // (checked in the snapshot). A's trace code is A's: B cannot put it on B's product.
      const x = await call(server, 'PUT', '/api/me/products', { cookie: cookieB, body: { products: [
        { id: 'crab', title: '大闸蟹', price: 16800 }, { id: 'pear', title: '冒充的梨', price: 1 }] } });
      eq(x.status, 200, "B's own catalog");
      const y = await call(server, 'PUT', '/api/me/products', { cookie: cookieB, body: { products: [
        { id: 'crab', title: '大闸蟹', price: 16800, origin: { ...origin, farm: '冒充' } }] } });
      eq(y.status, 409, "A's trace code on B's catalog: " + y.text);
      const z = await call(server, 'PUT', `/api/streams/${showB.id}/products`, { cookie: cookieB, body: { products: [
        { id: 'crab', title: '大闸蟹', price: 16800, currency: 'CNY', stock: 10, origin: { ...origin, farm: '冒充' } }] } });
      eq(z.status, 409, "A's trace code in B's show: " + z.text);
      tried.set(r, 3);
    },
    'GET /api/me/dashboard': async (r) => {
      const x = await call(server, 'GET', '/api/me/dashboard', { cookie: cookieB });
      eq(x.status, 200, r);
      assert(!x.text.includes(showA.id) && !x.text.includes('李家梨园直播') && !x.text.includes('梨膏'), "B's dashboard shows nothing of A's: " + x.text.slice(0, 300));
      noSecrets(x, r);
      tried.set(r, 1);
    },
    'GET /api/me/orders': async (r) => {
      const x = await call(server, 'GET', '/api/me/orders', { token: buyerTokenB });
      eq(x.status, 200, r);
      eq(x.json.orders.length, 0, "B's buyer has no orders (none of A's buyer's)");
      for (const cred of asB.filter((c) => c.token !== buyerTokenB)) {
        const y = await call(server, 'GET', '/api/me/orders', cred);
        assert(REFUSED.includes(y.status) || (y.status === 200 && y.json.orders.length === 0), `${r} as ${cred.who}: ${y.status}`);
        noSecrets(y, r);
      }
      tried.set(r, 4);
    },
    'POST /api/streams': async (r) => {
      const x = await call(server, 'POST', '/api/streams', { cookie: cookieB, body: { title: '张家第二场', farmer: '李家梨园' } });
      eq(x.status, 201, r);
      const mine = (await call(server, 'GET', '/api/me/streams', { cookie: cookieA })).json.streams.map((s) => s.id);
      assert(!mine.includes(x.json.id), "a show B makes is not A's, whatever its 'farmer' text says");
      tried.set(r, 1);
    },
    // Anyone signed in may upload; a photo is named by its bytes, so B's upload is a new name
    // and A's photo keeps its bytes (checked below).
    'POST /api/images': async (r) => {
      const x = await fetch(server.url('/api/images'), { method: 'POST', body: PNG_B, headers: { 'content-type': 'image/png', cookie: cookieB } });
      eq(x.status, 201, "B's own upload");
      const url = (await x.json()).url;
      assert(url !== photoUrl, "B's photo has its own name");
      tried.set(r, 1);
    },
    // Signing in and out: B's sign-out ends B's session only; B cannot sign in as A without
    // A's password.
    'POST /api/login': async (r) => {
      eq((await call(server, 'POST', '/api/login', { body: { username: 'li.a', password: 'crab pond B22' } })).status, 401,
         "B's password on A's username");
      tried.set(r, 1);
    },
    'POST /api/logout': async (r) => {
      const spare = await login(server, 'zhang.b', 'crab pond B22');
      eq((await call(server, 'POST', '/api/logout', { cookie: spare, body: {} })).status < 300, true, "B's sign-out");
      eq((await call(server, 'GET', '/api/me', { cookie: cookieA })).status, 200, "A stays signed in after B's sign-out");
      eq((await call(server, 'GET', '/api/me', { cookie: cookieB })).status, 200, "B's other session too");
      tried.set(r, 1);
    },
  };
  const missing = routes.filter((r) => !(r in cases));
  assert(missing.length === 0, `routes with no cross-tenant case (add one to tests/security/cross_tenant.mjs): ${missing.join(', ')}`);
  for (const route of routes) await cases[route](route);
  for (const route of routes) assert((tried.get(route) ?? 0) > 0, `${route}: no attempt made`);

  // --- websocket commands on A's show ---
  // B's host token on A's room is refused at the door, and so is B's session as a token.
  for (const token of [hostTokenB, cookieB.split('=')[1], showB.stream_key]) {
    const c = await Client.connect(server, { stream: A, token });
    const first = await c.waitFor((m) => m.type === 'welcome' || m.type === 'error');
    eq(first.type, 'error', 'a token of B on A\'s room');
    eq(first.code, 'forbidden', 'refused as forbidden');
    eq((await c.waitClosed()).code, 1008, 'and closed');
  }
  // B in A's room with B's session cookie (a farmer's browser) is a viewer: every host command
  // is refused; the viewer's own commands act as B, never as A or A's buyer.
  const inRoom = await wsWithCookie(server, { stream: A }, cookieB);
  t.defer(() => inRoom.close());
  const w = await inRoom.waitFor((m) => m.type === 'welcome');
  eq(w.role, 'viewer', "B's session in A's room is a viewer");
  assert(w.viewer_id !== buyerWelcome.viewer_id, 'not A\'s buyer');
  const hostCase = {
    'card.show': { product_id: 'pear', slot: 'top' },
    'card.hide': { product_id: 'pear' },
    'product.update': { product_id: 'pear', price: 1, stock: 0, title: '假梨' },
    'sale.start': { product_id: 'pear', price: 1, quantity: 50, per_buyer_limit: 50, duration_s: 60 },
    'sale.stop': { sale_id: sale.sale_id },
    'chat.delete': { message_id: chatA.id },
    'viewer.mute': { viewer_id: buyerWelcome.viewer_id, duration_s: 600 },
  };
  const anyoneCase = {
    ping: async () => eq((await inRoom.request({ type: 'ping' })).type, 'pong', 'ping'),
    'chat.send': async () => {
      inRoom.send({ type: 'chat.send', text: 'B 的话' });
      const seen = await hostA.waitFor((x) => x.type === 'chat' && x.text === 'B 的话');
      eq(seen.viewer_id, w.viewer_id, "B's chat is B's, not A's buyer's");
    },
    buy: async () => {
      const a = await inRoom.request({ type: 'buy', product_id: 'jam', qty: 1, idempotency_key: 'a-2' });
      // The same key as A's buyer's order: B gets an order of B's own (or a refusal), never A's.
      assert(a.order_id !== orderA2.order_id, "B's buy with A's buyer's key is not A's buyer's order");
    },
  };
  for (const { type, hostOnly } of commands) {
    if (hostOnly) {
      assert(type in hostCase, `host command ${type} has no cross-tenant case`);
      const a = await inRoom.request({ type, ...hostCase[type] });
      eq(a.type, 'error', `${type} from B in A's room`);
      eq(a.code, 'forbidden', `${type} from B in A's room`);
    } else {
      assert(type in anyoneCase, `command ${type} has no case`);
      await anyoneCase[type]();
    }
  }
  // The sale still runs, the card and chat are as A left them.
  const stillHost = await Client.connect(server, { stream: A, token: showA.host_token });
  t.defer(() => stillHost.close());
  const w2 = await stillHost.waitFor((m) => m.type === 'welcome');
  eq(w2.role, 'host', "A's host token still works");
  assert(w2.sales.some((s) => s.sale_id === sale.sale_id), "A's sale still runs: " + JSON.stringify(w2.sales));
  eq(w2.products.find((p) => p.id === 'pear')?.price, 3990, "A's price unchanged in the room");
  const muted = await buyerA.request({ type: 'chat.send', text: '还能说话' });
  assert(muted.type !== 'error', "A's buyer was not muted by B: " + JSON.stringify(muted));

  // --- A's data afterwards ---
  // B's buy above reserved one jam: the products snapshot is compared without stock.
  const after = await snapshot();
  for (const k of Object.keys(before)) {
    if (k === 'products' || k === 'orders') continue;
    eq(after[k], before[k], `A's ${k} unchanged`);
  }
  const ordersBefore = JSON.parse(before.orders).orders;
  const ordersAfter = JSON.parse(after.orders).orders;
  for (const o of ordersBefore)
    eq(JSON.stringify(ordersAfter.find((x) => x.order_id === o.order_id)), JSON.stringify(o), `A's order ${o.order_id} unchanged`);
  const prodBefore = JSON.parse(before.products).products;
  const prodAfter = JSON.parse(after.products).products;
  for (const p of prodBefore) {
    const q = prodAfter.find((x) => x.id === p.id);
    for (const k of ['title', 'price', 'currency', 'image']) eq(q?.[k], p[k], `A's product ${p.id} ${k}`);
  }
  eq(JSON.parse(after.trace).product.origin.farm, '李家梨园', "A's trace record is still A's");
  const photoAfter = Buffer.from(await (await fetch(server.url(photoUrl))).arrayBuffer());
  assert(photoAfter.equals(photoBytes), "A's photo has the same bytes");
  eq((await call(server, 'GET', `/api/streams/${A}`, { cookie: cookieA })).json.stream_key, showA.stream_key, "A's key unchanged");
  noSecrets({ text: server.log, status: 0 }, 'the log');
  const attempts = [...tried.values()].reduce((a, b) => a + b, 0);
  console.log(`cross-tenant: ${routes.length} routes, ${commands.length} websocket commands, ${attempts} attempts by B, all refused or clean`);
});
