// The farmer's own dashboard (/dashboard): totals, their shows and products
// (GET /api/me/dashboard), and one show in detail (/dashboard?show=ID: GET
// /api/streams/{id}/report) with a chart over its minutes. Every server string goes in as text.
import { $, el, setChildren } from './dom.js';
import { t, lang, initLanguageSwitch, onLanguageChange, formatNumber } from './i18n.js';
import { formatMoney } from './money.js';
import { minuteChart } from './dashboard_chart.js';

const view = $('#dash-view');
let state = { dashboard: null, report: null, showId: new URLSearchParams(location.search).get('show') };

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  return { status: res.status, body };
}

function percent(conversion) {
  if (conversion === null || conversion === undefined) return '—';
  return `${(conversion * 100).toFixed(conversion < 0.1 ? 1 : 0)}%`;
}

function when(ms) {
  if (!ms) return '';
  return new Date(ms).toLocaleString(lang(), { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function showDate(s) {
  return when(s.live_since ?? s.scheduled_at ?? s.ended_at ?? s.created_at);
}

function stat(label, value, { big = false, id } = {}) {
  return el('div', { class: 'dash-stat' + (big ? ' dash-stat-big' : '') },
    el('span', { class: 'dash-stat-label', text: label }),
    el('strong', { class: 'dash-stat-value num', text: value, dataset: id ? { stat: id } : undefined }));
}

function phaseBadge(phase) {
  return el('span', { class: `badge dash-phase dash-phase-${phase}`, text: t(`dash.phase.${phase}`) });
}

function table(headers, rows, className = '') {
  return el('div', { class: 'dash-table-wrap' },
    el('table', { class: `dash-table ${className}` },
      el('thead', {}, el('tr', {}, headers.map((h, i) => el('th', { class: i ? 'num' : '', text: h })))),
      el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c, i) => el('td', { class: i ? 'num' : '' }, c)))))));
}

function renderOverview(d) {
  const tot = d.totals;
  const shows = d.shows.map((s) => el('li', {},
    el('a', { class: 'dash-show', href: `/dashboard?show=${encodeURIComponent(s.id)}` },
      el('div', { class: 'dash-show-head' },
        el('span', { class: 'dash-show-title', text: s.title }), phaseBadge(s.phase)),
      el('div', { class: 'dash-show-meta muted' },
        el('span', { text: showDate(s) }),
        s.farmer && d.admin ? el('span', { text: s.farmer }) : null),
      el('div', { class: 'dash-show-figures' },
        el('span', { class: 'price', text: formatMoney(s.gmv, d.currency) }),
        el('span', { text: t('dash.n_orders', { n: formatNumber(s.orders) }) }),
        el('span', { text: `${t('dash.conversion')} ${percent(s.conversion)}` }),
        el('span', { text: t('dash.n_peak', { n: formatNumber(s.peak_viewers) }) })))));
  const products = d.products.map((p) => [p.title ?? p.product_id, formatMoney(p.gmv, d.currency),
    formatNumber(p.orders), formatNumber(p.units), formatNumber(p.shows)]);
  return [
    el('h1', { class: 'dash-title', text: t('dash.title') }),
    el('section', { class: 'dash-stats', 'aria-label': t('dash.totals') },
      stat(t('dash.gmv'), formatMoney(tot.gmv, d.currency), { big: true, id: 'gmv' }),
      stat(t('dash.orders'), formatNumber(tot.orders), { id: 'orders' }),
      stat(t('dash.conversion'), percent(tot.conversion), { id: 'conversion' }),
      stat(t('dash.peak_viewers'), formatNumber(tot.peak_viewers), { id: 'peak' })),
    el('section', { class: 'panel' },
      el('h2', { text: t('dash.shows') }),
      shows.length ? el('ul', { class: 'dash-shows' }, shows) : el('p', { class: 'empty', text: t('dash.no_shows') })),
    el('section', { class: 'panel' },
      el('h2', { text: t('dash.products') }),
      products.length
        ? table([t('dash.product'), t('dash.gmv'), t('dash.orders'), t('dash.units'), t('dash.shows_n')], products)
        : el('p', { class: 'empty', text: t('dash.no_sales') })),
  ];
}

// The chart is drawn at its box's width: redrawn (debounced) when the window resizes.
let redrawChart = null;
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => redrawChart?.(), 150);
});

function chartSection(report) {
  const box = el('div', { class: 'dash-chart-box' });
  const draw = () => {
    const width = Math.max(260, Math.floor(box.clientWidth || 340));
    setChildren(box, report.by_minute.length
      ? minuteChart(report.by_minute, width, { gmv: t('dash.gmv'), orders: t('dash.orders'), title: t('dash.chart') })
      : el('p', { class: 'empty', text: t('dash.no_minutes') }));
  };
  requestAnimationFrame(draw);
  redrawChart = draw;  // the one resize listener draws the chart on screen now
  return el('section', { class: 'panel' },
    el('h2', { text: t('dash.chart') }),
    box,
    el('p', { class: 'dash-legend muted small' },
      el('span', { class: 'key key-bar' }), el('span', { text: t('dash.legend.gmv') }),
      el('span', { class: 'key key-line' }), el('span', { text: t('dash.legend.viewers') })));
}

// What a card exposure sold: by the buyers' video time (what was on their screen) when any
// buy of it carried one, else the live buys while it was the room's card (server clock).
function sold(e) {
  return e.by_media_time.orders > 0 ? e.by_media_time : e.by_server_time;
}

function exposureRows(report, currency) {
  return report.by_exposure
    .filter((e) => e.by_media_time.orders > 0 || e.by_server_time.orders > 0)
    .map((e) => [
      e.title ?? e.product_id,
      new Date(e.shown_pdt_ms).toLocaleTimeString(lang(), { hour: '2-digit', minute: '2-digit', second: '2-digit' }),
      e.duration_s === null ? t('dash.exposure.open') : t('dash.seconds', { n: Math.round(e.duration_s) }),
      formatNumber(sold(e).orders),
      formatMoney(sold(e).gmv, currency),
    ]);
}

function renderShow(show, report, currency) {
  const title = show ? show.title : report.stream;
  const products = [...report.by_product].sort((a, b) => b.gmv - a.gmv).map((p) => [p.title ?? p.product_id, formatMoney(p.gmv, currency),
    formatNumber(p.orders), formatNumber(p.units), formatNumber(p.buyers)]);
  const exposures = exposureRows(report, currency);
  return [
    el('a', { class: 'dash-back', href: '/dashboard', text: `← ${t('dash.back')}` }),
    el('div', { class: 'dash-show-heading' },
      el('h1', { class: 'dash-title', text: title }), show ? phaseBadge(show.phase) : null),
    show ? el('p', { class: 'muted small', text: showDate(show) }) : null,
    el('section', { class: 'dash-stats dash-stats-6', 'aria-label': t('dash.totals') },
      stat(t('dash.gmv'), formatMoney(report.gmv, currency), { big: true, id: 'gmv' }),
      stat(t('dash.orders'), formatNumber(report.orders), { id: 'orders' }),
      stat(t('dash.units'), formatNumber(report.units), { id: 'units' }),
      stat(t('dash.conversion'), percent(report.conversion), { id: 'conversion' }),
      stat(t('dash.buyers'), formatNumber(report.buyers), { id: 'buyers' }),
      stat(t('dash.unique_viewers'), formatNumber(report.unique_viewers), { id: 'unique' }),
      stat(t('dash.peak_viewers'), formatNumber(report.peak_viewers), { id: 'peak' })),
    chartSection(report),
    el('section', { class: 'panel' },
      el('h2', { text: t('dash.products') }),
      products.length
        ? table([t('dash.product'), t('dash.gmv'), t('dash.orders'), t('dash.units'), t('dash.buyers')], products)
        : el('p', { class: 'empty', text: t('dash.no_sales') })),
    el('section', { class: 'panel' },
      el('h2', { text: t('dash.exposures') }),
      el('p', { class: 'muted small', text: t('dash.exposures.help') }),
      exposures.length
        ? table([t('dash.product'), t('dash.exposure.shown'), t('dash.exposure.duration'), t('dash.orders'), t('dash.gmv')],
          exposures, 'dash-exposures')
        : el('p', { class: 'empty', text: t('dash.no_exposures') })),
  ];
}

function render() {
  const d = state.dashboard;
  if (!d) return;
  document.title = `${t('dash.title')} · ${t('app.name')}`;
  if (state.showId && state.report) {
    const show = d.shows.find((s) => s.id === state.showId);
    setChildren(view, renderShow(show, state.report, d.currency));
  } else {
    setChildren(view, renderOverview(d));
  }
}

function fail(text) {
  const box = $('#dash-error');
  box.textContent = text;
  box.hidden = false;
}

async function load() {
  initLanguageSwitch();
  onLanguageChange(render);
  const me = await getJson('/api/me');
  $('#dash-loading').hidden = true;
  if (me.status === 401) {
    $('#dash-signin').hidden = false;
    return;
  }
  if (me.status !== 200) return fail(t('dash.error', { reason: me.body.message ?? me.status }));
  const dash = await getJson('/api/me/dashboard');
  if (dash.status !== 200) return fail(t('dash.error', { reason: dash.body.message ?? dash.status }));
  state.dashboard = { ...dash.body, admin: me.body.role === 'admin' };
  if (state.showId) {
    const rep = await getJson(`/api/streams/${encodeURIComponent(state.showId)}/report`);
    if (rep.status !== 200) {
      state.showId = null;
      fail(t('dash.show_missing'));
    } else {
      state.report = rep.body;
    }
  }
  render();
}

load().catch((e) => fail(t('dash.error', { reason: e.message })));
