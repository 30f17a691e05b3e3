// Publishing when the network or the server fails: the server is down at the start, goes away in the middle of a
// publish (then comes back: the publish resumes), the host name does not resolve (an `.invalid` name, RFC 2606,
// never resolves), the TLS certificate is self-signed (made with openssl at test time), or the server accepts the
// connection and never answers. Each ends with a clear message naming the host, and nothing hangs: every wait has a
// time-out and a cancel.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publish, type PublishRequest } from '../../src/publish';
import { isSodaError, SodaClient, type SodaClientOptions } from '../../src/soda';
import { startEmulator } from '../emulator/index';

const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };
const quick = { baseDelayMs: 1, maxDelayMs: 10, maxAttempts: 4 };

let dir: string;
let csv: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reliability-net-'));
  csv = join(dir, 'budget.csv');
  writeFileSync(csv, `line_item,department,amount\n${Array.from({ length: 50 }, (_, i) => `N-${i},Parks,${i}`).join('\n')}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function client(domain: string, extra: Partial<SodaClientOptions> = {}): SodaClient {
  return new SodaClient({ domain, auth: PUBLISHER, retry: quick, ...extra });
}

/** Publishing either returns a failed result or rejects with a SodaError; both must carry a clear message. */
async function failure(c: SodaClient, req: PublishRequest, signal?: AbortSignal): Promise<{ message: string; kind: string }> {
  try {
    const r = await publish(c, req, signal ? { signal } : {});
    assert.ok(r.status === 'failed' || r.status === 'cancelled', `${r.status}: ${r.message}`);
    return { message: r.message, kind: r.status };
  } catch (e) {
    assert.ok(isSodaError(e), `not a SodaError: ${String(e)}`);
    return { message: e.message, kind: e.kind };
  }
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** A TCP relay to the emulator that can be cut (server closed, every connection destroyed) and restored. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: number) {}
  async start(): Promise<void> {
    this.server = createNetServer((down) => {
      const up = connect(this.target, '127.0.0.1');
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      down.pipe(up).pipe(down);
    });
    this.port = await listen(this.server, this.port);
  }
  async cut(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

describe('reliability: server down, going away, DNS, TLS, no answer', () => {
  it('server down at the start: a clear "connection refused" naming the host; nothing hangs', async () => {
    const probe = createNetServer();
    const port = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const c = client(`127.0.0.1:${port}`);
    try {
      const f = await failure(c, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(f.kind, 'network');
      assert.match(f.message, new RegExp(`connection to 127\\.0\\.0\\.1:${port} was refused`));
    } finally {
      await c.close();
    }
  });

  it('server going away mid-publish: stops with the applied lines; publishing again resumes, every row exactly once on the server', async () => {
    const emu = await startEmulator({ port: 0, seed: 'sample' });
    const relay = new Relay(emu.port);
    await relay.start();
    const c = client(`127.0.0.1:${relay.port}`);
    try {
      const n = 2000;
      const file = join(dir, 'away.csv');
      writeFileSync(file, `line_item,department,amount\n${Array.from({ length: n }, (_, i) => `AW-${String(i).padStart(5, '0')},Dept,${i}`).join('\n')}\n`);
      const journalDir = join(dir, 'j-away');
      const req: PublishRequest = { file, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 100, concurrency: 2 };
      let cut: Promise<void> | undefined;
      const first = await publish(c, req, {
        journalDir,
        onProgress: (p) => {
          if (p.stage === 'sending' && p.rowsDone >= 500 && !cut) cut = relay.cut();
        },
      });
      await cut;
      assert.equal(first.status, 'failed', first.message);
      assert.match(first.message, new RegExp(`Network error: .*127\\.0\\.0\\.1:${relay.port}`));
      assert.match(first.message, /Applied: lines 2–\d+ of .*away\.csv\. Publishing the same file again resumes/);
      assert.ok(first.created > 0 && first.created < n);

      await relay.start();
      const second = await publish(c, req, { journalDir });
      assert.equal(second.status, 'success', second.message);
      assert.equal(second.resume?.status, 'resumed');
      const rows = emu.store.getRows('bdgt-priv').filter((r) => typeof r.v.line_item === 'string' && r.v.line_item.startsWith('AW-'));
      assert.equal(rows.length, n, 'every row is on the server');
      assert.equal(new Set(rows.map((r) => r.v.line_item)).size, n, 'once');
      const applied = emu.store.appliedWrites.filter((w) => w.dataset === 'bdgt-priv').reduce((s, w) => s + w.rowsIn, 0);
      // At most the batches in flight when the server went away were applied twice (their answers were lost).
      assert.ok(applied >= n && applied <= n + req.concurrency! * req.batchSize!, `applied ${applied} rows for ${n}`);
    } finally {
      await c.close();
      await relay.cut();
      await emu.stop();
    }
  });

  it('DNS failure: an .invalid host name is reported as not found, and nothing hangs', async () => {
    const c = client('socrata-publisher-test.invalid');
    try {
      const f = await failure(c, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(f.kind, 'network');
      assert.match(f.message, /host name socrata-publisher-test\.invalid could not be found/);
    } finally {
      await c.close();
    }
  });

  it('TLS failure: a self-signed certificate is refused with a message about the certificate; no credentials are sent', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], {
      stdio: 'ignore',
    });
    const seen: string[] = [];
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      seen.push(String(req.headers.authorization));
      res.end('{}');
    });
    const port = await listen(server);
    const c = client(`https://localhost:${port}`);
    try {
      const f = await failure(c, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(f.kind, 'network');
      assert.match(f.message, /localhost:\d+/);
      assert.match(f.message, /certificate|TLS/i);
      assert.deepEqual(seen, [], 'no request (and no Authorization header) got through');
    } finally {
      await c.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a server that accepts and never answers: the time-out ends it with a clear message, and a cancel ends it at once', async () => {
    const sockets = new Set<Socket>();
    const hole = createNetServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    const port = await listen(hole);
    try {
      const timed = client(`127.0.0.1:${port}`, { timeouts: { headersMs: 200 }, retry: { ...quick, maxAttempts: 2 } });
      try {
        const f = await failure(timed, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' });
        assert.equal(f.kind, 'network');
        assert.match(f.message, /time|answer/i);
        assert.match(f.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      } finally {
        await timed.close();
      }
      // Default time-outs (minutes): the user's cancel is what ends the wait.
      const patient = client(`127.0.0.1:${port}`);
      try {
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 100).unref();
        const f = await failure(patient, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' }, ac.signal);
        assert.equal(f.kind, 'cancelled');
      } finally {
        await patient.close();
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => hole.close(() => resolve()));
    }
  });
});
