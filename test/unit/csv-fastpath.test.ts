import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CHECK_INVALID,
  CHECK_NULL,
  CHECK_VALUE,
  createChecker,
  createConverter,
  validateFile,
  type ColumnType,
  type ConvertOptions,
  type DatasetSchema,
} from '../../src/csv';
import { hashId, IdHashLog, sortedHas } from '../../src/csv/idtable';

const tmp = mkdtempSync(join(tmpdir(), 'csv-fastpath-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TYPES: ColumnType[] = [
  'text',
  'number',
  'double',
  'checkbox',
  'floating_timestamp',
  'fixed_timestamp',
  'point',
  'location',
  'url',
  'email',
  'polygon',
  'unsupported',
];
const OPTIONS: ConvertOptions[] = [{}, { decimalComma: true }, { dateOrder: 'dmy' }];

/** What `convert` says about a cell, in the checker's terms. */
function expected(type: ColumnType, options: ConvertOptions, raw: string): number {
  const r = createConverter(type, options).convert(raw);
  return !r.ok ? CHECK_INVALID : r.value === null ? CHECK_NULL : CHECK_VALUE;
}

// Cells near the fast paths' edges: numbers with groups, signs and fractions, dates with 1-2 digit parts and times,
// points with out-of-range coordinates, URLs with odd first characters, checkbox words in any case, whitespace.
const piece = fc.constantFrom(
  '0',
  '1',
  '9',
  '12',
  '13',
  '29',
  '30',
  '31',
  '59',
  '60',
  '90',
  '91',
  '179',
  '180',
  '181',
  '2023',
  '2024',
  '1900',
  '2000',
  '-',
  '+',
  '.',
  ',',
  '/',
  ':',
  ' ',
  'T',
  't',
  'Z',
  'e',
  'AM',
  'PM',
  'POINT (',
  ')',
  '(',
  'http://',
  'https://',
  'ftp://',
  '$',
  '#',
  'true',
  'FALSE',
  'Yes',
  'n',
  'constructor',
  '@',
  'a',
  '\t',
  'é',
  '000',
);
const cell = fc.oneof(
  fc.array(piece, { maxLength: 9 }).map((p) => p.join('')),
  fc
    .tuple(
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 1899, max: 2101 }),
      fc.integer({ min: 0, max: 25 }),
      fc.integer({ min: 0, max: 61 }),
    )
    .chain(([a, b, y, h, m]) =>
      fc.constantFrom(
        `${a}/${b}/${y}`,
        `${a}/${b}/${y} ${h}:${String(m).padStart(2, '0')}`,
        `${y}-${a}-${b}`,
        `${y}-${String(a).padStart(2, '0')}-${String(b).padStart(2, '0')}T${h}:${String(m).padStart(2, '0')}:${String(m).padStart(2, '0')}`,
        `${a}.${b}.${y}`,
        `${a}-${b}-${y}`,
      ),
    ),
  fc
    .tuple(fc.double({ min: -200, max: 200, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true }))
    .map(([x, y]) => `POINT (${x.toFixed(3)} ${y.toFixed(3)})`),
  fc
    .tuple(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 99 }))
    .chain(([n, f]) =>
      fc.constantFrom(
        String(n),
        n.toLocaleString('en-US'),
        `${n.toLocaleString('en-US')}.${f}`,
        `-${n}.${f}`,
        `${n}.`,
        `.${f}`,
        `+${n}`,
        n.toLocaleString('de-DE'),
      ),
    ),
  fc.webUrl().map((u) => u),
);

describe('csv fast validation paths', () => {
  it('the checker agrees with convert() for every type, option and generated cell', () => {
    const checkers = TYPES.flatMap((type) => OPTIONS.map((options) => ({ type, options, check: createChecker(type, options) })));
    fc.assert(
      fc.property(cell, (raw) => {
        for (const { type, options, check } of checkers) {
          assert.equal(check(raw), expected(type, options, raw), `${type} ${JSON.stringify(options)} ${JSON.stringify(raw)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the common notations as values and refuses near misses', () => {
    const check = (type: ColumnType, raw: string, options: ConvertOptions = {}) => createChecker(type, options)(raw);
    assert.equal(check('number', '1,234.50'), CHECK_VALUE);
    assert.equal(check('number', '1,23'), CHECK_INVALID);
    assert.equal(check('number', '1.5', { decimalComma: true }), CHECK_INVALID);
    assert.equal(check('number', ' '), CHECK_NULL);
    assert.equal(check('floating_timestamp', '2/29/2023 1:05'), CHECK_INVALID);
    assert.equal(check('floating_timestamp', '2/29/2024 23:59'), CHECK_VALUE);
    assert.equal(check('floating_timestamp', '13/1/2024'), CHECK_INVALID);
    assert.equal(check('floating_timestamp', '13/1/2024', { dateOrder: 'dmy' }), CHECK_VALUE);
    assert.equal(check('point', 'POINT (-87.6 41.9)'), CHECK_VALUE);
    assert.equal(check('point', 'POINT (-87.6 91)'), CHECK_INVALID);
    assert.equal(check('checkbox', 'constructor'), CHECK_INVALID, 'object prototype names are not checkbox words');
    assert.equal(check('url', 'https:// x'), CHECK_INVALID);
  });
});

describe('row identifier hashes', () => {
  it('finds the repeated hashes across chunks, once each, sorted', () => {
    const log = new IdHashLog();
    const n = (1 << 20) + 5000; // more than one chunk
    for (let i = 0; i < n; i++) log.add(hashId(`id-${i}`));
    log.add(hashId('id-7'));
    log.add(hashId('id-7'));
    log.add(hashId(`id-${n - 1}`));
    const suspects = log.suspects();
    assert.deepEqual(
      [...suspects],
      [hashId('id-7'), hashId(`id-${n - 1}`)].sort((a, b) => a - b),
    );
    assert.ok(sortedHas(suspects, hashId('id-7')));
    assert.ok(!sortedHas(suspects, hashId('id-8')));
    assert.ok(Number.isSafeInteger(hashId('x')) && hashId('x') !== hashId('y'));
  });

  it('reports every true duplicate with its line, in file order, after confirming the suspects', async () => {
    const p = join(tmp, 'dups.csv');
    const ids = Array.from({ length: 5000 }, (_, i) => `K${i}`);
    ids.splice(100, 0, 'K7'); // line 102 (header on line 1)
    ids.push('K4999', 'K7'); // lines 5003 and 5004
    writeFileSync(p, 'permit_id,valuation\n' + ids.map((id, i) => `${id},${i}`).join('\n') + '\n');
    const schema: DatasetSchema = {
      rowIdentifier: 'permit_id',
      columns: [
        { fieldName: 'permit_id', name: 'Permit ID', dataTypeName: 'text' },
        { fieldName: 'valuation', name: 'Valuation', dataTypeName: 'number' },
      ],
    };
    const r = await validateFile(p, schema);
    assert.equal(r.rowIdentifier?.duplicateCheck, 'complete');
    assert.equal(r.rowIdentifier?.duplicates.count, 3);
    assert.deepEqual(
      r.rowIdentifier?.duplicates.examples.map((e) => e.line),
      [102, 5003, 5004],
    );
    assert.equal(r.problemCount, 3);
  });

  it('still reports the duplicates seen before the cap when the check stops', async () => {
    const p = join(tmp, 'cap.csv');
    writeFileSync(p, 'permit_id\n' + ['a', 'b', 'a', 'c', 'd', 'e', 'b'].join('\n') + '\n');
    const r = await validateFile(
      p,
      { rowIdentifier: 'permit_id', columns: [{ fieldName: 'permit_id', name: 'Permit ID', dataTypeName: 'text' }] },
      { maxTrackedIds: 4 },
    );
    assert.equal(r.rowIdentifier?.duplicateCheck, 'stopped');
    assert.deepEqual(
      r.rowIdentifier?.duplicates.examples.map((e) => e.text),
      ['cap.csv:4:1 (permit_id): row identifier "a" appears more than once in the file'],
    );
  });

  it('infers a typed column over the whole file again once it has an invalid cell', async () => {
    const p = join(tmp, 'late-date.csv');
    writeFileSync(
      p,
      'issued\n' + Array.from({ length: 4000 }, (_, i) => `2024-01-${String((i % 28) + 1).padStart(2, '0')}`).join('\n') + '\n2024-01-01T10:00:00Z\n',
    );
    const schema: DatasetSchema = { columns: [{ fieldName: 'issued', name: 'Issued', dataTypeName: 'calendar_date' }] };
    const r = await validateFile(p, schema, { sampleBytes: 2048 });
    assert.equal(r.columns[0].invalid.count, 1);
    assert.deepEqual(
      r.typeDisagreements.map((d) => [d.sample, d.full]),
      [['floating_timestamp', 'text']],
    );
  });
});

describe('two-thread validation', () => {
  const schema: DatasetSchema = {
    rowIdentifier: 'permit_id',
    columns: [
      { fieldName: 'permit_id', name: 'Permit ID', dataTypeName: 'text' },
      { fieldName: 'valuation', name: 'Valuation', dataTypeName: 'number' },
      { fieldName: 'issued', name: 'Issued', dataTypeName: 'calendar_date' },
      { fieldName: 'note', name: 'Note', dataTypeName: 'text' },
    ],
  };
  /** Rows with problems spread over both halves; `quotedAt`: a row whose note holds line breaks. */
  const write = (name: string, rows: number, quotedAt: number[]): string => {
    const lines = ['permit_id,valuation,issued,note,extra'];
    for (let i = 0; i < rows; i++) {
      const id = i === rows - 3 ? 'P5' : i === 40 ? '' : `P${i}`;
      const valuation = i % 997 === 5 ? 'abc' : String(i);
      const date = i === rows - 10 ? '2023-02-30' : `2024-01-${String((i % 28) + 1).padStart(2, '0')}`;
      const note = quotedAt.includes(i) ? `"line one\n${'long '.repeat(4000)}\nline three"` : `n${i}`;
      lines.push(i % 1500 === 7 ? `${id},${valuation},${date}` : `${id},${valuation},${date},${note},x`);
    }
    const p = join(tmp, name);
    writeFileSync(p, lines.join('\n') + '\n');
    return p;
  };

  for (const [name, quotedAt] of [
    ['plain', [3]],
    ['quoted newline across the middle', [2400]],
  ] as const) {
    it(`gives the same report as one thread (${name})`, async () => {
      const p = write(`two-${name.replace(/\W/g, '')}.csv`, 5000, [...quotedAt]);
      const one = await validateFile(p, schema, { threads: 1, sampleBytes: 4096 });
      const seen: number[] = [];
      const two = await validateFile(p, schema, { threads: 2, parallelMinBytes: 0, sampleBytes: 4096, onProgress: (x) => seen.push(x.bytesRead) });
      assert.deepEqual(two, one);
      assert.ok(one.problemCount > 10, 'the file has problems in both halves');
      assert.equal(one.rowIdentifier?.duplicates.examples[0]?.line, 5001, 'row 4997, after the header and two quoted line breaks');
      assert.ok(
        one.columns[1].invalid.examples.some((e) => e.line > 2500),
        'examples from the second half keep their file lines',
      );
      assert.equal(seen.at(-1), one.format.fileSize);
    });
  }

  it('names the file line of a fatal error in the second half', async () => {
    const p = join(tmp, 'two-big-field.csv');
    const rows = Array.from({ length: 4000 }, (_, i) => `P${i},1,2024-01-01,${i === 3500 ? 'y'.repeat(3000) : 'n'},x`);
    writeFileSync(p, 'permit_id,valuation,issued,note,extra\n' + rows.join('\n') + '\n');
    const err = (await validateFile(p, schema, { threads: 1, maxFieldSize: 1000 }).catch((e: unknown) => e)) as Error;
    assert.match(err.message, /^two-big-field\.csv:3502:\d+: a field is larger than the limit/);
    await assert.rejects(
      validateFile(p, schema, { threads: 2, parallelMinBytes: 0, maxFieldSize: 1000 }),
      (e: unknown) => e instanceof Error && e.message === err.message,
    );
  });
});
