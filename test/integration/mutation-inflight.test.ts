// The journal's in-flight list of an append (no row identifier), read from disk while the publish runs. The end of
// every run writes that list again, so a list that is wrong during the run shows only if the process dies before the
// end: these tests read the journal file while a batch is on the wire (the emulator's latency fault) instead of
// killing the process. Also: an append that fails with a 429 after the retries give up (the server did nothing) is
// not "unknown".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publish, type LineRange, type PublishRequest, type PublishResult } from '../../src/publish';
import type { SodaClient } from '../../src/soda';
import { type Emulator, journalOnDisk, withEmulator } from '../lib/publishEmulator';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mutation-inflight-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function csvFile(name: string, rows: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `species,diameter_in\n${rows.join('\n')}\n`);
  return path;
}

interface Snapshot {
  applied: LineRange[];
  inFlight: LineRange[];
}

/** Runs the publish while reading the journal file every few milliseconds; returns the result and each distinct state seen. */
async function watchJournal(journalDir: string, run: () => Promise<PublishResult>): Promise<{ result: PublishResult; seen: Snapshot[] }> {
  const seen: Snapshot[] = [];
  const look = (): void => {
    const j = journalOnDisk(journalDir);
    if (j === undefined) return;
    const s = { applied: j.applied, inFlight: j.inFlight };
    const last = seen.at(-1);
    if (last === undefined || JSON.stringify(last) !== JSON.stringify(s)) seen.push(s);
  };
  const timer = setInterval(look, 5);
  try {
    const result = await run();
    return { result, seen };
  } finally {
    clearInterval(timer);
  }
}

function sawState(seen: Snapshot[], state: Snapshot): boolean {
  return seen.some((s) => JSON.stringify(s) === JSON.stringify(state));
}

const rows6 = (prefix: string): string[] => Array.from({ length: 6 }, (_, i) => `${prefix}${i},${i}`);

describe('append: the journal names the batch on the wire', () => {
  it('each batch is in the in-flight list on disk while its request waits, and leaves it once applied', async () => {
    await withEmulator(async (emu, client) => {
      const file = csvFile('wire.csv', rows6('Wire'));
      const journalDir = join(dir, 'journal-wire');
      const req: PublishRequest = { file, dataset: 'tree-cnsu', mode: 'append', batchSize: 3, concurrency: 1 };
      emu.setFaults('latency=300,only=/resource');
      // The journal on disk at the moment each POST leaves the client (between batches, with nothing on the wire, the
      // journal may rightly name nothing in flight; what must never happen is a request the journal does not name).
      const atSend: Snapshot[] = [];
      const observed = Object.create(client) as SodaClient;
      observed.request = (options) => {
        if (options.method === 'POST') {
          const j = journalOnDisk(journalDir);
          atSend.push({ applied: j?.applied ?? [], inFlight: j?.inFlight ?? [] });
        }
        return client.request(options);
      };
      const { result, seen } = await watchJournal(journalDir, () => publish(observed, req, { journalDir }));
      assert.equal(result.status, 'success', result.message);
      assert.ok(sawState(seen, { applied: [], inFlight: [[2, 4]] }), `lines 2–4 in flight before any answer: ${JSON.stringify(seen)}`);
      assert.ok(sawState(seen, { applied: [[2, 4]], inFlight: [[5, 7]] }), `lines 5–7 in flight after 2–4 applied: ${JSON.stringify(seen)}`);
      assert.deepEqual(
        atSend,
        [
          { applied: [], inFlight: [[2, 4]] },
          { applied: [[2, 4]], inFlight: [[5, 7]] },
        ],
        'each request goes out only after the journal on disk names its lines',
      );
      assert.equal(journalOnDisk(journalDir), undefined, 'a finished publish removes its journal');
    });
  });
});

describe('append: after a lost answer, the choice empties the in-flight list', () => {
  /** A first run whose first request (lines 2–4) is applied but its answer lost: the journal holds them in flight. */
  async function lostFirstBatch(emu: Emulator, client: SodaClient, req: PublishRequest, journalDir: string): Promise<void> {
    emu.setFaults('resetAfterApply=1,only=/resource');
    const lost = await publish(client, req, { journalDir });
    assert.deepEqual(lost.uncertainRanges, [[2, 4]], lost.message);
    assert.deepEqual(journalOnDisk(journalDir)?.inFlight, [[2, 4]]);
  }

  it('skip: lines 2–4 count as applied and are never in flight again while lines 5–7 are sent', async () => {
    await withEmulator(async (emu, client) => {
      const file = csvFile('skip.csv', rows6('Skip'));
      const journalDir = join(dir, 'journal-skip');
      const req: PublishRequest = { file, dataset: 'tree-cnsu', mode: 'append', batchSize: 3, concurrency: 1 };
      await lostFirstBatch(emu, client, req, journalDir);
      emu.setFaults('latency=300,only=/resource');
      const { result, seen } = await watchJournal(journalDir, () => publish(client, { ...req, batchSize: 1 }, { journalDir, uncertain: 'skip' }));
      assert.equal(result.status, 'success', result.message);
      assert.equal(result.created, 3);
      assert.ok(sawState(seen, { applied: [[2, 4]], inFlight: [[5, 5]] }), `only line 5 in flight while it is sent: ${JSON.stringify(seen)}`);
      const during = seen.filter((s) => JSON.stringify(s) !== JSON.stringify({ applied: [], inFlight: [[2, 4]] }));
      assert.ok(
        during.every((s) => s.inFlight.every(([a]) => a >= 5)),
        `lines 2–4 are not in flight during the run: ${JSON.stringify(seen)}`,
      );
    });
  });

  it('resend: the in-flight list holds the batch being sent, not the whole uncertain range', async () => {
    await withEmulator(async (emu, client) => {
      const file = csvFile('resend.csv', rows6('Again'));
      const journalDir = join(dir, 'journal-resend');
      const req: PublishRequest = { file, dataset: 'tree-cnsu', mode: 'append', batchSize: 3, concurrency: 1 };
      await lostFirstBatch(emu, client, req, journalDir);
      emu.setFaults('latency=300,only=/resource');
      const { result, seen } = await watchJournal(journalDir, () => publish(client, { ...req, batchSize: 1 }, { journalDir, uncertain: 'resend' }));
      assert.equal(result.status, 'success', result.message);
      assert.equal(result.created, 6);
      assert.ok(sawState(seen, { applied: [], inFlight: [[2, 2]] }), `only line 2 in flight while it is sent again: ${JSON.stringify(seen)}`);
      assert.ok(sawState(seen, { applied: [[2, 2]], inFlight: [[3, 3]] }), `then only line 3: ${JSON.stringify(seen)}`);
    });
  });
});

describe('append: a refused batch leaves the in-flight list at once', () => {
  it('while the next batch is still on the wire, the journal no longer names the refused line', async () => {
    await withEmulator(async (emu, client) => {
      // Line 2 alone is over the body limit (413, nothing applied), line 3 is a bad row (not sent), line 4 is applied.
      // Concurrency 2 sends lines 2 and 4 before either answers. Seed 223 gives the first request 233 ms of latency
      // and the second 1 347 ms: line 2 is refused while line 4 waits. (Line 3 keeps the two batches' ranges apart: the
      // journal merges adjacent in-flight ranges and takes a range out only whole.)
      const file = csvFile('refused.csv', [`Elm ${'x'.repeat(1200)},11`, 'Oak,not a number', 'Ash,12']);
      const journalDir = join(dir, 'journal-refused');
      const req: PublishRequest = { file, dataset: 'tree-cnsu', mode: 'append', batchSize: 1, concurrency: 2, skipBadRows: true };
      emu.setFaults('seed=223,latency=0-1500,only=/resource');
      const { result, seen } = await watchJournal(journalDir, () => publish(client, req, { journalDir }));
      assert.equal(result.status, 'failed', result.message);
      assert.match(result.message, /413/);
      assert.deepEqual(result.appliedRanges, [[4, 4]]);
      assert.deepEqual(result.uncertainRanges, []);
      assert.deepEqual(
        emu.faultLog().map((d) => d.latencyMs),
        [233, 1347],
        'both requests sent, line 2 first',
      );
      assert.ok(
        sawState(seen, {
          applied: [],
          inFlight: [
            [2, 2],
            [4, 4],
          ],
        }),
        `both batches in flight at first: ${JSON.stringify(seen)}`,
      );
      assert.ok(sawState(seen, { applied: [], inFlight: [[4, 4]] }), `line 2 leaves the list once refused, line 4 still on the wire: ${JSON.stringify(seen)}`);
      const end = journalOnDisk(journalDir);
      assert.deepEqual([end?.applied, end?.inFlight], [[[4, 4]], []]);
    }, 1000);
  });
});

describe('append: a 429 after the retries give up', () => {
  it('is not an unknown outcome: no uncertain lines, nothing left in flight, and the next publish resumes', async () => {
    await withEmulator(async (emu, client) => {
      const file = csvFile('throttled.csv', rows6('Throttled'));
      const journalDir = join(dir, 'journal-throttled');
      const req: PublishRequest = { file, dataset: 'tree-cnsu', mode: 'append', batchSize: 3, concurrency: 1 };
      // Every request to /resource is answered 429 (no Retry-After): the client retries, then gives up.
      emu.setFaults('throttle=1,burst=1000,retryAfter=none,only=/resource');
      const writes = emu.store.appliedWrites.length;
      const before = emu.store.faultCounters.throttled;
      const r = await publish(client, req, { journalDir });
      assert.equal(r.status, 'failed', r.message);
      assert.match(r.message, /429|rate|too many/i);
      assert.ok(emu.store.faultCounters.throttled - before > 1, 'the client retried the 429 before giving up');
      assert.equal(emu.store.appliedWrites.length, writes, 'nothing applied');
      assert.deepEqual(r.appliedRanges, []);
      assert.deepEqual(r.uncertainRanges, [], 'a 429 means the server did nothing: the lines are not uncertain');
      assert.doesNotMatch(r.message, /unknown/);
      assert.deepEqual(journalOnDisk(journalDir)?.inFlight, []);

      emu.setFaults(undefined);
      const again = await publish(client, req, { journalDir });
      assert.equal(again.status, 'success', again.message);
      assert.equal(again.created, 6, 'every line sent once, none refused as uncertain');
      assert.equal(await client.count('tree-cnsu', { where: "species like 'Throttled%'" }), 6);
    });
  });
});
