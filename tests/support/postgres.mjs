// A real PostgreSQL server for one JavaScript test (issue 19): initdb in a fresh temp dir owned
// by the `postgres` user, `postgres` on a free port with fsync on, a database made; stop()
// shuts it down and removes the directory. start() throws (the test fails, never skips) when
// any step does not work, with the server's log in the message.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from './process.mjs';

const BIN = '/usr/lib/postgresql/15/bin';

function postgresUser() {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error("no 'postgres' user: install postgresql (scripts/install-deps.sh)");
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// setpriv execs in place: the child we hold is the program itself, so killing it kills it.
const asPostgres = (args) => ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...args];

export class Postgres {
  static async start() {
    const pg = new Postgres();
    const { uid, gid } = postgresUser();
    pg.dir = mkdtempSync(join(tmpdir(), 'harvest-pg-'));
    chownSync(pg.dir, uid, gid);
    const data = join(pg.dir, 'data');
    try {
      execFileSync('setpriv', asPostgres([`${BIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync',
                                          '-E', 'UTF8', '--locale=C']), { stdio: 'pipe' });
    } catch (e) {
      pg.remove();
      throw new Error('initdb failed: ' + (e.stderr?.toString() ?? e.message));
    }
    pg.port = await freePort();
    pg.log = '';
    pg.child = startProcess('setpriv', asPostgres([`${BIN}/postgres`, '-D', data, '-p', String(pg.port), '-k', pg.dir,
                                                   '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on',
                                                   '-c', 'synchronous_commit=on', '-c', 'max_connections=60']),
                            { onOutput: (t) => { pg.log += t; } });
    const deadline = Date.now() + 30000;
    for (;;) {
      if (!pg.child.running()) { pg.remove(); throw new Error('postgres exited:\n' + pg.log); }
      try {
        execFileSync('pg_isready', ['-q', '-h', '127.0.0.1', '-p', String(pg.port)], { stdio: 'ignore' });
        break;
      } catch { /* not yet */ }
      if (Date.now() > deadline) { await pg.stop(); throw new Error('postgres did not accept connections:\n' + pg.log); }
      await new Promise((r) => setTimeout(r, 50));
    }
    pg.sql('CREATE DATABASE harvest', 'postgres');
    pg.url = `postgresql://postgres@127.0.0.1:${pg.port}/harvest`;
    return pg;
  }
  // Runs one statement with psql; returns the rows as arrays of strings.
  sql(statement, db = 'harvest') {
    const out = execFileSync('psql', ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', db, '-At',
                                      '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', statement], { encoding: 'utf8' });
    return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  }
  async stop() {
    if (this.child?.running()) {
      this.child.proc.kill('SIGINT');  // fast shutdown
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15000);
      await this.child.exited;
      clearTimeout(timer);
    }
    this.remove();
  }
  remove() { rmSync(this.dir, { recursive: true, force: true }); }
}
