// Domain, 4x4 and row-id input that tries path or host injection is refused before any request.
// Every hostile input here is built around a live loopback server that records each connection: if a client
// accepted the input and sent anything, that server would see it. parseDomain's own refusals (with reasons) are in
// soda-domain.test.ts; this file checks every entry point that takes such input (SodaClient constructor and
// endpoints, the publish engine; the DSMAPI client sends through the same validated gateway) and that a row id can never leave its path segment.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publish } from '../../src/publish';
import { isSodaError, SodaClient } from '../../src/soda';

const creds = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };
let server: Server;
let port = 0;
let connections = 0;
const seen: string[] = [];
const sockets = new Set<Socket>();
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'security-injection-'));
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"code":"not_found","error":true,"message":"Not found"}');
  });
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function refusedInput(e: unknown, field?: RegExp): void {
  assert.ok(isSodaError(e) || (e instanceof Error && e.name === 'PublishError'), `refused with a typed error, not ${String(e)}`);
  if (isSodaError(e)) assert.equal(e.kind, 'invalid-input', e.message);
  if (field) assert.match(e.message, field);
}

describe('security: injection in domains is refused before any request', () => {
  const hostile = (): string[] => [
    `127.0.0.1:${port}/`,
    `127.0.0.1:${port}/../api/users/current.json`,
    `127.0.0.1:${port}/%2F..`,
    `publisher@127.0.0.1:${port}`,
    `a@b@127.0.0.1:${port}`,
    `http://u:p@127.0.0.1:${port}`,
    `127.0.0.1:${port}?$$app_token=x`,
    `127.0.0.1:${port}#frag`,
    `127.0.0.1 :${port}`,
    `127.0.0.1:${port} x`,
    `127.0.0.1:${port}\\..`,
    `127.0.0.1%3A${port}`,
    `127.0.0.1:${port}%2F`,
    `127.0.0.1:${port}\nHost: evil.com`,
    `127.0.0.1:${port}\u0000`,
    `evil.com/`,
    `evil.com/@127.0.0.1:${port}`,
    `127.0.0.1:${port}@evil.com`,
    `../`,
    `javascript:alert(1)`,
    `file:///etc/passwd`,
    `ftp://127.0.0.1:${port}`,
    `http://data.example.org`,
  ];

  it('the SodaClient constructor refuses every variant; the live server saw nothing', () => {
    for (const domain of hostile()) {
      assert.throws(
        () => new SodaClient({ domain, auth: creds }),
        (e: unknown) => {
          refusedInput(e);
          return true;
        },
        JSON.stringify(domain),
      );
    }
    assert.equal(connections, 0);
  });

  it('white space around a pasted domain is trimmed, never sent', () => {
    for (const domain of [` 127.0.0.1:${port}`, `127.0.0.1:${port} `, `\t127.0.0.1:${port}\n`]) {
      const c = new SodaClient({ domain, auth: creds });
      assert.equal(c.domain.origin, `http://127.0.0.1:${port}`);
      void c.close();
    }
  });
});

describe('security: injection in 4x4 ids is refused before any request', () => {
  const bad = [
    '../',
    '..%2F..',
    'abcd%2F1234',
    'abcd-1234/../../api/users/current',
    'ab cd-1234',
    'abcd-1234 ',
    'abcd-1234?$select=*',
    'abcd-1234#x',
    'abcd-1234/',
    'evil.com/',
    'a@b',
    'ABCD-1234',
    'abcd_1234',
    'abcd-12345',
    '\u0430bcd-1234',
    'abcd-1234\u0000',
    '',
    'abcd-1234.json',
  ];

  it('every SodaClient endpoint refuses a bad 4x4 naming the field; the live server saw nothing', async () => {
    const client = new SodaClient({ domain: `127.0.0.1:${port}`, auth: creds, retry: { maxAttempts: 1 } });
    const before = { connections, seen: seen.length };
    try {
      for (const id of bad) {
        const calls: [string, () => Promise<unknown>][] = [
          ['view', () => client.view(id)],
          ['rows', () => client.rows(id, {})],
          ['count', () => client.count(id)],
          ['row', () => client.row(id, 'x')],
          ['upsert', () => client.upsert(id, [{ a: 1 }], { hasRowIdentifier: true })],
          ['replace', () => client.replace(id, [])],
          ['deleteRow', () => client.deleteRow(id, 'x')],
          ['exportCsv', () => client.exportCsv(id, { limit: 1 })],
        ];
        for (const [name, call] of calls) {
          await assert.rejects(
            call,
            (e: unknown) => {
              refusedInput(e);
              return true;
            },
            `${name}(${JSON.stringify(id)})`,
          );
        }
      }
    } finally {
      await client.close();
    }
    assert.deepEqual({ connections, seen: seen.length }, before, 'no request was sent');
  });

  it('the publish engine refuses a bad dataset id before reading anything from the server', async () => {
    const csv = join(dir, 'a.csv');
    writeFileSync(csv, 'a\n1\n');
    const client = new SodaClient({ domain: `127.0.0.1:${port}`, auth: creds, retry: { maxAttempts: 1 } });
    const before = connections;
    try {
      for (const id of bad) {
        const r = await publish(client, { file: csv, dataset: id, mode: 'upsert' });
        assert.equal(r.status, 'refused', JSON.stringify(id));
        assert.match(r.message, /^dataset: .* is not a 4x4 id/);
      }
    } finally {
      await client.close();
    }
    assert.equal(connections, before);
  });
});

describe('security: a row id stays one path segment', () => {
  it('a row id with slashes, dots, query and fragment characters is sent encoded, never as a path', async () => {
    const client = new SodaClient({ domain: `127.0.0.1:${port}`, auth: creds, retry: { maxAttempts: 1 } });
    const ids = ['../../api/users/current', '..', '.', 'a/b', 'a?b=c', 'a#b', 'a%2Fb', 'a b', '\\..\\x'];
    try {
      for (const id of ids) {
        const from = seen.length;
        await client.row('abcd-1234', id).catch(() => undefined);
        const urls = seen.slice(from);
        assert.ok(urls.length >= 1, `${JSON.stringify(id)} was requested`);
        for (const url of urls) {
          const path = url.split('?')[0];
          assert.ok(path.startsWith('/resource/abcd-1234/'), url);
          const rest = path.slice('/resource/abcd-1234/'.length);
          assert.ok(!rest.includes('/') && !rest.includes('?') && !rest.includes('#'), `one segment: ${url}`);
          assert.equal(decodeURIComponent(rest.replace(/\.json$/, '')), id, url);
        }
      }
    } finally {
      await client.close();
    }
  });
});
