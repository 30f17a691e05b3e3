import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Parser } from 'csv-parse';
import { CsvError, firstInvalidUtf8, openCsv, readHead, sniffDelimiter, type CsvRecord } from '../../src/csv';

const fixtures = join(__dirname, '..', 'fixtures', 'csv');
const fx = (name: string) => join(fixtures, name);
const tmp = mkdtempSync(join(tmpdir(), 'csv-reader-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function readAll(path: string, options = {}): Promise<{ header: string[]; records: CsvRecord[]; delimiter: string; encoding: string }> {
  const reader = await openCsv(path, options);
  const records: CsvRecord[] = [];
  for await (const batch of reader.batches()) records.push(...batch);
  return { header: reader.header, records, delimiter: reader.format.delimiter, encoding: reader.format.encoding };
}

async function rejectsWith(promise: Promise<unknown>, code: string, message: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CsvError, `expected CsvError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  });
}

describe('csv reader', () => {
  it("csv-parse's public stream has the records, and the error with the records before it, when write() and end() return", () => {
    const drain = (parser: Parser): string[][] => {
      const out: string[][] = [];
      let record: unknown;
      while ((record = parser.read()) !== null) out.push(record as string[]);
      return out;
    };
    const parser = new Parser({ relax_column_count: true });
    parser.on('error', () => undefined);
    parser.write(Buffer.from('a,b\n"c\nd",e\n' + 'x,y\n'.repeat(40) + 'f'));
    const first = drain(parser);
    assert.deepEqual(first.slice(0, 2), [
      ['a', 'b'],
      ['c\nd', 'e'],
    ]);
    assert.equal(first.length, 42, 'more records than the stream buffer holds');
    parser.write(Buffer.from(',g\n'));
    parser.end();
    assert.deepEqual(drain(parser), [['f', 'g']]);
    assert.equal(parser.errored, null);

    const bad = new Parser({});
    bad.on('error', () => undefined);
    bad.write(Buffer.from('a\nb\n"c"d\ne\n'));
    assert.equal((bad.errored as { code?: string } | null)?.code, 'CSV_INVALID_CLOSING_QUOTE');
    assert.deepEqual(drain(bad), [['a'], ['b']]);
    const open = new Parser({});
    open.on('error', () => undefined);
    open.write(Buffer.from('a\n"b'));
    open.end();
    assert.equal((open.errored as { code?: string } | null)?.code, 'CSV_QUOTE_NOT_CLOSED');
  });

  it('reads CRLF files with quoted newlines and gives each record its physical start line', async () => {
    const { header, records } = await readAll(fx('permits-crlf.csv'));
    assert.deepEqual(header, ['permit_id', 'address', 'valuation', 'issued_date', 'is_residential', 'info_url', 'location']);
    assert.deepEqual(
      records.map((r) => r.line),
      [2, 3, 5, 6],
    );
    assert.equal(records[1].fields[1], 'Apt 4\r\n99 Oak Ave');
    assert.equal(records[2].fields[1], 'Say "hi"');
    assert.equal(records[3].fields[1], '=HYPERLINK("https://example.org")');
    assert.equal(records.length, 4, 'the trailing empty line is not a record');
  });

  it('counts lines across LF quoted newlines and skipped empty lines', async () => {
    const p = join(tmp, 'lf.csv');
    writeFileSync(p, 'a,b\n\n1,"x\ny\nz"\n\n\n2,w\n3,"\n"\n4,last');
    const { records } = await readAll(p);
    assert.deepEqual(
      records.map((r) => [r.line, r.fields[0]]),
      [
        [3, '1'],
        [8, '2'],
        [9, '3'],
        [11, '4'],
      ],
    );
  });

  it('keeps line numbers right across chunk and batch boundaries', async () => {
    const p = join(tmp, 'many.csv');
    const lines = ['id,text'];
    for (let i = 1; i <= 5000; i++) lines.push(i % 7 === 0 ? `${i},"two\r\nlines"` : `${i},plain ${i}`);
    writeFileSync(p, lines.join('\r\n'));
    const reader = await openCsv(p, { chunkSize: 1000, batchSize: 333 });
    let expected = 2;
    let count = 0;
    for await (const batch of reader.batches()) {
      assert.ok(batch.length <= 333);
      for (const r of batch) {
        assert.equal(r.line, expected, `record ${r.fields[0]}`);
        expected += r.fields[1].includes('\n') ? 2 : 1;
        count++;
      }
    }
    assert.equal(count, 5000);
    assert.equal(reader.rowCount, 5000);
    assert.equal(reader.bytesRead, reader.format.fileSize);
  });

  it('strips a UTF-8 BOM', async () => {
    const { header, records, encoding } = await readAll(fx('bom-utf8.csv'));
    assert.equal(encoding, 'utf-8');
    assert.deepEqual(header, ['name', 'city']);
    assert.deepEqual(
      records.map((r) => r.fields),
      [
        ['Zoë', 'Köln'],
        ['José', 'São Paulo'],
      ],
    );
  });

  for (const [file, enc] of [
    ['utf16le.csv', 'utf-16le'],
    ['utf16be.csv', 'utf-16be'],
  ] as const) {
    it(`decodes ${enc} with BOM and sniffs the semicolon`, async () => {
      const { header, records, encoding, delimiter } = await readAll(fx(file));
      assert.equal(encoding, enc);
      assert.equal(delimiter, ';');
      assert.deepEqual(header, ['name', 'amount']);
      assert.deepEqual(records, [
        { line: 2, fields: ['Ärger', '1,5'] },
        { line: 3, fields: ['Straße', '2'] },
      ]);
    });
  }

  it('sniffs tab, semicolon and pipe delimiters, and the override wins', async () => {
    assert.equal((await readAll(fx('tabs.csv'))).delimiter, '\t');
    assert.deepEqual((await readAll(fx('tabs.csv'))).records[1].fields, ['Maple, red', '8', '2020-05-12', 'no']);
    assert.equal((await readAll(fx('semicolon-decimal-comma.csv'))).delimiter, ';');
    assert.equal((await readAll(fx('pipes.csv'))).delimiter, '|');
    const forced = await readAll(fx('pipes.csv'), { delimiter: ',' });
    assert.deepEqual(forced.header, ['a|b|c']);
    assert.equal(sniffDelimiter('a,b;c\n1,2;3\n4,5;6\n'), ',');
    assert.equal(sniffDelimiter('"x;y",b\n"1;2",3\n'), ',', 'delimiters inside quotes do not count');
  });

  it('reports invalid UTF-8 bytes with line, column and byte offset, and reads the file as windows-1252', async () => {
    await rejectsWith(
      openCsv(fx('windows-1252.csv')),
      'ENCODING',
      'windows-1252.csv:3:4: invalid UTF-8 byte 0xE9 at byte offset 22; if the file was saved by a legacy program, choose its encoding (e.g. windows-1252)',
    );
    const { records } = await readAll(fx('windows-1252.csv'), { encoding: 'windows-1252' });
    assert.deepEqual(
      records.map((r) => r.fields),
      [
        ['plain', '1'],
        ['Café', '€5'],
      ],
    );
  });

  it('finds an invalid byte after a multi-byte character split across chunks', async () => {
    const p = join(tmp, 'split.csv');
    const good = Buffer.from('h\n' + 'é'.repeat(600) + '\n', 'utf8');
    writeFileSync(p, Buffer.concat([good, Buffer.from([0x61, 0xff, 0x0a])]));
    await assert.rejects(
      openCsv(p, { chunkSize: 7 }).then(async (r) => {
        for await (const _ of r.batches());
      }),
      (err: unknown) => {
        assert.ok(err instanceof CsvError);
        assert.equal(err.byteOffset, good.length + 1);
        assert.equal(err.line, 3);
        assert.equal(err.column, 2);
        return true;
      },
    );
    assert.equal(firstInvalidUtf8(Buffer.from([0xe2, 0x82, 0xac, 0xc0, 0xaf])), 3, 'overlong encodings are invalid');
    assert.equal(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80])), 0, 'surrogates are invalid');
  });

  it('names file, line and column for an unterminated quoted field', async () => {
    await rejectsWith(
      readAll(fx('unterminated.csv')),
      'UNTERMINATED_QUOTE',
      'unterminated.csv:3:2: unterminated quoted field (the closing quote is missing before the end of the file)',
    );
  });

  it('stops at a field larger than the limit with the line, without reading it all', async () => {
    const p = join(tmp, 'huge-field.csv');
    writeFileSync(p, `id,blob\n1,small\n2,"${'x'.repeat(11 * 1024 * 1024)}"\n3,after\n`);
    await rejectsWith(readAll(p), 'FIELD_TOO_LARGE', 'huge-field.csv:3:2: a field is larger than the limit of 10 MB (option maxFieldSize)');
    await rejectsWith(
      readAll(p, { maxFieldSize: 1000 }),
      'FIELD_TOO_LARGE',
      'huge-field.csv:3:2: a field is larger than the limit of 1000 bytes (option maxFieldSize)',
    );
    const ok = await readAll(p, { maxFieldSize: 12 * 1024 * 1024 });
    assert.equal(ok.records[1].fields[1].length, 11 * 1024 * 1024);
  });

  it('returns ragged rows as they are, with their lines', async () => {
    const { records } = await readAll(fx('ragged.csv'));
    assert.deepEqual(
      records.map((r) => [r.line, r.fields.length]),
      [
        [2, 3],
        [3, 2],
        [4, 3],
        [5, 4],
      ],
    );
  });

  it('handles an empty file and a header-only file', async () => {
    const empty = await readAll(fx('empty.csv'));
    assert.deepEqual([empty.header, empty.records], [[], []]);
    const headerOnly = await readAll(fx('header-only.csv'));
    assert.deepEqual([headerOnly.header, headerOnly.records], [['permit_id', 'address', 'valuation'], []]);
    const head = await readHead(fx('header-only.csv'));
    assert.equal(head.estimatedRowCount, 0);
    assert.equal(head.complete, true);
  });

  it('stops when the signal is aborted', async () => {
    const p = join(tmp, 'abort.csv');
    writeFileSync(p, 'a\n' + '1\n'.repeat(100_000));
    const ac = new AbortController();
    const reader = await openCsv(p, { signal: ac.signal, chunkSize: 4096, batchSize: 100 });
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const batch of reader.batches()) {
          seen += batch.length;
          ac.abort();
        }
      })(),
      (err: unknown) => err instanceof CsvError && err.code === 'ABORTED',
    );
    assert.ok(seen < 100_000);
  });

  it('reads a bounded head with line numbers and estimates the total row count', async () => {
    const p = join(tmp, 'big.csv');
    const rows = ['id,value'];
    // Rows of equal width, so the estimate from the head's average row size is close.
    for (let i = 1; i <= 100_000; i++) rows.push(`${String(i).padStart(6, '0')},${i % 2 ? 'odd' : 'eve'}`);
    writeFileSync(p, rows.join('\n') + '\n');
    const head = await readHead(p, { rows: 200, initialBytes: 16 * 1024, maxBytes: 64 * 1024 });
    assert.equal(head.rows.length, 200);
    assert.deepEqual(head.rows[199], { line: 201, fields: ['000200', 'eve'] });
    assert.ok(head.bytesRead <= 64 * 1024);
    assert.equal(head.complete, false);
    assert.ok(Math.abs(head.estimatedRowCount - 100_000) / 100_000 < 0.01, `estimate ${head.estimatedRowCount}`);
    assert.deepEqual(
      head.columns.map((c) => c.type),
      ['number', 'text'],
    );
  });
});
