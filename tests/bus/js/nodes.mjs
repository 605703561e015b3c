// Two harvest-server nodes on one Redis bus, for the scale-out tests: the same stream on both
// (node A makes it and its catalog; node B starts on a copy of A's data dir, so the ids, the
// catalog and the host-token secret are the same — what a shared PostgreSQL store gives), each
// with `--bus redis://`. Everything is stopped through t.defer.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, Client, eq } from '../../commerce/js/lib.mjs';
import { Redis } from '../../support/redis.mjs';

export async function twoNodes(t, { products, title = 'two nodes' }) {
  const redis = await Redis.start();
  t.defer(() => redis.stop());
  const root = mkdtempSync(join(tmpdir(), 'harvest-bus-'));
  t.defer(() => rmSync(root, { recursive: true, force: true }));
  const dirA = join(root, 'a');
  const dirB = join(root, 'b');

  const setup = await Server.start({ dataDir: dirA });
  const stream = await setup.createStream(title);
  eq((await setup.putProducts(stream.id, products, stream.host_token)).status, 200, 'PUT products');
  await setup.stop();
  cpSync(dirA, dirB, { recursive: true });

  const a = await Server.start({ dataDir: dirA, args: ['--bus', redis.url] });
  t.defer(() => a.stop());
  const b = await Server.start({ dataDir: dirB, args: ['--bus', redis.url] });
  t.defer(() => b.stop());
  // Both subscribed before the test speaks: each logs bus_up once its PSUBSCRIBE is in place.
  await waitLog(a, /event=bus_up/, 'node A on the bus');
  await waitLog(b, /event=bus_up/, 'node B on the bus');
  return { redis, a, b, stream };
}

export async function waitLog(server, re, what, timeoutMs = 10000, from = 0) {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(server.log.slice(from))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log:\n${server.log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function enter(t, server, query, role) {
  const c = await Client.connect(server, query);
  t.defer(() => c.close());
  eq((await c.waitFor((m) => m.type === 'welcome')).role, role, `${role} welcome`);
  return c;
}
