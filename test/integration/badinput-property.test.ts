// Property-based tests (fast-check) of the CSV reader, the cell converters and the publish engine on bad input.
// - Any table of strings written as CSV reads back cell for cell, with the right physical line numbers.
// - Any bytes either read as records or fail with a CsvError whose message starts `file:line[:column]: ` — never
//   another kind of exception.
// - Converters never throw: each cell is a value or a message.
// - Publishing a file with random bad cells sends nothing, and the problems name exactly the bad lines; with
//   "skip bad rows" exactly the good rows arrive.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createConverter, CsvError, openCsv, type ColumnType } from '../../src/csv';
import { publish } from '../../src/publish';
import { SodaClient } from '../../src/soda';
import { startEmulator } from '../emulator/index';

let dir: string;
let seq = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'badinput-prop-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function tmpFile(data: string | Uint8Array): string {
  const p = join(dir, `f${++seq}.csv`);
  writeFileSync(p, data);
  return p;
}

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
/**
 * Text without lone surrogates (they cannot be written as UTF-8). A CR is only generated as part of CRLF: the
 * reader counts lines by the file's own line break, so a lone CR inside a quoted field of an LF file does not start
 * a new line for it (editors differ on this), which would make "the right line" ambiguous.
 */
const cell = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replace(/\r(?!\n)/g, ''));

describe('bad input: properties of the reader and converters', () => {
  it('any table of strings, quoted, reads back cell for cell with its physical line numbers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: 4 })
          .chain((w) => fc.tuple(fc.constant(w), fc.array(fc.array(cell, { minLength: w, maxLength: w }), { minLength: 1, maxLength: 8 }))),
        fc.constantFrom('\n', '\r\n'),
        async ([w, rows], eol) => {
          const header = Array.from({ length: w }, (_, i) => `c${i}`);
          const text = [header.join(','), ...rows.map((r) => r.map(quote).join(','))].join(eol) + eol;
          const reader = await openCsv(tmpFile(text), { delimiter: ',' });
          assert.deepEqual(reader.header, header);
          const got: { line: number; fields: string[] }[] = [];
          for await (const batch of reader.batches()) got.push(...batch.map((r) => ({ line: r.line, fields: r.fields })));
          await reader.close();
          assert.deepEqual(
            got.map((g) => g.fields),
            rows,
          );
          // Physical line of each record: 1 + the line breaks before it (quoted newlines count).
          let line = 2;
          rows.forEach((r, i) => {
            assert.equal(got[i].line, line, `record ${i}`);
            line += 1 + (r.join(',').match(/\r\n|\r|\n/g)?.length ?? 0);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('any bytes: records, or a CsvError that names file and line — never another exception', async () => {
    const interesting = fc.constantFrom(0x22, 0x2c, 0x0a, 0x0d, 0x00, 0xef, 0xbb, 0xbf, 0xff, 0xfe, 0xc3, 0x28, 0x3b, 0x09, 0x61);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(interesting, fc.integer({ min: 0, max: 255 })), { maxLength: 200 }), async (bytes) => {
        const path = tmpFile(Uint8Array.from(bytes));
        try {
          const reader = await openCsv(path, { maxFieldSize: 64 });
          for await (const batch of reader.batches()) {
            for (const r of batch) assert.ok(Number.isInteger(r.line) && r.line >= 1);
          }
          await reader.close();
        } catch (e) {
          assert.ok(e instanceof CsvError, `not a CsvError: ${String(e)}`);
          assert.match(e.message, /^f\d+\.csv(:\d+(:\d+)?)?: \S/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('converters never throw: every cell is a JSON value or a message', () => {
    const types: ColumnType[] = ['text', 'number', 'double', 'checkbox', 'floating_timestamp', 'fixed_timestamp', 'point', 'url', 'email'];
    const converters = types.flatMap((t) => [createConverter(t), createConverter(t, { decimalComma: true, dateOrder: 'dmy' })]);
    const hostile = fc.oneof(
      cell,
      fc.constantFrom(
        '1e400',
        '-0',
        '0x1F',
        'NaN',
        '2023-02-30',
        '24:00',
        'POINT (1e999 0)',
        'javascript:x',
        '=HYPERLINK("x")',
        '\u0000',
        ' ',
        '9'.repeat(500),
      ),
      fc.stringMatching(/^[0-9.,eE+-]{0,20}$/),
      fc.stringMatching(/^[0-9]{1,4}[-/][0-9]{1,2}[-/][0-9]{1,4}([ T][0-9:.]{0,12})?$/),
    );
    fc.assert(
      fc.property(hostile, (raw) => {
        for (const c of converters) {
          const r = c.convert(raw);
          if (r.ok) assert.doesNotThrow(() => JSON.stringify(r.value));
          else assert.ok(typeof r.message === 'string' && r.message.length > 0, `${c.type}: empty message for ${JSON.stringify(raw)}`);
          if (c.type === 'text' && r.ok) assert.ok(r.value === null || r.value === raw, 'text is kept exactly');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('bad input: properties of publishing', () => {
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let client: SodaClient;
  before(async () => {
    emu = await startEmulator({ port: 0, seed: 'sample' });
    client = new SodaClient({
      domain: emu.domain,
      auth: { type: 'basic', email: 'publisher@example.org', password: 'publish-me' },
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
  });
  after(async () => {
    await client.close();
    await emu.stop();
  });

  it('random bad amounts: nothing is sent, the problems name exactly the bad lines; skipping sends exactly the good rows', async () => {
    const good = fc.oneof(fc.integer({ min: -1e6, max: 1e6 }).map(String), fc.constantFrom('1.5', '-0.25', '1,234.5', ''));
    const bad = fc.oneof(fc.constantFrom('abc', '1.2.3', 'NaN', '$5', '1,5', '--1', '0x10', 'Infinity'), fc.stringMatching(/^[a-z]{1,6}$/));
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), good, bad, cell), { minLength: 1, maxLength: 30 }), async (spec) => {
        run++;
        const ids = spec.map((_, i) => `PB-${run}-${i}`);
        const lines = spec.map(([isBad, g, b, dept], i) => [ids[i], quote(dept.replace(/\0/g, '')), isBad ? quote(b) : quote(g)].join(','));
        const file = tmpFile(`line_item,department,amount\n${lines.join('\n')}\n`);
        // Physical lines: a department with line breaks in it makes its record span several lines.
        const starts: number[] = [];
        let line = 2;
        for (const l of lines) {
          starts.push(line);
          line += 1 + (l.match(/\r\n|\r|\n/g)?.length ?? 0);
        }
        const badLines = spec.flatMap(([isBad], i) => (isBad ? [starts[i]] : []));
        const writes = emu.store.appliedWrites.length;
        const r = await publish(client, { file, dataset: 'bdgt-priv', mode: 'upsert' });
        if (badLines.length === 0) {
          assert.equal(r.status, 'success', r.message);
          assert.equal(r.created, spec.length);
          return;
        }
        assert.equal(r.status, 'refused', r.message);
        assert.equal(emu.store.appliedWrites.length, writes, 'nothing was sent');
        assert.deepEqual(
          r.plan?.problems.map((p) => p.line),
          badLines.slice(0, 20),
        );
        assert.ok(r.plan?.problems.every((p) => p.column === 3 && p.message.includes(`:${p.line}:3: amount:`)));
        const skip = await publish(client, { file, dataset: 'bdgt-priv', mode: 'upsert', skipBadRows: true });
        const goodCount = spec.length - badLines.length;
        assert.equal(skip.created, goodCount, skip.message);
        assert.equal(skip.errors, badLines.length);
        assert.equal(
          emu.store.appliedWrites.slice(writes).reduce((n, w) => n + w.rowsIn, 0),
          goodCount,
          'exactly the good rows were sent',
        );
        assert.equal(await client.count('bdgt-priv', { where: `starts_with(line_item, 'PB-${run}-')` }), goodCount);
      }),
      { numRuns: 25 },
    );
  });
});
