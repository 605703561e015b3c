// Issue 19: a node that starts while Redis is unreachable starts anyway (serving its own
// viewers), says so once, and joins the bus when Redis comes up: the refused connect is noticed
// (Debian's hiredis libuv adapter alone would hang on it) and retried with backoff.
import { run, eq, Server } from '../../commerce/js/lib.mjs';
import { twoNodes, enter, waitLog } from './nodes.mjs';

run('bus_node_starts_before_redis', async (t) => {
  const { redis, a, b, stream } = await twoNodes(t, {
    products: [{ id: 'melon', title: 'Melon', price: 2990, currency: 'CNY', stock: 5 }],
  });
  // Redis goes away and node A restarts meanwhile.
  await redis.kill();
  await a.stop();
  const a2 = await Server.start({ dataDir: a.dataDir, args: ['--bus', redis.url] });
  t.defer(() => a2.stop());
  await waitLog(a2, /event=bus_down/, 'the restarted A finds no Redis', 10000);
  const host = await enter(t, a2, { stream: stream.id, token: stream.host_token }, 'host');
  eq((await host.request({ type: 'card.show', product_id: 'melon', slot: 'bottom' })).type, 'card.shown',
     'A serves its own room without Redis');

  const fromB = b.log.length;
  await redis.restart();
  await waitLog(a2, /event=bus_up/, 'A joins the bus when Redis is up', 15000);
  await waitLog(b, /event=bus_up/, 'B reconnects', 15000, fromB);
  eq((a2.log.match(/event=bus_down/g) ?? []).length, 1, 'the outage is logged once, not per retry');
  // The card A showed before the bus was up reaches B's viewers by the resync.
  const viewer = await enter(t, b, { stream: stream.id }, 'viewer');
  await viewer.waitFor((m) => (m.type === 'welcome' && m.cards.some((c) => c.product_id === 'melon')) ||
                              (m.type === 'card.shown' && m.product_id === 'melon'), 10000);
});
