// Viewer page: live video, product cards in step with playback, one-tap buy, checkout and
// my orders, chat. About 700 lines: the page's wiring (room events → DOM) in one place; the
// parts it uses are modules of their own (cards.js, player.js, replay.js, money.js, i18n.js,
// sheet.js, checkout.js, my_orders.js, orders.js).
import { $, $$, el, randomId, setChildren, setText, streamIdFromPath } from './dom.js';
import { formatCountdown, formatNumber, initLanguageSwitch, lang, onLanguageChange, t } from './i18n.js';
import { formatMoney } from './money.js';
import { Room } from './room.js';
import { Player } from './player.js';
import { CardScheduler, markerFromMessage } from './cards.js';
import { chapterAt, chaptersAt, formatPosition, replayMediaTime, replaySessionFromSearch } from './replay.js';
import { productImage } from './product_view.js';
import { hasOrigin, originLine, originRecord } from './origin_view.js';
import { fillIcons, icon } from './icons.js';
import { initSheets, onSheetClose, openSheet, openSheetName } from './sheet.js';
import { CheckoutSheet } from './checkout.js';
import { MyOrders } from './my_orders.js';
import { statusKey } from './orders.js';

const streamId = streamIdFromPath();
const MAX_CHAT = 60;
const MAX_QTY = 99;
// After a flash sale ends the card says so, with Buy disabled, for a moment before it goes back
// to the list price: a tap meant for ¥99 must not become a ¥168 order.
const SALE_END_HOLD_MS = 5000;

const state = {
  products: new Map(),  // id -> {id, title, price, currency, stock, image, sold}
  sales: new Map(),     // product_id -> {sale_id, price, quantity, ends_at}
  qty: new Map(),       // product_id -> chosen quantity
  buying: new Set(),    // product ids with a purchase in flight
  viewers: null,
  streamInfo: null,
  chapters: [],         // replay only: the session's card timeline (chapters.json)
  replayLive: false,    // replay only: the session is still being recorded
  replayMissing: false,
  recentReplays: [],    // live page, farmer away: the latest finished replays
};

// `/watch/{id}?replay=SESSION`: a past live session as HLS VOD. Cards follow its chapters
// instead of the room's live card events, and the websocket joins as a replay viewer so buys
// are attributed to the replay.
const replay = replaySessionFromSearch(location.search);
const replayBase = `/hls/${encodeURIComponent(streamId)}/replay/${replay}/`;

// What the viewer's phone plays: WHEP, then LL-HLS, then HLS, as the server offers them.
// `?player=hls` skips WebRTC (a network that blocks UDP, or comparing the paths); `?ll=0` skips
// LL-HLS (the MPEG-TS playlist only).
const search = new URLSearchParams(location.search);
const webrtcWanted = search.get('player') !== 'hls';
const llWanted = search.get('ll') !== '0';
const video = $('#video');
// whep_url and ll_hls_url from GET /api/streams/{id}: present only while the server serves them.
async function offersOfStream() {
  const res = await fetch(`/api/streams/${encodeURIComponent(streamId)}`, { cache: 'no-store' });
  if (!res.ok) return {};
  const info = await res.json();
  const path = (url) => (typeof url === 'string' ? new URL(url, location.href).pathname : null);
  return { whepUrl: webrtcWanted ? path(info.whep_url) : null, llHlsUrl: llWanted ? path(info.ll_hls_url) : null };
}
const player = replay ? new Player(video, `${replayBase}index.m3u8`, { vod: true })
  : new Player(video, `/hls/${encodeURIComponent(streamId)}/index.m3u8`, { offers: offersOfStream });
const room = new Room({ streamId, replay });
const scheduler = new CardScheduler();
const cardNodes = new Map();  // product_id -> card element
const productOf = (id) => state.products.get(id);
const checkout = new CheckoutSheet({
  body: $('#checkout-body'), room, product: productOf,
  onPlaced: (order) => myOrders.upsert(order),
  onShowOrders: () => showMyOrders(),
});
const myOrders = new MyOrders({
  list: $('#my-orders'), room, product: productOf,
  onCheckout: (order) => checkout.start(order),
});

// A read-only hook for the browser tests and for debugging in the console.
window.harvestWatch = { room, player, scheduler, state, shown: [], replay, checkout, myOrders };

// ---------- products and cards ----------

function upsertProduct(p) {
  if (!p) return null;
  const id = p.id ?? p.product_id;
  if (id === undefined || id === null) return null;
  const prev = state.products.get(id) || { id };
  const next = { ...prev };
  for (const key of ['title', 'price', 'currency', 'stock', 'image', 'sold']) {
    if (p[key] !== undefined && p[key] !== null) next[key] = p[key];
  }
  if (p.left !== undefined) next.stock = p.left;
  // A whole product (catalog, product.updated) says whether it has an origin; `stock` does not.
  if (p.title !== undefined) next.origin = p.origin ?? null;
  state.products.set(id, next);
  return next;
}

function saleFor(productId) {
  const sale = state.sales.get(productId);
  if (!sale) return null;
  if (!sale.ended && Number.isFinite(sale.ends_at) && room.clock.now() >= sale.ends_at) return { ...sale, ended: true };
  return sale;
}

function buildCard(productId, { detail = false } = {}) {
  const qtyValue = el('output', { class: 'qty-value num', 'aria-live': 'polite' }, '1');
  // `detail`: the larger copy in the product sheet, not a card on the video.
  const openDetail = detail ? null : { click: () => showProduct(productId) };
  const node = el('article', { class: detail ? 'product-detail' : 'product-card', dataset: { productId } },
    el(detail ? 'div' : 'button', { class: 'card-media', ...(detail ? {} : { type: 'button', on: openDetail }) }),
    el('div', { class: 'card-body' },
      el('div', { class: 'card-flash', hidden: true },
        el('span', { class: 'flash-label' }), el('span', { class: 'flash-countdown num' })),
      el('h3', { class: 'card-title', on: openDetail }),
      el('p', { class: 'card-origin', hidden: true }),
      el('div', { class: 'card-price-row' },
        el('span', { class: 'price card-price' }), el('span', { class: 'price-was card-was' })),
      el('div', { class: 'card-meta' },
        el('span', { class: 'card-stock num' }), el('span', { class: 'card-sold num' }))),
    el('div', { class: 'card-actions' },
      el('div', { class: 'qty', role: 'group' },
        el('button', { class: 'qty-btn qty-dec', type: 'button', on: { click: () => changeQty(productId, -1) } }, '−'),
        qtyValue,
        el('button', { class: 'qty-btn qty-inc', type: 'button', on: { click: () => changeQty(productId, 1) } }, '+')),
      el('button', { class: 'btn btn-buy buy-button', type: 'button', on: { click: () => buy(productId) } })),
    detail ? el('div', { class: 'detail-origin' }) : null);
  return node;
}

function cardView(productId, card) {
  const p = state.products.get(productId) || {};
  const c = card || {};
  const sale = saleFor(productId);
  const stock = p.stock ?? c.stock;
  const saleLeft = sale && !sale.ended && Number.isInteger(sale.left) ? sale.left : null;
  const view = {
    title: p.title ?? c.title ?? String(productId),
    image: p.image ?? c.image ?? c.image_url ?? '',
    price: p.price ?? c.price,
    currency: p.currency ?? c.currency ?? 'CNY',
    // During a flash sale "N left" is the sale's units left (never more than the stock).
    stock: saleLeft !== null && Number.isInteger(stock) ? Math.min(saleLeft, stock) : saleLeft ?? stock,
    sold: p.sold ?? c.sold,
    sale,
  };
  return view;
}

function fillCard(node, productId, card) {
  const v = cardView(productId, card);
  const media = $('.card-media', node);
  if (media.dataset.src !== v.image || !media.firstChild) {
    media.dataset.src = v.image;
    setChildren(media, productImage(v.image, v.title, 'card-image'));
  }
  if (media.tagName === 'BUTTON') media.setAttribute('aria-label', t('product.open', { title: v.title }));
  setText($('.card-title', node), v.title);
  fillOrigin(node, state.products.get(productId)?.origin);
  const saleLive = v.sale && !v.sale.ended;
  const shownPrice = saleLive && Number.isInteger(v.sale.price) ? v.sale.price : v.price;
  setText($('.card-price', node), formatMoney(shownPrice, v.currency));
  const was = $('.card-was', node);
  was.hidden = !(saleLive && Number.isInteger(v.price) && v.price !== shownPrice);
  setText(was, was.hidden ? '' : formatMoney(v.price, v.currency));

  const flash = $('.card-flash', node);
  flash.hidden = !v.sale;
  if (v.sale) {
    setText($('.flash-label', node), t('card.flash'));
    setText($('.flash-countdown', node), v.sale.ended ? (v.sale.endReason === 'sold_out' ? t('card.sold_out') : t('card.ended'))
      : t('card.ends_in', { t: formatCountdown(v.sale.ends_at - room.clock.now()) }));
    flash.classList.toggle('ended', Boolean(v.sale.ended));
  }

  const stockNode = $('.card-stock', node);
  const soldOut = Number.isInteger(v.stock) && v.stock <= 0;
  stockNode.dataset.left = Number.isInteger(v.stock) ? String(v.stock) : '';
  setText(stockNode, Number.isInteger(v.stock) ? (soldOut ? t('card.sold_out') : t('card.stock', { n: formatNumber(v.stock) })) : '');
  stockNode.classList.toggle('low', Number.isInteger(v.stock) && v.stock > 0 && v.stock <= 10);
  const soldNode = $('.card-sold', node);
  soldNode.dataset.sold = Number.isInteger(v.sold) ? String(v.sold) : '';
  setText(soldNode, Number.isInteger(v.sold) && v.sold > 0 ? t('card.bought', { n: formatNumber(v.sold) }) : '');

  const limit = buyLimit(productId, v.stock);
  const qty = clampQty(productId, v.stock);
  setText($('.qty-value', node), qty);
  $('.qty-dec', node).disabled = qty <= 1;
  $('.qty-dec', node).setAttribute('aria-label', t('card.qty.dec'));
  $('.qty-inc', node).disabled = qty >= limit;
  $('.qty-inc', node).setAttribute('aria-label', t('card.qty.inc'));
  $('.qty', node).setAttribute('aria-label', t('card.qty'));
  const busy = state.buying.has(productId);
  const saleOver = Boolean(v.sale?.ended);
  const buyButton = $('.buy-button', node);
  buyButton.disabled = busy || soldOut || saleOver;
  setText(buyButton, busy ? t('card.buying')
    : soldOut || (saleOver && v.sale.endReason === 'sold_out') ? t('card.sold_out')
      : saleOver ? t('card.ended')
        : `${t('card.buy')} · ${formatMoney(shownPrice * qty, v.currency)}`);
  node.classList.toggle('sold-out', soldOut);
  node.classList.toggle('on-sale', Boolean(saleLive));
}

// The card's short origin line; on the product sheet, the whole record (rebuilt only when it
// or the language changed, so a countdown tick does not redraw it).
function fillOrigin(node, origin) {
  const line = $('.card-origin', node);
  const text = originLine(origin);
  line.hidden = !text;
  setText(line, text);
  const record = $('.detail-origin', node);
  if (!record) return;
  const signature = JSON.stringify([origin ?? null, document.documentElement.lang]);
  if (record.dataset.signature === signature) return;
  record.dataset.signature = signature;
  if (hasOrigin(origin)) setChildren(record, originRecord(origin));
  else record.replaceChildren();
}

// The most this buyer may take now: units left, the sale's per-buyer limit minus what they
// already bought in it, and the protocol's 99.
function buyLimit(productId, stock) {
  let max = Number.isInteger(stock) && stock > 0 ? Math.min(stock, MAX_QTY) : MAX_QTY;
  const sale = saleFor(productId);
  if (sale && !sale.ended && Number.isInteger(sale.per_buyer_limit))
    max = Math.min(max, Math.max(1, sale.per_buyer_limit - (sale.bought ?? 0)));
  return max;
}

function clampQty(productId, stock) {
  const q = Math.max(1, Math.min(state.qty.get(productId) ?? 1, buyLimit(productId, stock)));
  state.qty.set(productId, q);
  return q;
}

function changeQty(productId, delta) {
  state.qty.set(productId, (state.qty.get(productId) ?? 1) + delta);
  renderCards();
}

// Replay: the cards of the chapters at the playback position, in the shape scheduler.visible has.
let replayVisible = new Map();
function replayCards() {
  const next = new Map();
  for (const [productId] of chaptersAt(state.chapters, video.currentTime))
    next.set(productId, { card: null, slot: 'bottom', basis: 'chapter' });
  const changed = next.size !== replayVisible.size || [...next.keys()].some((id) => !replayVisible.has(id));
  replayVisible = next;
  return changed;
}

function renderCards() {
  const visible = replay ? replayVisible : scheduler.visible;
  for (const [productId, node] of cardNodes) {
    if (!visible.has(productId)) {
      node.remove();
      cardNodes.delete(productId);
    }
  }
  for (const [productId, entry] of visible) {
    let node = cardNodes.get(productId);
    const slot = ['top', 'left', 'right', 'bottom'].includes(entry.slot) ? entry.slot : 'bottom';
    if (!node) {
      node = buildCard(productId);
      cardNodes.set(productId, node);
      node.dataset.shownBasis = entry.basis;
      window.harvestWatch.shown.push({
        productId, basis: entry.basis, at: Date.now(), playingDateMs: player.playingDateMs(),
        markerPdtMs: entry.marker?.pdtMs ?? null, pts: player.playback().pts, markerPts: entry.marker?.pts ?? null,
      });
    }
    const slotNode = $(`.card-slot[data-slot="${slot}"]`);
    if (node.parentNode !== slotNode) slotNode.append(node);
    fillCard(node, productId, entry.card);
  }
  if (detailNode) fillCard(detailNode, detailNode.dataset.productId, scheduler.visible.get(detailNode.dataset.productId)?.card);
  renderSideProducts();
}

// The stream's products: beside the video on a wide screen (#side-products), in the products
// sheet on a phone (#sheet-products, drawn only while it is open). A row opens the product
// sheet; Buy buys at once.
let sideSignature = '';
function renderSideProducts(force = false) {
  const items = [...state.products.values()];
  const count = $('#products-count');
  count.hidden = items.length === 0;
  setText(count, items.length);
  // Rebuilt only when something it shows changed (countdown ticks do not touch it).
  const signature = JSON.stringify([items, [...state.sales.entries()].map(([id, s]) => [id, s.price, s.left, Boolean(saleFor(id)?.ended)]),
    [...state.buying], [...(replay ? replayVisible : scheduler.visible).keys()], document.documentElement.lang]);
  if (signature === sideSignature && !force) return;
  sideSignature = signature;
  const lists = openSheetName() === 'products' ? [$('#side-products'), $('#sheet-products')] : [$('#side-products')];
  for (const list of lists) {
    if (!items.length) setChildren(list, el('li', { class: 'empty' }, t('products.empty')));
    else setChildren(list, items.map(productRow));
  }
}

function productRow(p) {
  const sale = saleFor(p.id);
  const price = sale && !sale.ended && Number.isInteger(sale.price) ? sale.price : p.price;
  const left = cardView(p.id).stock;  // the sale's units during a flash sale
  const soldOut = Number.isInteger(left) && left <= 0;
  return el('li', { class: 'side-product', dataset: { productId: p.id } },
    el('button', { class: 'side-product-open', type: 'button', on: { click: () => showProduct(p.id) } },
      productImage(p.image, p.title, 'thumb'),
      el('span', { class: 'side-product-body' },
        // The one the farmer is holding up right now.
        (replay ? replayVisible : scheduler.visible).has(p.id) ? el('span', { class: 'on-screen-badge' }, t('products.on_screen')) : null,
        el('span', { class: 'side-product-title' }, p.title ?? p.id),
        p.origin && originLine(p.origin) ? el('span', { class: 'side-product-origin' }, originLine(p.origin)) : null,
        el('span', { class: 'side-product-meta' },
          el('span', { class: 'price' }, formatMoney(price, p.currency || 'CNY')),
          el('span', { class: 'muted num' }, Number.isInteger(left)
            ? (soldOut ? t('card.sold_out') : t('card.stock', { n: formatNumber(left) })) : '')))),
    el('button', {
      class: 'btn btn-sm btn-buy', type: 'button', disabled: soldOut || state.buying.has(p.id),
      on: { click: () => buy(p.id) },
    }, t('card.buy')));
}

// ---------- sheets: product, checkout, my orders ----------

let detailNode = null;  // the product sheet's copy of the card, while it is open

function showProduct(productId) {
  detailNode = buildCard(productId, { detail: true });
  setChildren($('#product-detail'), detailNode);
  fillCard(detailNode, productId, scheduler.visible.get(productId)?.card);
  openSheet('product');
}
onSheetClose('product', () => { detailNode = null; });

function showMyOrders() {
  $('#orders-dot').hidden = true;
  myOrders.render();
  openSheet('orders');
  myOrders.load();
}

// A change to one of this buyer's orders while its list is not in view: a line at the top of
// the stage that opens My orders ("Order 12: Shipped").
let noticeTimer = null;
function noticeOrder(order) {
  const box = $('#order-notice');
  box.dataset.orderId = String(order.order_id);
  box.dataset.status = order.status ?? '';
  setText(box, t('orders.updated', { id: order.order_id, status: t(statusKey(order)) }));
  box.hidden = false;
  $('#orders-dot').hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

// ---------- buying ----------

async function buy(productId) {
  if (state.buying.has(productId)) return;
  const p = state.products.get(productId) || {};
  const qty = clampQty(productId, cardView(productId).stock);
  const key = randomId();  // one per attempt; re-sent unchanged after a reconnect
  state.buying.add(productId);
  renderCards();
  const message = { type: 'buy', product_id: productId, qty, idempotency_key: key };
  // The sale the buyer is looking at: if it ended meanwhile, "sale ended" beats a list-price order.
  const sale = saleFor(productId);
  if (sale && !sale.ended && sale.sale_id !== undefined) message.sale_id = sale.sale_id;
  const pb = player.playback();
  if (replay) {
    if (video.readyState >= 1) message.media_time = replayMediaTime(state.chapters, video.currentTime, pb.pts);
  } else if (pb.active) {
    message.media_time = Math.round((pb.pts ?? video.currentTime) * 1000) / 1000;
  }
  const slow = setTimeout(() => showResult('pending', t('order.pending'), t('order.timeout')), 8000);
  const reply = await room.request(message, { id: key, resend: true });
  clearTimeout(slow);
  state.buying.delete(productId);
  const title = cardView(productId).title;
  if (reply.type === 'order.confirmed') {
    const currency = reply.currency || p.currency || 'CNY';
    const s = state.sales.get(productId);
    if (s && reply.sale_id !== null && reply.sale_id !== undefined && reply.sale_id === s.sale_id && !reply.duplicate)
      s.bought = (s.bought ?? 0) + (reply.qty ?? qty);
    // A reserved order (the server holds the units until pay_by) goes on to checkout; the
    // checkout sheet says "reserved" itself, so the result box only keeps the record.
    // A repeated answer (a resend after a drop) for an order already checked out stays quiet.
    const reserved = reply.status === 'reserved' && !myOrders.find(reply.order_id)?.payment;
    showResult('confirmed', t('order.confirmed'), t('order.confirmed.detail', {
      id: reply.order_id, qty: reply.qty ?? qty, title, total: formatMoney(reply.total, currency),
    }), { orderId: reply.order_id, total: reply.total, quiet: reserved });
    if (reserved) {
      const { type: _type, re: _re, ...confirmed } = reply;
      const order = { ...confirmed, title, image: cardView(productId).image, currency,
        unit_price: reply.unit_price ?? Math.round(reply.total / (reply.qty || qty)), server_time: reply.server_time ?? room.clock.now() };
      myOrders.upsert(order);
      checkout.start(order);
    }
  } else if (reply.type === 'order.rejected') {
    const key2 = `order.reason.${reply.reason}`;
    const words = t(key2) === key2 ? t('order.reason.unknown', { reason: reply.reason }) : t(key2);
    showResult('rejected', t('order.rejected'), words, { reason: reply.reason });
  } else {
    showResult('rejected', t('order.rejected'), reply.message || t('order.reason.unknown', { reason: reply.code }), { reason: reply.code });
  }
  renderCards();
}

let resultTimer = null;
function showResult(kind, title, detail, data = {}) {
  const box = $('#order-result');
  box.dataset.result = kind;
  box.dataset.orderId = data.orderId ?? '';
  box.dataset.reason = data.reason ?? '';
  box.dataset.total = data.total ?? '';
  setChildren(box,
    el('span', { class: 'result-icon', 'aria-hidden': 'true' }, kind === 'confirmed' ? '✓' : kind === 'pending' ? '…' : '!'),
    el('div', { class: 'result-text' },
      el('strong', { class: 'result-title' }, title),
      el('div', { class: 'result-detail' }, detail)),
    el('button', { class: 'result-close', type: 'button', 'aria-label': t('card.close'), on: { click: () => { box.hidden = true; } } }, '×'));
  box.hidden = Boolean(data.quiet);
  clearTimeout(resultTimer);
  if (kind !== 'pending') resultTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

// ---------- chat, purchases, viewers ----------

function addChat(msg) {
  const list = $('#chat-list');
  const item = el('li', { class: 'chat-item', dataset: { id: msg.id ?? '' } },
    el('span', { class: 'chat-from' }, msg.from ?? ''), ' ',
    el('span', { class: 'chat-text' }, msg.text ?? ''));
  list.append(item);
  while (list.children.length > MAX_CHAT) list.firstChild.remove();
  list.scrollTop = list.scrollHeight;
}

const tickerQueue = [];
let tickerBusy = false;
function showPurchase(msg) {
  tickerQueue.push(msg);
  if (tickerQueue.length > 5) tickerQueue.shift();
  if (!tickerBusy) nextTicker();
}
function nextTicker() {
  const box = $('#purchase-ticker');
  const msg = tickerQueue.shift();
  if (!msg) {
    tickerBusy = false;
    box.replaceChildren();
    return;
  }
  tickerBusy = true;
  const p = state.products.get(msg.product_id);
  setChildren(box, el('div', { class: 'ticker-pill' },
    el('span', { class: 'ticker-icon' }, icon('cart', 15)),
    el('span', {}, t('purchase.line', { buyer: msg.buyer ?? '', qty: msg.qty ?? 1 })),
    p?.title ? el('span', { class: 'ticker-product' }, p.title) : null));
  setTimeout(nextTicker, 2500);
}

function renderViewers() {
  const node = $('#viewer-count');
  setText(node, Number.isInteger(state.viewers) ? t('viewers', { n: formatNumber(state.viewers) }) : '');
}

// ---------- connection and stream state ----------

function renderConnection() {
  const banner = $('#conn-banner');
  const s = room.state;
  banner.dataset.state = s;
  if (s === 'open' || s === 'refused' || (s === 'connecting' && !room.everOpened)) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  if (s === 'offline') setText(banner, t('conn.offline'));
  else if (s === 'reconnecting' && room.retryAt > Date.now())
    setText(banner, t('conn.reconnecting', { s: Math.ceil((room.retryAt - Date.now()) / 1000) }));
  else setText(banner, t('conn.reconnecting.now'));
}

function renderStage() {
  const live = player.state === 'playing';
  const badge = $('#live-badge');
  badge.className = `badge ${replay ? 'badge-replay' : live ? 'badge-live' : 'badge-offline'}`;
  setText(badge, replay ? t('stream.replay') : live ? t('stream.live') : t('stream.offline'));
  document.body.dataset.player = player.state;
  document.body.dataset.transport = player.transport ?? '';
  const msg = $('#stage-message');
  if (state.streamInfo === 'missing') {
    msg.hidden = false;
    setText($('#stage-message-text'), t('conn.stream_missing'));
  } else if (replay && state.replayMissing) {
    msg.hidden = false;
    setText($('#stage-message-text'), t('replay.missing'));
  } else if (player.state === 'waiting') {
    msg.hidden = false;
    setText($('#stage-message-text'), t('stream.waiting'));
    if (!replay) loadRecentReplays();
  } else if (player.state === 'blocked') {
    msg.hidden = false;
    setText($('#stage-message-text'), t('player.tap_to_play'));
  } else if (player.state === 'loading') {
    msg.hidden = false;
    setText($('#stage-message-text'), t('stream.loading'));
  } else {
    msg.hidden = true;
  }
  $('#unmute').hidden = !(live && video.muted);
}

async function loadStreamInfo() {
  try {
    const res = await fetch(`/api/streams/${encodeURIComponent(streamId)}`, { cache: 'no-store' });
    if (res.status === 404) {
      state.streamInfo = 'missing';
    } else if (res.ok) {
      const info = await res.json();
      state.streamInfo = info;
      setText($('#stream-title'), info.title ?? '');
      setText($('#stream-farmer'), info.farmer ?? '');
      document.title = `${info.title ?? ''} · ${t('app.name')}`;
      if (Number.isInteger(info.viewers) && state.viewers === null) state.viewers = info.viewers;
      const initial = [...(info.farmer || info.title || '')][0];
      if (initial) setText($('#avatar'), initial);
    }
  } catch {
    // Offline: the connection banner says so; try again on the next round.
  }
  renderStage();
  renderViewers();
}

// ---------- room messages ----------

room.addEventListener('welcome', (e) => {
  const w = e.detail;
  state.products.clear();
  for (const p of w.products || []) upsertProduct(p);
  state.sales.clear();
  for (const s of w.sales || []) state.sales.set(s.product_id, s);
  state.viewers = Number.isInteger(w.viewers) ? w.viewers : state.viewers;
  const now = Date.now();
  const cards = replay ? [] : (w.cards || []).map((c) => (typeof c === 'string' ? { product_id: c } : c));
  scheduler.reset(cards.map((c) => markerFromMessage(c, now, 'show')));
  scheduler.tick(player.playback());
  renderCards();
  renderViewers();
  $('#chat-list').replaceChildren();
  for (const m of w.chat || []) addChat(m);
  // Back after a drop: updates may have been missed meanwhile.
  if (openSheetName() === 'orders') myOrders.load();
});
room.addEventListener('card.shown', (e) => {
  if (!replay) scheduler.push(markerFromMessage(e.detail, Date.now(), 'show'));
  if (e.detail.card) {
    // Catalog facts (not visibility) may be taken at once.
    const c = e.detail.card;
    if (!state.products.has(e.detail.product_id)) upsertProduct({ ...c, id: e.detail.product_id });
  }
  tickCards();
});
room.addEventListener('card.hidden', (e) => {
  if (replay) return;  // the live cards; a replay shows its own chapters
  scheduler.push(markerFromMessage(e.detail, Date.now(), 'hide'));
  tickCards();
});
room.addEventListener('stock', (e) => {
  const m = e.detail;
  upsertProduct({ id: m.product_id, stock: m.left, sold: m.sold });
  const sale = state.sales.get(m.product_id);
  if (sale && Number.isInteger(m.sale_left) && (m.sale_id === undefined || m.sale_id === sale.sale_id)) sale.left = m.sale_left;
  renderCards();
});
room.addEventListener('catalog', (e) => {
  // The host replaced the catalog: products that left it lose their card on the server too.
  state.products.clear();
  for (const p of e.detail.products || []) upsertProduct(p);
  renderCards();
});
for (const type of ['product', 'product.updated']) {
  // Not in protocol v1: a catalog change from the host (price, title). Harmless if never sent.
  room.addEventListener(type, (e) => {
    upsertProduct(e.detail.product ?? e.detail);
    renderCards();
  });
}
room.addEventListener('sale.started', (e) => {
  state.sales.set(e.detail.product_id, { bought: 0, ...e.detail });
  renderCards();
});
room.addEventListener('sale.ended', (e) => {
  const pid = e.detail.product_id;
  const ended = { ...(state.sales.get(pid) || {}), ...e.detail, ended: true, endReason: e.detail.reason };
  state.sales.set(pid, ended);
  setTimeout(() => {
    if (state.sales.get(pid) === ended) state.sales.delete(pid);
    renderCards();
  }, SALE_END_HOLD_MS);
  renderCards();
});
room.addEventListener('purchase', (e) => {
  const m = e.detail;
  if (Number.isInteger(m.count)) upsertProduct({ id: m.product_id, sold: m.count });
  showPurchase(m);
  renderCards();
});
// A change to one of this buyer's orders (paid, shipped, cancelled, expired, …).
room.addEventListener('order.updated', (e) => {
  const { type, ...order } = e.detail;
  const before = myOrders.find(order.order_id);
  myOrders.upsert(order);
  checkout.update(order);
  const changed = !before || before.status !== order.status || before.tracking !== order.tracking;
  const inView = openSheetName() === 'orders'
    || (openSheetName() === 'checkout' && String(checkout.order?.order_id) === String(order.order_id));
  if (changed && !inView) noticeOrder(order);
});
room.addEventListener('viewers', (e) => {
  state.viewers = e.detail.count;
  renderViewers();
});
room.addEventListener('chat', (e) => addChat(e.detail));
room.addEventListener('chat.deleted', (e) => {
  // Not in protocol v1 (moderation): remove a message by id.
  for (const item of $$('.chat-item', $('#chat-list'))) if (item.dataset.id && item.dataset.id === String(e.detail.id)) item.remove();
});
room.addEventListener('error', (e) => {
  if (e.detail.code === 'rate_limited') showResult('rejected', t('order.rejected'), t('order.reason.rate_limited'));
  // A muted viewer's chat.send: say so in the chat instead of dropping the message silently.
  else if (e.detail.code === 'forbidden' && /muted/.test(e.detail.message ?? '')) {
    const item = el('li', { class: 'chat-item chat-system' }, t('chat.muted'));
    $('#chat-list').append(item);
  }
});
room.addEventListener('state', () => {
  if (room.state === 'refused' && room.refused?.code === 'invalid') {
    state.streamInfo = 'missing';
    renderStage();
  }
  renderConnection();
  $('#chat-form button').disabled = room.state !== 'open';
});

// `playback`: the frame being presented (Player.onFrame), else the current position.
function tickCards(playback = null) {
  if (replay) {
    if (replayCards()) renderCards();
    markCurrentChapter();
    return;
  }
  if (scheduler.tick(playback ?? player.playback())) renderCards();
}
// Live cards follow the frames on screen; the timer below still ticks while no frame comes
// (e.g. the amendment grace when the video is not playing).
if (!replay) window.harvestWatch.cardClock = player.onFrame((playback) => tickCards(playback));

// ---------- replays ----------

// While the farmer is away, the live page offers the latest replays (at most once a minute).
let replaysLoadedAt = 0;
async function loadRecentReplays() {
  if (Date.now() - replaysLoadedAt < 60_000) return;
  replaysLoadedAt = Date.now();
  try {
    const res = await fetch(`/api/streams/${encodeURIComponent(streamId)}/replays`, { cache: 'no-store' });
    if (!res.ok) return;
    state.recentReplays = ((await res.json()).replays || []).filter((r) => !r.live).slice(0, 3);
  } catch {
    return;
  }
  renderRecentReplays();
}

function renderRecentReplays() {
  const list = $('#stage-replays');
  const replays = player.state === 'waiting' ? state.recentReplays ?? [] : [];
  list.hidden = replays.length === 0;
  setChildren(list, replays.map((r) => el('li', {},
    el('a', { href: r.watch_url, dataset: { session: r.session } },
      t('replay.watch', { when: new Date(r.started_at).toLocaleString(lang(), { dateStyle: 'medium', timeStyle: 'short' }) })))));
}

// ---------- replay chapters ----------

async function loadChapters() {
  try {
    const res = await fetch(`${replayBase}chapters.json`, { cache: 'no-store' });
    if (res.status === 404) {
      state.replayMissing = true;
    } else if (res.ok) {
      const body = await res.json();
      state.replayMissing = false;
      state.chapters = Array.isArray(body.chapters) ? body.chapters : [];
      state.replayLive = body.live === true;
      renderChapters();
    }
  } catch {
    // Offline: tried again below while the replay is still recording.
  }
  renderStage();
  // A session still being recorded gets new chapters as the host shows cards.
  if (state.replayLive || state.chapters.length === 0) setTimeout(loadChapters, 10_000);
}

function renderChapters() {
  const nav = $('#chapters');
  nav.hidden = state.chapters.length === 0;
  setChildren($('#chapter-list'), state.chapters.map((c, i) => {
    const title = state.products.get(c.product_id)?.title ?? c.title ?? c.product_id;
    return el('li', {},
      el('button', {
        class: 'chapter', type: 'button', dataset: { index: String(i), productId: c.product_id, start: String(c.start) },
        on: { click: () => seekChapter(c) },
      }, el('span', { class: 'chapter-time num' }, formatPosition(c.start)), ' ', el('span', { class: 'chapter-title' }, title)));
  }));
  markCurrentChapter();
}

function seekChapter(c) {
  // A hair past the start: the card's first frame, not the one before it.
  video.currentTime = c.start + 0.05;
  if (video.paused) player.tryPlay();
  tickCards();
}

function markCurrentChapter() {
  const current = chapterAt(state.chapters, video.currentTime);
  for (const b of $$('.chapter', $('#chapter-list'))) {
    const on = current !== null && state.chapters[Number(b.dataset.index)] === current;
    if (on) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
}

// ---------- wiring ----------

$('#chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('#chat-input');
  const text = input.value.trim();
  if (!text) return;
  if (room.send({ type: 'chat.send', text: text.slice(0, 200) })) input.value = '';
});
$('#open-products').addEventListener('click', () => {
  openSheet('products');
  renderSideProducts(true);
});
$('#open-orders').addEventListener('click', showMyOrders);
$('#side-orders').addEventListener('click', showMyOrders);
$('#order-notice').addEventListener('click', () => {
  $('#order-notice').hidden = true;
  showMyOrders();
});
$('#unmute').addEventListener('click', () => {
  player.unmute();
  renderStage();
});
$('#stage-message').addEventListener('click', () => {
  if (player.state === 'blocked') player.unmute();
});
player.addEventListener('state', renderStage);
player.addEventListener('state', () => { if (!replay) renderRecentReplays(); });
video.addEventListener('volumechange', renderStage);

fillIcons();
initSheets();
initLanguageSwitch();
onLanguageChange(() => {
  checkout.render();
  myOrders.render();
  if (detailNode) fillCard(detailNode, detailNode.dataset.productId, null);
  if (replay) renderChapters();
  else renderRecentReplays();
  renderCards();
  renderStage();
  renderViewers();
  renderConnection();
});

setInterval(tickCards, 100);
setInterval(() => {
  renderConnection();
  // Countdowns (sale ends, time left to check out) run on server time.
  if (state.sales.size) renderCards();
  if (openSheetName() === 'checkout') checkout.tick();
  if (openSheetName() === 'orders') myOrders.tick();
}, 250);
setInterval(loadStreamInfo, 15_000);

renderStage();
renderCards();
loadStreamInfo();
if (replay) loadChapters();
room.connect();
player.start();
