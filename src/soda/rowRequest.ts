// The parts of a row request, checked before any URL or body is built: SoQL query parameters, filter field names and
// row ids; rows for an upsert or replace streamed as one JSON array.
import type { BodySource } from './httpTypes';
import { SodaError } from './errors';
import type { Row, RowQuery } from './types';

/** A JSON body for upsert/replace: an array of rows, or rows produced lazily (streamed as a JSON array). */
export type RowsBody = readonly Row[] | Iterable<Row> | AsyncIterable<Row>;
/** A CSV body: text, bytes, a stream, or chunks; a function makes a stream body repeatable for retries. */
export type CsvBody = BodySource | (() => BodySource);

const FIELD = /^[A-Za-z0-9_:@]+$/;

export function checkField(name: string, what: string): void {
  if (!FIELD.test(name)) {
    throw new SodaError({
      kind: 'invalid-input',
      message: `Invalid ${what} "${name}": field names contain only letters, digits, "_", ":" and "@".`,
      field: what,
    });
  }
}

export function checkRowId(rowId: string | number): string {
  const s = String(rowId);
  // eslint-disable-next-line no-control-regex
  if (s === '' || /[\u0000-\u001f\u007f]/.test(s)) {
    throw new SodaError({
      kind: 'invalid-input',
      message: `Invalid row identifier ${JSON.stringify(s)}: it is empty or contains control characters.`,
      field: 'row id',
    });
  }
  return s;
}

export function soqlParams(q: RowQuery | undefined): Record<string, string | number | undefined> {
  if (!q) return {};
  if (q.query !== undefined) {
    const others = (['select', 'where', 'order', 'group', 'having', 'limit', 'offset', 'q'] as const).filter((k) => q[k] !== undefined);
    if (others.length > 0) {
      throw new SodaError({
        kind: 'invalid-input',
        message: `A raw $query cannot be combined with ${others.map((k) => `$${k}`).join(', ')}; put everything in the query.`,
        field: 'query',
      });
    }
  }
  for (const [k, v] of [
    ['limit', q.limit],
    ['offset', q.offset],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
      throw new SodaError({ kind: 'invalid-input', message: `$${k} must be a whole number ≥ 0 (got ${v}).`, field: k });
    }
  }
  const out: Record<string, string | number | undefined> = {
    $select: q.select,
    $where: q.where,
    $order: q.order,
    $group: q.group,
    $having: q.having,
    $limit: q.limit,
    $offset: q.offset,
    $q: q.q,
    $query: q.query,
  };
  for (const [field, value] of Object.entries(q.filters ?? {})) {
    checkField(field, 'filter field');
    out[field] = String(value);
  }
  return out;
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && Symbol.asyncIterator in v;
}

/** Streams rows as one JSON array without holding the serialised text in memory. */
async function* jsonArray(rows: Iterable<Row> | AsyncIterable<Row>): AsyncGenerator<string> {
  let first = true;
  let batch = '';
  for await (const row of rows) {
    batch += (first ? '[' : ',') + JSON.stringify(row);
    first = false;
    if (batch.length >= 64 * 1024) {
      yield batch;
      batch = '';
    }
  }
  yield first ? '[]' : `${batch}]`;
}

export function rowsBody(rows: RowsBody): { body: string | (() => BodySource); replayable: boolean } {
  if (Array.isArray(rows)) return { body: JSON.stringify(rows), replayable: true };
  if (isAsyncIterable(rows)) {
    let used = false;
    return {
      body: () => {
        if (used) throw new SodaError({ kind: 'invalid-input', message: 'A streamed row source can be sent only once.' });
        used = true;
        return jsonArray(rows);
      },
      replayable: false,
    };
  }
  // A synchronous iterable (e.g. a generator) may be single-use: materialise nothing, stream it once.
  const iterable = rows;
  return { body: () => jsonArray(iterable), replayable: false };
}
