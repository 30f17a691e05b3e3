/**
 * The emulator's state: users, credentials, datasets (views) and their rows, plus the logs tests read
 * (applied writes, fault counters, sink counters).
 *
 * Rows live in SQLite, one table per dataset (`rowtable.ts`): in `emulator.sqlite` of the data directory when there
 * is one, else in SQLite's private temporary database (gone when the store closes). With a data directory, principals
 * (`kv`) and dataset metadata (`datasets`) are saved there too and loaded at start. Sample rows are generated on the
 * first access to a sample dataset.
 *
 * Parts: `model.ts` (types), `principals.ts` (users and credentials, the base class), `ops.ts` (checking write
 * requests), `apply.ts` (applying them), `rowtable.ts` (SQLite rows), `rowid.ts` (`:id`s), `sample.ts` (the seed).
 *
 * Over 400 lines: the store's public API is one class (tests and every route hold an `EmulatorStore`); the work
 * behind its methods is in the files above.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sodaError } from '../errors';
import { type Converted, type DataTypeName, fromCsv, fromJson, MALTYPED, normalizeDataType, type StoredValue } from '../types';
import type { GrantType } from '../grants';
import { sampleRows } from '../seed';
import { appendStaged, applyOps } from './apply';
import {
  type AppliedWrite,
  type ColumnDef,
  type ColumnInput,
  type Dataset,
  type DatasetInput,
  fieldNameFrom,
  type FaultCounters,
  isFourByFour,
  keyOf,
  nowSeconds,
  type Row,
  type SinkCounters,
  type StoreOptions,
  type UpsertResult,
  type WriteOptions,
} from './model';
import { columnNotFound, finishOp, maltyped, type Op, prepareCsv, prepareJson } from './ops';
import { newFourByFour, type Principals, PrincipalStore } from './principals';
import { datasetHash, sidOfRowId } from './rowid';
import { RowTables, type StagedRows } from './rowtable';
import { loadSample } from './sample';

export * from './model';
export { StoredRow } from './rowid';
export type { StagedRows } from './rowtable';

export class EmulatorStore extends PrincipalStore {
  private readonly datasets = new Map<string, Dataset>();
  private readonly db: Database.Database;
  private readonly tables: RowTables;
  private seq = 0;

  /** Every write applied to rows, in order (tests read it to see what the server actually did). */
  readonly appliedWrites: AppliedWrite[] = [];
  /** Fault-injection counters (updated by the HTTP layer). */
  readonly faultCounters: FaultCounters = {
    requests: 0,
    latencyMs: 0,
    errors5xx: 0,
    resets: 0,
    throttled: 0,
    throttledWithRetryAfter: 0,
    resetsAfterApply: 0,
    accepted: 0,
  };
  /** Sink-mode counters (upserts parsed and acknowledged without being stored). */
  readonly sinkCounters: SinkCounters = { requests: 0, rows: 0, bytes: 0 };

  constructor(opts: StoreOptions = {}) {
    let db: Database.Database;
    if (opts.dataDir) {
      mkdirSync(opts.dataDir, { recursive: true });
      db = new Database(join(opts.dataDir, 'emulator.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`
        CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS datasets (id TEXT PRIMARY KEY, json TEXT NOT NULL);`);
    } else {
      // SQLite's private temporary database: pages stay in its cache until that is full, then go to a temp file.
      db = new Database('');
    }
    db.pragma('cache_size = -32768');
    super(opts.dataDir ? db : undefined);
    this.db = db;
    this.tables = new RowTables(db);
    if (opts.dataDir) {
      const kv = db.prepare('SELECT v FROM kv WHERE k = ?').get('principals') as { v: string } | undefined;
      if (kv) {
        Object.assign(this.principals, JSON.parse(kv.v) as Principals);
        for (const r of db.prepare('SELECT json FROM datasets').all() as { json: string }[]) {
          const ds = JSON.parse(r.json) as Dataset;
          this.datasets.set(ds.id, ds);
        }
        this.migrateRows();
        return;
      }
    }
    if ((opts.seed ?? 'sample') === 'sample') this.transaction(() => loadSample(this, this.principals, (ds) => this.saveDataset(ds)));
    this.savePrincipals();
  }

  /** Closes the SQLite database (a temporary one is deleted). */
  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---------------------------------------------------------------- datasets

  /**
   * Creates a dataset (view) with its columns and returns its 4x4. Column field names are derived from the
   * display names when omitted; `rowIdentifier` is a fieldName. Throws an {@link EmulatorHttpError}
   * (`soda.column.unknown-type`, `soda.dataset.already-exists`, …) on bad input.
   */
  createDataset(input: DatasetInput): string {
    if (!this.getUser(input.owner)) throw sodaError(400, 'soda.dataset.maltyped', `Unknown owner ${input.owner}`, { owner: input.owner });
    const id = input.id ?? newFourByFour(new Set(this.datasets.keys()));
    if (!isFourByFour(id)) throw sodaError(400, 'soda.dataset.invalid-Name', `Invalid dataset id ${id}`, { dataset: id });
    if (this.datasets.has(id)) throw sodaError(400, 'soda.dataset.already-exists', `Dataset ${id} already exists`, { dataset: id });
    const now = nowSeconds();
    const ds: Dataset = {
      id,
      name: input.name,
      description: input.description ?? '',
      category: input.category ?? null,
      tags: input.tags ?? [],
      attribution: input.attribution ?? null,
      owner: input.owner,
      isPublic: input.isPublic ?? false,
      rowIdentifier: undefined,
      columns: [],
      createdAt: now,
      rowsUpdatedAt: now,
      viewLastModified: now,
      rowsUpdatedBy: input.owner,
      publicationStage: input.publicationStage ?? 'published',
      provenance: input.provenance ?? 'official',
      approvalRequired: input.approvalRequired ?? false,
      flags: {},
      dataVersion: 1,
      nextColumnId: 1,
      nextSid: 1,
      seedPending: undefined,
      grants: [],
    };
    for (const c of input.columns) this.pushColumn(ds, c);
    if (input.rowIdentifier !== undefined) {
      if (!ds.columns.some((c) => c.fieldName === input.rowIdentifier)) {
        throw sodaError(400, 'soda.invalid-row-identifier', `Row-identifier column ${input.rowIdentifier} does not exist`, {
          column: input.rowIdentifier,
        });
      }
      ds.rowIdentifier = input.rowIdentifier;
    }
    this.datasets.set(id, ds);
    this.saveDataset(ds);
    return id;
  }

  /** The dataset's metadata (a live object: do not mutate; use the update methods). */
  getDataset(id: string): Dataset | undefined {
    return this.datasets.get(id);
  }

  /** All datasets, in creation order. */
  listDatasets(): Dataset[] {
    return [...this.datasets.values()];
  }

  /** Changes metadata keys (name, description, category, tags, attribution, isPublic, publicationStage, provenance, owner). */
  updateDataset(
    id: string,
    patch: Partial<Pick<Dataset, 'name' | 'description' | 'category' | 'tags' | 'attribution' | 'isPublic' | 'publicationStage' | 'provenance' | 'owner'>>,
  ): Dataset {
    const ds = this.mustGet(id);
    Object.assign(ds, patch);
    ds.viewLastModified = nowSeconds();
    ds.dataVersion++;
    this.saveDataset(ds);
    return ds;
  }

  /** Deletes a dataset and its rows; returns whether it existed. */
  deleteDataset(id: string): boolean {
    if (!this.datasets.delete(id)) return false;
    this.tables.drop(id);
    this.persist?.prepare('DELETE FROM datasets WHERE id = ?').run(id);
    return true;
  }

  /** Gives `userId` a role on the dataset (replacing its former one), or takes it away with `undefined`. */
  setGrant(id: string, userId: string, type: GrantType | undefined): void {
    const ds = this.mustGet(id);
    if (!this.getUser(userId)) throw sodaError(400, 'soda.dataset.maltyped', `Unknown user ${userId}`, { userId });
    ds.grants = (ds.grants ?? []).filter((g) => g.userId !== userId);
    if (type !== undefined) ds.grants.push({ type, userId });
    this.saveDataset(ds);
  }

  /** Sets the "approval required" flag DSMAPI honours when applying revisions. */
  setApprovalRequired(id: string, required: boolean): void {
    const ds = this.mustGet(id);
    ds.approvalRequired = required;
    this.saveDataset(ds);
  }

  /** Sets a free-form per-dataset flag (read back through `getDataset(id).flags`). */
  setDatasetFlag(id: string, name: string, value: unknown): void {
    const ds = this.mustGet(id);
    ds.flags[name] = value;
    this.saveDataset(ds);
  }

  /** Adds a column (existing rows get null in it) and returns it. */
  addColumn(id: string, input: ColumnInput): ColumnDef {
    const ds = this.mustGet(id);
    const col = this.pushColumn(ds, input);
    ds.viewLastModified = nowSeconds();
    ds.dataVersion++;
    this.saveDataset(ds);
    return col;
  }

  /**
   * Sets (fieldName) or clears (undefined) the row identifier. Existing values must be non-null and unique:
   * otherwise 400 `soda.column.not-unique` / `soda.row.primary-key-nonexistent-or-null` and nothing changes.
   */
  setRowIdentifier(id: string, fieldName: string | undefined): void {
    const ds = this.mustGet(id);
    const hash = this.rowsReady(ds);
    if (fieldName === undefined) {
      this.transaction(() => this.tables.rekey(id, []));
      ds.rowIdentifier = undefined;
    } else {
      if (!ds.columns.some((c) => c.fieldName === fieldName)) {
        throw sodaError(404, 'soda.dataset.column-not-found', `Column ${fieldName} was not found on dataset ${id}`, { dataset: id, column: fieldName });
      }
      const keys: [number, string][] = [];
      const seen = new Set<string>();
      for (const row of this.tables.rows(id, hash)) {
        const v = row.v[fieldName];
        if (v === undefined) {
          throw sodaError(400, 'soda.row.primary-key-nonexistent-or-null', 'row lacks a primary key or it is null', { value: row.id });
        }
        const k = keyOf(v);
        if (seen.has(k)) throw sodaError(400, 'soda.column.not-unique', `row-identifier column ${fieldName} contains duplicate values`, { column: fieldName });
        seen.add(k);
        keys.push([row.sid, k]);
      }
      this.transaction(() => this.tables.rekey(id, keys));
      ds.rowIdentifier = fieldName;
    }
    ds.viewLastModified = nowSeconds();
    ds.dataVersion++;
    this.saveDataset(ds);
  }

  /**
   * Changes column metadata (display name, description, field name) by column id, all or nothing. A field-name
   * change renames the key in every row (and the row identifier). The caller validates names and uniqueness.
   */
  updateColumns(id: string, changes: readonly { id: number; name?: string; description?: string; fieldName?: string }[]): void {
    const ds = this.mustGet(id);
    const renames = new Map<string, string>();
    for (const ch of changes) {
      const col = ds.columns.find((c) => c.id === ch.id);
      if (!col) throw sodaError(404, 'soda.dataset.column-not-found', `Column ${ch.id} was not found on dataset ${id}`, { dataset: id, column: ch.id });
      if (ch.fieldName !== undefined && ch.fieldName !== col.fieldName) renames.set(col.fieldName, ch.fieldName);
    }
    const hash = renames.size ? this.rowsReady(ds) : undefined;
    for (const ch of changes) {
      const col = ds.columns.find((c) => c.id === ch.id);
      if (!col) continue;
      if (ch.name !== undefined) col.name = ch.name;
      if (ch.description !== undefined) col.description = ch.description;
      if (ch.fieldName !== undefined) col.fieldName = ch.fieldName;
    }
    if (hash !== undefined) {
      this.transaction(() =>
        this.tables.rewrite(id, (old) => {
          const v: Record<string, StoredValue> = {};
          for (const [k, x] of Object.entries(old)) v[renames.get(k) ?? k] = x;
          return v;
        }),
      );
      if (ds.rowIdentifier) ds.rowIdentifier = renames.get(ds.rowIdentifier) ?? ds.rowIdentifier;
    }
    ds.viewLastModified = nowSeconds();
    ds.dataVersion++;
    this.saveDataset(ds);
  }

  // ---------------------------------------------------------------- rows

  /** Rows of a dataset in `:id` (insertion) order. */
  getRows(id: string): Row[] {
    const ds = this.mustGet(id);
    return [...this.tables.rows(id, this.rowsReady(ds))];
  }

  /** Number of rows (generates sample rows if still pending). */
  rowCount(id: string): number {
    this.rowsReady(this.mustGet(id));
    return this.tables.count(id);
  }

  /**
   * Rows in `:id` order without copying them all (the emulator's query engine uses it). A big dataset's rows are
   * streamed from SQLite: finish (or break out of) the loop before writing to the store.
   */
  iterateRows(id: string): Iterable<Row> {
    const ds = this.mustGet(id);
    return this.tables.rows(id, this.rowsReady(ds));
  }

  /**
   * Finds a row by its row-identifier value (as text, e.g. from a URL path) or by its `:id`.
   */
  findRow(id: string, idOrKey: string): Row | undefined {
    const ds = this.mustGet(id);
    const hash = this.rowsReady(ds);
    if (ds.rowIdentifier) {
      const col = ds.columns.find((c) => c.fieldName === ds.rowIdentifier);
      if (col) {
        const v = fromCsv(col.dataTypeName, idOrKey);
        if (v !== null && v !== MALTYPED) {
          const r = this.tables.byKey(id, hash, keyOf(v));
          if (r) return r;
        }
      }
    }
    const sid = sidOfRowId(hash, idOrKey);
    return sid === undefined ? undefined : this.tables.bySid(id, hash, sid);
  }

  /**
   * Upsert of JSON row objects (the `/resource` POST semantics): merge updates, `:deleted`, `:id`, matching on
   * the row identifier; without one, rows lacking `:id` are appended. The whole request is validated first:
   * an unknown field (400 `soda.row.column-not-found`), a maltyped value (400 `soda.column.maltyped`) or a
   * missing key throws an {@link EmulatorHttpError} and nothing is applied.
   */
  upsertRows(id: string, rows: unknown[], opts: WriteOptions = {}): UpsertResult {
    const ds = this.mustGet(id);
    const ops = prepareJson(ds, rows);
    return this.apply(ds, ops, false, opts);
  }

  /** Replaces all rows atomically with the given JSON row objects (`[]` truncates). Validation as for upsert. */
  replaceRows(id: string, rows: unknown[], opts: WriteOptions = {}): UpsertResult {
    const ds = this.mustGet(id);
    const ops = prepareJson(ds, rows);
    return this.apply(ds, ops, true, opts);
  }

  /** Upsert from CSV text whose header holds field names (`:id`, `:deleted` allowed); empty cells are null. */
  upsertCsv(id: string, csv: string, opts: WriteOptions = {}): UpsertResult {
    const ds = this.mustGet(id);
    return this.apply(ds, prepareCsv(ds, csv), false, opts);
  }

  /** Replace from CSV text (see {@link upsertCsv}). */
  replaceCsv(id: string, csv: string, opts: WriteOptions = {}): UpsertResult {
    const ds = this.mustGet(id);
    return this.apply(ds, prepareCsv(ds, csv), true, opts);
  }

  /**
   * Upsert (or, with `replace`, replace) of values already in stored form, as DSMAPI's output schemas give them:
   * `valueOf(row, i)` is the value of column `fields[i]`; a null leaves the cell out (an update keeps its old value,
   * as DSMAPI's row objects always did here). Matching and the report are those of {@link upsertRows}.
   * `columns[i].dataType` is the type the values of column i are in: where it is the dataset column's type the values
   * are taken as they are, otherwise they are converted (400 `soda.column.maltyped` when one does not fit, and nothing
   * is applied). `rows` is read once, as the rows are applied (it may be a stream of any length).
   */
  applyStoredRows<R>(
    id: string,
    columns: readonly { field: string; dataType: DataTypeName }[],
    rows: Iterable<R>,
    valueOf: (row: R, index: number) => StoredValue | null,
    replace: boolean,
    opts: WriteOptions = {},
  ): UpsertResult {
    const ds = this.mustGet(id);
    const plan = columns.map(({ field, dataType }) => {
      const col = ds.columns.find((c) => c.fieldName === field);
      if (!col) throw columnNotFound(field, undefined, undefined);
      return { field, convert: col.dataTypeName === dataType ? undefined : col.dataTypeName };
    });
    function* ops(): Generator<Op> {
      let r = 0;
      for (const row of rows) {
        const values: Record<string, StoredValue> = {};
        for (let i = 0; i < plan.length; i++) {
          const p = plan[i];
          let v: Converted = valueOf(row, i);
          if (v !== null && p.convert !== undefined) {
            const raw = v;
            v = fromJson(p.convert, raw);
            if (v === MALTYPED) throw maltyped(p.field, p.convert, raw, r, undefined);
          }
          if (v !== null) values[p.field] = v;
        }
        const op = finishOp(ds, values, undefined, false, r, values);
        op.clean = true;
        r++;
        yield op;
      }
    }
    return this.apply(ds, ops(), replace, opts);
  }

  /** A new, empty set of staged rows (values in stored JSON form) for {@link applyStagedRows}. */
  stageRows(): StagedRows {
    return this.tables.stage();
  }

  /**
   * What {@link applyStoredRows} does with rows that are all new (no row identifier to match on) and whose values
   * are already in the stored JSON form of columns `fields` (in that order, nulls left out): the staged rows are
   * appended in one statement. Undefined, and nothing done, when that is not this write: the dataset has a row
   * identifier, or a column of `columns` is missing or of another type (then {@link applyStoredRows} does it, with
   * its errors). With `rewrite`, each staged row's values JSON is the one it returns (the values of `columns`,
   * computed from the staged ones; it throws, and nothing is written, when it cannot).
   */
  applyStagedRows(
    id: string,
    columns: readonly { field: string; dataType: DataTypeName }[],
    staged: StagedRows,
    replace: boolean,
    opts: WriteOptions = {},
    rewrite?: (json: string) => string,
  ): UpsertResult | undefined {
    const ds = this.mustGet(id);
    if (ds.rowIdentifier !== undefined || !staged.available) return undefined;
    for (const { field, dataType } of columns) {
      if (ds.columns.find((c) => c.fieldName === field)?.dataTypeName !== dataType) return undefined;
    }
    return this.applyWith(ds, replace, opts, undefined, () => appendStaged(this.tables, ds, staged, replace, rewrite));
  }

  /**
   * Deletes rows by row-identifier value (or `:id`); missing ones count as `Errors`.
   */
  deleteRows(id: string, keys: string[], opts: WriteOptions = {}): UpsertResult {
    const ds = this.mustGet(id);
    const rid = ds.rowIdentifier;
    const ops: Op[] = keys.map((k) => {
      const row = this.findRow(id, k);
      const kv = row && rid ? row.v[rid] : undefined;
      if (row && row.id !== k && kv !== undefined) return { del: true, key: keyOf(kv), sid: undefined, values: {} };
      return { del: true, key: undefined, sid: row?.id ?? k, values: {} };
    });
    return this.apply(ds, ops, false, opts, 'delete');
  }

  // ---------------------------------------------------------------- internals

  private mustGet(id: string): Dataset {
    const ds = this.datasets.get(id);
    if (!ds) throw sodaError(404, 'soda.dataset.not-found', `Dataset '${id}' was not found`, { dataset: id });
    return ds;
  }

  private pushColumn(ds: Dataset, c: ColumnInput): ColumnDef {
    const t = normalizeDataType(c.dataTypeName);
    if (!t) throw sodaError(400, 'soda.column.unknown-type', `Unknown column type ${c.dataTypeName}`, { column: c.name, type: c.dataTypeName });
    const fieldName = c.fieldName ?? fieldNameFrom(c.name);
    if (!/^[a-z_][a-z0-9_]*$/.test(fieldName)) {
      throw sodaError(400, 'soda.column.invalid-name', `Invalid field name ${fieldName}`, { column: fieldName });
    }
    if (ds.columns.some((x) => x.fieldName === fieldName)) {
      throw sodaError(400, 'soda.column.duplicate', `Column ${fieldName} already exists`, { column: fieldName });
    }
    const col: ColumnDef = {
      id: ds.nextColumnId++,
      name: c.name,
      fieldName,
      dataTypeName: t,
      position: ds.columns.length + 1,
      description: c.description ?? '',
    };
    ds.columns.push(col);
    return col;
  }

  /** Runs `f` in one SQLite transaction (nested calls join it). */
  transaction<T>(f: () => T): T {
    return this.db.transaction(f)();
  }

  /** The dataset's row-id hash, after writing its sample rows if they are still pending. */
  private rowsReady(ds: Dataset): number {
    const hash = datasetHash(ds.id);
    const pending = ds.seedPending;
    if (pending) {
      ds.seedPending = undefined;
      const created = ds.createdAt * 1000;
      this.transaction(() => {
        let sid = 0;
        for (const v of sampleRows(pending)) {
          sid++;
          const kv = ds.rowIdentifier ? v[ds.rowIdentifier] : undefined;
          this.tables.insert(ds.id, sid, kv === undefined ? undefined : keyOf(kv), created, created, v);
        }
        ds.nextSid = Math.max(ds.nextSid, sid + 1);
        this.tables.touched(ds.id);
        this.saveDataset(ds);
      });
    }
    return hash;
  }

  /** Applies checked operations in one transaction: all of them, or (on an error) none. */
  private apply(ds: Dataset, ops: Iterable<Op>, replace: boolean, opts: WriteOptions, kind?: AppliedWrite['kind']): UpsertResult {
    return this.applyWith(ds, replace, opts, kind, (hash) => applyOps(this.tables, ds, hash, ops, replace));
  }

  /** Runs `write` in one transaction and logs it in {@link appliedWrites}. */
  private applyWith(
    ds: Dataset,
    replace: boolean,
    opts: WriteOptions,
    kind: AppliedWrite['kind'] | undefined,
    write: (hash: number) => { result: UpsertResult; rowsIn: number },
  ): UpsertResult {
    const hash = this.rowsReady(ds);
    const nextSid = ds.nextSid;
    let out: { result: UpsertResult; rowsIn: number };
    try {
      out = this.transaction(() => {
        const r = write(hash);
        this.saveDataset(ds);
        return r;
      });
    } catch (e) {
      ds.nextSid = nextSid;
      this.tables.touched(ds.id);
      throw e;
    }
    this.appliedWrites.push({
      seq: ++this.seq,
      at: Date.now(),
      requestId: opts.requestId,
      dataset: ds.id,
      kind: kind ?? (replace ? 'replace' : 'upsert'),
      rowsIn: out.rowsIn,
      result: { ...out.result },
      source: opts.source ?? 'store',
    });
    return out.result;
  }

  /** Rows saved by earlier versions (one `rows` table of JSON rows for all datasets) move to the tables of today. */
  private migrateRows(): void {
    if (!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rows'").get()) return;
    this.transaction(() => {
      const saved = this.db.prepare('SELECT dataset, json FROM rows ORDER BY dataset, sid').all() as { dataset: string; json: string }[];
      for (const r of saved) {
        const ds = this.datasets.get(r.dataset);
        if (!ds) continue;
        const row = JSON.parse(r.json) as Row;
        const kv = ds.rowIdentifier ? row.v[ds.rowIdentifier] : undefined;
        this.tables.insert(ds.id, row.sid, kv === undefined ? undefined : keyOf(kv), row.createdAt, row.updatedAt, row.v);
      }
      this.db.exec('DROP TABLE rows');
    });
  }

  private saveDataset(ds: Dataset): void {
    this.persist?.prepare('INSERT OR REPLACE INTO datasets (id, json) VALUES (?, ?)').run(ds.id, JSON.stringify(ds));
  }
}
