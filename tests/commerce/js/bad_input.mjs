// Each bad input gets its answer from docs/protocol.md, and the connection (or the others) keep working.
import { createHmac } from 'node:crypto';
import { Server, Client, WebSocket, run, assert, eq } from './lib.mjs';

const SECRET = 'bad-input-test-secret';

function hostToken(stream, expires) {
  const payload = `h1.${stream}.${expires}`;
  return `${payload}.${createHmac('sha256', SECRET).update(payload).digest('hex')}`;
}

async function stillWorks(c, what) {
  const pong = await c.request({ type: 'ping' });
  eq(pong.type, 'pong', `connection still works after ${what}`);
}

run('bad_input', async (t) => {
  const server = await Server.start({ args: ['--token-secret', SECRET] });
  t.defer(() => server.stop());
  const stream = await server.createStream('bad input');
  const other = await server.createStream('other');
  eq((await server.putProducts(stream.id, [
    { id: 'pear', title: 'pear', price: 3990, currency: 'CNY', stock: 10, image: '' }])).status, 200, 'PUT');

  const v = await Client.connect(server, { stream: stream.id });
  t.defer(() => v.close());
  const welcome = await v.waitFor((m) => m.type === 'welcome');
  eq(welcome.role, 'viewer', 'no token: viewer');
  assert(/^[A-Za-z0-9_-]{8,64}$/.test(welcome.viewer_id), 'assigned viewer_id');

  // Malformed JSON, non-object, unknown type, missing type.
  v.send('{"type": "ping"');
  eq((await v.waitFor((m) => m.type === 'error' && m.code === 'bad_json')).code, 'bad_json', 'malformed JSON');
  await stillWorks(v, 'malformed JSON');
  v.send('[1,2,3]');
  await v.waitFor((m) => m.type === 'error' && m.code === 'bad_json' && /object/.test(m.message));
  eq((await v.request({ type: 'teleport' })).code, 'unknown_type', 'unknown type');
  eq((await v.request({ type: 42 })).code, 'invalid', 'type of the wrong kind');
  await stillWorks(v, 'unknown type');

  // Wrong field types and bad quantities on buy: order.rejected "invalid".
  for (const [what, fields] of [
    ['qty as string', { qty: '2' }], ['negative qty', { qty: -1 }], ['zero qty', { qty: 0 }],
    ['huge qty', { qty: 1e12 }], ['fractional qty', { qty: 1.5 }], ['qty past uint64', { qty: '99999999999999999999999' }],
    ['product_id as number', { product_id: 7 }], ['key too long', { idempotency_key: 'x'.repeat(65) }],
    ['missing key', { idempotency_key: undefined }], ['media_time as string', { media_time: 'soon' }],
  ]) {
    const a = await v.request({ type: 'buy', product_id: 'pear', qty: 1, idempotency_key: 'k-' + what.length, ...fields });
    eq(a.type, 'order.rejected', what);
    eq(a.reason, 'invalid', what);
  }
  // A raw frame with an integer past 2^64 (JSON.stringify cannot make one).
  v.send('{"type":"buy","id":"big","product_id":"pear","qty":184467440737095516160,"idempotency_key":"k"}');
  eq((await v.waitFor((m) => m.re === 'big')).reason, 'invalid', 'qty overflowing 64 bits');
  const unknownProduct = await v.request({ type: 'buy', product_id: 'nope', qty: 1, idempotency_key: 'k-unknown' });
  eq(unknownProduct.reason, 'invalid', 'unknown product');
  eq((await v.request({ type: 'chat.send', text: 'x'.repeat(201) })).code, 'invalid', 'chat over 200 chars');
  eq((await v.request({ type: 'chat.send', text: '' })).code, 'invalid', 'empty chat');
  eq((await v.request({ type: 'chat.send', text: '梨'.repeat(200) })).type, 'chat', '200 CJK characters are fine');
  await stillWorks(v, 'wrong field types');

  // A viewer sending host commands: forbidden.
  for (const cmd of [{ type: 'card.show', product_id: 'pear' }, { type: 'card.hide' },
                     { type: 'product.update', product_id: 'pear', price: 1 },
                     { type: 'sale.start', product_id: 'pear', price: 1, quantity: 1, per_buyer_limit: 1, duration_s: 5 },
                     { type: 'sale.stop', sale_id: 's1' }]) {
    eq((await v.request(cmd)).code, 'forbidden', `viewer ${cmd.type}`);
  }

  // Prices that overflow, from the host.
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  eq((await host.waitFor((m) => m.type === 'welcome')).role, 'host', 'host role');
  host.send('{"type":"product.update","id":"p1","product_id":"pear","price":99999999999999999999}');
  eq((await host.waitFor((m) => m.re === 'p1')).code, 'invalid', 'price past int64');
  host.send('{"type":"product.update","id":"p2","product_id":"pear","price":1e30}');
  eq((await host.waitFor((m) => m.re === 'p2')).code, 'invalid', 'price as a huge float');
  eq((await host.request({ type: 'product.update', product_id: 'pear', price: 10000000001 })).code, 'invalid',
     'price over the limit');
  eq((await host.request({ type: 'product.update', product_id: 'pear', price: -5 })).code, 'invalid', 'negative price');
  eq((await host.request({ type: 'sale.start', product_id: 'pear', price: 1.5, quantity: 1, per_buyer_limit: 1,
                            duration_s: 5 })).code, 'invalid', 'fractional sale price');
  eq((await host.request({ type: 'card.show', product_id: 5 })).code, 'invalid', 'product_id of the wrong type');
  eq((await host.request({ type: 'buy', product_id: 'pear', qty: 1, idempotency_key: 'h' })).code, 'forbidden',
     'hosts do not buy');
  const put = await server.putProducts(stream.id, [
    { id: 'pear', title: 'pear', price: 9223372036854775808, currency: 'CNY', stock: 1 }], stream.host_token);
  eq(put.status, 400, 'PUT with an overflowing price');
  const putNeg = await server.putProducts(stream.id, [{ id: 'pear', title: 'pear', price: 1, stock: -1 }], stream.host_token);
  eq(putNeg.status, 400, 'PUT with negative stock');
  eq((await server.putProducts(stream.id, [], 'h1.forged')).status, 401, 'PUT with a forged token');
  const shown = await host.request({ type: 'card.show', product_id: 'pear' });
  eq(shown.type, 'card.shown', 'host still works');
  await v.waitFor((m) => m.type === 'card.shown' && m.product_id === 'pear');

  // Oversized frame: close 1009; the others keep working.
  const big = await Client.connect(server, { stream: stream.id });
  await big.waitFor((m) => m.type === 'welcome');
  big.send(JSON.stringify({ type: 'chat.send', text: 'x'.repeat(70 * 1024) }));
  eq((await big.waitClosed()).code, 1009, 'oversized frame');
  await stillWorks(v, 'another client sent an oversized frame');

  // Flood: rate_limited errors, then close 1008; the others keep working.
  const flood = await Client.connect(server, { stream: stream.id });
  await flood.waitFor((m) => m.type === 'welcome');
  // Yield to the event loop every few frames so the answers (rate_limited, then the close) are
  // read while flooding, not only after 400 writes.
  for (let i = 0; i < 400 && flood.ws.readyState === WebSocket.OPEN; i++) {
    flood.send({ type: 'ping', id: i });
    if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
  }
  // The server sends close 1008 and then waits for the client's close before closing TCP, so a
  // flooder still writing reads the close code (no reset overtakes it).
  eq((await flood.waitClosed()).code, 1008, 'flood closes with 1008');
  assert(flood.messages.some((m) => m.type === 'error' && m.code === 'rate_limited'), 'rate_limited before the close');
  await stillWorks(v, 'another client flooded');

  // Unknown stream; expired, forged and foreign host tokens: an error, then 1008.
  const refusals = [
    [{ stream: 'no-such-stream' }, 'invalid', /unknown stream/],
    [{ stream: stream.id, token: hostToken(stream.id, Math.floor(Date.now() / 1000) - 60) }, 'forbidden', /expired/],
    [{ stream: stream.id, token: hostToken(stream.id, 4102444800).replace(/.$/, (c) => (c === '0' ? '1' : '0')) },
     'forbidden', /invalid/],
    [{ stream: stream.id, token: 'h1.forged' }, 'forbidden', /invalid/],
    [{ stream: stream.id, token: other.host_token }, 'forbidden', /another stream/],
  ];
  for (const [query, code, message] of refusals) {
    const c = await Client.connect(server, query);
    const e = await c.waitFor((m) => m.type === 'error');
    eq(e.code, code, JSON.stringify(query));
    assert(message.test(e.message), `message ${e.message}`);
    eq((await c.waitClosed()).code, 1008, 'refused connection closes with 1008');
  }
  // A freshly signed token (same secret) works.
  const good = await Client.connect(server, { stream: stream.id, token: hostToken(stream.id, 4102444800) });
  eq((await good.waitFor((m) => m.type === 'welcome')).role, 'host', 'valid signed token');
  good.close();
  // The buyer identity is the server's: a genuine buyer token keeps it, a forged or altered one
  // (or a client-chosen viewer_id) gets a new buyer.
  const first = await Client.connect(server, { stream: stream.id });
  const firstWelcome = await first.waitFor((m) => m.type === 'welcome');
  assert(/^b1\./.test(firstWelcome.buyer_token), 'welcome carries a buyer token');
  first.close();
  const kept = await Client.connect(server, { stream: stream.id, buyer: firstWelcome.buyer_token });
  eq((await kept.waitFor((m) => m.type === 'welcome')).viewer_id, firstWelcome.viewer_id, 'buyer token kept');
  kept.close();
  const token = firstWelcome.buyer_token;
  const forgeries = [`b1.${firstWelcome.viewer_id}.${'0'.repeat(64)}`, token.slice(0, -1) + (token.endsWith('0') ? '1' : '0'),
    `b1.vsomeoneelse00000.${token.split('.')[2]}`, 'garbage', 'b1..', 'b1.' + 'x'.repeat(300)];
  for (const forged of forgeries) {
    const c = await Client.connect(server, { stream: stream.id, buyer: forged });
    const w = await c.waitFor((m) => m.type === 'welcome');
    assert(w.viewer_id !== firstWelcome.viewer_id && w.buyer_token !== forged, `forged buyer token refused: ${forged.slice(0, 40)}`);
    c.close();
  }
  const claimed = await Client.connect(server, { stream: stream.id, viewer_id: firstWelcome.viewer_id });
  assert((await claimed.waitFor((m) => m.type === 'welcome')).viewer_id !== firstWelcome.viewer_id, 'viewer_id is not trusted');
  claimed.close();
  await stillWorks(v, 'everything');
  await stillWorks(host, 'everything');
});
