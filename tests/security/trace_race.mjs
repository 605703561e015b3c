// A trace code raced between two cluster nodes (issue 21, "one farmer touching another's data").
//
// Two real harvest-server processes on one real PostgreSQL (initdb on a free port here,
// tests/support/postgres.mjs). Farmer 李 is signed in on node A, farmer 张 on node B. Each round
// both PUT a catalog carrying the same new trace code at the same moment — even rounds through
// PUT /api/me/products, odd rounds through PUT /api/streams/{id}/products of each one's show.
// For every code exactly one PUT is 200 and the other 409 trace_code_taken; afterwards every
// row carrying the code in PostgreSQL (shows and farmers' catalogs) is the winner's, its claim
// is the winner's, and GET /api/trace/{code} on both nodes shows the winner's farm.
//
// Without the claim in the store (Store::claim_trace_codes) the read-then-write check lets both
// PUTs through in some rounds and this test fails.
import { Server, run, assert, eq } from '../commerce/js/lib.mjs';
import { Postgres } from '../support/postgres.mjs';
import { call, createFarmer, login } from '../accounts/js/farmers.mjs';

const ROUNDS = 20;

run('security_trace_race', async (t) => {
  const pg = await Postgres.start();
  t.defer(() => pg.stop());
  const args = ['--store', pg.url, '--token-secret', 'trace-race-secret-0123456789abcdef'];
  const a = await Server.start({ args });
  t.defer(() => a.stop());
  // The accounts exist before node B starts (it reads them from the shared store at start).
  await createFarmer(a, 'li.race', 'pear orchard A1', '李家梨园');
  await createFarmer(a, 'zhang.race', 'crab pond B22', '张家蟹塘');
  const b = await Server.start({ args });
  t.defer(() => b.stop());

  const farmers = [
    { name: 'li', farm: '李家梨园', node: a, cookie: await login(a, 'li.race', 'pear orchard A1'), won: [] },
    { name: 'zhang', farm: '张家蟹塘', node: b, cookie: await login(b, 'zhang.race', 'crab pond B22'), won: [] },
  ];
  for (const f of farmers) {
    const show = await call(f.node, 'POST', '/api/streams', { cookie: f.cookie, body: { title: `${f.farm}直播` } });
    eq(show.status, 201, `${f.name}'s show: ${show.text}`);
    f.show = show.json.id;
  }
  const accountOf = Object.fromEntries(pg.sql('SELECT username, id FROM accounts').map(([u, id]) => [u.split('.')[0], id]));
  assert(accountOf.li && accountOf.zhang, `both accounts are in PostgreSQL: ${JSON.stringify(accountOf)}`);

  const product = (f, code, i) => ({
    id: `p${i}`, title: `${f.farm} 第${i}批`, price: 1000 + i, currency: 'CNY', stock: 5,
    origin: { farm: f.farm, place: { county: '隰县' }, harvest_date: '2026-09-01', trace_code: code },
  });
  const put = (f, products, viaShow) => viaShow
    ? call(f.node, 'PUT', `/api/streams/${f.show}/products`, { cookie: f.cookie, body: { products } })
    : call(f.node, 'PUT', '/api/me/products', { cookie: f.cookie, body: { products } });

  const wins = { li: 0, zhang: 0 };
  const codes = [];
  for (let i = 0; i < ROUNDS; ++i) {
    const code = `RACE-2026-${String(i).padStart(4, '0')}`;
    const viaShow = i % 2 === 1;
    const route = viaShow ? 'PUT /api/streams/{id}/products' : 'PUT /api/me/products';
    // Each farmer's catalog: what they won so far, and the new product with the contested code.
    const bodies = farmers.map((f) => [...f.won, product(f, code, i)]);
    const answers = await Promise.all(farmers.map((f, k) => put(f, bodies[k], viaShow)));
    const ok = answers.map((r) => r.status === 200);
    for (const r of answers) assert(r.status === 200 || r.status === 409, `${code} via ${route}: ${r.status} ${r.text}`);
    assert(ok[0] !== ok[1], `${code} via ${route}: exactly one 200 and one 409, got ${answers.map((r) => r.status).join(' and ')}`);
    const winner = farmers[ok[0] ? 0 : 1];
    const loser = farmers[ok[0] ? 1 : 0];
    const refused = answers[ok[0] ? 1 : 0];
    eq(refused.json?.error, 'trace_code_taken', `${code}: the loser's 409 names the reason (${refused.text})`);
    winner.won.push(product(winner, code, i));
    wins[winner.name] += 1;
    codes.push({ code, winner, loser });
  }

  for (const { code, winner, loser } of codes) {
    // Every stored row carrying the code, in shows and farmers' catalogs, is the winner's.
    const inShows = pg.sql(`SELECT DISTINCT s.owner FROM products p JOIN streams s ON s.id = p.stream_id WHERE p.trace_code = '${code}'`);
    const inCatalogs = pg.sql(`SELECT DISTINCT owner FROM farmer_products WHERE trace_code = '${code}'`);
    const owners = new Set([...inShows, ...inCatalogs].map((r) => r[0]));
    eq([...owners].join(), accountOf[winner.name], `${code}: the rows carrying it belong to one farm`);
    eq(pg.sql(`SELECT owner FROM trace_codes WHERE code = '${code}'`)[0]?.[0], accountOf[winner.name], `${code}: its claim is the winner's`);
    for (const node of [a, b]) {
      const r = await call(node, 'GET', `/api/trace/${code}`);
      eq(r.status, 200, `GET /api/trace/${code}`);
      eq(r.json.product.origin.farm, winner.farm, `${code}: the trace page shows the winner's farm, never ${loser.farm}`);
    }
  }
  // The loser's next PUT with the code is refused too (the claim is kept, not only the race).
  const late = codes[0];
  const again = await put(late.loser, [product(late.loser, late.code, 99)], false);
  eq(again.status, 409, `${late.code} again from the farm that lost it: ${again.text}`);
  console.log(`trace codes raced: ${ROUNDS}, won by 李 ${wins.li}, by 张 ${wins.zhang}; one farm each`);
});
