// From a tap to the doorstep, on a phone (390×844): the viewer opens a product from the
// products sheet, buys, checks out with an address and the offline payment, and sees the order
// in My orders as awaiting payment; the host console marks it paid and ships it with a
// tracking number, and the buyer's page shows "shipped" with the number, pushed by
// order.updated with no reload. Also: a reserved order cancelled by the buyer gives its units
// back, the contact is prefilled on the next checkout, the courier's CSV has the address, and
// adding a product in the console leaves the live stock of the others alone.
import { readFileSync } from 'node:fs';
import { WsClient, assert, hostLogin, launchBrowser, log, newPage, openHost, requireRooms, runTest, waitFor } from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

const CONTACT = { name: '李梅', phone: '138 0013 8000', address: '上海市浦东新区世纪大道 100 号 5 楼 502' };
const TRACKING = 'SF1234567890';
const CARRIER = '顺丰速运';

runTest('checkout', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: 'Checkout test' });
  await server.putProducts(stream, CATALOG);
  await requireRooms(t, server, stream);
  const hostWs = await openHost(t, server, stream);
  hostWs.send({ type: 'card.show', product_id: 'pear-yulu' });
  const stockOf = async (id) => (await server.fetch(`/api/streams/${stream.id}/products`)).json.products.find((p) => p.id === id).stock;

  const browser = await launchBrowser(t);
  const buyer = await newPage(t, browser);  // a phone, 390×844
  await buyer.goto(`${server.base}/watch/${stream.id}`);
  await buyer.waitForFunction(() => window.harvestWatch?.room.welcomes >= 1);
  const welcome = await buyer.evaluate(() => window.harvestWatch.room.welcome);
  if (!Array.isArray(welcome.payments)) throw new Error(`missing: server feature: welcome.payments (got ${JSON.stringify(welcome.payments)})`);
  // Anything below must arrive live: a reload would clear this.
  await buyer.evaluate(() => { window.notReloaded = true; });

  // The product list on a phone: the products button, a row, the product sheet.
  await buyer.click('#open-products');
  await buyer.waitForSelector('.sheet[data-sheet="products"]:not([hidden]) .side-product[data-product-id="crab-suqian"]');
  await buyer.click('.sheet[data-sheet="products"] .side-product[data-product-id="pear-yulu"] .side-product-open');
  const detail = '.sheet[data-sheet="product"]:not([hidden]) .product-detail[data-product-id="pear-yulu"]';
  await buyer.waitForSelector(`${detail} .card-stock[data-left="120"]`);
  assert((await buyer.textContent(`${detail} .card-price`)) === '¥39.90', 'the product sheet shows the price');
  const sheetTop = await buyer.evaluate(() => document.querySelector('.sheet[data-sheet="product"]').getBoundingClientRect().top);
  assert(sheetTop > 844 * 0.25, `the video stays visible above the product sheet (sheet top at ${sheetTop}px)`);

  // Buy: the order is reserved and the checkout sheet opens with a countdown.
  await buyer.click(`${detail} .buy-button`);
  await buyer.waitForSelector('.sheet[data-sheet="checkout"]:not([hidden]) #checkout-body[data-phase="form"]', { timeout: 15_000 });
  const orderId = await buyer.getAttribute('#checkout-body', 'data-order-id');
  await waitFor(() => buyer.textContent('.checkout-deadline').then((s) => /\d\d:\d\d/.test(s)), { what: 'the countdown to pay_by' });
  const offered = await buyer.$$eval('.payment-option input', (inputs) => inputs.map((i) => i.value));
  assert(JSON.stringify(offered) === JSON.stringify(welcome.payments.filter((m) => ['offline', 'gateway'].includes(m))),
    `the payment choices are the server's (${offered} vs ${welcome.payments})`);
  assert(offered.includes('offline'), 'the offline payment is offered');
  log(`order ${orderId} reserved; payments ${offered.join(',')}`);

  // A wrong mobile number is refused in words before anything is sent.
  await buyer.fill('#checkout-name', CONTACT.name);
  await buyer.fill('#checkout-phone', '12345');
  await buyer.fill('#checkout-address', CONTACT.address);
  await buyer.check('.payment-option[data-payment="offline"] input');
  await buyer.click('.checkout-submit');
  await buyer.waitForSelector('#checkout-phone-error:not([hidden])');
  assert(/11-digit/.test(await buyer.textContent('#checkout-phone-error')), 'the phone error says what a mobile number is');
  await buyer.fill('#checkout-phone', CONTACT.phone);
  await buyer.click('.checkout-submit');
  await buyer.waitForSelector('#checkout-body[data-phase="placed"]', { timeout: 15_000 });
  const saved = await buyer.evaluate(() => JSON.parse(localStorage.getItem('harvest.contact')));
  assert(saved?.phone === '13800138000' && saved.address === CONTACT.address, `the contact is remembered (${JSON.stringify(saved)})`);

  // My orders: awaiting payment (offline: the farmer marks it paid).
  await buyer.click('#checkout-body .show-my-orders');
  const mine = `.sheet[data-sheet="orders"]:not([hidden]) .my-order[data-order-id="${orderId}"]`;
  await buyer.waitForSelector(`${mine}[data-status="reserved"]`, { timeout: 10_000 });
  log(`my orders: ${await buyer.textContent(mine)}`);

  // The host console (a laptop): the order with the address; Mark paid; Ship.
  const host = await newPage(t, browser, { width: 1366, height: 800, mobile: false });
  await hostLogin(host, server, stream);
  const row = `.host-order[data-order-id="${orderId}"]`;
  await host.waitForSelector(`${row}[data-status="reserved"] .mark-paid`, { timeout: 15_000 });
  const rowText = await host.textContent(row);
  assert(rowText.includes(CONTACT.address) && rowText.includes('13800138000') && rowText.includes(CONTACT.name),
    `the host sees the buyer's name, phone and address (got ${rowText})`);
  await host.click(`${row} .mark-paid`);
  await host.waitForSelector(`${row}[data-status="paid"] .ship-order`, { timeout: 10_000 });
  await buyer.waitForSelector(`${mine}[data-status="paid"]`, { timeout: 10_000 });
  await host.click(`${row} .ship-order`);
  await host.fill(`${row} .ship-form input[name="carrier"]`, CARRIER);
  await host.fill(`${row} .ship-form input[name="tracking"]`, TRACKING);
  await host.click(`${row} .ship-form button[type="submit"]`);
  await host.waitForSelector(`${row}[data-status="shipped"]`, { timeout: 10_000 });

  // The buyer's page follows: shipped, with carrier and tracking number, no reload.
  await buyer.waitForSelector(`${mine}[data-status="shipped"] .tracking-number`, { timeout: 10_000 });
  const shipped = await buyer.textContent(mine);
  assert(shipped.includes(TRACKING) && shipped.includes(CARRIER) && /Shipped/.test(shipped), `shipped with the tracking number (got ${shipped})`);
  assert(await buyer.evaluate(() => window.notReloaded === true), 'the buyer page was not reloaded');
  log(`buyer sees: ${shipped}`);

  // The courier's CSV has the address and the tracking number.
  const [download] = await Promise.all([host.waitForEvent('download'), host.click('#orders-export')]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert(csv.includes(CONTACT.address) && csv.includes(TRACKING), `the CSV carries the address and tracking (got ${csv.slice(0, 400)})`);

  // Adding a product in the console keeps the others' live stock (119 pears: one sold).
  assert((await stockOf('pear-yulu')) === 119, 'one pear sold');
  await host.click('.add-product summary');
  await host.fill('#add-form input[name="id"]', 'apple-fuji');
  await host.fill('#add-form input[name="title"]', '洛川红富士苹果 5kg');
  await host.fill('#add-form input[name="price"]', '49.9');
  await host.fill('#add-form input[name="stock"]', '30');
  // Another buyer takes 2 pears meanwhile (the console hears of it, but a stale copy must not
  // matter either way: the console sends no stock for the pear).
  const otherBuyer = new WsClient(server, stream.id);
  t.defer(() => otherBuyer.close());
  await otherBuyer.open();
  const r2 = await otherBuyer.request({ type: 'buy', product_id: 'pear-yulu', qty: 2, idempotency_key: 'other-buyer' });
  assert(r2.type === 'order.confirmed', `the other buyer's order (${JSON.stringify(r2)})`);
  const put = host.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith(`/api/streams/${stream.id}/products`));
  await host.click('#add-form button[type="submit"]');
  const sent = JSON.parse((await put).postData()).products;
  assert(!('stock' in sent.find((p) => p.id === 'pear-yulu')) && sent.find((p) => p.id === 'apple-fuji').stock === 30,
    `the console sends stock only for the product it adds (${JSON.stringify(sent)})`);
  await waitFor(async () => (await server.fetch(`/api/streams/${stream.id}/products`)).json.products.some((p) => p.id === 'apple-fuji'),
    { what: 'the new product in the catalog' });
  assert((await stockOf('pear-yulu')) === 117, `adding a product left the pear's live stock alone (got ${await stockOf('pear-yulu')})`);
  assert((await stockOf('apple-fuji')) === 30, 'the new product has its stock');

  // A second order, cancelled by the buyer from My orders: its unit goes back on sale. The
  // checkout sheet is prefilled with the remembered contact.
  await buyer.click('.sheet[data-sheet="orders"] .sheet-close');
  await buyer.click('#open-products');
  await buyer.click('.sheet[data-sheet="products"] .side-product[data-product-id="crab-suqian"] .btn-buy');
  await buyer.waitForSelector('#checkout-body[data-phase="form"]', { timeout: 15_000 });
  const second = await buyer.getAttribute('#checkout-body', 'data-order-id');
  assert(second !== orderId, 'a new order');
  assert((await buyer.inputValue('#checkout-address')) === CONTACT.address, 'the address is prefilled');
  assert((await stockOf('crab-suqian')) === 39, 'the crab is reserved');
  await buyer.click('.sheet[data-sheet="checkout"] .sheet-close');
  await buyer.click('#open-orders');
  const crab = `.my-order[data-order-id="${second}"]`;
  await buyer.click(`${crab} .cancel-order`);
  await buyer.click(`${crab} .cancel-yes`);
  await buyer.waitForSelector(`${crab}[data-status="cancelled"]`, { timeout: 10_000 });
  await waitFor(async () => (await stockOf('crab-suqian')) === 40, { what: 'the cancelled unit back on sale' });
  await host.click('[data-orders-filter="all"]');
  await host.waitForSelector(`.host-order[data-order-id="${second}"][data-status="cancelled"]`, { timeout: 10_000 });
  log('cancelled by the buyer; the unit is back; the host sees it');

  // The farmer cancels an order while its buyer is at checkout: the sheet says so at once, in
  // words, and the form is gone.
  await buyer.click('.sheet[data-sheet="orders"] .sheet-close');
  await buyer.click('#open-products');
  await buyer.click('.sheet[data-sheet="products"] .side-product[data-product-id="chili-cq"] .btn-buy');
  await buyer.waitForSelector('#checkout-body[data-phase="form"]', { timeout: 15_000 });
  const third = await buyer.getAttribute('#checkout-body', 'data-order-id');
  const cancelled = await server.fetch(`/api/orders/${third}/cancel`, { method: 'POST', token: stream.host_token, body: { reason: '辣椒今天卖完了' } });
  assert(cancelled.status === 200 && cancelled.json.status === 'cancelled', `the host cancels (${cancelled.status} ${cancelled.text})`);
  await buyer.waitForSelector('#checkout-body[data-phase="over"]', { timeout: 10_000 });
  const over = await buyer.textContent('#checkout-body');
  assert(/cancelled/i.test(over) && !(await buyer.$('.checkout-submit')), `the checkout sheet says the order is cancelled (got ${over})`);
});
