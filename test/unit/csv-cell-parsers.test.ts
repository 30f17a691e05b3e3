// Every notation the cell parsers accept and refuse, at its edges, through the converters the publish uses
// (createConverter). The other csv tests check typical values; a parser that drifted at an edge (an anchor dropped
// from a pattern, a bound off by one, a wrong branch of the decimal-comma reading) would pass them.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createConverter, parseDate, parseNumber, type ColumnType, type ConvertOptions } from '../../src/csv';

const conv = (type: ColumnType, raw: string, options: ConvertOptions = {}) => createConverter(type, options).convert(raw);
const value = (type: ColumnType, raw: string, options: ConvertOptions = {}): unknown => {
  const r = conv(type, raw, options);
  assert.ok(r.ok, `${type} ${JSON.stringify(raw)}: ${r.ok ? '' : r.message}`);
  return r.value;
};
const message = (type: ColumnType, raw: string, options: ConvertOptions = {}): string => {
  const r = conv(type, raw, options);
  assert.ok(!r.ok, `${type} ${JSON.stringify(raw)} is refused, got ${JSON.stringify(r.ok && r.value)}`);
  return r.message;
};

describe('cell parsers: numbers', () => {
  it('the API decimal string of every accepted notation', () => {
    const cases: [string, string][] = [
      ['0', '0'],
      ['42', '42'],
      [' 7 ', '7'],
      ['+5', '5'],
      ['-5', '-5'],
      ['1,234', '1234'],
      ['1,234,567.25', '1234567.25'],
      ['999,999', '999999'],
      ['12345', '12345'],
      ['.5', '0.5'],
      ['-.5', '-0.5'],
      ['+.5', '0.5'],
      ['1.', '1'],
      ['-1.', '-1'],
      ['1.e5', '1e5'],
      ['1.5e3', '1.5e3'],
      ['1E+5', '1E+5'],
      ['2e-3', '2e-3'],
      ['1e10', '1e10'],
      ['-1.25E-12', '-1.25E-12'],
      ['0.000', '0.000'],
    ];
    for (const [raw, expected] of cases) assert.equal(value('number', raw), expected, raw);
  });

  it('refuses what is not a number, naming currency and decimal commas', () => {
    for (const raw of [
      'abc',
      '.',
      '-',
      '+',
      '1.2.3',
      '--5',
      '1e',
      'e5',
      '+e5',
      '.e5',
      '-E5',
      '1e5e5',
      '1,23,456',
      '12,3456.7',
      '0x1F',
      '1 000',
      '5-',
      'a5',
      '5a',
    ]) {
      assert.equal(message('number', raw), `"${raw}" is not a number`, raw);
    }
    for (const raw of ['$5', '5%', '€5', '£5', '¥5', '$1,234.50']) {
      assert.equal(message('number', raw), `"${raw}" is not a plain number (currency symbols and % are not allowed)`, raw);
    }
    for (const raw of ['1,5', '12,34', '1234,567', '1.234,5', '12.345,6', '123.456,7', '-1,5', '+1.234.567,89']) {
      assert.equal(message('number', raw), `"${raw}" looks like a number with a decimal comma; turn on the decimal-comma option to read it`, raw);
    }
  });

  it('with decimal commas: `.` groups thousands, `,` is the decimal mark', () => {
    const dc = { decimalComma: true };
    const cases: [string, string][] = [
      ['1,5', '1.5'],
      ['-1,5', '-1.5'],
      ['+1,5', '1.5'],
      [',5', '0.5'],
      ['1.234', '1234'],
      ['1.234,5', '1234.5'],
      ['1.234.567,89', '1234567.89'],
      ['12', '12'],
      ['1,5e3', '1.5e3'],
      ['1,5e10', '1.5e10'],
      ['1,5e-3', '1.5e-3'],
      ['-2,25E+2', '-2.25E+2'],
      ['12.345', '12345'],
      ['123.456,5', '123456.5'],
    ];
    for (const [raw, expected] of cases) assert.equal(value('number', raw, dc), expected, raw);
    for (const raw of ['12.34', '1.23.456', '1,5,5', 'x', '1.2345,6', '1,', ',']) assert.equal(message('number', raw, dc), `"${raw}" is not a number`, raw);
    assert.equal(message('number', '€1,5', dc), '"€1,5" is not a plain number (currency symbols and % are not allowed)');
  });

  it('parseNumber reads a dot as the decimal mark unless told otherwise', () => {
    assert.equal(parseNumber('1,234.5'), '1234.5');
    assert.deepEqual(parseNumber('1,5'), { error: '"1,5" looks like a number with a decimal comma; turn on the decimal-comma option to read it' });
    assert.equal(parseNumber('1,5', true), '1.5');
  });

  it('doubles: JSON numbers, and the three special values as they are', () => {
    assert.equal(value('double', '1,234.5'), 1234.5);
    assert.equal(value('double', '-.25'), -0.25);
    assert.equal(value('double', '1,5', { decimalComma: true }), 1.5);
    for (const special of ['NaN', 'Infinity', '-Infinity', '+Infinity']) assert.equal(value('double', ` ${special} `), special);
    for (const raw of ['nan', 'infinity', 'NaN1', 'xInfinity', 'Infinity-']) assert.equal(conv('double', raw).ok, false, raw);
  });
});

describe('cell parsers: checkbox', () => {
  it('each word in any case and with spaces; nothing else, not even the names of object members', () => {
    const words: [string, boolean][] = [
      ['true', true],
      ['FALSE', false],
      ['Yes', true],
      ['no', false],
      ['Y', true],
      ['n', false],
      ['t', true],
      ['F', false],
      ['1', true],
      ['0', false],
      [' yes ', true],
    ];
    for (const [raw, expected] of words) assert.equal(value('checkbox', raw), expected, raw);
    for (const raw of ['maybe', 'constructor', 'toString', '__proto__', 'hasOwnProperty', '2', 'yess', 'on']) {
      assert.equal(message('checkbox', raw), `"${raw}" is not a checkbox value (use true/false, yes/no, y/n or 1/0)`, raw);
    }
  });
});

describe('cell parsers: dates', () => {
  it('ISO dates and date-times to a floating timestamp', () => {
    const cases: [string, string][] = [
      ['2023-01-05', '2023-01-05T00:00:00.000'],
      ['2023-1-5', '2023-01-05T00:00:00.000'],
      [' 2023-01-05 ', '2023-01-05T00:00:00.000'],
      ['2023-01-05T13:45', '2023-01-05T13:45:00.000'],
      ['2023-01-05 13:45:07', '2023-01-05T13:45:07.000'],
      ['2023-01-05t9:05:07', '2023-01-05T09:05:07.000'],
      ['2023-01-05T13:45:07.5', '2023-01-05T13:45:07.500'],
      ['2023-01-05T13:45:07.25', '2023-01-05T13:45:07.250'],
      ['2023-01-05T13:45:07,123456', '2023-01-05T13:45:07.123'],
      ['2023-12-31T23:59:59.999', '2023-12-31T23:59:59.999'],
      ['2024-02-29', '2024-02-29T00:00:00.000'],
      ['0999-01-01', '0999-01-01T00:00:00.000'],
    ];
    for (const [raw, expected] of cases) assert.equal(value('floating_timestamp', raw), expected, raw);
  });

  it('impossible dates and times are refused, saying why', () => {
    assert.equal(message('floating_timestamp', '2023-02-29'), '"2023-02-29" is not a real date (2023-02 has no day 29)');
    assert.equal(message('floating_timestamp', '2023-04-31'), '"2023-04-31" is not a real date (2023-04 has no day 31)');
    assert.equal(message('floating_timestamp', '2023-01-00'), '"2023-01-00" is not a real date (2023-01 has no day 0)');
    assert.equal(message('floating_timestamp', '2023-13-01'), '"2023-13-01" has month 13, which does not exist');
    assert.equal(message('floating_timestamp', '2023-00-10'), '"2023-00-10" has month 0, which does not exist');
    for (const raw of ['2023-01-05T24:00', '2023-01-05T23:60', '2023-01-05T23:59:60']) {
      assert.equal(message('floating_timestamp', raw), `"${raw}" has an impossible time of day`, raw);
    }
    assert.equal(message('floating_timestamp', '2023-01-05Z'), '"2023-01-05Z" has a time zone but no time');
    assert.equal(message('fixed_timestamp', '2023-01-05+02:00'), '"2023-01-05+02:00" has a time zone but no time');
  });

  it('what is not a date names the expected notations, in the column order', () => {
    for (const raw of [
      'yesterday',
      '2023/01/05',
      '2023-01-05T1',
      '2023-01-05T10:5',
      '12023-01-05',
      '01/02-2023',
      '1/2/23',
      'x2023-01-05',
      '2023-01-05x',
      'x1/2/2023',
      '101/02/2023',
      '1/2/2023x',
      '1/2/20234',
      '1/2/2023 10:00x',
    ]) {
      assert.equal(message('floating_timestamp', raw), `"${raw}" is not a date (expected YYYY-MM-DD[THH:MM:SS] or MM/DD/YYYY)`, raw);
    }
    assert.equal(message('floating_timestamp', 'soon', { dateOrder: 'dmy' }), '"soon" is not a date (expected YYYY-MM-DD[THH:MM:SS] or DD/MM/YYYY)');
    assert.deepEqual(parseDate('soon'), { error: '"soon" is not a date (expected YYYY-MM-DD[THH:MM:SS] or MM/DD/YYYY)' });
  });

  it('slash dates in either order, with `-` or `.`, an optional time and AM/PM', () => {
    assert.equal(value('floating_timestamp', '01/02/2023'), '2023-01-02T00:00:00.000');
    assert.equal(value('floating_timestamp', '01/02/2023', { dateOrder: 'dmy' }), '2023-02-01T00:00:00.000');
    assert.equal(value('floating_timestamp', '1.2.2023', { dateOrder: 'dmy' }), '2023-02-01T00:00:00.000');
    assert.equal(value('floating_timestamp', '1-2-2023'), '2023-01-02T00:00:00.000');
    assert.equal(value('floating_timestamp', ' 01/02/2023 '), '2023-01-02T00:00:00.000');
    assert.equal(value('floating_timestamp', '\t12/31/2023 11:30 PM '), '2023-12-31T23:30:00.000');
    assert.equal(value('floating_timestamp', '12/31/2023 7:05'), '2023-12-31T07:05:00.000');
    assert.equal(value('floating_timestamp', '12/31/2023T07:05:09.5'), '2023-12-31T07:05:09.500');
    assert.equal(value('floating_timestamp', '12/31/2023 11:30 PM'), '2023-12-31T23:30:00.000');
    assert.equal(value('floating_timestamp', '12/31/2023 11:30 am'), '2023-12-31T11:30:00.000');
    assert.equal(value('floating_timestamp', '12/31/2023 12:00 AM'), '2023-12-31T00:00:00.000');
    assert.equal(value('floating_timestamp', '12/31/2023 12:00 PM'), '2023-12-31T12:00:00.000');
    assert.equal(value('floating_timestamp', '12/31/2023 1:05:09.25 p.m.'), '2023-12-31T13:05:09.250');
    assert.equal(value('floating_timestamp', '12/31/2023 1:05PM'), '2023-12-31T13:05:00.000');
    assert.equal(message('floating_timestamp', '12/31/2023 13:00 PM'), '"12/31/2023 13:00 PM" has hour 13 with AM/PM');
    assert.equal(message('floating_timestamp', '12/31/2023 0:00 AM'), '"12/31/2023 0:00 AM" has hour 0 with AM/PM');
    assert.equal(message('floating_timestamp', '13/01/2023'), '"13/01/2023" has month 13, which does not exist');
    assert.equal(message('floating_timestamp', '02/30/2024'), '"02/30/2024" is not a real date (2024-02 has no day 30)');
    assert.equal(message('floating_timestamp', '12/31/2023 24:00'), '"12/31/2023 24:00" has an impossible time of day');
  });

  it('zones: a floating column refuses them, a fixed column needs one and converts to UTC', () => {
    const cases: [string, string][] = [
      ['2023-01-05T10:00:00Z', '2023-01-05T10:00:00.000Z'],
      ['2023-01-05T10:00z', '2023-01-05T10:00:00.000Z'],
      ['2023-01-05T10:00:00+02:00', '2023-01-05T08:00:00.000Z'],
      ['2023-01-05T10:00:00 +01:00', '2023-01-05T09:00:00.000Z'],
      ['2023-01-05T10:00-0530', '2023-01-05T15:30:00.000Z'],
      ['2023-01-05T10:00+02', '2023-01-05T08:00:00.000Z'],
      ['2023-01-05T10:00:00.5-00:30', '2023-01-05T10:30:00.500Z'],
      ['2023-01-01T00:30:00+01:00', '2022-12-31T23:30:00.000Z'],
    ];
    for (const [raw, expected] of cases) {
      assert.equal(value('fixed_timestamp', raw), expected, raw);
      assert.equal(message('floating_timestamp', raw), `"${raw}" has a time zone, but the column is a floating timestamp (calendar date) without zone`);
    }
    assert.equal(
      message('fixed_timestamp', '2023-01-05T10:00'),
      '"2023-01-05T10:00" has no time zone; the column is a fixed timestamp and needs Z or an offset such as -08:00',
    );
    assert.equal(message('fixed_timestamp', '2023-01-05T10:00+2'), '"2023-01-05T10:00+2" is not a date (expected YYYY-MM-DD[THH:MM:SS] or MM/DD/YYYY)');
  });
});

describe('cell parsers: points', () => {
  it('WKT POINT (lon lat) and (lat, lon), any spacing and number form', () => {
    const cases: [string, [number, number]][] = [
      ['POINT (-122.3 47.6)', [-122.3, 47.6]],
      ['point(1 2)', [1, 2]],
      ['POINT(  1   2  )', [1, 2]],
      ['POINT (.5 -.5)', [0.5, -0.5]],
      ['(47.6, -122.3)', [-122.3, 47.6]],
      ['( 47.6 ,-122.3 )', [-122.3, 47.6]],
      ['(+1.5, 2.)', [2, 1.5]],
      ['(90, 180)', [180, 90]],
      ['(-90, -180)', [-180, -90]],
      [' POINT (0 0) ', [0, 0]],
    ];
    for (const [raw, coordinates] of cases) assert.deepEqual(value('point', raw), { type: 'Point', coordinates }, raw);
    assert.deepEqual(value('location', '(47.6, -122.3)'), { latitude: '47.6', longitude: '-122.3' });
  });

  it('coordinates out of range and other notations are refused', () => {
    assert.equal(message('point', '(90.5, 0)'), '"(90.5, 0)" has latitude 90.5, outside -90..90');
    assert.equal(message('point', '(-90.5, 0)'), '"(-90.5, 0)" has latitude -90.5, outside -90..90');
    assert.equal(message('point', 'POINT (180.5 0)'), '"POINT (180.5 0)" has longitude 180.5, outside -180..180');
    assert.equal(message('point', '(0, -180.5)'), '"(0, -180.5)" has longitude -180.5, outside -180..180');
    for (const raw of [
      'POINT (1)',
      'POINT (1 2 3)',
      'POINT 1 2',
      '(1 2)',
      '(1, 2, 3)',
      '1, 2',
      'xPOINT (1 2)',
      'POINT (1 2)x',
      '(1, 2)x',
      'POINT (a b)',
      'POINT (1,2)',
    ]) {
      assert.equal(message('point', raw), `"${raw}" is not a point (expected POINT (longitude latitude) or (latitude, longitude))`, raw);
    }
  });
});

describe('cell parsers: URLs and email', () => {
  it('bare http, https and ftp URLs; "Label (URL)" with its label', () => {
    for (const raw of ['https://example.org/a?b=1#c', 'http://x', 'HTTP://EXAMPLE.ORG', 'ftp://files.example.org/a.csv']) {
      assert.deepEqual(value('url', raw), { url: raw });
    }
    assert.deepEqual(value('url', ' https://example.org '), { url: 'https://example.org' });
    assert.deepEqual(value('url', 'Home page (https://example.org/x)'), { url: 'https://example.org/x', description: 'Home page' });
    assert.deepEqual(value('url', 'Home(https://e.org)'), { url: 'https://e.org', description: 'Home' });
    assert.deepEqual(value('url', '(https://example.org)'), { url: 'https://example.org' });
    assert.deepEqual(value('url', 'Old site (http://example.org)'), { url: 'http://example.org', description: 'Old site' });
    assert.deepEqual(value('url', 'Files (FTP://files.example.org)'), { url: 'FTP://files.example.org', description: 'Files' });
    const url = ' (https://example.org)';
    const longest = `${'a'.repeat(4095 - url.length)}${url}`;
    assert.equal(longest.length, 4095);
    assert.deepEqual(value('url', longest), { url: 'https://example.org', description: 'a'.repeat(4095 - url.length) });
    assert.equal(conv('url', `a${longest}`).ok, false, 'a labelled value of 4096 characters is not read (the bound on the pattern)');
  });

  it('refuses other schemes, spaces, a host starting with / . ? # $, and over-long labelled values', () => {
    for (const raw of [
      'example.org',
      'mailto:pat@example.org',
      'javascript:alert(1)',
      'http:// example.org',
      'http://.x',
      'http:///x',
      'http://?x',
      'http://#x',
      'http://$x',
      'https://example.org/a b',
      'xhttps://example.org',
      'Home (javascript:alert(1))',
      'Home (https://a b)',
      'Home (https://example.org) x',
      'Home (example.org)',
      '(x) Home (https://example.org)',
      'Home) (https://example.org)',
      `${'a'.repeat(4100)} (https://example.org)`,
    ]) {
      assert.equal(message('url', raw), `"${raw.trim()}" is not a URL (expected http://…, https://… or "Label (https://…)")`, raw.slice(0, 40));
    }
  });

  it('email: one @, a dotted domain, no spaces, at most 320 characters', () => {
    assert.equal(value('email', ' pat@example.org '), 'pat@example.org');
    assert.equal(value('email', 'a.b+c@mail.example.co.uk'), 'a.b+c@mail.example.co.uk');
    const longest = `${'a'.repeat(320 - '@example.org'.length)}@example.org`;
    assert.equal(value('email', longest), longest);
    for (const raw of [
      'pat@example',
      'pat example@x.org',
      'pat@@example.org',
      'pat@.example.org',
      'pat@example..org',
      'pat@example.org.',
      '@example.org',
      'pat@',
      `a${longest}`,
    ]) {
      assert.equal(message('email', raw), `"${raw}" is not an email address`, raw.slice(0, 40));
    }
  });
});
