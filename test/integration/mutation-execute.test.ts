// An append (no row identifier: a request is not safe to repeat) at the edges of what the publish does after a
// failure: a batch the server refused is not "unknown" (with or without a journal), and after a lost answer the
// caller's choice to resend sends the uncertain lines again. The mutation run of execute.ts found these branches
// reached by no test that runs in this process.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publish, type PublishRequest } from '../../src/publish';
import { journalOnDisk, withEmulator } from '../lib/publishEmulator';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mutation-execute-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function csvFile(name: string, rows: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `species,diameter_in\n${rows.join('\n')}\n`);
  return path;
}

describe('append: a refused batch is not uncertain', () => {
  // Line 3 alone is over the server's body limit: the server answers 413 and applies nothing of it.
  const rows = ['Oak,10', `Elm ${'x'.repeat(1200)},11`, 'Ash,12'];
  const req = (file: string): PublishRequest => ({ file, dataset: 'tree-cnsu', mode: 'append', batchSize: 1, concurrency: 1 });

  it('without a journal: the publish fails on the 413, names no uncertain line and says nothing of an unknown outcome', async () => {
    await withEmulator(async (_emu, client) => {
      const r = await publish(client, req(csvFile('refused.csv', rows)));
      assert.equal(r.status, 'failed', r.message);
      assert.match(r.message, /413/);
      assert.deepEqual(r.appliedRanges, [[2, 2]]);
      assert.deepEqual(r.uncertainRanges, []);
      assert.doesNotMatch(r.message, /unknown/);
    }, 1000);
  });

  it('with a journal: nothing is left in flight, so publishing again resumes instead of refusing', async () => {
    await withEmulator(async (emu, client) => {
      const file = csvFile('refused-journal.csv', rows);
      const journalDir = join(dir, 'journal-refused');
      const r = await publish(client, req(file), { journalDir });
      assert.equal(r.status, 'failed', r.message);
      assert.deepEqual(r.uncertainRanges, []);
      const saved = journalOnDisk(journalDir);
      assert.deepEqual(saved?.applied, [[2, 2]]);
      assert.deepEqual(saved?.inFlight, [], 'the refused batch is not in flight any more');
      const writes = emu.store.appliedWrites.length;
      const again = await publish(client, req(file), { journalDir });
      assert.equal(again.resume?.status, 'resumed', again.message);
      assert.equal(again.status, 'failed', 'line 3 is still too large');
      assert.equal(emu.store.appliedWrites.length, writes, 'line 2 was not sent again and line 3 was refused again');
    }, 1000);
  });
});

describe('append: a lost answer, then resend', () => {
  it('stop refuses at once; resend sends the uncertain lines again with the rest', async () => {
    await withEmulator(async (emu, client) => {
      const file = join(dir, 'resend.csv');
      writeFileSync(file, `species,diameter_in\n${Array.from({ length: 6 }, (_, i) => `Resent${i},${i}`).join('\n')}\n`);
      const req: PublishRequest = { file, dataset: 'tree-cnsu', mode: 'append', batchSize: 3, concurrency: 1 };
      const journalDir = join(dir, 'journal-resend');
      emu.setFaults('resetAfterApply=1,only=/resource');
      const lost = await publish(client, req, { journalDir });
      assert.deepEqual(lost.uncertainRanges, [[2, 4]]);
      emu.setFaults(undefined);

      const stop = await publish(client, req, { journalDir });
      assert.equal(stop.status, 'refused');
      assert.deepEqual(stop.uncertainRanges, [[2, 4]]);
      assert.ok(stop.elapsedMs >= 0 && stop.elapsedMs < 600_000, `a duration: ${stop.elapsedMs}`);

      const writes = emu.store.appliedWrites.length;
      const resend = await publish(client, req, { journalDir, uncertain: 'resend' });
      assert.equal(resend.status, 'success', resend.message);
      assert.equal(resend.created, 6, 'lines 2–4 were sent again, with lines 5–7');
      assert.equal(emu.store.appliedWrites.length - writes, 2);
      assert.equal(await client.count('tree-cnsu', { where: "species like 'Resent%'" }), 9, 'the first batch twice: the caller chose to resend it');
    });
  });
});
