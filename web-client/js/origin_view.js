// A product's origin record (docs/protocol.md "Origin records") as a buyer sees it: one short
// line on the card ("隰县 · 采摘于 9月12日"), the whole record on the product sheet and on the
// public /trace/{code} page. Every value goes in as text (dom.js), never as markup.
import { el } from './dom.js';
import { lang, t } from './i18n.js';

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function hasOrigin(origin) {
  if (!origin || typeof origin !== 'object') return false;
  const place = origin.place || {};
  return Boolean(origin.farm || place.county || place.township || place.village || origin.harvest_date ||
    origin.method || origin.certificates?.length || origin.trace_code);
}

// The place as typed, largest first: "隰县 黄土镇 上庄村".
export function placeText(place) {
  const p = place || {};
  return [p.county, p.township, p.village].filter(Boolean).join(' ');
}

// "9月12日" / "12 Sep"; the year too when it is not this year's ("2025年9月12日" / "12 Sep 2025")
// or when `withYear`. '' for anything but YYYY-MM-DD.
export function harvestDateText(date, { language = lang(), now = new Date(), withYear = false } = {}) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(date ?? ''));
  if (!m) return '';
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return '';
  const showYear = withYear || year !== now.getFullYear();
  if (language === 'zh-CN') return `${showYear ? `${year}年` : ''}${month}月${day}日`;
  return `${day} ${MONTHS_EN[month - 1]}${showYear ? ` ${year}` : ''}`;
}

// The card's line: the smallest useful place name (the county, as typed) and the harvest day;
// the farm when neither is known. '' when there is nothing to say.
export function originLine(origin, options = {}) {
  if (!hasOrigin(origin)) return '';
  const place = origin.place || {};
  const where = place.county || place.township || place.village || '';
  const date = harvestDateText(origin.harvest_date, options);
  const parts = [where, date ? t('origin.picked', { date }) : ''].filter(Boolean);
  if (!parts.length && origin.farm) parts.push(origin.farm);
  return parts.join(' · ');
}

export function traceUrl(code) {
  return `/trace/${encodeURIComponent(code)}`;
}

// The whole record: a definition list of what the farmer said, certificates as badges, and
// (`traceLink`) a link to the public trace page when there is a code.
export function originRecord(origin, { traceLink = true } = {}) {
  const o = origin || {};
  const rows = [];
  const row = (key, value, cls = '') => {
    if (value === '' || value === null || value === undefined) return;
    rows.push(el('div', { class: `origin-row ${cls}`.trim() }, el('dt', {}, t(key)), el('dd', {}, value)));
  };
  row('origin.farm', o.farm);
  row('origin.place', placeText(o.place));
  row('origin.harvest', harvestDateText(o.harvest_date, { withYear: true }));
  row('origin.method', o.method);
  if (Array.isArray(o.certificates) && o.certificates.length)
    row('origin.certificates', el('span', { class: 'cert-list' },
      o.certificates.map((c) => el('span', { class: 'cert-badge' }, String(c)))), 'origin-certs');
  if (o.trace_code) row('origin.trace_code', el('code', { class: 'trace-code' }, o.trace_code));
  return el('section', { class: 'origin-record', 'aria-label': t('origin.title') },
    el('h3', { class: 'origin-title' }, t('origin.title')),
    el('dl', { class: 'origin-list' }, rows),
    traceLink && o.trace_code
      ? el('a', { class: 'origin-trace-link', href: traceUrl(o.trace_code) }, `${t('origin.view_trace')} ›`) : null,
    el('p', { class: 'origin-note muted' }, t('origin.by_seller')));
}
