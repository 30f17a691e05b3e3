// Baseline client written the way DataSync (SODA2 transport) and sodapy publish: parse the whole CSV with csv-parse,
// build 10 000-row batches of row objects (empty cells left out), JSON.stringify each batch and POST it, one request
// at a time. No type conversion (DataSync sends the text of each cell), no progress, no journal.
// Usage: tsx bench/baseline-datasync.ts <csv> <domain> <4x4>   (prints one JSON line with the totals)
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { request } from 'undici';

export async function baselinePublish(file: string, domain: string, id: string): Promise<{ rows: number; created: number }> {
  const auth = `Basic ${Buffer.from('publisher@example.org:publish-me').toString('base64')}`;
  const url = new URL(`/resource/${id}.json`, `http://${domain}`);
  const parser = createReadStream(file).pipe(parse({ relax_column_count: true }));
  let header: string[] | undefined;
  let batch: Record<string, string>[] = [];
  let rows = 0;
  let created = 0;
  const send = async (): Promise<void> => {
    const res = await request(url, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    const body = (await res.body.json()) as Record<string, number>;
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    created += body['Rows Created'] ?? 0;
    batch = [];
  };
  for await (const record of parser as AsyncIterable<string[]>) {
    if (!header) {
      header = record;
      continue;
    }
    const row: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) if (record[i] !== '' && record[i] !== undefined) row[header[i]] = record[i];
    batch.push(row);
    rows++;
    if (batch.length === 10_000) await send();
  }
  if (batch.length) await send();
  return { rows, created };
}

// (Also bundled into bench/publish-child.ts, where this module is not the entry point.)
if (require.main === module && /baseline-datasync\.[jt]s$/.test(process.argv[1] ?? '')) {
  const [file, domain, id] = process.argv.slice(2);
  if (!file || !domain || !id) throw new Error('usage: baseline-datasync <csv> <domain> <4x4>');
  baselinePublish(file, domain, id).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
