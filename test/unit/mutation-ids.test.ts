// Duplicate row ids whatever order their hashes sort in. The duplicate check sorts 52-bit hashes and compares
// neighbours: a loop that stops one short misses a duplicate exactly when its hash is the largest, so these tests put
// the duplicated hash last on purpose (directly, and by repeating each id of a small set in turn through validateFile).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateFile, type DatasetSchema } from '../../src/csv';
import { hashId, IdHashLog, SortedMerge, sortedHas } from '../../src/csv/idtable';

const tmp = mkdtempSync(join(tmpdir(), 'mutation-ids-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const IDS = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7'];
const byHash = [...IDS].sort((a, b) => hashId(a) - hashId(b));
const largest = byHash[byHash.length - 1];
const smallest = byHash[0];

describe('row id hashes: the duplicated hash sorts last', () => {
  it('one run: the largest hash added twice is a suspect', () => {
    const log = new IdHashLog();
    for (const id of IDS) log.add(hashId(id));
    log.add(hashId(largest));
    assert.deepEqual([...log.suspects()], [hashId(largest)]);
  });

  it('one run: plain numbers, the largest value repeated last, and the smallest repeated first', () => {
    const last = new IdHashLog();
    for (const h of [5, 1, 9, 3, 9]) last.add(h);
    assert.deepEqual([...last.suspects()], [9]);
    const first = new IdHashLog();
    for (const h of [1, 1, 5, 3, 9]) first.add(h);
    assert.deepEqual([...first.suspects()], [1]);
    const none = new IdHashLog();
    for (const h of [4, 2, 8, 6]) none.add(h);
    assert.deepEqual([...none.suspects()], []);
  });

  it('one run: a hash added three times is one suspect; two repeated hashes are both found, sorted', () => {
    const log = new IdHashLog();
    for (const h of [7, 2, 7, 4, 7, 2]) log.add(h);
    assert.deepEqual([...log.suspects()], [2, 7]);
  });

  it('several runs (hashes from two parts of a file): the largest hash repeated across runs, and within the last run', () => {
    const across = new IdHashLog();
    across.addRuns([Float64Array.from([3, 9, 1])]);
    for (const h of [4, 9]) across.add(h);
    assert.deepEqual([...across.suspects()], [9]);

    const within = new IdHashLog();
    within.addRuns([Float64Array.from([2, 1])]);
    for (const h of [8, 5, 8]) within.add(h);
    assert.deepEqual([...within.suspects()], [8]);

    const many = new IdHashLog();
    many.addRuns([Float64Array.from([6, 1]), Float64Array.from([6, 3])]);
    for (const h of [6, 9, 1]) many.add(h);
    assert.deepEqual([...many.suspects()], [1, 6]);
  });
});

describe('validateFile: each id of a small set repeated in turn', () => {
  const schema: DatasetSchema = {
    rowIdentifier: 'permit_id',
    columns: [
      { fieldName: 'permit_id', name: 'Permit ID', dataTypeName: 'text' },
      { fieldName: 'valuation', name: 'Valuation', dataTypeName: 'number' },
    ],
  };

  it('the set has a largest and a smallest hash (so both ends are covered)', () => {
    assert.notEqual(largest, smallest);
    assert.ok(IDS.includes(largest) && IDS.includes(smallest));
  });

  for (const threads of [1, 2]) {
    it(`finds exactly one duplicate whichever id is repeated (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
      for (const repeated of IDS) {
        const ids = [...IDS, repeated];
        const p = join(tmp, `repeat-${repeated}-${threads}.csv`);
        writeFileSync(p, `permit_id,valuation\n${ids.map((id, i) => `${id},${i}`).join('\n')}\n`);
        const r = await validateFile(p, schema, { threads, parallelMinBytes: 0 });
        assert.equal(r.rowIdentifier?.duplicateCheck, 'complete', repeated);
        assert.equal(r.rowIdentifier?.duplicates.count, 1, `${repeated} repeated once: ${JSON.stringify(r.rowIdentifier?.duplicates)}`);
        const example = r.rowIdentifier?.duplicates.examples[0];
        assert.equal(example?.line, ids.length + 1, 'the second occurrence is on the last line');
        assert.match(example?.text ?? '', new RegExp(`row identifier "${repeated}" appears more than once`));
        assert.equal(r.problemCount, 1);
      }
    });
  }

  it('the file P1, P2, P3, P3 reports its one duplicate', async () => {
    const p = join(tmp, 'p3.csv');
    writeFileSync(p, 'permit_id,valuation\nP1,1\nP2,2\nP3,3\nP3,4\n');
    const r = await validateFile(p, schema, { threads: 1 });
    assert.equal(r.rowIdentifier?.duplicates.count, 1);
    assert.equal(r.rowIdentifier?.duplicates.examples[0]?.line, 5);
  });
});

describe('row id hashes: the log and the search', () => {
  it('sortedHas finds every member of sorted arrays of 0 to 9 values, and nothing between, before or after them', () => {
    for (let n = 0; n < 10; n++) {
      const sorted = Float64Array.from({ length: n }, (_, i) => 10 * (i + 1));
      for (let v = 0; v <= 10 * (n + 1) + 5; v += 5) assert.equal(sortedHas(sorted, v), v > 0 && v % 10 === 0 && v <= 10 * n, `n=${n}, v=${v}`);
    }
  });

  it('keeps every hash while it grows past its first buffer, and counts them', () => {
    const log = new IdHashLog();
    const start = log.bytes;
    for (let i = 0; i < 5000; i++) log.add(i * 3);
    assert.equal(log.size, 5000);
    assert.ok(log.bytes > start && log.bytes >= 5000 * 8, `bytes ${log.bytes}`);
    log.add(0);
    log.add(4999 * 3);
    assert.deepEqual([...log.suspects()], [0, 4999 * 3], 'the first and the last hash survived every growth');
  });

  it('takeRuns hands over every hash and empties the log; addRuns skips empty runs and counts the rest', () => {
    const a = new IdHashLog();
    for (const h of [5, 3, 8]) a.add(h);
    const runs = a.takeRuns();
    assert.deepEqual(
      runs.map((r) => [...r]),
      [[5, 3, 8]],
    );
    assert.equal(a.bytes, 0);
    const b = new IdHashLog();
    b.addRuns([new Float64Array(0), ...runs, new Float64Array(0)]);
    assert.equal(b.size, 3);
    b.add(3);
    assert.equal(b.size, 4);
    assert.deepEqual([...b.suspects()], [3]);
  });

  it('hashId: exact integers below 2^52, different for 200 000 different ids, sensitive to order and to every character', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200_000; i++) {
      const h = hashId(`ID-${i}`);
      assert.ok(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 52);
      seen.add(h);
    }
    assert.equal(seen.size, 200_000);
    assert.notEqual(hashId('ab'), hashId('ba'));
    assert.notEqual(hashId(''), hashId('\0'));
    assert.notEqual(hashId('a'), hashId('a '));
    assert.notEqual(hashId('x'.repeat(64)), hashId(`${'x'.repeat(63)}y`));
    assert.equal(hashId('P3'), hashId(['P', '3'].join('')));
  });
});

describe('row id hashes: the one merge of the sorted runs', () => {
  const all = (merge: SortedMerge): number[] => {
    const out: number[] = [];
    for (let v = merge.next(); v >= 0; v = merge.next()) out.push(v);
    return out;
  };

  it('SortedMerge gives every value of every run once, ascending, ties and runs of any length included, then -1', () => {
    const runs = [Float64Array.from([0, 4, 4, 9]), new Float64Array(0), Float64Array.from([1, 4]), Float64Array.from([2, 3, 9, 11])];
    const merge = new SortedMerge(runs);
    assert.deepEqual(all(merge), [0, 1, 2, 3, 4, 4, 4, 9, 9, 11]);
    assert.equal(merge.next(), -1, 'stays finished');
    assert.deepEqual(all(new SortedMerge([])), []);
    assert.deepEqual(all(new SortedMerge([Float64Array.from([7])])), [7]);
  });

  it('repeats() counts every repeated addition and lists each repeated hash once, within and across runs', () => {
    const log = new IdHashLog();
    log.addRuns([Float64Array.from([6, 1, 6]), Float64Array.from([3])]);
    for (const h of [6, 9, 1, 0, 9]) log.add(h);
    assert.deepEqual(
      (({ extra, suspects }) => ({ extra, suspects: [...suspects] }))(log.repeats()),
      { extra: 4, suspects: [1, 6, 9] },
      '6 three times (2 extra), 1 and 9 twice (1 extra each); 0 and 3 once',
    );
    const none = new IdHashLog();
    for (const h of [0, 5, 2]) none.add(h);
    assert.deepEqual(none.repeats().extra, 0);
    assert.deepEqual([...none.repeats().suspects], []);
    assert.deepEqual(new IdHashLog().repeats().extra, 0);
  });
});

describe('row id hashes: memory', () => {
  it('a small log stays small: 5 000 hashes take 8 192 slots, not a 1M chunk', () => {
    const log = new IdHashLog();
    for (let i = 0; i < 5000; i++) log.add(i);
    assert.equal(log.bytes, 8192 * 8);
    assert.deepEqual(
      log.takeRuns().map((r) => r.length),
      [5000],
    );
  });

  it('past 1M hashes a new chunk starts (nothing is copied to grow), and bytes counts every chunk', () => {
    const chunk = 1 << 20;
    const log = new IdHashLog();
    for (let i = 0; i < chunk + 5; i++) log.add(i);
    assert.equal(log.size, chunk + 5);
    assert.equal(log.bytes, 2 * chunk * 8);
    const runs = log.takeRuns();
    assert.deepEqual(
      runs.map((r) => r.length),
      [chunk, 5],
    );
    assert.deepEqual([runs[0]?.[0], runs[0]?.[chunk - 1], runs[1]?.[0], runs[1]?.[4]], [0, chunk - 1, chunk, chunk + 4]);
  });

  it('addRuns keeps no empty run', () => {
    const log = new IdHashLog();
    log.addRuns([new Float64Array(0), Float64Array.from([1, 2]), new Float64Array(0)]);
    assert.deepEqual(
      log.takeRuns().map((r) => [...r]),
      [[1, 2], []],
    );
  });
});
