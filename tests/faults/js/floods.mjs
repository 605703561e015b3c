// Floods against the real server (issue 21, "Floods"): each one's outcome is asserted — the
// limits answer with clear errors, the flood is bounded, and the server keeps serving a
// bystander buyer (buy confirmed), a bystander viewer (a host's card change arrives) and
// /api/health. Timings are measured by bench/faults/floods.mjs, never asserted here.
import { readFileSync } from 'node:fs';
import { Server, Client, run, assert, eq } from '../../commerce/js/lib.mjs';
import { Bystanders, openMany, buyFlood, chatSpam, slowloris, uploads, halfOpenRtmp, whipFlood, waitUntil } from './flood_lib.mjs';

const CONNECTIONS = Number(process.env.FLOOD_CONNECTIONS ?? 2000);

run('floods', async (t) => {
  // Each websocket takes a descriptor here and one in the server (started with our limit).
  const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
  assert(limit >= 3 * CONNECTIONS, `RLIMIT_NOFILE is ${limit}, ${3 * CONNECTIONS} needed: run with ulimit -n 20000 (ctest does)`);
  const server = await Server.start();
  t.defer(() => server.stop());
  const rtmpPort = Number(/event=listening .*rtmp_port=(\d+)/.exec(server.log)[1]);
  const stream = await server.createStream('floods');
  eq((await server.putProducts(stream.id, [
    { id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 100000, image: '' },
    { id: 'pear', title: '砀山梨', price: 1500, currency: 'CNY', stock: 100000, image: '' }])).status, 200, 'PUT');
  const by = await Bystanders.start(server, stream);
  t.defer(() => by.close());
  const stillServing = async (what) => {
    eq(await by.health(), 200, `${what}: /api/health`);
    const b = await by.buy('pear');
    assert(b.ok, `${what}: a bystander's buy is confirmed: ${JSON.stringify(b.answer)}`);
    const f = await by.fanout(Math.random() < 0.5 ? 'apple' : 'pear');
    assert(f.ok, `${what}: a bystander viewer sees the host's card change`);
  };
  await stillServing('before');

  // 1. Thousands of websockets at once (the test runner's RLIMIT_NOFILE is 20,000 here; the
  // server sets its own). While they open, the host and a plain viewer stay connected and are
  // served (a card change reaches the viewer); then all are held and welcomed.
  const opening = openMany(server, stream, CONNECTIONS);
  let servedWhileOpening = 0;
  let openingDone = false;
  opening.then(() => { openingDone = true; });
  while (!openingDone || servedWhileOpening === 0) {
    await stillServing(`while ${CONNECTIONS} websockets open`);
    servedWhileOpening++;
  }
  const many = await opening;
  t.defer(() => many.sockets.forEach((ws) => ws.terminate()));
  eq(many.open, CONNECTIONS, `websockets held (refused ${many.refused})`);
  eq(by.host.closed, null, `the host stayed connected while ${CONNECTIONS} opened`);
  eq(by.viewer.closed, null, `the bystander viewer stayed connected while ${CONNECTIONS} opened`);
  await stillServing(`${CONNECTIONS} websockets open`);
  many.sockets.forEach((ws) => ws.terminate());

  // 2. A buy flood from one client: the per-connection rate limit answers `rate_limited`, then
  // closes the connection with 1008; no more than the burst plus the rate was sold to it.
  const bf = await buyFlood(server, stream, 'apple', 3000);
  assert(bf.rateLimited >= 10, `buy flood: rate_limited answers (${JSON.stringify(bf)})`);
  eq(bf.closed?.code, 1008, 'buy flood: closed with 1008');
  assert(bf.confirmed <= 40 + 20 * 5, `buy flood: confirmed ${bf.confirmed} within burst + rate`);
  await stillServing('after the buy flood');

  // 3. Chat spam from one client: rate limited (1/s, burst 5), then closed; the others saw at
  // most the burst plus the rate of it.
  const cs = await chatSpam(server, stream, 1000, by.viewer);
  assert(cs.rateLimited >= 10, `chat spam: rate_limited errors (${cs.rateLimited})`);
  eq(cs.closed?.code, 1008, 'chat spam: closed with 1008');
  assert(cs.relayed() <= 5 + 10, `chat spam: the others saw ${cs.relayed()} spam messages`);
  await stillServing('after the chat spam');

  // 4. Slowloris on request heads: 300 connections trickling a header byte a second. Each is
  // closed by the server within a bound however long it keeps trickling (10 s in the
  // acceptor, then lws' header timeout), and others are served meanwhile.
  const sl = slowloris(server, 300, { everyMs: 1000, giveUpMs: 60000 });
  await stillServing('during a head slowloris');
  const held = (await sl).heldMs;
  assert(Math.max(...held) < 55000, `head slowloris: every connection closed by the server (longest ${Math.round(Math.max(...held))} ms)`);

  // 5. Uploads at the size limit (6 MiB), eight at once: each is answered (a picture that is
  // not an image 400, or 503 with Retry-After once the 8 MiB of bodies in flight are taken),
  // and one byte over the limit is 413 without being read.
  const up = await uploads(server, stream, 8, 6 * 1024 * 1024);
  for (const u of up) {
    assert(u.status === 400 && u.error === 'not_an_image' || u.status === 503 && u.retryAfter !== null,
           `upload at the limit: ${JSON.stringify(u)}`);
  }
  assert(up.some((u) => u.status === 400), 'at least one upload at the limit was judged (not all 503)');
  const over = await uploads(server, stream, 1, 6 * 1024 * 1024 + 1);
  eq(over[0].status, 413, 'one byte over the upload limit');
  await stillServing('after the uploads');

  // 6. Half-open RTMP handshakes from one address: 16 pending per address are held until the
  // 5 s setup timeout, the rest refused at once; all are closed by the server.
  const rtmp = await halfOpenRtmp(rtmpPort, 200, { giveUpMs: 30000 });
  assert(Math.max(...rtmp) < 29000, `half-open RTMP: every connection closed by the server (longest ${Math.round(Math.max(...rtmp))} ms)`);
  assert(rtmp.filter((ms) => ms < 2500).length >= 200 - 16, 'half-open RTMP: the ones over the per-address limit refused at once');
  await stillServing('after half-open RTMP');

  // 7. WHIP offers without the stream key: refused before any WebRTC session is made.
  const whip = await whipFlood(server, stream.id, 200, 'not-the-stream-key');
  assert(whip.every((s) => s === 401 || s === 403 || s === 404), `WHIP flood with a wrong key: ${[...new Set(whip)]}`);
  await stillServing('after the WHIP flood');

  // 8. Chat spam from one buyer over many connections (same buyer token): the chat limit is
  // per buyer too, so ten connections do not chat ten times as fast to everyone.
  const spammer = await Client.connect(server, { stream: stream.id });
  const token = (await spammer.waitFor((m) => m.type === 'welcome')).buyer_token;
  const tabs = [spammer, ...await Promise.all(Array.from({ length: 9 }, () => Client.connect(server, { stream: stream.id, buyer: token })))];
  t.defer(() => tabs.forEach((c) => c.close()));
  await Promise.all(tabs.map((c) => c.waitFor((m) => m.type === 'welcome')));
  const watchFrom = by.viewer.messages.length;
  const answers = await Promise.all(tabs.flatMap((c, k) => Array.from({ length: 5 }, (_, i) =>
    c.request({ type: 'chat.send', text: `tab ${k} says ${i}` }))));
  const accepted = answers.filter((a) => a.type === 'chat').length;
  assert(accepted <= 5 + 2, `one buyer over ten connections: ${accepted} chats accepted (burst 5 per buyer)`);
  eq(answers.filter((a) => a.type === 'error' && a.code === 'rate_limited').length, 50 - accepted, 'the rest rate_limited');
  await by.viewer.waitFor((m) => m.type === 'chat' && /^tab /.test(m.text), 10000, watchFrom);
  tabs.forEach((c) => c.close());
  await stillServing('after one buyer\'s chat over ten connections');

  // 9. The limits are flags: a server with --ws-message-burst 5 --ws-flood-strikes 3 closes a
  // buy flood after 3 rate_limited answers; a bad value refuses to start with a clear message.
  const strict = await Server.start({ args: ['--ws-message-rate', '5', '--ws-message-burst', '5', '--ws-flood-strikes', '3'] });
  t.defer(() => strict.stop());
  const strictStream = await strict.createStream('strict');
  eq((await strict.putProducts(strictStream.id, [{ id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 1000, image: '' }])).status, 200, 'PUT');
  const sf = await buyFlood(strict, strictStream, 'apple', 500);
  eq(sf.rateLimited, 3, `--ws-flood-strikes 3: rate_limited answers before the close (${JSON.stringify(sf)})`);
  eq(sf.closed?.code, 1008, '--ws-flood-strikes 3: closed with 1008');
  await strict.stop();
  const bad = await Server.start({ args: ['--ws-chat-rate', '0'] }).then(() => null, (e) => String(e));
  assert(bad !== null && /--ws-chat-rate needs a number/.test(bad), `--ws-chat-rate 0 refuses to start: ${bad}`);

  await waitUntil(async () => (await by.health()) === 200, 10000, 'health at the end');
  console.log(`floods: ${many.open} websockets held; buy flood ${JSON.stringify({ ...bf, closed: bf.closed?.code })}; ` +
              `chat spam rate_limited ${cs.rateLimited}, relayed ${cs.relayed()}; slowloris longest ${Math.round(Math.max(...held))} ms; ` +
              `uploads ${up.map((u) => u.status)}; half-open RTMP longest ${Math.round(Math.max(...rtmp))} ms; WHIP ${[...new Set(whip)]}`);
});
