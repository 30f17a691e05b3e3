// RowEncoder: the per-column fast paths give exactly the text the src/csv converters give (value, null or the
// same error), for cells in the common notations, near misses and arbitrary strings (fast-check).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createConverter, jsonBytesWriter, jsonFastPath, type ByteRow, type ColumnType, type ConvertOptions, type JsonValue } from '../../src/csv';
import { hashId } from '../../src/csv/idtable';
import { RowEncoder, type ColumnMappingEntry } from '../../src/publish';

/**
 * A byte row of `fields`, laid out in one buffer between other bytes (so offsets matter); a field given in `asText`
 * comes as a string value (as a quoted field with `""` escapes does), the rest as byte ranges.
 */
function byteRow(fields: readonly string[], asText: readonly boolean[] = []): ByteRow {
  const parts: Buffer[] = [Buffer.from('#!')];
  const starts = new Int32Array(Math.max(1, fields.length));
  const ends = new Int32Array(Math.max(1, fields.length));
  let at = 2;
  fields.forEach((f, k) => {
    const b = Buffer.from(f, 'utf8');
    starts[k] = at;
    ends[k] = at + b.length;
    parts.push(b, Buffer.from('\u0000,'));
    at += b.length + 2;
  });
  const texts = fields.map((f, k) => (asText[k] ? f : undefined));
  return { buf: Buffer.concat(parts), count: fields.length, starts, ends, texts, hasTexts: asText.some(Boolean), line: 7, breaks: 0 };
}

/**
 * `encodeBytes` of the fields, written to the encoder's own buffer and to a small given one (from which a longer
 * row moves), as a string: both must be `encodeText`'s result, and the id the same.
 */
function encodeBoth(enc: RowEncoder, fields: readonly string[], asText: readonly boolean[] = []): string | undefined {
  const text = enc.encodeText(fields);
  const textError = { ...enc.lastError };
  const id = enc.idText();
  const idHash = id === undefined ? undefined : enc.idHash();
  for (const small of [false, true]) {
    const row = byteRow(fields, asText);
    const target = Buffer.alloc(small ? 24 : 256, 0x2a);
    const end = enc.encodeBytes(row, target, small ? 5 : 0, small ? 20 : 256);
    if (text === undefined) {
      assert.equal(end, -1, `row ${JSON.stringify(fields)}`);
      assert.deepEqual(enc.lastError, textError);
      continue;
    }
    assert.ok(end >= 0, `row ${JSON.stringify(fields)}: ${enc.lastError.message}`);
    assert.equal(enc.out.toString('utf8', enc.outStart, end), text, `row ${JSON.stringify(fields)} (${small ? 'small' : 'roomy'} target)`);
    if (small && enc.out === target) assert.ok(end <= 20);
    assert.equal(enc.idText(), id);
    if (idHash !== undefined) assert.equal(enc.idHash(), idHash);
    if (id !== undefined) assert.equal(enc.idHash(), hashId(id));
  }
  return text;
}

/** The reference: the converter's value, serialised as the API expects (what the encoder did before its fast paths). */
function reference(
  type: ColumnType,
  order: 'mdy' | 'dmy' | undefined,
  raw: string,
  options: ConvertOptions = { dateOrder: order },
): { json: string } | { error: string } {
  const res = createConverter(type, options).convert(raw);
  if (!res.ok) return { error: res.message };
  const v: JsonValue = res.value;
  if (v === null) return { json: 'null' };
  if (typeof v === 'object' && !Array.isArray(v) && v.type === 'Point' && Array.isArray(v.coordinates)) {
    return { json: `{"type":"Point","coordinates":[${Number(v.coordinates[0])},${Number(v.coordinates[1])}]}` };
  }
  return { json: JSON.stringify(v) };
}

function encodeOne(type: ColumnType, order: 'mdy' | 'dmy' | undefined, raw: string): { json: string } | { error: string } {
  const columns: ColumnMappingEntry[] = [{ csvIndex: 0, csvHeader: 'c', fieldName: 'c', type }];
  const enc = new RowEncoder(columns, [order], 1, undefined);
  // The byte path must agree with the string path, the cell given as bytes (when it has a UTF-8 form: a file's bytes
  // cannot hold a lone surrogate) and as a string value.
  if (Buffer.from(raw, 'utf8').toString('utf8') === raw) encodeBoth(enc, [raw]);
  encodeBoth(enc, [raw], [true]);
  const json = enc.encodeText([raw]);
  if (json === undefined) return { error: enc.lastError.message.replace(/^c: /, '') };
  assert.ok(json.startsWith('{"c":') && json.endsWith('}'), json);
  // The encoder's text must be valid JSON too.
  JSON.parse(json);
  return { json: json.slice(5, -1) };
}

const digits = (min: number, max: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const pick = <T>(...xs: T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);

const numberCells = fc.oneof(
  fc.tuple(pick('', '-', '+'), digits(0, 6), pick('', '.'), digits(0, 4)).map((p) => p.join('')),
  fc
    .tuple(
      pick('', '-'),
      digits(1, 3),
      fc.array(
        fc.tuple(pick(','), digits(2, 4)).map((p) => p.join('')),
        { maxLength: 3 },
      ),
      pick('', '.5', '.', '.00'),
    )
    .map(([s, a, g, f]) => s + a + g.join('') + f),
  fc.double({ noNaN: true }).map(String),
  fc.string({ maxLength: 8 }),
);
const dateCells = fc.oneof(
  fc
    .tuple(
      digits(4, 4),
      pick('-'),
      digits(1, 2),
      pick('-'),
      digits(1, 3),
      pick('', 'T', ' ', 't'),
      digits(1, 2),
      pick(':', ''),
      digits(1, 2),
      pick('', ':00', ':5', ':59', ':60', 'Z', '.5'),
    )
    .map((p) => (p[5] === '' ? p.slice(0, 5) : p).join('')),
  fc
    .tuple(
      digits(1, 3),
      pick('/', '-', '.'),
      digits(1, 2),
      pick('/', '-'),
      digits(3, 5),
      pick('', ' ', 'T'),
      digits(1, 2),
      pick(':'),
      digits(2, 2),
      pick('', ':30', ' PM', ':61'),
    )
    .map((p) => (p[5] === '' ? p.slice(0, 5) : p).join('')),
  fc.constantFrom(
    '2024-02-29',
    '2023-02-29',
    '2024-13-01',
    '1/2/2023 24:00',
    '12/31/2023 23:59:59',
    '31/12/2023',
    '0999-01-01',
    '2024-1-5 7:05',
    ' 2024-01-01',
  ),
  fc.string({ maxLength: 12 }),
);
const pointCells = fc.oneof(
  fc
    .tuple(
      pick('POINT (', 'POINT(', 'point ('),
      fc.double({ min: -200, max: 200, noNaN: true }),
      pick(' ', '  '),
      fc.double({ min: -100, max: 100, noNaN: true }),
      pick(')', ' )'),
    )
    .map(([a, x, s, y, b]) => `${a}${x}${s}${y}${b}`),
  fc
    .tuple(pick('-', ''), digits(1, 3), pick('', '.'), digits(0, 6), pick('-', ''), digits(1, 2), pick('.', ''), digits(0, 5))
    .map(([s1, a, d1, b, s2, c, d2, e]) => `POINT (${s1}${a}${d1}${b} ${s2}${c}${d2}${e})`),
  fc.string({ maxLength: 12 }).map((s) => `POINT (${s})`),
  fc.constantFrom(
    'POINT (-0.0 0)',
    'POINT (0.0000001 1)',
    'POINT (0.000001 -0.0000010)',
    'POINT (180.0 90.000)',
    'POINT (180.01 0)',
    'POINT (1 90.5)',
    'POINT (-180 -90)',
    'POINT (007.50 010)',
    'POINT (1.234567890123456 2)',
    'POINT (123.45678901234 1)',
    'POINT (1e1 2)',
    'POINT (1. 2)',
    'POINT (.5 2)',
  ),
);
const urlCells = fc.oneof(
  fc.tuple(pick('http://', 'https://', 'ftp://', 'HTTP://', 'https:/'), fc.string({ maxLength: 20 })).map((p) => p.join('')),
  fc.webUrl(),
  fc.string({ maxLength: 10 }),
);
const textCells = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', ' ', 'a"b', 'a\\b', 'x\u0000y', '\ud800', '😀', 'line\nbreak'));
const checkboxCells = fc.oneof(fc.constantFrom('true', 'false', 'TRUE', 'yes', 'n', '1', '0', '', ' ', 'maybe', 'constructor'), fc.string({ maxLength: 5 }));

/** Cells of every type with a fast path, common notations and odd ones. */
const cellsByType: [ColumnType, fc.Arbitrary<string>][] = [
  ['number', numberCells],
  ['floating_timestamp', dateCells],
  ['point', pointCells],
  ['url', urlCells],
  ['text', textCells],
  ['checkbox', checkboxCells],
];

describe('RowEncoder fast paths', () => {
  for (const [type, cells] of cellsByType) {
    it(`${type}: the same JSON text or error as the converter`, () => {
      fc.assert(
        fc.property(cells, pick<'mdy' | 'dmy' | undefined>(undefined, 'mdy', 'dmy'), (raw, order) => {
          assert.deepEqual(encodeOne(type, order, raw), reference(type, order, raw), `cell ${JSON.stringify(raw)}`);
        }),
        { numRuns: 3000 },
      );
    });
  }

  it('converts the notations of the benchmark file with the fast paths and the expected text', () => {
    assert.deepEqual(encodeOne('number', undefined, '1,234.50'), { json: '"1234.50"' });
    assert.deepEqual(encodeOne('floating_timestamp', undefined, '7/4/2023 9:05'), { json: '"2023-07-04T09:05:00.000"' });
    assert.deepEqual(encodeOne('floating_timestamp', 'dmy', '7/4/2023'), { json: '"2023-04-07T00:00:00.000"' });
    assert.deepEqual(encodeOne('point', undefined, 'POINT (-87.10000 41.50000)'), { json: '{"type":"Point","coordinates":[-87.1,41.5]}' });
    assert.deepEqual(encodeOne('url', undefined, 'https://example.org/r/1'), { json: '{"url":"https://example.org/r/1"}' });
    assert.ok('error' in encodeOne('point', undefined, 'POINT (-87.1 91)'));
    assert.ok('error' in encodeOne('floating_timestamp', undefined, '2023-02-29'));
  });

  it('keeps the row identifier and reports an empty one, with encode() giving the same answers', () => {
    const columns: ColumnMappingEntry[] = [
      { csvIndex: 0, csvHeader: 'ID', fieldName: 'id', type: 'text' },
      { csvIndex: 1, csvHeader: 'N', fieldName: 'n', type: 'number' },
    ];
    const enc = new RowEncoder(columns, [undefined, undefined], 2, 'id');
    assert.equal(enc.encodeText(['a"1', '2']), '{"id":"a\\"1","n":"2"}');
    assert.equal(enc.lastId, 'a"1');
    assert.deepEqual(enc.encode(['x', '1,000']), { ok: true, json: '{"id":"x","n":"1000"}', id: 'x' });
    assert.deepEqual(enc.encode(['', '1']), { ok: false, message: 'the row identifier ID is empty', column: 1 });
    assert.deepEqual(enc.encode(['x', 'abc']), { ok: false, message: 'N: "abc" is not a number', column: 2 });
    assert.deepEqual(enc.encode(['x']), { ok: false, message: 'the row has 1 fields, the header has 2', column: undefined });
    const del = new RowEncoder(columns, [undefined, undefined], 2, 'id', true);
    assert.equal(del.encodeText(['k', 'zzz']), '{"id":"k",":deleted":true}');
  });

  it('encodes byte rows as encodeText does: ids, bad cells, bad widths, delete rows, rows that outgrow their room', () => {
    const columns: ColumnMappingEntry[] = [
      { csvIndex: 0, csvHeader: 'ID', fieldName: 'id', type: 'text' },
      { csvIndex: 1, csvHeader: 'N', fieldName: 'n', type: 'number' },
      { csvIndex: 2, csvHeader: 'Where', fieldName: 'where', type: 'point' },
      { csvIndex: 3, csvHeader: 'skipped', fieldName: undefined, type: undefined },
      { csvIndex: 4, csvHeader: 'When', fieldName: 'when', type: 'floating_timestamp' },
    ];
    const enc = new RowEncoder(columns, [], 5, 'id');
    assert.equal(
      encodeBoth(enc, ['R1', '1,234.5', 'POINT (-87.5 41.25)', 'x', '3/4/2023 5:06']),
      '{"id":"R1","n":"1234.5","where":{"type":"Point","coordinates":[-87.5,41.25]},"when":"2023-03-04T05:06:00.000"}',
    );
    assert.equal(encodeBoth(enc, ['a"1', '2', '', '', '']), '{"id":"a\\"1","n":"2","where":null,"when":null}');
    assert.equal(enc.idText(), 'a"1');
    assert.equal(encodeBoth(enc, ['é😀', '(1)', '', '', '']), undefined);
    assert.deepEqual(enc.lastError, { message: 'N: "(1)" is not a number', column: 2 });
    assert.equal(encodeBoth(enc, ['', '1', '', '', '']), undefined);
    assert.deepEqual(enc.lastError, { message: 'the row identifier ID is empty', column: 1 });
    assert.equal(encodeBoth(enc, ['x', '1']), undefined);
    assert.deepEqual(enc.lastError, { message: 'the row has 2 fields, the header has 5', column: undefined });
    assert.ok(encodeBoth(enc, ['é😀', '1', 'POINT (1 2)', '', '2024-01-02'], [true])?.startsWith('{"id":"é😀"'));
    // Longer than the encoder's own 64 KiB buffer: it grows.
    assert.equal(encodeBoth(enc, ['i'.repeat(100_000), '1', '', 'x', ''])?.length, 100_000 + 42);
    const numericId = new RowEncoder(
      [
        { csvIndex: 0, csvHeader: 'K', fieldName: 'k', type: 'number' },
        { csvIndex: 1, csvHeader: 'T', fieldName: 't', type: 'text' },
      ],
      [],
      2,
      'k',
      true,
    );
    assert.equal(encodeBoth(numericId, ['1,000', 'zzz']), '{"k":"1000",":deleted":true}');
    assert.equal(numericId.idText(), '1000');
  });

  it('writes from bytes exactly what the converter gives, for every option', () => {
    for (const [type, cells] of cellsByType) {
      for (const options of [{}, { decimalComma: true }, { dateOrder: 'dmy' as const }]) {
        const w = jsonBytesWriter(type, options);
        const fast = jsonFastPath(type, options);
        assert.ok(w !== undefined && fast !== undefined);
        fc.assert(
          fc.property(cells, (raw) => {
            if (Buffer.from(raw, 'utf8').toString('utf8') !== raw) return;
            const src = Buffer.from(`,${raw},`, 'utf8');
            const out = Buffer.alloc(src.length + 64);
            const end = w(src, 1, src.length - 1, out, 3);
            // Accepted from bytes: the converter's value, as the string fast path writes it when it takes the cell.
            if (end < 0) return;
            const text = out.toString('utf8', 3, end);
            const label = `${type} ${JSON.stringify(options)} ${JSON.stringify(raw)}`;
            assert.deepEqual({ json: text }, reference(type, options.dateOrder, raw, options), label);
            const viaString = fast(raw);
            if (viaString !== undefined) assert.equal(text, viaString, label);
          }),
          { numRuns: 1000 },
        );
      }
    }
  });
});
