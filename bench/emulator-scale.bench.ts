// `npx tsx bench/emulator-scale.bench.ts [--quick] [--datasets=N] [--rows=N]`: how much data the emulator holds and
// how fast it takes it. In one process (run with `node --expose-gc --import tsx` for steady RSS figures), for each of
// N datasets (default 5) it applies a DSMAPI create revision of the benchmark CSV (default 1 000 000 rows; `--quick`:
// 100 000): upload read, types guessed, transforms evaluated, rows stored, timed (wall and this process's CPU) from the
// upload to the finished apply job. Then, on the first dataset, `SELECT count(*)` through the emulator's SoQL engine
// (as the HTTP routes call it) and lookups by `:id`. Prints one line per dataset (rows/s, RSS) and a JSON summary as
// the last line. On a shared machine the rows per CPU second are the steadier figure. `--read-again`: the rows staged
// at commit are dropped before the apply, which then reads the upload's bytes again (the path of any output schema
// other than the guessed one). `--keyed`: each dataset is made first with its `id` column as row identifier, and the
// revision replaces its rows (a keyed write: every row is matched on its key). `--client-types`: the apply is of an
// output schema with the `link` column through `to_url` (guessed text), the rest as guessed: the schema that
// `socrata-publish publish --mode create` sends for the benchmark file (every column set to its inferred type).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorContext } from '../test/emulator/context';
import { dsmapiState } from '../test/emulator/dsmapi/index';
import { addOutputSchema, ingest, newRevision, newUploadSource, startJob } from '../test/emulator/dsmapi/operations';
import { SAMPLE } from '../test/emulator/seed';
import { runQuery } from '../test/emulator/soql';
import { EmulatorStore } from '../test/emulator/store';
import { benchArgs, dataDir, generate, load } from './lib';

const argv = process.argv;
const num = (name: string, dflt: number): number => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const { quick } = benchArgs(argv);
const rows = num('rows', quick ? 100_000 : 1_000_000);
const datasets = num('datasets', quick ? 2 : 5);
const readAgain = argv.includes('--read-again');
const keyed = argv.includes('--keyed');
const clientTypes = argv.includes('--client-types');
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);

async function main(): Promise<void> {
  const file = join(dataDir, `rows-${rows}.csv`);
  await generate(file, rows);
  const store = new EmulatorStore({ seed: 'sample' });
  const st = dsmapiState(store);
  const user = store.getUser(SAMPLE.users.publisher.id);
  if (!user) throw new Error('no sample publisher');
  const ctx = { store } as unknown as EmulatorContext;
  const ids: string[] = [];
  const rates: number[] = [];
  const cpuRates: number[] = [];
  console.log(
    `emulator scale: ${datasets} x ${rows} rows${keyed ? ', keyed' : ''}${readAgain ? ' (read again at the apply)' : ''}${clientTypes ? ', link as url' : ''}, load ${load()}, RSS at start ${mb()} MB`,
  );
  for (let d = 0; d < datasets; d++) {
    const id = keyed
      ? store.createDataset({ name: `scale ${d}`, owner: user.id, columns: [{ name: 'id', fieldName: 'id', dataTypeName: 'text' }], rowIdentifier: 'id' })
      : store.createDataset({ name: `scale ${d}`, owner: user.id, columns: [], publicationStage: 'unpublished' });
    ids.push(id);
    const rev = newRevision(st, id, user, { type: 'replace' }, null, !keyed);
    const src = newUploadSource(st, rev, user, 'rows.csv', {}, 'text/csv');
    let bytes: Buffer | undefined = readFileSync(file);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    ingest(st, store, src, bytes, user);
    bytes = undefined;
    const input = src.schemas[0];
    let out = input?.output_schemas.at(-1);
    if (!input || !out) throw new Error(`upload not parsed: ${JSON.stringify(src.failure_details)}`);
    if (readAgain) {
      input.staged?.rows.drop();
      input.staged = undefined;
    }
    if (clientTypes) {
      const columns = out.output_columns.map((c) => ({
        field_name: c.field_name,
        display_name: c.display_name,
        position: c.position,
        transform: { transform_expr: c.field_name === 'link' ? 'to_url(`link`)' : c.transform.transform_expr },
      }));
      out = addOutputSchema(st, src, input, columns, user, Date.now());
    }
    const job = startJob(ctx, st, rev, { input, out }, user);
    while (job.finished_at === null) await new Promise((r) => setTimeout(r, 5));
    const secs = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    const cpu = (c1.user + c1.system) / 1e6;
    if (job.status !== 'successful') throw new Error(`apply failed: ${JSON.stringify(job.log.at(-1))}`);
    if (store.rowCount(id) !== rows) throw new Error(`expected ${rows} rows, got ${store.rowCount(id)}`);
    gc();
    rates.push(rows / secs);
    cpuRates.push(rows / cpu);
    console.log(
      `dataset ${d + 1}: ${rows} rows applied in ${secs.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU (${Math.round(rows / secs)} rows/s, ` +
        `${Math.round(rows / cpu)} rows per CPU second), RSS ${mb()} MB, load ${load()}`,
    );
  }
  gc();
  const rss = mb();
  const first = ids[0] ?? '';
  const ds = store.getDataset(first);
  if (!ds) throw new Error('no dataset');
  const countMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const res = runQuery(first, ds.columns, store.iterateRows(first), { select: 'count(*)', filters: [] }, () => store.rowCount(first));
    countMs.push(performance.now() - t);
    if (i === 0) console.log(`count(*) answer: ${JSON.stringify(res).slice(0, 120)}`);
  }
  const rowIds: string[] = [];
  let n = 0;
  for (const r of store.iterateRows(first)) if (n++ % Math.floor(rows / 7) === 3) rowIds.push(r.id);
  const byId: number[] = [];
  for (const rid of rowIds) {
    const t = performance.now();
    const r = store.findRow(first, rid);
    byId.push(performance.now() - t);
    if (r?.id !== rid) throw new Error(`lookup of ${rid} failed`);
  }
  const summary = {
    rows,
    datasets,
    applyRowsPerSec: rates.map(Math.round),
    applyRowsPerCpuSec: cpuRates.map(Math.round),
    rssMbAfterAll: rss,
    countMs: countMs.map((x) => Number(x.toFixed(1))),
    lookupByIdMsMax: Number(Math.max(...byId).toFixed(3)),
    load: load(),
  };
  console.log(`RSS after ${datasets * rows} rows: ${rss} MB; count(*) ${summary.countMs.join(' / ')} ms; lookup by :id max ${summary.lookupByIdMsMax} ms`);
  console.log(JSON.stringify(summary));
  store.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
