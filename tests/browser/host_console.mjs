// The host console drives the viewer page: edit price and stock, start and stop a flash sale
// from the form, hide the card; the viewer link's QR code scans (jsQR) to the watch URL and
// carries no token; the moderation buttons answer in words.
import jsQR from 'jsqr';
import { assert, hostLogin, launchBrowser, log, newPage, requireRooms, runTest, waitFor } from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

const row = '.product-row[data-product-id="pear-yulu"]';
const card = '.product-card[data-product-id="pear-yulu"]';

// Rasterises the page's QR <svg> in the page and decodes it here.
async function scanQr(page, selector) {
  const img = await page.evaluate(async (sel) => {
    const node = document.querySelector(sel);
    const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(node)], { type: 'image/svg+xml' }));
    const image = new Image();
    image.src = url;
    await image.decode();
    const size = 400;
    const canvas = Object.assign(document.createElement('canvas'), { width: size, height: size });
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(image, 0, 0, size, size);
    URL.revokeObjectURL(url);
    return { size, data: Array.from(ctx.getImageData(0, 0, size, size).data) };
  }, selector);
  return jsQR(new Uint8ClampedArray(img.data), img.size, img.size)?.data ?? null;
}

runTest('host_console', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: 'Host console test' });
  await server.putProducts(stream, CATALOG);
  await requireRooms(t, server, stream);

  const browser = await launchBrowser(t);
  const host = await newPage(t, browser, { width: 1366, height: 768, mobile: false });
  await hostLogin(host, server, stream);
  const viewer = await newPage(t, browser);
  await viewer.goto(`${server.base}/watch/${stream.id}`);
  await viewer.waitForFunction(() => window.harvestWatch?.room.welcomes >= 1);

  // The share link and its QR code: the watch URL, no token anywhere.
  const link = await host.getAttribute('#share-link', 'href');
  assert(link === `${server.base}/watch/${stream.id}`, `viewer link is the watch page (got ${link})`);
  const scanned = await scanQr(host, '#share-qr svg');
  assert(scanned === link, `the QR code scans to the viewer link (got ${scanned})`);
  assert(!link.includes(stream.host_token) && !host.url().includes(stream.host_token), 'no token in the viewer link or the address bar');

  // Show the card in the top slot.
  await host.selectOption(`${row} .slot-select`, 'top');
  await host.click(`${row} .show-card`);
  await viewer.waitForSelector(`.slot-top ${card}`, { timeout: 15_000 });
  await host.waitForSelector(`${row}.on-screen`);

  // Edit price and stock.
  await host.click(`${row} .edit-product`);
  await host.fill(`${row} input[name=price]`, '35.5');
  await host.fill(`${row} input[name=stock]`, '77');
  await host.click(`${row} .edit-form button[type=submit]`);
  await viewer.waitForFunction((sel) => document.querySelector(`${sel} .card-price`)?.textContent === '¥35.50', card, { timeout: 15_000 });
  await viewer.waitForSelector(`${card} .card-stock[data-left="77"]`, { timeout: 15_000 });
  log('price and stock edits reached the viewer');

  // A flash sale from the form, then stopped.
  await host.click(`${row} .start-sale`);
  await host.fill(`${row} input[name=sale_price]`, '19.9');
  await host.fill(`${row} input[name=sale_quantity]`, '10');
  await host.fill(`${row} input[name=sale_limit]`, '2');
  await host.fill(`${row} input[name=sale_duration]`, '300');
  await host.click(`${row} .sale-form button[type=submit]`);
  await viewer.waitForSelector(`${card}.on-sale`, { timeout: 15_000 });
  const salePrice = await viewer.textContent(`${card} .card-price`);
  const countdown = await viewer.textContent(`${card} .flash-countdown`);
  assert(salePrice === '¥19.90', `sale price on the card (got ${salePrice})`);
  assert(/0[45]:\d\d/.test(countdown), `a countdown of about five minutes (got ${countdown})`);
  await viewer.waitForSelector(`${card} .card-stock[data-left="10"]`, { timeout: 15_000 });
  // The stepper stops at the per-buyer limit.
  await viewer.click(`${card} .qty-inc`);
  assert(await viewer.isDisabled(`${card} .qty-inc`), 'the stepper stops at the per-buyer limit of 2');
  await host.click(`${row} .stop-sale`);
  await viewer.waitForSelector(`${card}:not(.on-sale) .flash-countdown`, { state: 'hidden', timeout: 20_000 });
  await waitFor(() => viewer.textContent(`${card} .card-price`).then((s) => s === '¥35.50'), { timeout: 20_000, what: 'list price after the sale' });
  log('flash sale started and stopped from the console');

  // Moderation: Delete removes the message on both pages; Mute says so to the host, and the
  // muted viewer's next message is refused with a line in its chat.
  await viewer.fill('#chat-input', 'hello from a viewer');
  await viewer.click('#chat-form button[type=submit]');
  await host.waitForSelector('.host-chat-item');
  await viewer.waitForSelector('#chat-list .chat-item[data-id]');
  await host.click('.host-chat-item .chat-delete');
  await host.waitForSelector('.host-chat-item', { state: 'detached', timeout: 10_000 });
  await viewer.waitForSelector('#chat-list .chat-item[data-id]', { state: 'detached', timeout: 10_000 });
  await viewer.fill('#chat-input', 'spam spam');
  await viewer.click('#chat-form button[type=submit]');
  await host.waitForSelector('.host-chat-item');
  await host.click('.host-chat-item .chat-mute');
  await host.waitForSelector('#toast:not([hidden])', { timeout: 10_000 });
  const toastText = await host.textContent('#toast');
  assert(/muted|禁言/.test(toastText), `the host is told the viewer is muted (got ${toastText})`);
  await viewer.fill('#chat-input', 'more spam');
  await viewer.click('#chat-form button[type=submit]');
  await viewer.waitForSelector('#chat-list .chat-system', { timeout: 10_000 });
  log(`moderation: deleted on both pages; ${toastText}`);

  // Hide.
  await host.click(`${row} .hide-card`);
  await viewer.waitForSelector(card, { state: 'detached', timeout: 15_000 });
});
