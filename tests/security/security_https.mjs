// HSTS under TLS (issue 21 security review): with --tls-self-signed every answer carries
// Strict-Transport-Security (and nosniff); over plain HTTP none does (security_http.mjs).
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, run, assert, eq } from '../commerce/js/lib.mjs';

run('security_https_headers', async (t) => {
  const server = await Server.start({ args: ['--tls-self-signed'] });
  t.defer(() => server.stop());
  const ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'));
  const get = (path) => new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', servername: 'localhost', port: server.port, path, ca, method: 'GET',
                                headers: { host: 'localhost' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
  for (const p of ['/', '/api/health', '/static/css/base.css', '/no/such/route']) {
    const r = await get(p);
    assert(/max-age=\d{7,}/.test(r.headers['strict-transport-security'] ?? ''), `${p} (${r.status}) carries HSTS over TLS`);
    eq(r.headers['x-content-type-options'], 'nosniff', `${p} nosniff over TLS`);
  }
});
