// The resume journal's pieces on their own: range arithmetic at its edges, the reasons an earlier journal is not
// used, and the atomic save. The publish tests reach these only through whole runs, where an off-by-one at a range
// edge or a wrong reason can hide.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { addRange, formatRanges, inRanges, Journal, JOURNAL_VERSION, journalKey, removeRange } from '../../src/publish/journal';
import type { LineRange, PublishPlan } from '../../src/publish/types';

const tmp = mkdtempSync(join(tmpdir(), 'mutation-journal-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The parts of a plan the journal reads. */
function plan(
  over: { file?: Partial<PublishPlan['file']>; mode?: PublishPlan['mode']; dataset?: string; rowIdentifier?: string; columns?: PublishPlan['columns'] } = {},
): PublishPlan {
  return {
    domain: 'data.example.gov',
    dataset: over.dataset ?? 'abcd-1234',
    mode: over.mode ?? 'upsert',
    rowIdentifier: over.rowIdentifier ?? 'id',
    columns: over.columns ?? [
      { csvIndex: 0, csvHeader: 'id', fieldName: 'id', type: 'text' },
      { csvIndex: 1, csvHeader: 'Name', fieldName: 'name', type: 'text' },
    ],
    file: { path: '/data/file.csv', size: 100, mtimeMs: 1000, headHash: 'h1', header: ['id', 'Name'], ...over.file },
  } as unknown as PublishPlan;
}

describe('journal ranges', () => {
  it('addRange merges overlapping and adjacent ranges, keeps a one-line gap, sorts', () => {
    assert.deepEqual(addRange([], [5, 6]), [[5, 6]]);
    assert.deepEqual(addRange([[2, 3]], [4, 5]), [[2, 5]], 'adjacent: 3 and 4 touch');
    assert.deepEqual(
      addRange([[2, 3]], [5, 6]),
      [
        [2, 3],
        [5, 6],
      ],
      'line 4 is missing: no merge',
    );
    assert.deepEqual(
      addRange([[6, 7]], [2, 3]),
      [
        [2, 3],
        [6, 7],
      ],
      'sorted by start',
    );
    assert.deepEqual(addRange([[2, 9]], [4, 5]), [[2, 9]], 'inside: the end stays the larger one');
    assert.deepEqual(
      addRange(
        [
          [2, 3],
          [6, 7],
        ],
        [4, 5],
      ),
      [[2, 7]],
      'fills the gap',
    );
    assert.deepEqual(addRange([[2, 4]], [3, 8]), [[2, 8]], 'overlap extends');
    const before: LineRange[] = [[2, 3]];
    addRange(before, [4, 5]);
    assert.deepEqual(before, [[2, 3]], 'the input is not changed');
  });

  it('removeRange cuts the range out, also from ranges addRange merged', () => {
    const two: LineRange[] = [
      [2, 3],
      [6, 7],
    ];
    assert.deepEqual(removeRange(two, [6, 7]), [[2, 3]]);
    assert.deepEqual(removeRange(two, [6, 8]), [[2, 3]]);
    assert.deepEqual(removeRange(two, [2, 7]), []);
    assert.deepEqual(removeRange(two, [4, 5]), two, 'a range in the gap removes nothing');
    // Two batches in flight on lines 2 and 3 are one range; each answer takes out its own line.
    const merged = addRange(addRange([], [2, 2]), [3, 3]);
    assert.deepEqual(merged, [[2, 3]]);
    assert.deepEqual(removeRange(merged, [2, 2]), [[3, 3]]);
    assert.deepEqual(removeRange(removeRange(merged, [3, 3]), [2, 2]), []);
    assert.deepEqual(removeRange([[2, 9]], [4, 6]), [
      [2, 3],
      [7, 9],
    ]);
    assert.deepEqual(
      two,
      [
        [2, 3],
        [6, 7],
      ],
      'the input is not changed',
    );
  });

  it('inRanges finds both ends of every range and nothing in the gaps', () => {
    const ranges: LineRange[] = [
      [2, 3],
      [6, 7],
      [10, 10],
      [12, 20],
    ];
    const inside = new Set([2, 3, 6, 7, 10, 12, 13, 19, 20]);
    for (let line = 0; line <= 22; line++) {
      const expected = inside.has(line) || (line >= 12 && line <= 20);
      assert.equal(inRanges(ranges, line), expected, `line ${line}`);
    }
    assert.equal(inRanges([], 2), false);
  });

  it('formatRanges names single lines and spans', () => {
    assert.equal(
      formatRanges([
        [2, 2],
        [4, 9],
      ]),
      'line 2, lines 4–9',
    );
    assert.equal(formatRanges([]), '');
  });
});

describe('journal files', () => {
  it('the key depends on file, target, mode, mapping and row identifier, and on nothing else', () => {
    const base = journalKey(plan());
    assert.match(base, /^[0-9a-f]{32}$/);
    assert.equal(journalKey(plan({ file: { size: 5, mtimeMs: 7, headHash: 'other' } })), base, 'contents are checked separately');
    for (const other of [
      plan({ file: { path: '/data/other.csv' } }),
      plan({ dataset: 'wxyz-9876' }),
      plan({ mode: 'append' }),
      plan({ rowIdentifier: 'name' }),
      plan({
        columns: [
          { csvIndex: 0, csvHeader: 'id', fieldName: 'id', type: 'text' },
          { csvIndex: 1, csvHeader: 'Name', fieldName: undefined, type: 'text' },
        ] as PublishPlan['columns'],
      }),
      plan({
        columns: [
          { csvIndex: 0, csvHeader: 'id', fieldName: 'id', type: 'number' },
          { csvIndex: 1, csvHeader: 'Name', fieldName: 'name', type: 'text' },
        ] as PublishPlan['columns'],
      }),
    ]) {
      assert.notEqual(journalKey(other), base);
    }
  });

  it('save writes the journal atomically (no temporary file left) and load reads it back', async () => {
    const dir = join(tmp, 'roundtrip');
    const j = Journal.fresh(dir, plan());
    assert.deepEqual([j.data.version, j.data.applied, j.data.inFlight, j.data.deletesDone], [JOURNAL_VERSION, [], [], false]);
    j.data.applied = [
      [2, 3],
      [6, 7],
    ];
    j.data.inFlight = [[4, 5]];
    const first = j.save();
    j.data.applied = [[2, 7]];
    await Promise.all([first, j.save()]);
    assert.deepEqual(readdirSync(dir), [`publish-${journalKey(plan())}.json`]);
    assert.equal(j.path, join(dir, `publish-${journalKey(plan())}.json`));
    const loaded = await Journal.load(dir, plan());
    assert.equal(loaded.changed, undefined);
    assert.deepEqual(loaded.journal?.data.applied, [[2, 7]], 'the later save wins');
    assert.deepEqual(loaded.journal?.data.inFlight, [[4, 5]]);
    assert.ok(!Number.isNaN(Date.parse(loaded.journal?.data.updatedAt ?? '')));
    await loaded.journal?.remove();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('no journal, an unreadable one, one of another version: each says why (or nothing)', async () => {
    const dir = join(tmp, 'reasons');
    assert.deepEqual(await Journal.load(dir, plan()), { journal: undefined });
    const j = Journal.fresh(dir, plan());
    await j.save();
    writeFileSync(j.path, '{ not json');
    assert.deepEqual(await Journal.load(dir, plan()), { journal: undefined, changed: 'the journal of the earlier run is unreadable' });
    writeFileSync(j.path, JSON.stringify({ ...j.data, version: JOURNAL_VERSION + 1 }));
    assert.deepEqual(await Journal.load(dir, plan()), { journal: undefined, changed: 'the journal of the earlier run is from another version' });
    writeFileSync(j.path, JSON.stringify({ ...j.data, key: '0'.repeat(32) }));
    assert.deepEqual(await Journal.load(dir, plan()), { journal: undefined, changed: 'the journal of the earlier run is from another version' });
  });

  it('a changed file is not resumed, and the reason names what changed', async () => {
    const dir = join(tmp, 'changed');
    await Journal.fresh(dir, plan()).save();
    const why = async (file: Partial<PublishPlan['file']>): Promise<string | undefined> => {
      const r = await Journal.load(dir, plan({ file }));
      if (r.changed !== undefined) assert.equal(r.journal, undefined);
      return r.changed;
    };
    assert.equal(await why({}), undefined);
    assert.equal(await why({ size: 101 }), '/data/file.csv is not the file of the interrupted publish: its size changed (100 → 101 bytes)');
    assert.equal(await why({ headHash: 'h2' }), '/data/file.csv is not the file of the interrupted publish: its first 64 KiB changed');
    assert.equal(await why({ mtimeMs: 1001 }), '/data/file.csv is not the file of the interrupted publish: it was modified since');
    assert.equal(
      await why({ size: 101, headHash: 'h2', mtimeMs: 1001 }),
      '/data/file.csv is not the file of the interrupted publish: its size changed (100 → 101 bytes)',
    );
    assert.equal(await why({ headHash: 'h2', mtimeMs: 1001 }), '/data/file.csv is not the file of the interrupted publish: its first 64 KiB changed');
    const saved = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0] ?? ''), 'utf8')) as {
      file: unknown;
      target: unknown;
      mapping: unknown;
      mode: string;
      rowIdentifier: string;
    };
    assert.deepEqual(saved.file, { path: '/data/file.csv', size: 100, mtimeMs: 1000, headHash: 'h1' });
    assert.deepEqual(saved.target, { domain: 'data.example.gov', dataset: 'abcd-1234' });
    assert.deepEqual(saved.mapping, [
      { csvHeader: 'id', fieldName: 'id' },
      { csvHeader: 'Name', fieldName: 'name' },
    ]);
    assert.deepEqual([saved.mode, saved.rowIdentifier], ['upsert', 'id']);
  });

  it('remove of a journal never saved, or removed twice, succeeds and leaves nothing', async () => {
    const dir = join(tmp, 'remove-unsaved');
    const j = Journal.fresh(dir, plan());
    await j.remove();
    await j.save();
    await j.remove();
    await j.remove();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a journal naming a file with non-ASCII characters round-trips', async () => {
    const dir = join(tmp, 'utf8');
    const p = plan({ file: { path: '/data/Données – été.csv' } });
    await Journal.fresh(dir, p).save();
    const text = readFileSync(join(dir, readdirSync(dir)[0] ?? ''), 'utf8');
    assert.ok(text.includes('/data/Données – été.csv'), 'written as UTF-8');
    const loaded = await Journal.load(dir, p);
    assert.equal(loaded.journal?.data.file.path, '/data/Données – été.csv');
  });

  it('remove waits for a save in flight', async () => {
    const dir = join(tmp, 'remove');
    const j = Journal.fresh(dir, plan());
    const saving = j.save();
    await j.remove();
    await saving;
    assert.deepEqual(readdirSync(dir), [], 'the file written by the save in flight is removed too');
  });
});
