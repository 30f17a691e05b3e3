import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CsvError, schemaFromView, validateFile, validateInWorker, type DatasetSchema, type ValidationProgress } from '../../src/csv';

const fx = (name: string) => join(__dirname, '..', 'fixtures', 'csv', name);
const tmp = mkdtempSync(join(tmpdir(), 'csv-validate-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// The `bldg-prmt` sample dataset's columns, in the shape of /api/views/{4x4}.json.
const permitsView = {
  id: 'bldg-prmt',
  rowIdentifierColumnId: 101,
  columns: [
    { id: 101, fieldName: 'permit_id', name: 'Permit ID', dataTypeName: 'text' },
    { id: 102, fieldName: 'address', name: 'Address', dataTypeName: 'text' },
    { id: 103, fieldName: 'valuation', name: 'Valuation', dataTypeName: 'number' },
    { id: 104, fieldName: 'issued_date', name: 'Issued Date', dataTypeName: 'calendar_date' },
    { id: 105, fieldName: 'is_residential', name: 'Is Residential', dataTypeName: 'checkbox' },
    { id: 106, fieldName: 'info_url', name: 'Info URL', dataTypeName: 'url' },
    { id: 107, fieldName: 'location', name: 'Location', dataTypeName: 'point' },
    { id: 1, fieldName: ':id', name: 'Row ID', dataTypeName: 'meta_data' },
  ],
};
const permits: DatasetSchema = schemaFromView(permitsView);

describe('csv validation against a dataset', () => {
  it('builds the schema from a views body', () => {
    assert.equal(permits.rowIdentifier, 'permit_id');
    assert.equal(permits.columns.length, 7);
    assert.equal(schemaFromView({ columns: permitsView.columns, metadata: { rowIdentifier: 'permit_id' } }).rowIdentifier, 'permit_id');
    assert.equal(schemaFromView({ columns: permitsView.columns }).rowIdentifier, undefined);
  });

  it('accepts the permits fixture cleanly', async () => {
    const report = await validateFile(fx('permits-crlf.csv'), permits);
    assert.equal(report.rows, 4);
    assert.deepEqual(report.unknownColumns, []);
    assert.deepEqual(report.missingColumns, []);
    assert.equal(report.problemCount, 0, JSON.stringify(report.columns.filter((c) => c.invalid.count)));
    assert.deepEqual(report.typeDisagreements, []);
    assert.deepEqual(
      report.columns.map((c) => [c.fieldName, c.nulls]),
      [
        ['permit_id', 0],
        ['address', 0],
        ['valuation', 1],
        ['issued_date', 0],
        ['is_residential', 0],
        ['info_url', 1],
        ['location', 1],
      ],
    );
  });

  it('reports bad cells, ragged rows, missing/unknown columns and row-identifier problems with lines', async () => {
    const p = join(tmp, 'bad.csv');
    writeFileSync(
      p,
      [
        'Permit ID,valuation,Issued Date,extra,location',
        'P-1,"1,000",2023-02-30,x,POINT (-87.6 41.9)',
        ',12abc,03/04/2024,x,"(91, 10)"',
        'P-1,5,2024-01-01,x',
        'P-2,"1.234,5",2024-01-02,x,POINT (1 2),surplus',
        '',
      ].join('\n'),
    );
    const r = await validateFile(p, permits, { maxExamples: 2 });
    assert.deepEqual(
      r.mapping.map((m) => m.fieldName),
      ['permit_id', 'valuation', 'issued_date', undefined, 'location'],
    );
    assert.deepEqual(r.unknownColumns, ['extra']);
    assert.deepEqual(r.missingColumns, ['address', 'is_residential', 'info_url']);
    const valuation = r.columns.find((c) => c.fieldName === 'valuation');
    assert.deepEqual(valuation?.invalid, {
      count: 2,
      examples: [
        {
          line: 3,
          column: 2,
          columnName: 'valuation',
          value: '12abc',
          message: '"12abc" is not a number',
          text: 'bad.csv:3:2 (valuation): "12abc" is not a number',
        },
        {
          line: 5,
          column: 2,
          columnName: 'valuation',
          value: '1.234,5',
          message: '"1.234,5" looks like a number with a decimal comma; turn on the decimal-comma option to read it',
          text: 'bad.csv:5:2 (valuation): "1.234,5" looks like a number with a decimal comma; turn on the decimal-comma option to read it',
        },
      ],
    });
    assert.deepEqual(
      r.columns.find((c) => c.fieldName === 'issued_date')?.invalid.examples.map((e) => e.text),
      ['bad.csv:2:3 (Issued Date): "2023-02-30" is not a real date (2023-02 has no day 30)'],
    );
    assert.deepEqual(
      r.columns.find((c) => c.fieldName === 'location')?.invalid.examples.map((e) => e.text),
      ['bad.csv:3:5 (location): "(91, 10)" has latitude 91, outside -90..90'],
    );
    assert.deepEqual(r.ragged.rows, [
      { line: 4, expected: 5, actual: 4 },
      { line: 5, expected: 5, actual: 6 },
    ]);
    assert.equal(r.ragged.examples[0].text, 'bad.csv:4: row has 4 fields, the header has 5');
    assert.deepEqual(
      r.rowIdentifier?.empty.examples.map((e) => e.text),
      ['bad.csv:3:1 (Permit ID): the row identifier permit_id is empty'],
    );
    assert.deepEqual(
      r.rowIdentifier?.duplicates.examples.map((e) => e.text),
      ['bad.csv:4:1 (Permit ID): row identifier "P-1" appears more than once in the file'],
    );
    assert.equal(r.problemCount, 2 + 1 + 1 + 2 + 1 + 1);
  });

  it('caps examples, truncates values and reports a missing row identifier column', async () => {
    const p = join(tmp, 'many-bad.csv');
    const long = 'y'.repeat(500);
    writeFileSync(p, 'address,valuation\n' + Array.from({ length: 10_000 }, (_, i) => `a${i},${long}`).join('\n'));
    const r = await validateFile(p, permits, { maxExamples: 3, batchSize: 512 });
    const v = r.columns.find((c) => c.fieldName === 'valuation');
    assert.equal(v?.invalid.count, 10_000);
    assert.equal(v?.invalid.examples.length, 3);
    assert.equal(v?.invalid.examples[0].value.length, 80);
    assert.equal(r.rowIdentifier?.inCsv, false);
    assert.equal(r.problemCount, 10_001);
  });

  it('stops tracking ids past the cap and says so', async () => {
    const p = join(tmp, 'ids.csv');
    writeFileSync(p, 'permit_id\n' + Array.from({ length: 50 }, (_, i) => `id${i % 40}`).join('\n'));
    assert.equal((await validateFile(p, permits)).rowIdentifier?.duplicates.count, 10);
    const capped = await validateFile(p, permits, { maxTrackedIds: 20 });
    assert.equal(capped.rowIdentifier?.duplicateCheck, 'stopped');
  });

  it('reports when the whole file disagrees with the head sample', async () => {
    const p = join(tmp, 'late-text.csv');
    writeFileSync(p, 'valuation\n' + Array.from({ length: 3000 }, (_, i) => String(i)).join('\n') + '\nnot a number\n');
    const whole = await validateFile(p, permits);
    assert.deepEqual(whole.typeDisagreements, [], 'the default sample window holds the whole file');
    const r = await validateFile(p, permits, { sampleBytes: 1024 });
    assert.equal(r.rows, 3001);
    assert.deepEqual(r.typeDisagreements, [
      {
        csvIndex: 0,
        csvHeader: 'valuation',
        sample: 'number',
        full: 'text',
        message: 'column "valuation" looked like number in the first 281 rows but the whole file reads as text',
      },
    ]);
    assert.equal(r.columns[0].invalid.examples[0].text, 'late-text.csv:3002:1 (valuation): "not a number" is not a number');
  });

  it('reads decimal commas and DD/MM dates when asked, via the semicolon fixture', async () => {
    const target: DatasetSchema = {
      columns: [
        { fieldName: 'id', name: 'ID', dataTypeName: 'number' },
        { fieldName: 'betrag', name: 'Betrag', dataTypeName: 'number' },
        { fieldName: 'datum', name: 'Datum', dataTypeName: 'calendar_date' },
      ],
    };
    const plain = await validateFile(fx('semicolon-decimal-comma.csv'), target);
    assert.deepEqual(
      plain.columns.map((c) => c.invalid.count),
      [0, 2, 0],
    );
    const comma = await validateFile(fx('semicolon-decimal-comma.csv'), target, { decimalComma: true });
    assert.equal(comma.problemCount, 0);
  });

  it('reports progress and honours an AbortSignal', async () => {
    const p = join(tmp, 'progress.csv');
    writeFileSync(p, 'permit_id,valuation\n' + Array.from({ length: 20_000 }, (_, i) => `p${i},${i}`).join('\n'));
    const seen: ValidationProgress[] = [];
    const r = await validateFile(p, permits, { chunkSize: 16 * 1024, onProgress: (x) => seen.push(x) });
    assert.equal(r.rows, 20_000);
    assert.ok(seen.length > 3);
    assert.equal(seen.at(-1)?.rows, 20_000);
    assert.equal(seen.at(-1)?.bytesRead, seen.at(-1)?.fileSize);
    const ac = new AbortController();
    await assert.rejects(
      validateFile(p, permits, { chunkSize: 16 * 1024, signal: ac.signal, onProgress: () => ac.abort() }),
      (err: unknown) => err instanceof CsvError && err.code === 'ABORTED' && /^progress\.csv:\d+: (reading|validation) was cancelled$/.test(err.message),
    );
  });

  it('runs in a worker thread with progress, and can be cancelled there', async () => {
    const p = join(tmp, 'worker.csv');
    writeFileSync(p, 'permit_id,valuation\n' + Array.from({ length: 30_000 }, (_, i) => `p${i % 29_999},${i === 7 ? 'x' : i}`).join('\n'));
    const seen: ValidationProgress[] = [];
    const r = await validateInWorker(p, permits, { chunkSize: 4096 }, { onProgress: (x) => seen.push(x) });
    assert.equal(r.rows, 30_000);
    assert.equal(r.columns.find((c) => c.fieldName === 'valuation')?.invalid.examples[0].text, 'worker.csv:9:2 (valuation): "x" is not a number');
    assert.equal(r.rowIdentifier?.duplicates.count, 1);
    const ac = new AbortController();
    const pending = validateInWorker(p, permits, { chunkSize: 1024 }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(pending, { name: 'CsvError', code: 'ABORTED', message: 'worker.csv: validation was cancelled' });
    await assert.rejects(validateInWorker(join(tmp, 'missing.csv'), permits), /ENOENT/);
  });
});
