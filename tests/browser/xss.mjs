// Every text from users or the catalog is rendered as text: a product, stream and chat
// message titled `<img src=x onerror=alert(1)>` shows those characters, runs nothing and
// creates no element, on the home page, the viewer page and the host console.
import { WsClient, assert, hostLogin, launchBrowser, newPage, openHost, requireRooms, runTest } from './harness.mjs';
import { CATALOG, XSS_TITLE } from './fixtures.mjs';

async function checkPage(t, page, where) {
  // The title's markup would make an element carrying an inline onerror handler. (The catalog's
  // own photo here is `x` too: its <img src="x"> is ours, without onerror, and replaced by the
  // placeholder once the load fails, which may or may not have happened yet.)
  const bad = await page.evaluate(() => document.querySelectorAll('[onerror]').length);
  assert(bad === 0, `${where}: no element with an onerror attribute was created`);
  const count = await page.evaluate((s) => document.body.innerText.split(s).length - 1, XSS_TITLE);
  assert(count > 0, `${where}: the title shows as its characters`);
  assert(t.dialogs.length === 0, `${where}: no alert ran (${t.dialogs.join(', ')})`);
  return count;
}

runTest('xss', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: XSS_TITLE, farmer: XSS_TITLE });
  const browser = await launchBrowser(t);
  const page = await newPage(t, browser, { width: 1366, height: 768, mobile: false });

  await page.goto(`${server.base}/`);
  await page.waitForSelector(`.stream-card[data-stream-id="${stream.id}"]`);
  await checkPage(t, page, 'home page');

  await server.putProducts(stream, [{ ...CATALOG[0], id: 'xss', title: XSS_TITLE, image: 'x' }]);
  await requireRooms(t, server, stream);
  const host = await openHost(t, server, stream);
  host.send({ type: 'card.show', product_id: 'xss' });

  await page.goto(`${server.base}/watch/${stream.id}`);
  await page.waitForSelector('.product-card[data-product-id="xss"]', { timeout: 20_000 });
  const viewer = new WsClient(server, stream.id);
  t.defer(() => viewer.close());
  await viewer.open();
  viewer.send({ type: 'chat.send', text: XSS_TITLE });
  await page.waitForSelector('.chat-item');
  const title = await page.textContent('.product-card[data-product-id="xss"] .card-title');
  assert(title === XSS_TITLE, `the card title is the literal text (got ${title})`);
  const chat = await page.textContent('.chat-item .chat-text');
  assert(chat === XSS_TITLE, `the chat message is the literal text (got ${chat})`);
  await checkPage(t, page, 'viewer page');

  await hostLogin(page, server, stream);
  await page.waitForSelector('.product-row[data-product-id="xss"]');
  viewer.send({ type: 'chat.send', text: XSS_TITLE });
  await page.waitForSelector('.host-chat-item');
  await checkPage(t, page, 'host console');
});
