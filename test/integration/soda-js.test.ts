// soda-js (Socrata's JavaScript client, from npm), run unchanged against the emulator: query, upsert, one-row update,
// one-row replace and delete. soda-js always speaks https (`https://<dataSite><path>`), so the test puts a TLS front
// with a certificate made by openssl at test time before the emulator, and runs soda-js in a child process that
// trusts that certificate (NODE_EXTRA_CA_CERTS); the emulator answers every request.
import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningEmulator, SAMPLE, startEmulator } from '../emulator/index';

const root = join(__dirname, '..', '..');

/**
 * The child: builds `new soda.Consumer(site, opts).query()` or `new soda.Producer(site, opts).operation()`, calls
 * the chain of methods, and prints the body of soda-js's `success` or `error` event as JSON.
 */
const CHILD = `
const soda = require('soda-js');
const [site, spec] = process.argv.slice(1);
const { kind, opts, chain } = JSON.parse(spec);
let target = kind === 'consumer' ? new soda.Consumer(site, opts).query() : new soda.Producer(site, opts).operation();
for (const [method, ...args] of chain) target = target[method](...args);
target.on('success', (body) => process.stdout.write(JSON.stringify({ ok: true, body })));
target.on('error', (body) => process.stdout.write(JSON.stringify({ ok: false, body })));
`;

let emu: RunningEmulator;
let front: Server;
let dataSite: string;
let dir: string;
let cert: string;
const seen: string[] = [];

type Call = [string, ...unknown[]];

/** Runs soda-js in a child process; resolves with the body of its success event, rejects with its error event's. */
function sodaJs(kind: 'consumer' | 'producer', opts: Record<string, unknown>, chain: Call[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: cert };
    execFile(process.execPath, ['-e', CHILD, dataSite, JSON.stringify({ kind, opts, chain })], { cwd: root, env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`soda-js child failed: ${err.message}\n${stderr}`));
      let out: { ok: boolean; body: unknown };
      try {
        out = JSON.parse(stdout) as { ok: boolean; body: unknown };
      } catch {
        return reject(new Error(`soda-js child printed no event: ${stdout}\n${stderr}`));
      }
      if (out.ok) resolve(out.body);
      else reject(Object.assign(new Error(`soda-js error event: ${JSON.stringify(out.body)}`), { body: out.body }));
    });
  });
}

const auth = { username: SAMPLE.users.publisher.email, password: SAMPLE.users.publisher.password, apiToken: SAMPLE.appToken };

before(async () => {
  emu = await startEmulator({ port: 0, seed: 'sample' });
  dir = mkdtempSync(join(tmpdir(), 'soda-js-'));
  const key = join(dir, 'key.pem');
  cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  front = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    const up = httpRequest(
      { host: '127.0.0.1', port: emu.port, method: req.method, path: req.url, headers: { ...req.headers, host: emu.domain } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  dataSite = `127.0.0.1:${(front.address() as AddressInfo).port}`;
});

after(async () => {
  front.closeAllConnections();
  await new Promise<void>((resolve) => front.close(() => resolve()));
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('soda-js, unchanged, against the emulator', () => {
  it('query: a built query and a raw $query give the rows /resource gives', async () => {
    const token = { apiToken: SAMPLE.appToken };
    const rows = (await sodaJs('consumer', token, [
      ['withDataset', 'bldg-prmt'],
      ['select', 'permit_id', 'valuation'],
      ['where', { is_residential: true }],
      ['order', 'permit_id'],
      ['limit', 5],
      ['getRows'],
    ])) as Record<string, unknown>[];
    assert.equal(rows.length, 5);
    assert.deepEqual(Object.keys(rows[0] ?? {}).sort(), ['permit_id', 'valuation']);
    const direct = await fetch(`${emu.url}/resource/bldg-prmt.json?$select=permit_id,valuation&$where=is_residential=true&$order=permit_id&$limit=5`);
    assert.deepEqual(rows, await direct.json());
    const raw = (await sodaJs('consumer', token, [['withDataset', 'bldg-prmt'], ['soql', 'SELECT count(*) AS n'], ['getRows']])) as { n: string }[];
    assert.ok(Number(raw[0]?.n) > 5);
    assert.ok(
      seen.some((s) => s.startsWith('GET /resource/bldg-prmt.json?')),
      seen.join('\n'),
    );
  });

  it('upsert creates and updates rows by the row identifier and answers the counts', async () => {
    const created = (await sodaJs('producer', auth, [
      ['withDataset', 'bdgt-priv'],
      [
        'upsert',
        [
          { line_item: 'SJS-1', department: 'Parks', amount: 10 },
          { line_item: 'SJS-2', department: 'Fire', amount: 20 },
        ],
      ],
    ])) as Record<string, number>;
    assert.equal(created['Rows Created'], 2);
    const updated = (await sodaJs('producer', auth, [
      ['withDataset', 'bdgt-priv'],
      ['upsert', [{ line_item: 'SJS-1', amount: 11 }]],
    ])) as Record<string, number>;
    assert.equal(updated['Rows Updated'], 1);
    assert.equal(emu.store.findRow('bdgt-priv', 'SJS-1')?.v.amount, '11', 'numbers are kept as SODA number text');
    assert.equal(emu.store.findRow('bdgt-priv', 'SJS-1')?.v.department, 'Parks', 'an upsert merges: fields not sent are kept');
  });

  it('update (POST of one row to /resource/{4x4}/{id}) changes that row', async () => {
    const row = (await sodaJs('producer', auth, [
      ['withDataset', 'bdgt-priv'],
      ['update', 'SJS-2', { amount: 21 }],
    ])) as Record<string, unknown>;
    assert.equal(row.line_item, 'SJS-2');
    assert.equal(emu.store.findRow('bdgt-priv', 'SJS-2')?.v.amount, '21');
  });

  it("replace (PUT of one row to /resource/{4x4}/{id}) is refused with 405, as soda-fountain's row route serves only GET, POST and DELETE; nothing changes", async () => {
    const before = emu.store.findRow('bdgt-priv', 'SJS-2')?.v;
    await assert.rejects(
      sodaJs('producer', auth, [
        ['withDataset', 'bdgt-priv'],
        ['replace', 'SJS-2', { line_item: 'SJS-2', amount: 99 }],
      ]),
      (e: unknown) => {
        const body = (e as { body?: { errorCode?: string; data?: { allowed?: string[] } } }).body;
        return body?.errorCode === 'method-not-allowed' && JSON.stringify(body.data?.allowed) === JSON.stringify(['GET', 'POST', 'DELETE']);
      },
    );
    assert.deepEqual(emu.store.findRow('bdgt-priv', 'SJS-2')?.v, before);
  });

  it('delete removes one row by its identifier; deleting it again is an error event', async () => {
    await sodaJs('producer', auth, [
      ['withDataset', 'bdgt-priv'],
      ['delete', 'SJS-1'],
    ]);
    assert.equal(emu.store.findRow('bdgt-priv', 'SJS-1'), undefined);
    await assert.rejects(
      sodaJs('producer', auth, [
        ['withDataset', 'bdgt-priv'],
        ['delete', 'SJS-1'],
      ]),
      /soda\.row\.not-found|not found/i,
    );
  });

  it('a write without credentials is refused and reaches soda-js as an error event', async () => {
    await assert.rejects(
      sodaJs('producer', { apiToken: SAMPLE.appToken }, [
        ['withDataset', 'crsh-larg'],
        ['upsert', [{ crash_id: 'SJS-3' }]],
      ]),
      /logged in/i,
    );
    assert.equal(emu.store.findRow('crsh-larg', 'SJS-3'), undefined);
  });
});
