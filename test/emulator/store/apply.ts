/**
 * Applying checked row operations to a dataset's table, as the platform's upsert does: match on the row identifier
 * or `:id`, merge updates, delete, create with the next sid; count each outcome in the upsert report. The caller runs
 * it inside one SQLite transaction, so a request lands whole or not at all.
 */
import type { StoredValue } from '../types';
import { type Dataset, emptyResult, keyOf, type UpsertResult } from './model';
import type { Op } from './ops';
import { sidOfRowId } from './rowid';
import type { RowTables, StagedRows } from './rowtable';

export function applyOps(tables: RowTables, ds: Dataset, hash: number, ops: Iterable<Op>, replace: boolean): { result: UpsertResult; rowsIn: number } {
  const id = ds.id;
  const result = emptyResult();
  const now = Date.now();
  const rid = ds.rowIdentifier;
  let rowsIn = 0;
  if (replace) tables.clear(id);
  const before = tables.count(id);
  let removed = 0;
  // New rows go in batches; a lookup that could find a pending row writes the batch first.
  const batch = tables.batch(id);
  for (const op of ops) {
    rowsIn++;
    let row;
    if (op.key !== undefined) {
      if (batch.hasKey(op.key)) batch.flush();
      row = rid ? tables.byKey(id, hash, op.key) : undefined;
      result['By RowIdentifier']++;
    } else if (op.sid !== undefined) {
      const sid = sidOfRowId(hash, op.sid);
      if (batch.pending) batch.flush();
      row = sid === undefined ? undefined : tables.bySid(id, hash, sid);
      result['By SID']++;
    }
    if (op.del) {
      if (!row) {
        result.Errors++;
        continue;
      }
      tables.remove(id, row.sid);
      removed++;
      result['Rows Deleted']++;
      continue;
    }
    if (row) {
      // Merge; an update addressed by :id may change the row identifier value (if it stays unique).
      let key: string | undefined = rid ? keyOfRow(row.v, rid) : undefined;
      if (rid && op.sid !== undefined && rid in op.values) {
        const nv = op.values[rid];
        if (nv === null || nv === undefined) {
          result.Errors++;
          continue;
        }
        const nk = keyOf(nv);
        if (batch.hasKey(nk)) batch.flush();
        const other = tables.keyHolder(id, nk);
        if (other !== undefined && other !== row.sid) {
          result.Errors++;
          continue;
        }
        key = nk;
      }
      const v = row.v;
      for (const k in op.values) {
        const x = op.values[k];
        if (x === null || x === undefined) delete v[k];
        else v[k] = x;
      }
      tables.update(id, row.sid, key, now, v);
      result['Rows Updated']++;
      continue;
    }
    if (op.sid !== undefined) {
      // No such row to update.
      result.Errors++;
      continue;
    }
    let v: Record<string, StoredValue>;
    if (op.clean) v = op.values as Record<string, StoredValue>;
    else {
      v = {};
      for (const k in op.values) {
        const x = op.values[k];
        if (x !== null && x !== undefined) v[k] = x;
      }
    }
    batch.add(ds.nextSid++, op.key, now, now, v);
    result['Rows Created']++;
  }
  batch.flush();
  if (replace) result['Rows Deleted'] = 0;
  tables.touched(id);
  tables.counted(id, before + result['Rows Created'] - removed);
  const secs = Math.floor(now / 1000);
  ds.rowsUpdatedAt = secs;
  ds.viewLastModified = secs;
  ds.dataVersion++;
  return { result, rowsIn };
}

/**
 * Appends staged rows (stored JSON form, see `RowTables.stage`) as new rows without a key: what {@link applyOps} does
 * with create operations that carry no row identifier or `:id`, in one INSERT … SELECT. The dataset must have no row
 * identifier. With `rewrite`, each row's values JSON is the one it returns for the staged one.
 */
export function appendStaged(
  tables: RowTables,
  ds: Dataset,
  staged: StagedRows,
  replace: boolean,
  rewrite?: (json: string) => string,
): { result: UpsertResult; rowsIn: number } {
  const id = ds.id;
  const result = emptyResult();
  const now = Date.now();
  if (replace) tables.clear(id);
  const before = tables.count(id);
  tables.appendStaged(id, staged, ds.nextSid, now, rewrite);
  ds.nextSid += staged.count;
  result['Rows Created'] = staged.count;
  tables.touched(id);
  tables.counted(id, before + staged.count);
  const secs = Math.floor(now / 1000);
  ds.rowsUpdatedAt = secs;
  ds.viewLastModified = secs;
  ds.dataVersion++;
  return { result, rowsIn: staged.count };
}

function keyOfRow(v: Record<string, StoredValue>, rid: string): string | undefined {
  const x = v[rid];
  return x === undefined ? undefined : keyOf(x);
}
