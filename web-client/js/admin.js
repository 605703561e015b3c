// /admin: the county platform's operator (the admin token) creates farmer accounts or invite
// links, and disables or enables accounts. The token stays in this tab (sessionStorage).
import { $, el, setChildren, setText } from './dom.js';
import { initLanguageSwitch, onLanguageChange, t, lang } from './i18n.js';
import './farm_strings.js';

const KEY = 'harvest.admin_token';
let token = sessionStorage.getItem(KEY) ?? '';
let farmers = [];

async function call(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    return { ok: false, status: 0, json: null };
  }
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  return { ok: res.ok, status: res.status, json };
}

function showError(form, text) {
  const err = $('.form-error', form);
  err.hidden = !text;
  setText(err, text ?? '');
}

function render() {
  const list = $('#farmers');
  if (!farmers.length) return setChildren(list, el('li', { class: 'empty' }, t('admin.none')));
  setChildren(list, farmers.map((f) => el('li', { class: `farmer-item${f.disabled ? ' is-disabled' : ''}`, dataset: { farmerId: f.id } },
    el('div', { class: 'show-head' },
      el('div', {},
        el('div', { class: 'show-title' }, f.name),
        el('div', { class: 'muted small' }, `${f.username} · ${t('admin.shows', { n: f.shows ?? 0 })}${f.disabled ? ' · ' + t('admin.disabled') : ''}`))),
    el('div', { class: 'show-actions' },
      el('button', { class: `btn btn-sm${f.disabled ? '' : ' btn-danger'}`, type: 'button',
                     on: { click: () => toggle(f) } }, f.disabled ? t('admin.enable') : t('admin.disable'))))));
}

async function load() {
  const r = await call('GET', '/api/farmers');
  if (!r.ok) {
    $('#admin').hidden = true;
    $('#token-form').hidden = false;
    showError($('#token-form'), r.status === 401 || r.status === 403 ? t('signin.bad') : t('signin.failed', { status: r.status }));
    return false;
  }
  farmers = r.json.farmers;
  $('#token-form').hidden = true;
  $('#admin').hidden = false;
  render();
  return true;
}

async function toggle(f) {
  const r = await call('POST', `/api/farmers/${encodeURIComponent(f.id)}/${f.disabled ? 'enable' : 'disable'}`);
  if (r.ok) load();
}

$('#token-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  token = String(new FormData(e.target).get('token'));
  if (await load()) sessionStorage.setItem(KEY, token);
});

$('#farmer-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  const f = new FormData(form);
  const r = await call('POST', '/api/farmers', { name: String(f.get('name')).trim(), username: String(f.get('username')).trim(),
                                                 password: String(f.get('password')) });
  if (!r.ok) return showError(form, r.status === 409 ? t('join.taken') : (r.json?.message ?? String(r.status)));
  showError(form, null);
  form.reset();
  load();
});

$('#invite-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  const f = new FormData(form);
  const r = await call('POST', '/api/invites', { name: String(f.get('name')).trim(), ttl_hours: Number(f.get('ttl_hours')) });
  if (!r.ok) return showError(form, r.json?.message ?? String(r.status));
  showError(form, null);
  const url = `${location.origin}${r.json.path}`;
  $('#invite-made').hidden = false;
  setText($('#invite-text'), t('admin.invite_made', { name: r.json.name, when: new Date(r.json.expires_at).toLocaleString(lang()) }));
  $('#invite-link').href = url;
  setText($('#invite-link'), url);
});

initLanguageSwitch();
onLanguageChange(render);
if (token) load();
