// Traceability in real Chromium (issue 18): the viewer's card shows the short origin line, the
// product sheet the whole record with a link to /trace/{code}, and that public page shows the
// record (product, farm, place, harvest date, method, certificates, code, the show) and clear
// not-found / invalid states. Every text goes in as text (a certificate spelled as markup
// stays characters). Screenshots of the card, the product sheet and the trace page at 390×844 and
// 1366×800 in zh-CN and en go to $HARVEST_SCREENSHOT_DIR (trace-*) for people to look at.
import path from 'node:path';
import { assert, hostLogin, launchBrowser, newPage, openHost, requireRooms, runTest, screenshotDir, settle, waitFor } from './harness.mjs';
import { CATALOG, XSS_TITLE } from './fixtures.mjs';

const SIZES = [
  { name: 'phone', width: 390, height: 844, mobile: true },
  { name: 'laptop', width: 1366, height: 800, mobile: false },
];
const LOCALES = [{ name: 'zh', locale: 'zh-CN' }, { name: 'en', locale: 'en-US' }];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// A harvest three days ago in China (never "in the future" for the server).
const harvest = new Date(Date.now() + 8 * 3600e3 - 3 * 86400e3);
const HARVEST_DATE = harvest.toISOString().slice(0, 10);
const [Y, M, D] = HARVEST_DATE.split('-').map(Number);
const thisYear = Y === new Date().getFullYear();
const EXPECTED_LINE = {
  zh: `隰县 · 采摘于 ${thisYear ? '' : `${Y}年`}${M}月${D}日`,
  en: `隰县 · picked ${D} ${MONTHS[M - 1]}${thisYear ? '' : ` ${Y}`}`,
};
const CODE = 'SX-XIXIAN-2026-0017';
const ORIGIN = {
  farm: '隰县黄土镇玉露香梨专业合作社',
  place: { county: '隰县', township: '黄土镇', village: '上庄村' },
  harvest_date: HARVEST_DATE,
  method: '有机种植',
  certificates: ['绿色食品', '地理标志'],
  trace_code: CODE,
};
const XSS_CODE = 'XSS-CERT-0001';

runTest('trace', async (t) => {
  const dir = screenshotDir();
  const server = await t.server();
  const stream = await server.createStream({ title: '隰县玉露香梨 · 果园现场直播', farmer: '李大姐 · 山西隰县' });
  await server.putProducts(stream, [
    { ...CATALOG[0], origin: ORIGIN },
    { ...CATALOG[1], origin: { farm: '泗洪县洪泽湖大闸蟹养殖合作社', certificates: [XSS_TITLE], trace_code: XSS_CODE } },
    CATALOG[2],
  ]);
  await requireRooms(t, server, stream);
  const host = await openHost(t, server, stream);
  host.send({ type: 'card.show', product_id: 'pear-yulu' });

  const browser = await launchBrowser(t);
  for (const size of SIZES) {
    for (const { name: langName, locale } of LOCALES) {
      const tag = `${size.name}-${langName}`;
      const page = await newPage(t, browser, { ...size, locale });
      const shot = async (what, fullPage = false) => {
        await settle(page);
        await page.screenshot({ path: path.join(dir, `trace-${what}-${tag}.png`), fullPage });
      };

      // The card on the video: its origin line.
      await page.goto(`${server.base}/watch/${stream.id}`);
      const card = '.product-card[data-product-id="pear-yulu"]';
      await page.waitForSelector(`${card} .card-origin:not([hidden])`, { timeout: 20_000 });
      const line = await page.textContent(`${card} .card-origin`);
      assert(line === EXPECTED_LINE[langName], `${tag}: the card's origin line (got "${line}", want "${EXPECTED_LINE[langName]}")`);

      await shot('card');

      // The product sheet: the whole record and the link to the trace page.
      await page.click(`${card} .card-media`);
      const sheet = '.sheet[data-sheet="product"]:not([hidden])';
      await page.waitForSelector(`${sheet} .origin-record`);
      const record = await page.textContent(`${sheet} .origin-record`);
      for (const part of [ORIGIN.farm, '隰县 黄土镇 上庄村', ORIGIN.method, CODE, `${Y}`])
        assert(record.includes(part), `${tag}: the sheet's record shows ${part}`);
      const badges = await page.$$eval(`${sheet} .cert-badge`, (n) => n.map((b) => b.textContent));
      assert(badges.join('|') === '绿色食品|地理标志', `${tag}: certificates as badges (got ${badges})`);
      const href = await page.getAttribute(`${sheet} .origin-trace-link`, 'href');
      assert(href === `/trace/${CODE}`, `${tag}: the sheet links to the trace page (got ${href})`);
      await shot('sheet');

      // The public trace page, reached from the sheet's link.
      await page.click(`${sheet} .origin-trace-link`);
      await page.waitForSelector('#trace[data-state="found"]', { timeout: 15_000 });
      assert(new URL(page.url()).pathname === `/trace/${CODE}`, `${tag}: on /trace/${CODE}`);
      const title = await page.textContent('.trace-product');
      assert(title === CATALOG[0].title, `${tag}: the product title (got ${title})`);
      const body = await page.textContent('.trace-card');
      for (const part of [ORIGIN.farm, '隰县 黄土镇 上庄村', ORIGIN.method, CODE, '李大姐 · 山西隰县', '¥39.90'])
        assert(body.includes(part), `${tag}: the trace page shows ${part}`);
      assert((await page.$$('.trace-card .cert-badge')).length === 2, `${tag}: two certificate badges`);
      const img = await page.getAttribute('.trace-image', 'src');
      assert(img === CATALOG[0].image, `${tag}: the product photo (got ${img})`);
      const watch = await page.getAttribute('.trace-watch', 'href');
      assert(watch === `/watch/${stream.id}`, `${tag}: a link to the show (got ${watch})`);
      await shot('page', true);

      if (langName === 'zh' || size.name === 'phone') {
        // An unknown code and a malformed one: said plainly, with a way out.
        await page.goto(`${server.base}/trace/NO-SUCH-CODE-1`);
        await page.waitForSelector('#trace[data-state="not_found"]', { timeout: 15_000 });
        const text = await page.textContent('#trace');
        assert(text.includes('NO-SUCH-CODE-1'), `${tag}: the not-found page names the code`);
        await shot('notfound');
        await page.goto(`${server.base}/trace/ab`);
        await page.waitForSelector('#trace[data-state="invalid"]', { timeout: 15_000 });
      }
      await page.context().close();
    }
  }

  // The host console: the origin fields fill in from a product id already in the catalog, a
  // record the server refuses shows its reason and changes nothing, a good one is stored.
  for (const size of SIZES) {
    for (const { name: langName, locale } of LOCALES) {
      const tag = `${size.name}-${langName}`;
      const page = await newPage(t, browser, { ...size, locale });
      await hostLogin(page, server, stream, { room: false });
      await page.click('.add-product summary');
      await page.fill('#add-form input[name=id]', 'pear-yulu');
      await page.dispatchEvent('#add-form input[name=id]', 'change');
      await page.waitForSelector('#origin-fields[open]');
      const farm = await page.inputValue('#add-form input[name=origin_farm]');
      assert(farm === ORIGIN.farm, `${tag}: the origin fields fill in from the catalog (farm "${farm}")`);
      assert(await page.inputValue('#add-form input[name=origin_certificates]') === '绿色食品，地理标志',
        `${tag}: certificates fill in as one line`);
      // What the farmer sees: the origin fields in the middle of the screen.
      await page.locator('#origin-fields').evaluate((n) => n.scrollIntoView({ block: 'center' }));
      await settle(page);
      await page.screenshot({ path: path.join(dir, `trace-host-form-${tag}.png`) });
      if (tag === 'phone-en') {
        const before = (await server.fetch(`/api/streams/${stream.id}/products`)).text;
        await page.fill('#add-form input[name=origin_harvest_date]', '2099-01-01');
        await page.click('#add-form button[type=submit]');
        await page.waitForSelector('#add-error:not([hidden])');
        const error = await page.textContent('#add-error');
        assert(/harvest_date/.test(error) && /future/.test(error), `the server's reason is shown (got "${error}")`);
        assert((await server.fetch(`/api/streams/${stream.id}/products`)).text === before, 'the refused record changed nothing');
        await page.fill('#add-form input[name=origin_harvest_date]', HARVEST_DATE);
        await page.fill('#add-form input[name=origin_method]', '有机种植 · 人工授粉');
        await page.click('#add-form button[type=submit]');
        const saved = await waitFor(async () => {
          const r = await server.fetch(`/api/streams/${stream.id}/products`);
          return r.json.products.find((p) => p.id === 'pear-yulu' && p.origin?.method === '有机种植 · 人工授粉');
        }, { what: 'the corrected origin stored' });
        assert(saved.origin.trace_code === CODE && saved.origin.farm === ORIGIN.farm, 'the rest of the record is kept');
        const crab = (await server.fetch(`/api/streams/${stream.id}/products`)).json.products.find((p) => p.id === 'crab-suqian');
        assert(crab.origin?.trace_code === XSS_CODE, "another product's origin survives the console's catalog PUT");
      }
      await page.context().close();
    }
  }

  // Markup in a record is shown as its characters and runs nothing.
  const page = await newPage(t, browser);
  await page.goto(`${server.base}/trace/${XSS_CODE}`);
  await page.waitForSelector('#trace[data-state="found"]', { timeout: 15_000 });
  const cert = await page.textContent('.cert-badge');
  assert(cert === XSS_TITLE, `a certificate spelled as markup is its characters (got ${cert})`);
  const injected = await page.evaluate(() => [...document.querySelectorAll('img')].filter((i) => i.getAttribute('src') === 'x').length);
  assert(injected === 0, 'no <img src=x> was created');
  assert(t.dialogs.length === 0, `no alert ran (${t.dialogs.join(', ')})`);
});
