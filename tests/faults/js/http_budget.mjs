// The per-address HTTP request budget (issue 21, "Floods"; realtime/request_budget.h), against
// the real server over real sockets. Client addresses are told apart by binding to other
// loopback addresses (127.0.0.2, ...); 127.0.0.1 is the default exempt address (a reverse
// proxy on this machine), so the harness's own calls are never limited.
import net from 'node:net';
import { Server, run, assert, eq } from '../../commerce/js/lib.mjs';
import { Bystanders, httpFlood, httpRequest, waitUntil } from './flood_lib.mjs';

const count = (rs, status) => rs.filter((r) => r.status === status).length;

run('http_budget', async (t) => {
  // Small limits, so the test is short: API 20/s burst 40, files 50/s burst 100.
  const server = await Server.start({ args: ['--http-request-rate', '20', '--http-request-burst', '40',
                                             '--http-file-rate', '50', '--http-file-burst', '100'] });
  t.defer(() => server.stop());
  const stream = await server.createStream('budget');
  eq((await server.putProducts(stream.id, [
    { id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 100000, image: '' }])).status, 200, 'PUT');
  const by = await Bystanders.start(server, stream);
  t.defer(() => by.close());

  // 1. A flood of 300 API requests at once from one address: at most the burst plus what the
  // rate refilled while they came are answered; the rest get 429 with Retry-After and a JSON
  // error, and none is left unanswered.
  const started = performance.now();
  const flood = await httpFlood(server, 300, { path: `/api/streams/${stream.id}`, localAddress: '127.0.0.2' });
  const elapsedS = (performance.now() - started) / 1000;
  const ok = count(flood, 200);
  const limited = flood.filter((r) => r.status === 429);
  eq(ok + limited.length, 300, `every request answered 200 or 429 (${JSON.stringify([...new Set(flood.map((r) => r.status))])})`);
  assert(ok >= 40, `the burst (40) was served: ${ok}`);
  assert(ok <= 40 + Math.ceil(20 * elapsedS) + 1, `at most burst + rate x ${elapsedS.toFixed(1)} s served: ${ok}`);
  assert(limited.every((r) => Number(r.retryAfter) >= 1), 'every 429 carries Retry-After >= 1');
  assert(limited.some((r) => r.error === 'rate_limited'), 'a 429 from the loop says rate_limited');

  // 2. Meanwhile others are served: another address's API requests, the same address's files
  // (a budget of their own: HLS keeps playing while its API budget is spent), the bystanders.
  const other = await httpFlood(server, 20, { path: `/api/streams/${stream.id}`, localAddress: '127.0.0.3' });
  eq(count(other, 200), 20, 'another address is served');
  const files = await httpFlood(server, 20, { path: '/static/js/player.js', localAddress: '127.0.0.2' });
  assert(files.every((r) => r.status !== 429), `the flooding address's file requests have their own budget: ${files.map((r) => r.status)}`);
  eq(await by.health(), 200, 'bystander /api/health');
  assert((await by.buy('apple')).ok, 'bystander buy confirmed');
  assert((await by.fanout('apple')).ok, 'bystander viewer sees the card change');

  // 3. Requests on one kept-alive connection are counted too (the loop charges every request,
  // not only a connection's first): 100 pipelined on one connection get the burst's worth of
  // 200s, then a 429, after which the server closes the connection.
  const pipelined = await new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.4' });
    let text = '';
    sock.on('connect', () => sock.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(100)));
    sock.on('data', (d) => { text += d; });
    sock.on('error', () => {});
    sock.on('close', () => resolve(text));
    setTimeout(() => sock.destroy(), 30000);
  });
  const statuses = [...pipelined.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  assert(statuses.filter((x) => x === 200).length >= 40, `pipelined: the burst answered 200 (${statuses.length} answers)`);
  eq(statuses[statuses.length - 1], 429, `pipelined: the last answer before the close is 429 (${statuses.length} answers)`);
  assert(statuses.length < 100, `pipelined: the connection was closed after the 429 (${statuses.length} answers)`);

  // 4. Retry-After means it: after waiting that long the address is served again.
  const wait = Number(limited[0].retryAfter);
  await new Promise((r) => setTimeout(r, wait * 1000 + 100));
  await waitUntil(async () => (await httpRequest(server, { localAddress: '127.0.0.2' })).status === 200, 5000,
                  'served again after Retry-After');

  // 5. The exempt address (127.0.0.1 by default: a proxy in front) is never limited.
  const exempt = await httpFlood(server, 200, { path: '/api/health', localAddress: '127.0.0.1' });
  eq(count(exempt, 200), 200, 'the exempt address is not limited');
  await server.stop();

  // 6. The defaults never hurt a county's viewers behind one carrier-NAT address: 300 HLS
  // players at once (a playlist reload and a segment each, ~2 requests a second each for 3 s)
  // get no 429, and 60 page loads' API calls at once neither.
  const plain = await Server.start();
  t.defer(() => plain.stop());
  const live = await plain.createStream('county');
  const nat = '127.0.0.5';
  let hls = [];
  for (let second = 0; second < 3; second++) {
    const tick = performance.now();
    hls = hls.concat(await httpFlood(plain, 300, { path: `/hls/${live.id}/index.m3u8`, localAddress: nat }),
                     await httpFlood(plain, 300, { path: `/hls/${live.id}/seg_${second}.ts`, localAddress: nat }));
    const left = 1000 - (performance.now() - tick);
    if (left > 0) await new Promise((r) => setTimeout(r, left));  // pacing the load, not a wait for a condition
  }
  eq(count(hls, 429), 0, `HLS through one NAT address: no 429 in ${hls.length} requests`);
  assert(hls.every((r) => r.status !== 0), 'every HLS request answered');
  const pages = await httpFlood(plain, 180, { path: `/api/streams/${live.id}`, localAddress: nat });
  eq(count(pages, 429), 0, '180 API calls at once from one NAT address: no 429');

  // 7. The limits are flags; a bad value refuses to start with a sentence.
  const bad = await Server.start({ args: ['--http-request-rate', 'lots'] }).then(() => null, (e) => String(e));
  assert(bad !== null && /--http-request-rate needs a number/.test(bad), `--http-request-rate lots refuses to start: ${bad}`);
  console.log(`http_budget: flood of 300 from one address: ${ok} served, ${limited.length} 429 in ${elapsedS.toFixed(1)} s; ` +
              `pipelined ${statuses.length} answers before the close; NAT: ${hls.length} HLS + ${pages.length} API requests, no 429`);
});
