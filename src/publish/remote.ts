// What a plan reads from the dataset: its row ids (created/updated counts), and for a sync a digest of each remote
// row. The ids are kept as one Set of strings, capped by `maxRemoteIds`; past the cap the answer is undefined.
import { createHash } from 'node:crypto';
import type { SodaClient } from '../soda';
import { RowEncoder } from './encode';
import type { ColumnMappingEntry } from './types';

export async function remoteIds(
  client: SodaClient,
  dataset: string,
  field: string,
  max: number,
  signal: AbortSignal | undefined,
): Promise<Set<string> | undefined> {
  const ids = new Set<string>();
  for await (const page of client.allRows<Record<string, unknown>>(dataset, { select: field }, { pageSize: 50_000, signal })) {
    for (const row of page.rows) {
      const v = row[field];
      if (v === undefined || v === null) continue;
      ids.add(typeof v === 'string' ? v : JSON.stringify(v));
    }
    if (ids.size > max) return undefined;
  }
  return ids;
}

/** A short digest of a row's JSON text (the same encoding for file rows and remote rows). */
export function rowHash(json: string): string {
  return createHash('sha1').update(json).digest('base64').slice(0, 16);
}

/** `rowHash` of a row's JSON text given as UTF-8 bytes, `buf[start..end)` (the same digest). */
export function rowHashBytes(buf: Buffer, start: number, end: number): string {
  return createHash('sha1').update(buf.subarray(start, end)).digest('base64').slice(0, 16);
}

/**
 * Sync: the remote rows' mapped fields, as row id → digest of the row's JSON in the encoder's form. A remote value
 * written differently from the file's (e.g. "1.50" vs "1.5") only makes the row look changed: it is sent again,
 * which an upsert makes harmless.
 */
export async function remoteRowHashes(
  client: SodaClient,
  dataset: string,
  columns: ColumnMappingEntry[],
  dateOrders: ('mdy' | 'dmy' | undefined)[],
  width: number,
  rid: string,
  max: number,
  signal: AbortSignal | undefined,
): Promise<Map<string, string> | undefined> {
  const fields = columns.filter((c) => c.fieldName !== undefined).map((c) => c.fieldName as string);
  const encoder = new RowEncoder(columns, dateOrders, width, rid);
  const out = new Map<string, string>();
  for await (const page of client.allRows<Record<string, unknown>>(dataset, { select: fields.join(',') }, { pageSize: 50_000, signal })) {
    for (const row of page.rows) {
      const id = row[rid];
      if (id === undefined || id === null) continue;
      out.set(typeof id === 'string' ? id : JSON.stringify(id), rowHash(encoder.encodeRemote(row)));
    }
    if (out.size > max) return undefined;
  }
  return out;
}
