// "My farm" (/farm): a signed-in farmer's shows (schedule, go live, encoder details, new key,
// helper link, end) and their product catalog, reused in every show. Signed out: to /login.
import { $, el, setChildren, setText, toast, copyText } from './dom.js';
import { initLanguageSwitch, onLanguageChange, t, lang } from './i18n.js';
import { formatMoney, parseMoney, moneyInputValue } from './money.js';
import { api, me } from './account_api.js';
import { uploadPhoto } from './image_upload.js';
import { fillOriginForm, originFromForm } from './origin_form.js';
import './farm_strings.js';

let account = null;
let shows = [];
let products = [];

function when(ms) {
  return new Date(ms).toLocaleString(lang(), { month: 'short', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

function showError(form, text) {
  const err = $('.form-error', form);
  err.hidden = !text;
  setText(err, text ?? '');
}

async function loadShows() {
  const r = await api('GET', '/api/me/streams');
  if (r.status === 401) return location.assign('/login?next=/farm');
  if (r.ok) shows = r.json.streams;
  renderShows();
}

async function loadProducts() {
  const r = await api('GET', '/api/me/products');
  if (r.ok) products = r.json.products;
  renderProducts();
}

function ingestDetails(s) {
  const row = (label, value) => [el('dt', {}, label), el('dd', { class: 'mono' }, value)];
  return el('details', { class: 'ingest' },
    el('summary', {}, t('farm.ingest')),
    el('dl', {}, ...row(t('farm.key'), s.stream_key), ...row('RTMP', s.rtmp_url), ...row('SRT', s.srt_url), ...row('WHIP', s.whip_url)));
}

async function openHostConsole(s, copyOnly) {
  const r = await api('POST', `/api/streams/${encodeURIComponent(s.id)}/host_token`);
  if (!r.ok) return toast(t('farm.error', { message: r.json?.message ?? r.status }), 'error');
  // The token travels in the fragment (never sent to a server); the host page stores it.
  const url = `${location.origin}/host/${encodeURIComponent(s.id)}#token=${encodeURIComponent(r.json.host_token)}`;
  if (copyOnly) {
    await copyText(url);
    toast(t('farm.copied'));
  } else {
    location.assign(url);
  }
}

async function showAction(s, path, confirmKey, doneKey) {
  if (confirmKey && !confirm(t(confirmKey))) return;
  const r = await api('POST', `/api/streams/${encodeURIComponent(s.id)}/${path}`);
  if (!r.ok) return toast(t('farm.error', { message: r.json?.message ?? r.status }), 'error');
  toast(t(doneKey));
  loadShows();
}

function showItem(s) {
  const id = encodeURIComponent(s.id);
  const badgeClass = s.phase === 'live' ? 'badge-live' : s.phase === 'upcoming' ? 'badge-upcoming' : 'badge-offline';
  const over = s.phase === 'ended';
  return el('li', { class: 'show-item', dataset: { streamId: s.id } },
    el('div', { class: 'show-head' },
      el('span', { class: `badge ${badgeClass}` }, t(`farm.phase.${s.phase}`)),
      el('div', {},
        el('div', { class: 'show-title' }, s.title),
        s.scheduled_at && s.phase === 'upcoming' ? el('div', { class: 'show-when muted' }, t('farm.starts', { when: when(s.scheduled_at) })) : null)),
    el('div', { class: 'show-actions' },
      el('a', { class: 'btn btn-sm', href: `/watch/${id}` }, t('farm.watch')),
      over ? null : el('button', { class: 'btn btn-sm btn-primary', type: 'button', on: { click: () => openHostConsole(s, false) } }, t('farm.host')),
      over ? null : el('a', { class: 'btn btn-sm', href: `/broadcast/${id}` }, t('farm.broadcast')),
      over ? null : el('button', { class: 'btn btn-sm', type: 'button', title: t('farm.host_link_help'), on: { click: () => openHostConsole(s, true) } }, t('farm.host_link')),
      over ? null : el('button', { class: 'btn btn-sm', type: 'button', on: { click: () => showAction(s, 'key', 'farm.rotate_confirm', 'farm.rotated') } }, t('farm.rotate')),
      over ? null : el('button', { class: 'btn btn-sm btn-danger', type: 'button', on: { click: () => showAction(s, 'end', 'farm.end_confirm', 'farm.ended') } }, t('farm.end'))),
    over ? null : ingestDetails(s));
}

function renderShows() {
  const list = $('#shows');
  if (!shows.length) return setChildren(list, el('li', { class: 'empty' }, t('farm.no_shows')));
  const rank = { live: 0, upcoming: 1, offline: 2, ended: 3 };
  const sorted = [...shows].sort((a, b) => rank[a.phase] - rank[b.phase] || (a.scheduled_at ?? 0) - (b.scheduled_at ?? 0));
  setChildren(list, sorted.map(showItem));
}

function renderProducts() {
  const list = $('#products');
  if (!products.length) return setChildren(list, el('li', { class: 'empty' }, t('farm.no_products')));
  setChildren(list, products.map((p) => el('li', { class: 'product-item', dataset: { productId: p.id } },
    p.image ? el('img', { src: p.image, alt: '', loading: 'lazy' }) : null,
    el('div', { class: 'grow' }, el('div', { class: 'title' }, p.title), el('div', { class: 'muted small mono' }, p.id)),
    el('span', { class: 'price num' }, formatMoney(p.price, p.currency)),
    el('button', { class: 'btn btn-sm btn-ghost', type: 'button', on: { click: () => fillProductForm(p) } }, '✎'),
    el('button', { class: 'btn btn-sm btn-ghost', type: 'button', on: { click: () => saveProducts(products.filter((x) => x.id !== p.id)) } }, t('farm.remove')))));
}

function fillProductForm(p) {
  const form = $('#product-form');
  form.elements.id.value = p.id;
  form.elements.title.value = p.title;
  form.elements.price.value = moneyInputValue(p.price, p.currency);
  form.elements.image.value = p.image ?? '';
  fillOriginForm(form, p.origin);
  $('#origin-fields').open = !!p.origin;
  form.elements.title.focus();
}

async function saveProducts(next) {
  const form = $('#product-form');
  const r = await api('PUT', '/api/me/products', { products: next });
  if (!r.ok) {
    showError(form, t('farm.error', { message: r.json?.message ?? r.status }));
    return false;
  }
  showError(form, null);
  products = r.json.products;
  renderProducts();
  return true;
}

$('#product-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  const f = new FormData(form);
  const price = parseMoney(String(f.get('price')));
  if (price === null) return showError(form, t('farm.error', { message: t('farm.product_price') }));
  const product = { id: String(f.get('id')).trim(), title: String(f.get('title')).trim(), price, currency: 'CNY' };
  const image = String(f.get('image') || '').trim();
  if (image) product.image = image;
  product.origin = originFromForm(f);
  const existing = products.find((p) => p.id === product.id);
  // Fields this form does not edit (the origin record) are kept.
  const next = existing ? products.map((p) => (p.id === product.id ? { ...p, ...product } : p)) : [...products, product];
  if (await saveProducts(next)) {
    form.reset();
    $('#origin-fields').open = false;
    const ok = $('.form-ok', form);
    ok.hidden = false;
    setText(ok, t('farm.saved'));
  }
});

$('#show-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  const f = new FormData(form);
  const body = { title: String(f.get('title')).trim() };
  const startsAt = String(f.get('starts_at') || '');
  if (startsAt) body.scheduled_at = new Date(startsAt).getTime();
  const cover = String(f.get('cover') || '').trim();
  if (cover) body.cover = cover;
  const r = await api('POST', '/api/streams', body);
  if (!r.ok) return showError(form, t('farm.error', { message: r.json?.message ?? r.status }));
  showError(form, null);
  form.reset();
  toast(t('farm.created'));
  loadShows();
});

// A photo picked on the phone is uploaded (the session cookie signs it) and its URL fills the
// field beside the button.
for (const picker of document.querySelectorAll('input[type=file][data-photo-for]')) {
  picker.addEventListener('change', async () => {
    const field = picker.closest('.field');
    const status = $('.photo-status', field);
    const target = picker.form.elements[picker.dataset.photoFor];
    status.hidden = false;
    setText(status, t('photo.uploading'));
    try {
      const { url, width, height } = await uploadPhoto(picker.files[0], null);
      target.value = url;
      setText(status, t('photo.done', { w: width, h: height }));
    } catch (err) {
      setText(status, err.message);
    }
    picker.value = '';
  });
}

async function signOut(everywhere) {
  await api('POST', everywhere ? '/api/logout?everywhere=1' : '/api/logout');
  location.assign('/login');
}
$('#signout').addEventListener('click', () => signOut(false));
$('#signout-all').addEventListener('click', () => signOut(true));

function renderHello() {
  if (account) setText($('#hello'), t('farm.hello', { name: account.name, username: account.username }));
}

async function init() {
  initLanguageSwitch();
  const who = await me();
  if (!who || who.role !== 'farmer') return location.assign('/login?next=/farm');
  account = who.account;
  $('#farm').hidden = false;
  renderHello();
  onLanguageChange(() => { renderHello(); renderShows(); renderProducts(); });
  await Promise.all([loadShows(), loadProducts()]);
  setInterval(loadShows, 15_000);
}

init();
