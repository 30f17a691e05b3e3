// Publishing under injected server faults (the emulator's deterministic, seeded fault spec): 5xx answers,
// connection resets before and after the write is applied, and 429 bursts with and without Retry-After.
// The publish engine's library API is used; the emulator's stored rows and applied-writes log are the truth.
//
// Size: RELIABILITY_ROWS rows for the upsert run (default 20 000; set RELIABILITY_ROWS=100000 for the full run).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatRanges, publish, type LineRange, type PublishRequest, type PublishResult } from '../../src/publish';
import { SodaClient } from '../../src/soda';
import { configureDsmapi, dsmapiState, failChunkOnce } from '../emulator/dsmapi/index';
import { startEmulator } from '../emulator/index';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };
const ROWS = Number(process.env.RELIABILITY_ROWS ?? 20_000);
const FAULTS = 'error=0.1,reset=0.05,throttle=0.08,burst=3,retryAfter=mixed';
const fast = { revisionPoll: { initialDelayMs: 5, maxDelayMs: 20 } };

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reliability-faults-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function withEmulator(fn: (emu: Emulator, client: SodaClient) => Promise<void>): Promise<void> {
  const emu = await startEmulator({ port: 0, seed: 'sample' });
  // Short backoff so that the test is about outcomes, not waiting; Retry-After (1 s) is still honoured.
  const client = new SodaClient({ domain: emu.domain, auth: PUBLISHER, retry: { baseDelayMs: 1, maxDelayMs: 20, maxAttempts: 8 } });
  try {
    await fn(emu, client);
  } finally {
    await client.close();
    await emu.stop();
  }
}

/** A dataset with a row identifier, `pre` rows already in it (ids R-000000 …, label "old"). */
function upsertTarget(emu: Emulator, id: string, pre: number): void {
  emu.store.createDataset({
    id,
    name: 'Reliability upsert',
    owner: 'pub1-usr1',
    rowIdentifier: 'item_id',
    columns: [
      { name: 'item_id', dataTypeName: 'text' },
      { name: 'label', dataTypeName: 'text' },
      { name: 'amount', dataTypeName: 'number' },
    ],
  });
  emu.store.upsertRows(
    id,
    Array.from({ length: pre }, (_, i) => ({ item_id: rid(i), label: 'old', amount: '0' })),
  );
}

const rid = (i: number): string => `R-${String(i).padStart(6, '0')}`;
const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function upsertFile(name: string, n: number): string {
  const p = join(dir, name);
  const lines = ['item_id,label,amount'];
  for (let i = 0; i < n; i++) lines.push(`${rid(i)},L${i},${i}.5`);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

/** Publishes until the engine reports success (each run resumes from the journal); at most `max` runs. */
async function publishUntilDone(client: SodaClient, req: PublishRequest, journalDir: string, max = 4): Promise<PublishResult[]> {
  const runs: PublishResult[] = [];
  for (let i = 0; i < max; i++) {
    const r = await publish(client, req, { journalDir });
    runs.push(r);
    if (r.status === 'success') return runs;
    assert.equal(r.status, 'failed', r.message);
    assert.match(r.message, /Publishing the same file again resumes/);
  }
  assert.fail(`not done after ${max} runs: ${runs.map((r) => r.message).join(' | ')}`);
}

function assertServerRowsEqualFile(emu: Emulator, id: string, n: number, pre: number): void {
  const rows = emu.store.getRows(id);
  const ids = rows.map((r) => text(r.v.item_id));
  assert.equal(new Set(ids).size, ids.length, 'no duplicate row identifiers');
  assert.equal(rows.length, Math.max(n, pre), 'exactly the file rows (plus untouched earlier rows)');
  const byId = new Map(rows.map((r) => [text(r.v.item_id), r.v]));
  for (let i = 0; i < n; i++) {
    const v = byId.get(rid(i));
    assert.ok(v, `${rid(i)} is on the server`);
    if (v.label !== `L${i}` || v.amount !== `${i}.5`) assert.fail(`${rid(i)} holds ${JSON.stringify(v)}`);
  }
}

describe('reliability: upsert to a dataset with a row identifier under faults', () => {
  it(`${ROWS} rows under 10% 5xx, 5% resets and 429 bursts (with and without Retry-After): exact rows, no duplicates, honest totals`, async () => {
    await withEmulator(async (emu, client) => {
      const pre = 2000;
      upsertTarget(emu, 'rel1-upsr', pre);
      const file = upsertFile('upsert.csv', ROWS);
      emu.setFaults(`seed=4,${FAULTS},only=writes`);
      const runs = await publishUntilDone(client, { file, dataset: 'rel1-upsr', mode: 'upsert', batchSize: 500, concurrency: 3 }, join(dir, 'j-upsert'));
      const c = emu.store.faultCounters;
      assert.ok(c.errors5xx > 0 && c.resets > 0, `faults happened: ${JSON.stringify(c)}`);
      assert.ok(c.throttledWithRetryAfter > 0 && c.throttled > c.throttledWithRetryAfter, `429 bursts with and without Retry-After: ${JSON.stringify(c)}`);
      emu.setFaults(undefined);
      assertServerRowsEqualFile(emu, 'rel1-upsr', ROWS, pre);
      // These faults all happen before the server applies anything, so every row was applied exactly once …
      const applied = emu.store.appliedWrites.filter((w) => w.dataset === 'rel1-upsr' && w.source === 'resource');
      assert.equal(
        applied.reduce((n, w) => n + w.rowsIn, 0),
        ROWS,
        'the applied log holds every row exactly once',
      );
      // … and the totals are exact: the earlier rows were updated, the rest created, nothing counted twice.
      const created = runs.reduce((n, r) => n + r.created, 0);
      const updated = runs.reduce((n, r) => n + r.updated, 0);
      assert.equal(created, ROWS - pre);
      assert.equal(updated, pre);
      assert.equal(
        runs.reduce((n, r) => n + r.errors, 0),
        0,
      );
      const last = runs[runs.length - 1];
      assert.deepEqual(last.appliedRanges, [[2, ROWS + 1]]);
      assert.deepEqual(last.uncertainRanges, []);
    });
  });

  it('answers lost after the server applied a batch: the batch is re-sent safely, rows exact, each row counted once', async () => {
    await withEmulator(async (emu, client) => {
      const n = 3000;
      upsertTarget(emu, 'rel2-upsr', 0);
      const file = upsertFile('upsert-lost.csv', n);
      emu.setFaults(`seed=5,resetAfterApply=0.15,${FAULTS},only=writes`);
      const runs = await publishUntilDone(client, { file, dataset: 'rel2-upsr', mode: 'upsert', batchSize: 200, concurrency: 2 }, join(dir, 'j-lost'));
      assert.ok(emu.store.faultCounters.resetsAfterApply > 0, 'some answers were lost after the write was applied');
      emu.setFaults(undefined);
      assertServerRowsEqualFile(emu, 'rel2-upsr', n, 0);
      const sent = emu.store.appliedWrites.filter((w) => w.dataset === 'rel2-upsr').reduce((s, w) => s + w.rowsIn, 0);
      assert.ok(sent > n, `batches whose answer was lost were applied again (${sent} rows applied for ${n})`);
      // The server's report for a re-sent batch counts its rows as updates; every row is still counted once.
      assert.equal(
        runs.reduce((s, r) => s + r.created + r.updated, 0),
        n,
      );
    });
  });
});

describe('reliability: append to a dataset without a row identifier under faults', () => {
  const appendFile = (name: string, n: number): string => {
    const p = join(dir, name);
    writeFileSync(p, `species,diameter_in\n${Array.from({ length: n }, (_, i) => `AP-${i},${i % 40}`).join('\n')}\n`);
    return p;
  };
  /** How many times each AP-<i> species is on the server. */
  const occurrences = (emu: Emulator, n: number): number[] => {
    const counts = new Array<number>(n).fill(0);
    for (const r of emu.store.getRows('tree-cnsu')) {
      const m = /^AP-(\d+)$/.exec(text(r.v.species));
      if (m) counts[Number(m[1])]++;
    }
    return counts;
  };
  const inRanges = (ranges: LineRange[], line: number): boolean => ranges.some(([a, b]) => line >= a && line <= b);

  it('/resource route: a batch whose outcome is unknown is never re-sent blindly; the message names its lines', async () => {
    await withEmulator(async (emu, client) => {
      const n = 2000;
      const file = appendFile('append.csv', n);
      const journalDir = join(dir, 'j-append');
      const req: PublishRequest = { file, dataset: 'tree-cnsu', mode: 'append', batchSize: 100, concurrency: 1 };
      emu.setFaults(`seed=3,resetAfterApply=0.05,${FAULTS},only=writes`);
      const r = await publish(client, req, { journalDir });
      assert.equal(r.status, 'failed', r.message);
      assert.ok(r.uncertainRanges.length > 0);
      assert.ok(r.message.includes(formatRanges(r.uncertainRanges)), `the message names ${formatRanges(r.uncertainRanges)}: ${r.message}`);
      assert.match(r.message, /not re-sent automatically/);
      let occ = occurrences(emu, n);
      occ.forEach((k, i) => {
        const line = i + 2;
        if (k > 1) assert.fail(`line ${line} is on the server ${k} times`);
        if (inRanges(r.appliedRanges, line)) assert.equal(k, 1, `applied line ${line} is there once`);
        else if (!inRanges(r.uncertainRanges, line)) assert.equal(k, 0, `line ${line} was neither applied nor uncertain`);
      });

      // Publishing again without a choice is refused and sends nothing.
      emu.setFaults(undefined);
      const writes = emu.store.appliedWrites.length;
      const again = await publish(client, req, { journalDir });
      assert.equal(again.status, 'refused', again.message);
      assert.ok(again.message.includes(formatRanges(r.uncertainRanges)));
      assert.equal(emu.store.appliedWrites.length, writes);

      // The user checked the lines and chooses to skip them: the rest arrives, still no duplicate.
      const rest = await publish(client, req, { journalDir, uncertain: 'skip' });
      assert.equal(rest.status, 'success', rest.message);
      occ = occurrences(emu, n);
      occ.forEach((k, i) => {
        const line = i + 2;
        if (k > 1) assert.fail(`line ${line} is on the server ${k} times`);
        if (!inRanges(r.uncertainRanges, line)) assert.equal(k, 1, `line ${line} arrived`);
      });
    });
  });

  it('revision route: all or nothing under the same faults, never a duplicate', async () => {
    const outcomes = new Set<string>();
    for (const seed of [1, 2, 3, 4]) {
      await withEmulator(async (emu, client) => {
        const n = 500;
        const file = appendFile(`append-rev-${seed}.csv`, n);
        const before = emu.store.rowCount('tree-cnsu');
        emu.setFaults(`seed=${seed},resetAfterApply=0.05,${FAULTS},only=writes`);
        const r = await publish(client, { file, dataset: 'tree-cnsu', mode: 'append', route: 'revision' }, { ...fast });
        emu.setFaults(undefined);
        assert.equal(r.route, 'revision');
        const occ = occurrences(emu, n);
        const total = occ.reduce((s, k) => s + k, 0);
        if (r.status === 'success') {
          assert.ok(
            occ.every((k) => k === 1),
            'every row exactly once',
          );
          assert.equal(r.created, n);
        } else {
          assert.equal(r.status, 'failed', r.message);
          // A failure before the apply changed nothing; an apply whose answer was lost is all or nothing too.
          assert.ok(total === 0 || occ.every((k) => k === 1), `all or nothing: ${total} of ${n} rows arrived`);
          if (total === 0) assert.equal(emu.store.rowCount('tree-cnsu'), before);
          assert.match(r.message, /Nothing was applied|outcome is unknown/);
        }
        outcomes.add(r.status);
      });
    }
    assert.deepEqual([...outcomes].sort(), ['failed', 'success'], 'these seeds give both outcomes');
  });
});

describe('reliability: revisions under chunk failures and failed jobs', () => {
  it('a chunked upload resumes the failed chunks and the rows are exact', async () => {
    await withEmulator(async (emu, client) => {
      configureDsmapi(emu.store, { preferredChunkSize: 64 * 1024, preferredParallelism: 2 });
      const n = 12_000;
      const p = join(dir, 'replace-chunks.csv');
      writeFileSync(
        p,
        `line_item,department,amount\n${Array.from({ length: n }, (_, i) => `CH-${String(i).padStart(6, '0')},Department of Chunks ${i % 9},${i}.25`).join('\n')}\n`,
      );
      for (const seq of [1, 2, 4]) failChunkOnce(emu.store, seq);
      const r = await publish(client, { file: p, dataset: 'bdgt-priv', mode: 'replace' }, { ...fast });
      assert.equal(r.status, 'success', r.message);
      assert.equal(dsmapiState(emu.store).failChunksOnce.size, 0, 'the injected chunk failures happened');
      const rows = emu.store.getRows('bdgt-priv');
      assert.equal(rows.length, n);
      const ids = new Set(rows.map((x) => text(x.v.line_item)));
      assert.equal(ids.size, n);
      for (let i = 0; i < n; i += 997) assert.ok(ids.has(`CH-${String(i).padStart(6, '0')}`));
    });
  });

  it('a job that fails on the server leaves the dataset unchanged', async () => {
    await withEmulator(async (emu, client) => {
      const before = emu.store.getRows('bdgt-priv').map((r) => JSON.stringify(r.v));
      // 1e400 passes the client's number check but the server refuses it: the job ends with row errors, the
      // revision is discarded (skip bad rows was not chosen).
      const p = join(dir, 'replace-fails.csv');
      writeFileSync(p, 'line_item,department,amount\nF-1,Parks,1\nF-2,Parks,1e400\nF-3,Parks,3\n');
      const r = await publish(client, { file: p, dataset: 'bdgt-priv', mode: 'replace' }, { ...fast });
      assert.equal(r.status, 'failed', r.message);
      assert.match(r.message, /Nothing was applied/);
      assert.deepEqual(
        emu.store.getRows('bdgt-priv').map((x) => JSON.stringify(x.v)),
        before,
        'the dataset is unchanged',
      );
    });
  });
});
