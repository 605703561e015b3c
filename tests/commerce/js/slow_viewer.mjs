// A viewer that stops reading does not slow the others, loses only superseding updates, and is
// disconnected before it holds unbounded memory.
import { Server, Client, run, assert, eq, waitUntil } from './lib.mjs';

const FAST = 5;
const CHATS = 4000;

run('slow_viewer', async (t) => {
  const server = await Server.start({ env: { HARVEST_WS_MESSAGE_RATE: '1000000', HARVEST_WS_MESSAGE_BURST: '1000000',
                                             HARVEST_WS_CHAT_RATE: '1000000', HARVEST_WS_CHAT_BURST: '1000000' } });
  t.defer(() => server.stop());
  const stream = await server.createStream('slow viewer');
  await server.putProducts(stream.id, [{ id: 'pear', title: 'pear', price: 100, currency: 'CNY', stock: 1000000 }]);
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  const fast = await Promise.all(Array.from({ length: FAST }, () => Client.connect(server, { stream: stream.id })));
  t.defer(() => fast.forEach((c) => c.close()));
  const slow = await Client.connect(server, { stream: stream.id });
  t.defer(() => slow.close());
  await Promise.all([host, slow, ...fast].map((c) => c.waitFor((m) => m.type === 'welcome')));
  slow.ws._socket.pause();  // stops reading: the kernel buffers fill, then the server's queue

  // The host chats hard (each ~650 bytes); a buyer keeps the stock changing.
  const text = '梨'.repeat(200);
  const buyer = fast[0];
  // In chunks the fast viewers take in before the next (a burst larger than the queue limit
  // would cut off anyone); the slow viewer's backlog grows chunk after chunk.
  const CHUNK = 200;
  for (let i = 0; i < CHATS; i++) {
    host.send({ type: 'chat.send', id: `c${i}`, text });
    if (i % 40 === 0) buyer.send({ type: 'buy', id: `buy${i}`, product_id: 'pear', qty: 1, idempotency_key: `k${i}` });
    if (i % CHUNK === CHUNK - 1) {
      await host.waitFor((m) => m.re === `c${i}`, 30000);
      const n = host.messages.filter((m) => m.type === 'chat').length;
      await Promise.all(fast.map((c) => waitUntil(() => c.messages.filter((m) => m.type === 'chat').length >= n - 1,
                                                  30000, 'fast viewers to keep up')));
    }
  }
  host.send({ type: 'chat.send', id: 'last', text: 'last' });
  // Every fast viewer gets every chat, in order, while the slow one is stuck.
  for (const c of fast) {
    await c.waitFor((m) => m.type === 'chat' && m.text === 'last', 60000);
    eq(c.messages.filter((m) => m.type === 'chat').length, CHATS + 1, 'every chat delivered to a fast viewer');
  }
  // Every buy was answered (acks are never dropped).
  for (let i = 0; i < CHATS; i += 40) await buyer.waitFor((m) => m.re === `buy${i}`, 30000);
  await waitUntil(async () => (await server.metric('harvest_ws_slow_disconnects_total')) >= 1, 30000,
                  'the slow viewer to be disconnected');
  await waitUntil(async () => (await server.metric('harvest_ws_connections')) === FAST + 1, 30000,
                  'the slow viewer to leave the room');
  slow.ws._socket.resume();
  // Not reading, it cannot be sent a close frame: the server dropped the TCP connection.
  const closed = await slow.waitClosed(30000);
  assert(closed.code === 1006 || closed.code === 1008, `slow viewer closed (${closed.code})`);
  assert(slow.messages.filter((m) => m.type === 'chat').length < CHATS, 'the slow viewer did not get everything');
  // The fast ones still work.
  for (const c of fast) eq((await c.request({ type: 'ping' })).type, 'pong', 'fast viewer still works');
});
