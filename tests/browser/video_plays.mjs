// The viewer's video plays: ffmpeg publishes a test stream over RTMP, the viewer page loads
// the HLS playlist with hls.js, and the video element's currentTime advances.
import { assert, launchBrowser, log, newPage, requireHls, runTest, startPublisher, waitFor } from './harness.mjs';

runTest('video_plays', async (t) => {
  const server = await t.server();
  const stream = await server.createStream({ title: 'Video test' });
  startPublisher(t, server, stream);
  await requireHls(server, stream);

  const browser = await launchBrowser(t);
  const page = await newPage(t, browser);
  await page.goto(`${server.base}/watch/${stream.id}`);

  const first = await waitFor(() => page.evaluate(() => {
    const v = document.querySelector('video');
    return v.currentTime > 0 && !v.paused ? v.currentTime : 0;
  }), { timeout: 60_000, what: 'video currentTime > 0 while playing' });
  log(`playing at ${first.toFixed(2)} s`);
  const later = await waitFor(() => page.evaluate((t0) => {
    const v = document.querySelector('video');
    return v.currentTime > t0 + 1 ? v.currentTime : 0;
  }, first), { timeout: 30_000, what: 'currentTime to advance by one second' });
  log(`advanced to ${later.toFixed(2)} s`);

  const s = await page.evaluate(() => ({
    muted: document.querySelector('video').muted,
    badge: document.querySelector('#live-badge').className,
    unmuteVisible: !document.querySelector('#unmute').hidden,
    player: document.body.dataset.player,
  }));
  assert(s.player === 'playing', `player state is playing (got ${s.player})`);
  assert(s.muted, 'autoplay starts muted');
  assert(s.unmuteVisible, '"tap to unmute" is offered');
  assert(/badge-live/.test(s.badge), 'the LIVE badge shows');
  await page.click('#unmute');
  await waitFor(() => page.evaluate(() => !document.querySelector('video').muted), { what: 'unmuted after the tap' });
});
