// CSV benchmark: csv-parse alone vs our reader vs full validation, and the head preview.
// Default: a 1M-row, 10-column file (~100 MB). `--quick`: 100k rows. `--full`: also a ~1 GB file (10M rows).
// Files are generated once under bench/data (git-ignored) and reused. Each measurement runs in its own process.
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const dataDir = join(__dirname, 'data');
const quick = process.argv.includes('--quick');
const full = process.argv.includes('--full');

/** Deterministic rows: id, name, amount, issued, active, link, location, count, note, stamp (~100 bytes). */
async function generate(path: string, rows: number): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(dataDir, { recursive: true });
  const out = createWriteStream(path + '.tmp');
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const names = ['Oak', 'Maple', 'Birch', 'Cedar', 'Elm', 'Pine', 'Ash', 'Willow'];
  let buf = 'id,name,amount,issued,active,link,location,count,note,stamp\n';
  for (let i = 1; i <= rows; i++) {
    const amount = Math.floor(rnd() * 2_000_000) / 100;
    const amountText = amount >= 1000 ? `"${amount.toLocaleString('en-US', { minimumFractionDigits: 2 })}"` : amount.toFixed(2);
    const d = 1 + Math.floor(rnd() * 28);
    const m = 1 + Math.floor(rnd() * 12);
    const lon = (-88 + rnd()).toFixed(5);
    const lat = (41 + rnd()).toFixed(5);
    const note = i % 10 === 0 ? '"quoted, with comma"' : `n${i % 97}`;
    buf += `R${String(i).padStart(9, '0')},${names[i % 8]} ${i % 1000},${amountText},2024-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')},${i % 3 ? 'true' : 'false'},https://example.org/r/${i},POINT (${lon} ${lat}),${i % 5000},${note},${m}/${d}/2023 ${i % 24}:${String(i % 60).padStart(2, '0')}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise<void>((r) => out.once('finish', () => r()));
  execFileSync('mv', [path + '.tmp', path]);
}

interface Result { mode: string; ms: number; cpuMs: number; maxRssMB: number; [k: string]: unknown }

function measure(mode: string, file: string): Result {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'csv-child.ts'), mode, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Result;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const sets: { label: string; rows: number; runs: number; modes: string[] }[] = quick
    ? [{ label: '100k rows', rows: 100_000, runs: 1, modes: ['parse-stream', 'read', 'validate', 'validate-fast', 'head'] }]
    : [{ label: '1M rows', rows: 1_000_000, runs: 1, modes: ['parse-stream', 'read', 'validate', 'validate-fast', 'head'] }];
  if (full) sets.push({ label: '10M rows', rows: 10_000_000, runs: 1, modes: ['parse-stream', 'validate', 'head'] });
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`machine: ${cpus().length} cores, ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  for (const set of sets) {
    const file = join(dataDir, `csv-${set.rows}.csv`);
    await generate(file, set.rows);
    const size = statSync(file).size;
    console.log(`\n${set.label}, 10 columns, ${(size / 1e6).toFixed(0)} MB (median of ${set.runs} run(s), each in its own process)`);
    console.log('| task | wall (ms) | CPU (ms) | peak RSS (MB) | CPU vs csv-parse | notes |');
    console.log('| --- | ---: | ---: | ---: | ---: | --- |');
    const results = new Map<string, Result[]>();
    for (let run = 0; run < set.runs; run++) {
      for (const mode of set.modes) {
        const list = results.get(mode) ?? [];
        list.push(measure(mode, file));
        results.set(mode, list);
      }
    }
    // CPU time is the fair comparison on a shared machine (wall time includes waiting for a core).
    const base = median((results.get('parse-stream') ?? []).map((r) => r.cpuMs));
    for (const [mode, list] of results) {
      const ms = median(list.map((r) => r.ms));
      const cpu = median(list.map((r) => r.cpuMs));
      const rss = Math.max(...list.map((r) => r.maxRssMB));
      const { mode: _m, ms: _t, cpuMs: _c, maxRssMB: _r, ...extra } = list[0];
      console.log(`| ${mode} | ${ms} | ${cpu} | ${rss} | ${mode === 'head' ? '' : `${(cpu / base).toFixed(2)}×`} | ${JSON.stringify(extra)} |`);
    }
  }
}

void main();
