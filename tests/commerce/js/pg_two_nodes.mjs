// Two real harvest-server nodes on one real PostgreSQL (issue 19): stock is decided in the
// database, so
//  1. reserved orders both nodes know (loaded at start) expire exactly once: the units go back
//     once (products.sold is 0, not minus the units);
//  2. 300 buyers split across the nodes in one sale of 50 units get exactly 50 confirmations,
//     the rest sold_out, and the 50 are exactly PostgreSQL's rows;
//  3. kill -9 one node mid-sale: every order it confirmed is in PostgreSQL and the other node
//     keeps selling to the last unit, never past it.
import { Server, Client, run, assert, eq, waitUntil } from './lib.mjs';
import { Postgres } from '../../support/postgres.mjs';

const WINDOW_S = 15;  // payment window: the fig orders expire while both nodes run

async function buyers(server, stream, n) {
  const cs = await Promise.all(Array.from({ length: n }, () => Client.connect(server, { stream })));
  await Promise.all(cs.map((c) => c.waitFor((m) => m.type === 'welcome')));
  return cs;
}

run('pg_two_nodes', async (t) => {
  const pg = await Postgres.start();
  t.defer(() => pg.stop());
  const args = ['--store', pg.url, '--payment-window', `${WINDOW_S}s`];
  const a = await Server.start({ args });
  t.defer(() => a.stop());

  // Catalogs and the fig orders exist before node B starts, so B loads them too.
  const figs = await a.createStream('figs');
  eq((await a.putProducts(figs.id, [{ id: 'fig', title: 'fig', price: 500, currency: 'CNY', stock: 5 }], figs.host_token)).status, 200, 'PUT figs');
  const pears = await a.createStream('pears');
  eq((await a.putProducts(pears.id, [{ id: 'pear', title: 'pear', price: 3990, currency: 'CNY', stock: 50 }], pears.host_token)).status, 200, 'PUT pears');
  const apples = await a.createStream('apples');
  eq((await a.putProducts(apples.id, [{ id: 'apple', title: 'apple', price: 990, currency: 'CNY', stock: 100 }], apples.host_token)).status, 200, 'PUT apples');
  const figBuyers = await buyers(a, figs.id, 5);
  t.defer(() => figBuyers.forEach((c) => c.close()));
  const figAnswers = await Promise.all(figBuyers.map((c, i) => c.request({ type: 'buy', product_id: 'fig', qty: 1, idempotency_key: `fig-${i}` })));
  figAnswers.forEach((m) => eq(m.type, 'order.confirmed', 'fig buy'));

  const b = await Server.start({ args });
  t.defer(() => b.stop());

  // --- 2. one sale, 300 buyers on two nodes, 50 units ---
  const onA = await buyers(a, pears.id, 150);
  const onB = await buyers(b, pears.id, 150);
  t.defer(() => [...onA, ...onB].forEach((c) => c.close()));
  const all = [...onA, ...onB];
  const answers = await Promise.all(all.map((c, i) => c.request({ type: 'buy', product_id: 'pear', qty: 1, idempotency_key: `pear-${i}` }, 30000)));
  const confirmed = answers.filter((m) => m.type === 'order.confirmed');
  const refused = answers.filter((m) => m.type === 'order.rejected');
  eq(confirmed.length, 50, 'confirmed pear orders across both nodes');
  eq(refused.length, 250, 'refused pear buys');
  refused.forEach((m) => eq(m.reason, 'sold_out', 'every other buyer is told sold_out'));
  // Which node's buyers win is a race (either may take all 50); the total is what is decided.
  const pearsOnA = answers.slice(0, 150).filter((m) => m.type === 'order.confirmed').length;
  const rows = pg.sql(`SELECT id FROM orders WHERE stream_id = '${pears.id}'`).map((r) => Number(r[0]));
  eq(rows.length, 50, 'pear orders in PostgreSQL');
  eq(new Set(rows).size, 50, 'distinct order ids');
  confirmed.forEach((m) => assert(rows.includes(Number(m.order_id)), `confirmed order ${m.order_id} is in PostgreSQL`));
  eq(pg.sql(`SELECT stock_ceiling, sold FROM products WHERE stream_id = '${pears.id}'`)[0].join('/'), '50/50', 'pear ceiling/sold');
  // A retry on the other node with a key node A stored is not sold twice.
  const first = answers.findIndex((m, i) => i < 150 && m.type === 'order.confirmed');
  const again = await onB[0].request({ type: 'buy', product_id: 'pear', qty: 1, idempotency_key: `pear-${first}` });
  eq(again.type, 'order.rejected', 'a key from the other node');
  eq(pg.sql(`SELECT count(*) FROM orders WHERE stream_id = '${pears.id}'`)[0][0], '50', 'still 50 pear orders');

  // --- 1. the fig orders expire once, with both nodes running ---
  await waitUntil(() => pg.sql(`SELECT count(*) FROM orders WHERE stream_id = '${figs.id}' AND status = 'expired'`)[0][0] === '5',
                  (WINDOW_S + 20) * 1000, 'fig orders expired');
  await waitUntil(() => /orders_expired/.test(a.log) && /orders_expired/.test(b.log), 15000, 'both nodes ran the expiry');
  eq(pg.sql(`SELECT sold FROM products WHERE stream_id = '${figs.id}'`)[0][0], '0', 'fig units back exactly once');

  // --- 3. kill -9 node A mid-sale; node B sells the rest, never more ---
  const appleA = await buyers(a, apples.id, 40);  // fewer than the stock: B sells the rest
  const appleB = await buyers(b, apples.id, 60);
  t.defer(() => [...appleA, ...appleB].forEach((c) => c.close()));
  const confirmedOnA = [];
  appleA.forEach((c, i) => {
    c.send({ type: 'buy', id: `a${i}`, product_id: 'apple', qty: 1, idempotency_key: `apple-a-${i}` });
    c.waitFor((m) => m.re === `a${i}`, 60000).then((m) => { if (m.type === 'order.confirmed') confirmedOnA.push(Number(m.order_id)); }, () => {});
  });
  await waitUntil(() => confirmedOnA.length >= 5, 30000, 'node A confirming apples');
  await a.killHard();
  const seenConfirmedOnA = [...confirmedOnA];
  // Node B's buyers buy until the database says sold out.
  let soldOnB = 0;
  await Promise.all(appleB.map(async (c, i) => {
    for (let k = 0; ; k++) {
      const m = await c.request({ type: 'buy', product_id: 'apple', qty: 1, idempotency_key: `apple-b-${i}-${k}` }, 30000);
      if (m.type === 'order.confirmed') { soldOnB++; continue; }
      eq(m.reason, 'sold_out', 'node B stops only at sold out');
      return;
    }
  }));
  const appleRows = pg.sql(`SELECT id FROM orders WHERE stream_id = '${apples.id}'`).map((r) => Number(r[0]));
  eq(appleRows.length, 100, 'every apple sold, none past the stock');
  eq(pg.sql(`SELECT sold FROM products WHERE stream_id = '${apples.id}'`)[0][0], '100', 'apple sold in PostgreSQL');
  seenConfirmedOnA.forEach((id) => assert(appleRows.includes(id), `order ${id} confirmed by the killed node is in PostgreSQL`));
  assert(soldOnB > 0, 'node B kept selling after node A died');
  console.log(`pears: 50 of 300 (${pearsOnA} on node A); apples: node A confirmed ${seenConfirmedOnA.length} before kill -9, node B sold ${soldOnB}`);
});
