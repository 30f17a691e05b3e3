// The yardstick of the revision route's client CPU (bench/peers.bench.ts, comparison `create-raw`): a raw chunked
// upload of the file's bytes in the same DSMAPI steps, through the same HTTP client, with nothing else — no plan, no
// header check, no column plan: create the revision, its upload source, the chunks, wait for the output schema,
// apply, wait for the job (RevisionRunner.createDataset with only a name).
//
//   node revision-raw.js <csv> <host:port> <name>      (SOCRATA_USERNAME / SOCRATA_PASSWORD; plain http on loopback)
// Prints one JSON line: {"fourfour": ..., "created": ...}.
import { SodaClient } from '../src/soda';
import { RevisionRunner, RevisionsClient, transportFromHttp } from '../src/soda/revisions';

async function main(): Promise<void> {
  const [file, domain, name] = process.argv.slice(2);
  if (!file || !domain || !name) throw new Error('usage: revision-raw <csv> <host:port> <name>');
  const client = new SodaClient({
    domain,
    auth: { type: 'basic', email: process.env.SOCRATA_USERNAME ?? 'publisher@example.org', password: process.env.SOCRATA_PASSWORD ?? 'publish-me' },
  });
  try {
    const rc = new RevisionsClient(transportFromHttp(client.http), { domain: client.domain.host, scheme: client.domain.scheme });
    const outcome = await new RevisionRunner(rc).createDataset({ file, metadata: { name } });
    if (outcome.status !== 'successful') throw new Error(`the revision ended ${outcome.status}`);
    process.stdout.write(`${JSON.stringify({ fourfour: outcome.fourfour, created: outcome.counts.created })}\n`);
  } finally {
    await client.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
