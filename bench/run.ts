// `npm run bench [-- --quick | --full]`: runs every bench/*.bench.ts file, one after the other, each in its own
// process, forwarding the arguments. Each benchmark prints its own results (and its RESULTS.md lines).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = __dirname;
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(dir, file), ...args.filter((a) => a.startsWith('--'))], { stdio: 'inherit' });
  if (res.status !== 0) {
    failed++;
    console.error(`${file} failed (exit ${res.status ?? res.signal})`);
  }
}
if (files.length === 0) console.log('no bench/*.bench.ts files found');
process.exitCode = failed ? 1 : 0;
