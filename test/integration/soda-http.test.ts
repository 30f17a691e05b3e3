// The HTTP gateway against small purpose-built node:http servers that script exact answer sequences
// (503, 503, 200; Retry-After; connection resets; redirects; oversized bodies).
import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { Agent, request as undiciRequest } from 'undici';
import { type SodaDomain } from '../../src/soda/domain';
import { SodaError } from '../../src/soda/errors';
import { type HttpLogEvent, SodaHttp } from '../../src/soda/http';
import { type Clock, systemClock } from '../../src/soda/retry';
import { rejectsWithSodaError } from '../lib/helpers';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

interface Scripted {
  port: number;
  domain: string;
  seen: Seen[];
  connections: number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number, body: string) => void;

const servers: Server[] = [];
after(async () => {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

/** A loopback server that records every request and answers the n-th (0-based) with `handler`. */
async function scripted(handler: Handler): Promise<Scripted> {
  const state: Scripted = { port: 0, domain: '', seen: [], connections: 0, close: async () => {} };
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = state.seen.length;
      state.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at: Date.now() });
      handler(req, res, n, body);
    });
  });
  server.on('connection', (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.domain = `127.0.0.1:${state.port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The real clock, recording every backoff wait it is asked for. */
function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => Date.now(),
    sleep: (ms, signal) => {
      sleeps.push(ms);
      return systemClock.sleep(ms, signal);
    },
  };
}

const creds = { type: 'basic', email: 'publisher@example.org', password: 'publish-me' } as const;

describe('soda gateway: headers and logging', () => {
  it('sends User-Agent, a request id, Basic auth and the app token; the log hook never sees them', async () => {
    const srv = await scripted((_req, res) => json(res, 200, { ok: true }));
    const events: HttpLogEvent[] = [];
    const http = new SodaHttp({
      domain: srv.domain,
      auth: creds,
      appToken: 'demo-app-token',
      product: 'vscode-extension',
      version: '1.2.3',
      onLog: (e) => events.push(e),
    });
    const res = await http.request<{ ok: boolean }>({
      method: 'GET',
      path: '/api/users/current.json',
      query: { $$app_token: 'demo-app-token', a: ['1', '2'] },
    });
    await http.close();
    assert.deepEqual(res.body, { ok: true });
    const h = srv.seen[0]?.headers;
    assert.equal(h?.['user-agent'], 'socrata-publisher/1.2.3 (vscode-extension)');
    assert.match(String(h?.['x-socrata-requestid']), /^[0-9a-f]{32}$/);
    assert.equal(res.operationId, h?.['x-socrata-requestid']);
    assert.equal(h?.authorization, `Basic ${Buffer.from('publisher@example.org:publish-me').toString('base64')}`);
    assert.equal(h?.['x-app-token'], 'demo-app-token');
    assert.equal(srv.seen[0]?.url, '/api/users/current.json?%24%24app_token=demo-app-token&a=1&a=2');
    assert.deepEqual(
      events.map((e) => e.phase),
      ['request', 'response'],
    );
    const logged = JSON.stringify(events);
    for (const secret of ['publish-me', Buffer.from('publisher@example.org:publish-me').toString('base64'), 'demo-app-token']) {
      assert.ok(!logged.includes(secret), `log contains ${secret}`);
    }
    assert.match(logged, /Basic \[redacted\]/);
  });

  it('sends OAuth tokens with the OAuth scheme and the default product is the CLI', async () => {
    const srv = await scripted((_req, res) => json(res, 200, {}));
    const http = new SodaHttp({ domain: srv.domain, auth: { type: 'oauth', accessToken: 'tok-123' } });
    await http.request({ method: 'GET', path: '/x' });
    await http.close();
    assert.equal(srv.seen[0]?.headers.authorization, 'OAuth tok-123');
    assert.match(String(srv.seen[0]?.headers['user-agent']), /^socrata-publisher\/\d+\.\d+\.\d+ \(cli\)$/);
  });

  it('refuses paths that would leave the domain', async () => {
    const http = new SodaHttp({ domain: '127.0.0.1:9' });
    for (const path of ['//evil.com/x', 'relative', '/a/../b', '/a/%2e%2e/b', '/a/.%2E/b', '/a\\b', '/x?y=1', '/a b']) {
      const e = await rejectsWithSodaError(http.request({ method: 'GET', path }));
      assert.equal(e.kind, 'invalid-input', path);
    }
    await http.close();
  });
});

describe('soda gateway: retries', () => {
  it('retries a GET on 503, 503 then succeeds, with the same request id and backoff waits seen by the server', async () => {
    const srv = await scripted((_req, res, n) =>
      n < 2 ? json(res, 503, { errorCode: 'service-unavailable', message: 'Service unavailable' }) : json(res, 200, [1]),
    );
    const clock = recordingClock();
    const http = new SodaHttp({ domain: srv.domain, clock, random: () => 0.999, retry: { baseDelayMs: 40, maxDelayMs: 1000 } });
    const res = await http.request({ method: 'GET', path: '/resource/abcd-1234.json' });
    await http.close();
    assert.deepEqual(res.body, [1]);
    assert.equal(res.attempts, 3);
    assert.equal(srv.seen.length, 3);
    assert.equal(new Set(srv.seen.map((s) => s.headers['x-socrata-requestid'])).size, 1);
    // Full jitter with random()≈1: 0.999·40 and 0.999·80.
    assert.deepEqual(clock.sleeps, [39, 79]);
    const gaps = srv.seen.slice(1).map((s, i) => s.at - (srv.seen[i]?.at ?? 0));
    assert.ok((gaps[0] ?? 0) >= 39 - 2 && (gaps[1] ?? 0) >= 79 - 2, `server saw gaps ${gaps.join(', ')}`);
  });

  it('gives up after maxAttempts and says so', async () => {
    const srv = await scripted((_req, res) => json(res, 500, { errorCode: 'internal-error', message: 'boom', data: { tag: 't-1' } }));
    const events: HttpLogEvent[] = [];
    const http = new SodaHttp({ domain: srv.domain, retry: { maxAttempts: 3, baseDelayMs: 1 }, onLog: (x) => events.push(x) });
    const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/x' }));
    await http.close();
    assert.equal(srv.seen.length, 3);
    assert.equal(e.kind, 'server');
    assert.equal(e.attempts, 3);
    assert.match(e.message, /^The Socrata server failed \(500 internal-error\): boom\. \(error tag t-1\).*gave up after 3 attempts/);
    assert.deepEqual(
      events.map((x) => `${x.phase}${x.attempt}`),
      ['request1', 'response1', 'retry1', 'request2', 'response2', 'retry2', 'request3', 'response3', 'error3'],
    );
  });

  it('honours Retry-After in seconds (server-side gap) and as an HTTP date', async () => {
    const srv = await scripted((_req, res, n) =>
      n === 0 ? json(res, 429, { errorCode: 'too-many-requests', message: 'Too many requests' }, { 'retry-after': '1' }) : json(res, 200, {}),
    );
    const clock = recordingClock();
    const http = new SodaHttp({ domain: srv.domain, clock, retry: { baseDelayMs: 1 } });
    await http.request({ method: 'GET', path: '/x' });
    assert.deepEqual(clock.sleeps, [1000]);
    assert.ok((srv.seen[1]?.at ?? 0) - (srv.seen[0]?.at ?? 0) >= 990);
    await http.close();

    const date = new Date(Date.now() + 3000).toUTCString();
    const srv2 = await scripted((_req, res, n) => (n === 0 ? json(res, 503, {}, { 'retry-after': date }) : json(res, 200, {})));
    const fake: Clock & { sleeps: number[] } = {
      sleeps: [],
      now: () => Date.now(),
      sleep: (ms) => {
        fake.sleeps.push(ms);
        return Promise.resolve();
      },
    };
    const http2 = new SodaHttp({ domain: srv2.domain, clock: fake, retry: { baseDelayMs: 1 } });
    await http2.request({ method: 'GET', path: '/x' });
    await http2.close();
    assert.equal(srv2.seen.length, 2);
    assert.equal(fake.sleeps.length, 1);
    assert.ok((fake.sleeps[0] ?? 0) > 1000 && (fake.sleeps[0] ?? 0) <= 3000, `waited ${fake.sleeps[0]}`);
  });

  it('does not wait beyond the total time budget: a long Retry-After ends in rate-limited', async () => {
    const srv = await scripted((_req, res) => json(res, 429, { errorCode: 'too-many-requests', message: 'Too many requests' }, { 'retry-after': '600' }));
    const http = new SodaHttp({ domain: srv.domain, retry: { maxElapsedMs: 5000 } });
    const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/x' }));
    await http.close();
    assert.equal(srv.seen.length, 1);
    assert.equal(e.kind, 'rate-limited');
    assert.equal(e.retryAfterMs, 600_000);
    assert.equal(e.code, 'too-many-requests');
    assert.match(e.message, /Retry after 600 s/);
  });

  it('retries a safe PUT after the connection is reset', async () => {
    const srv = await scripted((req, res, n) => (n === 0 ? req.socket.destroy() : json(res, 200, { 'Rows Created': 1 })));
    const http = new SodaHttp({ domain: srv.domain, retry: { baseDelayMs: 1 } });
    const res = await http.request({ method: 'PUT', path: '/resource/abcd-1234.json', json: [{ a: 1 }], safeToRepeat: true });
    await http.close();
    assert.equal(srv.seen.length, 2);
    assert.equal(srv.seen[1]?.body, '[{"a":1}]');
    assert.equal(srv.seen[1]?.headers['content-type'], 'application/json');
    assert.deepEqual(res.body, { 'Rows Created': 1 });
  });

  it('replays a body factory on each attempt', async () => {
    const srv = await scripted((_req, res, n) => (n === 0 ? json(res, 502, {}) : json(res, 200, {})));
    const http = new SodaHttp({ domain: srv.domain, retry: { baseDelayMs: 1 } });
    let made = 0;
    await http.request({
      method: 'PUT',
      path: '/x',
      safeToRepeat: true,
      contentType: 'text/csv',
      body: () => {
        made++;
        return Readable.from(['a,b\n', '1,2\n']);
      },
    });
    await http.close();
    assert.equal(made, 2);
    assert.deepEqual(
      srv.seen.map((s) => s.body),
      ['a,b\n1,2\n', 'a,b\n1,2\n'],
    );
  });
});

describe('soda gateway: requests that are not safe to repeat', () => {
  it('a 5xx on an append is not retried and the outcome is unknown', async () => {
    const srv = await scripted((_req, res) => json(res, 503, { errorCode: 'service-unavailable', message: 'Service unavailable' }));
    const http = new SodaHttp({ domain: srv.domain, retry: { baseDelayMs: 1 } });
    const e = await rejectsWithSodaError(http.request({ method: 'POST', path: '/resource/abcd-1234.json', json: [{ a: 1 }] }));
    await http.close();
    assert.equal(srv.seen.length, 1);
    assert.equal(e.kind, 'server');
    assert.equal(e.outcome, 'unknown');
    assert.match(e.message, /may or may not have been applied/);
  });

  it('a reset after the body was sent is not retried and the outcome is unknown', async () => {
    const srv = await scripted((req) => req.socket.destroy());
    const http = new SodaHttp({ domain: srv.domain, retry: { baseDelayMs: 1 } });
    const e = await rejectsWithSodaError(http.request({ method: 'POST', path: '/resource/abcd-1234.json', json: [{ a: 1 }] }));
    await http.close();
    assert.equal(srv.seen.length, 1);
    assert.equal(srv.seen[0]?.body, '[{"a":1}]');
    assert.equal(e.kind, 'network');
    assert.equal(e.outcome, 'unknown');
    assert.match(e.message, new RegExp(`Network error: .*127\\.0\\.0\\.1:${srv.port}`));
  });

  it('a 4xx is not retried and says the change was not applied', async () => {
    const srv = await scripted((_req, res) =>
      json(res, 400, { errorCode: 'soda.row.column-not-found', message: "One or more rows expected column 'zzz' which was not found on the dataset" }),
    );
    const http = new SodaHttp({ domain: srv.domain });
    const e = await rejectsWithSodaError(http.request({ method: 'POST', path: '/x', json: [{ zzz: 1 }] }));
    await http.close();
    assert.equal(srv.seen.length, 1);
    assert.deepEqual([e.kind, e.status, e.code, e.outcome], ['client', 400, 'soda.row.column-not-found', 'not-applied']);
    assert.match(e.message, /^Socrata rejected the request \(400 soda\.row\.column-not-found\): One or more rows.*The change was not applied\.$/);
  });

  it('a 429 proves nothing was applied, so even an append is retried', async () => {
    const srv = await scripted((_req, res, n) => (n === 0 ? json(res, 429, {}, { 'retry-after': '0' }) : json(res, 200, { 'Rows Created': 1 })));
    const http = new SodaHttp({ domain: srv.domain });
    const res = await http.request({ method: 'POST', path: '/x', json: [{ a: 1 }] });
    await http.close();
    assert.equal(srv.seen.length, 2);
    assert.deepEqual(res.body, { 'Rows Created': 1 });
  });

  it('a refused connection is not-applied (and retried)', async () => {
    const srv = await scripted(() => {});
    const port = srv.port;
    await srv.close();
    const http = new SodaHttp({ domain: `127.0.0.1:${port}`, retry: { maxAttempts: 2, baseDelayMs: 1 } });
    const e = await rejectsWithSodaError(http.request({ method: 'POST', path: '/x', json: [] }));
    await http.close();
    assert.deepEqual([e.kind, e.outcome, e.attempts], ['network', 'not-applied', 2]);
    assert.match(e.message, new RegExp(`connection to 127\\.0\\.0\\.1:${port} was refused.*was not applied`));
  });

  it('a streamed body cannot be replayed, so it gets one attempt', async () => {
    const srv = await scripted((_req, res) => json(res, 503, {}));
    const http = new SodaHttp({ domain: srv.domain, retry: { baseDelayMs: 1 } });
    const rows = Readable.from(['[', '{"a":1}', ']']);
    const e = await rejectsWithSodaError(http.request({ method: 'PUT', path: '/x', body: rows, contentType: 'application/json', safeToRepeat: true }));
    await http.close();
    assert.equal(srv.seen.length, 1);
    assert.equal(srv.seen[0]?.body, '[{"a":1}]');
    assert.equal(e.kind, 'server');
  });
});

describe('soda gateway: cancellation and time-outs', () => {
  it('cancels a request in flight; a cancelled write has an unknown outcome', async () => {
    let arrived!: () => void;
    const got = new Promise<void>((r) => {
      arrived = r;
    });
    const srv = await scripted(() => arrived()); // never answers
    const http = new SodaHttp({ domain: srv.domain });
    const ac = new AbortController();
    const pending = http.request({ method: 'POST', path: '/x', json: [], signal: ac.signal });
    await got;
    ac.abort();
    const e = await rejectsWithSodaError(pending);
    assert.deepEqual([e.kind, e.outcome], ['cancelled', 'unknown']);
    assert.match(e.message, /was cancelled/);

    const ac2 = new AbortController();
    ac2.abort();
    const e2 = await rejectsWithSodaError(http.request({ method: 'GET', path: '/x', signal: ac2.signal }));
    assert.equal(e2.kind, 'cancelled');
    assert.equal(e2.outcome, undefined);
    await http.close();
    assert.equal(srv.seen.length, 1);
  });

  it('cancels during the backoff wait', async () => {
    const srv = await scripted((_req, res) => json(res, 503, {}, { 'retry-after': '30' }));
    const ac = new AbortController();
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (ms, signal) => {
        ac.abort();
        return systemClock.sleep(ms, signal);
      },
    };
    const http = new SodaHttp({ domain: srv.domain, clock });
    const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/x', signal: ac.signal }));
    await http.close();
    assert.equal(e.kind, 'cancelled');
    assert.equal(srv.seen.length, 1);
  });

  it('times out a request that gets no answer (per-request limit and headers time-out)', async () => {
    const srv = await scripted(() => {});
    const http = new SodaHttp({ domain: srv.domain, retry: { maxAttempts: 1 } });
    const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/x', timeoutMs: 150 }));
    assert.equal(e.kind, 'network');
    assert.match(e.message, /timed out/);
    await http.close();
    const http2 = new SodaHttp({ domain: srv.domain, retry: { maxAttempts: 1 }, timeouts: { headersMs: 150 } });
    const e2 = await rejectsWithSodaError(http2.request({ method: 'GET', path: '/x' }));
    await http2.close();
    assert.equal(e2.kind, 'network');
    assert.match(e2.message, new RegExp(`127\\.0\\.0\\.1:${srv.port} did not answer in time`));
  });
});

describe('soda gateway: network failures name the host', () => {
  it('body time-out: the server sends headers, then stalls', async () => {
    const srv = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[1,');
    });
    const http = new SodaHttp({ domain: srv.domain, retry: { maxAttempts: 1 }, timeouts: { bodyMs: 150 } });
    const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/x' }));
    await http.close();
    assert.equal(e.kind, 'network');
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${srv.port} stopped sending the response`));
  });

  it('DNS failure (resolver injected into a real undici agent): not-applied, host named', async () => {
    const agent = new Agent({
      connect: {
        lookup: (host: string, _o: unknown, cb: (e: Error) => void) => cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })),
      } as never,
    });
    const http = new SodaHttp({ domain: 'data.example.org', dispatcher: agent, retry: { maxAttempts: 1 } });
    const e = await rejectsWithSodaError(http.request({ method: 'POST', path: '/resource/abcd-1234.json', json: [] }));
    await agent.close();
    assert.deepEqual([e.kind, e.outcome, e.code], ['network', 'not-applied', 'ENOTFOUND']);
    assert.match(e.message, /the host name data\.example\.org could not be found \(DNS\)\..*was not applied/);
  });

  it('TLS failure: https to a server that speaks plain http', async () => {
    const srv = await scripted((_req, res) => json(res, 200, {}));
    const http = new SodaHttp({ domain: `https://127.0.0.1:${srv.port}`, retry: { maxAttempts: 1 } });
    const e = await rejectsWithSodaError(http.request({ method: 'PUT', path: '/x', json: [], safeToRepeat: true }));
    await http.close();
    assert.deepEqual([e.kind, e.outcome], ['network', 'not-applied']);
    assert.match(e.message, new RegExp(`secure \\(TLS\\) connection to 127\\.0\\.0\\.1:${srv.port} failed`));
    assert.equal(srv.seen.length, 0);
  });

  it('cancels a download in the middle of the body', async () => {
    const srv = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('"a"\n"1"\n');
    });
    const http = new SodaHttp({ domain: srv.domain });
    const ac = new AbortController();
    const res = await http.request({ method: 'GET', path: '/resource/abcd-1234.csv', expect: 'stream', signal: ac.signal });
    const chunks: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of res.body) {
          chunks.push(String(chunk));
          ac.abort();
        }
      })(),
      /abort/i,
    );
    await http.close();
    assert.deepEqual(chunks, ['"a"\n"1"\n']);
  });
});

describe('soda gateway: hostile or odd servers', () => {
  it('refuses a redirect to another origin without sending anything there', async () => {
    const other = await scripted((_req, res) => json(res, 200, { stolen: true }));
    const srv = await scripted((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${other.port}/api/users/current.json` });
      res.end();
    });
    const http = new SodaHttp({ domain: srv.domain, auth: creds });
    const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/api/users/current.json' }));
    await http.close();
    assert.equal(e.kind, 'protocol');
    assert.match(
      e.message,
      new RegExp(
        `redirected the request to another origin \\(http://127\\.0\\.0\\.1:${other.port}\\); it was not followed, so credentials were not sent there`,
      ),
    );
    assert.equal(other.connections, 0);
    assert.equal(other.seen.length, 0);
  });

  it('follows a same-origin redirect of a GET', async () => {
    const srv = await scripted((req, res) => (req.url === '/old' ? (res.writeHead(301, { location: '/new' }), res.end()) : json(res, 200, { at: req.url })));
    const http = new SodaHttp({ domain: srv.domain });
    const res = await http.request({ method: 'GET', path: '/old' });
    await http.close();
    assert.deepEqual(res.body, { at: '/new' });
  });

  it('caps the size of JSON bodies, declared or streamed', async () => {
    const big = JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({ i, pad: 'xxxxxxxxxxxxxxxxxxxx' })));
    const srv = await scripted((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) });
        res.end(big);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked, no length
      for (let i = 0; i < big.length; i += 10_000) res.write(big.slice(i, i + 10_000));
      res.end();
    });
    const http = new SodaHttp({ domain: srv.domain, maxBodyBytes: 256 * 1024 });
    for (const path of ['/declared', '/chunked']) {
      const e = await rejectsWithSodaError(http.request({ method: 'GET', path }));
      assert.equal(e.kind, 'protocol', path);
      assert.match(e.message, /larger than the 256 KB limit/);
    }
    const ok = await http.request<unknown[]>({ method: 'GET', path: '/chunked', maxBodyBytes: 4 * 1024 * 1024 });
    assert.equal(ok.body.length, 40_000);
    await http.close();
  });

  it('reports non-JSON where JSON was expected with the status and a snippet', async () => {
    const srv = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Maintenance window</body></html>');
    });
    const http = new SodaHttp({ domain: srv.domain });
    const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/x' }));
    const text = await http.request({ method: 'GET', path: '/x', expect: 'text' });
    await http.close();
    assert.equal(e.kind, 'protocol');
    assert.equal(e.status, 200);
    assert.match(e.message, /answered 200 with something that is not JSON \(text\/html\): "<html><body>Maintenance window<\/body><\/html>"/);
    assert.equal(text.body, '<html><body>Maintenance window</body></html>');
  });

  it('streams a response body', async () => {
    const srv = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('"a"\n');
      res.end('"1"\n');
    });
    const http = new SodaHttp({ domain: srv.domain });
    const res = await http.request({ method: 'GET', path: '/resource/abcd-1234.csv', expect: 'stream' });
    let text = '';
    for await (const chunk of res.body) text += String(chunk);
    await http.close();
    assert.equal(text, '"a"\n"1"\n');
  });
});

describe('soda gateway: plain http only to loopback', () => {
  it('never connects to a non-loopback host over http (the rig would reach the server if it did)', async () => {
    const srv = await scripted((_req, res) => json(res, 200, { reached: true }));
    // A dispatcher that resolves data.example.org to our loopback server: if the gateway sent anything over
    // http to that name, the server would see a connection.
    const agent = new Agent({
      connect: {
        lookup: (_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
          if (opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
          else cb(null, '127.0.0.1', 4);
        },
      } as never,
    });
    // The rig works: a direct undici request to that name reaches the server.
    const direct = await undiciRequest(`http://data.example.org:${srv.port}/probe`, { dispatcher: agent });
    assert.deepEqual(await direct.body.json(), { reached: true });
    const before = srv.connections;
    assert.equal(before, 1);

    assert.throws(
      () => new SodaHttp({ domain: `http://data.example.org:${srv.port}`, auth: creds, dispatcher: agent }),
      (e: unknown) => e instanceof SodaError && e.kind === 'invalid-input' && /plain http/.test(e.message),
    );
    // A hand-made domain object claiming http for a public host is re-validated too.
    const forged: SodaDomain = {
      scheme: 'http',
      hostname: 'data.example.org',
      port: srv.port,
      host: `data.example.org:${srv.port}`,
      origin: `http://data.example.org:${srv.port}`,
      loopback: true,
    };
    assert.throws(
      () => new SodaHttp({ domain: forged, auth: creds, dispatcher: agent }),
      (e: unknown) => e instanceof SodaError && e.kind === 'invalid-input',
    );
    await agent.close();
    assert.equal(srv.connections, before);
    assert.equal(srv.seen.length, 1);
  });
});
