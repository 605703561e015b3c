// Screenshots of the home page, viewer page, host console and broadcaster page at phone
// (390×844, zh-CN) and laptop (1366×768, en) sizes, with a stream that has a catalog, a card
// on screen, a flash sale and some chat when the server supports those. The pictures go to
// $HARVEST_SCREENSHOT_DIR (ctest: build-test/screenshots/) for people to look at; this test
// asserts only that every page rendered without errors.
import path from 'node:path';
import {
  WsClient, assert, hostLogin, launchBrowser, log, newPage, openHost, runTest, screenshotDir, settle, startPublisher, waitFor,
} from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

const SIZES = [
  { name: 'phone', width: 390, height: 844, mobile: true, locale: 'zh-CN' },
  { name: 'laptop', width: 1366, height: 768, mobile: false, locale: 'en-US' },
];

runTest('screenshots', async (t) => {
  const dir = screenshotDir();
  const server = await t.server();
  const stream = await server.createStream({ title: '隰县玉露香梨 · 果园现场直播', farmer: '李大姐 · 山西隰县' });

  let products = false;
  try {
    await server.putProducts(stream, CATALOG);
    products = true;
  } catch (err) {
    log(`no catalog for the screenshots: ${err.message}`);
  }

  let rooms = false;
  let host = null;
  try {
    host = await openHost(t, server, stream);
    rooms = true;
  } catch (err) {
    log(`no websocket rooms for the screenshots: ${err.message}`);
  }
  if (server.rtmpPort) startPublisher(t, server, stream);

  let buyer = null;
  if (rooms && products) {
    host.send({ type: 'card.show', product_id: 'pear-yulu', slot: 'bottom' });
    host.send({ type: 'sale.start', product_id: 'pear-yulu', price: 2990, quantity: 50, per_buyer_limit: 2, duration_s: 600 });
    buyer = new WsClient(server, stream.id);
    t.defer(() => buyer.close());
    await buyer.open();
  }
  // Activity that the open pages see arrive: chat, purchases.
  let round = 0;
  const activity = async () => {
    if (!buyer) return;
    round += 1;
    buyer.send({ type: 'chat.send', text: round === 1 ? '梨子看起来好新鲜！' : 'Do you ship to Shanghai?' });
    host.send({ type: 'chat.send', text: round === 1 ? '今天下单明天发货，包邮～' : 'Yes — free shipping to Shanghai.' });
    await buyer.request({ type: 'buy', product_id: round === 1 ? 'pear-yulu' : 'crab-suqian', qty: 2, idempotency_key: `shot-${round}` })
      .catch((err) => log(`buy for the screenshots: ${err.message}`));
  };

  const browser = await launchBrowser(t);
  for (const size of SIZES) {
    const shot = (page, name) => page.screenshot({ path: path.join(dir, `${name}-${size.name}.png`) });

    const page = await newPage(t, browser, size);
    await page.goto(`${server.base}/`);
    await page.waitForSelector('.stream-card');
    await shot(page, 'index');

    await page.goto(`${server.base}/watch/${stream.id}`);
    if (rooms && products) await page.waitForSelector('.product-card[data-product-id="pear-yulu"]', { timeout: 20_000 });
    if (server.rtmpPort) {
      await waitFor(() => page.evaluate(() => document.querySelector('video').currentTime > 1), {
        timeout: 40_000, what: 'the video to play',
      }).catch((err) => log(`video not playing for the screenshot: ${err.message}`));
    }
    if (buyer) {
      await activity();
      await page.waitForSelector('.chat-item:nth-child(2)', { timeout: 10_000 });
      await page.waitForSelector('.ticker-pill', { timeout: 10_000 });
    }
    await settle(page);
    await shot(page, 'watch');

    await hostLogin(page, server, stream, { room: rooms });
    if (products) await page.waitForSelector('.product-row');
    if (buyer) {
      await activity();
      await page.waitForSelector('.host-chat-item:nth-child(2)', { timeout: 10_000 });
      await page.waitForSelector('.order-item', { timeout: 10_000 });
    }
    await settle(page);
    await shot(page, 'host');
    await page.screenshot({ path: path.join(dir, `host-full-${size.name}.png`), fullPage: true });

    // Same tab: the broadcaster page finds the host token in sessionStorage.
    await page.goto(`${server.base}/broadcast/${stream.id}`);
    await page.waitForSelector('#details:not([hidden])', { timeout: 10_000 });
    await page.waitForSelector('body[data-camera="on"]', { timeout: 10_000 });
    await settle(page);
    await shot(page, 'broadcast');
  }
  assert(t.dialogs.length === 0, `no dialogs (got ${t.dialogs.join(', ')})`);
  log(`screenshots in ${dir}`);
});
