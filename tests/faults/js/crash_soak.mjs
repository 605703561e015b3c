// Crash safety under a continuous sale (issue 21, "Crash safety, soak").
//
// Buyers buy, cancel, check out and pay (signed payment notifications) and a host changes the
// product card, without pause, while the server is killed with SIGKILL at random moments and
// restarted on the same data dir and ports. The clients keep a ledger of what the server
// ACKNOWLEDGED: `order.confirmed`, a 2xx on cancel, a 200 on a payment notification. After every
// restart, from the host's orders list and the catalog:
//   - every confirmed order is stored exactly once (one row per order id, one order per
//     (buyer, idempotency key)), for the right buyer, product and quantity;
//   - every acknowledged state change is there: the stored status is the last acknowledged one,
//     or one a change still unanswered at the kill could have led to;
//   - per product, stock + reserved + sold = the initial stock.
// Keys whose buy was unanswered at a kill are sent again after the restart: the answer must be
// the stored order (or its absence), never a second one.
//
// SOAK_SECONDS (default 75) sets the length, SOAK_KILLS (default: one per 20 s, at least 3)
// the number of kills. The long run: SOAK_SECONDS=600. SOAK_STORE=postgres runs the server on a
// real PostgreSQL started here (initdb on a free port, tests/support/postgres.mjs; the test
// FAILS when it cannot start): every kill then hits the server with the database alive, and
// the invariants are read back from it. HARVEST_SERVER_ARGS adds flags.
import { createHmac } from 'node:crypto';
import { Server, Client, run, assert, eq, waitUntil } from '../../commerce/js/lib.mjs';
import { Postgres } from '../../support/postgres.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 75);
const KILLS = Number(process.env.SOAK_KILLS ?? Math.max(3, Math.floor(SECONDS / 20)));
const BUYERS = Number(process.env.SOAK_BUYERS ?? 12);
const STORE = process.env.SOAK_STORE ?? 'sqlite';
const SECRET = 'soak-payment-secret-0123456789';
const PAY_URL = 'https://pay.example.com/cashier?order={order_id}&amount={amount}&currency={currency}';
const PRODUCTS = [
  { id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 100000, image: '' },
  { id: 'crab', title: '宿迁大闸蟹', price: 16800, currency: 'CNY', stock: 100000, image: '' },
  { id: 'rice', title: '五常大米', price: 5990, currency: 'CNY', stock: 100000, image: '' },
];
const HOLDS_STOCK = new Set(['reserved', 'paid', 'shipped', 'delivered']);
const sign = (body) => createHmac('sha256', SECRET).update(body).digest('hex');
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

run('crash_soak', async (t) => {
  const args = ['--payment-secret', SECRET, '--payment-url', PAY_URL, '--payment-window', '2h'];
  let pg = null;
  if (STORE === 'postgres') {
    pg = await Postgres.start();
    t.defer(() => pg.stop());
    args.push('--store', pg.url);
  } else if (STORE !== 'sqlite') {
    throw new Error(`SOAK_STORE must be sqlite or postgres, got '${STORE}'`);
  }
  let server = await Server.start({ args });
  const dataDir = server.dataDir;
  const port = server.port;
  let up = true;
  t.defer(async () => { up = false; await server.stop(); (await import('node:fs')).rmSync(dataDir, { recursive: true, force: true }); });
  const stream = await server.createStream('soak');
  eq((await server.putProducts(stream.id, PRODUCTS)).status, 200, 'PUT products');

  // --- the ledger ---
  const orders = new Map();     // order_id -> {buyer, viewer, key, product, qty, acked, maybe:Set}
  const byKey = new Map();      // `${viewer}/${key}` -> order_id
  const pendingKeys = [];       // buys sent without an answer when the server died: {w, key, product, qty}
  const stats = { confirmed: 0, rejected: 0, cancels: 0, pays: 0, cards: 0, unanswered: 0, restarts: 0, retried: 0, checks: 0 };

  // --- buyers: one websocket each, reconnecting with their buyer token after a crash ---
  const workers = [];
  for (let i = 0; i < BUYERS; i++) workers.push({ i, token: null, viewer: null, client: null, seq: 0, mine: new Set() });
  // Sends a request and waits for its answer, or throws when the connection is gone.
  async function ask(client, obj, timeoutMs = 15000) {
    const id = `r${Client.seq++}`;
    client.send({ ...obj, id });
    let answer = null;
    await waitUntil(() => (answer = client.messages.find((m) => m.re === id)) || client.closed, timeoutMs, obj.type);
    if (!answer) throw new Error(`${obj.type}: connection closed`);
    return answer;
  }
  async function connect(w) {
    w.client = await Client.connect(server, w.token ? { stream: stream.id, buyer: w.token } : { stream: stream.id });
    const welcome = await w.client.waitFor((m) => m.type === 'welcome', 10000);
    if (w.token) eq(welcome.viewer_id, w.viewer, 'same buyer after a restart');
    w.token = welcome.buyer_token;
    w.viewer = welcome.viewer_id;
  }
  const post = async (path, body, headers = {}) => {
    if (!up) throw new Error('server down');
    const r = await fetch(server.url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers },
                                              body, signal: AbortSignal.timeout(10000) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch {}
    return { status: r.status, json, text };
  };
  function recordConfirmed(w, a, key, product, qty) {
    const k = `${w.viewer}/${key}`;
    if (byKey.has(k)) { eq(a.order_id, byKey.get(k), `key ${k} answered with its first order`); return; }
    assert(!orders.has(a.order_id), `order ${a.order_id} confirmed to two keys`);
    byKey.set(k, a.order_id);
    w.mine.add(a.order_id);
    orders.set(a.order_id, { buyer: w.token, viewer: w.viewer, key, product, qty, acked: 'reserved', maybe: new Set() });
    stats.confirmed++;
  }

  async function buyerStep(w) {
    const roll = Math.random();
    await sleep(50 + Math.random() * 200);  // a person's pace: ~5 actions a second per buyer
    for (const id of w.mine) if (orders.get(id).acked !== 'reserved') w.mine.delete(id);
    const mine = [...w.mine].map((id) => [id, orders.get(id)]).filter(([, o]) => o.maybe.size === 0);
    if (roll < 0.55 || mine.length === 0) {
      const key = `w${w.i}-${w.seq++}`;
      const product = pick(PRODUCTS).id;
      const qty = 1 + Math.floor(Math.random() * 3);
      const p = { w, key, product, qty };
      if (!up) throw new Error('server down');
      pendingKeys.push(p);
      const a = await ask(w.client, { type: 'buy', product_id: product, qty, idempotency_key: key });
      const at = pendingKeys.indexOf(p);
      if (at < 0) return;  // answered as the server died: the retry after the restart records it
      pendingKeys.splice(at, 1);
      if (a.type === 'order.confirmed') recordConfirmed(w, a, key, product, qty);
      else stats.rejected++;
      return;
    }
    const [id, o] = pick(mine);
    if (roll < 0.75) {
      o.maybe.add('cancelled');
      const r = await post(`/api/orders/${id}/cancel`, '{}', { authorization: `Bearer ${w.token}` });
      if (r.status === 200) { o.acked = 'cancelled'; o.maybe.clear(); stats.cancels++; }
      else if (r.status !== 409) throw new Error(`cancel ${id}: ${r.status} ${r.text}`);
      return;
    }
    // Checkout for the gateway, then the payment service's signed notification.
    const c = await post(`/api/orders/${id}/checkout`, JSON.stringify({ name: '李四', phone: '13912345678',
      address: '陕西省延安市洛川县凤栖镇 8 号', payment: 'gateway' }), { authorization: `Bearer ${w.token}` });
    if (c.status !== 200) throw new Error(`checkout ${id}: ${c.status} ${c.text}`);
    const price = PRODUCTS.find((p) => p.id === o.product).price;
    const body = JSON.stringify({ order_id: id, payment_id: `pay-${id}`, amount: price * o.qty, currency: 'CNY', status: 'paid' });
    o.maybe.add('paid');
    const r = await post('/api/payments/notify', body, { 'x-signature': sign(body) });
    if (r.status === 200 && r.json.outcome === 'paid') { o.acked = 'paid'; o.maybe.clear(); stats.pays++; }
    else throw new Error(`pay ${id}: ${r.status} ${r.text}`);
  }

  // The host shows cards in turn (room state, not stored: checked as load, see docs/reliability.md).
  const host = { client: null };
  async function hostStep() {
    await sleep(200 + Math.random() * 800);
    const a = await ask(host.client, { type: 'card.show', product_id: pick(PRODUCTS).id, slot: pick(['bottom', 'top']) });
    if (a.type !== 'card.shown') throw new Error('card.show: ' + JSON.stringify(a));
    stats.cards++;
  }

  // A loop that works while the server is up and waits for the restart when a step fails
  // because the server died; any other failure fails the test.
  let fatal = null;
  let epoch = 0;
  async function loop(name, connectFn, step) {
    while (!stop && !fatal) {
      const myEpoch = epoch;
      try {
        if (!up) { await sleep(20); continue; }
        await connectFn();
        while (!stop && up && epoch === myEpoch) await step();
      } catch (e) {
        if (up && epoch === myEpoch && !stop) { fatal = new Error(`${name}: ${e.stack ?? e}`); return; }
      }
      // The main flow bounds each restart with its own deadlines; this only waits for it.
      await waitUntil(() => stop || fatal || (up && epoch !== myEpoch), 3600000, `${name} waiting for the restart`);
    }
  }

  async function check(when) {
    const list = await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token });
    eq(list.status, 200, 'orders list');
    const stored = new Map();
    const keys = new Set();
    for (const o of list.json.orders) {
      assert(!stored.has(o.order_id), `${when}: order ${o.order_id} stored twice`);
      stored.set(o.order_id, o);
      const k = `${o.viewer_id}/${o.idempotency_key}`;
      assert(!keys.has(k), `${when}: two orders for key ${k}`);
      keys.add(k);
    }
    for (const [id, o] of orders) {
      const s = stored.get(id);
      assert(s, `${when}: confirmed order ${id} (${o.viewer}/${o.key}) is missing`);
      eq(s.viewer_id, o.viewer, `${when}: order ${id} buyer`);
      eq(s.idempotency_key, o.key, `${when}: order ${id} key`);
      eq(s.product_id, o.product, `${when}: order ${id} product`);
      eq(s.qty, o.qty, `${when}: order ${id} qty`);
      assert(s.status === o.acked || o.maybe.has(s.status),
             `${when}: order ${id} is ${s.status}, acknowledged ${o.acked}` + (o.maybe.size ? ` (maybe ${[...o.maybe]})` : ''));
      // What was unanswered is now decided: the stored state is the truth from here on.
      o.acked = s.status;
      o.maybe.clear();
    }
    const catalog = await server.http('GET', `/api/streams/${stream.id}/products`);
    for (const p of PRODUCTS) {
      const now = catalog.json.products.find((x) => x.id === p.id);
      let held = 0;
      for (const s of stored.values()) if (s.product_id === p.id && HOLDS_STOCK.has(s.status)) held += s.qty;
      eq(now.stock + held, p.stock, `${when}: ${p.id} stock ${now.stock} + reserved/sold ${held} = initial`);
    }
    stats.checks++;
    return stored;
  }

  let stop = false;
  const started = Date.now();
  const log = (what) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${what}`);
  const loops = [
    ...workers.map((w) => loop(`buyer ${w.i}`, () => connect(w), () => buyerStep(w))),
    loop('host', async () => { host.client = await Client.connect(server, { stream: stream.id, token: stream.host_token }); },
         hostStep),
  ].map((p) => p.catch((e) => { fatal = fatal ?? e; }));

  // Kill at random moments spread over the run: one in each of KILLS equal slices.
  const slice = (SECONDS * 1000) / (KILLS + 1);
  for (let k = 0; k < KILLS && !fatal; k++) {
    const at = started + slice * (k + 0.5 + Math.random());
    while (Date.now() < at && !fatal) await sleep(50);
    if (fatal) break;
    up = false;
    await server.killHard();
    log(`kill ${k + 1}: ${orders.size} orders confirmed so far, ${pendingKeys.length} buys unanswered`);
    stats.unanswered += pendingKeys.length;
    for (const w of workers) w.client?.close();
    host.client?.close();
    server = await Server.start({ dataDir, args: [...args, '--http-port', String(port)] });
    eq(server.port, port, 'restarted on the same port');
    stats.restarts++;
    log(`restarted`);
    await check(`after kill ${k + 1}`);
    log(`checked`);
    // Buys unanswered at the kill: the same key again gives the stored order or a first one.
    const retry = pendingKeys.splice(0);
    const stored = new Map((await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token }))
      .json.orders.map((o) => [`${o.viewer_id}/${o.idempotency_key}`, o]));
    for (const p of retry) {
      const c = await Promise.race([Client.connect(server, { stream: stream.id, buyer: p.w.token }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('retry connect timed out')), 20000))]);
      await c.waitFor((m) => m.type === 'welcome');
      const a = await ask(c, { type: 'buy', product_id: p.product, qty: p.qty, idempotency_key: p.key });
      c.close();
      const was = stored.get(`${p.w.viewer}/${p.key}`);
      if (was) { eq(a.type, 'order.confirmed', `retried key ${p.key}`); eq(a.order_id, was.order_id, `retried key ${p.key} order`); }
      if (a.type === 'order.confirmed') recordConfirmed(p.w, a, p.key, p.product, p.qty);
      stats.retried++;
    }
    log(`${retry.length} unanswered buys sent again`);
    epoch++;
    up = true;
  }
  while (Date.now() < started + SECONDS * 1000 && !fatal) await sleep(100);
  stop = true;
  await Promise.all(loops);
  if (fatal) throw fatal;
  for (const w of workers) w.client?.close();
  host.client?.close();
  // A last clean look, then one more restart after a clean stop.
  const final = await check('at the end');
  await server.stop();
  server = await Server.start({ dataDir, args: [...args, '--http-port', String(port)] });
  await check('after a clean restart');
  eq(stats.restarts, KILLS, 'kills survived');
  assert(stats.confirmed > KILLS * 10 && stats.cancels > 0 && stats.pays > 0 && stats.cards > 0, 'work was done: ' + JSON.stringify(stats));
  const statuses = {};
  for (const s of final.values()) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  if (pg) {
    // Straight from PostgreSQL: one row per order, the same set the server lists.
    const rows = pg.sql(`SELECT id FROM orders WHERE stream_id = '${stream.id}'`).map((r) => String(r[0]));
    eq(rows.length, final.size, 'order rows in PostgreSQL');
    eq(new Set(rows).size, rows.length, 'distinct order ids in PostgreSQL');
    for (const id of orders.keys()) assert(rows.includes(String(id)), `confirmed order ${id} is a PostgreSQL row`);
  }
  console.log(`soak (${STORE}): ${SECONDS} s, ${BUYERS} buyers, ${JSON.stringify(stats)}, stored ${final.size} orders ${JSON.stringify(statuses)}, lost 0`);
});
