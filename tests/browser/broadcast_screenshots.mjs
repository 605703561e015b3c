// Screenshots of the broadcaster page going live from Chromium's fake camera over https: before
// going live, with the uplink check's verdict, and live (with the bitrate and loss line), at
// phone (390×844) and laptop (1366×800) sizes, in zh-CN and en. The pictures go to
// $HARVEST_SCREENSHOT_DIR (ctest: build-test/screenshots/broadcast-*.png) for people to look
// at; the test asserts only that each state was reached without page errors.
import path from 'node:path';
import { launchBrowser, log, newPage, runTest, screenshotDir, waitFor } from './harness.mjs';

const SIZES = [
  { name: 'phone', width: 390, height: 844, mobile: true },
  { name: 'laptop', width: 1366, height: 800, mobile: false },
];
const LOCALES = [{ name: 'zh', locale: 'zh-CN' }, { name: 'en', locale: 'en-US' }];

// Waits for entrance animations to finish so the picture is not mid-motion.
async function settle(page) {
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a.effect?.getTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => {}))));
}

runTest('broadcast_screenshots', async (t) => {
  const dir = screenshotDir();
  const server = await t.server({ args: ['--tls-self-signed'] });
  const browser = await launchBrowser(t, { args: ['--ignore-certificate-errors'] });
  const stream = await server.createStream({ title: '隰县玉露香梨 · 果园现场直播', farmer: '李大姐 · 山西隰县' });

  for (const size of SIZES) {
    for (const { name: lang, locale } of LOCALES) {
      const page = await newPage(t, browser, { width: size.width, height: size.height, mobile: size.mobile, locale, https: true });
      const shot = async (state) => {
        await settle(page);
        const file = path.join(dir, `broadcast-${size.name}-${lang}-${state}.png`);
        // "before" is the whole page: on a phone the encoder app's details are below the camera.
        await page.screenshot({ path: file, fullPage: state === 'before' });
        log(`screenshot ${file}`);
      };
      await page.goto(`${server.httpsBase}/broadcast/${stream.id}#token=${stream.host_token}`);
      await page.waitForSelector('body[data-camera="on"]', { timeout: 20_000 });
      await page.waitForSelector('#go-live:not([disabled])', { timeout: 20_000 });
      await page.waitForSelector('#details:not([hidden])', { timeout: 20_000 });
      await shot('before');

      await page.waitForSelector('body[data-uplink="hd"], body[data-uplink="sd"], body[data-uplink="weak"], body[data-uplink="failed"]',
        { timeout: 30_000 });
      await shot('uplink');

      await (size.mobile ? page.tap('#go-live') : page.click('#go-live'));
      await page.waitForSelector('body[data-publish="live"]', { timeout: 30_000 });
      await waitFor(() => page.evaluate(() => !document.querySelector('#live-stats').hidden),
        { timeout: 20_000, what: 'the live bitrate line' });
      await shot('live');

      await (size.mobile ? page.tap('#go-live') : page.click('#go-live'));
      await page.waitForSelector('body[data-publish="idle"]', { timeout: 15_000 });
      await page.context().close();
    }
  }
}, { timeout: 280_000 });
