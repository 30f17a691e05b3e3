// The emulator's DSMAPI transforms and upload reader, without a server: what each transform function takes
// (docs/EMULATOR.md, "Transforms"), the type guess, and the CSV reader's rows read again from the bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Guesser, transformCell } from '../emulator/dsmapi/transforms';
import { UploadRows } from '../emulator/dsmapi/upload';
import { MALTYPED } from '../emulator/types';

const CSV = { delimiter: ',', trim: true, skipEmpty: true };

describe('emulator DSMAPI transforms', () => {
  it('to_number takes comma-grouped digits, and nothing grouped wrongly', () => {
    assert.equal(transformCell('to_number', 'number', '1,234.56'), '1234.56');
    assert.equal(transformCell('to_number', 'number', '-12,345,678'), '-12345678');
    assert.equal(transformCell('to_number', 'number', '0012.50'), '12.5');
    assert.equal(transformCell('to_number', 'number', '12,34'), MALTYPED);
    assert.equal(transformCell('to_number', 'number', '1,2345.6'), MALTYPED);
    assert.equal(transformCell('to_number', 'number', 'twelve'), MALTYPED);
  });

  it('to_floating_timestamp and to_fixed_timestamp take US date-times; the fixed one reads them as UTC', () => {
    assert.equal(transformCell('to_floating_timestamp', 'calendar_date', '12/31/2024 11:59 PM'), '2024-12-31T23:59:00.000');
    assert.equal(transformCell('to_floating_timestamp', 'calendar_date', '3/5/2023 7:05'), '2023-03-05T07:05:00.000');
    assert.equal(transformCell('to_fixed_timestamp', 'date', '12/31/2024 11:59 PM'), '2024-12-31T23:59:00.000Z');
    assert.equal(transformCell('to_fixed_timestamp', 'date', '2024-06-01T10:00:00-05:00'), '2024-06-01T15:00:00.000Z');
    assert.equal(transformCell('to_fixed_timestamp', 'date', '2/30/2024'), MALTYPED);
    assert.equal(transformCell('to_floating_timestamp', 'calendar_date', '13/01/2024'), MALTYPED);
  });

  it('reads the common date and point shapes as the general forms do, bad dates and near-misses included', () => {
    const f = (t: string): unknown => transformCell('to_floating_timestamp', 'calendar_date', t);
    assert.equal(f('2024-02-29'), '2024-02-29T00:00:00.000');
    assert.equal(f('2023-02-29'), MALTYPED);
    assert.equal(f('2024-04-31'), MALTYPED);
    assert.equal(f('2024-13-01'), MALTYPED);
    assert.equal(f('2024-06-01 23:59:59'), '2024-06-01T23:59:59.000');
    assert.equal(f('2024-06-01T24:00:00'), MALTYPED);
    assert.equal(f('2024-06-01T10:00:00.5'), '2024-06-01T10:00:00.500');
    assert.equal(f('2024-06-01T10:00:00Z'), MALTYPED);
    assert.equal(f('11/15/2023 1:01'), '2023-11-15T01:01:00.000');
    assert.equal(f('2/29/2023'), MALTYPED);
    assert.equal(f('1/2/2023 12:30:45'), '2023-01-02T12:30:45.000');
    assert.equal(f('1/2/2023 12:30 am'), '2023-01-02T00:30:00.000');
    assert.equal(f('1/2/2023 25:00'), MALTYPED);
    assert.equal(f('1/2/20234'), MALTYPED);
    const p = (t: string): unknown => transformCell('to_point', 'point', t);
    assert.deepEqual(p('POINT (-87.30128 41.75308)'), { type: 'Point', coordinates: [-87.30128, 41.75308] });
    assert.deepEqual(p('POINT (1e1 2)'), { type: 'Point', coordinates: [10, 2] });
    assert.deepEqual(p('point( 3  4 )'), { type: 'Point', coordinates: [3, 4] });
    assert.equal(p('POINT (200 1)'), MALTYPED);
    assert.equal(p('POINT (1. 2)'), MALTYPED);
  });

  it('guesses the first type every non-empty value fits, and knows which functions convert a whole column', () => {
    const g = new Guesser(4);
    for (const row of [
      ['1,234.50', 'true', '12/31/2024 11:59 PM', 'Oak'],
      ['7', 'FALSE', '2024-01-02', ''],
      ['', '', '', 'Elm'],
    ]) {
      g.add(row);
    }
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => g.guess(i)),
      ['number', 'boolean', 'floating_timestamp', 'text'],
    );
    const clean = g.clean();
    assert.ok(clean[0]?.has('to_number') && !clean[0].has('to_boolean'));
    assert.ok(clean[2]?.has('to_fixed_timestamp'), 'a floating timestamp converts as a fixed one too');
    assert.ok(clean[3]?.has('to_text') && !clean[3].has('to_number'));
  });
});

describe('emulator upload reader', () => {
  it('reads quoted fields, doubled quotes, CRLF, a BOM and UTF-8, and counts rows of the wrong width', () => {
    const text = '\ufeffid,name\r\n1,"a, ""b"""\r\n2,Zoë\r\n\r\n3\r\n4,"two\nlines"\r\n';
    const seen: string[][] = [];
    const up = UploadRows.read(Buffer.from(text, 'utf8'), CSV, 1, 1, (cells) => seen.push(cells));
    assert.ok(up instanceof UploadRows);
    assert.deepEqual(up.header, ['id', 'name']);
    assert.deepEqual(seen, [
      ['1', 'a, "b"'],
      ['2', 'Zoë'],
      ['4', 'two\nlines'],
    ]);
    assert.equal(up.count, 3);
    assert.equal(up.rowErrors, 1);
    assert.deepEqual(
      [...up.rows(1)],
      [
        [['2', 'Zoë'], 1],
        [['4', 'two\nlines'], 2],
      ],
    );
    up.release();
    assert.equal(up.available, false);
    assert.deepEqual([...up.rows()], []);
  });

  it('finds row n again from its checkpoint in a file of thousands of rows', () => {
    const lines = ['n,text'];
    for (let i = 0; i < 5000; i++) lines.push(`${i},"row ${i}, quoted"`);
    const up = UploadRows.read(Buffer.from(lines.join('\n')), CSV, 1, 1, () => undefined);
    assert.ok(up instanceof UploadRows);
    assert.equal(up.count, 5000);
    const [first] = up.rows(3333);
    assert.deepEqual(first, [['3333', 'row 3333, quoted'], 3333]);
  });

  it('refuses an unterminated quoted field and a file without a header', () => {
    const open = UploadRows.read(Buffer.from('a,b\n1,"open\n'), CSV, 1, 1, () => undefined);
    assert.equal(typeof open, 'string');
    assert.match(open as string, /unterminated quoted field/);
    assert.equal(
      UploadRows.read(Buffer.from(''), CSV, 1, 1, () => undefined),
      'the file has no header row',
    );
  });
});
