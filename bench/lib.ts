// Shared by the benchmarks: command-line flags, the data folder, and the deterministic 10-column CSV generator
// (the CSV and publish benchmarks measure the same files).
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Generated files live in the OS temp folder, never in the repository (override with BENCH_DATA_DIR). */
export const dataDir = process.env.BENCH_DATA_DIR ?? join(tmpdir(), 'socrata-publisher-bench');

/** `--quick` (100k rows), `--full` (also the ~1.3 GB file), `--runs=N` (default 3). */
export function benchArgs(argv: readonly string[] = process.argv): { quick: boolean; full: boolean; runs: number } {
  const runsArg = argv.find((a) => a.startsWith('--runs='));
  return {
    quick: argv.includes('--quick'),
    full: argv.includes('--full'),
    runs: runsArg ? Math.max(1, Number(runsArg.slice('--runs='.length)) || 1) : 3,
  };
}

/** Deterministic rows: id, name, amount, issued, active, link, location, count, note, stamp (~100 bytes). */
export async function generate(path: string, rows: number): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(dataDir, { recursive: true });
  const out = createWriteStream(`${path}.tmp`);
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
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
  renameSync(`${path}.tmp`, path);
}

/** Runs a bundled benchmark child (`node script ...args`) and parses the JSON its last output line holds. */
export function measure<R>(script: string, args: readonly string[]): R {
  const out = execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as R;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The 1/5/15-minute load averages, for the results tables. */
export const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
