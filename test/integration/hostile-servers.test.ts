// Hostile or broken servers, through the SODA client and the publish engine: non-JSON bodies, endless bodies,
// wrong types in JSON, redirects to another origin (credentials must never follow), and slowloris answers.
// A small node:http "saboteur" sits in front of the emulator: it forwards every request unchanged except the
// routes a test sabotages, so the rest of the publish (view, row ids, …) is real.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publish } from '../../src/publish';
import { isSodaError, SodaClient, type SodaClientOptions } from '../../src/soda';
import { startEmulator } from '../emulator/index';

const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };
type Sabotage = (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean;

interface Box {
  port: number;
  seen: { method: string; url: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

const boxes: Box[] = [];
let emu: Awaited<ReturnType<typeof startEmulator>>;
let dir: string;
let csv: string;

before(async () => {
  emu = await startEmulator({ port: 0, seed: 'sample' });
  dir = mkdtempSync(join(tmpdir(), 'hostile-servers-'));
  csv = join(dir, 'budget.csv');
  writeFileSync(csv, 'line_item,department,amount\nHS-1,Parks,1\nHS-2,Parks,2\n');
});
after(async () => {
  await Promise.all(boxes.map((b) => b.close()));
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A loopback server recording every request; `handle` answers it (return false to forward it to the emulator). */
async function box(handle: Sabotage = () => false): Promise<Box> {
  const sockets = new Set<Socket>();
  const state: Box = { port: 0, seen: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      state.seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
      if (handle(req, res, body)) return;
      void forward(req, res, body);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  boxes.push(state);
  return state;
}

async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length') headers[k] = v;
  const upstream = await fetch(`${emu.url}${req.url ?? '/'}`, { method: req.method, headers, body: body.length > 0 ? body : undefined });
  const out: Record<string, string> = {};
  upstream.headers.forEach((v, k) => {
    if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'content-encoding') out[k] = v;
  });
  res.writeHead(upstream.status, out);
  res.end(Buffer.from(await upstream.arrayBuffer()));
}

function client(port: number, extra: Partial<SodaClientOptions> = {}): SodaClient {
  return new SodaClient({ domain: `127.0.0.1:${port}`, auth: PUBLISHER, retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 }, ...extra });
}

const isUpsert = (req: IncomingMessage): boolean => req.method === 'POST' && (req.url ?? '').startsWith('/resource/');

async function rejection(p: Promise<unknown>): Promise<Error & { kind?: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(isSodaError(e), `a SodaError, not ${String(e)}`);
    return e;
  }
  return assert.fail('expected a failure');
}

describe('hostile servers: bodies', () => {
  it('a non-JSON answer to an upsert: the publish fails with the status and a snippet, and says the outcome is unknown', async () => {
    const b = await box((req, res) => {
      if (!isUpsert(req)) return false;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><title>Gateway</title>Please enable cookies</html>');
      return true;
    });
    const c = client(b.port);
    try {
      const r = await publish(c, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(r.status, 'failed', r.message);
      assert.match(r.message, /answered 200 with something that is not JSON \(text\/html\): "<html><title>Gateway<\/title>Please enable cookies<\/html>"/);
      assert.match(r.message, /may or may not have been applied/);
    } finally {
      await c.close();
    }
  });

  it('an endless JSON body is cut at the default 64 MiB cap with a clear error, not read into memory forever', async () => {
    const b = await box((req, res) => {
      if (!(req.url ?? '').startsWith('/api/views/')) return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"bdgt-priv","columns":[');
      const chunk = `${'{"fieldName":"x","dataTypeName":"text"},'.repeat(2000)}`;
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('error', () => undefined);
      pump();
      return true;
    });
    const c = client(b.port);
    try {
      const r = await publish(c, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' }).then(
        (x) => x.message,
        (e: Error) => e.message,
      );
      assert.match(r, /larger than the 64 MB limit/);
    } finally {
      await c.close();
    }
  });

  it('a huge error page is not read whole: the message stays short', async () => {
    const b = await box((req, res) => {
      if (!isUpsert(req)) return false;
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end(`<html><title>Error</title>${'x'.repeat(20 * 1024 * 1024)}</html>`);
      return true;
    });
    const c = client(b.port);
    try {
      const r = await publish(c, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(r.status, 'failed');
      assert.match(r.message, /500/);
      assert.ok(r.message.length < 2000, `message of ${r.message.length} characters`);
    } finally {
      await c.close();
    }
  });

  it('wrong types in JSON are protocol errors, never silent zeros or crashes', async () => {
    const b = await box((req, res) => {
      const url = req.url ?? '';
      const send = (v: unknown): boolean => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
        return true;
      };
      if (url.startsWith('/api/users/current.json')) return send([1, 2]);
      if (url.startsWith('/api/catalog/v1')) return send({ results: 7 });
      if (url.startsWith('/resource/tree-cnsu.json') && req.method === 'GET') return send({ rows: 'none' });
      if (isUpsert(req)) return send({ 'Rows Created': 'many', 'Rows Updated': 0 });
      return false;
    });
    const c = client(b.port);
    try {
      assert.match((await rejection(c.currentUser())).message, /Unexpected answer from Socrata: the current user has no "id"/);
      assert.match(
        (
          await rejection(
            (async () => {
              for await (const p of c.catalog({})) return p;
              return undefined;
            })(),
          )
        ).message,
        /Unexpected answer/,
      );
      assert.match((await rejection(c.rows('tree-cnsu', {}))).message, /not a JSON array/);
      const r = await publish(c, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(r.status, 'failed', `a count of "many" must not become 0 created: ${r.message}`);
      assert.match(r.message, /"Rows Created" is not a count/);
    } finally {
      await c.close();
    }
  });
});

describe('hostile servers: redirects never carry credentials to another origin', () => {
  for (const [what, pick] of [
    ['the dataset metadata (GET)', (req: IncomingMessage) => (req.url ?? '').startsWith('/api/views/')],
    ['the upsert (POST, 307)', isUpsert],
  ] as const) {
    it(`a redirect of ${what} to another host is refused; that host never sees a request or an Authorization header`, async () => {
      const evil = await box((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"Rows Created":2}');
        return true;
      });
      const b = await box((req, res) => {
        if (!pick(req)) return false;
        // localhost vs 127.0.0.1 and another port: both make it another origin.
        res.writeHead(307, { location: `http://localhost:${evil.port}${req.url ?? '/'}` });
        res.end();
        return true;
      });
      const c = client(b.port);
      try {
        const r = await publish(c, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' }).then(
          (x) => x.message,
          (e: Error) => e.message,
        );
        assert.match(r, /redirected the request to another origin \(http:\/\/localhost:\d+\); it was not followed/);
        assert.equal(evil.seen.length, 0, 'nothing reached the other host');
        assert.ok(
          b.seen.some((s) => s.authorization?.startsWith('Basic ')),
          'the real host did get the credentials',
        );
      } finally {
        await c.close();
      }
    });
  }
});

describe('hostile servers: slowloris', () => {
  it('a body trickled one byte at a time is cut off by the per-attempt limit, with a clear time-out', { timeout: 30_000 }, async () => {
    const timers = new Set<NodeJS.Timeout>();
    const b = await box((req, res) => {
      if (!(req.url ?? '').startsWith('/api/views/')) return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => {
        if (res.destroyed) clearInterval(t);
        else res.write(' ');
      }, 50);
      timers.add(t);
      return true;
    });
    // Bytes arrive every 50 ms, far under the 500 ms silence limit: only the total limit can end this.
    const c = client(b.port, { timeouts: { bodyMs: 500, totalMs: 1500 } });
    try {
      const e = await rejection(c.view('bdgt-priv'));
      assert.equal(e.kind, 'network');
      assert.match(e.message, /timed out after 2 s/);
    } finally {
      for (const t of timers) clearInterval(t);
      await c.close();
    }
  });

  it('headers trickled slowly are cut off by the headers time-out', { timeout: 30_000 }, async () => {
    const timers = new Set<NodeJS.Timeout>();
    const b = await box((req, res) => {
      if (!(req.url ?? '').startsWith('/api/views/')) return false;
      const sock = res.socket;
      if (!sock) return true;
      sock.write('HTTP/1.1 200 OK\r\n');
      let i = 0;
      const t = setInterval(() => {
        if (sock.destroyed) clearInterval(t);
        else sock.write(`X-Slow-${i++}: 1\r\n`);
      }, 50);
      timers.add(t);
      return true;
    });
    const c = client(b.port, { timeouts: { headersMs: 800 } });
    try {
      const e = await rejection(c.view('bdgt-priv'));
      assert.equal(e.kind, 'network');
      assert.match(e.message, /127\.0\.0\.1:\d+/);
    } finally {
      for (const t of timers) clearInterval(t);
      await c.close();
    }
  });
});
