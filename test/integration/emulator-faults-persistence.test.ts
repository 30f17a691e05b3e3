// Emulator: deterministic fault injection, persistence across restarts with a data directory, and the CLI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseFaultSpec, startEmulator, type RunningEmulator } from '../emulator/index';
import { PUBLISHER_AUTH, call } from '../emulator/testing';

type Outcome = string;

async function outcome(url: string, init: RequestInit = {}): Promise<Outcome> {
  try {
    const res = await fetch(url, init);
    const body = await res.text();
    if (res.status === 429) return `429:${res.headers.get('retry-after') ?? '-'}:${(JSON.parse(body) as { errorCode: string }).errorCode}`;
    if (res.status >= 500) return `${res.status}:${(JSON.parse(body) as { errorCode: string }).errorCode}`;
    return String(res.status);
  } catch {
    return 'reset';
  }
}

describe('emulator: fault injection', () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startEmulator({ seed: 'sample' });
  });
  after(async () => {
    await emu.stop();
  });

  const SPEC = 'seed=42,latency=0-2,error=0.15,reset=0.1,throttle=0.1,burst=2,retryAfter=mixed';
  const run = async (n: number): Promise<Outcome[]> => {
    const out: Outcome[] = [];
    for (let i = 0; i < n; i++) out.push(await outcome(`${emu.url}/resource/tree-cnsu.json?$limit=1`));
    return out;
  };

  it('replays the same faults for the same seed, and different ones for another seed', async () => {
    emu.setFaults(SPEC);
    const first = await run(60);
    const log1 = emu.faultLog().map((e) => ({ ...e }));
    emu.setFaults(SPEC);
    const second = await run(60);
    assert.deepEqual(second, first);
    assert.deepEqual(emu.faultLog(), log1);
    const kinds = new Set(first.map((o) => o.split(':')[0]));
    for (const k of ['200', '500', 'reset', '429']) assert.ok(kinds.has(k), `expected some ${k} in ${first.join(' ')}`);
    assert.ok(first.includes('429:1:too-many-requests') && first.includes('429:-:too-many-requests'), 'bursts with and without Retry-After');
    const c = emu.store.faultCounters;
    assert.equal(c.requests, 60);
    assert.equal(c.errors5xx, first.filter((o) => o.startsWith('500')).length);
    assert.equal(c.resets, first.filter((o) => o === 'reset').length);
    assert.equal(c.throttled, first.filter((o) => o.startsWith('429')).length);
    emu.setFaults('seed=43,error=0.15,reset=0.1,throttle=0.1,burst=2');
    assert.notDeepEqual(await run(60), first);
    emu.setFaults(undefined);
    assert.deepEqual(await run(3), ['200', '200', '200']);
  });

  it('throttles in bursts of the configured length', async () => {
    emu.setFaults('seed=5,throttle=0.2,burst=3,retryAfter=7');
    const out = await run(40);
    const log = emu.faultLog();
    // Every burst start is followed by two more 429s.
    for (let i = 0; i < log.length; i++) {
      if (log[i]?.decision === 'throttle' && log[i - 1]?.decision !== 'throttle') {
        assert.equal(log[i + 1]?.decision ?? 'throttle', 'throttle');
        assert.equal(log[i + 2]?.decision ?? 'throttle', 'throttle');
      }
    }
    assert.ok(out.some((o) => o === '429:7:too-many-requests'));
    emu.setFaults(undefined);
  });

  it('never changes state when the fault is decided before the write', async () => {
    const rows = [{ permit_id: 'FAULT-1', address: 'x' }];
    const init = { method: 'POST', headers: { authorization: PUBLISHER_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(rows) };
    for (const spec of ['error=1,only=writes', 'reset=1,only=writes', 'throttle=1,retryAfter=none,only=writes', 'error=1,errorStatus=503']) {
      emu.setFaults(spec);
      const o = await outcome(`${emu.url}/resource/bldg-prmt.json`, init);
      assert.notEqual(o, '200', spec);
      assert.equal(emu.store.findRow('bldg-prmt', 'FAULT-1'), undefined, spec);
    }
    assert.equal(await outcome(`${emu.url}/resource/bldg-prmt.json`, init), '503:service-unavailable');
    emu.setFaults('throttle=1,retryAfter=none,only=writes');
    assert.equal(await outcome(`${emu.url}/resource/bldg-prmt.json`, init), '429:-:too-many-requests');
    assert.equal(emu.store.faultCounters.throttledWithRetryAfter, 0);
    assert.equal(emu.store.appliedWrites.filter((w) => w.dataset === 'bldg-prmt').length, 0);
    emu.setFaults(undefined);
  });

  it('applies the write and then resets the connection in resetAfterApply mode', async () => {
    emu.setFaults('resetAfterApply=1,only=writes');
    const init = {
      method: 'POST',
      headers: { authorization: PUBLISHER_AUTH, 'content-type': 'application/json', 'x-socrata-requestid': 'unknown-outcome' },
      body: JSON.stringify([{ permit_id: 'APPLIED-1' }]),
    };
    assert.equal(await outcome(`${emu.url}/resource/bldg-prmt.json`, init), 'reset');
    assert.ok(emu.store.findRow('bldg-prmt', 'APPLIED-1'), 'the row was applied');
    assert.equal(emu.store.appliedWrites.at(-1)?.requestId, 'unknown-outcome');
    assert.equal(emu.store.faultCounters.resetsAfterApply, 1);
    assert.equal(await outcome(`${emu.url}/resource/bldg-prmt/APPLIED-1.json`), '200', 'reads are not targeted');
    emu.setFaults(undefined);
  });

  it('targets path prefixes', async () => {
    emu.setFaults('error=1,only=/api/views');
    assert.equal(await outcome(`${emu.url}/api/views/bldg-prmt.json`), '500:internal-error');
    assert.equal(await outcome(`${emu.url}/resource/bldg-prmt.json?$limit=1`), '200');
    emu.setFaults(undefined);
  });

  it('refuses a bad spec with a message naming the item', async () => {
    assert.throws(() => parseFaultSpec('error=2'), /error=2: expected a rate between 0 and 1/);
    assert.throws(() => parseFaultSpec('bogus=1'), /unknown key "bogus"/);
    assert.throws(() => parseFaultSpec('latency=fast'), /latency=fast/);
    assert.throws(() => parseFaultSpec('only=sometimes'), /only=sometimes/);
    await assert.rejects(startEmulator({ faults: 'reset' }), /item "reset" is not key=value/);
    assert.deepEqual(parseFaultSpec(''), parseFaultSpec('seed=1'));
  });
});

describe('emulator: persistence with a data directory', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'soda-emu-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps users, tokens, datasets and rows across a restart', async () => {
    const a = await startEmulator({ dataDir: dir, seed: 'sample' });
    let token: string;
    let id: string;
    try {
      assert.equal(
        (
          await call(a.url, '/resource/bldg-prmt.json', {
            method: 'POST',
            headers: { authorization: PUBLISHER_AUTH },
            json: [{ permit_id: 'BP-2025-00001', valuation: 1 }, { permit_id: 'KEPT-1' }, { permit_id: 'BP-2025-00002', ':deleted': true }],
          })
        ).status,
        200,
      );
      assert.equal(
        (await call(a.url, '/resource/tree-cnsu.json', { method: 'PUT', headers: { authorization: PUBLISHER_AUTH }, json: [{ species: 'Only' }] })).status,
        200,
      );
      a.store.createUser({ id: 'new1-usr1', email: 'new@example.org', password: 'pw', displayName: 'New', roleName: 'publisher' });
      token = a.store.issueAccessToken('new1-usr1', 'demo-app-token');
      id = a.store.createDataset({
        name: 'Fresh',
        owner: 'new1-usr1',
        isPublic: true,
        rowIdentifier: 'code',
        columns: [
          { name: 'Code', dataTypeName: 'text' },
          { name: 'When', dataTypeName: 'floating_timestamp' },
        ],
      });
      a.store.upsertRows(id, [{ code: 'a', when: '2026-01-01T10:00' }]);
      a.store.setApprovalRequired(id, true);
    } finally {
      await a.stop();
    }
    const b = await startEmulator({ dataDir: dir, seed: 'sample' });
    try {
      assert.equal(b.store.rowCount('bldg-prmt'), 500);
      assert.equal((await call<Record<string, unknown>>(b.url, '/resource/bldg-prmt/BP-2025-00001.json')).body.valuation, '1');
      assert.equal((await call(b.url, '/resource/bldg-prmt/KEPT-1.json')).status, 200);
      assert.equal((await call(b.url, '/resource/bldg-prmt/BP-2025-00002.json')).status, 404);
      assert.deepEqual((await call(b.url, '/resource/tree-cnsu.json')).body, [{ species: 'Only' }]);
      assert.equal(b.store.rowCount('crsh-larg'), 60000, 'untouched sample datasets are regenerated');
      const me = await call<Record<string, unknown>>(b.url, '/api/users/current.json', { headers: { authorization: `OAuth ${token}` } });
      assert.equal(me.body.id, 'new1-usr1');
      assert.equal(
        (await call(b.url, '/api/users/current.json', { headers: { authorization: 'Basic ' + Buffer.from('new@example.org:pw').toString('base64') } })).status,
        200,
      );
      assert.deepEqual((await call(b.url, `/resource/${id}.json`)).body, [{ code: 'a', when: '2026-01-01T10:00:00.000' }]);
      assert.equal(b.store.getDataset(id)?.approvalRequired, true);
      assert.equal(b.store.getDataset(id)?.rowIdentifier, 'code');
      // New rows continue the :id sequence without collisions.
      b.store.upsertRows('bldg-prmt', [{ permit_id: 'AFTER-1' }]);
      const ids = new Set(b.store.getRows('bldg-prmt').map((r) => r.id));
      assert.equal(ids.size, 501);
    } finally {
      await b.stop();
    }
  });
});

describe('emulator: CLI', () => {
  const cli = join(__dirname, '..', 'emulator', 'cli.ts');

  it('prints exactly one listening line, serves, and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--seed', 'sample', '--faults', 'seed=3,latency=1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: string) => {
          out += d;
          if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const m = /^SODA emulator listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      assert.ok(m, line);
      const r = await call<Record<string, unknown>>(m[1] ?? '', '/api/views/bldg-prmt.json');
      assert.equal(r.status, 200);
      const code = await new Promise<number | null>((resolve) => {
        child.once('exit', (c) => resolve(c));
        child.kill('SIGTERM');
      });
      assert.equal(code, 0);
      assert.equal(out, `${line}\n`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('exits with status 2 and a message for bad arguments', async () => {
    for (const [args, msg] of [
      [['--port', 'abc'], /--port: "abc" is not a port number/],
      [['--faults', 'error=9'], /error=9/],
      [['--seed', 'lots'], /--seed/],
      [['--frobnicate'], /unknown argument/],
    ] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => (err += d));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.equal(code, 2, args.join(' '));
      assert.match(err, msg);
    }
  });
});
