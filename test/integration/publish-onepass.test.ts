// The one-pass /resource publish (src/publish/spool.ts): the plan's scan encodes every row once and spools the
// request bodies; execution sends them without reading the CSV again. Against the emulator over loopback HTTP.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCsv } from '../../src/csv';
import { disposePlan, executePublish, planPublish, publish, RowEncoder } from '../../src/publish';
import { type Batch, BatchBuilder, BufferPool } from '../../src/publish/batches';
import type { SodaClient } from '../../src/soda';
import { withEmulator } from '../lib/publishEmulator';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'publish-onepass-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function rowsById(client: SodaClient, id: string): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  for await (const page of client.allRows<Record<string, unknown>>(id, { order: 'line_item' }, { pageSize: 50_000 })) {
    for (const r of page.rows) out.set(String(r.line_item), r);
  }
  return out;
}

const budget = (rows: string[]): string => `line_item,department,amount\n${rows.join('\n')}\n`;

describe('publish: one pass (spooled batches)', () => {
  it('sends what the plan read: the CSV is not read again (a same-size, same-time rewrite is not seen)', async () => {
    await withEmulator(async (_emu, client) => {
      const csv = file('once.csv', budget(['ONE-0001,Parks,10', 'ONE-0002,Fire,20', 'ONE-0003,Police,30']));
      const mtime = new Date('2026-01-02T03:04:05Z');
      utimesSync(csv, mtime, mtime);
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 2 }, { spool: true });
      assert.ok(plan.spool, 'the plan holds a spool');
      if (process.platform !== 'win32') {
        assert.equal(existsSync(plan.spool.path), false, 'the spool has no name in the temp folder: it is read through its open handle');
      }
      assert.equal(JSON.stringify(plan).includes(plan.spool.path), false, 'the spool is not part of the plan as JSON');
      const spoolPath = plan.spool.path;
      // Same size, same modification time, other content: only a second read of the file would see it.
      writeFileSync(csv, budget(['ONE-0001,Parkz,11', 'ONE-0002,Firx,21', 'ONE-0003,Polica,31']));
      utimesSync(csv, mtime, mtime);
      const result = await executePublish(client, plan);
      assert.equal(result.status, 'success', result.message);
      assert.equal(result.created, 3);
      assert.deepEqual(result.appliedRanges, [[2, 4]]);
      const rows = await rowsById(client, 'bdgt-priv');
      assert.equal(rows.get('ONE-0001')?.department, 'Parks');
      assert.equal(rows.get('ONE-0003')?.department, 'Police');
      assert.equal(existsSync(spoolPath), false, 'nothing is left behind');
    });
  });

  it("spools from the file's bytes exactly the bodies the string path builds, through escapes, line breaks, long rows, bad rows and a hand-over", async () => {
    await withEmulator(async (_emu, client) => {
      const rows: string[] = [];
      for (let i = 1; i <= 300; i++) {
        // Every tenth id is one the dataset holds (an update), the rest are new.
        const id = i % 10 === 0 ? `LI-${String(i / 10).padStart(4, '0')}` : `MIX-${String(i).padStart(4, '0')}`;
        const dept = [`Parks ${i}`, '"Parks, ""North"""', '"Fire\nStation"', 'é😀 Ünï', '""', 'a\\b'][i % 6];
        const amount = i % 37 === 0 ? 'ten' : ['"1,234.50"', String(i), '-3.5', ''][i % 4];
        rows.push(`${id},${i === 150 ? 'x'.repeat(70_000) : dept},${amount}`);
        if (i === 100) rows.push('');
        // A closing quote followed by text: from here on the string tokenizer reads the records.
        if (i === 250) rows.push('MIX-REL1,"ab"c,1');
      }
      const csv = file('mixed.csv', budget(rows));
      const request = { file: csv, dataset: 'bdgt-priv', mode: 'upsert' as const, skipBadRows: true, batchSize: 7, batchBytes: 1024 };
      const plan = await planPublish(client, request, { spool: true });
      try {
        assert.ok(plan.spool);
        const describe = (b: Batch): string => `batch ${b.first}-${b.last} [${b.lines.join(',')}] ${b.buf.toString('utf8', 0, b.len)}`;
        const got: string[] = [];
        for await (const r of plan.spool.records(new BufferPool(1024 + 64 * 1024, 2))) {
          got.push(r.kind === 'bad' ? `bad ${r.row.line} ${JSON.stringify(r.row.fields)} ${r.row.message}` : describe(r.batch));
        }
        // The reference: the string records, RowEncoder.encodeText and BatchBuilder.add.
        const expected: string[] = [];
        const encoder = new RowEncoder(plan.columns, plan.dateOrders, plan.file.header.length, 'line_item');
        const builder = new BatchBuilder(7, 1024, '\n', new BufferPool(1024 + 64 * 1024, 2));
        const reader = await openCsv(csv);
        for await (const batch of reader.batches()) {
          for (const rec of batch) {
            const json = encoder.encodeText(rec.fields);
            if (json === undefined) expected.push(`bad ${rec.line} ${JSON.stringify(rec.fields)} ${encoder.lastError.message}`);
            else for (const b of builder.add(json, rec.line, rec.fields, 0) ?? []) expected.push(describe(b));
          }
        }
        const last = builder.finish(0);
        if (last) expected.push(describe(last));
        assert.equal(got.length, expected.length);
        for (let k = 0; k < got.length; k++) assert.equal(got[k], expected[k], `spool record ${k}`);
        assert.ok(got.some((g) => g.includes('"department":"Fire\\nStation"')));
        assert.ok(got.some((g) => g.startsWith('bad ')));
        assert.equal(plan.counts.toUpdate, 30);
      } finally {
        await disposePlan(plan);
      }
    });
  });

  it('a file changed since the plan (other size) is read again instead', async () => {
    await withEmulator(async (_emu, client) => {
      const csv = file('changed.csv', budget(['CHG-0001,Parks,10']));
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' }, { spool: true });
      assert.ok(plan.spool);
      writeFileSync(csv, budget(['CHG-0001,Parks and Recreation,10']));
      const result = await executePublish(client, plan);
      assert.equal(result.status, 'success', result.message);
      assert.equal((await rowsById(client, 'bdgt-priv')).get('CHG-0001')?.department, 'Parks and Recreation');
    });
  });

  it('a file with errors spools nothing and sends nothing; with skipBadRows the bad rows go to the error-rows CSV in order', async () => {
    await withEmulator(async (emu, client) => {
      const text = budget(['BAD-0001,Parks,10', 'BAD-0002,Fire,ten', 'BAD-0003,Police,30', 'BAD-0004,Library,4x', 'BAD-0005,Roads,50']);
      const csv = file('bad.csv', text);
      const blocked = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' }, { spool: true });
      assert.equal(blocked.blocked, true);
      assert.equal(blocked.spool, undefined, 'nothing is spooled for a file that will not be sent');
      const writes = emu.store.appliedWrites.length;
      const refused = await publish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' });
      assert.equal(refused.status, 'refused');
      assert.equal(emu.store.appliedWrites.length, writes, 'nothing written');

      const errorRowsFile = join(dir, 'bad.errors.csv');
      const r = await publish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert', skipBadRows: true, batchSize: 2 }, { errorRowsFile });
      assert.equal(r.status, 'partial', r.message);
      assert.equal(r.created, 3);
      assert.equal(r.errors, 2);
      assert.deepEqual(
        r.rowErrors.map((e) => e.line),
        [3, 5],
      );
      const errorRows = readFileSync(errorRowsFile, 'utf8').trim().split('\n');
      assert.equal(errorRows.length, 3);
      assert.match(errorRows[1] ?? '', /^BAD-0002,Fire,ten,/);
      assert.match(errorRows[2] ?? '', /^BAD-0004,Library,4x,/);
      const rows = await rowsById(client, 'bdgt-priv');
      assert.deepEqual(
        ['BAD-0001', 'BAD-0002', 'BAD-0003', 'BAD-0004', 'BAD-0005'].map((id) => rows.has(id)),
        [true, false, true, false, true],
      );
    });
  });

  it('counts repeated ids exactly (created once, then updated), as the server does', async () => {
    await withEmulator(async (_emu, client) => {
      const csv = file('repeats.csv', budget(['REP-0001,Parks,1', 'REP-0002,Fire,2', 'REP-0001,Parks,3', 'REP-0003,Police,4', 'REP-0001,Parks,5']));
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' }, { spool: true });
      assert.equal(plan.counts.toCreate, 3);
      assert.equal(plan.counts.toUpdate, 2);
      const result = await executePublish(client, plan);
      assert.equal(result.created, 3);
      assert.equal(result.updated, 2);
      assert.equal(Number((await rowsById(client, 'bdgt-priv')).get('REP-0001')?.amount), 5);
    });
  });

  it('a spool that outgrows its bound is given up, and the execution reads the file instead', async () => {
    await withEmulator(async (_emu, client) => {
      const rows = Array.from({ length: 50 }, (_, i) => `BIG-${String(i).padStart(4, '0')},Parks,${i}`);
      const csv = file('bound.csv', budget(rows));
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert', batchSize: 10 }, { spool: { maxBytes: 1500 } });
      assert.equal(plan.spool, undefined);
      assert.equal(plan.counts.toCreate, 50);
      const result = await executePublish(client, plan);
      assert.equal(result.status, 'success', result.message);
      assert.equal(result.created, 50);
      const stored = await rowsById(client, 'bdgt-priv');
      assert.equal(Number(stored.get('BIG-0049')?.amount), 49);
    });
  });

  it(
    'a process killed with its spool open leaves no file behind',
    { skip: process.platform === 'win32' ? 'Windows keeps the name of an open file' : false },
    async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'lib', 'spool-child.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
      const path = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8');
        let out = '';
        child.stdout.on('data', (d: string) => {
          out += d;
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('exit', () => reject(new Error(`the child exited before it opened its spool: ${out}`)));
      });
      assert.match(path, /socrata-publish-\d+-[0-9a-f]+\.spool$/);
      assert.equal(existsSync(path), false, 'unlinked while open');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      assert.equal(
        readdirSync(tmpdir()).some((f) => f.startsWith(`socrata-publish-${child.pid}-`)),
        false,
      );
    },
  );

  it('disposePlan deletes an unsent spool; a dry run leaves none', async () => {
    await withEmulator(async (_emu, client) => {
      const csv = file('dispose.csv', budget(['DSP-0001,Parks,1']));
      const plan = await planPublish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' }, { spool: true });
      const path = plan.spool?.path ?? '';
      assert.ok(path.startsWith(tmpdir()));
      await disposePlan(plan);
      await disposePlan(plan);
      assert.equal(existsSync(path), false);
      const dry = await publish(client, { file: csv, dataset: 'bdgt-priv', mode: 'upsert' }, { dryRun: true });
      assert.equal(dry.status, 'dry-run');
      assert.equal(dry.plan?.spool, undefined);
    });
  });
});
