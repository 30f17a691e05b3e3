// Peers benchmark: our CLI against the Python scripts publishers use today (bench/peers/), the same file, the same
// emulator (sink mode: upserts are checked and counted, not stored), in pairs A B A B. Every command is a whole
// process timed from outside by bench/peers/timed.py (wall clock; user + system CPU and peak RSS as the operating
// system accounted them when the process was reaped): start-up included, for ours and for Python alike.
//
//   npm run bench -- peers [--quick …], or npx tsx bench/peers.bench.ts [--quick] [--runs=N] [--only=upsert,upsert-requests,delete,sync,create,create-raw] [--rows=N] [--create-rows=N]
//
// --quick: 100k rows (default 1M). --runs: pairs per comparison (default 5). The table gives medians, and the median
// of the per-pair ratios (pairing keeps a ratio meaningful while the machine's speed drifts). The create comparison
// uses --create-rows (default 100k): both clients then wait for the emulator to apply the revision, which is the
// server's time, not theirs. Ours runs it with --skip-bad-rows: the emulator's to_number and to_floating_timestamp
// refuse the file's grouped numbers (`1,234.56`) and US date-times, which our client types as number and date.
// `create-raw` sets our create against a raw chunked upload of the same bytes in the same steps through the same HTTP
// client (bench/revision-raw.ts, no plan): the yardstick of the revision route's client CPU.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';
import { benchArgs, dataDir, generate, load, median } from './lib';

const { quick, runs: runsArg } = benchArgs();
const runs = process.argv.some((a) => a.startsWith('--runs=')) ? runsArg : 5;
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .filter(Boolean);
const rowsArg = process.argv.find((a) => a.startsWith('--rows='));
const rows = rowsArg ? Number(rowsArg.slice('--rows='.length)) : quick ? 100_000 : 1_000_000;
const createRowsArg = process.argv.find((a) => a.startsWith('--create-rows='));
const createRows = createRowsArg ? Number(createRowsArg.slice('--create-rows='.length)) : quick ? 10_000 : 100_000;
const python = process.env.PYTHON ?? 'python3';
const peers = join(__dirname, 'peers');

interface Timing {
  exit: number;
  wall: number;
  cpu: number;
  peakMB: number;
}

/** Runs one command under timed.py; its own output is kept for the failure message. */
function timed(cmd: string[], env: NodeJS.ProcessEnv, partial?: RegExp): Timing {
  const res = spawnSync(python, [join(peers, 'timed.py'), ...cmd], { encoding: 'utf8', env, maxBuffer: 16 << 20 });
  const last = res.stdout.trim().split('\n').at(-1) ?? '';
  const t = JSON.parse(last || '{"exit":-1}') as Timing;
  // A publish that left rows out exits 1; where that is expected (`partial`), its output must say what it did.
  if (t.exit !== 0 && !(t.exit === 1 && partial?.test(res.stderr))) throw new Error(`${cmd.join(' ')} failed (exit ${t.exit}):\n${res.stderr.slice(-2000)}`);
  return t;
}

async function startEmu(): Promise<{ domain: string; id: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'publish-emulator.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((r) => createInterface({ input: child.stdout }).once('line', r));
  const [, port, id] = first.split(' ');
  return { domain: `127.0.0.1:${port}`, id: id ?? '', stop: () => child.stdin.end('stop\n') };
}

const fmt = (n: number, d = 1): string => n.toFixed(d);

async function main(): Promise<void> {
  if (spawnSync(python, ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log(`peers: skipped, ${python} was not found (set PYTHON to a Python 3 interpreter)`);
    return;
  }
  const file = join(dataDir, `csv-${rows}.csv`);
  await generate(file, rows);
  const sizeMB = statSync(file).size / 1e6;
  const createFile = join(dataDir, `csv-${createRows}.csv`);
  await generate(createFile, createRows);
  const dir = mkdtempSync(join(tmpdir(), 'peers-bench-'));
  buildSync({
    entryPoints: { cli: join(__dirname, '..', 'src', 'cli.ts'), 'revision-raw': join(__dirname, 'revision-raw.ts') },
    bundle: true,
    platform: 'node',
    target: 'node20',
    outdir: dir,
    logLevel: 'warning',
  });
  const cli = join(dir, 'cli.js');
  const raw = join(dir, 'revision-raw.js');
  const emu = await startEmu();
  const env = { ...process.env, SOCRATA_USERNAME: 'publisher@example.org', SOCRATA_PASSWORD: 'publish-me' };
  const journal = join(dir, 'journal');
  // The same create, measured against two yardsticks.
  const oursCreate = [
    process.execPath,
    cli,
    'publish',
    createFile,
    '--domain',
    emu.domain,
    '--new-name',
    'Bench ours',
    '--mode',
    'create',
    '--skip-bad-rows',
    '--journal-dir',
    journal,
  ];
  const comparisons: { name: string; ours: string[]; peer: string[]; label: string; partial?: RegExp }[] = [
    {
      name: 'upsert',
      label: 'upsert via /resource vs Python (csv.DictReader, json.dumps, http.client, 10,000-row POSTs)',
      ours: [process.execPath, cli, 'publish', file, '--domain', emu.domain, '--dataset', emu.id, '--mode', 'upsert', '--journal-dir', journal],
      peer: [python, join(peers, 'upsert.py'), file, emu.domain, emu.id],
    },
    {
      name: 'upsert-requests',
      label: 'upsert via /resource vs Python with requests.Session (as sodapy sends)',
      ours: [process.execPath, cli, 'publish', file, '--domain', emu.domain, '--dataset', emu.id, '--mode', 'upsert', '--journal-dir', journal],
      peer: [python, join(peers, 'upsert.py'), file, emu.domain, emu.id, '--requests'],
    },
    {
      name: 'delete',
      label: 'delete the listed rows via /resource vs the same Python script sending {id, ":deleted": true} rows',
      ours: [process.execPath, cli, 'publish', file, '--domain', emu.domain, '--dataset', emu.id, '--mode', 'delete', '--journal-dir', journal],
      peer: [python, join(peers, 'upsert.py'), file, emu.domain, emu.id, '--delete=id'],
    },
    {
      name: 'sync',
      label: 'sync via /resource vs the same Python script reading the remote ids first, then upserting, then deleting the ids absent from the file',
      ours: [process.execPath, cli, 'publish', file, '--domain', emu.domain, '--dataset', emu.id, '--mode', 'sync', '--journal-dir', journal],
      peer: [python, join(peers, 'upsert.py'), file, emu.domain, emu.id, '--sync=id'],
    },
    {
      name: 'create',
      label: 'create through a revision vs Python in socrata-py steps (chunked upload, apply, poll)',
      ours: oursCreate,
      peer: [python, join(peers, 'create.py'), createFile, emu.domain, 'Bench peer'],
      partial: /Created dataset [a-z0-9]{4}-[a-z0-9]{4} with \d+ rows/,
    },
    {
      name: 'create-raw',
      label: 'create through a revision vs a raw chunked upload of the same bytes in the same steps (bench/revision-raw.ts)',
      ours: oursCreate,
      peer: [process.execPath, raw, createFile, emu.domain, 'Bench raw'],
      partial: /Created dataset [a-z0-9]{4}-[a-z0-9]{4} with \d+ rows/,
    },
  ];
  const hasRequests = spawnSync(python, ['-c', 'import requests'], { stdio: 'ignore' }).status === 0;
  console.log(
    `machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${spawnSync(python, ['--version'], { encoding: 'utf8' }).stdout.trim()}, ${new Date().toISOString().slice(0, 16)}Z`,
  );
  console.log(`file: ${rows} rows, ${fmt(sizeMB, 0)} MB (create: ${createRows} rows); ${runs} pairs per comparison, A (ours) B (peer) A B ...\n`);
  console.log(
    '| comparison | load before | load after | ours wall (s) | peer wall (s) | wall ratio | ours CPU (s) | peer CPU (s) | CPU ratio | ours peak (MB) | peer peak (MB) |',
  );
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  try {
    for (const c of comparisons) {
      if (only && !only.includes(c.name)) continue;
      if (c.name === 'upsert-requests' && !hasRequests) {
        console.log(`| ${c.name} | skipped: the requests package is not installed | | | | | | | | | |`);
        continue;
      }
      const before = load();
      // One unmeasured pair first (page cache, the emulator's warm-up).
      timed(c.ours, env, c.partial);
      timed(c.peer, env);
      const a: Timing[] = [];
      const b: Timing[] = [];
      for (let i = 0; i < runs; i++) {
        a.push(timed(c.ours, env, c.partial));
        b.push(timed(c.peer, env));
      }
      const m = (xs: Timing[], k: keyof Timing): number => median(xs.map((x) => x[k]));
      const ratio = (k: keyof Timing): number => median(a.map((x, i) => x[k] / (b[i]?.[k] ?? NaN)));
      console.log(
        `| ${c.name} | ${before} | ${load()} | ${fmt(m(a, 'wall'), 2)} | ${fmt(m(b, 'wall'), 2)} | ${fmt(ratio('wall'), 2)}× | ${fmt(m(a, 'cpu'), 2)} | ${fmt(m(b, 'cpu'), 2)} | ${fmt(ratio('cpu'), 2)}× | ${fmt(Math.max(...a.map((x) => x.peakMB)), 0)} | ${fmt(Math.max(...b.map((x) => x.peakMB)), 0)} |`,
      );
      console.log(`<!-- ${c.label}; ours wall ${a.map((x) => x.wall).join(', ')}; peer wall ${b.map((x) => x.wall).join(', ')} -->`);
    }
  } finally {
    emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
