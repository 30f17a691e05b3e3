// CSV benchmark: csv-parse alone vs our reader vs full validation, and the head preview.
// Default: a 1M-row, 10-column file (~130 MB). `--quick`: 100k rows. `--full`: also a ~1.3 GB file (10M rows).
// `--runs=N` (default 3): each task runs N times, the table shows the median wall and CPU time and the largest RSS.
// Files are generated once in the OS temp folder (bench/lib.ts) and reused. Each measurement runs in its own process, on
// the child script bundled to plain JavaScript with esbuild first, so that neither the TypeScript loader's time nor
// its memory (about 80 MB of RSS) is counted against the code under test.
import { execFileSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { benchArgs, dataDir, generate, load, measure as measureChild, median } from './lib';

const { quick, full, runs } = benchArgs();

/**
 * A 10M-row file is ten copies of the 1M-row file's data rows: copy k changes the first letter of every id (`R`, `S`,
 * `T`, …) so the ids stay unique. Much faster than generating 10M rows one by one; the bytes per row are the same.
 */
async function replicate(path: string, rows: number): Promise<void> {
  if (existsSync(path)) return;
  const unit = 1_000_000;
  const source = join(dataDir, `csv-${unit}.csv`);
  await generate(source, unit);
  const out = openSync(path + '.tmp', 'w');
  try {
    for (let copy = 0; copy < rows / unit; copy++) {
      const letter = 0x52 + copy; // 'R' + copy
      let atLineStart = false;
      let headerDone = false;
      for await (const chunk of createReadStream(source, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) {
        let from = 0;
        if (!headerDone) {
          const nl = chunk.indexOf(10);
          if (copy === 0) writeSync(out, chunk, 0, nl + 1);
          from = nl + 1;
          headerDone = true;
          atLineStart = true;
        }
        if (atLineStart && from < chunk.length) chunk[from] = letter;
        for (let nl = chunk.indexOf(10, from); nl !== -1 && nl + 1 < chunk.length; nl = chunk.indexOf(10, nl + 1)) chunk[nl + 1] = letter;
        atLineStart = chunk[chunk.length - 1] === 10;
        writeSync(out, chunk, from, chunk.length - from);
      }
    }
  } finally {
    closeSync(out);
  }
  execFileSync('mv', [path + '.tmp', path]);
}

interface Result {
  mode: string;
  ms: number;
  cpuMs: number;
  maxRssMB: number;
  [k: string]: unknown;
}

function bundleChild(): { script: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'csv-bench-'));
  const script = join(dir, 'csv-child.js');
  // The child and the validation worker's script side by side, as in the extension's dist/ folder.
  buildSync({
    entryPoints: { 'csv-child': join(__dirname, 'csv-child.ts'), 'worker-entry': join(__dirname, '..', 'src', 'csv', 'worker-entry.ts') },
    bundle: true,
    platform: 'node',
    target: 'node20',
    outdir: dir,
    logLevel: 'warning',
  });
  return { script, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function measure(script: string, mode: string, file: string): Result {
  return measureChild<Result>(script, [mode, file]);
}

async function main(): Promise<void> {
  const modes = ['parse-stream', 'read', 'read-csv-parse', 'validate', 'validate-1t', 'validate-fast', 'head'];
  const sets: { label: string; rows: number; modes: string[] }[] = quick
    ? [{ label: '100k rows', rows: 100_000, modes }]
    : [{ label: '1M rows', rows: 1_000_000, modes }];
  if (full) sets.push({ label: '10M rows', rows: 10_000_000, modes: ['parse-stream', 'validate', 'head'] });
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `machine: ${cpus().length} cores, ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z`,
  );
  const child = bundleChild();
  try {
    for (const set of sets) {
      const file = join(dataDir, `csv-${set.rows}.csv`);
      await (set.rows > 1_000_000 ? replicate(file, set.rows) : generate(file, set.rows));
      const size = statSync(file).size;
      const loadBefore = load();
      const results = new Map<string, Result[]>();
      // Round-robin over the tasks so that a burst of load from elsewhere spreads over all of them.
      for (let run = 0; run < runs; run++) {
        for (const mode of set.modes) {
          const list = results.get(mode) ?? [];
          list.push(measure(child.script, mode, file));
          results.set(mode, list);
        }
      }
      console.log(
        `\n${set.label}, 10 columns, ${(size / 1e6).toFixed(0)} MB; median of ${runs} run(s), each in its own process; load average (1/5/15 min) ${loadBefore} before, ${load()} after`,
      );
      console.log('| task | wall (ms) | CPU (ms) | peak RSS (MB) | wall vs csv-parse | CPU vs csv-parse | notes |');
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
      const baseMs = median((results.get('parse-stream') ?? []).map((r) => r.ms));
      const baseCpu = median((results.get('parse-stream') ?? []).map((r) => r.cpuMs));
      for (const [mode, list] of results) {
        const ms = median(list.map((r) => r.ms));
        const cpuMs = median(list.map((r) => r.cpuMs));
        const rss = Math.max(...list.map((r) => r.maxRssMB));
        const { mode: _m, ms: _t, cpuMs: _c, maxRssMB: _r, ...extra } = list[0];
        const ratio = (x: number, base: number): string => (mode === 'head' ? '' : `${(x / base).toFixed(2)}×`);
        console.log(
          `| ${mode} | ${ms} | ${cpuMs} | ${rss} | ${ratio(ms, baseMs)} | ${ratio(cpuMs, baseCpu)} | ${JSON.stringify(extra)} (wall: ${list.map((r) => r.ms).join(', ')}) |`,
        );
      }
    }
  } finally {
    child.cleanup();
  }
}

void main();
