// A stream that goes offline and comes back keeps playing: the publisher stops, the viewer
// page says the farmer is away, the publisher starts again and the same page plays again
// without a reload.
import { launchBrowser, log, newPage, requireHls, runTest, startPublisher, waitFor } from './harness.mjs';

async function waitPlaying(page, what) {
  const t0 = await waitFor(() => page.evaluate(() => {
    const v = document.querySelector('video');
    return document.body.dataset.player === 'playing' && v.currentTime > 0 ? v.currentTime : 0;
  }), { timeout: 60_000, what });
  await waitFor(() => page.evaluate((start) => document.querySelector('video').currentTime > start + 1, t0),
    { timeout: 30_000, what: `${what}: currentTime advancing` });
}

runTest('stream_comeback', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: 'Comeback test' });
  const first = startPublisher(t, server, stream);
  await requireHls(server, stream);

  const browser = await launchBrowser(t);
  const page = await newPage(t, browser);
  await page.goto(`${server.base}/watch/${stream.id}`);
  await waitPlaying(page, 'first playback');
  log('playing; stopping the publisher');

  first.proc.kill('SIGKILL');
  await first.exited;
  await page.waitForSelector('body[data-player="waiting"]', { timeout: 60_000 });
  log('page shows the stream as away; publishing again');

  startPublisher(t, server, stream);
  await waitPlaying(page, 'playback after the stream came back');
});
