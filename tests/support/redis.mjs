// A real redis-server (Debian's package) for the scale-out tests: on a free port, nothing saved
// to disk, started and stopped by the test. Throws (the test FAILS, it is not skipped) when
// redis-server is missing or does not answer PING before the deadline.
import { createServer, connect } from 'node:net';
import { startProcess } from './process.mjs';

// A port nobody listens on now (the kernel's choice; closed again at once).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// One RESP command over a fresh connection; resolves with the raw reply text.
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let reply = '';
    sock.setTimeout(2000, () => { sock.destroy(); reject(new Error('redis: no reply')); });
    sock.on('error', reject);
    sock.on('data', (d) => {
      reply += d.toString();
      if (reply.endsWith('\r\n')) { sock.end(); resolve(reply); }
    });
    sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join(''));
  });
}

export class Redis {
  // Starts redis-server on `port` (a free one when omitted) and waits for PONG.
  static async start({ port, timeoutMs = 10000 } = {}) {
    const r = new Redis();
    r.port = port ?? await freePort();
    await r.launch(timeoutMs);
    return r;
  }
  get url() { return `redis://127.0.0.1:${this.port}`; }
  async launch(timeoutMs = 10000) {
    this.child = startProcess('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1',
                                               '--save', '', '--appendonly', 'no']);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.child.running()) {
        const { output } = await this.child.exited;
        throw new Error(`redis-server did not start on port ${this.port}:\n${output}`);
      }
      try {
        if ((await redisCommand(this.port, 'PING')).startsWith('+PONG')) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING in ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }
  // Kills it hard (as a crash would) and waits until it is gone.
  async kill() { await this.child.kill('SIGKILL'); }
  // Starts it again on the same port (what the nodes reconnect to).
  async restart(timeoutMs = 10000) { await this.launch(timeoutMs); }
  async stop() { if (this.child) await this.child.stop(5000); }
}
