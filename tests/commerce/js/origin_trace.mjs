// Origin records (issue 18) against the real server: a catalog with an origin comes back as
// sent (REST and websocket), impossible dates, malformed trace codes and overlong text are
// refused with a 400 naming the field and change nothing, a restart keeps the record,
// GET /api/trace/{code} answers 200/404/400, and the order export carries the origin columns.
import { Server, Client, run, eq, assert } from './lib.mjs';

const ORIGIN = {
  farm: '隰县黄土镇玉露香梨专业合作社',
  place: { county: '隰县', township: '黄土镇', village: '上庄村' },
  harvest_date: '2026-09-12',
  method: '有机种植',
  certificates: ['绿色食品', '地理标志'],
  trace_code: 'SX-TEST-0912-017',
};
const pear = { id: 'pear', title: '隰县玉露香梨', price: 3990, currency: 'CNY', stock: 10, image: '/samples/images/pear-yulu.png' };
const chili = { id: 'chili', title: 'chili', price: 990, currency: 'CNY', stock: 5, image: '' };

// JSON with sorted keys, to compare records whatever order the server writes them in.
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

// China's date `days` from now, YYYY-MM-DD (the server's "today" is China's).
function chinaDate(days) {
  return new Date(Date.now() + 8 * 3600e3 + days * 86400e3).toISOString().slice(0, 10);
}

run('origin_trace', async (t) => {
  let server = await Server.start();
  t.defer(() => server.stop());
  const stream = await server.createStream('梨园直播');
  const products = () => server.http('GET', `/api/streams/${stream.id}/products`);

  eq((await server.putProducts(stream.id, [{ ...pear, origin: ORIGIN }, chili])).status, 200, 'catalog with an origin');
  let got = (await products()).json.products;
  eq(canon(got[0].origin), canon(ORIGIN), 'GET returns the origin as sent');
  eq(got[1].origin, undefined, 'a product without an origin has no origin key');

  const viewer = await Client.connect(server, { stream: stream.id });
  t.defer(() => viewer.close());
  const welcome = await viewer.waitFor((m) => m.type === 'welcome');
  eq(welcome.products[0].origin.trace_code, ORIGIN.trace_code, 'welcome.products carry the origin');

  // Bad records: 400 with the field named; the stored catalog stays as it was.
  const before = (await products()).text;
  const bad = [
    [{ harvest_date: '2026-02-30' }, 'harvest_date'],
    [{ harvest_date: '2026-13-01' }, 'harvest_date'],
    [{ harvest_date: '1899-12-31' }, 'harvest_date'],
    [{ harvest_date: '2026-9-12' }, 'harvest_date'],
    [{ harvest_date: chinaDate(3) }, 'future'],
    [{ trace_code: 'abc' }, 'trace_code'],
    [{ trace_code: 'SX/../../etc' }, 'trace_code'],
    [{ trace_code: 'x'.repeat(65) }, 'trace_code'],
    [{ farm: '农'.repeat(41) }, 'farm'],
    [{ farm: 'farm\u202egnp' }, 'farm'],
    [{ place: { county: 'x'.repeat(61) } }, 'place.county'],
    [{ place: '隰县' }, 'place'],
    [{ certificates: Array(9).fill('绿色食品') }, 'certificates'],
    [{ certificates: [''] }, 'certificates'],
    [{ certificates: '绿色食品' }, 'certificates'],
    [{ method: 42 }, 'method'],
  ];
  for (const [patch, field] of bad) {
    const r = await server.putProducts(stream.id, [{ ...pear, title: 'changed', origin: { ...ORIGIN, ...patch } }, chili]);
    eq(r.status, 400, `refused: ${JSON.stringify(patch).slice(0, 60)}`);
    assert(r.json?.message?.includes(field), `the reason names ${field}: ${r.json?.message}`);
  }
  eq((await products()).text, before, 'refused catalogs stored nothing');
  // A harvest today (China) passes.
  eq((await server.putProducts(stream.id, [{ ...pear, origin: { ...ORIGIN, harvest_date: chinaDate(0) } }, chili])).status,
     200, 'a harvest today is taken');
  eq((await server.putProducts(stream.id, [{ ...pear, origin: ORIGIN }, chili])).status, 200, 'back to the record');

  // Trace lookup.
  const trace = await server.http('GET', `/api/trace/${ORIGIN.trace_code}`);
  eq(trace.status, 200, 'a known trace code');
  eq(trace.json.trace_code, ORIGIN.trace_code, 'its code');
  eq(trace.json.product.id, 'pear', 'the product');
  eq(trace.json.product.title, pear.title, 'its title');
  eq(trace.json.product.origin.farm, ORIGIN.farm, 'its farm');
  eq(trace.json.stream.id, stream.id, 'the show');
  eq(trace.json.stream.title, '梨园直播', 'the show title');
  eq(trace.json.stream.state, 'offline', 'nobody publishes');
  eq((await server.http('GET', '/api/trace/NO-SUCH-CODE')).status, 404, 'an unknown code');
  eq((await server.http('GET', '/api/trace/ab')).status, 400, 'a too short code');
  eq((await server.http('GET', `/api/trace/${encodeURIComponent('bad code!')}`)).status, 400, 'a malformed code');
  eq((await server.http('GET', `/trace/${ORIGIN.trace_code}`)).status, 200, 'the public page');

  // The newest show carrying a code answers.
  const later = await server.createStream('second show');
  eq((await server.putProducts(later.id, [{ ...pear, id: 'pear2', origin: ORIGIN }])).status, 200, 'a second catalog');
  eq((await server.http('GET', `/api/trace/${ORIGIN.trace_code}`)).json.stream.id, later.id, 'the newest show');

  // The order export.
  const bought = await viewer.request({ type: 'buy', product_id: 'pear', qty: 2, idempotency_key: 'k1' });
  eq(bought.type, 'order.confirmed', 'a buy');
  const csv = await server.http('GET', `/api/streams/${stream.id}/orders?format=csv`, { token: stream.host_token });
  eq(csv.status, 200, 'CSV export');
  const [header, row] = csv.text.split('\r\n');
  for (const col of ['origin_farm', 'origin_place', 'origin_harvest_date', 'origin_trace_code'])
    assert(header.split(',').includes(col), `CSV header has ${col}`);
  assert(row.includes(`"${ORIGIN.farm}"`) && row.includes('"隰县 黄土镇 上庄村"') && row.includes('"2026-09-12"') &&
         row.includes(`"${ORIGIN.trace_code}"`), `the row has the origin: ${row}`);
  const list = await server.http('GET', `/api/streams/${stream.id}/orders`, { token: stream.host_token });
  eq(list.json.orders[0].origin.trace_code, ORIGIN.trace_code, 'JSON orders carry the origin');

  // A restart keeps the record and the lookup.
  const dataDir = server.dataDir;
  await server.child.stop(15000);
  server = await Server.start({ dataDir });
  t.defer(() => server.stop());
  got = (await products()).json.products;
  eq(canon(got[0].origin), canon(ORIGIN), 'the origin after a restart');
  eq((await server.http('GET', `/api/trace/${ORIGIN.trace_code}`)).status, 200, 'the trace lookup after a restart');
});
