// Sink-mode body check: JSON.parse (what the sink did before) vs scanJson (test/emulator/jsonscan.ts) on the bodies a
// 1M-row upsert sends: 100 requests of 10 000 rows, each row an object of 10 fields as the client encodes them (~2.8 MB per body).
// `--runs=N` (default 3): the table shows the median time over the 100 bodies for each. Run: npx tsx bench/jsonscan.bench.ts
import { scanJson } from '../test/emulator/jsonscan';
import { benchArgs, load, median } from './lib';

const { runs } = benchArgs();
const BODIES = 100;
const ROWS = 10_000;

/**
 * One body per request, in the form the client encodes the benchmark's CSV (numbers as strings, checkbox as a
 * boolean, url and point as objects, dates as floating timestamps); ids differ between bodies.
 */
function body(k: number): Buffer {
  const names = ['Oak', 'Maple', 'Birch', 'Cedar', 'Elm', 'Pine', 'Ash', 'Willow'];
  const rows: Record<string, unknown>[] = [];
  for (let j = 1; j <= ROWS; j++) {
    const i = k * ROWS + j;
    const m = String(1 + (i % 12)).padStart(2, '0');
    const d = String(1 + (i % 28)).padStart(2, '0');
    rows.push({
      id: `R${String(i).padStart(9, '0')}`,
      name: `${names[i % 8]} ${i % 1000}`,
      amount: (((i * 7919) % 2_000_000) / 100).toFixed(2),
      issued: `2024-${m}-${d}T00:00:00`,
      active: i % 3 !== 0,
      link: { url: `https://example.org/r/${i}` },
      location: { type: 'Point', coordinates: [-87 - ((i * 13) % 100000) / 100000, 41 + ((i * 31) % 100000) / 100000] },
      count: String(i % 5000),
      note: i % 10 === 0 ? 'quoted, with comma' : `n${i % 97}`,
      stamp: `2023-${m}-${d}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`,
    });
  }
  return Buffer.from(JSON.stringify(rows));
}

const bodies = Array.from({ length: BODIES }, (_, k) => body(k));
const bytes = bodies.reduce((s, b) => s + b.length, 0);

function time(check: (b: Buffer) => number): { ms: number; rows: number } {
  const t = process.hrtime.bigint();
  let rows = 0;
  for (const b of bodies) rows += check(b);
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, rows };
}

const tasks: [string, (b: Buffer) => number][] = [
  ['JSON.parse(buf.toString())', (b) => (JSON.parse(b.toString('utf8')) as unknown[]).length],
  [
    'scanJson(buf)',
    (b) => {
      const r = scanJson(b);
      if (!r.ok) throw new Error(r.message);
      return r.elements;
    },
  ],
];
console.log(`${BODIES} bodies, ${(bytes / 1e6).toFixed(1)} MB, ${BODIES * ROWS} rows; load ${load()}; median of ${runs}`);
console.log('| check | ms | MB/s | rows |\n| --- | ---: | ---: | ---: |');
for (const [name, check] of tasks) {
  const results = Array.from({ length: runs }, () => time(check));
  const ms = median(results.map((r) => r.ms));
  console.log(`| ${name} | ${ms.toFixed(0)} | ${(bytes / 1e3 / ms).toFixed(0)} | ${results[0].rows} |`);
}
