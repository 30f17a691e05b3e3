// Chunked upload of a file to a DSMAPI source: initiate, chunks in parallel (retried: they are idempotent), commit.
import { open } from 'node:fs/promises';
import { backoffDelay, resolvePolicy, sleep } from './retry';
import { followLink, paths } from './dsmapiPaths';
import {
  type DsmapiRequest,
  type DsmapiTransport,
  type Envelope,
  type Source,
  describe,
  isAbort,
  isObject,
  isTransient,
  num,
  RevisionError,
} from './dsmapiTypes';

export interface ChunkedUploadOptions {
  contentType: string;
  signal?: AbortSignal;
  onProgress?: (sent: number, total: number) => void;
  retries?: number;
  backoffMs?: number;
}

/**
 * Chunked upload from disk: initiate → chunk/{seq}/{offset} (in parallel, retried with backoff — chunks
 * are idempotent) → commit. Each of the `parallelism` workers reads its chunks into one buffer of its own, reused
 * from chunk to chunk: only `parallelism` chunks are in memory at a time, and a 4 MiB allocation per chunk (zero-filled,
 * its pages faulted in fresh) cost more CPU than sending the bytes. A buffer is refilled only once the answer to its
 * previous chunk has been read whole, i.e. after the server received that chunk; a retry resends the same bytes.
 */
export async function uploadFileChunked(transport: DsmapiTransport, source: Envelope<Source>, file: string, opts: ChunkedUploadOptions): Promise<void> {
  const sid = source.resource.id;
  const signal = opts.signal;
  const fh = await open(file, 'r');
  try {
    const total = (await fh.stat()).size;
    const init = await transport.request(
      withSignal(
        {
          method: 'POST',
          path: followLink(source.links, ['initiate'], {}, paths.initiate(sid)),
          expect: 'json',
          retry: 'safe',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content_type: opts.contentType }),
        },
        signal,
      ),
    );
    // The platform answers flat `{preferred_chunk_size, preferred_upload_parallelism}` (socrata-py, .NET client).
    const initBody = isObject(init.body) ? init.body : {};
    const chunkSize = Math.floor(num(initBody.preferred_chunk_size)) || 4 * 1024 * 1024;
    const parallelism = Math.min(8, Math.max(1, Math.floor(num(initBody.preferred_upload_parallelism)) || 1));
    const count = Math.max(1, Math.ceil(total / chunkSize));
    let next = 0;
    let sent = 0;
    // Chunks are idempotent: retried on transient failures under the shared policy (full-jitter backoff).
    const policy = resolvePolicy({ maxAttempts: (opts.retries ?? 5) + 1 }, opts.backoffMs === undefined ? undefined : { baseDelayMs: opts.backoffMs });
    const sendChunk = async (seq: number, into: Buffer): Promise<void> => {
      const offset = seq * chunkSize;
      const len = Math.min(chunkSize, total - offset);
      const buf = into.subarray(0, len);
      let read = 0;
      while (read < len) {
        const r = await fh.read(buf, read, len - read, offset + read);
        if (r.bytesRead === 0) {
          throw new RevisionError(`${file}: the file shrank while it was being uploaded (at byte ${offset + read})`, 'invalid-input', 'upload', {
            field: 'file',
          });
        }
        read += r.bytesRead;
      }
      const path = followLink(source.links, ['chunk'], { seq_num: seq, byte_offset: offset }, paths.chunk(sid, seq, offset));
      for (let attempt = 1; ; attempt++) {
        try {
          const req: DsmapiRequest = {
            method: 'POST',
            path,
            expect: 'json',
            retry: 'never',
            headers: { 'content-type': 'application/octet-stream' },
            body: buf,
          };
          if (signal) req.signal = signal;
          await transport.request(req);
          break;
        } catch (e) {
          if (signal?.aborted || isAbort(e) || !isTransient(e) || attempt >= policy.maxAttempts) throw e;
          await sleep(backoffDelay(attempt, policy), signal);
        }
      }
      sent += len;
      opts.onProgress?.(sent, total);
    };
    const worker = async (): Promise<void> => {
      let buf: Buffer | undefined;
      while (next < count) {
        const seq = next++;
        // Not zero-filled: sendChunk overwrites every byte it sends (or throws if the file shrank).
        buf ??= Buffer.allocUnsafeSlow(Math.min(chunkSize, total));
        await sendChunk(seq, buf);
      }
    };
    opts.onProgress?.(0, total);
    const workers = Array.from({ length: Math.min(parallelism, count) }, () => worker());
    const results = await Promise.allSettled(workers);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // Commit: seq_num = last chunk, byte_offset = total bytes (socrata-py). Finishes the upload: never retried.
    const commitPath = followLink(source.links, ['commit'], { seq_num: count - 1, byte_offset: total }, paths.commit(sid, count - 1, total));
    const req: DsmapiRequest = { method: 'POST', path: commitPath, expect: 'json', retry: 'never' };
    if (signal) req.signal = signal;
    try {
      await transport.request(req);
    } catch (e) {
      if (isAbort(e)) throw e;
      throw new RevisionError(`committing the upload of ${file} failed: ${describe(e)}`, 'failed', 'commit', { cause: e, outcome: 'unknown' });
    }
  } finally {
    await fh.close();
  }
}

function withSignal(req: DsmapiRequest, signal: AbortSignal | undefined): DsmapiRequest {
  if (signal) req.signal = signal;
  return req;
}
