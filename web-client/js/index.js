// The home page: live streams from GET /api/streams, and creating a stream (admin token).
import { $, el, setChildren, setText } from './dom.js';
import { formatNumber, initLanguageSwitch, onLanguageChange, t } from './i18n.js';

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

function streamCard(s) {
  const live = s.state === 'live';
  const id = encodeURIComponent(s.id);
  const initial = [...(s.farmer || s.title || '·')][0];
  return el('li', { class: `stream-card${live ? ' is-live' : ''}`, dataset: { streamId: s.id } },
    el('a', { class: 'stream-cover', href: `/watch/${id}` },
      el('span', { class: 'stream-initial', 'aria-hidden': 'true' }, initial),
      el('span', { class: `badge ${live ? 'badge-live' : 'badge-offline'}` }, live ? t('stream.live') : t('stream.offline')),
      Number.isInteger(s.viewers) && live ? el('span', { class: 'stream-viewers num' }, t('index.viewers', { n: formatNumber(s.viewers) })) : null),
    el('div', { class: 'stream-body' },
      el('a', { class: 'stream-title', href: `/watch/${id}` }, s.title ?? s.id),
      el('div', { class: 'stream-farmer muted' }, s.farmer ?? ''),
      el('div', { class: 'stream-actions' },
        el('a', { class: 'btn btn-sm btn-primary', href: `/watch/${id}` }, t('index.watch')),
        el('a', { class: 'btn btn-sm', href: `/host/${id}` }, t('index.host')),
        el('a', { class: 'btn btn-sm', href: `/broadcast/${id}` }, t('index.broadcast')))));
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
  const sorted = [...streams].sort((a, b) => (b.state === 'live') - (a.state === 'live') || (b.viewers ?? 0) - (a.viewers ?? 0));
  setChildren(list, sorted.map(streamCard));
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
