// Emulator DSMAPI: the rows converted at commit (staged, test/emulator/dsmapi/staged.ts) are stored exactly as the
// apply that reads the upload's bytes again stores them; a guess that changes after the first rows, or an output
// schema other than the guessed one, is applied from the bytes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EmulatorContext } from '../emulator/context';
import { dsmapiState } from '../emulator/dsmapi/index';
import type { InputSchemaState, OutputSchemaState } from '../emulator/dsmapi/model';
import { addOutputSchema, ingest, newRevision, newUploadSource, startJob } from '../emulator/dsmapi/operations';
import { SAMPLE } from '../emulator/seed';
import { EmulatorStore } from '../emulator/store';

const owner = SAMPLE.users.publisher.id;

interface Applied {
  staged: boolean;
  /** sid, created = updated, values of every row, in sid order. */
  rows: [number, boolean, unknown][];
  counts: unknown;
  released: boolean;
  /** Reads of the upload's bytes during the apply (after the output schema is made). */
  bytesRead: number;
  /** The output schema's error count, per column and in rows. */
  errors: [number[], number];
}

/**
 * Creates a dataset from `csv` through a DSMAPI revision (upload, guessed output schema or `columns`, apply);
 * `restage: false` drops the staged rows first, so the apply reads the bytes.
 */
async function createFrom(
  store: EmulatorStore,
  csv: string,
  opts: {
    restage?: boolean;
    columns?: (out: OutputSchemaState) => unknown[];
    dataset?: string;
    action?: 'update' | 'replace';
    beforeApply?: (id: string) => void;
    parseOptions?: Record<string, unknown>;
  } = {},
): Promise<Applied & { id: string }> {
  const st = dsmapiState(store);
  const user = store.getUser(owner);
  assert.ok(user);
  const id = opts.dataset ?? store.createDataset({ name: 'staged', owner, columns: [], publicationStage: 'unpublished' });
  const rev = newRevision(st, id, user, { type: opts.action ?? 'replace' }, null, opts.dataset === undefined);
  const src = newUploadSource(st, rev, user, 'rows.csv', opts.parseOptions, 'text/csv');
  ingest(st, store, src, Buffer.from(csv, 'utf8'), user);
  const input: InputSchemaState | undefined = src.schemas[0];
  let out = input?.output_schemas.at(-1);
  assert.ok(input && out);
  const staged = input.staged !== undefined;
  if (opts.restage === false) {
    input.staged?.rows.drop();
    input.staged = undefined;
  }
  if (opts.columns) out = addOutputSchema(st, src, input, opts.columns(out), user, Date.now());
  opts.beforeApply?.(id);
  const upload = input.upload;
  const rowsOf = upload.rows.bind(upload);
  let bytesRead = 0;
  upload.rows = (from?: number) => {
    bytesRead++;
    return rowsOf(from);
  };
  const job = startJob({ store } as unknown as EmulatorContext, st, rev, { input, out }, user);
  while (job.finished_at === null) await new Promise((r) => setTimeout(r, 2));
  assert.equal(job.status, 'successful', JSON.stringify(job.log.at(-1)));
  const rows = store.getRows(id).map((r): [number, boolean, unknown] => [r.sid, r.createdAt === r.updatedAt, r.v]);
  return {
    id,
    staged,
    rows,
    counts: job.log.at(-1)?.details,
    released: input.staged === undefined && !input.upload.available,
    bytesRead,
    errors: [out.output_columns.map((c) => c.transform.error_count), out.error_count],
  };
}

/** 2 500 rows (past the rows the staged types are chosen from) of every guessed type, quoting and escapes. */
function mixed(): string {
  const lines = ['ID,Name,When,Where,Flag,Amount,Empty,Note,Stamp'];
  for (let i = 0; i < 2500; i++) {
    const when = i % 7 === 0 ? '' : `2024-0${1 + (i % 9)}-${10 + (i % 19)}`;
    const where = i % 5 === 0 ? '' : `POINT (-87.${i} 41.${i % 100})`;
    lines.push(
      `${i},"a ""q"" \\ ${i} é 😀 \u2028 .",${when},${where},${i % 2 ? 'true' : 'FALSE'},"${i % 1000},123.50",,"x\ty\r\nz",${1 + (i % 12)}/${1 + (i % 28)}/2023 ${i % 24}:0${i % 10}`,
    );
  }
  return lines.join('\n');
}

describe('emulator DSMAPI: rows staged at commit', () => {
  it('stores the staged rows as the apply that reads the bytes again stores them, and lets them go once applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-staged-'));
    const stores = [new EmulatorStore(), new EmulatorStore(), new EmulatorStore({ dataDir: dir })];
    try {
      const [a, b, c] = stores;
      assert.ok(a && b && c);
      const staged = await createFrom(a, mixed());
      const read = await createFrom(b, mixed(), { restage: false });
      const onDisk = await createFrom(c, mixed());
      assert.equal(staged.staged, true);
      assert.equal(staged.rows.length, 2500);
      assert.deepEqual(staged.rows, read.rows);
      assert.deepEqual(onDisk.rows, read.rows);
      assert.deepEqual(staged.counts, read.counts);
      assert.deepEqual(staged.rows[1], [
        2,
        true,
        {
          id: '1',
          name: 'a "q" \\ 1 é 😀 \u2028 .',
          when: '2024-02-11T00:00:00.000',
          where: { type: 'Point', coordinates: [-87.1, 41.1] },
          flag: true,
          amount: '1123.5',
          note: 'x\ty\r\nz',
          stamp: '2023-02-02T01:01:00.000',
        },
      ]);
      assert.ok(staged.released && read.released && onDisk.released);
    } finally {
      for (const s of stores) s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the staged rows back when they cannot be appended as they are: the same rows and report as from the bytes', async () => {
    const stores = [new EmulatorStore(), new EmulatorStore()];
    try {
      const more = ['ID,Name,Constructor'];
      for (let i = 1000; i < 3500; i++) more.push(`${i},"changed ${i}",${i % 3 === 0 ? '' : `c${i}`}`);
      more.push('1001,again,');
      const results = [];
      for (const [n, store] of stores.entries()) {
        const restage = n === 0;
        // A column of another type than the guess (text against number), then a row identifier set after the commit.
        const id = store.createDataset({ name: 'typed', owner, columns: [{ name: 'ID', fieldName: 'id', dataTypeName: 'text' }] });
        const appended = await createFrom(store, more.join('\n'), { dataset: id, action: 'update', restage });
        const id2 = store.createDataset({ name: 'keyed later', owner, columns: [{ name: 'ID', fieldName: 'id', dataTypeName: 'text' }] });
        const keyedLate = await createFrom(store, more.join('\n'), {
          dataset: id2,
          action: 'update',
          restage,
          beforeApply: () => store.setRowIdentifier(id2, 'id'),
        });
        assert.equal(appended.staged, true);
        assert.equal(keyedLate.staged, true);
        results.push({ appended, keyedLate });
      }
      const [staged, read] = results;
      assert.ok(staged && read);
      assert.deepEqual(staged.appended.rows, read.appended.rows);
      assert.deepEqual(staged.keyedLate.rows, read.keyedLate.rows);
      assert.deepEqual(staged.keyedLate.counts, read.keyedLate.counts);
      assert.equal(staged.appended.rows.length, 2501);
      assert.deepEqual(staged.appended.rows[1]?.[2], { id: '1001', name: 'changed 1001', constructor: 'c1001' });
      // Keyed: the second 1001 updates the first.
      assert.deepEqual(staged.keyedLate.counts, {
        'By RowIdentifier': 2501,
        'Rows Updated': 1,
        'Rows Deleted': 0,
        'By SID': 0,
        'Rows Created': 2500,
        Errors: 0,
      });
      assert.deepEqual(staged.keyedLate.rows[1]?.[2], { id: '1001', name: 'again', constructor: 'c1001' });
    } finally {
      for (const s of stores) s.close();
    }
  });

  it('stages nothing for a keyed update or replace (they read the bytes); a keyed create appends its staged rows', async () => {
    const stores = [new EmulatorStore(), new EmulatorStore()];
    try {
      const keyed = (out: OutputSchemaState): unknown[] =>
        out.output_columns.map((c) => ({
          field_name: c.field_name,
          position: c.position,
          is_primary_key: c.field_name === 'id',
          transform: { transform_expr: c.transform.transform_expr },
        }));
      // Half the keys exist, one comes twice; `constructor` is a column name an object has a default for.
      const update = ['ID,Name,Constructor'];
      for (let i = 1000; i < 3500; i++) update.push(`${i},"changed ${i}",${i % 3 === 0 ? '' : `c${i}`}`);
      update.push('1001,again,');
      const replace = ['ID,Name'];
      for (let i = 0; i < 1200; i++) replace.push(`${i * 2},r${i}`);
      replace.push('4,twice');
      const results = [];
      for (const [n, store] of stores.entries()) {
        const restage = n === 0;
        const created = await createFrom(store, mixed(), { columns: keyed, restage });
        assert.equal(created.staged, true);
        const updated = await createFrom(store, update.join('\n'), { dataset: created.id, action: 'update', restage });
        const replaced = await createFrom(store, replace.join('\n'), { dataset: created.id, action: 'replace', restage });
        assert.equal(updated.staged, false);
        assert.equal(replaced.staged, false);
        assert.equal(store.getDataset(created.id)?.rowIdentifier, 'id');
        results.push({ created, updated, replaced });
      }
      const [staged, read] = results;
      assert.ok(staged && read);
      for (const k of ['created', 'updated', 'replaced'] as const) {
        assert.deepEqual(staged[k].rows, read[k].rows, k);
        assert.deepEqual(staged[k].counts, read[k].counts, k);
      }
      assert.deepEqual(staged.updated.counts, {
        'By RowIdentifier': 2501,
        'Rows Updated': 1501,
        'Rows Deleted': 0,
        'By SID': 0,
        'Rows Created': 1000,
        Errors: 0,
      });
      assert.deepEqual(staged.updated.rows.find((r) => (r[2] as { id: string }).id === '1001')?.[2], {
        ...(staged.created.rows[1001]?.[2] as object),
        name: 'again',
        constructor: 'c1001',
      });
      assert.equal(staged.replaced.rows.length, 1200);
    } finally {
      for (const s of stores) s.close();
    }
  });

  it('drops the staged rows when a later row changes a guess; the apply reads the bytes', async () => {
    const store = new EmulatorStore();
    try {
      const lines = ['n,later'];
      for (let i = 0; i < 2500; i++) lines.push(`${i},${i === 2200 ? 'n/a' : i}`);
      const res = await createFrom(store, lines.join('\n'));
      assert.equal(res.staged, false);
      assert.equal(res.rows.length, 2500);
      assert.deepEqual(res.rows[2200]?.[2], { n: '2200', later: 'n/a' });
      assert.deepEqual(res.rows[7]?.[2], { n: '7', later: '7' });
    } finally {
      store.close();
    }
  });

  it('takes the staged rows for an output schema that renames, reorders, leaves out or repeats columns', async () => {
    const stores = [new EmulatorStore(), new EmulatorStore()];
    try {
      const columns = (out: OutputSchemaState): unknown[] => {
        const [first, second, , ...rest] = out.output_columns;
        assert.ok(first && second);
        return [...rest.reverse(), second, first, { ...first, field_name: 'id_again' }].map((c, i) => ({
          field_name: c.field_name === 'name' ? 'label' : c.field_name,
          position: i + 1,
          transform: { transform_expr: c.transform.transform_expr },
        }));
      };
      const [staged, read] = [await createFrom(stores[0], mixed(), { columns }), await createFrom(stores[1], mixed(), { columns, restage: false })];
      assert.equal(staged.staged, true);
      assert.deepEqual(staged.rows, read.rows);
      assert.deepEqual(staged.counts, read.counts);
      assert.deepEqual(Object.keys(staged.rows[1]?.[2] as object), ['stamp', 'note', 'amount', 'flag', 'where', 'label', 'id', 'id_again']);
    } finally {
      for (const s of stores) s.close();
    }
  });

  it('computes another function from a column staged as text, per row: the same rows, errors and report as from the bytes', async () => {
    // Guessed text from the first rows on (so staged through to_text): links, numbers with refused cells, yes/no.
    const lines = ['ID,Link,Qty,Flag,Name'];
    for (let i = 0; i < 2500; i++) {
      const link = i % 11 === 0 ? '' : i % 13 === 0 ? `"Home (https://example.org/h/${i})"` : i % 17 === 0 ? '"  "' : `https://example.org/r/${i}`;
      const qty = i % 9 === 0 ? 'n/a' : i % 10 === 0 ? `"${i},${i % 1000}00.5"` : i % 12 === 0 ? '' : i % 14 === 0 ? '" 7 "' : `${i}.250`;
      const flag = i % 15 === 0 ? 'maybe' : ['yes', 'no', 'Y', 'n', 'TRUE', '0', '" no "'][i % 7];
      lines.push(`${i},${link},${qty},${flag},"n ""${i}"" \t  x${'\\'.repeat(i % 4)}"`);
    }
    // Without a refused cell (the staged rows rewritten in one statement), then with refused numbers and checkboxes
    // (the staged rows read back as values, those rows left out).
    const clean: Record<string, string> = { link: 'to_url', name: 'to_url' };
    const refusing: Record<string, string> = { link: 'to_url', qty: 'to_number', flag: 'to_boolean' };
    const columns =
      (fns: Record<string, string>, renamed: Record<string, string> = {}) =>
      (out: OutputSchemaState): unknown[] =>
        out.output_columns.map((c) => ({
          field_name: renamed[c.field_name] ?? c.field_name,
          position: c.position,
          transform: { transform_expr: c.field_name in fns ? `${fns[c.field_name]}(\`${c.field_name}\`)` : c.transform.transform_expr },
        }));
    for (const parseOptions of [{}, { trim_whitespace: false }]) {
      const stores = [new EmulatorStore(), new EmulatorStore()];
      try {
        const [a, b] = stores;
        assert.ok(a && b);
        const cleanStaged = await createFrom(a, lines.join('\n'), { columns: columns(clean), parseOptions });
        const cleanRead = await createFrom(b, lines.join('\n'), { columns: columns(clean), parseOptions, restage: false });
        const name = JSON.stringify(parseOptions);
        assert.equal(cleanStaged.staged, true, name);
        assert.equal(cleanStaged.bytesRead, 0, name);
        assert.deepEqual(cleanStaged.errors, [[0, 0, 0, 0, 0], 0], name);
        assert.equal(JSON.stringify(cleanStaged.rows), JSON.stringify(cleanRead.rows), name);
        assert.equal(JSON.stringify(cleanStaged.counts), JSON.stringify(cleanRead.counts), name);
        assert.equal(cleanStaged.rows.length, 2500, name);
        assert.deepEqual(cleanStaged.rows[13]?.[2], {
          id: '13',
          link: { url: 'https://example.org/h/13', description: 'Home' },
          qty: '13.250',
          flag: 'trim_whitespace' in parseOptions ? ' no ' : 'no',
          name: { url: 'n "13" \t  x\\' },
        });
        // Renamed: the staged rows parsed and written again (not the values replaced in their text).
        const renamed = { link: 'homepage', name: 'title' };
        const renamedStaged = await createFrom(a, lines.join('\n'), { columns: columns(clean, renamed), parseOptions });
        const renamedRead = await createFrom(b, lines.join('\n'), { columns: columns(clean, renamed), parseOptions, restage: false });
        assert.equal(renamedStaged.bytesRead, 0, name);
        assert.equal(JSON.stringify(renamedStaged.rows), JSON.stringify(renamedRead.rows), name);
        assert.equal(JSON.stringify(renamedStaged.counts), JSON.stringify(renamedRead.counts), name);
        assert.deepEqual(Object.keys(renamedStaged.rows[13]?.[2] as object), ['id', 'homepage', 'qty', 'flag', 'title'], name);
        // The first column recomputed, to null for a cell of spaces (left out of the row's JSON).
        const first = ['Site,N', ...Array.from({ length: 1500 }, (_, i) => `${i % 3 === 0 ? '"  "' : i % 3 === 1 ? '' : `http://x.org/${i}`},${i}`)].join('\n');
        const firstStaged = await createFrom(a, first, { columns: columns({ site: 'to_url' }), parseOptions });
        const firstRead = await createFrom(b, first, { columns: columns({ site: 'to_url' }), parseOptions, restage: false });
        assert.equal(firstStaged.bytesRead, 0, name);
        assert.equal(JSON.stringify(firstStaged.rows), JSON.stringify(firstRead.rows), name);
        assert.deepEqual(
          firstStaged.rows.slice(0, 3).map((r) => r[2]),
          [{ n: '0' }, { n: '1' }, { site: { url: 'http://x.org/2' }, n: '2' }],
          name,
        );
        const staged = await createFrom(a, lines.join('\n'), { columns: columns(refusing), parseOptions });
        const read = await createFrom(b, lines.join('\n'), { columns: columns(refusing), parseOptions, restage: false });
        assert.equal(staged.staged, true, name);
        assert.equal(staged.bytesRead, 0, name);
        assert.equal(read.bytesRead, 1, name);
        assert.deepEqual(staged.errors, read.errors, name);
        assert.equal(JSON.stringify(staged.rows), JSON.stringify(read.rows), name);
        assert.equal(JSON.stringify(staged.counts), JSON.stringify(read.counts), name);
        // Rows with a refused number or checkbox are left out, and counted as errors.
        const [perColumn, errorRows] = staged.errors;
        assert.ok(errorRows > 300 && errorRows < 2500, name);
        assert.deepEqual([perColumn[0], perColumn[1], perColumn[4]], [0, 0, 0], name);
        assert.ok((perColumn[2] ?? 0) > 0 && (perColumn[3] ?? 0) > 0, name);
        assert.equal(staged.rows.length, 2500 - errorRows, name);
        assert.equal((staged.counts as { Errors: number }).Errors, errorRows, name);
        const row = (i: number): unknown => staged.rows.find((r) => (r[2] as { id: string }).id === String(i))?.[2];
        assert.deepEqual(row(1), { id: '1', link: { url: 'https://example.org/r/1' }, qty: '1.25', flag: false, name: 'n "1" \t  x\\' });
        assert.equal(row(9), undefined);
        assert.deepEqual((row(22) as { link?: unknown }).link, undefined);
        assert.equal((row(2) as { flag?: unknown }).flag, true);
      } finally {
        for (const s of stores) s.close();
      }
    }
  });

  it('applies another output schema from the bytes, not from the staged rows', async () => {
    const store = new EmulatorStore();
    try {
      const csv = 'n,label\n"1,234.50",a\n7,b\n';
      const res = await createFrom(store, csv, {
        columns: (out) =>
          out.output_columns.map((c) => ({
            field_name: c.field_name,
            position: c.position,
            transform: { transform_expr: `to_text(\`${c.field_name}\`)` },
          })),
      });
      assert.equal(res.staged, true);
      assert.deepEqual(
        res.rows.map((r) => r[2]),
        [
          { n: '1,234.50', label: 'a' },
          { n: '7', label: 'b' },
        ],
      );
    } finally {
      store.close();
    }
  });
});
