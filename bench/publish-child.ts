// One measured task of bench/publish.bench.ts, in its own process. Prints one JSON line:
// { mode, ms, cpuMs, maxRssMB, … }.
//   parse <csv>                       csv-parse alone (stream API), the reference
//   publish <csv> <domain> <4x4>      our engine: upsert through /resource (plan with fullScan: false, skipBadRows)
//   baseline <csv> <domain> <4x4>     the DataSync/sodapy-style baseline
//   read-raw <csv>                    reading the file's bytes from disk
//   revision-upload <csv> <domain> <4x4>   the revision route's chunked upload of the raw bytes
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse';
import { publish } from '../src/publish';
import { SodaClient } from '../src/soda';
import { RevisionsClient, transportFromHttp } from '../src/soda/revisions';
import { baselinePublish } from './baseline-datasync';

const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };

/**
 * Waits until the process has used under 10 ms of CPU in 100 ms (at most 3 s). After the first request V8 compiles
 * undici's HTTP parser (WebAssembly) with its optimising compiler in a background thread: ~250 ms of CPU once per
 * process (a long-lived extension host pays it once, at its first request), which would otherwise run during the measured upload,
 * on the cores the emulator needs. Like the process start left out of read-raw, it is not part of moving the bytes; the
 * client CPU column still counts it.
 */
async function settle(): Promise<void> {
  const deadline = performance.now() + 3000;
  for (;;) {
    const before = process.cpuUsage();
    await sleep(100);
    const used = process.cpuUsage(before);
    if (used.user + used.system < 10_000 || performance.now() > deadline) return;
  }
}

async function run(mode: string, args: string[]): Promise<Record<string, unknown>> {
  const [file, domain, id] = args;
  switch (mode) {
    case 'parse': {
      let rows = 0;
      for await (const _ of createReadStream(file).pipe(parse({ relax_column_count: true }))) rows++;
      return { rows: rows - 1 };
    }
    case 'baseline':
      return baselinePublish(file, domain, id);
    case 'read-raw': {
      let bytes = 0;
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) bytes += (chunk as Buffer).length;
      return { bytes };
    }
    case 'publish': {
      const client = new SodaClient({ domain, auth: PUBLISHER });
      const r = await publish(client, { file, dataset: id, mode: 'upsert', fullScan: false, skipBadRows: true });
      await client.close();
      if (r.status !== 'success' && r.status !== 'partial') throw new Error(r.message);
      return { created: r.created, errors: r.errors, requests: r.requestIds.length };
    }
    case 'revision-upload': {
      const client = new SodaClient({ domain, auth: PUBLISHER });
      const rc = new RevisionsClient(transportFromHttp(client.http), { domain: client.domain.host, scheme: client.domain.scheme });
      const rev = await rc.createRevision(id, { action: 'update' });
      const source = await rc.createUploadSource(rev, 'bench.csv');
      await settle();
      const t0 = performance.now();
      let uploadMs = 0;
      let commit = 'ok';
      const ac = new AbortController();
      // Only the byte upload is measured; the emulator parses the whole file when the upload is committed, which
      // says nothing about the client, so the commit is not waited for.
      await rc
        .uploadFileChunked(source, file, {
          contentType: 'text/csv',
          signal: ac.signal,
          onProgress: (sent, total) => {
            if (sent === total && uploadMs === 0) {
              uploadMs = performance.now() - t0;
              ac.abort();
            }
          },
        })
        .catch((e: unknown) => {
          commit = uploadMs > 0 ? 'not awaited' : String(e);
        });
      // Discarding the revision lets the emulator drop the uncommitted chunks; kept, each run would leave ~130 MB behind
      // in the emulator and the next run would pay for fresh memory there.
      await rc.discard(rev.resource.fourfour, rev.resource.revision_seq, rev.links);
      await client.close();
      if (uploadMs === 0) throw new Error(commit);
      return { uploadMs: Math.round(uploadMs), commit };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  const t0 = performance.now();
  const extra = await run(mode ?? '', args);
  const ms = Math.round(performance.now() - t0);
  const ru = process.resourceUsage();
  process.stdout.write(
    `${JSON.stringify({ mode, ms, cpuMs: Math.round((ru.userCPUTime + ru.systemCPUTime) / 1000), maxRssMB: Math.round(ru.maxRSS / 1024), ...extra })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
