// Issue 19: Redis restarted mid-show. Both nodes log the outage once, reconnect with backoff,
// and re-publish their room state: a card the host showed on A while Redis was down reaches a
// viewer who joined node B during the outage (the resync), and a card shown after the
// reconnect reaches B as usual.
import { run, assert, eq } from '../../commerce/js/lib.mjs';
import { twoNodes, enter, waitLog } from './nodes.mjs';

run('bus_redis_restart_resync', async (t) => {
  const { redis, a, b, stream } = await twoNodes(t, {
    products: [
      { id: 'melon', title: 'Melon', price: 2990, currency: 'CNY', stock: 5 },
      { id: 'pear', title: 'Pear', price: 990, currency: 'CNY', stock: 20 },
      { id: 'plum', title: 'Plum', price: 1290, currency: 'CNY', stock: 20 },
    ],
  });
  const host = await enter(t, a, { stream: stream.id, token: stream.host_token }, 'host');
  const early = await enter(t, b, { stream: stream.id }, 'viewer');
  await host.request({ type: 'card.show', product_id: 'melon', slot: 'bottom' });
  await early.waitFor((m) => m.type === 'card.shown' && m.product_id === 'melon', 5000);

  // Redis dies. Both nodes notice (one bus_down line each, however many retries follow).
  const logA = a.log.length;
  const logB = b.log.length;
  await redis.kill();
  await waitLog(a, /event=bus_down/, 'A notices Redis is gone', 10000, logA);
  await waitLog(b, /event=bus_down/, 'B notices Redis is gone', 10000, logB);

  // During the outage: the host swaps the card on A; a viewer joins B and sees the old state.
  const swapped = await host.request({ type: 'card.show', product_id: 'pear', slot: 'bottom' });
  eq(swapped.type, 'card.shown', 'card.show during the outage is answered on A');
  const newcomer = await enter(t, b, { stream: stream.id }, 'viewer');
  const welcome = newcomer.messages.find((m) => m.type === 'welcome');
  eq(welcome.cards.map((c) => c.product_id).join(','), 'melon', 'B still shows the card from before the outage');

  // Redis comes back on the same port: the nodes reconnect and resync. The newcomer on B gets
  // the card A showed meanwhile, and the card that it displaced goes.
  await redis.restart();
  await waitLog(a, /event=bus_up/, 'A reconnects', 15000, logA);
  await waitLog(b, /event=bus_up/, 'B reconnects', 15000, logB);
  const resynced = await newcomer.waitFor((m) => m.type === 'card.shown' && m.product_id === 'pear', 10000);
  eq(resynced.slot, 'bottom', 'the resynced card is in its slot');
  await newcomer.waitFor((m) => m.type === 'card.hidden' && m.product_id === 'melon', 10000);
  const downLines = (a.log.slice(logA).match(/event=bus_down/g) ?? []).length;
  eq(downLines, 1, 'the outage is logged once on A, not once per retry');

  // After the reconnect a card shown on A reaches B again.
  await host.request({ type: 'card.show', product_id: 'plum', slot: 'top' });
  await newcomer.waitFor((m) => m.type === 'card.shown' && m.product_id === 'plum', 5000);
  await early.waitFor((m) => m.type === 'card.shown' && m.product_id === 'plum', 5000);
  const again = await enter(t, b, { stream: stream.id }, 'viewer');
  const cards = again.messages.find((m) => m.type === 'welcome').cards.map((c) => c.product_id).sort().join(',');
  eq(cards, 'pear,plum', 'B has the same cards on screen as A');
  assert(true, 'done');
});
