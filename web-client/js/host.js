// Host console: catalog and cards, prices and stock, flash sales, orders, viewers, stream
// health, chat moderation, and the viewer link with its QR code. About 600 lines of page
// wiring; the rest are modules of their own (money.js, i18n.js, qr.js, product_view.js, and
// host_orders.js for the Orders panel).
//
// The host token is asked for once and kept in sessionStorage (this tab only). It travels in
// the websocket URL and Authorization headers, never in a link meant for viewers; a token
// handed over in the fragment (#token=…, never sent to the server) is removed from the
// address bar at once.
import { $, copyText, el, randomId, setChildren, setText, streamIdFromPath, takeHashParams, toast } from './dom.js';
import { formatCountdown, formatNumber, initLanguageSwitch, onLanguageChange, t } from './i18n.js';
import { formatMoney, moneyInputValue, parseMoney } from './money.js';
import { Room } from './room.js';
import { productImage } from './product_view.js';
import { fillOriginForm, originFromForm } from './origin_form.js';
import { renderQr } from './qr_view.js';
import { fillIcons, icon } from './icons.js';
import { HostOrders } from './host_orders.js';
import { uploadPhoto } from './image_upload.js';

const streamId = streamIdFromPath();
const TOKEN_KEY = `harvest.host_token.${streamId}`;
const MAX_FEED = 100;

const state = {
  products: new Map(),
  onScreen: new Map(),  // product_id -> slot
  sales: new Map(),     // product_id -> sale
  slots: new Map(),     // product_id -> chosen slot
  openForm: new Map(),  // product_id -> 'edit' | 'sale'
  ordersFromServer: false,  // GET /orders works: the panel is the server's list, refreshed on purchases
  ordersPushed: false,  // the server sends an `order` event per durable order: the panel follows it
  viewers: 0,
  info: null,
};
let room = null;
let token = '';
const hostOrders = new HostOrders({
  panel: $('#orders-panel'), streamId, api: (path, options) => api(path, options), token: () => token,
  clock: { toLocal: (ms) => (room ? room.clock.toLocal(ms) : ms) },
  product: (id) => state.products.get(id), onChange: () => renderStats(),
});
const actions = new Map();  // request id -> description, for errors that come back with `re`

function readToken() {
  const fromHash = takeHashParams().token;
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    return fromHash;
  }
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

async function api(path, options = {}) {
  const headers = { authorization: `Bearer ${token}`, ...(options.body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(path, { ...options, headers, cache: 'no-store' });
  let json = null;
  try {
    json = await res.json();
  } catch {
    // empty or not JSON
  }
  return { status: res.status, ok: res.ok, json };
}

// Sends a host command; an error that names it (via `re`) becomes a toast in words.
function act(message, what) {
  const id = randomId();
  actions.set(id, what);
  setTimeout(() => actions.delete(id), 15_000);
  if (!room || !room.send({ ...message, id })) toast(t('conn.reconnecting.now'), 'error');
  return id;
}

// ---------- sign-in ----------

function showLogin(errorKey) {
  document.body.dataset.role = 'none';
  document.body.dataset.auth = 'none';
  $('#login').hidden = false;
  $('#console').hidden = true;
  $('#signout').hidden = true;
  const err = $('#login-error');
  err.hidden = !errorKey;
  if (errorKey) setText(err, t(errorKey));
  $('#token-input').focus();
}

function signOut(errorKey) {
  sessionStorage.removeItem(TOKEN_KEY);
  token = '';
  if (room) room.close();
  room = null;
  showLogin(errorKey);
}

function startConsole() {
  $('#login').hidden = true;
  $('#console').hidden = false;
  $('#signout').hidden = false;
  room = new Room({ streamId, token, role: 'host' });
  wireRoom(room);
  room.connect();
  verifyToken();
  loadInfo();
  loadCatalog();
  loadOrders();
  renderShare();
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('#token-input').value.trim();
  if (!value) return;
  token = value;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('#token-input').value = '';
  startConsole();
});
$('#signout').addEventListener('click', () => signOut());

// ---------- room ----------

function wireRoom(r) {
  r.addEventListener('welcome', (e) => {
    const w = e.detail;
    if (w.role !== 'host' && w.role !== 'admin') {
      signOut('host.login.bad');
      return;
    }
    document.body.dataset.role = 'host';
    for (const p of w.products || []) upsertProduct(p);
    state.onScreen.clear();
    for (const c of w.cards || []) {
      if (typeof c === 'string') state.onScreen.set(c, 'bottom');
      else state.onScreen.set(c.product_id, c.slot || c.card?.slot || 'bottom');
    }
    state.sales.clear();
    for (const s of w.sales || []) state.sales.set(s.product_id, s);
    if (Number.isInteger(w.viewers)) state.viewers = w.viewers;
    $('#host-chat').replaceChildren();
    for (const m of w.chat || []) addChat(m);
    renderAll();
  });
  r.addEventListener('card.shown', (e) => {
    state.onScreen.set(e.detail.product_id, e.detail.slot || e.detail.card?.slot || 'bottom');
    renderCatalog();
  });
  r.addEventListener('card.hidden', (e) => {
    if (e.detail.product_id === undefined || e.detail.product_id === null) state.onScreen.clear();
    else state.onScreen.delete(e.detail.product_id);
    renderCatalog();
  });
  r.addEventListener('stock', (e) => {
    const m = e.detail;
    upsertProduct({ id: m.product_id, stock: m.left, sold: m.sold });
    const sale = state.sales.get(m.product_id);
    if (sale && Number.isInteger(m.sale_left)) sale.left = m.sale_left;
    renderCatalog();
  });
  r.addEventListener('catalog', (e) => {
    state.products.clear();
    for (const p of e.detail.products || []) upsertProduct(p);
    renderCatalog();
  });
  for (const type of ['product', 'product.updated']) {
    r.addEventListener(type, (e) => {
      upsertProduct(e.detail.product ?? e.detail);
      renderCatalog();
    });
  }
  r.addEventListener('sale.started', (e) => {
    state.sales.set(e.detail.product_id, e.detail);
    renderCatalog();
  });
  r.addEventListener('sale.ended', (e) => {
    state.sales.delete(e.detail.product_id);
    renderCatalog();
  });
  r.addEventListener('purchase', (e) => {
    const m = e.detail;
    const p = state.products.get(m.product_id);
    if (p && Number.isInteger(m.count)) p.sold = m.count;
    if (state.ordersPushed) {  // the server pushes each order to hosts: nothing to re-read
      renderCatalog();
      return;
    }
    if (state.ordersFromServer) {
      scheduleOrdersReload();
      renderCatalog();
      return;
    }
    const sale = state.sales.get(m.product_id);
    const unit = sale && Number.isInteger(sale.price) ? sale.price : p?.price;
    hostOrders.addFeedEntry({
      product_id: m.product_id, qty: m.qty, buyer: m.buyer, total: Number.isInteger(unit) ? unit * (m.qty || 1) : null,
      currency: p?.currency || 'CNY', server_time: m.server_time ?? r.clock.now(),
    });
    renderCatalog();
  });
  // Each durable order, pushed to hosts (an addition to v1, docs/protocol.md).
  r.addEventListener('order', (e) => {
    const { type, ...o } = e.detail.order ?? e.detail;
    state.ordersPushed = true;
    hostOrders.upsert(o);
  });
  // A later state of one of the stream's orders (checked out, paid, shipped, cancelled, …).
  r.addEventListener('order.updated', (e) => {
    const { type, ...o } = e.detail;
    hostOrders.upsert(o);
  });
  r.addEventListener('viewers', (e) => {
    state.viewers = e.detail.count;
    renderStats();
  });
  r.addEventListener('chat', (e) => addChat(e.detail));
  r.addEventListener('viewer.muted', (e) => {
    const who = e.detail.viewer_id;
    const from = document.querySelector(`#host-chat [data-viewer="${CSS.escape(String(who))}"] .chat-from`)?.textContent ?? who;
    toast(t('host.chat.muted', { from, minutes: Math.round((e.detail.duration_s ?? 600) / 60) }), 'info');
  });
  r.addEventListener('chat.deleted', (e) => {
    const item = document.querySelector(`#host-chat [data-id="${CSS.escape(String(e.detail.id ?? e.detail.message_id))}"]`);
    if (item) item.remove();
  });
  r.addEventListener('error', (e) => {
    const m = e.detail;
    const what = m.re ? actions.get(m.re) : null;
    if (m.code === 'forbidden' && !what) {
      signOut('host.login.bad');
      return;
    }
    if (what === 'moderation' && m.code === 'unknown_type') toast(t('host.chat.unsupported'), 'error');
    else toast(t('host.error', { message: m.message || m.code }), 'error');
  });
  r.addEventListener('state', () => {
    if (r.state === 'refused') {
      signOut(r.refused?.code === 'forbidden' ? 'host.login.bad' : null);
      if (r.refused?.code !== 'forbidden') toast(t('conn.stream_missing'), 'error');
      return;
    }
    const dot = $('#conn-state');
    dot.dataset.state = r.state;
    dot.title = r.state === 'open' ? t('conn.live') : t('conn.reconnecting.now');
  });
  r.addEventListener('disconnected', (e) => {
    // A refused token: the server closes or refuses; after a few tries, ask again.
    if (!r.everOpened && r.attempt >= 3) verifyToken();
    if (e.detail.code === 1008 && /token|forbidden/i.test(e.detail.reason || '')) signOut('host.login.bad');
  });
}

// The REST API shows the stream key only to its host: a quick check of the token that
// does not depend on the websocket.
async function verifyToken() {
  const r = await api(`/api/streams/${encodeURIComponent(streamId)}`);
  if (r.ok && r.json && !('stream_key' in r.json)) signOut('host.login.bad');
  else if (r.ok && r.json) document.body.dataset.auth = 'ok';
}

// ---------- data ----------

function upsertProduct(p) {
  if (!p) return;
  const id = p.id ?? p.product_id;
  if (id === undefined || id === null) return;
  const prev = state.products.get(id) || { id };
  const next = { ...prev };
  for (const k of ['title', 'price', 'currency', 'stock', 'image', 'sold']) if (p[k] !== undefined && p[k] !== null) next[k] = p[k];
  // A whole product (catalog, product.updated) says whether it has an origin; `stock` does not.
  if (p.title !== undefined) next.origin = p.origin ?? null;
  state.products.set(id, next);
}

async function loadCatalog() {
  const r = await api(`/api/streams/${encodeURIComponent(streamId)}/products`);
  if (r.ok && Array.isArray(r.json?.products)) {
    for (const p of r.json.products) upsertProduct(p);
    renderCatalog();
  }
}

async function loadOrders() {
  if (await hostOrders.load()) state.ordersFromServer = true;
}

let ordersTimer = null;
function scheduleOrdersReload() {
  if (ordersTimer) return;
  ordersTimer = setTimeout(() => {
    ordersTimer = null;
    loadOrders();
  }, 400);
}

async function loadInfo() {
  const r = await api(`/api/streams/${encodeURIComponent(streamId)}`);
  if (r.status === 404) {
    toast(t('conn.stream_missing'), 'error');
    return;
  }
  if (!r.ok || !r.json) return;
  state.info = r.json;
  setText($('#stream-title'), r.json.title ?? '');
  document.title = `${r.json.title ?? ''} · ${t('host.title')}`;
  if (Number.isInteger(r.json.viewers) && !room?.welcome) state.viewers = r.json.viewers;
  renderHealth();
  renderStats();
}

// ---------- rendering ----------

function renderAll() {
  renderCatalog();
  hostOrders.render();
  renderStats();
  renderHealth();
  renderShare();
}

function renderStats() {
  setText($('#stat-viewers'), formatNumber(state.viewers || 0));
  const { count, gmv } = hostOrders.summary();
  setText($('#stat-orders'), formatNumber(count));
  setText($('#stat-gmv'), formatMoney(gmv, 'CNY'));
}

function formatBitrate(ingest) {
  let kbps = ingest.bitrate_kbps ?? ingest.kbps;
  if (kbps === undefined && Number.isFinite(ingest.bitrate_bps)) kbps = ingest.bitrate_bps / 1000;
  if (kbps === undefined && Number.isFinite(ingest.bitrate)) kbps = ingest.bitrate >= 20_000 ? ingest.bitrate / 1000 : ingest.bitrate;
  if (!Number.isFinite(kbps)) return t('host.health.unknown');
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbps` : `${Math.round(kbps)} kbps`;
}

function renderHealth() {
  const info = state.info || {};
  const live = info.state === 'live';
  const badge = $('#live-badge');
  badge.className = `badge ${live ? 'badge-live' : 'badge-offline'}`;
  setText(badge, live ? t('stream.live') : t('stream.offline'));
  const ingest = info.ingest || {};
  setText($('#health-bitrate'), live ? formatBitrate(ingest) : t('host.health.unknown'));
  const fps = ingest.fps ?? ingest.framerate;
  setText($('#health-fps'), live && Number.isFinite(fps) ? `${Math.round(fps)} fps` : t('host.health.unknown'));
  let loss = ingest.loss_pct ?? ingest.loss_percent;
  if (loss === undefined) {
    loss = ingest.loss ?? ingest.packet_loss;  // a fraction
    if (Number.isFinite(loss) && loss <= 1) loss *= 100;
  }
  const lossNode = $('#health-loss');
  setText(lossNode, live && Number.isFinite(loss) ? `${loss.toFixed(1)}%` : t('host.health.unknown'));
  lossNode.classList.toggle('bad', Number.isFinite(loss) && loss >= 2);
}

function slotSelect(productId) {
  const select = el('select', { class: 'input input-sm slot-select', 'aria-label': t('host.slot') },
    ['bottom', 'top', 'left', 'right'].map((s) => el('option', { value: s }, t(`host.slot.${s}`))));
  select.value = state.slots.get(productId) || 'bottom';
  select.addEventListener('change', () => state.slots.set(productId, select.value));
  return select;
}

function productRow(p) {
  const onScreen = state.onScreen.has(p.id);
  const sale = state.sales.get(p.id);
  const saleLeft = sale && Number.isFinite(sale.ends_at) ? sale.ends_at - (room?.clock.now() ?? Date.now()) : null;
  const saleUnits = sale && Number.isInteger(sale.left) ? t('card.stock', { n: formatNumber(sale.left) }) : '';
  const soldOut = Number.isInteger(p.stock) && p.stock <= 0;
  const form = state.openForm.get(p.id);

  const row = el('li', { class: `product-row${onScreen ? ' on-screen' : ''}`, dataset: { productId: p.id } },
    el('div', { class: 'product-main' },
      productImage(p.image, p.title, 'thumb'),
      el('div', { class: 'product-info' },
        el('div', { class: 'product-title' }, p.title ?? p.id),
        el('div', { class: 'product-id mono muted' }, p.id),
        el('div', { class: 'product-figures' },
          el('span', { class: 'price product-price' }, formatMoney(p.price, p.currency || 'CNY')),
          el('span', { class: `product-stock num${soldOut ? ' sold-out' : ''}` },
            soldOut ? t('card.sold_out') : Number.isInteger(p.stock) ? t('card.stock', { n: formatNumber(p.stock) }) : ''),
          Number.isInteger(p.sold) && p.sold > 0 ? el('span', { class: 'muted num' }, t('card.bought', { n: formatNumber(p.sold) })) : null)),
      el('div', { class: 'product-flags' },
        onScreen ? el('span', { class: 'badge badge-onscreen' }, t('host.on_screen')) : null,
        sale ? el('span', { class: 'badge badge-sale num sale-running' },
          t('host.sale.running', { price: formatMoney(sale.price, p.currency || 'CNY'), t: formatCountdown(saleLeft ?? 0) })) : null,
        saleUnits ? el('span', { class: 'sale-units muted num' }, saleUnits) : null)),
    el('div', { class: 'product-actions' },
      onScreen
        ? el('button', { class: 'btn btn-sm hide-card', type: 'button', on: { click: () => act({ type: 'card.hide', product_id: p.id }, 'card') } }, t('host.hide'))
        : el('button', {
          class: 'btn btn-sm btn-primary show-card', type: 'button',
          on: { click: () => act({ type: 'card.show', product_id: p.id, slot: state.slots.get(p.id) || 'bottom' }, 'card') },
        }, t('host.show')),
      slotSelect(p.id),
      el('button', { class: `btn btn-sm edit-product${form === 'edit' ? ' active' : ''}`, type: 'button', on: { click: () => toggleForm(p.id, 'edit') } },
        `${t('host.price').replace(/[（(].*$/, '')} / ${t('host.stock')}`),
      sale
        ? el('button', { class: 'btn btn-sm btn-danger stop-sale', type: 'button', on: { click: () => act({ type: 'sale.stop', sale_id: sale.sale_id }, 'sale') } }, t('host.sale.stop'))
        : el('button', { class: `btn btn-sm start-sale${form === 'sale' ? ' active' : ''}`, type: 'button', on: { click: () => toggleForm(p.id, 'sale') } }, [icon('bolt', 14), t('host.sale.start')])),
    form === 'edit' ? editForm(p) : null,
    form === 'sale' && !sale ? saleForm(p) : null);
  return row;
}

function toggleForm(productId, kind) {
  if (state.openForm.get(productId) === kind) state.openForm.delete(productId);
  else state.openForm.set(productId, kind);
  renderCatalog();
}

function editForm(p) {
  const price = el('input', { class: 'input', name: 'price', inputmode: 'decimal', value: moneyInputValue(p.price, p.currency || 'CNY'), required: true });
  const stock = el('input', { class: 'input', name: 'stock', inputmode: 'numeric', value: Number.isInteger(p.stock) ? String(p.stock) : '', pattern: '\\d+' });
  const form = el('form', { class: 'inline-form edit-form' },
    el('label', { class: 'field' }, t('host.price'), price),
    el('label', { class: 'field' }, t('host.stock'), stock),
    el('button', { class: 'btn btn-sm btn-primary', type: 'submit' }, t('host.save')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const msg = { type: 'product.update', product_id: p.id };
    const fen = parseMoney(price.value, p.currency || 'CNY');
    if (fen !== null && fen !== p.price) msg.price = fen;
    if (/^\d+$/.test(stock.value) && Number(stock.value) !== p.stock) msg.stock = Number(stock.value);
    if (fen === null) {
      price.setCustomValidity('?');
      price.reportValidity();
      return;
    }
    if (Object.keys(msg).length > 2) {
      act(msg, 'update');
      upsertProduct({ id: p.id, price: msg.price, stock: msg.stock });
    }
    state.openForm.delete(p.id);
    toast(t('host.saved'));
    renderCatalog();
  });
  return form;
}

function saleForm(p) {
  const suggested = Number.isInteger(p.price) ? Math.round(p.price * 0.8) : 0;
  const price = el('input', { class: 'input', name: 'sale_price', inputmode: 'decimal', value: moneyInputValue(suggested), required: true });
  const qty = el('input', { class: 'input', name: 'sale_quantity', inputmode: 'numeric', value: String(Math.min(50, Math.max(1, p.stock ?? 50))), required: true });
  const limit = el('input', { class: 'input', name: 'sale_limit', inputmode: 'numeric', value: '2', required: true });
  const duration = el('input', { class: 'input', name: 'sale_duration', inputmode: 'numeric', value: '120', required: true });
  const form = el('form', { class: 'inline-form sale-form' },
    el('label', { class: 'field' }, t('host.sale.price'), price),
    el('label', { class: 'field' }, t('host.sale.quantity'), qty),
    el('label', { class: 'field' }, t('host.sale.limit'), limit),
    el('label', { class: 'field' }, t('host.sale.duration'), duration),
    el('button', { class: 'btn btn-sm btn-buy', type: 'submit' }, t('host.sale.go')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const fen = parseMoney(price.value, p.currency || 'CNY');
    const ints = [qty, limit, duration].map((i) => (/^\d+$/.test(i.value) ? Number(i.value) : NaN));
    if (fen === null || ints.some((n) => !Number.isInteger(n) || n <= 0)) {
      toast(t('order.reason.invalid'), 'error');
      return;
    }
    act({ type: 'sale.start', product_id: p.id, price: fen, quantity: ints[0], per_buyer_limit: ints[1], duration_s: ints[2] }, 'sale');
    state.openForm.delete(p.id);
    renderCatalog();
  });
  return form;
}

let catalogSignature = '';
function renderCatalog(force = false) {
  const list = $('#product-list');
  const products = [...state.products.values()];
  // Rebuild only when something shown changed, so open inputs keep focus and typed text.
  const signature = JSON.stringify([products, [...state.onScreen], [...state.sales].map(([k, s]) => [k, s.sale_id, s.price, s.left]),
    [...state.openForm], document.documentElement.lang]);
  const active = document.activeElement;
  const typing = active && list.contains(active) && (active.tagName === 'INPUT' || active.tagName === 'SELECT');
  // Rebuilt only when something shown changed, and never under someone's typing; the
  // countdowns tick in place, so buttons are not replaced between press and release.
  if (force || (signature !== catalogSignature && !typing)) {
    catalogSignature = signature;
    if (!products.length) setChildren(list, el('li', { class: 'empty' }, t('host.catalog.empty')));
    else setChildren(list, products.map(productRow));
  }
  const now = room?.clock.now() ?? Date.now();
  for (const [productId, sale] of state.sales) {
    const badge = list.querySelector(`[data-product-id="${CSS.escape(String(productId))}"] .sale-running`);
    const p = state.products.get(productId) || {};
    if (badge) setText(badge, t('host.sale.running', { price: formatMoney(sale.price, p.currency || 'CNY'), t: formatCountdown(sale.ends_at - now) }));
  }
}

function addChat(msg) {
  const list = $('#host-chat');
  const id = msg.id ?? msg.message_id ?? '';
  const who = msg.viewer_id ?? msg.from_id ?? '';
  const item = el('li', { class: 'host-chat-item', dataset: { id, viewer: who } },
    el('div', { class: 'host-chat-text' },
      el('span', { class: 'chat-from' }, msg.from ?? ''), ' ',
      el('span', { class: 'chat-text' }, msg.text ?? '')),
    el('div', { class: 'host-chat-actions' },
      el('button', { class: 'btn btn-sm btn-ghost chat-delete', type: 'button', on: { click: () => act({ type: 'chat.delete', message_id: id }, 'moderation') } }, t('host.chat.delete')),
      el('button', { class: 'btn btn-sm btn-ghost btn-danger chat-mute', type: 'button', on: { click: () => act({ type: 'viewer.mute', viewer_id: who, from: msg.from, duration_s: 600 }, 'moderation') } }, t('host.chat.mute'))));
  list.append(item);
  while (list.children.length > MAX_FEED) list.firstChild.remove();
  list.scrollTop = list.scrollHeight;
}

function renderShare() {
  const url = `${location.origin}/watch/${encodeURIComponent(streamId)}`;
  const link = $('#share-link');
  link.href = url;
  setText(link, url);
  renderQr($('#share-qr'), url, 132);
  $('#broadcast-link').href = `/broadcast/${encodeURIComponent(streamId)}`;
}

$('#copy-link').addEventListener('click', async () => {
  const ok = await copyText($('#share-link').href);
  toast(ok ? t('host.copied') : $('#share-link').href);
});

$('#host-chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('#host-chat-input');
  const text = input.value.trim();
  if (text && room?.send({ type: 'chat.send', text: text.slice(0, 200) })) input.value = '';
});

// The product form's photo: the thumbnail shows what the card will show (an uploaded photo or a
// typed URL); the submit button waits while a photo is on its way.
function showPhotoThumb(src) {
  const thumb = $('#add-photo-thumb');
  thumb.querySelector('img')?.remove();
  thumb.classList.toggle('has-photo', Boolean(src));
  if (src) thumb.append(el('img', { src, alt: '', width: 72, height: 72 }));
}

function photoStatus(text, isError = false) {
  const status = $('#add-photo-status');
  status.hidden = !text;
  status.classList.toggle('error', isError);
  setText(status, text || '');
}

$('#add-photo').addEventListener('change', async (e) => {
  const file = e.target.files?.[0];
  if (!file) return;
  const submit = $('#add-form button[type="submit"]');
  const local = URL.createObjectURL(file);
  showPhotoThumb(local);
  photoStatus(t('photo.uploading'));
  submit.disabled = true;
  try {
    const photo = await uploadPhoto(file, token);
    $('#add-image').value = photo.url;
    showPhotoThumb(photo.url);
    photoStatus(t('photo.done', { w: photo.width, h: photo.height }));
  } catch (err) {
    showPhotoThumb($('#add-image').value.trim());
    photoStatus(err.message, true);
  } finally {
    URL.revokeObjectURL(local);
    submit.disabled = false;
    e.target.value = '';  // the same file can be picked again after an error
  }
});

$('#add-image').addEventListener('change', (e) => {
  showPhotoThumb(e.target.value.trim());
  photoStatus('');
});

$('#add-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const price = parseMoney(f.get('price'));
  const err = $('#add-error');
  if (price === null) {
    err.hidden = false;
    setText(err, t('order.reason.invalid'));
    return;
  }
  const product = { id: String(f.get('id')).trim(), title: String(f.get('title')).trim(), price, currency: 'CNY', stock: Number(f.get('stock')) };
  const image = String(f.get('image') || '').trim();
  if (image) product.image = image;
  const origin = originFromForm(f);
  if (origin) product.origin = origin;
  // The others go without `stock`: the server keeps their live stock (units sold since this
  // console last heard would otherwise come back on sale). Their origins go as they are.
  const catalog = [...state.products.values()].map(({ id, title, price: pr, currency, image: im, origin: o }) => ({
    id, title, price: pr, currency: currency || 'CNY', ...(im ? { image: im } : {}), ...(o ? { origin: o } : {}),
  }));
  const r = await api(`/api/streams/${encodeURIComponent(streamId)}/products`, {
    method: 'PUT', body: JSON.stringify({ products: [...catalog.filter((p) => p.id !== product.id), product] }),
  });
  if (!r.ok) {
    // The server's sentence names the field ("origin 'harvest_date' must be ..."): show it.
    err.hidden = false;
    setText(err, [t('host.add.failed', { status: r.status }), r.json?.message].filter(Boolean).join(' '));
    return;
  }
  err.hidden = true;
  e.target.reset();
  showPhotoThumb('');
  photoStatus('');
  $('#origin-fields').open = false;
  upsertProduct({ ...product, origin: product.origin ?? null });
  renderCatalog();
  loadCatalog();
});

// Typing the id of a product already in the catalog fills the form with it, so a farmer can add
// or correct its origin without retyping the rest.
$('#add-form').elements.namedItem('id').addEventListener('change', (e) => {
  const p = state.products.get(e.target.value.trim());
  if (!p) return;
  const form = $('#add-form');
  form.elements.namedItem('title').value = p.title ?? '';
  form.elements.namedItem('price').value = Number.isInteger(p.price) ? moneyInputValue(p.price) : '';
  form.elements.namedItem('stock').value = Number.isInteger(p.stock) ? String(p.stock) : '';
  form.elements.namedItem('image').value = p.image ?? '';
  fillOriginForm(form, p.origin);
  if (p.origin) $('#origin-fields').open = true;
});

fillIcons();
initLanguageSwitch();
onLanguageChange(() => {
  renderCatalog(true);
  renderAll();
});
setInterval(() => {
  if (state.sales.size) renderCatalog();
}, 250);
setInterval(() => {
  if (token) loadInfo();
}, 3000);

token = readToken();
if (token) startConsole();
else showLogin();
