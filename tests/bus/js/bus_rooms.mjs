// Issue 19, Redis bus: two real nodes on a real redis-server. What a host on node A does reaches
// a viewer on node B (a card, a flash sale), chat from B reaches A, a purchase on B shows on A
// (purchase and stock), and every node's `viewers` (and its report) is the sum over both nodes.
import { run, assert, eq } from '../../commerce/js/lib.mjs';
import { twoNodes, enter } from './nodes.mjs';

run('bus_rooms_across_nodes', async (t) => {
  const { a, b, stream } = await twoNodes(t, {
    products: [
      { id: 'melon', title: 'Melon', price: 2990, currency: 'CNY', stock: 5 },
      { id: 'pear', title: 'Pear', price: 990, currency: 'CNY', stock: 20 },
    ],
  });
  const host = await enter(t, a, { stream: stream.id, token: stream.host_token }, 'host');
  const viewerA = await enter(t, a, { stream: stream.id }, 'viewer');
  const viewerB = await enter(t, b, { stream: stream.id }, 'viewer');

  // Viewer counts: host + viewer on A, one viewer on B → 3 on both nodes.
  await host.waitFor((m) => m.type === 'viewers' && m.count === 3, 10000);
  await viewerB.waitFor((m) => m.type === 'viewers' && m.count === 3, 10000);

  // A card shown on A reaches B, replicated (B's own change, so B's welcome has it too).
  const sent = await host.request({ type: 'card.show', product_id: 'melon', slot: 'bottom' });
  eq(sent.type, 'card.shown', 'card.show answer');
  const onB = await viewerB.waitFor((m) => m.type === 'card.shown' && m.product_id === 'melon', 5000);
  eq(onB.slot, 'bottom', 'slot on B');
  console.log(`card.shown on B ${onB._at - sent._at} ms after the host's answer on A`);
  const late = await enter(t, b, { stream: stream.id }, 'viewer');
  const welcome = late.messages.find((m) => m.type === 'welcome');
  eq(welcome.cards.map((c) => c.product_id).join(','), 'melon', 'a newcomer on B sees the card in welcome');

  // A flash sale started on A reaches B.
  const sale = await host.request({ type: 'sale.start', product_id: 'pear', price: 500, quantity: 5, per_buyer_limit: 2, duration_s: 60 });
  eq(sale.type, 'sale.started', 'sale.start answer');
  await viewerB.waitFor((m) => m.type === 'sale.started' && m.product_id === 'pear', 5000);

  // Chat from B reaches A (the host also sees who wrote it, the viewer does not).
  const said = await viewerB.request({ type: 'chat.send', text: 'from node B' });
  eq(said.type, 'chat', 'chat answer');
  const atHost = await host.waitFor((m) => m.type === 'chat' && m.text === 'from node B', 5000);
  eq(atHost.viewer_id, viewerB.messages.find((m) => m.type === 'welcome').viewer_id, 'the host sees the sender');
  const atViewer = await viewerA.waitFor((m) => m.type === 'chat' && m.text === 'from node B', 5000);
  assert(atViewer.viewer_id === undefined, 'another viewer does not see the sender id');

  // A purchase on B shows on A: the purchase line and the new stock.
  const order = await viewerB.request({ type: 'buy', product_id: 'melon', qty: 2, idempotency_key: 'bus-1' });
  eq(order.type, 'order.confirmed', 'buy on B');
  const purchase = await viewerA.waitFor((m) => m.type === 'purchase' && m.product_id === 'melon', 5000);
  eq(purchase.qty, 2, 'purchase qty on A');
  const stock = await viewerA.waitFor((m) => m.type === 'stock' && m.product_id === 'melon', 5000);
  eq(stock.left, 3, 'stock on A after the buy on B');
  await host.waitFor((m) => m.type === 'order' && m.product_id === 'melon', 5000);

  // A card hidden on A leaves B too.
  await host.request({ type: 'card.hide', product_id: 'melon' });
  await viewerB.waitFor((m) => m.type === 'card.hidden' && m.product_id === 'melon', 5000);

  // A viewer leaving B lowers the count on A (4 with the late viewer, then 3).
  await host.waitFor((m) => m.type === 'viewers' && m.count === 4, 10000);
  // The report on either node counts the viewers of both: three buyers opened the room
  // (two on B), and at most four connections were in it at once.
  for (const node of [a, b]) {
    const r = await node.http('GET', `/api/streams/${stream.id}/report`, { token: stream.host_token });
    eq(r.status, 200, 'report');
    eq(r.json.unique_viewers, 3, 'unique viewers over both nodes');
    eq(r.json.peak_viewers, 4, 'peak viewers over both nodes');
    eq(r.json.viewers, 4, 'viewers now over both nodes');
  }
  late.close();
  viewerB.close();
  const from = host.messages.length;
  await host.waitFor((m) => m.type === 'viewers' && m.count === 2, 10000, from);

  // A node that dies stops counting: B (with a viewer again) is killed, and within the node
  // timeout (6 s after its last heartbeat) A's count no longer has its viewer.
  await enter(t, b, { stream: stream.id }, 'viewer');
  await host.waitFor((m) => m.type === 'viewers' && m.count === 3, 10000, host.messages.length);
  const cut = host.messages.length;
  const killedAt = Date.now();
  await b.killHard();
  const dropped = await host.waitFor((m) => m.type === 'viewers' && m.count === 2, 12000, cut);
  console.log(`a dead node's viewers dropped ${dropped._at - killedAt} ms after the kill`);
});
