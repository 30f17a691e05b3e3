/**
 * Row operations of a write request: JSON row objects and CSV bodies checked and turned into {@link Op}s (all of a
 * request before any is applied), with the platform's errors for unknown fields, maltyped values and missing keys.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { EmulatorHttpError, sodaError } from '../errors';
import { type Converted, type DataTypeName, describeValue, fromCsv, fromJson, MALTYPED, soqlTypeOf, type StoredValue } from '../types';
import { type Dataset, keyOf } from './model';

/** One validated row operation of an upsert/replace request. */
export interface Op {
  del: boolean;
  /** Row identifier value (canonical key) when the row is addressed by it. */
  key: string | undefined;
  /** `:id` when addressed by it. */
  sid: string | undefined;
  values: Record<string, StoredValue | null>;
  /** `values` holds no null: a created row may take it as its own. */
  clean?: boolean;
}

const SYSTEM_WRITE_IGNORED = new Set([':created_at', ':updated_at', ':version', ':created_meta', ':updated_meta', ':position']);

export function prepareJson(ds: Dataset, rows: unknown[]): Op[] {
  const cols = new Map(ds.columns.map((c) => [c.fieldName, c] as const));
  const ops: Op[] = new Array<Op>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const el = rows[i];
    if (Array.isArray(el)) {
      // `[<row id>]` deletes that row (soda-fountain accepts this form).
      if (el.length !== 1) throw sodaError(400, 'soda.row.upsert-row-not-an-object', 'Row is not parseable as a json object', { value: el, index: i });
      ops[i] = deleteOp(ds, el[0], i);
      continue;
    }
    if (el === null || typeof el !== 'object') {
      throw sodaError(400, 'soda.row.upsert-row-not-an-object', 'Row is not parseable as a json object', { value: el ?? null, index: i });
    }
    const obj = el as Record<string, unknown>;
    const values: Record<string, StoredValue | null> = {};
    let sid: string | undefined;
    let del = false;
    for (const k in obj) {
      const raw = obj[k];
      const col = cols.get(k);
      if (col) {
        const v = fromJson(col.dataTypeName, raw);
        if (v === MALTYPED) throw maltyped(col.fieldName, col.dataTypeName, raw, i, undefined);
        values[k] = v;
      } else if (k === ':id') {
        if (raw !== null && raw !== undefined) {
          if (typeof raw !== 'string') throw maltyped(':id', 'text', raw, i, undefined);
          sid = raw;
        }
      } else if (k === ':deleted') {
        if (raw === true || raw === 'true') del = true;
        else if (!(raw === false || raw === 'false' || raw === null)) throw maltyped(':deleted', 'checkbox', raw, i, undefined);
      } else if (!SYSTEM_WRITE_IGNORED.has(k)) {
        throw columnNotFound(k, i, undefined);
      }
    }
    ops[i] = finishOp(ds, values, sid, del, i, obj);
  }
  return ops;
}

function deleteOp(ds: Dataset, raw: unknown, index: number): Op {
  if (ds.rowIdentifier) {
    const col = ds.columns.find((c) => c.fieldName === ds.rowIdentifier);
    const v = col ? fromJson(col.dataTypeName, raw) : MALTYPED;
    if (v === MALTYPED || v === null) {
      throw sodaError(400, 'soda.row.delete-without-primary-key', 'cannot delete a row without its row identifier', { index });
    }
    return { del: true, key: keyOf(v), sid: undefined, values: {} };
  }
  if (typeof raw !== 'string') throw sodaError(400, 'soda.row.delete-without-primary-key', 'cannot delete a row without its row identifier', { index });
  return { del: true, key: undefined, sid: raw, values: {} };
}

export function finishOp(ds: Dataset, values: Record<string, StoredValue | null>, sid: string | undefined, del: boolean, index: number, original: unknown): Op {
  if (ds.rowIdentifier) {
    const kv = values[ds.rowIdentifier];
    if (kv !== undefined && kv !== null) return { del, key: keyOf(kv), sid: undefined, values };
    if (sid !== undefined && kv === undefined) return { del, key: undefined, sid, values };
    if (del) throw sodaError(400, 'soda.row.delete-without-primary-key', 'cannot delete a row without its row identifier', { index });
    throw sodaError(400, 'soda.row.primary-key-nonexistent-or-null', 'row lacks a primary key or it is null', { value: original, index });
  }
  if (del && sid === undefined) throw sodaError(400, 'soda.row.delete-without-primary-key', 'cannot delete a row without its row identifier', { index });
  return { del, key: undefined, sid, values };
}

export function prepareCsv(ds: Dataset, csv: string): Op[] {
  let records: string[][];
  try {
    const parsed: unknown = parseCsv(csv, { bom: true, relax_column_count: false, skip_empty_lines: true });
    records = parsed as string[][];
  } catch (e) {
    const err = e as { message?: string; lines?: number; code?: string };
    throw sodaError(400, 'req.body.malformed-csv', `Malformed CSV: ${err.message ?? String(e)}`, { line: err.lines ?? null });
  }
  const header = records[0];
  if (!header) return [];
  type Cell = { kind: 'col'; field: string; type: DataTypeName } | { kind: 'id' } | { kind: 'deleted' } | { kind: 'skip' };
  const cols = new Map(ds.columns.map((c) => [c.fieldName, c] as const));
  const cells: Cell[] = header.map((h, hi) => {
    const name = h.trim();
    const col = cols.get(name);
    if (col) return { kind: 'col', field: col.fieldName, type: col.dataTypeName };
    if (name === ':id') return { kind: 'id' };
    if (name === ':deleted') return { kind: 'deleted' };
    if (SYSTEM_WRITE_IGNORED.has(name)) return { kind: 'skip' };
    throw columnNotFound(name, undefined, { line: 1, column: hi + 1 });
  });
  const ops: Op[] = new Array<Op>(records.length - 1);
  for (let r = 1; r < records.length; r++) {
    const rec = records[r] ?? [];
    const values: Record<string, StoredValue | null> = {};
    let sid: string | undefined;
    let del = false;
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c];
      const text = rec[c] ?? '';
      if (!cell) continue;
      if (cell.kind === 'col') {
        const v: Converted = fromCsv(cell.type, text);
        if (v === MALTYPED) throw maltyped(cell.field, cell.type, text, r - 1, { line: r + 1, column: c + 1 });
        values[cell.field] = v;
      } else if (cell.kind === 'id') {
        if (text !== '') sid = text;
      } else if (cell.kind === 'deleted') {
        const t = text.trim().toLowerCase();
        if (t === 'true' || t === '1') del = true;
        else if (!(t === '' || t === 'false' || t === '0')) throw maltyped(':deleted', 'checkbox', text, r - 1, { line: r + 1, column: c + 1 });
      }
    }
    try {
      ops[r - 1] = finishOp(ds, values, sid, del, r - 1, Object.fromEntries(header.map((h, i) => [h, rec[i]])));
    } catch (e) {
      if (e instanceof EmulatorHttpError) e.data.line = r + 1;
      throw e;
    }
  }
  return ops;
}

export function maltyped(field: string, type: DataTypeName, got: unknown, index: number, pos: { line: number; column: number } | undefined): EmulatorHttpError {
  const expected = soqlTypeOf(type);
  const data: Record<string, unknown> = { field, expected, got: got ?? null, index };
  if (pos) Object.assign(data, pos);
  const where = pos ? ` (line ${pos.line}, column ${pos.column})` : ` (row ${index + 1})`;
  return sodaError(
    400,
    'soda.column.maltyped',
    `Column is maltyped; for field '${field}' we expected '${expected}' but got '${describeValue(got)}'${where}`,
    data,
  );
}

export function columnNotFound(name: string, index: number | undefined, pos: { line: number; column: number } | undefined): EmulatorHttpError {
  const data: Record<string, unknown> = { value: name };
  if (index !== undefined) data.index = index;
  if (pos) Object.assign(data, pos);
  return sodaError(400, 'soda.row.column-not-found', `One or more rows expected column '${name}' which was not found on the dataset`, data);
}
