// The farmer's side of the API: JSON calls that carry the session cookie (same origin), with
// the server's error answer kept for the page to show.
export async function api(method, path, body) {
  const init = { method, headers: {}, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, json: null, retryAfter: 0 };
  }
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  return { ok: res.ok, status: res.status, json, retryAfter: Number(res.headers.get('retry-after') || 0) };
}

// The signed-in farmer ({role, account}) or null.
export async function me() {
  const r = await api('GET', '/api/me');
  return r.ok ? r.json : null;
}
