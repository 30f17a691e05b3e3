// Child process of test/integration/publish-onepass.test.ts: opens a spool, writes a batch into it, prints its path and
// waits to be killed.
import { BatchBuilder, BufferPool } from '../../src/publish/batches';
import { SpoolWriter } from '../../src/publish/spool';

async function main(): Promise<void> {
  const spool = await SpoolWriter.create();
  if (!spool) throw new Error('no spool');
  const builder = new BatchBuilder(10, 1 << 20, '\n', new BufferPool((1 << 20) + 65536, 1));
  builder.add('{"id":"secret-row"}', 2, ['secret-row'], 20);
  const batch = builder.finish(20);
  if (batch) await spool.batch(batch);
  process.stdout.write(`${spool.path}\n`);
  setInterval(() => undefined, 60_000);
}

void main();
