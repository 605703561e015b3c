// A replay on the viewer page: a live session with a card shown and hidden ends (publisher
// gone, grace period over); the live page links it; /watch/{id}?replay={session} plays the VOD (currentTime advances),
// lists the card as a chapter, a chapter click seeks to the card's first frame and shows the
// card, and buying from it makes an order attributed to the replay.
import {
  assert, launchBrowser, log, newPage, openHost, requireHls, requireRooms, runTest, missing, startPublisher, waitFor,
} from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

runTest('replay_watch', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: 'Replay test' });
  await server.putProducts(stream, CATALOG);
  await requireRooms(t, server, stream);
  const pub = startPublisher(t, server, stream);
  await requireHls(server, stream);
  const list = await server.fetch(`/api/streams/${stream.id}/replays`);
  if (list.status === 404) missing('server feature: GET /api/streams/{id}/replays');
  const session = list.json.replays[0]?.session;
  assert(session, 'the live session is being recorded: ' + list.text);

  // A card on screen for a few seconds in the middle of the session.
  const host = await openHost(t, server, stream);
  const live = `/hls/${stream.id}/index.m3u8`;
  const segmentsAfter = async (n) => {
    const start = (await server.fetch(live)).text.split('\n').filter((l) => l.endsWith('.ts')).pop();
    await waitFor(async () => {
      const lines = (await server.fetch(live)).text.split('\n').filter((l) => l.endsWith('.ts'));
      return lines.length - 1 - lines.indexOf(start) >= n || !lines.includes(start);
    }, { timeout: 30_000, what: `${n} more segments` });
  };
  await segmentsAfter(2);
  const show = await host.request({ type: 'card.show', product_id: 'pear-yulu' });
  await host.waitForMessage((m) => m.type === 'card.shown' && m.amended && m.change_id === show.change_id, 'card on video', 15_000);
  await segmentsAfter(3);
  const hide = await host.request({ type: 'card.hide', product_id: 'pear-yulu' });
  await host.waitForMessage((m) => m.type === 'card.hidden' && m.amended && m.change_id === hide.change_id, 'card off video', 15_000);
  await segmentsAfter(3);
  pub.proc.kill('SIGKILL');
  await pub.exited;
  // The grace period (15 s) passes: the replay is VOD.
  await waitFor(async () => (await server.fetch(`/hls/${stream.id}/replay/${session}/index.m3u8`)).text.includes('#EXT-X-ENDLIST'),
    { timeout: 40_000, interval: 250, what: 'the replay playlist to end' });
  const chapters = (await server.fetch(`/hls/${stream.id}/replay/${session}/chapters.json`)).json.chapters;
  assert(chapters.length === 1 && chapters[0].start > 1, 'one chapter, a while into the replay: ' + JSON.stringify(chapters));
  const chapter = chapters[0];

  const browser = await launchBrowser(t);
  const page = await newPage(t, browser, { width: 1366, height: 768, mobile: false });
  // The live page, farmer away, links the replay.
  await page.goto(`${server.base}/watch/${stream.id}`);
  await page.click(`#stage-replays a[data-session="${session}"]`, { timeout: 30_000 });
  await page.waitForURL(`**/watch/${stream.id}?replay=${session}`, { timeout: 10_000 });
  const first = await waitFor(() => page.evaluate(() => {
    const v = document.querySelector('video');
    return v.currentTime > 0 && !v.paused ? v.currentTime : 0;
  }), { timeout: 60_000, what: 'the replay playing' });
  log(`replay playing at ${first.toFixed(2)} s`);
  await waitFor(() => page.evaluate((t0) => document.querySelector('video').currentTime > t0 + 0.5, first),
    { timeout: 30_000, what: 'currentTime to advance' });
  const badge = await page.evaluate(() => document.querySelector('#live-badge').className);
  assert(/badge-replay/.test(badge), `the REPLAY badge shows (${badge})`);

  // The chapter: a button that seeks to the card, which then shows.
  await page.waitForSelector('#chapters:not([hidden]) .chapter[data-product-id="pear-yulu"]', { timeout: 15_000 });
  await page.click('.chapter[data-product-id="pear-yulu"]');
  const at = await waitFor(() => page.evaluate((c) => {
    const v = document.querySelector('video');
    return v.currentTime >= c.start && v.currentTime < c.start + 1.5 ? v.currentTime : 0;
  }, chapter), { timeout: 15_000, what: `seek to the chapter at ${chapter.start} s` });
  log(`seeked to ${at.toFixed(2)} s (chapter starts at ${chapter.start} s)`);
  await page.waitForSelector('.product-card[data-product-id="pear-yulu"]', { timeout: 10_000 });
  const current = await page.evaluate(() => document.querySelector('.chapter[aria-current="true"]')?.dataset.productId);
  assert(current === 'pear-yulu', `the chapter is marked current (${current})`);

  // Buying from the replay: the websocket is a replay viewer; the order carries the session.
  await page.click('.product-card[data-product-id="pear-yulu"] .buy-button');
  const orderId = await waitFor(() => page.evaluate(() => {
    const box = document.querySelector('#order-result');
    return box.dataset.result === 'confirmed' ? box.dataset.orderId : null;
  }), { timeout: 15_000, what: 'order confirmed on the replay page' });
  const orders = await server.fetch(`/api/streams/${stream.id}/orders`, { token: server.adminToken });
  const order = orders.json.orders.find((o) => String(o.order_id ?? o.id) === String(orderId));
  assert(order, `order ${orderId} listed: ${orders.text}`);
  assert(order.replay_session === session, `order attributed to the replay (${order.replay_session})`);
  assert(order.media_card_product_id === 'pear-yulu', `order attributed to the chapter's card (${order.media_card_product_id})`);
});
