// Helpers for the accounts suite: a farmer's browser as cookies over real HTTP.
import { ADMIN } from '../../commerce/js/lib.mjs';

// Sends a request carrying `cookie` (a "name=value" pair) and/or a bearer token.
export async function call(server, method, path, { body, cookie, token, raw } = {}) {
  const headers = {};
  if (cookie) headers.cookie = cookie;
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(server.url(path), { method, headers, redirect: 'manual',
                                            body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, text, json, headers: r.headers };
}

export async function createFarmer(server, username, password = 'correct horse 1', name = `农户 ${username}`) {
  const r = await call(server, 'POST', '/api/farmers', { token: ADMIN, body: { username, password, name } });
  if (r.status !== 201) throw new Error(`create farmer ${username}: ${r.status} ${r.text}`);
  return r.json;
}

// The session cookie pair from a response's Set-Cookie ("" when none).
export function sessionCookie(response) {
  const set = response.headers.get('set-cookie') ?? '';
  const m = /hl_session=([^;]*)/.exec(set);
  return m && m[1] ? `hl_session=${m[1]}` : '';
}

export async function login(server, username, password = 'correct horse 1') {
  const r = await call(server, 'POST', '/api/login', { body: { username, password } });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
  return sessionCookie(r);
}
