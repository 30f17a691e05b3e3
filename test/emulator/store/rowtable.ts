/**
 * Where rows live: one SQLite table per dataset (`rows_<4x4>`: sid as the integer primary key, `k` the canonical
 * row-identifier value under a unique index, created and updated times, and the stored values as JSON). Without a
 * data directory the database is SQLite's private temporary one (it spills to a temp file past its cache and is gone
 * when the store closes), so a million-row dataset costs disk, not heap. `:id` lookups are primary-key reads, row
 * identifier lookups index reads, and the row count is SQLite's.
 *
 * Reads of small datasets go through a cache of decoded rows (dropped on any write to the dataset), so the SoQL
 * engine scanning a sample dataset again and again does not parse its JSON each time.
 */
import type Database from 'better-sqlite3';
import type { StoredValue } from '../types';
import type { Row } from './model';
import { StoredRow } from './rowid';

/** A row as SQLite returns it: sid, key, created, updated, values JSON. */
type RawRow = [number, string | null, number, number, string];

interface Statements {
  insert: Database.Statement<[number, string | null, number, number, string]>;
  /** {@link BATCH} rows in one statement. */
  insertMany: Database.Statement<unknown[]>;
  update: Database.Statement<[string | null, number, string, number]>;
  remove: Database.Statement<[number]>;
  bySid: Database.Statement<[number]>;
  byKey: Database.Statement<[string]>;
  all: Database.Statement<[]>;
  count: Database.Statement<[]>;
}

/** Datasets up to this many rows are kept decoded once read; the cache holds at most {@link CACHE_ROWS} rows in all. */
const CACHE_DATASET_ROWS = 100_000;
const CACHE_ROWS = 250_000;
/** Rows per multi-row INSERT of {@link RowBatch}: one statement step for many rows halves SQLite's per-row cost. */
const BATCH = 100;

export class RowTables {
  private readonly statements = new Map<string, Statements>();
  private readonly cache = new Map<string, Row[]>();
  private readonly counts = new Map<string, number>();
  private staged = 0;

  constructor(private readonly db: Database.Database) {}

  /** The dataset's table name (a 4x4 has only `[a-z0-9-]`). */
  private table(id: string): string {
    return `"rows_${id.replace('-', '_')}"`;
  }

  /** Whether the dataset has a table yet (datasets without rows have none). */
  has(id: string): boolean {
    return (
      this.statements.has(id) ||
      this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(`rows_${id.replace('-', '_')}`) !== undefined
    );
  }

  private stmts(id: string): Statements {
    let s = this.statements.get(id);
    if (s) return s;
    const t = this.table(id);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${t} (sid INTEGER PRIMARY KEY, k TEXT, c INTEGER NOT NULL, u INTEGER NOT NULL, v TEXT NOT NULL);
      CREATE UNIQUE INDEX IF NOT EXISTS "k_${id.replace('-', '_')}" ON ${t} (k) WHERE k IS NOT NULL;`);
    s = {
      insert: this.db.prepare(`INSERT INTO ${t} (sid, k, c, u, v) VALUES (?, ?, ?, ?, ?)`),
      insertMany: this.db.prepare(`INSERT INTO ${t} (sid, k, c, u, v) VALUES ${new Array<string>(BATCH).fill('(?, ?, ?, ?, ?)').join(', ')}`),
      update: this.db.prepare(`UPDATE ${t} SET k = ?, u = ?, v = ? WHERE sid = ?`),
      remove: this.db.prepare(`DELETE FROM ${t} WHERE sid = ?`),
      bySid: this.db.prepare(`SELECT sid, k, c, u, v FROM ${t} WHERE sid = ?`).raw(true),
      byKey: this.db.prepare(`SELECT sid, k, c, u, v FROM ${t} WHERE k = ?`).raw(true),
      all: this.db.prepare(`SELECT sid, k, c, u, v FROM ${t} ORDER BY sid`).raw(true),
      count: this.db.prepare(`SELECT count(*) FROM ${t}`).pluck(),
    };
    this.statements.set(id, s);
    return s;
  }

  /** Forgets what is cached about the dataset (after any write). */
  touched(id: string): void {
    this.cache.delete(id);
    this.counts.delete(id);
  }

  /** Sets the row count after a write that knows it (saves counting a big table again). */
  counted(id: string, n: number): void {
    this.counts.set(id, n);
  }

  count(id: string): number {
    let n = this.counts.get(id);
    if (n === undefined) {
      n = this.has(id) ? (this.stmts(id).count.get() as number) : 0;
      this.counts.set(id, n);
    }
    return n;
  }

  bySid(id: string, hash: number, sid: number): StoredRow | undefined {
    const r = this.stmts(id).bySid.get(sid) as RawRow | undefined;
    return r && decode(r, hash);
  }

  byKey(id: string, hash: number, key: string): StoredRow | undefined {
    const r = this.stmts(id).byKey.get(key) as RawRow | undefined;
    return r && decode(r, hash);
  }

  /** The sid and key of the row with this key (no JSON decoded). */
  keyHolder(id: string, key: string): number | undefined {
    const r = this.stmts(id).byKey.get(key) as RawRow | undefined;
    return r?.[0];
  }

  insert(id: string, sid: number, key: string | undefined, created: number, updated: number, v: Record<string, StoredValue>): void {
    this.stmts(id).insert.run(sid, key ?? null, created, updated, JSON.stringify(v));
  }

  /** Inserts a row whose values are already JSON text. */
  insertJson(id: string, sid: number, key: string | undefined, created: number, json: string): void {
    this.stmts(id).insert.run(sid, key ?? null, created, created, json);
  }

  /** A batch of new rows for the dataset, written {@link BATCH} at a time (see {@link RowBatch}). */
  batch(id: string): RowBatch {
    return new RowBatch(() => this.stmts(id));
  }

  update(id: string, sid: number, key: string | undefined, updated: number, v: Record<string, StoredValue>): void {
    this.stmts(id).update.run(key ?? null, updated, JSON.stringify(v), sid);
  }

  remove(id: string, sid: number): void {
    this.stmts(id).remove.run(sid);
  }

  /** Removes every row of the dataset (the table stays). */
  clear(id: string): void {
    if (this.has(id)) this.db.prepare(`DELETE FROM ${this.table(id)}`).run();
    this.touched(id);
  }

  /** Drops the dataset's table. */
  drop(id: string): void {
    this.statements.delete(id);
    this.touched(id);
    this.db.exec(`DROP TABLE IF EXISTS ${this.table(id)}`);
  }

  /**
   * Rows in sid (insertion) order: decoded once and cached for small datasets, streamed from SQLite for big ones.
   * Nothing is read until the rows are iterated.
   */
  rows(id: string, hash: number): Iterable<Row> {
    return { [Symbol.iterator]: () => this.load(id, hash)[Symbol.iterator]() };
  }

  private load(id: string, hash: number): Iterable<Row> {
    const cached = this.cache.get(id);
    if (cached) {
      this.cache.delete(id);
      this.cache.set(id, cached);
      return cached;
    }
    if (!this.has(id)) return [];
    if (this.count(id) > CACHE_DATASET_ROWS) return this.stream(id, hash);
    const rows = (this.stmts(id).all.all() as RawRow[]).map((r) => decode(r, hash));
    this.cache.set(id, rows);
    let total = 0;
    for (const r of this.cache.values()) total += r.length;
    for (const [k, r] of this.cache) {
      if (total <= CACHE_ROWS || k === id) break;
      this.cache.delete(k);
      total -= r.length;
    }
    return rows;
  }

  private *stream(id: string, hash: number): Generator<Row> {
    for (const r of this.stmts(id).all.iterate() as IterableIterator<RawRow>) yield decode(r, hash);
  }

  /** Sets every row's key (`undefined`: none) in one pass; `keyOf` returns null for a row without one. */
  rekey(id: string, keys: Iterable<[number, string | null]>): void {
    if (!this.has(id)) return;
    const t = this.table(id);
    this.db.prepare(`UPDATE ${t} SET k = NULL`).run();
    const set = this.db.prepare(`UPDATE ${t} SET k = ? WHERE sid = ?`);
    for (const [sid, k] of keys) if (k !== null) set.run(k, sid);
    this.touched(id);
  }

  /**
   * A new table of rows already in stored JSON form, in SQLite's temporary database (not the data directory): DSMAPI
   * stages an upload's converted rows there at commit, so that its apply is one INSERT … SELECT ({@link appendStaged}).
   */
  stage(): StagedRows {
    const table = `"stage_${++this.staged}"`;
    this.db.exec(`CREATE TEMP TABLE ${table} (v TEXT NOT NULL)`);
    return new StagedRows(this.db, table);
  }

  /**
   * Appends every staged row as a new row without a key, sids from `firstSid` on, created and updated at `now`;
   * with `rewrite`, each row's values JSON is the one it returns for the staged one.
   */
  appendStaged(id: string, staged: StagedRows, firstSid: number, now: number, rewrite?: (json: string) => string): void {
    if (staged.count === 0) return;
    this.stmts(id);
    let v = 'v';
    if (rewrite) {
      this.db.function('emulator_restage', { deterministic: true }, (json: unknown) => rewrite(String(json)));
      v = 'emulator_restage(v)';
    }
    this.db
      .prepare(`INSERT INTO ${this.table(id)} (sid, k, c, u, v) SELECT rowid + ?, NULL, ?, ?, ${v} FROM temp.${staged.table} ORDER BY rowid`)
      .run(firstSid - 1, now, now);
  }

  /** Rewrites every row's values (column renames). */
  rewrite(id: string, f: (v: Record<string, StoredValue>) => Record<string, StoredValue>): void {
    if (!this.has(id)) return;
    const set = this.db.prepare(`UPDATE ${this.table(id)} SET v = ? WHERE sid = ?`);
    const all = this.stmts(id).all.all() as RawRow[];
    for (const r of all) set.run(JSON.stringify(f(JSON.parse(r[4]) as Record<string, StoredValue>)), r[0]);
    this.touched(id);
  }
}

/**
 * Rows of `width` values each, held back until {@link BATCH} of them go in one multi-row INSERT (`many`); `flush`
 * writes the rest one row at a time (`one`). The statements are asked for when first needed.
 */
class BatchedInsert {
  /** The values of the pending rows, row after row: a caller pushes one row's values, then calls {@link added}. */
  readonly params: unknown[] = [];

  constructor(
    private readonly width: number,
    private readonly statements: () => { many: Database.Statement<unknown[]>; one: Database.Statement<unknown[]> },
  ) {}

  get pending(): boolean {
    return this.params.length > 0;
  }

  /** After a row's values were pushed: writes a full batch. True when it did (nothing is pending then). */
  added(): boolean {
    if (this.params.length < BATCH * this.width) return false;
    this.statements().many.run(this.params);
    this.params.length = 0;
    return true;
  }

  /** Writes what is pending (fewer than a batch), one row at a time. */
  flush(): void {
    const p = this.params;
    if (p.length === 0) return;
    const one = this.statements().one;
    for (let i = 0; i < p.length; i += this.width) one.run(p.slice(i, i + this.width));
    p.length = 0;
  }
}

/**
 * New rows held back until {@link BATCH} of them go in one INSERT. The caller flushes before it reads a row that may
 * be pending (by key: {@link hasKey}; by sid: whenever any is pending) and at the end; rows left unflushed after an
 * error are simply dropped with the batch (the surrounding transaction rolls back what was written).
 */
export class RowBatch {
  private readonly rows: BatchedInsert;
  private readonly keys = new Set<string>();

  constructor(s: () => Statements) {
    this.rows = new BatchedInsert(5, () => {
      const { insertMany, insert } = s();
      return { many: insertMany, one: insert };
    });
  }

  get pending(): boolean {
    return this.rows.pending;
  }

  hasKey(key: string): boolean {
    return this.keys.has(key);
  }

  add(sid: number, key: string | undefined, created: number, updated: number, v: Record<string, StoredValue>): void {
    this.rows.params.push(sid, key ?? null, created, updated, JSON.stringify(v));
    if (key !== undefined) this.keys.add(key);
    if (this.rows.added()) this.keys.clear();
  }

  /** Writes what is pending. */
  flush(): void {
    this.rows.flush();
    this.keys.clear();
  }
}

/**
 * Rows in stored JSON form waiting in a temporary table (see {@link RowTables.stage}), in the order they were added:
 * {@link BATCH} to an INSERT. {@link finish} writes the rest; {@link drop} lets them all go.
 */
export class StagedRows {
  private readonly rows: BatchedInsert;
  private dropped = false;
  count = 0;

  constructor(
    private readonly db: Database.Database,
    readonly table: string,
  ) {
    let statements: { many: Database.Statement<unknown[]>; one: Database.Statement<unknown[]> } | undefined;
    this.rows = new BatchedInsert(1, () => {
      statements ??= {
        many: db.prepare(`INSERT INTO temp.${table} (v) VALUES ${new Array<string>(BATCH).fill('(?)').join(', ')}`),
        one: db.prepare(`INSERT INTO temp.${table} (v) VALUES (?)`),
      };
      return statements;
    });
  }

  add(json: string): void {
    this.rows.params.push(json);
    this.count++;
    this.rows.added();
  }

  /** Writes the rows still pending (fewer than a batch). */
  finish(): void {
    this.rows.flush();
  }

  /** The staged rows' values, in order, read a thousand at a time (so other statements may run in between). */
  *values(): Generator<Record<string, StoredValue>> {
    if (this.dropped) return;
    const page = this.db.prepare(`SELECT rowid, v FROM temp.${this.table} WHERE rowid > ? ORDER BY rowid LIMIT 1000`).raw(true);
    let after = 0;
    for (;;) {
      const rows = page.all(after) as [number, string][];
      for (const [, v] of rows) yield JSON.parse(v) as Record<string, StoredValue>;
      const last = rows.at(-1);
      if (!last || rows.length < 1000) return;
      after = last[0];
    }
  }

  /** Drops the table (again: nothing). */
  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.rows.params.length = 0;
    if (this.db.open) this.db.exec(`DROP TABLE IF EXISTS temp.${this.table}`);
  }

  get available(): boolean {
    return !this.dropped;
  }
}

function decode(r: RawRow, hash: number): StoredRow {
  return new StoredRow(r[0], r[2], r[3], JSON.parse(r[4]) as Record<string, StoredValue>, hash);
}
