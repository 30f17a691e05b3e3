// RowEncoder: the per-column fast paths give exactly the text the src/csv converters give (value, null or the
// same error), for cells in the common notations, near misses and arbitrary strings (fast-check).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createConverter, type ColumnType, type JsonValue } from '../../src/csv';
import { RowEncoder, type ColumnMappingEntry } from '../../src/publish';

/** The reference: the converter's value, serialised as the API expects (what the encoder did before its fast paths). */
function reference(type: ColumnType, order: 'mdy' | 'dmy' | undefined, raw: string): { json: string } | { error: string } {
  const res = createConverter(type, { dateOrder: order }).convert(raw);
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

describe('RowEncoder fast paths', () => {
  const cases: [ColumnType, fc.Arbitrary<string>][] = [
    ['number', numberCells],
    ['floating_timestamp', dateCells],
    ['point', pointCells],
    ['url', urlCells],
    ['text', textCells],
    ['checkbox', checkboxCells],
  ];
  for (const [type, cells] of cases) {
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
});
