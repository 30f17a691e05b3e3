// socrata-publish (src/cli.ts) as a separate process against the emulator: exit codes, JSON output, refusals.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../emulator/index';
import { bundleCli } from '../lib/helpers';

const root = join(__dirname, '..', '..');
const KEY_ENV = { SOCRATA_KEY_ID: 'demo_key_id', SOCRATA_KEY_SECRET: 'demo_key_secret' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let bundle = '';

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  // Async (not spawnSync): the emulator answers from this process's event loop.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOCRATA_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [bundle, ...args], { cwd: root, env: { ...clean, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('socrata-publish CLI', () => {
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let dir: string;
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'publish-cli-'));
    // The CLI as it ships: bundled by esbuild the way esbuild.js builds dist/cli.js (into a temp dir).
    bundle = await bundleCli(dir);
    emu = await startEmulator({ port: 0, seed: 'sample' });
  });
  after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help exits 0; no command and bad usage exit 2 with a message', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /socrata-publish publish <csv> --domain/);
    const none = await cli([]);
    assert.equal(none.code, 2);
    const badMode = await cli(['publish', file('a.csv', 'x\n1\n'), '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'merge']);
    assert.equal(badMode.code, 2);
    assert.match(badMode.stderr, /--mode: must be one of upsert, append, replace, delete, create, sync \(got "merge"\)/);
    const badFlag = await cli(['publish', '--nope']);
    assert.equal(badFlag.code, 2);
    const badDataset = await cli(['publish', 'a.csv', '--domain', emu.domain, '--dataset', 'BAD', '--mode', 'upsert']);
    assert.equal(badDataset.code, 2);
    assert.match(badDataset.stderr, /--dataset: "BAD" is not a 4x4 id/);
  });

  it('publish --json upserts and prints the result; exit 0', async () => {
    const csv = file('cli-upsert.csv', 'line_item,department,amount\nCLI-1,Parks,1\nCLI-2,Fire,2\n');
    const r = await cli(['publish', csv, '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'upsert', '--json', '--batch-size', '1'], KEY_ENV);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout) as { status: string; created: number; plan: { counts: { toCreate: number } }; requestIds: string[] };
    assert.equal(out.status, 'success');
    assert.equal(out.created, 2);
    assert.equal(out.plan.counts.toCreate, 2);
    assert.equal(out.requestIds.length, 2);
    assert.equal(r.stderr, '', 'a short run prints no progress on a stderr that is not a terminal');
    assert.ok(emu.store.findRow('bdgt-priv', 'CLI-2'));
    assert.doesNotMatch(r.stdout + r.stderr, /demo_key_secret/);
  });

  it('refuses an unknown dataset, an unreadable file and wrong credentials: exit 1 with a clear message', async () => {
    const csv = file('cli-b.csv', 'line_item,department,amount\nX,Y,1\n');
    const unknown = await cli(['publish', csv, '--domain', emu.domain, '--dataset', 'zzzz-9999', '--mode', 'upsert'], KEY_ENV);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Dataset zzzz-9999 was not found/);
    const missing = await cli(['publish', join(dir, 'nope.csv'), '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'upsert'], KEY_ENV);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.csv: cannot read the file \(it does not exist\)/);
    const wrong = await cli(['publish', csv, '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'upsert'], {
      SOCRATA_KEY_ID: 'demo_key_id',
      SOCRATA_KEY_SECRET: 'wrong',
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the credentials/);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /Basic [A-Za-z0-9+/=]{8,}/, 'no credentials in the output');
  });

  it('a spec: dry run with flags overriding, secrets refused naming the key, bad mode named', async () => {
    const csv = file('spec-data.csv', 'line_item,department,amount\nS-1,Parks,1\n');
    const spec = file('socrata.publish.json', JSON.stringify({ domain: emu.domain, dataset: 'bdgt-priv', csv: 'spec-data.csv', mode: 'upsert' }));
    const dry = await cli(['publish', '--spec', spec, '--dry-run', '--json'], KEY_ENV);
    assert.equal(dry.code, 0, dry.stderr);
    const out = JSON.parse(dry.stdout) as { status: string; plan: { counts: { toCreate: number }; file: { path: string } } };
    assert.equal(out.status, 'dry-run');
    assert.equal(out.plan.counts.toCreate, 1);
    assert.equal(out.plan.file.path, csv);
    assert.equal(emu.store.findRow('bdgt-priv', 'S-1'), undefined, 'a dry run writes nothing');
    const secret = file(
      'secret.socrata.json',
      JSON.stringify({ domain: emu.domain, dataset: 'bdgt-priv', csv: 'spec-data.csv', mode: 'upsert', password: 'x' }),
    );
    const s = await cli(['publish', '--spec', secret], KEY_ENV);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /secret\.socrata\.json: password: looks like a secret/);
    const bad = file('bad.socrata.json', JSON.stringify({ domain: emu.domain, dataset: 'bdgt-priv', csv: 'spec-data.csv', mode: 'merge' }));
    const b = await cli(['publish', '--spec', bad], KEY_ENV);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /mode: must be one of upsert, append, replace, delete, create, sync \(got "merge"\)/);
  });

  it('Ctrl+C cancels after the requests in flight (exit 1); running again resumes from the journal (exit 0)', async () => {
    const n = 2000;
    const csv = file('cli-cancel.csv', `line_item,department,amount\n${Array.from({ length: n }, (_, i) => `K-${i},D,${i}`).join('\n')}\n`);
    emu.setFaults('latency=40-40,only=writes');
    try {
      const args = [bundle, 'publish', csv, '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'upsert', '--batch-size', '50', '--concurrency', '1'];
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOCRATA_')));
      const writes = (): number => emu.store.appliedWrites.filter((w) => w.dataset === 'bdgt-priv').length;
      const before = writes();
      const child = spawn(process.execPath, args, { env: { ...clean, ...KEY_ENV } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // Interrupted once a few batches were applied (a non-terminal stderr gets no progress line this early).
      const poll = setInterval(() => {
        if (writes() >= before + 3 && !child.killed) child.kill('SIGINT');
      }, 10);
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
      clearInterval(poll);
      assert.equal(code, 1, stderr);
      assert.match(stderr, /Cancelled after the requests in flight finished\. Applied: lines 2–\d+ of/);
      assert.match(stderr.trimEnd().split('\n').at(-1) ?? '', /^socrata-publish: Cancelled after/, 'the run ends with the failure');
      assert.ok(existsSync(join(dir, '.socrata')) && readdirSync(join(dir, '.socrata')).length === 1, 'the journal is next to the CSV');
      emu.setFaults(undefined);
      const again = await cli(['publish', csv, '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'upsert', '--batch-size', '500'], KEY_ENV);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /resuming: lines 2–\d+ were applied by an earlier run/);
      assert.match(again.stdout, /updated 0/);
      const sent = emu.store.appliedWrites
        .filter((w) => w.dataset === 'bdgt-priv')
        .reduce((s, w) => s + (w.result['Rows Created'] + w.result['Rows Updated']), 0);
      assert.ok(sent >= n);
      assert.equal(
        emu.store.appliedWrites.filter((w) => w.dataset === 'bdgt-priv').reduce((s, w) => s + w.result['Rows Updated'], 0),
        0,
        'no K- row was sent twice',
      );
    } finally {
      emu.setFaults(undefined);
    }
  });

  it('validate and query', async () => {
    const bad = file('validate.csv', 'line_item,department,amount\nV-1,Parks,1\nV-2,Parks,abc\n');
    const v = await cli(['validate', bad, '--domain', emu.domain, '--dataset', 'bdgt-priv', '--json'], KEY_ENV);
    assert.equal(v.code, 1);
    const out = JSON.parse(v.stdout) as { ok: boolean; rows: number; problems: string[] };
    assert.equal(out.ok, false);
    assert.equal(out.rows, 2);
    assert.match(out.problems.join('\n'), /validate\.csv:3:3 \(amount\)/);
    const q = await cli(['query', '--domain', emu.domain, '--dataset', 'bdgt-priv', '--soql', "SELECT line_item WHERE line_item = 'CLI-1'", '--json'], KEY_ENV);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(JSON.parse(q.stdout), [{ line_item: 'CLI-1' }]);
    assert.equal(q.stderr, '', 'SODA3 answered: no fallback notice');
  });

  it('query: SODA3 needs credentials or an app token (said before sending); a portal without SODA3 is queried through SODA 2.1', async () => {
    const stmt = 'SELECT permit_id ORDER BY permit_id LIMIT 3';
    const anonymous = await cli(['query', '--domain', emu.domain, '--dataset', 'bldg-prmt', '--soql', stmt]);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /SODA3 queries only to a signed-in account or an application token.*SOCRATA_APP_TOKEN/);
    const withToken = await cli(['query', '--domain', emu.domain, '--dataset', 'bldg-prmt', '--soql', stmt, '--json'], { SOCRATA_APP_TOKEN: 'demo-app-token' });
    assert.equal(withToken.code, 0, withToken.stderr);
    const v2 = await startEmulator({ port: 0, seed: 'sample', soda: 2 });
    try {
      const old = await cli(['query', '--domain', v2.domain, '--dataset', 'bldg-prmt', '--soql', stmt, '--json'], KEY_ENV);
      assert.equal(old.code, 0, old.stderr);
      assert.deepEqual(JSON.parse(old.stdout), JSON.parse(withToken.stdout));
      assert.equal(old.stderr.match(/has no SODA3 query API/g)?.length, 1, old.stderr);
      assert.match(old.stderr, /SODA3 query answered 404.*SODA 2\.1 \/resource/);
    } finally {
      await v2.stop();
    }
  });

  it('a failed run: nothing on stdout, the failure last on stderr (no "Created 0…" after it)', async () => {
    const r = await cli(['publish', join(dir, 'absent.csv'), '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'upsert'], KEY_ENV);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /Created \d/);
    assert.match(r.stderr.trimEnd().split('\n').at(-1) ?? '', /^socrata-publish: .*absent\.csv: cannot read the file \(it does not exist\)/);
  });

  it('--json: only JSON on stdout, errors included (usage, a failed run, a portal error)', async () => {
    const usageErr = await cli(['publish', '--json', '--mode', 'merge']);
    assert.equal(usageErr.code, 2);
    assert.deepEqual(JSON.parse(usageErr.stdout), {
      ok: false,
      error: { message: 'publish needs a CSV file (or --spec with "csv").', exitCode: 2, kind: 'usage' },
    });
    assert.match(usageErr.stderr, /publish needs a CSV file/);

    const failed = await cli(['publish', join(dir, 'absent.csv'), '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'upsert', '--json'], KEY_ENV);
    assert.equal(failed.code, 1);
    const result = JSON.parse(failed.stdout) as { ok: boolean; status: string; message: string };
    assert.equal(result.ok, false);
    assert.equal(result.status, 'refused');
    assert.match(result.message, /cannot read the file/);

    const portal = await cli(['query', '--domain', emu.domain, '--dataset', 'zzzz-9999', '--json'], KEY_ENV);
    assert.equal(portal.code, 1);
    const err = JSON.parse(portal.stdout) as { ok: boolean; error: { kind: string; status: number; message: string; exitCode: number } };
    assert.equal(err.ok, false);
    assert.equal(err.error.status, 404);
    assert.equal(err.error.exitCode, 1);
    assert.match(portal.stderr, /^socrata-publish: /);

    const unreadable = await cli(['validate', join(dir, 'absent.csv'), '--json']);
    assert.equal(unreadable.code, 1);
    assert.match((JSON.parse(unreadable.stdout) as { error: { message: string } }).error.message, /absent\.csv: cannot read the file \(it does not exist\)/);
  });

  it('--quiet: no progress, the result still on stdout', async () => {
    const csv = file('cli-quiet.csv', 'line_item,department,amount\nQ-1,Parks,1\n');
    const r = await cli(['publish', csv, '--domain', emu.domain, '--dataset', 'bdgt-priv', '--mode', 'upsert', '--quiet'], KEY_ENV);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /Created 1, updated 0, deleted 0, errors 0/);
  });

  describe('validate: a file that cannot be a dataset is an error (exit 1) naming the line and column', () => {
    const cases: [name: string, text: string, expected: RegExp][] = [
      ['empty.csv', '', /empty\.csv:1:1: the file is empty \(0 bytes\)/],
      ['only-blank-lines.csv', '\n\n', /only-blank-lines\.csv:1:1: no header: the file has no line naming the columns/],
      ['no-header.csv', '1,2.5,3\n4,5,6\n', /no-header\.csv:1:1: no header: the first line holds values \("1", "2\.5", "3"\), not column names/],
      ['blank-name.csv', 'permit_id,,amount\n1,2,3\n', /blank-name\.csv:1:2: header: column 2 has a blank name/],
      [
        'same-field.csv',
        'Permit ID,amount,permit_id\n1,2,3\n',
        /same-field\.csv:1:3: header: column 3 \("permit_id"\) becomes the field name "permit_id", like column 1 \("Permit ID"\)/,
      ],
    ];
    for (const [name, text, expected] of cases) {
      it(name, async () => {
        const path = file(name, text);
        const r = await cli(['validate', path]);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout, expected);
        assert.match(r.stdout, /[1-9]\d* problem\(s\)/);
        const j = await cli(['validate', path, '--json']);
        assert.equal(j.code, 1);
        const out = JSON.parse(j.stdout) as { ok: boolean; problems: string[] };
        assert.equal(out.ok, false);
        assert.match(out.problems.join('\n'), expected);
      });
    }
    it('a good file: exit 0', async () => {
      const r = await cli(['validate', file('good.csv', 'permit_id,amount\n1,2\n')]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 rows, 0 problem\(s\)/);
    });
  });
});
