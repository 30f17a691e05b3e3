// The tokenizer (src/csv/tokenizer.ts) against csv-parse, its reference: on random texts made of the characters that
// matter to CSV (quotes, delimiters, CR, LF, multi-byte characters), cut into random chunks, both give the same
// records, the same line numbers, the same count of empty lines and the same error (code, line, column).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CsvError, openCsv } from '../../src/csv';
import { createRecordParser, type CsvFormat, type CsvRecord } from '../../src/csv/reader';
import { boundaries, fmt, FORMATS } from '../lib/csvChunks';

interface Outcome {
  records: CsvRecord[];
  line: number;
  emptyLines: number;
  error?: string;
}

function run(format: CsvFormat, bytes: Buffer, cuts: number[], engine: 'fast' | 'csv-parse', maxFieldSize = 1 << 30): Outcome {
  const parser = createRecordParser(format, maxFieldSize, engine);
  const records: CsvRecord[] = [];
  try {
    let at = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut < at) continue;
      parser.feed(bytes.subarray(at, cut), false, records);
      at = cut;
    }
    parser.feed(undefined, true, records);
  } catch (e) {
    if (!(e instanceof CsvError)) throw e;
    return { records, line: parser.line, emptyLines: parser.emptyLines, error: `${e.code} ${e.line ?? ''}:${e.column ?? ''}` };
  }
  return { records, line: parser.line, emptyLines: parser.emptyLines };
}

const csvText = fc
  .array(fc.constantFrom('a', 'b', 'xyz', '"', '""', ',', ';', '\t', '\n', '\r', '\r\n', ' ', 'é', '😀'), { maxLength: 40 })
  .map((parts) => parts.join(''));

describe('CSV tokenizer vs csv-parse', () => {
  for (const [delimiter, lineBreak] of FORMATS) {
    it(`same records, lines and errors (delimiter ${JSON.stringify(delimiter)}, line break ${JSON.stringify(lineBreak)})`, () => {
      fc.assert(
        fc.property(csvText, fc.array(fc.nat(), { maxLength: 6 }), (text, picks) => {
          const bytes = Buffer.from(text, 'utf8');
          const at = boundaries(text);
          const cuts = [...new Set(picks.map((p) => at[p % Math.max(1, at.length)] ?? 0))].sort((x, y) => x - y);
          const format = fmt(delimiter, lineBreak);
          const reference = run(format, bytes, [], 'csv-parse');
          assert.deepEqual(run(format, bytes, cuts, 'fast'), reference, JSON.stringify({ text, cuts }));
          assert.deepEqual(run(format, bytes, [], 'fast'), reference);
        }),
        { numRuns: 3000 },
      );
    });
  }

  it('same on records of realistic shape cut at every byte', () => {
    const text = 'id,name,note\r\n1,"Smith, J.","said ""hi""\r\nand left"\r\n2,plain,"x"y\r\n\r\n3,é😀,\r\n"4"\r\n';
    const bytes = Buffer.from(text, 'utf8');
    const reference = run(fmt(',', '\n'), bytes, [], 'csv-parse');
    assert.equal(reference.records.length, 5);
    for (const cut of boundaries(text)) assert.deepEqual(run(fmt(',', '\n'), bytes, [cut], 'fast'), reference, `cut at ${cut}`);
  });

  it("gives csv-parse's exact results on the cases it treats specially", () => {
    const cases: [string, string[][]][] = [
      ['a"b,c\n', [['a"b', 'c']]], // a quote inside an unquoted field is a character
      ['"ab"c,d\n', [['"ab"c', 'd']]], // a closing quote followed by text: the field goes on unquoted
      ['"a""b"x\n', [['"a"b"x']]],
      ['a\rb,c\n', [['a\rb', 'c']]], // a lone CR in an LF file is a character
      ['a,\n', [['a', '']]],
      ['a,', [['a', '']]],
      ['""\nb\n', [['b']]], // an empty quoted field alone on a line is an empty line
    ];
    for (const [text, fields] of cases) {
      const bytes = Buffer.from(text, 'utf8');
      const ours = run(fmt(',', '\n'), bytes, [], 'fast');
      assert.deepEqual(
        ours.records.map((r) => r.fields),
        fields,
        text,
      );
      assert.deepEqual(ours, run(fmt(',', '\n'), bytes, [], 'csv-parse'), text);
    }
  });

  it('refuses an unterminated quote with the line and column of the field, like csv-parse', () => {
    const bytes = Buffer.from('a,b\n1,"open\n\nstill open', 'utf8');
    const ours = run(fmt(',', '\n'), bytes, [9], 'fast');
    assert.equal(ours.error, 'UNTERMINATED_QUOTE 2:2');
    assert.equal(run(fmt(',', '\n'), bytes, [], 'csv-parse').error, ours.error);
  });

  it('refuses a record over the size limit before reading it whole', () => {
    const big = 'x'.repeat(5000);
    const bytes = Buffer.from(`a,b\n1,${big}\n`, 'utf8');
    const parser = createRecordParser(fmt(',', '\n'), 1000, 'fast');
    const out: CsvRecord[] = [];
    parser.feed(bytes.subarray(0, 8), false, out);
    // The first 1 500 bytes of the field already pass the limit: refused without the rest of the record.
    assert.throws(
      () => parser.feed(bytes.subarray(8, 1500), false, out),
      (e: unknown) => e instanceof CsvError && e.code === 'FIELD_TOO_LARGE' && e.line === 2 && e.column === 2,
    );
    assert.equal(run(fmt(',', '\n'), bytes, [], 'csv-parse', 1000).error, 'FIELD_TOO_LARGE 2:2');
    // Multi-byte characters count as their UTF-8 bytes: 400 × 3 bytes is over a 1 000-byte limit.
    assert.equal(run(fmt(',', '\n'), Buffer.from(`${'€'.repeat(400)}\n`, 'utf8'), [], 'fast', 1000).error, 'FIELD_TOO_LARGE 1:1');
    assert.equal(run(fmt(',', '\n'), Buffer.from(`${'€'.repeat(300)}\n`, 'utf8'), [], 'fast', 1000).error, undefined);
  });
});

describe('reader: the tokenizer and csv-parse read files alike', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tokenizer-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('yields the same batches from a file read in small chunks', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `${i},"name ${i}, with ""quotes""",${i % 7 === 0 ? '"two\nlines"' : 'plain'},é${i}`);
    const path = join(dir, 'mixed.csv');
    writeFileSync(path, `id,name,note,other\n${rows.join('\n')}\n`);
    const read = async (parser: 'fast' | 'csv-parse'): Promise<CsvRecord[]> => {
      const reader = await openCsv(path, { parser, chunkSize: 1000 });
      const all: CsvRecord[] = [];
      for await (const batch of reader.batches()) all.push(...batch);
      return all;
    };
    const ours = await read('fast');
    assert.equal(ours.length, 3000);
    assert.equal(ours[2999]?.line, 2 + 2999 + Math.ceil(2999 / 7));
    assert.deepEqual(ours, await read('csv-parse'));
  });
});
