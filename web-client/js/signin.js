// /login (a farmer signs in) and /join/{code} (a farmer accepts the admin's invite and picks a
// username and password). Either way the server sets the session cookie; then "My farm".
import { $, setText } from './dom.js';
import { initLanguageSwitch, t } from './i18n.js';
import { api } from './account_api.js';
import './farm_strings.js';

function showError(form, text) {
  const err = $('.form-error', form);
  err.hidden = false;
  setText(err, text);
}

function signinError(r) {
  if (r.status === 401) return t('signin.bad');
  if (r.status === 403) return t('signin.disabled');
  if (r.status === 429) return t('signin.throttled', { s: r.retryAfter || 60 });
  if (r.status === 503) return t('signin.busy');
  return t('signin.failed', { status: r.status });
}

function afterSignin() {
  const next = new URLSearchParams(location.search).get('next');
  // Only a path on this site: never an open redirect.
  location.assign(next && next.startsWith('/') && !next.startsWith('//') ? next : '/farm');
}

async function initSignin() {
  const form = $('#signin-form');
  form.hidden = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const button = $('button[type=submit]', form);
    button.disabled = true;
    const r = await api('POST', '/api/login', { username: String(f.get('username')).trim(), password: String(f.get('password')) });
    button.disabled = false;
    if (r.ok) afterSignin();
    else showError(form, signinError(r));
  });
}

async function initJoin(code) {
  const invite = await api('GET', `/api/invites/${encodeURIComponent(code)}`);
  if (!invite.ok) {
    $('#join-invalid').hidden = false;
    return;
  }
  const form = $('#join-form');
  form.hidden = false;
  setText($('.join-hello', form), t('join.hello', { name: invite.json.name }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const r = await api('POST', `/api/invites/${encodeURIComponent(code)}/accept`,
                        { username: String(f.get('username')).trim(), password: String(f.get('password')) });
    if (r.ok) return afterSignin();
    if (r.status === 409) return showError(form, t('join.taken'));
    if (r.status === 404) {
      form.hidden = true;
      $('#join-invalid').hidden = false;
      return;
    }
    showError(form, r.json?.message ?? t('signin.failed', { status: r.status }));
  });
}

initLanguageSwitch();
const join = /^\/join\/([0-9a-f]+)$/.exec(location.pathname);
if (join) initJoin(join[1]);
else initSignin();
