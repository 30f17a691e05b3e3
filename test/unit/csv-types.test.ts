import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkHeader, columnTypeOf, createConverter, matchHeaders, normaliseFieldName, readHead, type ColumnType, type ConvertOptions } from '../../src/csv';

const fx = (name: string) => join(__dirname, '..', 'fixtures', 'csv', name);
const conv = (type: ColumnType, raw: string, options: ConvertOptions = {}) => createConverter(type, options).convert(raw);

describe('csv type inference', () => {
  it('infers the permit columns, including both point notations and labelled URLs', async () => {
    const head = await readHead(fx('permits-crlf.csv'));
    assert.deepEqual(
      head.columns.map((c) => c.type),
      ['text', 'text', 'number', 'floating_timestamp', 'checkbox', 'url', 'point'],
    );
    assert.equal(head.columns[2].nulls, 1);
    assert.equal(head.columns[2].nullShare, 0.25);
    assert.equal(head.columns[3].dateOrder, 'mdy');
    assert.equal(head.estimatedRowCount, 4);
  });

  it('chooses the date order per column from the values, and flags ambiguity', async () => {
    const head = await readHead(fx('dates.csv'));
    const cols = head.columns.map((c) => [c.type, c.dateOrder, c.ambiguousDateOrder]);
    assert.deepEqual(cols, [
      ['floating_timestamp', 'mdy', false],
      ['floating_timestamp', 'dmy', false],
      ['floating_timestamp', 'mdy', true],
      ['floating_timestamp', undefined, undefined],
      ['floating_timestamp', undefined, undefined],
      ['fixed_timestamp', undefined, undefined],
    ]);
  });

  it('infers semicolon decimal-comma numbers only with the option', async () => {
    assert.deepEqual(
      (await readHead(fx('semicolon-decimal-comma.csv'))).columns.map((c) => c.type),
      ['number', 'text', 'floating_timestamp'],
    );
    assert.deepEqual(
      (await readHead(fx('semicolon-decimal-comma.csv'), { decimalComma: true })).columns.map((c) => c.type),
      ['number', 'number', 'floating_timestamp'],
    );
  });

  it('infers email, url, checkbox words, 0/1 as number, and an all-empty row as nulls', async () => {
    const head = await readHead(fx('misc-types.csv'));
    assert.deepEqual(
      head.columns.map((c) => [c.type, c.nulls]),
      [
        ['email', 1],
        ['url', 1],
        ['checkbox', 1],
        ['number', 1],
      ],
    );
  });

  it('infers points in both notations, and text when a coordinate is out of range', async () => {
    const head = await readHead(fx('points.csv'));
    assert.deepEqual(
      head.columns.map((c) => c.type),
      ['text', 'text'],
    );
    const first3 = await readHead(fx('points.csv'), { rows: 3 });
    assert.equal(first3.rows.length, 3);
  });
});

describe('csv conversion to API JSON', () => {
  it('numbers: strips thousands separators, rejects ambiguous decimal commas unless asked', () => {
    assert.deepEqual(conv('number', '1,234.50'), { ok: true, value: '1234.50' });
    assert.deepEqual(conv('number', ' 2,000,000 '), { ok: true, value: '2000000' });
    assert.deepEqual(conv('number', '+3e5'), { ok: true, value: '3e5' });
    assert.deepEqual(conv('number', '.5'), { ok: true, value: '0.5' });
    assert.deepEqual(conv('number', '-.5'), { ok: true, value: '-0.5' });
    assert.deepEqual(conv('number', '1.'), { ok: true, value: '1' });
    assert.deepEqual(conv('number', '.'), { ok: false, message: '"." is not a number' });
    assert.deepEqual(conv('number', '1.234,5'), {
      ok: false,
      message: '"1.234,5" looks like a number with a decimal comma; turn on the decimal-comma option to read it',
    });
    assert.deepEqual(conv('number', '1.234,5', { decimalComma: true }), { ok: true, value: '1234.5' });
    assert.deepEqual(conv('number', '12,34'), {
      ok: false,
      message: '"12,34" looks like a number with a decimal comma; turn on the decimal-comma option to read it',
    });
    assert.deepEqual(conv('number', '$5'), { ok: false, message: '"$5" is not a plain number (currency symbols and % are not allowed)' });
    assert.deepEqual(conv('number', 'abc'), { ok: false, message: '"abc" is not a number' });
    assert.deepEqual(conv('number', ''), { ok: true, value: null });
    assert.deepEqual(conv('number', '   '), { ok: true, value: null });
    assert.deepEqual(conv('double', '1,234.5'), { ok: true, value: 1234.5 });
  });

  it('floating timestamps in every accepted notation; impossible dates rejected', () => {
    assert.deepEqual(conv('floating_timestamp', '2024-01-15'), { ok: true, value: '2024-01-15T00:00:00.000' });
    assert.deepEqual(conv('floating_timestamp', '2024-03-28T23:59:59.5'), { ok: true, value: '2024-03-28T23:59:59.500' });
    assert.deepEqual(conv('floating_timestamp', '2024-03-27 10:38'), { ok: true, value: '2024-03-27T10:38:00.000' });
    assert.deepEqual(conv('floating_timestamp', '03/26/2014 10:38:01 PM'), { ok: true, value: '2014-03-26T22:38:01.000' });
    assert.deepEqual(conv('floating_timestamp', '12/01/2014 12:05 AM'), { ok: true, value: '2014-12-01T00:05:00.000' });
    assert.deepEqual(conv('floating_timestamp', '26/03/2024', { dateOrder: 'dmy' }), { ok: true, value: '2024-03-26T00:00:00.000' });
    assert.deepEqual(conv('floating_timestamp', '1.2.2024', { dateOrder: 'dmy' }), { ok: true, value: '2024-02-01T00:00:00.000' });
    assert.deepEqual(conv('floating_timestamp', '2023-02-30'), { ok: false, message: '"2023-02-30" is not a real date (2023-02 has no day 30)' });
    assert.deepEqual(conv('floating_timestamp', '2024-02-29'), { ok: true, value: '2024-02-29T00:00:00.000' });
    assert.deepEqual(conv('floating_timestamp', '26/03/2024'), { ok: false, message: '"26/03/2024" has month 26, which does not exist' });
    assert.deepEqual(conv('floating_timestamp', '2024-01-01 25:00'), { ok: false, message: '"2024-01-01 25:00" has an impossible time of day' });
    assert.equal(conv('floating_timestamp', '2024-01-01T10:00:00Z').ok, false);
    assert.deepEqual(conv('floating_timestamp', 'soon'), { ok: false, message: '"soon" is not a date (expected YYYY-MM-DD[THH:MM:SS] or MM/DD/YYYY)' });
  });

  it('fixed timestamps are converted to UTC', () => {
    assert.deepEqual(conv('fixed_timestamp', '2023-12-31T23:59:59-08:00'), { ok: true, value: '2024-01-01T07:59:59.000Z' });
    assert.deepEqual(conv('fixed_timestamp', '2024-02-29T12:00:00+0530'), { ok: true, value: '2024-02-29T06:30:00.000Z' });
    assert.deepEqual(conv('fixed_timestamp', '2024-03-26T10:38:01Z'), { ok: true, value: '2024-03-26T10:38:01.000Z' });
    assert.deepEqual(conv('fixed_timestamp', '2024-03-26 10:38'), {
      ok: false,
      message: '"2024-03-26 10:38" has no time zone; the column is a fixed timestamp and needs Z or an offset such as -08:00',
    });
  });

  it('checkbox, point, location, url, email, text', () => {
    assert.deepEqual(
      ['true', 'No', 'Y', 'n', '1', '0', 'T'].map((v) => conv('checkbox', v)),
      [true, false, true, false, true, false, true].map((value) => ({ ok: true, value })),
    );
    assert.deepEqual(conv('checkbox', 'maybe'), { ok: false, message: '"maybe" is not a checkbox value (use true/false, yes/no, y/n or 1/0)' });
    assert.deepEqual(conv('point', 'POINT (-87.653274 41.936172)'), { ok: true, value: { type: 'Point', coordinates: [-87.653274, 41.936172] } });
    assert.deepEqual(conv('point', '(41.936172, -87.653274)'), { ok: true, value: { type: 'Point', coordinates: [-87.653274, 41.936172] } });
    assert.deepEqual(conv('point', '(95.0, 10.0)'), { ok: false, message: '"(95.0, 10.0)" has latitude 95, outside -90..90' });
    assert.deepEqual(conv('point', 'POINT (-190 10)'), { ok: false, message: '"POINT (-190 10)" has longitude -190, outside -180..180' });
    assert.deepEqual(conv('location', '(47.59815, -122.33454)'), { ok: true, value: { latitude: '47.59815', longitude: '-122.33454' } });
    assert.deepEqual(conv('url', 'https://example.org/p/1'), { ok: true, value: { url: 'https://example.org/p/1' } });
    assert.deepEqual(conv('url', 'Permit page (https://example.org/p/2)'), { ok: true, value: { url: 'https://example.org/p/2', description: 'Permit page' } });
    assert.equal(conv('url', 'example.org').ok, false);
    assert.deepEqual(conv('email', 'pat@example.org'), { ok: true, value: 'pat@example.org' });
    assert.equal(conv('email', 'pat@example').ok, false);
    assert.deepEqual(conv('text', '=HYPERLINK("https://example.org")'), { ok: true, value: '=HYPERLINK("https://example.org")' });
    assert.deepEqual(conv('text', '  padded '), { ok: true, value: '  padded ' });
    assert.deepEqual(conv('text', ''), { ok: true, value: null });
    assert.deepEqual(conv('polygon', 'POLYGON ((0 0, 1 0, 1 1, 0 0))'), { ok: true, value: 'POLYGON ((0 0, 1 0, 1 1, 0 0))' });
    assert.equal(conv('multipolygon', 'POLYGON ((0 0, 1 0, 1 1, 0 0))').ok, false);
    assert.deepEqual(conv('unsupported', 'x'), { ok: false, message: 'this column type cannot be filled from a CSV file' });
  });

  it('maps legacy and SoQL type names', () => {
    assert.deepEqual(
      ['calendar_date', 'date', 'checkbox', 'boolean', 'money', 'number', 'text', 'url', 'point', 'floating_timestamp', 'photo'].map(columnTypeOf),
      ['floating_timestamp', 'fixed_timestamp', 'checkbox', 'checkbox', 'number', 'number', 'text', 'url', 'point', 'floating_timestamp', 'unsupported'],
    );
  });
});

describe('csv field names', () => {
  it('normalises headers to API field names', () => {
    assert.deepEqual(['Permit ID', '  Total (USD) ', 'Café Name', '2020 Count', 'a--b__c', 'already_ok', '%%%'].map(normaliseFieldName), [
      'permit_id',
      'total_usd',
      'cafe_name',
      '_2020_count',
      'a_b_c',
      'already_ok',
      '',
    ]);
  });

  it('reports empty and duplicate headers', async () => {
    const head = await readHead(fx('dup-headers.csv'));
    assert.deepEqual(head.fieldNames, ['name', 'name', '', 'total_usd', 'total_usd', '_2020_count']);
    assert.deepEqual(head.headerProblems, checkHeader(head.header));
    assert.deepEqual(
      head.headerProblems.map((p) => [p.kind, p.columns, p.message]),
      [
        ['empty', [2], 'column 3 has an empty header'],
        ['duplicate', [0, 1], 'columns 1 ("Name"), 2 ("name") all become the field name "name"'],
        ['duplicate', [3, 4], 'columns 4 ("Total (USD)"), 5 ("total usd") all become the field name "total_usd"'],
      ],
    );
  });

  it('matches headers to dataset columns with a confidence', () => {
    const columns = [
      { fieldName: 'permit_id', name: 'Permit ID' },
      { fieldName: 'issued_date', name: 'Date Issued' },
      { fieldName: 'valuation', name: 'Valuation' },
      { fieldName: 'info_url', name: 'Info URL' },
      { fieldName: 'location', name: 'Location' },
    ];
    const m = matchHeaders(['permit_id', 'Permit Id', 'Date Issued', 'valuaton', 'info url', 'zzz'], columns);
    assert.deepEqual(
      m.map((x) => [x.csvHeader, x.fieldName, x.confidence, x.reason]),
      [
        ['permit_id', 'permit_id', 1, 'field name'],
        ['Permit Id', undefined, 0, 'no match'],
        ['Date Issued', 'issued_date', 0.9, 'display name'],
        ['valuaton', 'valuation', 0.71, 'similar name'],
        ['info url', 'info_url', 0.95, 'normalised field name'],
        ['zzz', undefined, 0, 'no match'],
      ],
    );
  });
});
