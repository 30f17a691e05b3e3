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
import type { InputSchemaState, OutputSchemaState, SourceState } from '../emulator/dsmapi/model';
import { addOutputSchema, ingest, newRevision, startJob } from '../emulator/dsmapi/operations';
import { SAMPLE } from '../emulator/seed';
import { EmulatorStore } from '../emulator/store';

const owner = SAMPLE.users.publisher.id;

interface Applied {
  staged: boolean;
  /** sid, created = updated, values of every row, in sid order. */
  rows: [number, boolean, unknown][];
  counts: unknown;
  released: boolean;
}

/**
 * Creates a dataset from `csv` through a DSMAPI revision (upload, guessed output schema or `columns`, apply);
 * `restage: false` drops the staged rows first, so the apply reads the bytes.
 */
async function createFrom(store: EmulatorStore, csv: string, opts: { restage?: boolean; columns?: (out: OutputSchemaState) => unknown[] } = {}): Promise<Applied> {
  const st = dsmapiState(store);
  const user = store.getUser(owner);
  assert.ok(user);
  const id = store.createDataset({ name: 'staged', owner, columns: [], publicationStage: 'unpublished' });
  const rev = newRevision(st, id, user, { type: 'replace' }, null, true);
  const src: SourceState = {
    id: st.newId(),
    fourfour: id,
    revision_seq: rev.revision_seq,
    source_type: { type: 'upload', filename: 'rows.csv' },
    parse_options: { parse_source: true, header_count: 1, column_header: 1 },
    content_type: 'text/csv',
    chunks: new Map(),
    filesize: null,
    created_at: new Date().toISOString(),
    finished_at: null,
    failed_at: null,
    failure_details: null,
    schemas: [],
    created_by: { user_id: user.id, display_name: user.displayName },
  };
  st.sources.set(src.id, src);
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
  const job = startJob({ store } as unknown as EmulatorContext, st, rev, { input, out }, user);
  while (job.finished_at === null) await new Promise((r) => setTimeout(r, 2));
  assert.equal(job.status, 'successful', JSON.stringify(job.log.at(-1)));
  const rows = store.getRows(id).map((r): [number, boolean, unknown] => [r.sid, r.createdAt === r.updatedAt, r.v]);
  return { staged, rows, counts: job.log.at(-1)?.details, released: input.staged === undefined && !input.upload.available };
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
