// Farmer accounts end to end against the real server: the admin creates farmers and invite
// links; sign-in (argon2id), the session cookie, sign out here and everywhere, disabling,
// rate limiting, and what one farmer may not touch of another's.
import { Server, ADMIN, run, assert, eq } from '../../commerce/js/lib.mjs';
import { call, createFarmer, login, sessionCookie } from './farmers.mjs';

run('accounts', async (t) => {
  const server = await Server.start();
  t.defer(() => server.stop());

  // --- the admin creates farmers; bad input stores nothing ---
  const wang = await createFarmer(server, 'Wang.Pear', 'correct horse 1', '隰县梨园 王大姐');
  eq(wang.username, 'wang.pear', 'usernames are lower case');
  eq((await call(server, 'POST', '/api/farmers', { token: ADMIN, body: { username: 'wang.pear', password: 'another pass 2', name: 'x' } })).status,
     409, 'a duplicate username');
  eq((await call(server, 'POST', '/api/farmers', { token: ADMIN, body: { username: 'WANG.PEAR', password: 'another pass 2', name: 'x' } })).status,
     409, 'a duplicate username in other case');
  for (const bad of [{ username: 'ab', password: 'long enough 1', name: 'n' }, { username: 'li/../x', password: 'long enough 1', name: 'n' },
                     { username: 'li', password: 'short', name: 'n' }, { username: 'liming', password: 'long enough 1', name: '' },
                     { username: 'liming', password: 'long enough 1', name: 'a\u202Eb' }]) {
    eq((await call(server, 'POST', '/api/farmers', { token: ADMIN, body: bad })).status, 400, 'invalid farmer ' + JSON.stringify(bad));
  }
  eq((await call(server, 'POST', '/api/farmers', { raw: '{"username":' , token: ADMIN })).status, 400, 'malformed JSON');
  eq((await call(server, 'POST', '/api/farmers', { body: { username: 'sneaky', password: 'long enough 1', name: 'n' } })).status,
     401, 'creating a farmer without the admin token');
  const li = await createFarmer(server, 'li-crab', 'crab season 9', '宿迁 李大哥');
  const list = await call(server, 'GET', '/api/farmers', { token: ADMIN });
  eq(list.json.farmers.length, 2, 'two farmers and nothing else stored');
  assert(!list.text.includes('argon2'), 'no password hash leaves the server');

  // --- sign-in: wrong password and unknown user get the same answer ---
  const wrong = await call(server, 'POST', '/api/login', { body: { username: 'wang.pear', password: 'not the password' } });
  const unknown = await call(server, 'POST', '/api/login', { body: { username: 'nobody.here', password: 'not the password' } });
  eq(wrong.status, 401, 'wrong password');
  eq(unknown.status, 401, 'unknown user');
  eq(wrong.text, unknown.text, 'the same body for a wrong password and an unknown user');
  eq(sessionCookie(wrong), '', 'no cookie for a failed sign-in');

  const ok = await call(server, 'POST', '/api/login', { body: { username: 'WANG.pear', password: 'correct horse 1' } });
  eq(ok.status, 200, 'sign-in');
  const setCookie = ok.headers.get('set-cookie');
  assert(/HttpOnly/i.test(setCookie) && /SameSite=Lax/i.test(setCookie) && /Path=\//.test(setCookie), 'cookie flags: ' + setCookie);
  assert(!/Secure/i.test(setCookie), 'no Secure flag on plain HTTP (the browser would drop the cookie)');
  const wangCookie = sessionCookie(ok);
  eq((await call(server, 'GET', '/api/me', { cookie: wangCookie })).json.account.id, wang.id, '/api/me names the farmer');
  eq((await call(server, 'GET', '/api/me')).status, 401, '/api/me without a cookie');
  eq((await call(server, 'GET', '/api/me', { cookie: 'hl_session=' + 'f'.repeat(64) })).status, 401, 'a forged session');

  // --- a farmer's own shows; another farmer's are out of reach ---
  const show = await call(server, 'POST', '/api/streams', { cookie: wangCookie,
    body: { title: '玉露香梨 采摘直播', scheduled_at: Date.now() + 3600_000 } });
  eq(show.status, 201, 'a farmer creates a show');
  eq(show.json.farmer, '隰县梨园 王大姐', 'the show carries the farmer\'s name');
  assert(show.json.stream_key && show.json.rtmp_url && show.json.whip_url && show.json.host_token, 'ingest details for the farmer');
  eq(show.json.phase, 'upcoming', 'a scheduled show is upcoming');
  const liCookie = await login(server, 'li-crab', 'crab season 9');
  const id = show.json.id;
  for (const [method, path, body] of [['PATCH', `/api/streams/${id}`, { title: 'taken over' }],
                                      ['POST', `/api/streams/${id}/key`, undefined],
                                      ['POST', `/api/streams/${id}/host_token`, undefined],
                                      ['POST', `/api/streams/${id}/end`, undefined],
                                      ['PUT', `/api/streams/${id}/products`, { products: [] }],
                                      ['GET', `/api/streams/${id}/orders`, undefined],
                                      ['GET', `/api/streams/${id}/report`, undefined]]) {
    const r = await call(server, method, path, { cookie: liCookie, body });
    eq(r.status, 403, `another farmer: ${method} ${path}`);
  }
  const liView = await call(server, 'GET', `/api/streams/${id}`, { cookie: liCookie });
  assert(!('stream_key' in liView.json), 'another farmer does not see the key');
  eq((await call(server, 'GET', '/api/me/streams', { cookie: liCookie })).json.streams.length, 0, 'li has no shows');
  eq((await call(server, 'GET', '/api/me/streams', { cookie: wangCookie })).json.streams[0].stream_key, show.json.stream_key,
     'wang sees their own key');
  eq((await call(server, 'GET', `/api/streams/${id}`)).json.title, '玉露香梨 采摘直播', 'the show is unchanged');
  // The show's host token may run the show but not own it.
  eq((await call(server, 'POST', `/api/streams/${id}/key`, { token: show.json.host_token })).status, 403, 'a host token cannot rotate the key');
  const patched = await call(server, 'PATCH', `/api/streams/${id}`, { cookie: wangCookie, body: { scheduled_at: null, cover: 'javascript:alert(1)' } });
  eq(patched.status, 400, 'a cover must be an image URL');
  eq((await call(server, 'PATCH', `/api/streams/${id}`, { cookie: wangCookie, body: { scheduled_at: 12 } })).status, 400, 'a start time in 1970');

  // --- the farmer's catalog is theirs ---
  eq((await call(server, 'PUT', '/api/me/products', { cookie: wangCookie,
    body: { products: [{ id: 'pear', title: '玉露香梨 5斤', price: 3990 }] } })).status, 200, 'a farmer stores a catalog');
  eq((await call(server, 'GET', '/api/me/products', { cookie: liCookie })).json.products.length, 0, 'li does not see wang\'s catalog');
  eq((await call(server, 'PUT', '/api/me/products', { cookie: wangCookie,
    body: { products: [{ id: 'pear', title: 'x', price: -5 }] } })).status, 400, 'a negative price');
  eq((await call(server, 'GET', '/api/me/products', { cookie: wangCookie })).json.products[0].price, 3990, 'the catalog is unchanged');
  eq((await call(server, 'PUT', '/api/me/products', { cookie: wangCookie,
    body: { products: [{ id: 'pear', title: '玉露香梨 5斤', price: 3990, origin: { harvest_date: '2026-02-30' } }] } })).status, 400,
     'an impossible harvest date');
  // An origin record in the farmer's catalog: its trace page answers before the product is in any show.
  const traced = await call(server, 'PUT', '/api/me/products', { cookie: wangCookie,
    body: { products: [{ id: 'pear', title: '玉露香梨 5斤', price: 3990,
                         origin: { farm: '隰县梨园', place: { county: '隰县' }, harvest_date: '2026-09-12', trace_code: 'SX-WANG-0001' } }] } });
  eq(traced.status, 200, 'a catalog product with an origin');
  eq(traced.json.products[0].origin.place.county, '隰县', 'the origin is kept');
  const trace = await call(server, 'GET', '/api/trace/SX-WANG-0001');
  eq(trace.status, 200, 'the trace code is found in the farmer\'s catalog');
  eq(trace.json.product.origin.farm, '隰县梨园', 'with its record');
  eq(trace.json.stream, null, 'and no show yet');

  // --- sign out here, and everywhere ---
  const second = await login(server, 'wang.pear');
  const out = await call(server, 'POST', '/api/logout', { cookie: wangCookie });
  eq(out.status, 200, 'sign out');
  assert(/Max-Age=0/.test(out.headers.get('set-cookie')), 'the cookie is cleared');
  eq((await call(server, 'GET', '/api/me', { cookie: wangCookie })).status, 401, 'the signed-out session is gone');
  eq((await call(server, 'GET', '/api/me', { cookie: second })).status, 200, 'the other session still works');
  const third = await login(server, 'wang.pear');
  eq((await call(server, 'POST', '/api/logout?everywhere=1', { cookie: third })).status, 200, 'sign out everywhere');
  eq((await call(server, 'GET', '/api/me', { cookie: second })).status, 401, 'every session is gone');

  // --- the admin disables an account ---
  eq((await call(server, 'POST', `/api/farmers/${li.id}/disable`, { token: ADMIN })).status, 200, 'disable');
  eq((await call(server, 'GET', '/api/me', { cookie: liCookie })).status, 401, 'a disabled farmer is signed out');
  eq((await call(server, 'POST', '/api/login', { body: { username: 'li-crab', password: 'crab season 9' } })).status, 403,
     'a disabled farmer cannot sign in');
  eq((await call(server, 'POST', `/api/farmers/${li.id}/enable`, { token: ADMIN })).status, 200, 'enable');
  await login(server, 'li-crab', 'crab season 9');

  // --- invites: one use, then gone ---
  const inv = await call(server, 'POST', '/api/invites', { token: ADMIN, body: { name: '重庆 张姐', ttl_hours: 48 } });
  eq(inv.status, 201, 'an invite');
  assert(inv.json.path === `/join/${inv.json.code}`, 'the invite link');
  eq((await call(server, 'GET', `/api/invites/${inv.json.code}`)).json.name, '重庆 张姐', 'the invite names the farmer');
  eq((await call(server, 'POST', `/api/invites/${inv.json.code}/accept`, { body: { username: 'wang.pear', password: 'long enough 1' } })).status,
     409, 'an invite cannot take a used username');
  const joined = await call(server, 'POST', `/api/invites/${inv.json.code}/accept`, { body: { username: 'zhang', password: 'chongqing 88' } });
  eq(joined.status, 201, 'accepting an invite');
  eq((await call(server, 'GET', '/api/me', { cookie: sessionCookie(joined) })).json.account.name, '重庆 张姐', 'signed in as the invited farmer');
  eq((await call(server, 'POST', `/api/invites/${inv.json.code}/accept`, { body: { username: 'zhang2', password: 'chongqing 88' } })).status,
     404, 'an invite works once');
  eq((await call(server, 'GET', '/api/invites/' + '0'.repeat(32))).status, 404, 'an unknown invite');

  // --- sign-in is rate limited per account ---
  for (let i = 0; i < 5; i++)
    eq((await call(server, 'POST', '/api/login', { body: { username: 'zhang', password: 'guess ' + i } })).status, 401, 'a wrong guess');
  const limited = await call(server, 'POST', '/api/login', { body: { username: 'zhang', password: 'chongqing 88' } });
  eq(limited.status, 429, 'the sixth attempt inside the window');
  assert(Number(limited.headers.get('retry-after')) > 0, 'Retry-After');

  // --- a restart keeps accounts and sessions ---
  const kept = await login(server, 'li-crab', 'crab season 9');
  await server.child.stop(15000);
  const again = await Server.start({ dataDir: server.dataDir });
  t.defer(() => again.stop());
  eq((await call(again, 'GET', '/api/me', { cookie: kept })).json.account.username, 'li-crab', 'a session survives a restart');
  eq((await call(again, 'GET', '/api/me/streams', { cookie: await login(again, 'wang.pear') })).json.streams[0].id, id,
     'the show keeps its owner');
});
