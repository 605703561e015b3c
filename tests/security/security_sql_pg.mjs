// SQL injection on PostgreSQL (issue 21, security review): the same inputs and round trip as on
// SQLite (sql_roundtrip.mjs), against the server on a real PostgreSQL started here (initdb on a
// free port, tests/support/postgres.mjs), across a restart of the server; then, straight from
// PostgreSQL, every table is still there with its rows, and the quoted text sits in its column
// as sent (it was bound as a parameter, not spliced into a statement).
import { Server, run, assert, eq } from '../commerce/js/lib.mjs';
import { Postgres } from '../support/postgres.mjs';
import { sqlRoundTrip, PAYMENT_ARGS, NASTY } from './sql_roundtrip.mjs';

run('security_sql_pg', async (t) => {
  const pg = await Postgres.start();
  t.defer(() => pg.stop());
  const args = ['--store', pg.url, ...PAYMENT_ARGS];
  const server = await Server.start({ args });
  t.defer(() => server.stop());
  const tables = () => pg.sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`).map((r) => r[0]);
  const before = tables();
  for (const name of ['streams', 'products', 'orders', 'accounts', 'farmer_products'])
    assert(before.includes(name), `PostgreSQL has the ${name} table (${before.join(', ')})`);

  // The restarted server uses the same data dir (the signing secret) and the same database.
  const sql = await sqlRoundTrip(t, server, async () => {
    await server.child.stop(15000);
    const again = await Server.start({ dataDir: server.dataDir, args });
    t.defer(() => again.stop());
    return again;
  });

  eq(tables().join(','), before.join(','), 'every table is still there');
  const count = (table) => Number(pg.sql(`SELECT count(*) FROM ${table}`)[0][0]);
  eq(count('orders'), 2, 'the orders table holds both orders');
  assert(count('streams') >= 2, 'streams rows');
  assert(count('products') >= 2, 'products rows');
  eq(count('accounts'), 1, 'the accounts row');
  eq(count('farmer_products'), 1, 'the catalog row');
  eq(count('invites'), 1, 'the invite row');
  eq(count('payments'), 1, 'the payment row');
  eq(pg.sql(`SELECT title FROM streams WHERE title LIKE '梨%'`)[0]?.[0], NASTY, 'the title sits in its column as sent');
  eq(pg.sql(`SELECT idempotency_key FROM orders WHERE idempotency_key LIKE 'k''%'`)[0]?.[0], `k'; DROP TABLE orders;--`,
     'the key sits in its column as sent');
  // The log: no secrets or personal data (the same list as on SQLite).
  const log = server.log + sql.again.log;
  for (const [what, secret] of sql.secrets) assert(!log.includes(secret), `the log holds the ${what}`);
  console.log(`tables intact on PostgreSQL: ${before.length} (${before.join(', ')})`);
});
