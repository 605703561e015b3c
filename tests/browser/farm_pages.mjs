// The farmer's pages in Chromium against the real server: sign-in (a wrong password, then the
// right one), "My farm" (schedule a show and add a product through the forms), the home page's
// sections (the scheduled show under "coming up" with its start time), the admin's accounts
// page (an invite link) and the invite page (joining signs the new farmer in). Screenshots of
// each page at 390×844 and 1366×800 in zh-CN and en go to $HARVEST_SCREENSHOT_DIR (farm-*).
import path from 'node:path';
import { assert, launchBrowser, newPage, runTest, screenshotDir, settle } from './harness.mjs';

const SIZES = [
  { name: 'phone', width: 390, height: 844, mobile: true },
  { name: 'laptop', width: 1366, height: 800, mobile: false },
];
const SAMPLES = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'samples');
const LOCALES = [{ name: 'zh', locale: 'zh-CN' }, { name: 'en', locale: 'en-US' }];

runTest('farm_pages', async (t) => {
  const dir = screenshotDir();
  const server = await t.server();
  const created = await server.fetch('/api/farmers', { method: 'POST', token: server.adminToken,
    body: { username: 'wang', password: 'pear orchard 7', name: '隰县梨园 王大姐' } });
  assert(created.status === 201, 'farmer created: ' + created.status);
  // A live-less past show of the admin's, so the home page has all three sections' kinds.
  await server.createStream({ title: '宿迁大闸蟹 上周回放', farmer: '宿迁 李大哥' });

  const browser = await launchBrowser(t);
  let first = true;
  for (const size of SIZES) {
    for (const { name: langName, locale } of LOCALES) {
      const tag = `${size.name}-${langName}`;
      const shot = async (page, what) => {
        await settle(page);
        await page.screenshot({ path: path.join(dir, `farm-${what}-${tag}.png`), fullPage: true });
      };
      const page = await newPage(t, browser, { ...size, locale });

      // Signed out, /farm sends the farmer to sign in.
      await page.goto(`${server.base}/farm`);
      await page.waitForURL(/\/login\?next=%2Ffarm|\/login\?next=\/farm/, { timeout: 15_000 });
      await page.waitForSelector('#signin-form:not([hidden])');
      if (first) {
        await page.fill('#signin-form input[name=username]', 'wang');
        await page.fill('#signin-form input[name=password]', 'wrong password');
        await page.click('#signin-form button[type=submit]');
        await page.waitForSelector('#signin-form .form-error:not([hidden])');
      }
      await shot(page, 'signin');
      await page.fill('#signin-form input[name=username]', 'wang');
      await page.fill('#signin-form input[name=password]', 'pear orchard 7');
      await page.click('#signin-form button[type=submit]');
      await page.waitForURL(/\/farm$/, { timeout: 15_000 });
      await page.waitForSelector('#farm:not([hidden])');
      const hello = await page.textContent('#hello');
      assert(hello.includes('隰县梨园 王大姐'), 'the page greets the farmer: ' + hello);

      if (first) {
        // Schedule a show for tomorrow 19:30 and add a product, through the forms.
        await page.click('#new-show summary');
        await page.fill('#show-form input[name=title]', '玉露香梨 果园采摘直播');
        const tomorrow = new Date(Date.now() + 24 * 3600_000);
        const local = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}T19:30`;
        await page.fill('#show-form input[name=starts_at]', local);
        await page.click('#show-form button[type=submit]');
        await page.waitForSelector('.show-item .badge-upcoming');
        await page.fill('#product-form input[name=id]', 'pear-yulu');
        await page.fill('#product-form input[name=title]', '隰县玉露香梨 5斤装');
        await page.fill('#product-form input[name=price]', '39.90');
        // The product's picture is taken with the phone: uploaded, and its URL fills the field.
        await page.setInputFiles('#product-form input[data-photo-for=image]', path.join(SAMPLES, 'images', 'pear-yulu.png'));
        await page.waitForFunction(() => document.querySelector('#product-form input[name=image]').value.startsWith('/images/'));
        // Where it was grown: the origin record, kept in the farmer's catalog.
        await page.click('#origin-fields summary');
        await page.fill('#product-form input[name=origin_farm]', '隰县玉露香梨合作社');
        await page.fill('#product-form input[name=origin_county]', '隰县');
        await page.fill('#product-form input[name=origin_harvest_date]', '2026-09-12');
        await page.fill('#product-form input[name=origin_trace_code]', 'SX-XIXIAN-0912');
        await page.fill('#product-form input[name=origin_certificates]', '绿色食品，地理标志');
        await shot(page, 'product-form');
        await page.click('#product-form button[type=submit]');
        await page.waitForSelector('.product-item[data-product-id="pear-yulu"] img');
        const trace = await server.fetch('/api/trace/SX-XIXIAN-0912');
        assert(trace.status === 200, 'the trace code is public once saved: ' + trace.status);
        const loaded = await page.$eval('.product-item[data-product-id="pear-yulu"] img', async (img) => {
          await img.decode().catch(() => {});
          return img.naturalWidth;
        });
        assert(loaded > 0, 'the uploaded picture shows in the catalog');
        const catalog = await server.fetch('/api/streams');
        assert(catalog.status === 200, 'list');
        first = false;
      }
      await page.waitForSelector('.show-item');
      await shot(page, 'farm');

      // The home page: the scheduled show under "coming up", with its start time.
      await page.goto(`${server.base}/`);
      await page.waitForSelector('#section-upcoming .stream-card');
      const when = await page.textContent('#section-upcoming .stream-when');
      assert(/19:30/.test(when), 'the start time is shown: ' + when);
      await page.waitForSelector('#section-past .stream-card');
      await shot(page, 'home');

      // The admin's page: the farmer is listed; an invite link is made.
      await page.goto(`${server.base}/admin`);
      await page.fill('#token-form input[name=token]', server.adminToken);
      await page.click('#token-form button[type=submit]');
      await page.waitForSelector('.farmer-item');
      assert((await page.textContent('#farmers')).includes('隰县梨园 王大姐'), 'the farmer is listed');
      await page.fill('#invite-form input[name=name]', '重庆 张姐');
      await page.click('#invite-form button[type=submit]');
      await page.waitForSelector('#invite-made:not([hidden])');
      const link = await page.textContent('#invite-link');
      await shot(page, 'admin');

      // The invite, on a fresh phone: it names the farmer; joining signs them in.
      const phone = await newPage(t, browser, { ...size, locale });
      await phone.goto(link);
      await phone.waitForSelector('#join-form:not([hidden])');
      assert((await phone.textContent('.join-hello')).includes('重庆 张姐'), 'the invite names the farmer');
      await shot(phone, 'join');
      await phone.fill('#join-form input[name=username]', `zhang-${tag}`);
      await phone.fill('#join-form input[name=password]', 'chongqing 88');
      await phone.click('#join-form button[type=submit]');
      await phone.waitForURL(/\/farm$/, { timeout: 15_000 });
      await phone.waitForSelector('#farm:not([hidden])');
      assert((await phone.textContent('#hello')).includes('重庆 张姐'), 'the new farmer is signed in');
    }
  }
});
