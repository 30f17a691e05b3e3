// Dataset Management API: the client (src/soda/revisions.ts) against the emulator over loopback HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SodaHttp } from '../../src/soda/http';
import {
  followLink,
  planOutputColumns,
  RevisionError,
  RevisionRunner,
  RevisionsClient,
  transportFromHttp,
  type RevisionProgress,
} from '../../src/soda/revisions';
import { configureDsmapi, dsmapiState, failChunkOnce } from '../emulator/dsmapi/index';
import { startEmulator } from '../emulator/index';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;

const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };
const VIEWER = { type: 'basic' as const, email: 'viewer@example.org', password: 'view-only' };

describe('DSMAPI revisions (client + emulator)', () => {
  let emu: Emulator;
  let http: SodaHttp;
  let client: RevisionsClient;
  let runner: RevisionRunner;
  let dir: string;
  const fast = { initialDelayMs: 5, maxDelayMs: 20, timeoutMs: 30_000 };

  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  async function resource(fourfour: string, query = ''): Promise<{ rows: Record<string, unknown>[]; types: string[]; fields: string[] }> {
    const auth = Buffer.from(`${PUBLISHER.email}:${PUBLISHER.password}`).toString('base64');
    const res = await fetch(`${emu.url}/resource/${fourfour}.json${query}`, { headers: { authorization: `Basic ${auth}` } });
    assert.equal(res.status, 200, await res.clone().text());
    const rows = (await res.json()) as Record<string, unknown>[];
    const parse = (h: string | null): string[] => (h ? (JSON.parse(h) as string[]) : []);
    return { rows, types: parse(res.headers.get('x-soda2-types')), fields: parse(res.headers.get('x-soda2-fields')) };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revisions-'));
    emu = await startEmulator({ port: 0, seed: 'sample' });
    http = new SodaHttp({ domain: emu.domain, auth: PUBLISHER });
    client = new RevisionsClient(transportFromHttp(http), { domain: emu.domain, scheme: 'http' });
    runner = new RevisionRunner(client);
  });

  after(async () => {
    await http.close();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a dataset from a CSV of several types, with a rename, a retype and a row identifier', async () => {
    const csv = file(
      'inspections.csv',
      [
        'Inspection ID,Facility Name,Score,Inspected On,Passed,Location,Zip',
        'A-1,"Joe\'s Diner, Main St",91.5,2024-03-01,true,POINT (-87.65 41.93),60614',
        'A-2,Cafe Uno,78,2024-03-02T10:30:00,false,POINT (-87.60 41.90),60601',
        'A-3,Taqueria,,2024-03-05,true,,60622',
      ].join('\n'),
    );
    const stages = new Set<string>();
    const outcome = await runner.createDataset({
      file: csv,
      metadata: { name: 'Food Inspections', description: 'Created by a test', category: 'Health', tags: ['food'] },
      permission: 'private',
      columns: { zip: { type: 'text', fieldName: 'zip_code', displayName: 'ZIP code' }, facility_name: { fieldName: 'facility' } },
      rowIdentifier: 'inspection_id',
      onProgress: (p: RevisionProgress) => stages.add(p.stage),
      ...fast,
    });
    assert.equal(outcome.status, 'successful');
    assert.match(outcome.fourfour, /^[a-z0-9]{4}-[a-z0-9]{4}$/);
    if (outcome.status !== 'successful') return;
    assert.equal(outcome.counts.created, 3);
    assert.equal(outcome.errorCount, 0);
    for (const s of ['creating', 'uploading', 'parsing', 'transforming', 'applying']) assert.ok(stages.has(s), `progress stage ${s}`);

    const ds = emu.store.getDataset(outcome.fourfour);
    assert.ok(ds);
    assert.equal(ds.name, 'Food Inspections');
    assert.equal(ds.owner, 'pub1-usr1');
    assert.equal(ds.rowIdentifier, 'inspection_id');
    assert.deepEqual(
      ds.columns.map((c) => [c.fieldName, c.dataTypeName]),
      [
        ['inspection_id', 'text'],
        ['facility', 'text'],
        ['score', 'number'],
        ['inspected_on', 'calendar_date'],
        ['passed', 'checkbox'],
        ['location', 'point'],
        ['zip_code', 'text'],
      ],
    );

    const { rows, fields, types } = await resource(outcome.fourfour, '?$order=inspection_id');
    assert.deepEqual(Object.fromEntries(fields.map((f, i) => [f, types[i]])), {
      inspection_id: 'text',
      facility: 'text',
      score: 'number',
      inspected_on: 'floating_timestamp',
      passed: 'boolean',
      location: 'point',
      zip_code: 'text',
    });
    assert.equal(rows.length, 3);
    assert.equal(rows[0]?.facility, "Joe's Diner, Main St");
    assert.equal(rows[0]?.score, '91.5');
    assert.equal(rows[0]?.inspected_on, '2024-03-01T00:00:00.000');
    assert.equal(rows[0]?.passed, true);
    assert.deepEqual(rows[0]?.location, { type: 'Point', coordinates: [-87.65, 41.93] });
    assert.equal(rows[0]?.zip_code, '60614');
    assert.equal(rows[1]?.inspected_on, '2024-03-02T10:30:00.000');
    assert.equal(rows[1]?.passed, false);
    assert.equal(rows[2]?.score, undefined, 'an empty cell is null (key omitted)');

    // Visible to its owner through /api/views.
    const auth = Buffer.from(`${PUBLISHER.email}:${PUBLISHER.password}`).toString('base64');
    const view = await fetch(`${emu.url}/api/views/${outcome.fourfour}.json`, { headers: { authorization: `Basic ${auth}` } });
    assert.equal(view.status, 200);
    assert.equal(((await view.json()) as { name: string }).name, 'Food Inspections');
  });

  it('replaces a dataset atomically: readers polling during the job never see a half-replaced dataset', async () => {
    const before = emu.store.getRows('tree-cnsu').length;
    assert.equal(before, 300);
    const lines = ['species,diameter_in,planted_on,healthy,location'];
    for (let i = 0; i < 40; i++) lines.push(`Replaced ${i},${i + 1},2020-01-${String((i % 28) + 1).padStart(2, '0')},true,POINT (-73.9 40.7)`);
    const csv = file('trees.csv', lines.join('\n'));
    configureDsmapi(emu.store, { applyStepMs: 40, parseDelayMs: 20, transformDelayMs: 20 });
    const seen = new Set<string>();
    const first = await resource('tree-cnsu', '?$limit=1000');
    seen.add(`${first.rows.length}/0`);
    let polling = true;
    const poller = (async () => {
      while (polling) {
        // One read = one snapshot: its size and how many of its rows are new must match one of the two states.
        const { rows } = await resource('tree-cnsu', '?$limit=1000');
        const replaced = rows.filter((r) => String(r.species).startsWith('Replaced ')).length;
        seen.add(`${rows.length}/${replaced}`);
      }
    })();
    const applying: number[] = [];
    try {
      const outcome = await runner.updateDataset('tree-cnsu', {
        action: 'replace',
        file: csv,
        onProgress: (p) => {
          if (p.stage === 'applying') applying.push(p.rowsUpserted);
        },
        ...fast,
      });
      assert.equal(outcome.status, 'successful');
      if (outcome.status === 'successful') assert.equal(outcome.counts.created, 40);
    } finally {
      polling = false;
      await poller;
      configureDsmapi(emu.store, { applyStepMs: 0, parseDelayMs: 0, transformDelayMs: 0 });
    }
    assert.ok(applying.some((k) => k > 0 && k < 40) || applying.includes(40), `applying progress ${applying.join(',')}`);
    for (const s of seen) assert.ok(s === '300/0' || s === '40/40', `a reader saw a mixed state ${s}`);
    const after = await resource('tree-cnsu', '?$limit=1000');
    assert.equal(after.rows.length, 40);
    assert.equal(after.rows.find((r) => r.species === 'Replaced 3')?.diameter_in, '4');
  });

  it('uploads a file of more than 3 chunks, retrying a chunk that fails once', async () => {
    configureDsmapi(emu.store, { preferredChunkSize: 1024, preferredParallelism: 2 });
    try {
      const lines = ['line_item,department,amount'];
      for (let i = 0; i < 300; i++) lines.push(`LI-NEW-${String(i).padStart(4, '0')},Department ${i % 7},${i * 10}.25`);
      const text = lines.join('\n');
      assert.ok(Buffer.byteLength(text) > 3 * 1024);
      const csv = file('budget.csv', text);
      failChunkOnce(emu.store, 2);
      const sent: number[] = [];
      const outcome = await runner.updateDataset('bdgt-priv', {
        action: 'update',
        file: csv,
        uploadMode: 'auto',
        singleShotMaxBytes: 1024,
        chunkBackoffMs: 5,
        onProgress: (p) => {
          if (p.stage === 'uploading') sent.push(p.bytesSent);
        },
        ...fast,
      });
      assert.equal(outcome.status, 'successful');
      assert.equal(dsmapiState(emu.store).failChunksOnce.size, 0, 'the injected failure happened');
      assert.equal(sent[sent.length - 1], Buffer.byteLength(text));
      if (outcome.status === 'successful') assert.equal(outcome.counts.created, 300);
      const rows = emu.store.getRows('bdgt-priv');
      assert.equal(rows.length, 500);
      const byKey = new Map(rows.map((r) => [r.v.line_item, r.v]));
      for (let i = 0; i < 300; i++) {
        const v = byKey.get(`LI-NEW-${String(i).padStart(4, '0')}`);
        assert.ok(v, `row ${i} arrived`);
        assert.equal(v.amount, `${i * 10}.25`);
        assert.equal(v.department, `Department ${i % 7}`);
      }
    } finally {
      configureDsmapi(emu.store, { preferredChunkSize: 4 * 1024 * 1024, preferredParallelism: 4 });
    }
  });

  it('cancelling during the upload discards the revision and leaves the dataset unchanged', async () => {
    configureDsmapi(emu.store, { preferredChunkSize: 512, preferredParallelism: 1 });
    try {
      const before = emu.store.getRows('bldg-prmt').map((r) => JSON.stringify(r.v));
      const lines = ['permit_id,address,valuation'];
      for (let i = 0; i < 200; i++) lines.push(`NEW-${i},${i} Test Ave,${i}`);
      const csv = file('permits.csv', lines.join('\n'));
      const ac = new AbortController();
      const err = await runner
        .updateDataset('bldg-prmt', {
          action: 'replace',
          file: csv,
          uploadMode: 'chunked',
          signal: ac.signal,
          onProgress: (p) => {
            if (p.stage === 'uploading' && p.bytesSent > 0) ac.abort();
          },
          ...fast,
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof RevisionError, `got ${String(err)}`);
      assert.equal(err.kind, 'cancelled');
      assert.equal(err.details.discarded, true);
      assert.equal(err.details.outcome, 'not-applied');
      const revs = await client.listRevisions('bldg-prmt');
      assert.ok(revs.length > 0);
      assert.ok(
        revs.every((r) => r.closed_at),
        'no revision left open',
      );
      assert.equal((await client.listRevisions('bldg-prmt', true)).length, 0);
      assert.deepEqual(
        emu.store.getRows('bldg-prmt').map((r) => JSON.stringify(r.v)),
        before,
      );
    } finally {
      configureDsmapi(emu.store, { preferredChunkSize: 4 * 1024 * 1024, preferredParallelism: 4 });
    }
  });

  it('cancelling the creation of a new dataset before apply removes the draft', async () => {
    const csv = file('draft.csv', 'a,b\n1,2\n');
    const ac = new AbortController();
    const datasetsBefore = emu.store.listDatasets().length;
    const err = await runner
      .createDataset({
        file: csv,
        metadata: { name: 'Draft' },
        signal: ac.signal,
        onProgress: (p) => {
          if (p.stage === 'transforming') ac.abort();
        },
        ...fast,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof RevisionError);
    assert.equal(err.kind, 'cancelled');
    assert.equal(emu.store.listDatasets().length, datasetsBefore);
  });

  it('counts row errors and exports them as JSON and CSV', async () => {
    const csv = file(
      'scores.csv',
      ['name,score,when', 'ok one,10,2024-01-01', 'bad number,ten,2024-01-02', 'bad date,3,not a date', 'ok two,4,2024-01-04'].join('\n'),
    );
    let exported: { count: number; json: Awaited<ReturnType<RevisionsClient['schemaErrors']>>; csv: string } | undefined;
    const outcome = await runner.createDataset({
      file: csv,
      metadata: { name: 'Scores' },
      columns: { score: { type: 'number' }, when: { type: 'floating_timestamp' } },
      onRowErrors: async ({ errorCount, outputSchema }) => {
        exported = { count: errorCount, json: await client.schemaErrors(outputSchema), csv: await client.schemaErrorsCsv(outputSchema) };
        return 'apply' as const;
      },
      ...fast,
    });
    assert.ok(exported);
    assert.equal(exported.count, 2);
    assert.deepEqual(
      exported.json.map((r) => [r.offset, r.errors.map((e) => [e.field, e.input])]),
      [
        [1, [['score', 'ten']]],
        [2, [['when', 'not a date']]],
      ],
    );
    const csvLines = exported.csv.trim().split('\n');
    assert.equal(csvLines[0], 'line,name,score,when,errors');
    assert.equal(csvLines.length, 3);
    assert.match(csvLines[1] ?? '', /^3,bad number,ten,2024-01-02T00:00:00\.000,"score: Unable to convert ""ten"" to number"$/);
    assert.equal(outcome.status, 'successful');
    if (outcome.status !== 'successful') return;
    assert.equal(outcome.errorCount, 2);
    assert.equal(outcome.counts.created, 2);
    assert.deepEqual(
      (await resource(outcome.fourfour, '?$order=name')).rows.map((r) => r.name),
      ['ok one', 'ok two'],
    );
  });

  it('aborting on row errors discards the revision with an invalid-input error', async () => {
    const csv = file('bad.csv', 'facility_id,name,open\nF-1,Pool,maybe\n');
    const before = emu.store.rowCount('bdgt-priv');
    const err = await runner
      .updateDataset('bdgt-priv', { action: 'update', file: csv, columns: { open: { type: 'boolean' } }, onRowErrors: () => 'abort', ...fast })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof RevisionError);
    assert.equal(err.kind, 'invalid-input');
    assert.equal(err.details.discarded, true);
    assert.equal(emu.store.rowCount('bdgt-priv'), before);
  });

  it('ends with the approval outcome when the dataset requires approval, leaving data unchanged', async () => {
    emu.store.setApprovalRequired('crsh-larg', true);
    try {
      const csv = file('crash.csv', 'crash_id,severity\n999999,minor\n');
      const before = emu.store.rowCount('crsh-larg');
      const outcome = await runner.updateDataset('crsh-larg', { action: 'update', file: csv, ...fast });
      assert.equal(outcome.status, 'approval-submitted');
      assert.equal(outcome.fourfour, 'crsh-larg');
      assert.match(outcome.revisionUrl, /\/d\/crsh-larg\/revisions\/\d+$/);
      assert.equal(emu.store.rowCount('crsh-larg'), before);
    } finally {
      emu.store.setApprovalRequired('crsh-larg', false);
    }
  });

  it('deletes the rows listed in a delete revision', async () => {
    const rows = emu.store.getRows('bldg-prmt');
    const doomed = rows.slice(0, 3).map((r) => r.v.permit_id as string);
    const csv = file('delete.csv', ['permit_id', ...doomed].join('\n'));
    const outcome = await runner.updateDataset('bldg-prmt', { action: 'delete', file: csv, ...fast });
    assert.equal(outcome.status, 'successful');
    if (outcome.status === 'successful') assert.equal(outcome.counts.deleted, 3);
    const left = emu.store.getRows('bldg-prmt');
    assert.equal(left.length, rows.length - 3);
    assert.ok(!left.some((r) => doomed.includes(r.v.permit_id as string)));
  });

  it('applies a metadata-only revision', async () => {
    const outcome = await runner.updateMetadata('bldg-prmt', { description: 'Updated by a metadata revision', tags: ['permits', 'city'] }, fast);
    assert.equal(outcome.status, 'successful');
    const ds = emu.store.getDataset('bldg-prmt');
    assert.equal(ds?.description, 'Updated by a metadata revision');
    assert.deepEqual(ds?.tags, ['permits', 'city']);
  });

  it('rejects a column plan naming a column the file does not have, discarding the revision', async () => {
    const csv = file('plan.csv', 'species,diameter_in\nOak,3\n');
    const err = await runner.updateDataset('tree-cnsu', { action: 'update', file: csv, columns: { nope: { type: 'number' } }, ...fast }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof RevisionError);
    assert.equal(err.kind, 'invalid-input');
    assert.equal(err.details.field, 'nope');
    assert.equal(err.details.discarded, true);
  });

  it('refuses writes from a user without write rights', async () => {
    const viewerHttp = new SodaHttp({ domain: emu.domain, auth: VIEWER });
    try {
      const viewer = new RevisionRunner(new RevisionsClient(transportFromHttp(viewerHttp), { domain: emu.domain, scheme: 'http' }));
      const csv = file('v.csv', 'a\n1\n');
      await assert.rejects(viewer.createDataset({ file: csv, metadata: { name: 'Nope' }, ...fast }), (e: unknown) => (e as { status?: number }).status === 403);
      await assert.rejects(
        viewer.updateDataset('park-othr', { action: 'update', file: csv, ...fast }),
        (e: unknown) => (e as { status?: number }).status === 403,
      );
    } finally {
      await viewerHttp.close();
    }
  });
});

describe('DSMAPI helpers', () => {
  it('follows link templates and falls back for anything off the API', () => {
    const links = {
      chunk: '/api/publishing/v1/source/7/chunk/{seq_num}/{byte_offset}',
      evil: 'https://elsewhere.example/x',
      up: '/api/publishing/v1/../../etc',
    };
    assert.equal(followLink(links, ['chunk'], { seq_num: 2, byte_offset: 2048 }, '/fallback'), '/api/publishing/v1/source/7/chunk/2/2048');
    assert.equal(followLink(links, ['evil'], {}, '/api/publishing/v1/fallback'), '/api/publishing/v1/fallback');
    assert.equal(followLink(links, ['up'], {}, '/api/publishing/v1/fallback'), '/api/publishing/v1/fallback');
    assert.equal(followLink(links, ['chunk'], {}, '/api/publishing/v1/fallback'), '/api/publishing/v1/fallback', 'unfilled placeholders are not followed');
    assert.equal(followLink(undefined, ['show'], {}, '/api/publishing/v1/x'), '/api/publishing/v1/x');
  });

  it('plans output columns: retype, rename, drop, row identifier, and names bad fields', () => {
    const input = {
      id: 1,
      input_columns: [
        { id: 10, field_name: 'a', display_name: 'A' },
        { id: 11, field_name: 'b', display_name: 'B' },
      ],
    };
    const current = [
      {
        id: 20,
        field_name: 'a',
        display_name: 'A',
        position: 1,
        transform: { transform_expr: 'to_text(`a`)', transform_input_columns: [{ input_column_id: 10 }] },
      },
      {
        id: 21,
        field_name: 'b',
        display_name: 'B',
        position: 2,
        transform: { transform_expr: 'to_number(`b`)', transform_input_columns: [{ input_column_id: 11 }] },
      },
    ];
    const out = planOutputColumns(input, current, { a: { type: 'number', fieldName: 'aa' }, b: { drop: true } }, 'aa');
    assert.deepEqual(
      out.map((c) => [c.field_name, c.transform.transform_expr, c.is_primary_key, c.initial_output_column_id]),
      [['aa', 'to_number(`a`)', true, 20]],
    );
    assert.throws(
      () => planOutputColumns(input, current, { a: { fieldName: 'Bad Name' } }),
      (e: unknown) => e instanceof RevisionError && e.details.field === 'Bad Name',
    );
    assert.throws(
      () => planOutputColumns(input, current, {}, 'zz'),
      (e: unknown) => e instanceof RevisionError && e.details.field === 'rowIdentifier',
    );
  });
});
