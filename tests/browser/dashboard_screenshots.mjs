// The farmer's dashboard (/dashboard) in Chromium, on a phone (390×844) and a laptop
// (1366×800), in zh-CN and en, over real data: a farmer signs in, goes live over RTMP, a
// helper shows a product card, viewers open the room over websockets and buy. The overview
// must show the GMV made, the show's page a chart with bars, the per-product table and the
// card exposure that sold; signed out, the page links to /login. Screenshots go to
// $HARVEST_SCREENSHOT_DIR (dashboard-*) for people to look at.
import path from 'node:path';
import {
  assert, launchBrowser, newPage, requireHls, runTest, screenshotDir, settle, startPublisher, waitFor, WsClient,
} from './harness.mjs';
import { CATALOG } from './fixtures.mjs';

const SIZES = [
  { name: 'phone', width: 390, height: 844, mobile: true },
  { name: 'laptop', width: 1366, height: 800, mobile: false },
];
const LOCALES = [{ name: 'zh', locale: 'zh-CN' }, { name: 'en', locale: 'en-US' }];

runTest('dashboard_screenshots', async (t) => {
  const dir = screenshotDir();
  const server = await t.server();
  const made = await server.fetch('/api/farmers', { method: 'POST', token: server.adminToken,
    body: { username: 'wangdajie', password: 'pear orchard 7', name: '王大姐 · 山西隰县' } });
  assert(made.status === 201, `create the farmer: ${made.status} ${made.text}`);
  const signedIn = await server.fetch('/api/login', { method: 'POST', body: { username: 'wangdajie', password: 'pear orchard 7' } });
  const session = /hl_session=([^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '')?.[1];
  assert(session, 'a session cookie');
  const cookie = { headers: { cookie: `hl_session=${session}` } };
  const farmer = (method, p, body) => server.fetch(p, { method, body, ...cookie });

  const show = (await farmer('POST', '/api/streams', { title: '隰县玉露香梨 · 果园现场直播' })).json;
  await farmer('POST', '/api/streams', { title: '下周：阳澄湖大闸蟹开捕', scheduled_at: Date.now() + 3 * 86400_000 });
  const put = await farmer('PUT', `/api/streams/${show.id}/products`, { products: CATALOG });
  assert(put.status === 200, `products: ${put.text}`);
  const key = (await farmer('GET', '/api/me/streams')).json.streams.find((s) => s.id === show.id).stream_key;
  startPublisher(t, server, { ...show, stream_key: key });
  await requireHls(server, show, 60_000);

  const hostToken = (await farmer('POST', `/api/streams/${show.id}/host_token`)).json.host_token;
  const host = new WsClient(server, show.id, hostToken);
  t.defer(() => host.close());
  await host.open();
  host.send({ type: 'card.show', product_id: 'pear-yulu' });
  let exposure;
  await waitFor(async () => (exposure = (await farmer('GET', `/api/streams/${show.id}/report`)).json.by_exposure[0]),
    { timeout: 30_000, what: 'the card exposure' });
  await waitFor(() => Date.now() > exposure.shown_pdt_ms + 200, { timeout: 20_000, what: 'the exposure to begin' });

  // Six viewers; four buy.
  const viewers = [];
  for (let i = 0; i < 6; i++) {
    const v = new WsClient(server, show.id);
    t.defer(() => v.close());
    await v.open();
    viewers.push(v);
  }
  const buys = [['pear-yulu', 2], ['pear-yulu', 1], ['crab-suqian', 1], ['chili-cq', 3]];
  for (const [i, [product, qty]] of buys.entries()) {
    const ack = await viewers[i].request({ type: 'buy', product_id: product, qty, idempotency_key: `k${i}` });
    assert(ack.type === 'order.confirmed', `buy ${i}: ${JSON.stringify(ack)}`);
  }
  const gmv = 3 * 3990 + 16800 + 3 * 1590;
  const yuan = `¥${(gmv / 100).toFixed(2)}`;

  const browser = await launchBrowser(t);
  for (const size of SIZES) {
    for (const { name: langName, locale } of LOCALES) {
      const tag = `${size.name}-${langName}`;
      const page = await newPage(t, browser, { ...size, locale });
      const shot = async (what) => {
        await settle(page);
        await page.screenshot({ path: path.join(dir, `dashboard-${what}-${tag}.png`), fullPage: true });
      };
      if (size.name === 'phone') {  // signed out: a way to sign in
        await page.goto(`${server.base}/dashboard`);
        await page.waitForSelector('#dash-signin:not([hidden]) a[href="/login"]');
        await shot('signed-out');
      }
      await page.context().addCookies([{ name: 'hl_session', value: session, url: server.base }]);
      await page.goto(`${server.base}/dashboard`);
      await page.waitForSelector('[data-stat="gmv"]');
      const total = await page.textContent('[data-stat="gmv"]');
      assert(total === yuan, `the overview shows the GMV ${yuan} (got ${total})`);
      assert(await page.locator('.dash-show').count() === 2, 'both shows listed');
      await shot('overview');

      await page.click(`.dash-show[href="/dashboard?show=${show.id}"]`);
      await page.waitForSelector('svg.dash-chart rect.bar');
      assert(await page.textContent('[data-stat="gmv"]') === yuan, 'the show page shows its GMV');
      assert(await page.textContent('[data-stat="conversion"]') === '67%', 'conversion 4 of 6');
      assert(await page.locator('svg.dash-chart polyline.viewers-line, svg.dash-chart circle.viewers-dot').count() > 0,
        'the viewers line');
      const exposures = await page.locator('.dash-exposures tbody tr').count();
      assert(exposures === 1, `the card exposure that sold (${exposures} rows)`);
      const overflow = await page.evaluate((w) => document.documentElement.scrollWidth - w, size.width);
      assert(overflow <= 0, `nothing wider than the screen (${overflow} px over)`);
      await shot('show');
    }
  }
});
