// Child process for bench/publish.bench.ts: the emulator in sink mode (upserts are counted, not stored) with a
// 10-column dataset matching the bench file. Prints `READY <port> <4x4>`, then `STATS {…}` on each "stats" line read
// from stdin, and exits on "stop".
import { createInterface } from 'node:readline';
import { startEmulator } from '../test/emulator/index';

async function main(): Promise<void> {
  const emu = await startEmulator({ port: 0, seed: 'sample', sink: true });
  const id = emu.store.createDataset({
    id: 'bnch-mark',
    name: 'Bench',
    owner: 'pub1-usr1',
    rowIdentifier: 'id',
    columns: [
      { name: 'id', dataTypeName: 'text' },
      { name: 'name', dataTypeName: 'text' },
      { name: 'amount', dataTypeName: 'number' },
      { name: 'issued', dataTypeName: 'calendar_date' },
      { name: 'active', dataTypeName: 'checkbox' },
      { name: 'link', dataTypeName: 'url' },
      { name: 'location', dataTypeName: 'point' },
      { name: 'count', dataTypeName: 'number' },
      { name: 'note', dataTypeName: 'text' },
      { name: 'stamp', dataTypeName: 'calendar_date' },
    ],
  });
  process.stdout.write(`READY ${emu.port} ${id}\n`);
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line === 'stats') {
      const ru = process.resourceUsage();
      process.stdout.write(
        `STATS ${JSON.stringify({ ...emu.store.sinkCounters, cpuMs: Math.round((ru.userCPUTime + ru.systemCPUTime) / 1000), maxRssMB: Math.round(ru.maxRSS / 1024) })}\n`,
      );
    } else if (line === 'stop') break;
  }
  await emu.stop();
  process.exit(0);
}

void main();
