// The host console's product form takes a photo from the phone (issue 18): the file picker
// uploads it (POST /api/images), the thumbnail shows the server's copy, the image URL field
// fills in, and the product saved with it carries the /images/ URL. A file that is not a
// picture is refused in the page's language and leaves the field empty. Screenshots of the form
// at 390×844 (zh-CN) and 1366×800 (en) go to $HARVEST_SCREENSHOT_DIR.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { assert, hostLogin, launchBrowser, newPage, requireRooms, runTest, screenshotDir, settle } from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

const SAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../samples/images');
const SIZES = [
  { name: 'phone', width: 390, height: 844, mobile: true, locale: 'zh-CN', expect: /照片已就绪（\d+×\d+）/, bad: /不是能读取的图片/ },
  { name: 'laptop', width: 1366, height: 800, mobile: false, locale: 'en-US', expect: /Photo ready \(\d+×\d+\)/, bad: /not a picture we can read/ },
];

runTest('photo_upload', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: '隰县玉露香梨 · 果园现场直播' });
  await server.putProducts(stream, CATALOG);
  await requireRooms(t, server, stream);
  const dir = screenshotDir();
  const notAPicture = path.join(t.tmpDir(), 'notes.png');
  writeFileSync(notAPicture, 'these are my notes, not a picture');

  const browser = await launchBrowser(t);
  for (const [i, size] of SIZES.entries()) {
    const page = await newPage(t, browser, size);
    await hostLogin(page, server, stream);
    await page.click('.add-product summary');
    await page.waitForSelector('#add-photo-thumb', { state: 'visible' });
    await page.locator('.add-product').scrollIntoViewIfNeeded();
    await settle(page);
    await page.locator('.add-product').screenshot({ path: path.join(dir, `photo-form-empty-${size.name}.png`) });

    // Not a picture: refused in words, nothing filled in.
    await page.setInputFiles('#add-photo', notAPicture);
    await page.waitForFunction(() => document.querySelector('#add-photo-status.error')?.textContent, null, { timeout: 15_000 });
    const refusal = await page.textContent('#add-photo-status');
    assert(size.bad.test(refusal), `${size.name}: the refusal is in words (${refusal})`);
    assert(await page.inputValue('#add-image') === '', 'no URL after a refusal');

    // A real photo (a sample product picture, a PNG): uploaded, shown, filled in.
    const photo = path.join(SAMPLES, i === 0 ? 'pear-yulu.png' : 'crab-suqian.png');
    await page.setInputFiles('#add-photo', photo);
    await page.waitForFunction(() => /^\/images\/[0-9a-f]{32}\.jpg$/.test(document.querySelector('#add-image').value), null,
                               { timeout: 15_000 });
    const url = await page.inputValue('#add-image');
    await page.waitForFunction((u) => {
      const img = document.querySelector('#add-photo-thumb img');
      return img && img.getAttribute('src') === u && img.complete && img.naturalWidth > 0;
    }, url, { timeout: 15_000 });
    const status = await page.textContent('#add-photo-status');
    assert(size.expect.test(status), `${size.name}: the status says the photo is ready (${status})`);
    const served = await fetch(server.base + url);
    assert(served.status === 200 && served.headers.get('content-type') === 'image/jpeg', `GET ${url}: ${served.status}`);

    await page.fill('#add-form input[name=id]', `photo-${size.name}`);
    await page.fill('#add-form input[name=title]', size.locale === 'zh-CN' ? '隰县玉露香梨 · 手机拍摄' : 'Suqian crab, photographed on the farm');
    await page.fill('#add-form input[name=price]', '39.9');
    await page.fill('#add-form input[name=stock]', '50');
    await settle(page);
    await page.locator('.add-product').screenshot({ path: path.join(dir, `photo-form-${size.name}.png`) });
    await page.screenshot({ path: path.join(dir, `photo-console-${size.name}.png`) });

    await page.click('#add-form button[type=submit]');
    await page.waitForSelector(`.product-row[data-product-id="photo-${size.name}"]`, { timeout: 15_000 });
    const catalog = await server.fetch(`/api/streams/${stream.id}/products`);
    const saved = catalog.json.products.find((p) => p.id === `photo-${size.name}`);
    assert(saved?.image === url, `the product keeps the photo's URL (${JSON.stringify(saved)})`);
    assert(await page.inputValue('#add-image') === '', 'the form is empty again');
    assert(!(await page.$('#add-photo-thumb img')), 'the thumbnail is cleared with the form');
  }
});
