// Unit tests of the web client's pure modules, run by node (no browser, no server): money,
// i18n tables, card timing decisions, backoff, clock offset, the uplink verdict and WHIP helpers, and the QR encoder (decoded back
// with jsQR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import jsQR from 'jsqr';
import { formatMoney, moneyInputValue, parseMoney } from '../../web-client/js/money.js';
import { detectLanguage, formatCountdown, keys } from '../../web-client/js/i18n.js';
import { CardScheduler, decide, markerFromMessage, parseProgramDateTime } from '../../web-client/js/cards.js';
import { ServerClock } from '../../web-client/js/clock.js';
import { encodeQr } from '../../web-client/js/qr.js';
import {
  awaitsCheckout, contactProblems, isOpen, loadContact, normalizePhone, payRemainingMs, saveContact, statusKey, upsertOrder,
} from '../../web-client/js/orders.js';
import {
  STEPS, UplinkCheck, formatBitrate, linkBetween, nextStep, reconnectDelay, sampleFromStats, stepForVerdict, uplinkVerdict,
} from '../../web-client/js/uplink.js';
import { iceServersFromLinks, orderCodecs, waitIceGathering } from '../../web-client/js/whip.js';
import { rtpToPts } from '../../web-client/js/whep.js';
import { bucketMinutes } from '../../web-client/js/dashboard_chart.js';
import { MAX_PHOTO_BYTES, photoProblem, refusalKey, uploadPhoto } from '../../web-client/js/image_upload.js';
import { harvestDateText, hasOrigin, originLine, placeText, traceUrl } from '../../web-client/js/origin_view.js';
import { splitCertificates } from '../../web-client/js/origin_form.js';

test('money is formatted from integer fen', () => {
  assert.equal(formatMoney(3990), '¥39.90');
  assert.equal(formatMoney(5), '¥0.05');
  assert.equal(formatMoney(129900), '¥1,299.00');
  assert.equal(formatMoney(-250), '-¥2.50');
  assert.equal(formatMoney(1000, 'JPY'), '¥1,000');
  assert.equal(formatMoney(39.9), '');
  assert.equal(parseMoney('39.9'), 3990);
  assert.equal(parseMoney('¥1,299'), 129900);
  assert.equal(parseMoney('0.05'), 5);
  assert.equal(parseMoney('1.234'), null);
  assert.equal(parseMoney('abc'), null);
  assert.equal(moneyInputValue(3990), '39.90');
  assert.equal(moneyInputValue(5), '0.05');
});

test('both languages have the same keys and zh is picked from the browser', () => {
  assert.deepEqual(keys('zh-CN').sort(), keys('en').sort());
  assert.equal(detectLanguage(null, ['zh-TW']), 'zh-CN');
  assert.equal(detectLanguage(null, ['fr-FR', 'en-GB']), 'en');
  assert.equal(detectLanguage('en', ['zh-CN']), 'en');
  assert.equal(formatCountdown(151_000), '02:31');
  assert.equal(formatCountdown(-5), '00:00');
  assert.equal(formatCountdown(3_723_000), '1:02:03');
});

test('a card waits for playback to reach its program date time', () => {
  const pdt = Date.parse('2026-11-22T10:00:05.000Z');
  const m = markerFromMessage({ product_id: 'p', program_date_time: '2026-11-22T10:00:05.000Z', card: { title: 'x' } }, 0, 'show');
  assert.equal(m.pdtMs, pdt);
  assert.equal(decide(m, { active: true, pdtMs: pdt - 4000, pts: null }).state, 'wait');
  assert.deepEqual(decide(m, { active: true, pdtMs: pdt, pts: null }), { state: 'due', basis: 'pdt' });
  // No video yet, or a stream without PDT: the arrival time.
  assert.deepEqual(decide(m, { active: false }), { state: 'due', basis: 'arrival' });
  assert.deepEqual(decide(m, { active: true, pdtMs: null, pts: null }), { state: 'due', basis: 'arrival' });
  // A marker far in the future is not trusted.
  assert.equal(decide(m, { active: true, pdtMs: pdt - 120_000, pts: null }).basis, 'arrival');
  // PTS when there is no PDT.
  const p = markerFromMessage({ product_id: 'p', pts: 95.5 }, 0, 'show');
  assert.equal(decide(p, { active: true, pdtMs: null, pts: 93 }).state, 'wait');
  assert.deepEqual(decide(p, { active: true, pdtMs: null, pts: 95.6 }), { state: 'due', basis: 'pts' });
  assert.equal(parseProgramDateTime(1_700_000_000), 1_700_000_000_000);
  assert.equal(parseProgramDateTime(1_700_000_000_123), 1_700_000_000_123);
  assert.equal(parseProgramDateTime('nonsense'), null);
});

test('the frame that carries a card shows it, the frame before does not', () => {
  // Frames at 30 fps; the marker is the frame at 10:00:05.000, whose date the player may compute
  // a ms short (rounding). The card is due on that frame, not one frame later, never a frame early.
  const pdt = Date.parse('2026-11-22T10:00:05.000Z');
  const m = markerFromMessage({ product_id: 'p', program_date_time: '2026-11-22T10:00:05.000Z' }, 0, 'show');
  assert.equal(decide(m, { active: true, pdtMs: pdt - 33.3, pts: null }).state, 'wait');
  assert.equal(decide(m, { active: true, pdtMs: pdt - 1, pts: null }).state, 'due');
  const p = markerFromMessage({ product_id: 'p', pts: 3700.5 }, 0, 'show');
  assert.equal(decide(p, { active: true, pdtMs: null, pts: 3700.5 - 1 / 30 }).state, 'wait');
  assert.equal(decide(p, { active: true, pdtMs: null, pts: 3700.4995 }).state, 'due');
});

test('the scheduler applies show and hide in order per product', () => {
  const s = new CardScheduler();
  const at = (ms) => new Date(ms).toISOString();
  s.push(markerFromMessage({ product_id: 'a', program_date_time: at(1000) }, 0, 'show'));
  s.push(markerFromMessage({ product_id: 'a', program_date_time: at(3000) }, 0, 'hide'));
  s.push(markerFromMessage({ product_id: 'b', slot: 'top', program_date_time: at(2000) }, 0, 'show'));
  assert.equal(s.tick({ active: true, pdtMs: 500, pts: null }), false);
  assert.equal(s.tick({ active: true, pdtMs: 1500, pts: null }), true);
  assert.deepEqual([...s.visible.keys()], ['a']);
  s.tick({ active: true, pdtMs: 2500, pts: null });
  assert.deepEqual([...s.visible.keys()].sort(), ['a', 'b']);
  s.tick({ active: true, pdtMs: 3500, pts: null });
  assert.deepEqual([...s.visible.keys()], ['b']);
  s.push(markerFromMessage({ program_date_time: at(4000) }, 0, 'hide'));  // no product: all
  s.tick({ active: true, pdtMs: 4000, pts: null });
  assert.equal(s.visible.size, 0);
  assert.equal(s.pendingCount(), 0);
});

test('an event without timing waits for its amendment while the video plays', () => {
  const s = new CardScheduler();
  const playing = (nowMs, pdtMs) => ({ active: true, pdtMs, pts: null, nowMs });
  s.push(markerFromMessage({ product_id: 'a', change_id: 7, slot: 'bottom', pts: null, program_date_time: null }, 1000, 'show'));
  assert.equal(s.tick(playing(1500, 10_000)), false);  // held: an amendment may come
  s.push(markerFromMessage({ product_id: 'a', change_id: 7, slot: 'bottom', amended: true, program_date_time: new Date(12_000).toISOString() }, 1600, 'show'));
  assert.equal(s.pendingCount(), 1);  // replaced, not added
  assert.equal(s.tick(playing(1700, 11_000)), false);  // playback not there yet
  assert.equal(s.tick(playing(1800, 12_000)), true);
  assert.equal(s.visible.get('a').basis, 'pdt');
  // A repeat of an applied change is ignored.
  s.push(markerFromMessage({ product_id: 'a', change_id: 7, slot: 'bottom' }, 1900, 'show'));
  assert.equal(s.pendingCount(), 0);
  // No amendment within the grace: shown anyway; not playing: shown at once.
  s.push(markerFromMessage({ product_id: 'b', change_id: 8, slot: 'top' }, 2000, 'show'));
  assert.equal(s.tick(playing(2500, 12_100)), false);
  assert.equal(s.tick(playing(4100, 12_200)), true);
  assert.equal(s.visible.get('b').basis, 'arrival');
  s.push(markerFromMessage({ product_id: 'c', change_id: 9, slot: 'top' }, 5000, 'show'));
  assert.equal(s.tick({ active: false }), true);
  // One card per slot: c replaced b in the top slot.
  assert.deepEqual([...s.visible.keys()].sort(), ['a', 'c']);
});

test('the server clock takes the tightest round trip', () => {
  let now = 10_000;
  const c = new ServerClock(() => now);
  c.sample(70_000, NaN, 10_000);  // welcome: no send time
  assert.equal(c.offsetMs, 60_000);
  c.sample(70_500, 10_100, 10_300);  // ping/pong, 200 ms round trip
  assert.equal(c.offsetMs, 60_300);
  c.sample(80_000, 10_400, 12_400);  // a slow round trip does not win
  assert.equal(c.offsetMs, 60_300);
  now = 20_000;
  assert.equal(c.now(), 80_300);
});

test('backoff grows with jitter and is capped', async () => {
  globalThis.window ??= { addEventListener() {} };
  const { backoffDelay } = await import('../../web-client/js/room.js');
  assert.equal(backoffDelay(0, () => 0), 250);
  assert.equal(backoffDelay(0, () => 1), 500);
  assert.equal(backoffDelay(3, () => 1), 4000);
  assert.equal(backoffDelay(20, () => 1), 10_000);
});

function decodeQr(qr, scale = 4, border = 4) {
  const n = (qr.size + 2 * border) * scale;
  const data = new Uint8ClampedArray(n * n * 4).fill(255);
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; x++) {
      if (!qr.modules[y][x]) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + border) * scale + dy) * n + (x + border) * scale + dx) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
      }
    }
  }
  return jsQR(data, n, n)?.data ?? null;
}

test('QR codes decode back to their text, at every version used', () => {
  const texts = [
    'http://192.168.1.20:8080/watch/demo',
    'rtmp://farm.example.cn:1935/live/sk_0123456789abcdef0123456789abcdef',
    'srt://127.0.0.1:9000?streamid=#!::r=live/0123456789abcdef,m=publish',
    '重庆 李** 隰县玉露香梨',
  ];
  for (let len = 1; len <= 380; len += 23) texts.push('x'.repeat(len));
  for (const text of texts) {
    const qr = encodeQr(text);
    assert.equal(decodeQr(qr), text, `version ${qr.version}${qr.ecl} mask ${qr.mask}`);
  }
  assert.throws(() => encodeQr('x'.repeat(2000)));
});

test('replay chapters: the card at a position, seek targets, media_time for buys', async () => {
  const { chapterAt, chaptersAt, formatPosition, replayMediaTime, replaySessionFromSearch } = await import('../../web-client/js/replay.js');
  const chapters = [
    { product_id: 'pear', start: 2, end: 5, pts: 3602 },
    { product_id: 'crab', start: 4, end: null, pts: 3604 },
  ];
  assert.equal(chapterAt(chapters, 1), null);
  assert.equal(chapterAt(chapters, 3).product_id, 'pear');
  assert.equal(chapterAt(chapters, 4.5).product_id, 'crab');  // the most recently started
  assert.deepEqual([...chaptersAt(chapters, 4.5).keys()], ['pear', 'crab']);
  assert.deepEqual([...chaptersAt(chapters, 5).keys()], ['crab']);
  assert.equal(replayMediaTime(chapters, 3.25, null), 3603.25);
  assert.equal(replayMediaTime(chapters, 1, 3601.0004), 3601);
  assert.equal(replayMediaTime(chapters, 1, null), 1);
  assert.equal(formatPosition(65.9), '1:05');
  assert.equal(formatPosition(3723), '1:02:03');
  assert.equal(replaySessionFromSearch('?replay=1763852400123'), '1763852400123');
  assert.equal(replaySessionFromSearch('?replay=../x'), '');
  assert.equal(replaySessionFromSearch(''), '');
});

test('orders: a mainland mobile number is 11 digits starting with 1, typed any usual way', () => {
  assert.equal(normalizePhone('13800138000'), '13800138000');
  assert.equal(normalizePhone('138 0013 8000'), '13800138000');
  assert.equal(normalizePhone('+86 138-0013-8000'), '13800138000');
  assert.equal(normalizePhone('8613800138000'), '13800138000');
  assert.equal(normalizePhone('0086 13800138000'), '13800138000');
  assert.equal(normalizePhone('12800138000'), null, 'no mobile number starts with 12');
  assert.equal(normalizePhone('23800138000'), null);
  assert.equal(normalizePhone('1380013800'), null);
  assert.equal(normalizePhone('138001380001'), null);
  assert.equal(normalizePhone(''), null);
  assert.deepEqual(contactProblems({ name: '李梅', phone: '13800138000', address: '上海市浦东新区世纪大道 100 号' }), {});
  assert.deepEqual(Object.keys(contactProblems({ name: ' ', phone: '123', address: '' })).sort(), ['address', 'name', 'phone']);
});

test('orders: states, deadlines and updates', () => {
  assert.equal(statusKey({ status: 'reserved', payment: null }), 'status.reserved');
  assert.equal(statusKey({ status: 'reserved', payment: 'offline' }), 'status.reserved.offline');
  assert.equal(statusKey({ status: 'shipped' }), 'status.shipped');
  assert.equal(statusKey({ status: 'teleported' }), 'status.unknown');
  assert.ok(awaitsCheckout({ status: 'reserved', payment: null }));
  assert.ok(!awaitsCheckout({ status: 'reserved', payment: 'offline' }));
  assert.ok(isOpen({ status: 'paid' }) && !isOpen({ status: 'expired' }));
  assert.equal(payRemainingMs({ status: 'reserved', pay_by: 10_000 }, 4_000), 6_000);
  assert.equal(payRemainingMs({ status: 'reserved', pay_by: 10_000 }, 12_000), 0);
  assert.equal(payRemainingMs({ status: 'reserved', pay_by: null }, 0), null);
  assert.equal(payRemainingMs({ status: 'paid', pay_by: 10_000 }, 0), null);
  let list = upsertOrder([], { order_id: 1, status: 'reserved', server_time: 100, total: 3990 });
  list = upsertOrder(list, { order_id: 2, status: 'reserved', server_time: 200 });
  list = upsertOrder(list, { order_id: 1, status: 'shipped', tracking: 'SF1' });
  assert.deepEqual(list.map((o) => o.order_id), [2, 1], 'newest first');
  assert.equal(list[1].status, 'shipped');
  assert.equal(list[1].total, 3990, 'an update keeps the fields it does not carry');
});

test('orders: the contact is remembered on this device', () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  assert.deepEqual(loadContact(storage), { name: '', phone: '', address: '' });
  saveContact({ name: '李梅', phone: '13800138000', address: '上海', extra: 'x' }, storage);
  assert.deepEqual(loadContact(storage), { name: '李梅', phone: '13800138000', address: '上海' });
  store.set('harvest.contact', '{not json');
  assert.deepEqual(loadContact(storage), { name: '', phone: '', address: '' });
});

test('the uplink verdict: good for 720p, use 480p, too weak', () => {
  assert.equal(uplinkVerdict({ bitrateBps: 1_500_000, rttMs: 300, loss: 0.02 }), 'hd');
  assert.equal(uplinkVerdict({ bitrateBps: 4_000_000, rttMs: 20, loss: 0 }), 'hd');
  assert.equal(uplinkVerdict({ bitrateBps: 4_000_000, rttMs: null }), 'hd');  // no RTCP answer yet
  assert.equal(uplinkVerdict({ bitrateBps: 1_499_999, rttMs: 20, loss: 0 }), 'sd');
  assert.equal(uplinkVerdict({ bitrateBps: 3_000_000, rttMs: 301, loss: 0 }), 'sd');  // slow round trip
  assert.equal(uplinkVerdict({ bitrateBps: 3_000_000, rttMs: 50, loss: 0.021 }), 'sd');  // lossy
  assert.equal(uplinkVerdict({ bitrateBps: 700_000, rttMs: 900, loss: 0.2 }), 'sd');
  assert.equal(uplinkVerdict({ bitrateBps: 699_999, rttMs: 10, loss: 0 }), 'weak');
  assert.equal(uplinkVerdict({ bitrateBps: NaN }), 'weak');
  assert.equal(stepForVerdict('hd'), 0);
  assert.equal(stepForVerdict('sd'), 1);
  assert.equal(stepForVerdict('weak'), 2);
  assert.equal(formatBitrate(1_840_000), '1.8 Mbps');
  assert.equal(formatBitrate(650_400), '650 kbps');
});

test('getStats entries become a link sample: rate, loss, round trip, estimate', () => {
  const report = (ms, bytes, packets, lost) => [
    { id: 'OV', type: 'outbound-rtp', kind: 'video', timestamp: ms, bytesSent: bytes, packetsSent: packets,
      frameWidth: 720, frameHeight: 1280, codecId: 'C1', qualityLimitationReason: 'bandwidth' },
    { id: 'OA', type: 'outbound-rtp', kind: 'audio', timestamp: ms, bytesSent: 1000, packetsSent: 50 },
    { id: 'RV', type: 'remote-inbound-rtp', kind: 'video', packetsLost: lost, roundTripTime: 0.04 },
    { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
    { id: 'P', type: 'candidate-pair', availableOutgoingBitrate: 2_500_000, currentRoundTripTime: 0.05 },
    { id: 'C1', type: 'codec', mimeType: 'video/H264' },
  ];
  const a = sampleFromStats(report(10_000, 100_000, 1000, 0));
  const b = sampleFromStats(report(12_000, 600_000, 1490, 10));
  const link = linkBetween(a, b);
  assert.equal(link.sentBps, 2_000_000);  // 500 kB in 2 s
  assert.equal(link.loss, 10 / 500);
  assert.equal(link.rttMs, 40);  // the receiver's report before the candidate pair's
  assert.equal(link.estimateBps, 2_500_000);
  assert.equal(link.codec, 'H264');
  assert.equal(link.limitedBy, 'bandwidth');
  assert.deepEqual([link.width, link.height], [720, 1280]);
  assert.equal(linkBetween(null, a).sentBps, null);
});

test('the uplink check ends early on a good link and judges the best recent sample otherwise', () => {
  const good = { sentBps: 900_000, estimateBps: 2_000_000, rttMs: 30, loss: 0 };
  const check = new UplinkCheck({ minMs: 2000, maxMs: 8000 });
  assert.equal(check.add(good, 1000), null);
  const early = check.add(good, 2000);
  assert.equal(early.verdict, 'hd');
  assert.equal(early.bitrateBps, 2_000_000);

  const slow = new UplinkCheck({ minMs: 2000, maxMs: 8000 });
  for (let ms = 1000; ms < 8000; ms += 1000) assert.equal(slow.add({ sentBps: 300_000, estimateBps: 300_000 + ms * 100, rttMs: 80, loss: 0 }, ms), null);
  const verdict = slow.add({ sentBps: 300_000, estimateBps: 500_000, rttMs: 80, loss: 0 }, 8000);
  assert.equal(verdict.verdict, 'sd');  // 1 Mbps at 7 s was the best of the last three
  assert.equal(verdict.bitrateBps, 1_000_000);
});

test('the resolution steps down on a lasting weak uplink and back up on a lasting good one', () => {
  let s = { step: 0, weak: 0, good: 0 };
  const weak = { estimateBps: 600_000, loss: 0, limitedBy: 'bandwidth' };
  const quiet = { estimateBps: 600_000, loss: 0, limitedBy: 'none' };  // a still scene
  const lossy = { estimateBps: 5_000_000, loss: 0.1 };
  const roomy = { estimateBps: 3_000_000, loss: 0 };
  for (let i = 0; i < 5; i++) s = nextStep(s, quiet);
  assert.equal(s.step, 0, 'a low estimate the encoder is not held back by is no weak uplink');
  s = nextStep(s, weak);
  s = nextStep(s, weak);
  assert.equal(s.step, 0, 'one dip is not enough');
  s = nextStep(s, roomy);
  assert.equal(s.weak, 0, 'a good sample resets the count');
  for (let i = 0; i < 3; i++) s = nextStep(s, weak);
  assert.equal(s.step, 1);
  for (let i = 0; i < 3; i++) s = nextStep(s, lossy);
  assert.equal(s.step, 2);
  for (let i = 0; i < 3; i++) s = nextStep(s, lossy);
  assert.equal(s.step, STEPS.length - 1, 'never below the last step');
  for (let i = 0; i < 4; i++) s = nextStep(s, roomy);
  assert.equal(s.step, 2);
  s = nextStep(s, roomy);
  assert.equal(s.step, 1);
  for (let i = 0; i < 5; i++) s = nextStep(s, roomy);
  assert.equal(s.step, 0);
  assert.equal(nextStep(s, roomy).step, 0);
  // While congestion control ramps up after connecting, a low estimate is not a weak uplink.
  let fresh = { step: 0, weak: 0, good: 0 };
  for (let i = 0; i < 5; i++) fresh = nextStep(fresh, weak, { liveMs: 2000 * i });
  assert.equal(fresh.step, 0);
  for (let i = 0; i < 3; i++) fresh = nextStep(fresh, lossy, { liveMs: 1000 });
  assert.equal(fresh.step, 1, 'heavy loss counts at once');
});

test('reconnecting waits 1 to 15 s, doubling', () => {
  assert.equal(reconnectDelay(0, () => 0), 1000);
  assert.equal(reconnectDelay(0, () => 1), 1000);
  assert.equal(reconnectDelay(2, () => 1), 4000);
  assert.equal(reconnectDelay(2, () => 0), 2000);
  for (let a = 0; a < 30; a++) {
    const d = reconnectDelay(a);
    assert.ok(d >= 1000 && d <= 15_000, `attempt ${a}: ${d}`);
  }
  assert.equal(reconnectDelay(10, () => 1), 15_000);
});

test('WHIP offers H.264 first (VP8 alone with ?codec=vp8) and reads ICE servers from Link', () => {
  const caps = [
    { mimeType: 'video/VP8' },
    { mimeType: 'video/rtx', sdpFmtpLine: 'apt=96' },
    { mimeType: 'video/VP9', sdpFmtpLine: 'profile-id=0' },
    { mimeType: 'video/H264', sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f' },
    { mimeType: 'video/H264', sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f' },
    { mimeType: 'video/H264', sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' },
    { mimeType: 'video/red' },
  ];
  const names = (list) => list.map((c) => `${c.mimeType}${/profile-level-id=(\w+)/.exec(c.sdpFmtpLine || '')?.[1] ?? ''}`);
  assert.deepEqual(names(orderCodecs(caps)), ['video/H26442e01f', 'video/H264640c1f', 'video/VP8', 'video/rtx', 'video/red']);
  assert.deepEqual(names(orderCodecs(caps, 'vp8')), ['video/VP8', 'video/rtx', 'video/red']);
  assert.deepEqual(iceServersFromLinks(
    '<stun:stun.example.net:3478>; rel="ice-server", <turn:turn.example.net:3478>; rel="ice-server"; ' +
    'username="farmer"; credential="p\\"w"; credential-type="password"'), [
    { urls: 'stun:stun.example.net:3478' },
    { urls: 'turn:turn.example.net:3478', username: 'farmer', credential: 'p"w' },
  ]);
  assert.deepEqual(iceServersFromLinks(null), []);
});

test('waitIceGathering: resolves when gathering completes, and after the timeout when it never does', async () => {
  const fakePc = (state) => Object.assign(new EventTarget(), { iceGatheringState: state });
  const completing = fakePc('gathering');
  let done = false;
  const waiting = waitIceGathering(completing, 60_000).then(() => { done = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'still gathering');
  completing.iceGatheringState = 'complete';
  completing.dispatchEvent(new Event('icegatheringstatechange'));
  await waiting;
  const stuck = fakePc('gathering');
  const outcome = await Promise.race([
    waitIceGathering(stuck, 20).then(() => 'resolved'),
    new Promise((r) => setTimeout(() => r('still waiting after 2 s'), 2000)),
  ]);
  assert.equal(outcome, 'resolved');
});

test('dashboard chart: the report\'s sparse minutes fill out evenly, long shows in wider buckets', () => {
  const M = 60_000;
  const t0 = 1_700_000_040_000 - (1_700_000_040_000 % M);
  const filled = bucketMinutes([
    { minute: t0, gmv: 100, orders: 1, peak_viewers: 3 },
    { minute: t0 + 3 * M, gmv: 250, orders: 2, peak_viewers: null },
  ]);
  assert.deepEqual(filled.map((b) => b.gmv), [100, 0, 0, 250]);
  assert.deepEqual(filled.map((b) => b.viewers), [3, null, null, null]);
  assert.equal(filled[3].start, t0 + 3 * M);
  assert.deepEqual(bucketMinutes([]), []);
  // Five hours: at most 120 bars, every fen kept, the peak is the bucket's highest.
  const long = [];
  for (let i = 0; i < 300; i++) long.push({ minute: t0 + i * M, gmv: 10, orders: 1, peak_viewers: i });
  const b = bucketMinutes(long);
  assert.ok(b.length <= 120, `${b.length} bars`);
  assert.equal(b.reduce((s, x) => s + x.gmv, 0), 3000);
  assert.equal(b[0].minutes, 3);
  assert.equal(b[0].viewers, 2);
});

test('photos: checked before sending, refusals named, the file sent as the body with its own type', async () => {
  assert.equal(photoProblem(null), 'photo.error.none');
  assert.equal(photoProblem({ type: 'image/heic', size: 1000 }), 'photo.error.type');
  assert.equal(photoProblem({ type: 'image/jpeg', size: MAX_PHOTO_BYTES + 1 }), 'photo.error.too_big');
  assert.equal(photoProblem({ type: 'image/jpeg', size: 0 }), 'photo.error.not_image');
  assert.equal(photoProblem({ type: 'image/webp', size: 1000 }), null);
  assert.equal(refusalKey(400, { error: 'not_an_image' }), 'photo.error.not_image');
  assert.equal(refusalKey(413, { error: 'image_too_large' }), 'photo.error.too_many_pixels');
  assert.equal(refusalKey(413, { error: 'too_large' }), 'photo.error.too_big');
  assert.equal(refusalKey(401, null), 'photo.error.signin');
  assert.equal(refusalKey(503, null), 'photo.error.busy');
  assert.equal(refusalKey(500, null), 'photo.error.failed');

  const file = { type: 'image/png', size: 10 };
  let sent = null;
  const ok = async (url, init) => {
    sent = { url, init };
    return { status: 201, json: async () => ({ url: '/images/a.jpg', width: 4, height: 3 }) };
  };
  assert.deepEqual(await uploadPhoto(file, 'tok', ok), { url: '/images/a.jpg', width: 4, height: 3 });
  assert.equal(sent.url, '/api/images');
  assert.equal(sent.init.method, 'POST');
  assert.equal(sent.init.body, file);
  assert.equal(sent.init.headers['content-type'], 'image/png');
  assert.equal(sent.init.headers.authorization, 'Bearer tok');
  const refused = async () => ({ status: 400, json: async () => ({ error: 'not_an_image' }) });
  await assert.rejects(uploadPhoto(file, 'tok', refused), (err) => err.message.length > 0 && !err.message.startsWith('photo.'));
  const offline = async () => { throw new TypeError('Failed to fetch'); };
  await assert.rejects(uploadPhoto(file, 'tok', offline), /network|网络/);
  let called = false;
  await assert.rejects(uploadPhoto({ type: 'image/gif', size: 5 }, 'tok', async () => { called = true; }));
  assert.equal(called, false);
});

test('origin: the card line, dates in both languages, certificates typed in one field', () => {
  const now = new Date(2026, 11, 5);
  const origin = { farm: '合作社', place: { county: '隰县', township: '黄土镇' }, harvest_date: '2026-09-12', trace_code: 'SX-1' };
  assert.equal(originLine(origin, { now }), '隰县 · picked 12 Sep');
  assert.equal(harvestDateText('2026-09-12', { language: 'zh-CN', now }), '9月12日');
  assert.equal(harvestDateText('2025-09-12', { language: 'zh-CN', now }), '2025年9月12日');
  assert.equal(harvestDateText('2025-09-12', { language: 'en', now }), '12 Sep 2025');
  assert.equal(harvestDateText('2026-9-12', { now }), '');
  assert.equal(originLine({ place: { township: '黄土镇' } }, { now }), '黄土镇');
  assert.equal(originLine({ farm: '合作社', method: '有机' }, { now }), '合作社');
  assert.equal(originLine(null), '');
  assert.equal(hasOrigin({ place: {}, certificates: [] }), false);
  assert.equal(placeText(origin.place), '隰县 黄土镇');
  assert.equal(traceUrl('a/b c'), '/trace/a%2Fb%20c');
  assert.deepEqual(splitCertificates('绿色食品，地理标志、有机 ; GAP,'), ['绿色食品', '地理标志', '有机', 'GAP']);
});

test('WHEP: the RTP timestamp of a frame is its stream PTS (90 kHz, mod 2^32), across the wrap', () => {
  // The server's payloader: RTP = (running time + 3600 s) × 90000 mod 2^32 (docs/protocol.md "WHEP").
  const rtpOf = (pts) => Math.round(pts * 90000) % 2 ** 32;
  assert.equal(rtpToPts(rtpOf(3600)), 3600);
  assert.equal(rtpToPts(rtpOf(3612.5)), 3612.5);
  const wrapS = 2 ** 32 / 90000;  // 47721.86 s
  const before = wrapS - 0.5;       // just before the wrap
  const after = wrapS + 0.5;        // rtp is small again
  assert.ok(Math.abs(rtpToPts(rtpOf(after), before) - after) < 1e-6);
  assert.ok(Math.abs(rtpToPts(rtpOf(before), null) - before) < 1e-6);
  // Near a previous value, the same wrap is kept.
  assert.ok(Math.abs(rtpToPts(rtpOf(after + 10), after) - (after + 10)) < 1e-6);
});
