// Bodies for the HTTP gateway (http.ts): request bodies sent once per attempt, and response bodies read under a
// size cap (whole into memory, or as a stream stopped at the cap).
import { Readable, Transform } from 'node:stream';
import { SodaError } from './errors';
import type { BodySource, RequestBody } from './httpTypes';

const MiB = 1024 * 1024;

/** Whether every attempt can send the body again (a stream can be sent only once, unless a function makes it anew). */
export function isReplayable(body: RequestBody | undefined): boolean {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array || typeof body === 'function';
}

/** The body of one attempt, as undici takes it. */
export function attemptBody(body: RequestBody | undefined): string | Uint8Array | Readable | null {
  const source: BodySource | undefined = typeof body === 'function' ? body() : body;
  if (source === undefined) return null;
  if (typeof source === 'string' || source instanceof Uint8Array || source instanceof Readable) return source;
  return Readable.from(source as AsyncIterable<Uint8Array | string>, { objectMode: false });
}

/** Lower-case header names; repeated headers joined with ", ". */
export function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** A response body over its cap (turned into a protocol error naming the limit by the gateway). */
export class BodyTooLarge extends Error {}

/** The whole body, or BodyTooLarge as soon as it passes `cap` bytes (the rest is not read). */
export async function readCapped(body: AsyncIterable<Buffer> & { destroy?(e?: Error): void }, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > cap) {
      body.destroy?.();
      throw new BodyTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** `source` passed through, failing with a protocol error once more than `cap` bytes came. */
export function cappedStream(source: Readable, cap: number, host: string, requestId: string): Readable {
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > cap) {
        cb(
          new SodaError({
            kind: 'protocol',
            message: `The response from ${host} is larger than the ${formatBytes(cap)} limit; the download was stopped.`,
            requestId,
            host,
          }),
        );
        return;
      }
      cb(null, chunk);
    },
  });
  source.on('error', (e) => t.destroy(e));
  t.on('close', () => source.destroy());
  return source.pipe(t);
}

export function formatBytes(n: number): string {
  if (n >= MiB) return `${Math.round((n / MiB) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KB`;
  return `${n} bytes`;
}
