// Shared by the commerce benchmarks: start servers, percentiles, worker processes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/js/package.json', import.meta.url));
export const WebSocket = require('ws');
export const ADMIN = 'bench-admin';

export const now = () => performance.timeOrigin + performance.now();  // ms, sub-ms resolution

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const children = new Set();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch {} } });

export function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function startHarvest(bin, env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'harvest-bench-'));
  const proc = track(spawn(bin, ['--http-port', '0', '--rtmp-port', '0', '--srt-port', '0', '--bind', '127.0.0.1',
                                 '--data-dir', dataDir],
                           { env: { ...process.env, HARVEST_ADMIN_TOKEN: ADMIN, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  proc.stdout.on('data', (d) => { log += d; });
  const deadline = Date.now() + 30000;
  while (!/http_port=(\d+)/.test(log)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('server did not start: ' + log);
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(/http_port=(\d+)/.exec(log)[1]);
  return {
    port, proc, dataDir,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
    async http(method, path, body, token = ADMIN) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, {
        method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, json: await r.json().catch(() => null), text: '' };
    },
    async metricsText() { return (await fetch(`http://127.0.0.1:${port}/metrics`)).text(); },
  };
}

export function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
