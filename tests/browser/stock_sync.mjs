// A viewer buys (two units, one tap after choosing the quantity) and sees the order confirmed
// with its id; another viewer, on another phone, sees the stock go down (and switches the
// page from Chinese to English).
import { assert, launchBrowser, log, newPage, openHost, requireRooms, runTest, waitFor } from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

const cardSel = '.product-card[data-product-id="pear-yulu"]';

runTest('stock_sync', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: 'Stock test' });
  await server.putProducts(stream, CATALOG);
  await requireRooms(t, server, stream);
  const host = await openHost(t, server, stream);
  host.send({ type: 'card.show', product_id: 'pear-yulu' });

  const browser = await launchBrowser(t);
  const alice = await newPage(t, browser);
  const bob = await newPage(t, browser, { locale: 'zh-CN' });
  for (const p of [alice, bob]) {
    await p.goto(`${server.base}/watch/${stream.id}`);
    await p.waitForSelector(`${cardSel} .card-stock[data-left="120"]`, { timeout: 20_000 });
  }

  await alice.click(`${cardSel} .qty-inc`);
  await waitFor(() => alice.textContent(`${cardSel} .qty-value`).then((s) => s.trim() === '2'), { what: 'quantity 2' });
  await alice.click(`${cardSel} .buy-button`);

  // The result box hides itself after a while; its data attributes stay.
  await alice.waitForFunction(() => document.querySelector('#order-result').dataset.result === 'confirmed', null, { timeout: 15_000 });
  const orderId = await alice.getAttribute('#order-result', 'data-order-id');
  const text = await alice.textContent('#order-result');
  log(`alice: ${text}`);
  assert(orderId, 'the confirmation carries an order id');
  assert(text.includes(orderId), 'the order id is shown in words');
  assert(text.includes('¥79.80'), `the total ¥79.80 is shown (got "${text}")`);

  await bob.waitForSelector(`${cardSel} .card-stock[data-left="118"]`, { timeout: 15_000 });
  const bobStock = await bob.textContent(`${cardSel} .card-stock`);
  log(`bob sees: ${bobStock}`);
  assert(bobStock.includes('118'), 'the other viewer sees 118 left');
  await alice.waitForSelector(`${cardSel} .card-stock[data-left="118"]`, { timeout: 15_000 });

  // Bob's phone is in Chinese (from navigator.language); the switch turns the page to English.
  assert(bobStock.includes('剩'), `zh-CN picked from the browser language (got ${bobStock})`);
  await bob.click('.stage-top [data-lang-switch]');
  await waitFor(() => bob.textContent(`${cardSel} .card-stock`).then((s) => s === '118 left'), { what: 'English after the switch' });
});
