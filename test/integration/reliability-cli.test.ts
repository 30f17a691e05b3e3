// The CLI process killed with SIGKILL in the middle of a publish (no chance to clean up), then run again: it resumes
// from its journal. The emulator runs in this process, so its stored rows and applied-writes log are the truth.
//
// Upsert (row identifier): every row ends on the server exactly once with the file's values. Only the batches that
// were in flight at the kill can be applied twice (their answers were lost with the process; re-applying an upsert
// by row identifier changes nothing), so the applied log holds every row at least once and at most
// `concurrency × batch size` rows more.
// Append (no row identifier): the batch in flight at the kill is journaled as uncertain before it is sent; the next
// run refuses and names its lines, sends nothing, and after the user's choice never duplicates a row.
// Bad domains and ids on the command line are refused (exit 2) before any request.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../emulator/index';
import { bundleCli } from '../lib/helpers';

const KEY_ENV = { SOCRATA_KEY_ID: 'demo_key_id', SOCRATA_KEY_SECRET: 'demo_key_secret' };
let dir: string;
let bundle: string;
let emu: Awaited<ReturnType<typeof startEmulator>>;
const clean = (): NodeJS.ProcessEnv => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOCRATA_'))), ...KEY_ENV });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reliability-cli-'));
  bundle = await bundleCli(dir);
  emu = await startEmulator({ port: 0, seed: 'sample' });
});
after(async () => {
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bundle, ...args], { env: clean() }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Starts the CLI and SIGKILLs it once the emulator has applied `writes` requests to `dataset`. */
/**
 * Runs the CLI and kills it once `writes` writes reached the dataset, `delayMs` later (so that, with the emulator's
 * write latency above the delay, the next batch is surely on the wire and not between two batches).
 */
function publishAndKill(args: string[], dataset: string, writes: number, delayMs = 0): Promise<{ signal: NodeJS.Signals | null; appliedAtKill: number }> {
  const base = emu.store.appliedWrites.filter((w) => w.dataset === dataset).length;
  const child = spawn(process.execPath, [bundle, ...args], { env: clean(), stdio: ['ignore', 'ignore', 'ignore'] });
  let appliedAtKill = -1;
  const timer = setInterval(() => {
    const n = emu.store.appliedWrites.filter((w) => w.dataset === dataset).length - base;
    if (n >= writes && appliedAtKill < 0) {
      appliedAtKill = n;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    }
  }, 2);
  return new Promise((resolve) => {
    child.on('exit', (_code, signal) => {
      clearInterval(timer);
      resolve({ signal, appliedAtKill });
    });
  });
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

describe('reliability: the CLI killed mid-publish, then run again', () => {
  it('upsert: SIGKILL, then publish again resumes from the journal; every row exactly once on the server', async () => {
    const n = 3000;
    const batch = 50;
    const concurrency = 2;
    const csv = join(dir, 'kill-upsert.csv');
    writeFileSync(
      csv,
      `line_item,department,amount\n${Array.from({ length: n }, (_, i) => `KL-${String(i).padStart(5, '0')},Dept ${i % 5},${i}.5`).join('\n')}\n`,
    );
    const journalDir = join(dir, 'journal-upsert');
    const args = [
      'publish',
      csv,
      '--domain',
      emu.domain,
      '--dataset',
      'bdgt-priv',
      '--mode',
      'upsert',
      '--batch-size',
      String(batch),
      '--concurrency',
      String(concurrency),
      '--journal-dir',
      journalDir,
    ];
    const isOurs = (w: { dataset: string }): boolean => w.dataset === 'bdgt-priv';
    const before = emu.store.appliedWrites.filter(isOurs).length;
    emu.setFaults('latency=20-20,only=writes'); // keeps requests in flight, so the kill lands mid-publish
    let killed;
    try {
      killed = await publishAndKill(args, 'bdgt-priv', 10);
    } finally {
      emu.setFaults(undefined);
    }
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(existsSync(journalDir) && readdirSync(journalDir).some((f) => f.endsWith('.json')), 'the killed run left its journal');
    const firstRows = emu.store.appliedWrites
      .filter(isOurs)
      .slice(before)
      .reduce((s, w) => s + w.rowsIn, 0);
    assert.ok(firstRows > 0 && firstRows < n, `the kill came mid-publish (${firstRows} of ${n} rows applied)`);

    const again = await cli([...args, '--json']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const out = JSON.parse(again.stdout) as { status: string; resume?: { status: string; skippedRows: number }; created: number; updated: number };
    assert.equal(out.status, 'success');
    assert.equal(out.resume?.status, 'resumed');
    assert.ok(out.resume.skippedRows > 0, 'rows applied before the kill were skipped');
    assert.ok(out.resume.skippedRows <= firstRows);

    const rows = emu.store.getRows('bdgt-priv').filter((r) => text(r.v.line_item).startsWith('KL-'));
    assert.equal(rows.length, n, 'every row is on the server');
    assert.equal(new Set(rows.map((r) => text(r.v.line_item))).size, n, 'exactly once');
    for (const r of rows) {
      const i = Number(text(r.v.line_item).slice(3));
      if (r.v.department !== `Dept ${i % 5}` || r.v.amount !== `${i}.5`) assert.fail(`${text(r.v.line_item)} holds ${JSON.stringify(r.v)}`);
    }
    const applied = emu.store.appliedWrites
      .filter(isOurs)
      .slice(before)
      .reduce((s, w) => s + w.rowsIn, 0);
    assert.ok(applied >= n, 'every row was applied');
    assert.ok(applied - n <= concurrency * batch, `only the batches in flight at the kill were applied twice (${applied - n} extra rows)`);
    assert.equal(out.created + out.updated, n - out.resume.skippedRows, 'the second run counts each row it sent once');
    assert.equal(readdirSync(journalDir).filter((f) => f.endsWith('.json')).length, 0, 'the journal is removed when done');
  });

  it('append without a row identifier: after SIGKILL the next run names the uncertain lines and sends nothing; then no duplicate', async () => {
    const n = 1000;
    const csv = join(dir, 'kill-append.csv');
    writeFileSync(csv, `species,diameter_in\n${Array.from({ length: n }, (_, i) => `KA-${i},${i % 30}`).join('\n')}\n`);
    const journalDir = join(dir, 'journal-append');
    const args = [
      'publish',
      csv,
      '--domain',
      emu.domain,
      '--dataset',
      'tree-cnsu',
      '--mode',
      'append',
      '--batch-size',
      '50',
      '--concurrency',
      '1',
      '--journal-dir',
      journalDir,
    ];
    // Each write waits 400 ms on the server and the kill comes 150 ms after the fourth: the fifth batch is in flight.
    emu.setFaults('latency=400-400,only=writes');
    try {
      assert.equal((await publishAndKill(args, 'tree-cnsu', 4, 150)).signal, 'SIGKILL');
    } finally {
      emu.setFaults(undefined);
    }
    const count = (): Map<string, number> => {
      const m = new Map<string, number>();
      for (const r of emu.store.getRows('tree-cnsu')) {
        const s = text(r.v.species);
        if (s.startsWith('KA-')) m.set(s, (m.get(s) ?? 0) + 1);
      }
      return m;
    };
    const writes = emu.store.appliedWrites.length;
    const refused = await cli([...args, '--json']);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    const r = JSON.parse(refused.stdout) as { status: string; message: string; uncertainRanges: [number, number][] };
    assert.equal(r.status, 'refused');
    assert.equal(r.uncertainRanges.length, 1, 'one batch was in flight');
    const [a, b] = r.uncertainRanges[0];
    assert.match(r.message, new RegExp(`lines ${a}–${b}`));
    assert.equal(emu.store.appliedWrites.length, writes, 'nothing was sent');

    // The user checks those lines on the server and chooses: skip when they arrived, resend when they did not.
    const arrived = count();
    const inFlight = Array.from({ length: b - a + 1 }, (_, k) => `KA-${a - 2 + k}`);
    const there = inFlight.filter((s) => arrived.has(s)).length;
    assert.ok(there === 0 || there === inFlight.length, 'a batch is applied whole or not at all');
    const choice = there > 0 ? 'skip' : 'resend';
    const done = await cli([...args, '--uncertain', choice]);
    assert.equal(done.code, 0, done.stdout + done.stderr);
    const final = count();
    assert.equal(final.size, n, 'every row arrived');
    assert.ok(
      [...final.values()].every((k) => k === 1),
      'no row twice',
    );
  });

  it('refuses injected domains and dataset ids on the command line before any request (exit 2)', async () => {
    const csv = join(dir, 'inj.csv');
    writeFileSync(csv, 'line_item,department,amount\nX,Y,1\n');
    // Every case names a live recording server: had the CLI accepted the input, that server would see a connection.
    let connections = 0;
    const rec = createServer((_req, res) => res.end('{}'));
    rec.on('connection', () => connections++);
    await new Promise<void>((resolve) => rec.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(rec.address() as { port: number }).port}`;
    try {
      const cases: [string, string][] = [
        [`${host}/`, 'bdgt-priv'],
        [`evil.com/`, 'bdgt-priv'],
        [`a@${host}`, 'bdgt-priv'],
        [`${host}/../x`, 'bdgt-priv'],
        [`${host}%2F`, 'bdgt-priv'],
        [`${host} x`, 'bdgt-priv'],
        [`http://data.example.org`, 'bdgt-priv'],
        [host, '../'],
        [host, 'bdgt-priv/../x'],
        [host, 'bdgt%2Fpriv'],
        [host, 'bdgt priv'],
        [host, 'a@b'],
      ];
      for (const [domain, dataset] of cases) {
        const r = await cli(['publish', csv, '--domain', domain, '--dataset', dataset, '--mode', 'upsert']);
        assert.equal(r.code, 2, `${domain} ${dataset}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /--domain: Invalid Socrata domain|--dataset: .* is not a 4x4 id/);
      }
      assert.equal(connections, 0, 'no request was sent');
    } finally {
      await new Promise<void>((resolve) => rec.close(() => resolve()));
    }
  });
});
