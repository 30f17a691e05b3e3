// Publish benchmark: upsert of a 1M-row, 10-column CSV (~130 MB, the file of bench/csv.bench.ts) to the emulator in
// sink mode (a separate process, so its memory and CPU are not counted in the client's numbers), compared with
// csv-parse alone on the same file, a DataSync/sodapy-style baseline client, and the revision route's raw upload vs
// reading the file from disk. `--quick`: 100k rows. `--full`: also the 10M-row (~1.3 GB) file (ours and csv-parse
// only). `--runs=N` (default 3): every task runs N times, round-robin; the table shows the median wall and CPU time
// and the largest peak RSS. `--only=a,b`: only these tasks (parse, publish, baseline, read-raw, revision-upload). The
// measured child is bundled to plain JavaScript with esbuild first (as in bench/csv.bench.ts), so the TypeScript
// loader's time and memory are not counted against the code under test.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';
import { benchArgs, dataDir, generate, load, measure as measureChild, median } from './lib';

const { quick, full, runs } = benchArgs();
/** `--only=read-raw,revision-upload`: run only these tasks (names as in bench/publish-child.ts). */
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .filter(Boolean);

interface Emu {
  domain: string;
  id: string;
  stats(): Promise<{ requests: number; rows: number; bytes: number; cpuMs: number; maxRssMB: number }>;
  stop(): void;
}

async function startEmu(): Promise<Emu> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'publish-emulator.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = (): Promise<string> => new Promise((r) => waiting.push(r));
  const ready = await next();
  const [, port, id] = ready.split(' ');
  return {
    domain: `127.0.0.1:${port}`,
    id: id ?? '',
    stats: async () => {
      const p = next();
      child.stdin.write('stats\n');
      return JSON.parse((await p).slice(6)) as Awaited<ReturnType<Emu['stats']>>;
    },
    stop: () => child.stdin.end('stop\n'),
  };
}

type Result = { mode: string; ms: number; cpuMs: number; maxRssMB: number; emuCpuMs?: number; note?: string } & Record<string, unknown>;

function bundleChild(): { script: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'publish-bench-'));
  buildSync({
    entryPoints: { 'publish-child': join(__dirname, 'publish-child.ts') },
    bundle: true,
    platform: 'node',
    target: 'node20',
    outdir: dir,
    logLevel: 'warning',
  });
  return { script: join(dir, 'publish-child.js'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function measure(script: string, mode: string, args: string[]): Result {
  return measureChild<Result>(script, [mode, ...args]);
}

async function main(): Promise<void> {
  const sets = [quick ? 100_000 : 1_000_000, ...(full ? [10_000_000] : [])];
  console.log(
    `machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z`,
  );
  const child = bundleChild();
  try {
    for (const rows of sets) {
      const file = join(dataDir, `csv-${rows}.csv`);
      if (rows > 1_000_000 && !existsSync(file)) throw new Error(`${file} is missing: run \`npm run bench -- csv --full\` first (it makes the 10M-row file)`);
      await generate(file, rows);
      const size = statSync(file).size;
      const emu = await startEmu();
      try {
        const all: [string, string][] =
          rows > 1_000_000
            ? [
                ['parse', 'csv-parse alone'],
                ['publish', 'ours: upsert via /resource'],
              ]
            : [
                ['parse', 'csv-parse alone'],
                ['publish', 'ours: upsert via /resource'],
                ['baseline', 'baseline (DataSync/sodapy style)'],
                ['read-raw', 'read the file from disk'],
                ['revision-upload', 'revision route: chunked upload of the raw bytes'],
              ];
        const tasks = all.filter(([mode]) => !only || only.includes(mode));
        const results = new Map<string, Result[]>();
        const loadBefore = load();
        const started = new Date().toISOString().slice(11, 16);
        // Round-robin over the tasks so that a burst of load from elsewhere spreads over all of them.
        for (let run = 0; run < runs; run++) {
          for (const [mode] of tasks) {
            const before = await emu.stats();
            const r = measure(child.script, mode, mode === 'parse' || mode === 'read-raw' ? [file] : [file, emu.domain, emu.id]);
            const after = await emu.stats();
            r.emuCpuMs = after.cpuMs - before.cpuMs;
            if (mode === 'publish' || mode === 'baseline') {
              r.note = `${after.rows - before.rows} rows / ${after.requests - before.requests} requests / ${((after.bytes - before.bytes) / 1e6).toFixed(0)} MB received by the server`;
            }
            if (mode === 'revision-upload') r.ms = Number(r.uploadMs);
            if (mode === 'parse') r.note = `${String(r.rows)} rows`;
            (results.get(mode) ?? results.set(mode, []).get(mode))?.push(r);
          }
        }
        console.log(
          `\n${rows} rows, 10 columns, ${(size / 1e6).toFixed(0)} MB; emulator in sink mode in its own process; median of ${runs} run(s), started ${started} UTC; load average (1/5/15 min) ${loadBefore} before, ${load()} after`,
        );
        console.log(
          '| task | wall (ms) | client CPU (ms) | client peak RSS (MB) | emulator CPU (ms) | wall vs csv-parse | client CPU vs csv-parse | notes (wall of each run) |',
        );
        console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
        const base = results.get('parse') ?? [];
        const baseMs = median(base.map((r) => r.ms));
        const baseCpu = median(base.map((r) => r.cpuMs));
        const rawMs = median((results.get('read-raw') ?? []).map((r) => r.ms));
        for (const [mode, label] of tasks) {
          const list = results.get(mode) ?? [];
          const ms = median(list.map((r) => r.ms));
          const cpuMs = median(list.map((r) => r.cpuMs));
          const emuCpu = mode === 'publish' || mode === 'baseline' ? String(median(list.map((r) => r.emuCpuMs ?? 0))) : '';
          const rss = Math.max(...list.map((r) => r.maxRssMB));
          const walls = list.map((r) => r.ms).join(', ');
          let note = list[0]?.note ?? '';
          if (mode === 'read-raw') note = `${(size / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
          if (mode === 'revision-upload') {
            note = `${(size / 1e6 / (ms / 1000)).toFixed(0)} MB/s = ${((rawMs / ms) * 100).toFixed(0)}% of the disk read speed (bytes only, commit not awaited)`;
          }
          const ratios = mode === 'read-raw' || mode === 'revision-upload' ? '| |' : `| ${(ms / baseMs).toFixed(2)}× | ${(cpuMs / baseCpu).toFixed(2)}× |`;
          console.log(`| ${label} | ${ms} | ${cpuMs} | ${rss} | ${emuCpu} ${ratios} ${note} (${walls}) |`);
        }
        const ours = median((results.get('publish') ?? []).map((r) => r.ms));
        const baseline = results.get('baseline');
        if (baseline) console.log(`ours vs baseline: ${(median(baseline.map((r) => r.ms)) / ours).toFixed(2)}× faster (median wall)`);
      } finally {
        emu.stop();
      }
    }
  } finally {
    child.cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
