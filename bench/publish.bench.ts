// Publish benchmark: upsert of a 1M-row, 10-column CSV (~130 MB, the file of bench/csv.bench.ts) to the emulator in
// sink mode (a separate process, so its memory and CPU are not counted in the client's numbers), compared with
// csv-parse alone on the same file, a DataSync/sodapy-style baseline client, and the revision route's raw upload vs
// reading the file from disk. `--quick`: 100k rows. `--full`: also the 10M-row (~1.3 GB) file.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const dataDir = join(__dirname, 'data');
const quick = process.argv.includes('--quick');
const full = process.argv.includes('--full');

/** Same generator and file names as bench/csv.bench.ts (files are shared). */
async function generate(path: string, rows: number): Promise<void> {
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

type Result = { mode: string; ms: number; cpuMs: number; maxRssMB: number } & Record<string, unknown>;

function measure(mode: string, args: string[]): Result {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'publish-child.ts'), mode, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Result;
}

async function main(): Promise<void> {
  const sets = [quick ? 100_000 : 1_000_000, ...(full ? [10_000_000] : [])];
  console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const rows of sets) {
    const file = join(dataDir, `csv-${rows}.csv`);
    await generate(file, rows);
    const size = statSync(file).size;
    const emu = await startEmu();
    try {
      console.log(`\n${rows} rows, 10 columns, ${(size / 1e6).toFixed(0)} MB; emulator in sink mode in its own process`);
      console.log('| task | wall (ms) | client CPU (ms) | client peak RSS (MB) | emulator CPU (ms) | vs csv-parse (wall) | notes |');
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
      const parseR = measure('parse', [file]);
      const line = (label: string, r: Result, emuCpu: number | undefined, note: string): void => {
        console.log(`| ${label} | ${r.ms} | ${r.cpuMs} | ${r.maxRssMB} | ${emuCpu ?? ''} | ${(r.ms / parseR.ms).toFixed(2)}× | ${note} |`);
      };
      line('csv-parse alone', parseR, undefined, `${String(parseR.rows)} rows`);
      const modes: [string, string][] = rows > 1_000_000 ? [['publish', 'ours: upsert via /resource']] : [['publish', 'ours: upsert via /resource'], ['baseline', 'baseline (DataSync/sodapy style)']];
      for (const [mode, label] of modes) {
        const before = await emu.stats();
        const r = measure(mode, [file, emu.domain, emu.id]);
        const after = await emu.stats();
        line(label, r, after.cpuMs - before.cpuMs, `${after.rows - before.rows} rows / ${after.requests - before.requests} requests / ${((after.bytes - before.bytes) / 1e6).toFixed(0)} MB received by the server`);
      }
      if (rows <= 1_000_000) {
        const raw = measure('read-raw', [file]);
        const up = measure('revision-upload', [file, emu.domain, emu.id]);
        const uploadMs = Number(up.uploadMs);
        console.log(`| read the file from disk | ${raw.ms} | ${raw.cpuMs} | ${raw.maxRssMB} | | | ${(size / 1e6 / (raw.ms / 1000)).toFixed(0)} MB/s |`);
        console.log(`| revision route: chunked upload of the raw bytes | ${uploadMs} | ${up.cpuMs} | ${up.maxRssMB} | | | ${(size / 1e6 / (uploadMs / 1000)).toFixed(0)} MB/s = ${((raw.ms / uploadMs) * 100).toFixed(0)}% of the disk read speed |`);
      }
    } finally {
      emu.stop();
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
