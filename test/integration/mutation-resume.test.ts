// Resume from a journal whose applied line ranges have a gap. Every other resume test builds its journal as one
// unbroken run from line 2, so a resume that skipped every line up to the end of the last applied range would pass
// them all. Here the gap's lines must be sent, exactly those, and the server must end with every row of the file:
// once from a journal written by hand, and once from real runs where a batch is refused (413, its body is over the
// server's limit) while the batch after it, in flight at the same time, is applied.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { executePublish, Journal, type JournalFile, type LineRange, planPublish, publish, type PublishRequest } from '../../src/publish';
import type { SodaClient } from '../../src/soda';
import { type Emulator, withEmulator } from '../lib/publishEmulator';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mutation-resume-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  line: number;
  line_item: string;
  department: string;
  amount: string;
}

/** Budget rows on lines 2, 3, …; writes the CSV and returns the rows. */
function budgetFile(name: string, rows: Omit<Row, 'line'>[]): { path: string; rows: Row[] } {
  const path = join(dir, name);
  writeFileSync(path, `line_item,department,amount\n${rows.map((r) => `${r.line_item},${r.department},${r.amount}`).join('\n')}\n`);
  return { path, rows: rows.map((r, i) => ({ ...r, line: i + 2 })) };
}

function inAny(ranges: LineRange[], line: number): boolean {
  return ranges.some(([a, b]) => line >= a && line <= b);
}

/** Rows the emulator applied through `/resource` since write number `since`. */
function resourceWrites(emu: Emulator, since: number): { requests: number; rows: number } {
  const w = emu.store.appliedWrites.slice(since).filter((x) => x.dataset === 'bdgt-priv' && x.source === 'resource');
  return { requests: w.length, rows: w.reduce((n, x) => n + x.rowsIn, 0) };
}

/** Every row of the file is on the server with the file's values. */
async function assertServerHasEveryRow(client: SodaClient, prefix: string, rows: Row[]): Promise<void> {
  const { rows: remote } = await client.rows('bdgt-priv', { where: `line_item like '${prefix}%'`, order: 'line_item' });
  assert.deepEqual(
    remote.map((r) => [r.line_item, r.department, String(r.amount)]),
    rows.map((r) => [r.line_item, r.department, r.amount]),
  );
}

function journalFiles(journalDir: string): string[] {
  try {
    return readdirSync(journalDir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
}

describe('resume: a journal with a gap', () => {
  const cases: { name: string; applied: LineRange[]; named: string }[] = [
    {
      name: 'gap',
      applied: [
        [2, 3],
        [6, 7],
      ],
      named: 'lines 2–3, lines 6–7',
    },
    {
      name: 'gaps',
      applied: [
        [3, 3],
        [5, 6],
      ],
      named: 'line 3, lines 5–6',
    },
  ];
  for (const c of cases) {
    it(`a hand-written journal ${JSON.stringify(c.applied)}: exactly the lines outside it are sent, and the server ends with every row`, async () => {
      await withEmulator(async (emu, client) => {
        const prefix = `GAP-${c.name}-`;
        const file = budgetFile(
          `${c.name}.csv`,
          Array.from({ length: 6 }, (_, i) => ({ line_item: `${prefix}${i + 1}`, department: `Dept ${i + 1}`, amount: String(10 + i) })),
        );
        // The lines the journal calls applied are on the server, as an earlier run would have left them.
        emu.store.upsertRows(
          'bdgt-priv',
          file.rows.filter((r) => inAny(c.applied, r.line)).map((r) => ({ line_item: r.line_item, department: r.department, amount: r.amount })),
        );
        const gap = file.rows.filter((r) => !inAny(c.applied, r.line));
        assert.ok(gap.length > 0 && gap.some((r) => r.line < Math.max(...c.applied.map(([, b]) => b))), 'a line before the end of the last range is missing');

        const journalDir = join(dir, `journal-${c.name}`);
        const req: PublishRequest = { file: file.path, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 2, concurrency: 2 };
        const plan = await planPublish(client, req);
        const journal = Journal.fresh(journalDir, plan);
        journal.data.applied = c.applied;
        await journal.save();

        const since = emu.store.appliedWrites.length;
        const r = await executePublish(client, plan, { journalDir });
        assert.equal(r.status, 'success', r.message);
        assert.equal(r.resume?.status, 'resumed');
        assert.equal(r.resume?.skippedRows, file.rows.length - gap.length);
        assert.equal(r.resume?.reason, `resuming: ${c.named} were applied by an earlier run and are skipped`);
        assert.equal(r.created, gap.length, 'every line of the gap was sent (none was on the server)');
        assert.equal(r.updated, 0, 'no line the journal calls applied was sent again');
        assert.equal(resourceWrites(emu, since).rows, gap.length, 'the server received exactly the gap');
        await assertServerHasEveryRow(client, prefix, file.rows);
        assert.deepEqual(journalFiles(journalDir), [], 'the journal is removed when done');
      });
    });
  }

  it('real runs: batch 2 refused with a 413 while batch 3 is applied (concurrency 2), then the resume sends exactly the gap', async () => {
    // Lines 4 and 5 are long: each fits the server's body limit alone, but not both in one request.
    const LIMIT = 1000;
    await withEmulator(async (emu, client) => {
      const long = (n: number): string => `Long ${n} ${'x'.repeat(600)}`;
      const file = budgetFile('real-gap.csv', [
        { line_item: 'RG-1', department: 'Parks', amount: '1' },
        { line_item: 'RG-2', department: 'Parks', amount: '2' },
        { line_item: 'RG-3', department: long(3), amount: '3' },
        { line_item: 'RG-4', department: long(4), amount: '4' },
        { line_item: 'RG-5', department: 'Fire', amount: '5' },
        { line_item: 'RG-6', department: 'Fire', amount: '6' },
      ]);
      const journalDir = join(dir, 'journal-real');
      const req: PublishRequest = { file: file.path, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 2 };

      // Run 1, one request at a time: batch 1 (lines 2–3) is applied, batch 2 (lines 4–5) is refused, nothing more is sent.
      let since = emu.store.appliedWrites.length;
      const first = await publish(client, { ...req, concurrency: 1 }, { journalDir });
      assert.equal(first.status, 'failed', first.message);
      assert.match(first.message, /413/);
      assert.deepEqual(first.appliedRanges, [[2, 3]]);
      assert.equal(first.resume, undefined, 'no earlier run: neither resumed nor restarted');
      assert.deepEqual(first.uncertainRanges, [], 'a refused upsert batch is not uncertain');
      assert.doesNotMatch(first.message, /unknown/);
      assert.deepEqual(resourceWrites(emu, since), { requests: 1, rows: 2 });

      // Run 2, two requests at a time: it resumes after line 3 and sends batch 2 and batch 3 together. Batch 2 is
      // refused again while batch 3 (lines 6–7) is applied: the journal now has a gap.
      since = emu.store.appliedWrites.length;
      const second = await publish(client, { ...req, concurrency: 2 }, { journalDir });
      assert.equal(second.status, 'failed', second.message);
      assert.match(second.message, /413/);
      assert.equal(second.resume?.status, 'resumed');
      assert.deepEqual(second.appliedRanges, [
        [2, 3],
        [6, 7],
      ]);
      assert.deepEqual(resourceWrites(emu, since), { requests: 1, rows: 2 });
      const files = journalFiles(journalDir);
      assert.equal(files.length, 1);
      const saved = JSON.parse(readFileSync(join(journalDir, files[0] ?? ''), 'utf8')) as JournalFile;
      assert.deepEqual(
        saved.applied,
        [
          [2, 3],
          [6, 7],
        ],
        'the journal on disk has the gap',
      );

      // Run 3, one row per request so each long row fits: exactly lines 4 and 5 are sent.
      since = emu.store.appliedWrites.length;
      const third = await publish(client, { ...req, batchSize: 1, concurrency: 2 }, { journalDir });
      assert.equal(third.status, 'success', third.message);
      assert.equal(third.resume?.status, 'resumed');
      assert.equal(third.resume?.skippedRows, 4);
      assert.equal(third.created, 2);
      assert.equal(third.updated, 0, 'no applied line was sent again');
      assert.deepEqual(resourceWrites(emu, since), { requests: 2, rows: 2 });
      assert.deepEqual(third.appliedRanges, [[2, 7]]);
      await assertServerHasEveryRow(client, 'RG-', file.rows);
      assert.deepEqual(journalFiles(journalDir), []);
    }, LIMIT);
  });
});
