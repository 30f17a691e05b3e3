// The publish engine (src/publish) end to end against the emulator over loopback HTTP: every mode, plan numbers vs
// what the execution does, cancel + resume, sync deletes, the error-rows CSV round trip and the refusals.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkWritable, executePublish, planPublish, publish, PublishError, type PublishProgress, type PublishRequest } from '../../src/publish';
import { SodaClient, type ViewMetadata } from '../../src/soda';
import { startEmulator } from '../emulator/index';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };
const VIEWER = { type: 'basic' as const, email: 'viewer@example.org', password: 'view-only' };

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'publish-engine-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function withEmulator(fn: (emu: Emulator, client: SodaClient) => Promise<void>, opts: { auth?: typeof PUBLISHER; faults?: string } = {}): Promise<void> {
  const emu = await startEmulator({ port: 0, seed: 'sample', ...(opts.faults ? { faults: opts.faults } : {}) });
  const client = new SodaClient({ domain: emu.domain, auth: opts.auth ?? PUBLISHER, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  try {
    await fn(emu, client);
  } finally {
    await client.close();
    await emu.stop();
  }
}

async function allRows(client: SodaClient, id: string, order: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const page of client.allRows(id, { order }, { pageSize: 50_000 })) out.push(...page.rows);
  return out;
}

/** The budget rows as the file would write them: line_item,department,amount. */
function budgetCsv(rows: [string, string, string][]): string {
  return `line_item,department,amount\n${rows.map((r) => r.map((c) => (/[",]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n')}\n`;
}

function strip(rows: Record<string, unknown>[], fields: string[]): string[][] {
  return rows.map((r) =>
    fields.map((f) => {
      const v = r[f];
      return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    }),
  );
}

const fast = { revisionPoll: { initialDelayMs: 5, maxDelayMs: 20 } };

describe('publish: upsert, append, delete through /resource', () => {
  it('upsert: plan counts equal what happens, and the server rows equal the file', async () => {
    await withEmulator(async (emu, client) => {
      const before = await allRows(client, 'bdgt-priv', 'line_item');
      const existing = before.slice(0, 3).map((r) => String(r.line_item));
      const rows: [string, string, string][] = [
        [existing[0], 'Parks', '10.5'],
        [existing[1], 'Fire', '20'],
        [existing[2], 'Police', '30'],
        ['NEW-0001', 'Library', '40'],
        ['NEW-0002', 'Library', '50.25'],
      ];
      const csv = file('upsert.csv', budgetCsv(rows));
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 2, concurrency: 2 });
      assert.equal(plan.route, 'resource');
      assert.match(plan.explanation, /upserted to bdgt-priv in batches/);
      assert.equal(plan.rows, 5);
      assert.equal(plan.counts.toCreate, 2);
      assert.equal(plan.counts.toUpdate, 3);
      assert.equal(plan.blocked, false);
      const writesBefore = emu.store.appliedWrites.length;
      const result = await executePublish(client, plan);
      assert.equal(result.status, 'success', result.message);
      assert.equal(result.created, plan.counts.toCreate);
      assert.equal(result.updated, plan.counts.toUpdate);
      assert.deepEqual(result.appliedRanges, [[2, 6]]);
      const writes = emu.store.appliedWrites.slice(writesBefore);
      assert.equal(writes.length, 3, 'three batches of at most 2 rows');
      assert.deepEqual(writes.map((w) => w.rowsIn).sort(), [1, 2, 2]);
      const after = await allRows(client, 'bdgt-priv', 'line_item');
      assert.equal(after.length, before.length + 2);
      const byId = new Map(after.map((r) => [String(r.line_item), r]));
      for (const [id, dept, amount] of rows) {
        const r = byId.get(id);
        assert.ok(r, id);
        assert.equal(r.department, dept);
        assert.equal(Number(r.amount), Number(amount));
      }
    });
  });

  it('closes batches at the byte limit too, and keeps non-ASCII text and quoted line breaks intact', async () => {
    await withEmulator(async (emu, client) => {
      const long = 'é'.repeat(600);
      const rows = Array.from(
        { length: 9 },
        (_, i) => `U-${i},"${long} ${i}
second line",${i}`,
      );
      const csv = file('bytes.csv', `line_item,department,amount\n${rows.join('\n')}\n`);
      const writes = emu.store.appliedWrites.length;
      const r = await publish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert', batchBytes: 4096 });
      assert.equal(r.status, 'success', r.message);
      const sizes = emu.store.appliedWrites.slice(writes).map((w) => w.rowsIn);
      assert.ok(sizes.length >= 3 && sizes.every((n) => n <= 4), `batches of at most 4096 bytes: ${sizes.join(',')}`);
      assert.equal(
        sizes.reduce((a, b) => a + b, 0),
        9,
      );
      // Each record spans two physical lines (2-3, 4-5, …, 18-19): the ranges of the batches join up.
      assert.deepEqual(r.appliedRanges, [[2, 19]]);
      const got = (await client.rows('bdgt-priv', { where: "line_item = 'U-7'" })).rows;
      assert.equal(got[0]?.department, `${long} 7\nsecond line`);
    });
  });

  it('append to a dataset without a row identifier adds exactly the file rows', async () => {
    await withEmulator(async (_emu, client) => {
      const before = await client.count('tree-cnsu');
      const csv = file('trees.csv', 'species,diameter_in,planted_on,healthy,location\nOak,12.5,2024-03-01,true,POINT (-87.6 41.8)\nElm,3,03/15/2024,no,\n');
      const plan = await planPublish(client, { file: csv, dataset: 'tree-cnsu', mode: 'append' });
      assert.equal(plan.counts.toCreate, 2);
      assert.match(plan.explanation, /no row identifier/);
      const result = await executePublish(client, plan);
      assert.equal(result.status, 'success', result.message);
      assert.equal(result.created, 2);
      assert.equal(await client.count('tree-cnsu'), before + 2);
      const added = (await client.rows('tree-cnsu', { where: "species in ('Oak','Elm') AND diameter_in in (12.5, 3)", order: 'species' })).rows;
      assert.equal(added.length, 2);
      assert.equal(added[0].species, 'Elm');
      assert.equal(added[0].healthy, false);
      assert.equal(added[0].planted_on, '2024-03-15T00:00:00.000');
      assert.equal(added[1].healthy, true);
      assert.deepEqual(added[1].location, { type: 'Point', coordinates: [-87.6, 41.8] });
    });
  });

  it("a batch the server refuses for one row names that row's line in the file, not its position in the batch", async () => {
    await withEmulator(async (_emu, client) => {
      const header = 'permit_id,address,valuation';
      const csv = file('maltyped.csv', `${header}\nLINE-1,1 Main St,100\nLINE-2,2 Main St,200\n"LINE-3","3 Main\nSt",n/a\n`);
      const plan = await planPublish(client, { file: csv, dataset: 'bldg-prmt', mode: 'upsert' });
      assert.equal(plan.blocked, true, 'the client finds "n/a" itself');
      // As if the client had let it through (a value only the server refuses): the server names row 3 of the batch.
      const loose: typeof plan = {
        ...plan,
        blocked: false,
        problemCount: 0,
        columns: plan.columns.map((c) => (c.fieldName === 'valuation' ? { ...c, type: 'text' as const } : c)),
      };
      const result = await executePublish(client, loose);
      assert.equal(result.status, 'failed', result.message);
      assert.match(result.message, /Line 4 of maltyped\.csv: .*got 'n\/a'/);
      assert.doesNotMatch(result.message, /\(row \d+\)/);
    });
  });

  it('delete removes exactly the listed rows; plan counts found and not found', async () => {
    await withEmulator(async (_emu, client) => {
      const before = await allRows(client, 'bldg-prmt', 'permit_id');
      const ids = before.slice(10, 13).map((r) => String(r.permit_id));
      const csv = file('delete.csv', `permit_id\n${ids.join('\n')}\nNOPE-1\n`);
      const plan = await planPublish(client, { file: csv, dataset: 'bldg-prmt', mode: 'delete' });
      assert.equal(plan.counts.toDelete, 3);
      assert.equal(plan.counts.notFound, 1);
      const result = await executePublish(client, plan);
      assert.equal(result.deleted, 3, result.message);
      // The id the dataset lacks is not an error (the server's report counts it as one).
      assert.equal(result.errors, 0);
      assert.equal(result.notInDataset, 1);
      assert.equal(result.status, 'success');
      assert.match(result.message, /3 deleted, 1 not in the dataset\./);
      const after = await allRows(client, 'bldg-prmt', 'permit_id');
      assert.deepEqual(
        after.map((r) => r.permit_id),
        before.map((r) => r.permit_id).filter((id) => !ids.includes(String(id))),
      );
    });
  });

  it('sync upserts the changed rows and deletes exactly the remote rows absent from it', async () => {
    await withEmulator(async (emu, client) => {
      const before = await allRows(client, 'bdgt-priv', 'line_item');
      const kept = before.slice(0, 150);
      const rows: [string, string, string][] = kept.map((r, i) => [String(r.line_item), i < 10 ? 'Changed' : String(r.department), String(r.amount)]);
      rows.push(['SYNC-0001', 'Library', '1'], ['SYNC-0002', 'Library', '2']);
      const csv = file('sync.csv', budgetCsv(rows));
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'sync', batchSize: 40 });
      assert.equal(plan.counts.toCreate, 2);
      assert.equal(plan.counts.toUpdate, 10, 'only the changed rows are sent');
      assert.equal(plan.counts.unchanged, 140);
      assert.equal(plan.counts.toDelete, before.length - 150);
      assert.equal(plan.counts.remoteAfter, 152);
      const writes = emu.store.appliedWrites.length;
      const result = await executePublish(client, plan);
      assert.equal(result.status, 'success', result.message);
      assert.equal(result.created, 2);
      assert.equal(result.updated, 10);
      assert.match(result.message, /140 unchanged row\(s\) not sent/);
      const upserted = emu.store.appliedWrites
        .slice(writes)
        .filter((w) => w.result['Rows Deleted'] === 0)
        .reduce((n, w) => n + w.rowsIn, 0);
      assert.equal(upserted, 12, 'the applied log holds the 10 changed and 2 new rows only');
      assert.equal(result.deleted, before.length - 150);
      const after = await allRows(client, 'bdgt-priv', 'line_item');
      assert.deepEqual(
        strip(after, ['line_item', 'department']),
        rows.map((r) => [r[0], r[1]]).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
      );
    });
  });
});

describe('publish: revisions (replace, create)', () => {
  it('replace goes through a revision and leaves exactly the file rows', async () => {
    await withEmulator(async (_emu, client) => {
      const rows: [string, string, string][] = [
        ['R-1', 'Parks', '1'],
        ['R-2', 'Fire', '2.5'],
        ['R-3', 'Police', '3'],
      ];
      const csv = file('replace.csv', budgetCsv(rows));
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'replace' });
      assert.equal(plan.route, 'revision');
      assert.equal(plan.counts.remoteBefore, 200);
      // The revision route reads only the head: the server counts and checks the rows of the upload.
      assert.equal(plan.rows, undefined);
      assert.equal(plan.counts.remoteAfter, undefined);
      const result = await executePublish(client, plan, fast);
      assert.equal(result.status, 'success', result.message);
      assert.equal(result.created, 3);
      const after = await allRows(client, 'bdgt-priv', 'line_item');
      assert.deepEqual(strip(after, ['line_item', 'department', 'amount']), rows);
    });
  });

  it('the server checks the rows: nothing applied when it refuses one, its line and cells in the error-rows file', async () => {
    await withEmulator(async (_emu, client) => {
      // A quoted field over two lines before the bad row: the server's row position (2) is not the file's line (5).
      const text = 'line_item,department,amount\nQ-1,"Parks\nand Recreation",1\nQ-2,Fire,2\nQ-3,Police,not a number\nQ-4,Roads,4\n';
      const csv = file('replace-bad.csv', text);
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'replace' });
      assert.equal(plan.blocked, false, 'the plan does not read the rows');
      const errorRowsFile = join(dir, 'replace-bad.errors.csv');
      const refused = await executePublish(client, plan, { ...fast, errorRowsFile });
      assert.equal(refused.status, 'failed', refused.message);
      assert.match(refused.message, /Nothing was applied/);
      assert.equal(refused.errors, 1);
      assert.deepEqual(
        refused.rowErrors.map((e) => e.line),
        [5],
      );
      assert.match(refused.rowErrors[0]?.message ?? '', /amount/);
      assert.equal(await client.count('bdgt-priv'), 200, 'nothing applied');
      const rows = readFileSync(errorRowsFile, 'utf8').trim().split('\n');
      assert.equal(rows.length, 2);
      assert.match(rows[1] ?? '', /^Q-3,Police,not a number,"?amount/);

      const skipped = await publish(client, { file: csv, dataset: 'bdgt-priv', mode: 'replace', skipBadRows: true }, { ...fast, errorRowsFile });
      assert.equal(skipped.status, 'partial', skipped.message);
      assert.equal(skipped.errors, 1);
      assert.deepEqual(
        skipped.rowErrors.map((e) => e.line),
        [5],
      );
      assert.deepEqual(strip(await allRows(client, 'bdgt-priv', 'line_item'), ['line_item']).flat(), ['Q-1', 'Q-2', 'Q-4']);
    });
  });

  it('create makes a new dataset with the file rows, mapping and types', async () => {
    await withEmulator(async (_emu, client) => {
      const csv = file('create.csv', 'Code,Name,Score,Skip me\nA1,Alpha,1.5,x\nB2,Beta,2,y\n');
      const result = await publish(
        client,
        {
          file: csv,
          mode: 'create',
          newDataset: { name: 'Scores', description: 'test' },
          mapping: { 'Skip me': null, Name: 'label' },
          types: { code: 'text' },
          rowIdentifier: 'code',
        },
        fast,
      );
      assert.equal(result.status, 'success', result.message);
      assert.ok(result.dataset);
      const view = await client.view(result.dataset);
      assert.deepEqual(view.columns.map((c) => c.fieldName).sort(), ['code', 'label', 'score']);
      assert.equal(view.columns.find((c) => c.fieldName === 'score')?.dataTypeName, 'number');
      const rows = await allRows(client, result.dataset, 'code');
      assert.deepEqual(strip(rows, ['code', 'label', 'score']), [
        ['A1', 'Alpha', '1.5'],
        ['B2', 'Beta', '2'],
      ]);
    });
  });
});

describe('publish: refusals say why and what to do', () => {
  it('refuses upsert and sync without a row identifier, unknown datasets, read-only datasets, viewers', async () => {
    await withEmulator(async (_emu, client) => {
      const csv = file('trees2.csv', 'species\nOak\n');
      await assert.rejects(
        planPublish(client, { file: csv, dataset: 'tree-cnsu', mode: 'upsert' }),
        (e: unknown) => e instanceof PublishError && /no row identifier.*use mode append/s.test(e.message),
      );
      await assert.rejects(planPublish(client, { file: csv, dataset: 'tree-cnsu', mode: 'sync' }), /no row identifier/);
      await assert.rejects(planPublish(client, { file: csv, dataset: 'nope-0000', mode: 'append' }), /nope-0000 was not found/);
      const parks = file('parks.csv', 'facility_id,name\nF1,X\n');
      await assert.rejects(planPublish(client, { file: parks, dataset: 'park-othr', mode: 'upsert' }), /not write to it.*Olive Other/s);
      await assert.rejects(
        planPublish(client, { file: csv, dataset: 'tree-cnsu', mode: 'bogus' as PublishRequest['mode'] }),
        /mode: must be one of upsert, append, replace, delete, create, sync/,
      );
      await assert.rejects(
        planPublish(client, { file: join(dir, 'missing.csv'), dataset: 'tree-cnsu', mode: 'append' }),
        /missing\.csv: cannot read the file \(it does not exist\)/,
      );
    });
    await withEmulator(
      async (_emu, client) => {
        const csv = file('trees3.csv', 'species\nOak\n');
        const r = await publish(client, { file: csv, dataset: 'tree-cnsu', mode: 'append' });
        assert.equal(r.status, 'refused');
        assert.match(r.message, /not write/);
      },
      { auth: VIEWER },
    );
  });

  it('refuses derived views and views without write rights (metadata the emulator does not serve)', () => {
    const base: ViewMetadata = {
      id: 'abcd-1234',
      name: 'Filtered',
      description: undefined,
      viewType: 'tabular',
      publicationStage: 'published',
      rowIdentifierColumnId: undefined,
      owner: { id: 'pub1-usr1', displayName: 'Pat', screenName: undefined },
      createdAt: undefined,
      rowsUpdatedAt: undefined,
      viewLastModified: undefined,
      columns: [],
      rights: ['read', 'write'],
      isPublic: undefined,
      rowIdentifier: undefined,
      isDraft: false,
      raw: { displayType: 'table' },
    };
    assert.doesNotThrow(() => checkWritable(base, 'upsert'));
    assert.throws(
      () => checkWritable({ ...base, raw: { displayType: 'table', modifyingViewUid: 'wxyz-9876' } }, 'upsert'),
      /derived view|not a dataset table.*wxyz-9876/s,
    );
    assert.throws(() => checkWritable({ ...base, raw: { displayType: 'chart' } }, 'append'), /chart view, not a dataset table/);
    assert.throws(() => checkWritable({ ...base, viewType: 'blobby' }, 'append'), /not a dataset table/);
    assert.throws(() => checkWritable({ ...base, rights: ['read'] }, 'append'), /may read abcd-1234 .* but not write/);
  });
});

describe('publish: validation, bad rows and the error-rows CSV', () => {
  it('sends nothing when validation finds problems, and names the lines', async () => {
    await withEmulator(async (emu, client) => {
      const csv = file(
        'bad.csv',
        budgetCsv([
          ['B-1', 'Parks', '1'],
          ['B-2', 'Parks', 'lots'],
          ['B-3', 'Parks', '3'],
        ]),
      );
      const writes = emu.store.appliedWrites.length;
      const r = await publish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(r.status, 'refused');
      assert.match(r.message, /bad\.csv:3:3: amount: /);
      assert.equal(emu.store.appliedWrites.length, writes);
      assert.ok(r.errorRowsFile && existsSync(r.errorRowsFile));
    });
  });

  it('skipBadRows sends the good rows; the error-rows CSV, fixed, publishes the rest', async () => {
    await withEmulator(async (_emu, client) => {
      const csv = file(
        'mixed.csv',
        budgetCsv([
          ['M-1', 'Parks', '1'],
          ['M-2', 'Parks, "North"', 'lots'],
          ['M-3', 'Fire', '3'],
          ['M-4', 'Fire', '12/31/2024'],
        ]),
      );
      const errorRowsFile = join(dir, 'mixed-errors.csv');
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert', skipBadRows: true });
      assert.equal(plan.badRows, 2);
      assert.equal(plan.counts.toCreate, 2);
      const r = await executePublish(client, plan, { errorRowsFile });
      assert.equal(r.status, 'partial');
      assert.equal(r.created, 2);
      assert.deepEqual(
        r.rowErrors.map((e) => e.line),
        [3, 5],
      );
      const text = readFileSync(errorRowsFile, 'utf8');
      const lines = text.trim().split('\r\n');
      assert.equal(lines[0], 'line_item,department,amount,error');
      assert.match(lines[1], /^M-2,"Parks, ""North""",lots,"?amount: /);
      // Fix the cells and publish the error file itself: the `error` column is not sent.
      writeFileSync(errorRowsFile, text.replace(',lots,', ',7,').replace(',12/31/2024,', ',8,'));
      const again = await publish(client, { file: errorRowsFile, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(again.status, 'success', again.message);
      assert.equal(again.created, 2);
      const rows = (await client.rows('bdgt-priv', { where: "line_item like 'M-%'", order: 'line_item' })).rows;
      assert.deepEqual(strip(rows, ['line_item', 'department', 'amount']), [
        ['M-1', 'Parks', '1'],
        ['M-2', 'Parks, "North"', '7'],
        ['M-3', 'Fire', '3'],
        ['M-4', 'Fire', '8'],
      ]);
    });
  });
});

describe('publish: cancel, journal and resume', () => {
  it('cancel mid-way, then publish again: every row applied exactly once', async () => {
    await withEmulator(async (emu, client) => {
      const n = 3000;
      const lines = Array.from({ length: n }, (_, i) => `J-${String(i).padStart(5, '0')},Dept ${i % 7},${i}`);
      const csv = file('big.csv', `line_item,department,amount\n${lines.join('\n')}\n`);
      const journalDir = join(dir, 'journal');
      const req: PublishRequest = { file: csv, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 100, concurrency: 2 };
      const ac = new AbortController();
      let events = 0;
      const first = await publish(client, req, {
        journalDir,
        signal: ac.signal,
        onProgress: (p: PublishProgress) => {
          if (p.stage === 'sending' && ++events === 5) ac.abort();
        },
      });
      assert.equal(first.status, 'cancelled', first.message);
      assert.ok(first.created > 0 && first.created < n, `created ${first.created}`);
      assert.equal(first.appliedRanges.length, 1);
      const [a, b] = first.appliedRanges[0];
      assert.equal(a, 2);
      assert.equal(b - a + 1, first.created, 'the applied range is exactly the rows created');
      assert.match(first.message, /Applied: lines 2–\d+ of/);
      assert.equal(readdirSync(journalDir).filter((f) => f.endsWith('.json')).length, 1);

      const plan2 = await planPublish(client, req);
      assert.equal(plan2.counts.toCreate, n - first.created);
      const seen: PublishProgress[] = [];
      const second = await executePublish(client, plan2, { journalDir, onProgress: (p) => seen.push(p) });
      const last = seen.at(-1);
      assert.equal(last?.stage, 'done');
      assert.equal(last?.rowsTotal, n);
      assert.equal(last?.rowsDone, n, 'rows applied by the first run count as done');
      assert.equal(last?.bytesTotal, statSync(csv).size);
      assert.equal(last?.bytesDone, statSync(csv).size);
      assert.match(last?.lastRequestId ?? '', /^[0-9a-f]{32}$/);
      assert.ok(seen.some((p) => p.stage === 'sending' && p.rowsPerSecond > 0 && p.etaSeconds !== undefined));
      assert.ok(
        seen.every((p, i) => i === 0 || p.rowsDone >= (seen[i - 1]?.rowsDone ?? 0)),
        'rows done never go back',
      );
      assert.equal(second.status, 'success', second.message);
      assert.equal(second.resume?.status, 'resumed');
      assert.equal(second.resume?.skippedRows, first.created);
      assert.equal(second.created, n - first.created);
      assert.equal(second.updated, 0, 'no row was sent twice');
      const sent = emu.store.appliedWrites.filter((w) => w.dataset === 'bdgt-priv' && w.source === 'resource').reduce((s, w) => s + w.rowsIn, 0);
      assert.equal(sent, n, 'the applied log holds every row exactly once');
      assert.equal(await client.count('bdgt-priv', { where: "line_item like 'J-%'" }), n);
      assert.equal(readdirSync(journalDir).filter((f) => f.endsWith('.json')).length, 0, 'the journal is removed when done');
    });
  });

  it('a changed file starts over and says so', async () => {
    await withEmulator(async (_emu, client) => {
      const csv = file(
        'changed.csv',
        budgetCsv([
          ['C-1', 'Parks', '1'],
          ['C-2', 'Parks', '2'],
        ]),
      );
      const journalDir = join(dir, 'journal-changed');
      const ac = new AbortController();
      ac.abort();
      const first = await publish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 1 }, { journalDir, signal: ac.signal });
      assert.equal(first.status, 'cancelled');
      // The plan was refused before anything (cancelled while planning) — make a journal by a real partial run instead.
      const ac2 = new AbortController();
      const r1 = await publish(
        client,
        { file: csv, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 1, concurrency: 1 },
        {
          journalDir,
          signal: ac2.signal,
          onProgress: (p) => {
            if (p.stage === 'sending') ac2.abort();
          },
        },
      );
      assert.equal(r1.status, 'cancelled', r1.message);
      writeFileSync(
        csv,
        budgetCsv([
          ['C-1', 'Parks', '1'],
          ['C-2', 'Parks', '2'],
          ['C-3', 'Parks', '3'],
        ]),
      );
      const r2 = await publish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 1 }, { journalDir });
      assert.equal(r2.status, 'success', r2.message);
      assert.equal(r2.resume?.status, 'restarted');
      assert.match(r2.resume?.reason ?? '', /starting over: .*changed\.csv is not the file of the interrupted publish: its size changed/);
    });
  });

  it('an append whose answer is lost stops, names the uncertain lines, and does not re-send them', async () => {
    await withEmulator(async (emu, client) => {
      const csv = file('append-unsafe.csv', `species,diameter_in\n${Array.from({ length: 6 }, (_, i) => `Lost${i},${i}`).join('\n')}\n`);
      emu.setFaults('resetAfterApply=1,only=/resource');
      const journalDir = join(dir, 'journal-unsafe');
      const r = await publish(client, { file: csv, dataset: 'tree-cnsu', mode: 'append', batchSize: 3, concurrency: 1 }, { journalDir });
      assert.equal(r.status, 'failed', r.message);
      assert.deepEqual(r.uncertainRanges, [[2, 4]]);
      assert.match(r.message, /lines 2–4 is unknown .* not re-sent automatically/s);
      emu.setFaults(undefined);
      const writes = emu.store.appliedWrites.length;
      const again = await publish(client, { file: csv, dataset: 'tree-cnsu', mode: 'append', batchSize: 3, concurrency: 1 }, { journalDir });
      assert.equal(again.status, 'refused');
      assert.match(again.message, /lines 2–4/);
      assert.equal(emu.store.appliedWrites.length, writes, 'nothing sent while the outcome is unknown');
      const skip = await publish(client, { file: csv, dataset: 'tree-cnsu', mode: 'append', batchSize: 3, concurrency: 1 }, { journalDir, uncertain: 'skip' });
      assert.equal(skip.status, 'success', skip.message);
      assert.equal(skip.created, 3);
      assert.equal(await client.count('tree-cnsu', { where: "species like 'Lost%'" }), 6, 'the first batch (applied, answer lost) plus the rest');
    });
  });

  it('cancelling a revision discards it: nothing applied', async () => {
    await withEmulator(async (_emu, client) => {
      const csv = file('replace-cancel.csv', budgetCsv([['X-1', 'Parks', '1']]));
      const ac = new AbortController();
      const r = await publish(
        client,
        { file: csv, dataset: 'bdgt-priv', mode: 'replace' },
        {
          ...fast,
          signal: ac.signal,
          onProgress: (p) => {
            if (p.stage === 'uploading') ac.abort();
          },
        },
      );
      assert.equal(r.status, 'cancelled', r.message);
      assert.match(r.message, /discarded|nothing was applied/);
      assert.equal(await client.count('bdgt-priv'), 200);
    });
  });
});
