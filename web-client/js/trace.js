// /trace/{code}: the public origin record behind a trace code (GET /api/trace/{code}), for a
// buyer who scanned the QR on a card or typed the code from a label. Phone first; everything
// from the server goes in as text (dom.js).
import { $, el, setChildren, streamIdFromPath } from './dom.js';
import { initLanguageSwitch, onLanguageChange, t } from './i18n.js';
import { formatMoney } from './money.js';
import { productImage } from './product_view.js';
import { originRecord } from './origin_view.js';

const TRACE_CODE = /^[A-Za-z0-9_-]{4,64}$/;
const code = streamIdFromPath();  // the second path segment, decoded
// loading | found | not_found | invalid | error; `record` the answer when found.
const view = { state: 'loading', record: null };
window.harvestTrace = view;  // read by the browser tests

async function load() {
  if (!TRACE_CODE.test(code)) {
    show('invalid');
    return;
  }
  show('loading');
  try {
    const res = await fetch(`/api/trace/${encodeURIComponent(code)}`);
    if (res.status === 404) return show('not_found');
    if (res.status === 400) return show('invalid');
    if (!res.ok) throw new Error(String(res.status));
    view.record = await res.json();
    show('found');
  } catch {
    show('error');
  }
}

function show(state) {
  view.state = state;
  render();
}

function render() {
  const main = $('#trace');
  main.dataset.state = view.state;
  document.title = `${t('trace.title')} · ${t('app.name')}`;
  if (view.state === 'found') return setChildren(main, recordView(view.record));
  if (view.state === 'loading') return setChildren(main, el('p', { class: 'trace-status muted' }, t('trace.loading')));
  const problem = {
    not_found: [t('trace.not_found', { code }), t('trace.not_found.hint')],
    invalid: [t('trace.invalid', { code }), ''],
    error: [t('trace.error'), ''],
  }[view.state];
  setChildren(main, el('section', { class: 'trace-problem panel' },
    el('div', { class: 'trace-problem-icon', 'aria-hidden': 'true' }, '?'),
    el('h1', { class: 'trace-problem-title' }, problem[0]),
    problem[1] ? el('p', { class: 'muted' }, problem[1]) : null,
    view.state === 'error' ? el('button', { class: 'btn btn-primary', type: 'button', on: { click: load } }, t('trace.retry')) : null,
    el('a', { class: 'btn', href: '/' }, t('trace.home'))));
}

function recordView(r) {
  const p = r.product || {};
  const s = r.stream || {};
  const live = s.state === 'live';
  return el('article', { class: 'trace-card' },
    el('div', { class: 'trace-photo' }, productImage(p.image, p.title, 'trace-image')),
    el('div', { class: 'trace-body' },
      el('p', { class: 'trace-kicker' }, t('trace.title')),
      el('h1', { class: 'trace-product' }, p.title || p.id || ''),
      Number.isInteger(p.price) ? el('p', { class: 'price trace-price' }, formatMoney(p.price, p.currency || 'CNY')) : null,
      el('div', { class: 'trace-record panel' }, originRecord(p.origin, { traceLink: false })),
      s.id ? el('section', { class: 'trace-show panel' },
        el('p', { class: 'trace-show-label muted' }, t('trace.sold_in')),
        el('div', { class: 'trace-show-row' },
          el('div', { class: 'trace-show-text' },
            el('span', { class: 'trace-show-title' }, s.title || s.id),
            s.farmer ? el('span', { class: 'muted' }, s.farmer) : null),
          el('span', { class: `badge ${live ? 'badge-live' : 'badge-offline'}` }, live ? t('stream.live') : t('stream.offline'))),
        el('a', { class: `btn ${live ? 'btn-buy' : 'btn-primary'} trace-watch`, href: `/watch/${encodeURIComponent(s.id)}` },
          live ? t('trace.watch.live') : t('trace.watch'))) : null));
}

initLanguageSwitch();
onLanguageChange(render);
load();
