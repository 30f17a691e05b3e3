// The byte tokenizer (src/csv/bytetokenizer.ts) against the string tokenizer it stands in for (src/csv/tokenizer.ts,
// itself held to csv-parse): on random texts made of the characters that matter to CSV, cut into random chunks, with
// size limits small enough that it hands records over, both give the same records, line numbers, empty lines and
// errors. Records read as bytes are turned into strings here to compare them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CsvError, detectFormat, openCsv } from '../../src/csv';
import { byteRowFields, CsvByteTokenizer } from '../../src/csv/bytetokenizer';
import { readByteRows } from '../../src/csv/byteReader';
import { createRecordParser, type CsvFormat, type CsvRecord } from '../../src/csv/reader';
import { boundaries, fmt, FORMATS } from '../lib/csvChunks';

interface Outcome {
  records: CsvRecord[];
  line: number;
  emptyLines: number;
  error?: string;
  /** Records read as bytes (before any hand-over). */
  asBytes?: number;
}

function run(format: CsvFormat, bytes: Buffer, cuts: number[], engine: 'bytes' | 'string', maxFieldSize = 1 << 30): Outcome {
  const records: CsvRecord[] = [];
  let asBytes = 0;
  const byteParser = engine === 'bytes' ? new CsvByteTokenizer(format, maxFieldSize) : undefined;
  const stringParser = createRecordParser(format, maxFieldSize, 'fast');
  const parser: { line: number; emptyLines: number } = byteParser ?? stringParser;
  const feed = (chunk: Buffer | undefined, end: boolean): void => {
    if (byteParser === undefined) return stringParser.feed(chunk, end, records);
    // Records read as bytes come first, then (once handed over) the string tokenizer's, in the same array.
    byteParser.feed(
      chunk,
      end,
      (row) => {
        asBytes++;
        // The ranges are valid only during the call: copied out now.
        records.push({ line: row.line, fields: byteRowFields(row) });
      },
      records,
    );
  };
  try {
    let at = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut < at) continue;
      feed(bytes.subarray(at, cut), false);
      at = cut;
    }
    feed(undefined, true);
  } catch (e) {
    if (!(e instanceof CsvError)) throw e;
    return { records, line: parser.line, emptyLines: parser.emptyLines, error: `${e.code} ${e.line ?? ''}:${e.column ?? ''}` };
  }
  return { records, line: parser.line, emptyLines: parser.emptyLines, ...(engine === 'bytes' ? { asBytes } : {}) };
}

function withoutCount(o: Outcome): Outcome {
  const { asBytes: _, ...rest } = o;
  return rest;
}

const csvText = fc
  .array(fc.constantFrom('a', 'b', 'xyz', '"', '""', ',', ';', '\t', '\n', '\r\n', '\r', ' ', 'é', '😀', '"q"', '"a,b"', '"l\nm"'), { maxLength: 40 })
  .map((parts) => parts.join(''));

describe('CSV byte tokenizer vs the string tokenizer', () => {
  for (const [delimiter, lineBreak] of FORMATS) {
    it(`same records, lines and errors (delimiter ${JSON.stringify(delimiter)}, line break ${JSON.stringify(lineBreak)})`, () => {
      fc.assert(
        fc.property(csvText, fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom(1 << 30, 60, 12, 3), (text, picks, limit) => {
          const bytes = Buffer.from(text, 'utf8');
          const at = boundaries(text);
          const cuts = [...new Set(picks.map((p) => at[p % Math.max(1, at.length)] ?? 0))].sort((x, y) => x - y);
          const format = fmt(delimiter, lineBreak);
          // With a size limit the string tokenizer may refuse a record early, depending on where the chunks end:
          // compared with the same chunks.
          const reference = run(format, bytes, cuts, 'string', limit);
          assert.deepEqual(withoutCount(run(format, bytes, cuts, 'bytes', limit)), reference, JSON.stringify({ text, cuts, limit }));
          assert.deepEqual(withoutCount(run(format, bytes, [], 'bytes', limit)), run(format, bytes, [], 'string', limit));
        }),
        { numRuns: 3000 },
      );
    });
  }

  it('reads the common shapes as bytes, cut at every byte, and hands over at the first record it does not take', () => {
    const text = 'id,name,note\r\n1,"Smith, J.","said ""hi""\r\nand left"\r\n\r\n3,é😀,\r\n"4"\r\n5,"x"y\r\n6,after\r\n';
    const bytes = Buffer.from(text, 'utf8');
    const reference = run(fmt(',', '\n'), bytes, [], 'string');
    assert.equal(reference.records.length, 6);
    for (const cut of boundaries(text)) {
      const ours = run(fmt(',', '\n'), bytes, [cut], 'bytes');
      // The header and rows 1, 3 and 4 as bytes; `"x"y` (a relaxed closing quote) and what follows as strings.
      assert.equal(ours.asBytes, 4, `cut at ${cut}`);
      assert.deepEqual(withoutCount(ours), reference, `cut at ${cut}`);
    }
  });

  it('gives the string tokenizer its records from the start in a file with CR line breaks', () => {
    const ours = run(fmt(',', '\r'), Buffer.from('a,b\r1,2\r', 'utf8'), [], 'bytes');
    assert.equal(ours.asBytes, 0);
    assert.deepEqual(
      ours.records.map((r) => r.fields),
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    );
  });

  it('leaves the size limit and an unterminated quote to the string tokenizer, with its errors', () => {
    const big = Buffer.from(`a,b\n1,${'x'.repeat(5000)}\n`, 'utf8');
    assert.equal(run(fmt(',', '\n'), big, [8, 1500], 'bytes', 1000).error, 'FIELD_TOO_LARGE 2:2');
    const open = Buffer.from('a,b\n1,"open\n\nstill open', 'utf8');
    assert.equal(run(fmt(',', '\n'), open, [9], 'bytes').error, 'UNTERMINATED_QUOTE 2:2');
  });
});

describe('readByteRows', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bytetokenizer-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('yields the records openCsv yields, header first, from a file read in small chunks', async () => {
    const lines = ['\ufeffid,text,n'];
    for (let i = 1; i <= 3000; i++) lines.push(i % 97 === 0 ? `${i},"multi\nline ""${i}""",${i}` : `${i},plain ${i} é,${i * 3}`);
    const file = join(dir, 'rows.csv');
    writeFileSync(file, `${lines.join('\r\n')}\r\n`);
    const expected: CsvRecord[] = [];
    const reader = await openCsv(file, { chunkSize: 100 });
    expected.push({ line: reader.headerLine, fields: reader.header });
    for await (const batch of reader.batches()) expected.push(...batch);
    const got: CsvRecord[] = [];
    const progress = { bytes: 0 };
    for await (const strings of readByteRows(await detectFormat(file), { chunkSize: 100 }, progress, (row) =>
      got.push({ line: row.line, fields: byteRowFields(row) }),
    )) {
      assert.equal(strings.length, 0);
    }
    assert.deepEqual(got, expected);
    assert.equal(progress.bytes, reader.format.fileSize);
  });

  it('names the line and column of invalid UTF-8, as openCsv does', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, Buffer.concat([Buffer.from('a,b\n1,2\n3,x'), Buffer.from([0xff]), Buffer.from('\n')]));
    const format = await detectFormat(file);
    await assert.rejects(
      async () => {
        for await (const _ of readByteRows(format, {}, { bytes: 0 }, () => undefined)) void _;
      },
      (e: unknown) => e instanceof CsvError && e.code === 'ENCODING' && e.line === 3 && e.column === 4,
    );
  });
});
