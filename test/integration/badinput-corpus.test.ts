// The hostile CSV corpus (test/fixtures/hostile) published to the emulator through the publish engine.
// Each malformed file ends in a refusal naming the file and line (and column), and nothing reaches the server —
// the emulator's applied-writes log stays as it was — unless the user chooses to skip the bad rows; then exactly
// the good rows arrive. Valid but hostile-looking files (formulas, markup, huge numbers) arrive exactly as written.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publish, type PublishResult } from '../../src/publish';
import { SodaClient } from '../../src/soda';
import { startEmulator } from '../emulator/index';
import { HOSTILE_CASES, type HostileCase } from '../fixtures/hostile/corpus';

const fixtures = join(__dirname, '..', 'fixtures', 'hostile');
const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };
const ID_FIELD = { 'bldg-prmt': 'permit_id', 'bdgt-priv': 'line_item', 'tree-cnsu': 'species' } as const;

let emu: Awaited<ReturnType<typeof startEmulator>>;
let client: SodaClient;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hostile-csv-'));
  emu = await startEmulator({ port: 0, seed: 'sample' });
  client = new SodaClient({ domain: emu.domain, auth: PUBLISHER, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
});
after(async () => {
  await client.close();
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
});

function appliedRows(dataset: string, since: number): number {
  return emu.store.appliedWrites
    .slice(since)
    .filter((w) => w.dataset === dataset)
    .reduce((n, w) => n + w.rowsIn, 0);
}

/** The message names the file and, when the case says so, `file:line` or `file:line:column`. */
function assertNamesPlace(c: HostileCase, result: PublishResult): void {
  assert.ok(result.message.includes(c.name), `the message names the file: ${result.message}`);
  if (c.line !== undefined) {
    const where = c.column !== undefined ? `${c.name}:${c.line}:${c.column}` : `${c.name}:${c.line}`;
    assert.ok(result.message.includes(where), `the message names ${where}: ${result.message}`);
  }
  if (c.says) assert.match(result.message, c.says);
}

async function serverRow(dataset: string, field: string, id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await client.rows(dataset, { filters: { [field]: id } });
  assert.ok(rows.length <= 1, `at most one row with ${field} = ${id}`);
  return rows[0];
}

describe('bad input: the hostile CSV corpus', () => {
  it('has at least 30 cases, and the committed files are what the generator makes', () => {
    assert.ok(HOSTILE_CASES.length >= 30, `${HOSTILE_CASES.length} cases`);
    assert.equal(new Set(HOSTILE_CASES.map((c) => c.name)).size, HOSTILE_CASES.length, 'unique names');
    for (const c of HOSTILE_CASES.filter((x) => !x.big)) {
      const committed = join(fixtures, c.name);
      assert.ok(existsSync(committed), `${c.name} is committed (run test/fixtures/hostile/generate.ts)`);
      assert.ok(readFileSync(committed).equals(c.bytes()), `${c.name} matches the generator`);
    }
  });

  for (const c of HOSTILE_CASES) {
    it(`${c.name}: ${c.about} → ${c.expect}`, async () => {
      const dataset = c.dataset ?? 'bldg-prmt';
      const mode = c.mode ?? 'upsert';
      const file = join(dir, c.name);
      writeFileSync(file, c.bytes());
      const before = emu.store.appliedWrites.length;
      const countBefore = await client.count(dataset);
      const result = await publish(client, { file, dataset, mode });

      if (c.expect === 'refused' || c.expect === 'skip') {
        assert.equal(result.status, 'refused', result.message);
        assertNamesPlace(c, result);
        if (c.line !== undefined && result.plan) {
          assert.ok(
            result.plan.problems.some((p) => p.line === c.line && (c.column === undefined || p.column === c.column)),
            JSON.stringify(result.plan.problems),
          );
        }
        assert.equal(emu.store.appliedWrites.length, before, 'nothing reached the server');
        assert.equal(await client.count(dataset), countBefore);
      }
      if (c.expect === 'skip') {
        // The user chooses to skip the bad rows: exactly the good rows arrive, the bad ones go to the error-rows CSV.
        const plan = result.plan;
        assert.ok(plan?.rows !== undefined && plan.badRows !== undefined);
        const skip = await publish(client, { file, dataset, mode, skipBadRows: true });
        assert.equal(skip.status, plan.rows - plan.badRows > 0 || skip.errors > 0 ? 'partial' : 'success', skip.message);
        assert.equal(appliedRows(dataset, before), plan.rows - plan.badRows, 'only the good rows were sent');
        assert.equal(await client.count(dataset), countBefore + (mode === 'append' ? plan.rows - plan.badRows : skip.created));
        for (const id of c.goodIds ?? []) assert.ok(await serverRow(dataset, ID_FIELD[dataset], id), `${id} arrived`);
        assert.ok(skip.errorRowsFile && existsSync(skip.errorRowsFile), 'the bad rows are in the error-rows CSV');
        const errorLines = readFileSync(skip.errorRowsFile, 'utf8').trim().split(/\r?\n/);
        assert.equal(errorLines.length, 1 + plan.badRows, 'header + one line per bad row');
        assert.ok(
          skip.rowErrors.some((e) => e.line === c.line),
          `row errors name line ${c.line}`,
        );
      }
      if (c.expect === 'server') {
        assert.equal(result.status, 'failed', result.message);
        if (c.says) assert.match(result.message, c.says);
        assert.match(result.message, /not applied|Applied: nothing/);
        assert.equal(appliedRows(dataset, before), 0, 'nothing applied');
        assert.equal(await client.count(dataset), countBefore);
      }
      if (c.expect === 'ok') {
        assert.equal(result.status, 'success', result.message);
        if (c.warns) {
          assert.ok(
            result.plan?.warnings.some((w) => c.warns?.test(w)),
            `warning ${String(c.warns)}: ${JSON.stringify(result.plan?.warnings.slice(0, 12))}`,
          );
        }
        if (c.totals) {
          assert.equal(result.created, c.totals.created);
          assert.equal(result.updated, c.totals.updated);
        }
        const expected = Object.entries(c.rows ?? {});
        if (expected.length === 0) assert.equal(emu.store.appliedWrites.length, before, 'nothing to send, nothing sent');
        for (const [id, values] of expected) {
          const row = await serverRow(dataset, ID_FIELD[dataset], id);
          assert.ok(row, `${id} arrived`);
          for (const [field, value] of Object.entries(values)) assert.deepEqual(row[field], value, `${id}.${field}`);
        }
      }
      assert.ok(!basename(result.message).includes('[object Object]'));
    });
  }
});
