// Secrets never leave the request: after each flow, every message, error (message, data, JSON, inspect), log-hook
// event, result, journal, error-rows file and CLI output is scanned for every secret used (passwords, API key
// secrets, OAuth tokens, app tokens, and their HTTP Basic encodings).
// The host suite's secrets-scan.test.ts does the same for VS Code's settings, state, logs and output channel.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { publish } from '../../src/publish';
import { type HttpLogEvent, SodaClient, type SodaAuth } from '../../src/soda';
import { startEmulator } from '../emulator/index';
import { bundleCli } from '../lib/helpers';

let dir: string;
let emu: Awaited<ReturnType<typeof startEmulator>>;
let oauthToken = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'security-secrets-'));
  emu = await startEmulator({ port: 0, seed: 'sample' });
  oauthToken = emu.store.issueAccessToken('pub1-usr1', 'demo-app-token');
});
after(async () => {
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string): string => Buffer.from(s).toString('base64');
function secretsOf(auth: SodaAuth, appToken?: string): string[] {
  const out = appToken ? [appToken] : [];
  if (auth.type === 'basic') out.push(auth.password, b64(`${auth.email}:${auth.password}`));
  if (auth.type === 'apiKey') out.push(auth.keySecret, b64(`${auth.keyId}:${auth.keySecret}`));
  if (auth.type === 'oauth') out.push(auth.accessToken);
  return out;
}

function assertClean(what: string, text: string, secrets: string[]): void {
  for (const s of secrets) assert.ok(!text.includes(s), `${what} contains the secret ${s.slice(0, 3)}…`);
}

function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const AUTHS: SodaAuth[] = [
  { type: 'basic', email: 'publisher@example.org', password: 'publish-me' },
  { type: 'apiKey', keyId: 'demo_key_id', keySecret: 'demo_key_secret' },
];

describe('secrets: a server that echoes credentials', () => {
  let echo: Server;
  let port = 0;
  before(async () => {
    echo = createServer((req, res) => {
      const a = req.headers.authorization ?? '';
      const token = a.split(' ')[1] ?? '';
      const decoded = Buffer.from(token, 'base64').toString();
      res.writeHead(req.url?.includes('unauthorized') ? 401 : 400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          code: 'echo',
          error: true,
          message: `You sent ${a} (${decoded}) with app token ${String(req.headers['x-app-token'])}`,
          data: { authorization: a, decoded, nested: [{ again: token }] },
        }),
      );
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    port = (echo.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => echo.close(() => resolve())));

  for (const auth of [...AUTHS, { type: 'oauth', accessToken: 'oauth-token-0123456789' } as const]) {
    it(`${auth.type}: the error message, its data, JSON, inspect output and every log event carry no secret`, async () => {
      const events: HttpLogEvent[] = [];
      const appToken = 'app-token-abcdef';
      const c = new SodaClient({ domain: `127.0.0.1:${port}`, auth, appToken, retry: { maxAttempts: 1 }, onLog: (e) => events.push(e) });
      const secrets = secretsOf(auth, appToken);
      try {
        for (const path of ['/api/views/abcd-1234.json', '/unauthorized']) {
          const e = await c.http.request({ method: 'GET', path }).then(
            () => assert.fail('expected an error'),
            (x: unknown) => x as Error,
          );
          assert.match(e.message, /\[redacted\]/, 'the echo is visible, with the secret cut out');
          assertClean('message', e.message, secrets);
          assertClean('JSON', JSON.stringify(e), secrets);
          assertClean('inspect', inspect(e, { depth: 10 }), secrets);
        }
        assert.ok(events.length > 0);
        assertClean('log events', JSON.stringify(events), secrets);
      } finally {
        await c.close();
      }
    });
  }
});

describe('secrets: publish flows against the emulator', () => {
  it('success, cancel with a journal, bad rows, wrong credentials and a server failure: no secret in results, files or logs', async () => {
    const flowsDir = join(dir, 'flows');
    const journalDir = join(flowsDir, 'journal');
    const good = join(flowsDir, 'good.csv');
    const bad = join(flowsDir, 'bad.csv');
    const big = join(flowsDir, 'big.csv');
    mkdirSync(flowsDir, { recursive: true });
    writeFileSync(good, 'line_item,department,amount\nSEC-1,Parks,1\n');
    writeFileSync(bad, 'line_item,department,amount\nSEC-2,Parks,lots\nSEC-3,Parks,3\n');
    writeFileSync(big, `line_item,department,amount\n${Array.from({ length: 500 }, (_, i) => `SEC-B-${i},Parks,${i}`).join('\n')}\n`);
    const auths: SodaAuth[] = [...AUTHS, { type: 'oauth', accessToken: oauthToken }];
    for (const auth of auths) {
      const events: HttpLogEvent[] = [];
      const secrets = secretsOf(auth, 'demo-app-token');
      const c = new SodaClient({
        domain: emu.domain,
        auth,
        appToken: 'demo-app-token',
        retry: { baseDelayMs: 1, maxDelayMs: 5 },
        onLog: (e) => events.push(e),
      });
      const results: unknown[] = [];
      try {
        results.push(await publish(c, { file: good, dataset: 'bdgt-priv', mode: 'upsert' }, { journalDir }));
        results.push(await publish(c, { file: bad, dataset: 'bdgt-priv', mode: 'upsert', skipBadRows: true }, { journalDir }));
        const ac = new AbortController();
        results.push(
          await publish(
            c,
            { file: big, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 50, concurrency: 1 },
            {
              journalDir,
              signal: ac.signal,
              onProgress: (p) => {
                if (p.stage === 'sending' && p.rowsDone >= 100) ac.abort();
              },
            },
          ),
        );
        emu.setFaults('error=1,errorStatus=503,only=writes');
        results.push(await publish(c, { file: big, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 50 }, { journalDir }));
        emu.setFaults(undefined);
      } finally {
        emu.setFaults(undefined);
        await c.close();
      }
      assert.ok(
        events.some((e) => e.phase === 'retry'),
        'the failure flow retried (and logged it)',
      );
      assertClean(`${auth.type}: results`, JSON.stringify(results), secrets);
      assertClean(`${auth.type}: log events`, JSON.stringify(events), secrets);
      const files = filesUnder(flowsDir);
      assert.ok(files.some((f) => f.endsWith('.errors.csv')) && files.some((f) => f.startsWith(journalDir)), 'the flows wrote an error-rows CSV and a journal');
      for (const f of files) assertClean(`${auth.type}: ${f}`, readFileSync(f, 'latin1'), secrets);
    }
    // Wrong credentials: the refusal says so without repeating what was typed.
    const wrong: SodaAuth = { type: 'basic', email: 'publisher@example.org', password: 'wrong-secret-value' };
    const c = new SodaClient({ domain: emu.domain, auth: wrong, retry: { maxAttempts: 1 } });
    try {
      const r = await publish(c, { file: good, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(r.status, 'refused');
      assert.match(r.message, /refused the credentials/);
      assertClean('wrong credentials', JSON.stringify(r), secretsOf(wrong));
    } finally {
      await c.close();
    }
  });
});

describe('secrets: the CLI', () => {
  it('never prints a secret: success, --json, wrong secret, OAuth token, server failure', async () => {
    const bundle = await bundleCli(dir);
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOCRATA_')));
    const run = (args: string[], env: Record<string, string>): Promise<string> =>
      new Promise((resolve) => {
        execFile(process.execPath, [bundle, ...args], { env: { ...clean, ...env } }, (_err, stdout, stderr) => resolve(stdout + stderr));
      });
    const csv = join(dir, 'cli.csv');
    writeFileSync(csv, 'line_item,department,amount\nSEC-CLI-1,Parks,1\n');
    const base = ['publish', csv, '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'upsert', '--journal-dir', join(dir, 'cli-journal')];
    const key = { SOCRATA_KEY_ID: 'demo_key_id', SOCRATA_KEY_SECRET: 'demo_key_secret', SOCRATA_APP_TOKEN: 'demo-app-token' };
    const pw = { SOCRATA_USERNAME: 'publisher@example.org', SOCRATA_PASSWORD: 'publish-me' };
    const outputs = [
      await run(base, key),
      await run([...base, '--json'], pw),
      await run([...base, '--json'], { ...key, SOCRATA_KEY_SECRET: 'wrong-secret-value' }),
      await run(base, { SOCRATA_OAUTH_TOKEN: oauthToken }),
    ];
    emu.setFaults('error=1,errorStatus=500,only=writes');
    try {
      outputs.push(await run([...base, '--json'], key));
    } finally {
      emu.setFaults(undefined);
    }
    assert.match(outputs[0], /created/);
    assert.match(outputs[2], /refused the credentials/);
    const all = outputs.join('\n');
    assertClean('CLI output', all, [...secretsOf(AUTHS[1]), ...secretsOf(AUTHS[0]), 'wrong-secret-value', oauthToken, b64('demo_key_id:wrong-secret-value')]);
  });
});
