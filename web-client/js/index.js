// The home page: from GET /api/streams, the shows live now, then the upcoming ones with their
// start time, then past shows (their replays); creating a stream (admin token).
import { $, el, setChildren, setText } from './dom.js';
import { formatNumber, initLanguageSwitch, onLanguageChange, t, lang, addStrings } from './i18n.js';

addStrings({
  en: { 'index.section.live': 'Live now', 'index.section.upcoming': 'Coming up', 'index.section.past': 'Past shows and replays',
        'index.upcoming': 'UPCOMING', 'index.starts': 'Starts {when}', 'index.ended': 'ENDED',
        'index.farmer_signin': 'Farmers: sign in', 'index.none_live': 'Nobody is live right now.' },
  'zh-CN': { 'index.section.live': '正在直播', 'index.section.upcoming': '直播预告', 'index.section.past': '往期直播 · 回放',
             'index.upcoming': '预告', 'index.starts': '{when} 开播', 'index.ended': '已结束',
             'index.farmer_signin': '农户登录', 'index.none_live': '现在没有人在直播。' },
});

let streams = null;
let loadError = false;

async function load() {
  try {
    const res = await fetch('/api/streams', { cache: 'no-store' });
    if (!res.ok) throw new Error(String(res.status));
    const body = await res.json();
    streams = Array.isArray(body) ? body : body.streams || [];
    loadError = false;
  } catch {
    loadError = streams === null;
  }
  render();
}

function when(ms) {
  return new Date(ms).toLocaleString(lang(), { month: 'short', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

function badge(s) {
  if (s.phase === 'live') return el('span', { class: 'badge badge-live' }, t('stream.live'));
  if (s.phase === 'upcoming') return el('span', { class: 'badge badge-upcoming' }, t('index.upcoming'));
  if (s.phase === 'ended') return el('span', { class: 'badge badge-offline' }, t('index.ended'));
  return el('span', { class: 'badge badge-offline' }, t('stream.offline'));
}

function streamCard(s) {
  const live = s.phase === 'live';
  const id = encodeURIComponent(s.id);
  const initial = [...(s.farmer || s.title || '·')][0];
  const cover = s.cover ? { style: `background-image: url("${encodeURI(s.cover)}")` } : {};
  return el('li', { class: `stream-card${live ? ' is-live' : ''}${s.cover ? ' has-cover' : ''}`, dataset: { streamId: s.id, phase: s.phase } },
    el('a', { class: 'stream-cover', href: `/watch/${id}`, ...cover },
      s.cover ? null : el('span', { class: 'stream-initial', 'aria-hidden': 'true' }, initial),
      badge(s),
      Number.isInteger(s.viewers) && live ? el('span', { class: 'stream-viewers num' }, t('index.viewers', { n: formatNumber(s.viewers) })) : null),
    el('div', { class: 'stream-body' },
      el('a', { class: 'stream-title', href: `/watch/${id}` }, s.title ?? s.id),
      el('div', { class: 'stream-farmer muted' }, s.farmer ?? ''),
      s.phase === 'upcoming' && s.scheduled_at ? el('div', { class: 'stream-when' }, t('index.starts', { when: when(s.scheduled_at) })) : null,
      el('div', { class: 'stream-actions' },
        el('a', { class: 'btn btn-sm btn-primary', href: `/watch/${id}` }, t('index.watch')),
        s.phase === 'ended' ? null : el('a', { class: 'btn btn-sm', href: `/host/${id}` }, t('index.host')),
        s.phase === 'ended' ? null : el('a', { class: 'btn btn-sm', href: `/broadcast/${id}` }, t('index.broadcast')))));
}

// The server lists live shows first (most watched first), then upcoming (soonest first), then
// the rest (newest first).
function section(key, list, id) {
  if (!list.length) return null;
  return el('li', { class: 'stream-section', id },
    el('h2', {}, t(key)),
    el('ul', { class: 'stream-list' }, list.map(streamCard)));
}

function render() {
  const list = $('#stream-list');
  if (streams === null) {
    setChildren(list, el('li', { class: 'empty' }, loadError ? t('index.error') : t('index.loading')));
    return;
  }
  if (!streams.length) {
    setChildren(list, el('li', { class: 'empty' }, t('index.empty')));
    return;
  }
  const live = streams.filter((s) => s.phase === 'live');
  const upcoming = streams.filter((s) => s.phase === 'upcoming');
  const past = streams.filter((s) => s.phase !== 'live' && s.phase !== 'upcoming');
  setChildren(list,
    live.length ? section('index.section.live', live, 'section-live') : el('li', { class: 'empty' }, t('index.none_live')),
    section('index.section.upcoming', upcoming, 'section-upcoming'),
    section('index.section.past', past, 'section-past'));
}

$('#create-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const err = $('#create-error');
  let res;
  try {
    res = await fetch('/api/streams', {
      method: 'POST',
      headers: { authorization: `Bearer ${f.get('admin')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: String(f.get('title')), farmer: String(f.get('farmer') || '') }),
    });
  } catch {
    res = { ok: false, status: 0 };
  }
  if (!res.ok) {
    err.hidden = false;
    setText(err, t('index.create.failed', { status: res.status }));
    return;
  }
  err.hidden = true;
  const s = await res.json();
  e.target.hidden = true;
  $('#created').hidden = false;
  setText($('#created-token'), s.host_token);
  setText($('#created-key'), s.stream_key);
  setText($('#created-rtmp'), s.rtmp_url ?? '');
  // The token travels in the fragment, which is never sent to a server; the host page
  // moves it into sessionStorage and removes it from the address bar.
  $('#created-host').href = `/host/${encodeURIComponent(s.id)}#token=${encodeURIComponent(s.host_token)}`;
  $('#created-watch').href = `/watch/${encodeURIComponent(s.id)}`;
  load();
});

// With --tls-self-signed the server says how a phone comes to trust it (GET /api/tls).
async function showTlsHelp() {
  const info = await fetch('/api/tls', { cache: 'no-store' }).then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (!info?.self_signed) return;
  $('#tls-ca').href = info.ca_url;
  setText($('#tls-fingerprint'), info.ca_fingerprint_sha256);
  $('#tls-help').hidden = false;
}

initLanguageSwitch();
onLanguageChange(render);
render();
load();
showTlsHelp();
setInterval(load, 10_000);
