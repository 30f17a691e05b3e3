// The plan's id log in bounded memory (src/publish/idlog.ts): past its in-memory limit the hashes go to a partitioned
// spill file, and the repeats it reports are exactly those of the in-memory log (src/csv/idtable.ts) over the same ids.
// Also the parse options the revision route sends for a file that is not UTF-8 or not comma-separated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hashId, IdHashLog } from '../../src/csv/idtable';
import { SpillingIdLog } from '../../src/publish/idlog';
import { parseOptionsFor } from '../../src/publish/revisionRoute';
import type { PublishPlan } from '../../src/publish';

function both(ids: string[], memoryIds: number): { spilled: boolean; got: { extra: number; suspects: number[] }; want: { extra: number; suspects: number[] } } {
  const log = new SpillingIdLog(memoryIds);
  const ref = new IdHashLog();
  for (const id of ids) {
    log.add(hashId(id));
    ref.add(hashId(id));
  }
  const spilled = log.spilled;
  assert.equal(log.size, ids.length);
  const a = log.repeats();
  const b = ref.repeats();
  log.dispose();
  return { spilled, got: { extra: a.extra, suspects: [...a.suspects] }, want: { extra: b.extra, suspects: [...b.suspects] } };
}

describe('publish: the id log spills to disk with the same answer', () => {
  it('50 000 ids with repeats, 1 000 kept in memory: spilled, same repeats as the in-memory log', () => {
    const ids = Array.from({ length: 50_000 }, (_, i) => `ID-${i % 45_000}`);
    const r = both(ids, 1000);
    assert.equal(r.spilled, true);
    assert.equal(r.got.extra, 5000);
    assert.equal(r.got.suspects.length, 5000);
    assert.deepEqual(r.got, r.want);
  });

  it('under the limit nothing is spilled', () => {
    const r = both(['a', 'b', 'a'], 1000);
    assert.equal(r.spilled, false);
    assert.deepEqual(r.got, { extra: 1, suspects: [hashId('a')] });
  });

  it('any ids, any limit: the same extra count and sorted suspects', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 4 }), { maxLength: 3000 }), fc.integer({ min: 1, max: 200 }), (ids, limit) => {
        const r = both(ids, limit);
        assert.deepEqual(r.got, r.want);
      }),
      { numRuns: 60 },
    );
  });
});

describe('publish: the revision route tells the server how to read the bytes', () => {
  const plan = (path: string, encoding: string | undefined, delimiter: string | undefined): PublishPlan =>
    ({ file: { path, size: 1, mtimeMs: 1, headHash: '', header: [], encoding, delimiter } }) as unknown as PublishPlan;
  it('nothing for UTF-8 CSV and TSV', () => {
    assert.equal(parseOptionsFor(plan('a.csv', 'utf-8', ',')), undefined);
    assert.equal(parseOptionsFor(plan('a.tsv', 'utf-8', '\t')), undefined);
  });
  it('the encoding and the separator otherwise', () => {
    assert.deepEqual(parseOptionsFor(plan('a.csv', 'windows-1252', ';')), { encoding: 'windows-1252', column_separator: ';' });
    assert.deepEqual(parseOptionsFor(plan('a.csv', 'utf-16le', ',')), { encoding: 'utf-16le' });
  });
});
