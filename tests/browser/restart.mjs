// The viewer page survives the server restarting: it shows that it is reconnecting, comes
// back by itself with a fresh `welcome` (same stream, same viewer id kept in localStorage),
// and chat and cards work again afterwards.
import { WsClient, assert, launchBrowser, log, newPage, openHost, requireRooms, runTest, waitFor } from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

runTest('restart', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: 'Restart test' });
  await server.putProducts(stream, CATALOG).catch(() => {});
  await requireRooms(t, server, stream);

  const browser = await launchBrowser(t);
  const page = await newPage(t, browser);
  await page.goto(`${server.base}/watch/${stream.id}`);
  await page.waitForFunction(() => window.harvestWatch?.room.welcomes === 1, null, { timeout: 15_000 });
  const viewerId = await page.evaluate(() => window.harvestWatch.room.welcome.viewer_id);
  assert(await page.evaluate(() => /^b1\./.test(localStorage.getItem('harvest.buyer_token') || '')), 'the page keeps its buyer token');
  log(`viewer id ${viewerId}`);

  // Watch the banner from inside the page so a short outage is not missed between polls.
  await page.evaluate(() => {
    window.__bannerStates = [];
    const banner = document.querySelector('#conn-banner');
    new MutationObserver(() => {
      if (!banner.hidden) window.__bannerStates.push(banner.dataset.state);
    }).observe(banner, { attributes: true, childList: true, characterData: true, subtree: true });
  });

  await server.restart();
  log(`server restarted on port ${server.httpPort}`);

  await page.waitForFunction(() => window.harvestWatch.room.welcomes >= 2, null, { timeout: 30_000 });
  const states = await page.evaluate(() => window.__bannerStates);
  assert(states.includes('reconnecting'), `the page showed "reconnecting" (saw ${JSON.stringify(states)})`);
  await waitFor(() => page.evaluate(() => document.querySelector('#conn-banner').hidden), { what: 'the banner to go away' });
  const after = await page.evaluate(() => window.harvestWatch.room.welcome.viewer_id);
  log(`after restart: welcome ${after}`);
  assert(after === viewerId, 'the same buyer after a restart (its buyer token, signed with the kept secret)');

  // Works again: a card from the host and a chat message reach the page.
  const host = await openHost(t, server, stream);
  host.send({ type: 'card.show', product_id: 'pear-yulu' });
  const other = new WsClient(server, stream.id);
  t.defer(() => other.close());
  await other.open();
  other.send({ type: 'chat.send', text: 'back again' });
  await page.waitForSelector('.chat-item', { timeout: 15_000 });
  const text = await page.textContent('.chat-item .chat-text');
  assert(text === 'back again', `chat arrives after the restart (got ${text})`);
  if (host.welcome.products?.length) await page.waitForSelector('.product-card[data-product-id="pear-yulu"]', { timeout: 15_000 });
});
