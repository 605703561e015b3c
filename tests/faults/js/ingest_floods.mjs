// Ingest session floods (issue 21, "Floods"), against the real server over real sockets: SRT
// callers through libsrt (tests/faults/srt_flood.py) with wrong keys, bad stream ids, the wrong
// mode, many at once with the right key, and handshakes begun and never finished; then many
// WHIP offers at once with the right stream key. Each is answered clearly (SRT reject codes,
// WHIP 409), only one publisher gets the stream, what was set up is cleaned up (no webrtcbin
// or thread left behind), and a bystander buyer and viewer are served throughout.
import { Server, run, assert, eq } from '../../commerce/js/lib.mjs';
import { Bystanders, srtFlood, whipOffers, threadCount, waitUntil } from './flood_lib.mjs';

run('ingest_floods', async (t) => {
  const server = await Server.start({ args: ['--burned-in', 'off'] });
  t.defer(() => server.stop());
  const srtPort = Number(/event=listening .*srt_port=(\d+)/.exec(server.log)[1]);
  const stream = await server.createStream('ingest floods');
  eq((await server.putProducts(stream.id, [
    { id: 'apple', title: '洛川苹果', price: 2500, currency: 'CNY', stock: 100000, image: '' }])).status, 200, 'PUT');
  const by = await Bystanders.start(server, stream);
  t.defer(() => by.close());
  const stillServing = async (what) => {
    eq(await by.health(), 200, `${what}: /api/health`);
    const b = await by.buy('apple');
    assert(b.ok, `${what}: a bystander's buy is confirmed: ${JSON.stringify(b.answer)}`);
    assert((await by.fanout('apple')).ok, `${what}: a bystander viewer sees the host's card change`);
    assert(by.host.closed === null && by.viewer.closed === null && by.buyer.closed === null, `${what}: bystanders still connected`);
  };
  await stillServing('before');
  const key = stream.stream_key;
  const sid = (k, mode = 'publish') => `#!::r=live/${k},m=${mode}`;

  // 1. SRT callers with a wrong key, a stream id that is not one, and the wrong mode: each
  // rejected in the handshake with its code, nothing accepted.
  const codes = (r) => [...new Set(r.callers.map((c) => c.accepted ? 'accepted' : c.reject))];
  const wrongKey = await srtFlood('connect', srtPort, { streamId: sid('sk_not_the_key'), count: 100 });
  eq(JSON.stringify(codes(wrongKey)), '[1403]', 'SRT wrong key: every caller rejected 1403 (forbidden)');
  const badId = await srtFlood('connect', srtPort, { streamId: '#!::=broken,r', count: 50 });
  eq(JSON.stringify(codes(badId)), '[1400]', 'SRT stream id that does not parse: rejected 1400 (bad request)');
  const wrongMode = await srtFlood('connect', srtPort, { streamId: sid(key, 'request'), count: 50 });
  eq(JSON.stringify(codes(wrongMode)), '[1405]', 'SRT m=request: rejected 1405 (bad mode)');
  await stillServing('after SRT callers with wrong ids');

  // 2. Handshakes begun and never finished: the listener answers each induction statelessly
  // (SRT's cookie) and keeps nothing for them.
  const induction = await srtFlood('induction', srtPort, { count: 500 });
  assert(induction.answered > 0, `SRT inductions answered (${JSON.stringify(induction)})`);
  await stillServing('after 500 half-open SRT handshakes');

  // 3. 30 callers at once with the right key: one publisher, the rest refused 1409 (conflict).
  // The one accepted sends nothing (a half-open publisher) and is closed by the server at its
  // idle timeout (10 s), after which the stream can be published again.
  const rightKey = await srtFlood('connect', srtPort, { streamId: sid(key), count: 30, holdS: 40 });
  const accepted = rightKey.callers.filter((c) => c.accepted);
  eq(accepted.length, 1, `SRT right key, 30 at once: one accepted (${JSON.stringify(codes(rightKey))})`);
  eq(rightKey.callers.filter((c) => c.reject === 1409).length, 29, 'the other 29 rejected 1409 (conflict)');
  assert(accepted[0].closed_after_ms !== null, 'the silent SRT publisher was closed by the server');
  const again = await srtFlood('connect', srtPort, { streamId: sid(key), count: 1, holdS: 0 });
  assert(again.callers[0].accepted, `after it, the stream can be published again: ${JSON.stringify(again)}`);
  await stillServing('after 30 SRT callers with the right key');
  // (The SRT publisher that just left leaves the stream in its grace period: a WHIP publisher
  // may take it up, and does below, once the server has seen it leave: until then the stream is
  // still being published and every offer is refused 409, which is right.)
  const logged = (event) => (server.log.match(new RegExp(`event=${event} stream=${stream.id}\\b`, 'g')) ?? []).length;
  await waitUntil(() => logged('publish_started') === logged('publisher_left'), 15000, 'the SRT publisher seen leaving');

  // 4. 40 WHIP offers at once with the right key: one session (201 + Location), the other 39
  // refused with 409 before any WebRTC peer is made. Ending the one (DELETE) leaves no peer and
  // no thread behind.
  const threadsBefore = threadCount(server.proc.pid);
  const offers = await whipOffers(server, stream.id, 40, key);
  const made = offers.filter((o) => o.status === 201);
  eq(made.length, 1, `WHIP right key, 40 at once: one session (${JSON.stringify([...new Set(offers.map((o) => o.status))])})`);
  eq(offers.filter((o) => o.status === 409 && o.error === 'refused').length, 39, 'the other 39 refused 409');
  eq(await server.metric('harvest_whip_sessions'), 1, 'one WebRTC peer running');
  await stillServing('during a WHIP session from the flood');
  eq((await fetch(server.url(made[0].location), { method: 'DELETE' })).status, 200, 'DELETE the session');
  await waitUntil(async () => (await server.metric('harvest_whip_sessions')) === 0, 20000, 'no WebRTC peer left');
  // webrtcbin's threads (ICE, DTLS, RTP) end with its pipeline; GStreamer's thread pools may
  // keep a couple of idle workers.
  await waitUntil(() => threadCount(server.proc.pid) <= threadsBefore + 4, 20000,
                  `threads back to ${threadsBefore} (+4 pooled)`);
  // A second round: still one session at a time, and again nothing left after.
  const round2 = await whipOffers(server, stream.id, 40, key);
  eq(round2.filter((o) => o.status === 201).length, 1, 'second WHIP round: one session');
  const loc = round2.find((o) => o.status === 201).location;
  eq((await fetch(server.url(loc), { method: 'DELETE' })).status, 200, 'DELETE the second session');
  await waitUntil(async () => (await server.metric('harvest_whip_sessions')) === 0, 20000, 'no WebRTC peer left (2)');
  await waitUntil(() => threadCount(server.proc.pid) <= threadsBefore + 4, 20000, 'threads back (2)');
  await stillServing('after the WHIP floods');
  console.log(`ingest_floods: SRT rejected ${wrongKey.callers.length}+${badId.callers.length}+${wrongMode.callers.length}, ` +
              `inductions answered ${induction.answered}/${induction.sent}, right-key SRT 1 of 30 (closed after ` +
              `${accepted[0].closed_after_ms} ms), WHIP 1 of 40 twice, threads ${threadsBefore} -> ${threadCount(server.proc.pid)}`);
});
