// The revision route's chunked upload, byte for byte: each worker reuses one buffer for its chunks, so what the
// server holds must still be exactly the file (the short last chunk, a retried chunk, several chunks per worker), and
// a discarded revision drops the chunks of its uncommitted upload.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SodaError } from '../../src/soda/errors';
import { SodaHttp } from '../../src/soda/http';
import { RevisionsClient, transportFromHttp, type Envelope, type Revision, type Source } from '../../src/soda/revisions';
import { configureDsmapi, dsmapiState, failChunkOnce } from '../emulator/dsmapi/index';
import { startEmulator } from '../emulator/index';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;

const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };

describe('DSMAPI chunked upload (client + emulator)', () => {
  let emu: Emulator;
  let http: SodaHttp;
  let client: RevisionsClient;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revisions-upload-'));
    emu = await startEmulator({ port: 0, seed: 'sample' });
    http = new SodaHttp({ domain: emu.domain, auth: PUBLISHER });
    client = new RevisionsClient(transportFromHttp(http), { domain: emu.domain, scheme: 'http' });
  });

  after(async () => {
    await http.close();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Uploads `bytes` but stops before the commit (as a cancel right after the last chunk does); returns what the server holds. */
  async function uploadWithoutCommit(bytes: Buffer): Promise<{ rev: Envelope<Revision>; source: Envelope<Source>; held: Buffer; progress: number[] }> {
    const path = join(dir, `upload-${bytes.length}.bin`);
    writeFileSync(path, bytes);
    const rev = await client.createRevision('bdgt-priv', { action: 'update' });
    const source = await client.createUploadSource(rev, 'upload.csv');
    const ac = new AbortController();
    const progress: number[] = [];
    const err = await client
      .uploadFileChunked(source, path, {
        contentType: 'text/csv',
        signal: ac.signal,
        backoffMs: 1,
        onProgress: (sent, total) => {
          progress.push(sent);
          if (sent === total) ac.abort();
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof SodaError && err.kind === 'cancelled', `the commit was cancelled (got ${String(err)})`);
    const src = dsmapiState(emu.store).sources.get(source.resource.id);
    assert.ok(src, 'the source exists');
    const ordered = [...src.chunks.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => Buffer.concat(c.parts));
    return { rev, source, held: Buffer.concat(ordered), progress };
  }

  it('the server holds exactly the file: several chunks per worker, a short last chunk, a retried chunk', async () => {
    configureDsmapi(emu.store, { preferredChunkSize: 1000, preferredParallelism: 3 });
    try {
      const bytes = randomBytes(17 * 1000 + 123);
      failChunkOnce(emu.store, 7);
      const { rev, held, progress } = await uploadWithoutCommit(bytes);
      assert.equal(dsmapiState(emu.store).failChunksOnce.size, 0, 'the injected failure happened');
      assert.equal(held.length, bytes.length);
      assert.ok(held.equals(bytes), 'the bytes the server holds are the file');
      assert.equal(progress[0], 0);
      assert.equal(progress.at(-1), bytes.length);
      assert.equal(progress.length, 1 + 18, 'one progress report per chunk');
      await client.discard(rev.resource.fourfour, rev.resource.revision_seq, rev.links);
    } finally {
      configureDsmapi(emu.store, { preferredChunkSize: 4 * 1024 * 1024, preferredParallelism: 4 });
    }
  });

  it('a file smaller than one chunk is one chunk of its own size', async () => {
    const bytes = randomBytes(5000);
    const { rev, held } = await uploadWithoutCommit(bytes);
    assert.ok(held.equals(bytes));
    await client.discard(rev.resource.fourfour, rev.resource.revision_seq, rev.links);
  });

  it('discarding the revision drops the chunks of an uncommitted upload; its commit is then refused', async () => {
    configureDsmapi(emu.store, { preferredChunkSize: 1024, preferredParallelism: 2 });
    try {
      const bytes = randomBytes(4 * 1024);
      const { rev, source, held } = await uploadWithoutCommit(bytes);
      assert.equal(held.length, bytes.length);
      await client.discard(rev.resource.fourfour, rev.resource.revision_seq, rev.links);
      assert.equal(dsmapiState(emu.store).sources.get(source.resource.id)?.chunks.size, 0, 'no chunk left after the discard');
      const res = await http.request({
        method: 'POST',
        path: `/api/publishing/v1/source/${source.resource.id}/chunk/3/${bytes.length}/commit`,
        expect: 'text',
        acceptStatus: [400],
      });
      assert.equal(res.status, 400);
      assert.match(res.body, /revision_closed/);
    } finally {
      configureDsmapi(emu.store, { preferredChunkSize: 4 * 1024 * 1024, preferredParallelism: 4 });
    }
  });
});
