// Screenshots of the buyer's and the farmer's side of an order, on a phone (390×844) and a
// laptop (1366×800), in zh-CN and en: the products sheet, the product sheet, the checkout
// sheet, My orders (one order shipped with its tracking number, one awaiting payment) and the
// host console's Orders panel. The pictures go to $HARVEST_SCREENSHOT_DIR (ctest:
// build-test/screenshots/, named orders-*) for people to look at; the test asserts only that
// every step rendered.
import path from 'node:path';
import {
  hostLogin, launchBrowser, log, newPage, openHost, requireHls, requireRooms, runTest, screenshotDir, settle, startPublisher, waitFor,
} from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

const SIZES = [
  { name: 'phone', width: 390, height: 844, mobile: true },
  { name: 'laptop', width: 1366, height: 800, mobile: false },
];
const LOCALES = [{ name: 'zh', locale: 'zh-CN' }, { name: 'en', locale: 'en-US' }];
const CONTACT = { name: '李梅', phone: '13800138000', address: '上海市浦东新区世纪大道 100 号 5 楼 502' };

runTest('orders_screenshots', async (t) => {
  const dir = screenshotDir();
  const server = await t.server();
  const stream = await server.createStream({ title: '隰县玉露香梨 · 果园现场直播', farmer: '李大姐 · 山西隰县' });
  await server.putProducts(stream, CATALOG);
  await requireRooms(t, server, stream);
  const host = await openHost(t, server, stream);
  host.send({ type: 'card.show', product_id: 'pear-yulu' });
  if (server.rtmpPort) {
    startPublisher(t, server, stream);
    await requireHls(server, stream, 60_000);  // the farmer's video behind the sheets
  }
  const hostApi = (orderId, action, body = {}) => server.fetch(`/api/orders/${orderId}/${action}`, { method: 'POST', token: stream.host_token, body });

  const browser = await launchBrowser(t);
  for (const size of SIZES) {
    for (const { name: langName, locale } of LOCALES) {
      const tag = `${size.name}-${langName}`;
      const shot = async (page, what) => {
        await settle(page);
        await page.screenshot({ path: path.join(dir, `orders-${what}-${tag}.png`) });
      };
      const page = await newPage(t, browser, { ...size, locale });
      // A returning buyer: the contact from last time is on this device.
      await page.addInitScript((c) => localStorage.setItem('harvest.contact', JSON.stringify(c)), CONTACT);
      await page.goto(`${server.base}/watch/${stream.id}`);
      await page.waitForSelector('.product-card[data-product-id="pear-yulu"]', { timeout: 20_000 });
      if (server.rtmpPort) {
        await waitFor(() => page.evaluate(() => document.querySelector('video').currentTime > 1), { timeout: 40_000, what: 'the video to play' })
          .catch((err) => log(`video not playing for the screenshot: ${err.message}`));
      }

      // First order: bought from the card's product sheet, checked out, then paid and shipped.
      await page.click('.product-card[data-product-id="pear-yulu"] .card-media');
      await page.waitForSelector('.sheet[data-sheet="product"]:not([hidden])');
      await shot(page, 'product');
      await page.click('.sheet[data-sheet="product"] .buy-button');
      await page.waitForSelector('#checkout-body[data-phase="form"]', { timeout: 15_000 });
      const first = await page.getAttribute('#checkout-body', 'data-order-id');
      await page.click('.checkout-submit');
      await page.waitForSelector('#checkout-body[data-phase="placed"]', { timeout: 15_000 });
      await shot(page, 'placed');
      await hostApi(first, 'paid');
      await hostApi(first, 'ship', { carrier: '顺丰速运', tracking: 'SF1234567890' });

      // Second order: from the products list (the sheet on a phone, the side panel on a laptop).
      await page.click('.sheet[data-sheet="checkout"] .sheet-close');
      let list = '#side-products';
      if (size.mobile) {
        await page.click('#open-products');
        list = '.sheet[data-sheet="products"]';
        await page.waitForSelector(`${list}:not([hidden])`);
        await shot(page, 'products');
      }
      await page.click(`${list} .side-product[data-product-id="crab-suqian"] .btn-buy`);
      await page.waitForSelector('#checkout-body[data-phase="form"]', { timeout: 15_000 });
      const second = await page.getAttribute('#checkout-body', 'data-order-id');
      await shot(page, 'checkout');
      await page.click('.checkout-submit');
      await page.waitForSelector('#checkout-body[data-phase="placed"]', { timeout: 15_000 });
      await page.click('#checkout-body .show-my-orders');
      await page.waitForSelector(`.my-order[data-order-id="${first}"][data-status="shipped"]`, { timeout: 10_000 });
      await page.waitForSelector(`.my-order[data-order-id="${second}"]`);
      await shot(page, 'mine');

      // The farmer's side: the Orders panel with both orders, the ship form open on the paid one.
      const farmer = await newPage(t, browser, { ...size, locale });
      await hostLogin(farmer, server, stream);
      await farmer.waitForSelector(`.host-order[data-order-id="${second}"] .mark-paid`, { timeout: 15_000 });
      await hostApi(second, 'paid');
      await farmer.click(`.host-order[data-order-id="${second}"] .ship-order`);
      await farmer.locator('#orders-panel').scrollIntoViewIfNeeded();
      await settle(farmer);
      await farmer.locator('#orders-panel').screenshot({ path: path.join(dir, `orders-host-${tag}.png`) });
      await farmer.close();
      await page.close();
    }
  }
  log(`screenshots in ${dir} (orders-*)`);
});
