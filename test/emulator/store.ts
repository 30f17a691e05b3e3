/**
 * The emulator's state: users, credentials, datasets (views) and their rows, plus the logs tests read
 * (applied writes, fault counters, sink counters).
 *
 * Rows live in memory (a Map keyed by `:id`, plus one keyed by the row-identifier value when the dataset has
 * one), so reads and 1M-row upserts stay fast. With a data directory every change is also written through to
 * SQLite (`emulator.sqlite`: `kv` for principals, `datasets` for metadata, `rows` for row JSON), and state is
 * loaded from it at start. Sample rows are generated lazily on first access and only written to SQLite when the
 * dataset is first changed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse as parseCsv } from 'csv-parse/sync';
import { sodaError, EmulatorHttpError } from './errors';
import { MALTYPED, describeValue, fromCsv, fromJson, normalizeDataType, soqlTypeOf, type Converted, type DataTypeName, type StoredValue } from './types';
import type { Grant, GrantType } from './grants';
import { SAMPLE, sampleRows, sampleCatalog } from './seed';

export type Role = 'publisher' | 'viewer' | 'administrator';

export interface User {
  /** User uid in 4x4 form. */
  id: string;
  email: string;
  displayName: string;
  screenName: string;
  roleName: Role;
  /** Domain rights, e.g. `create_datasets`. */
  rights: string[];
}

export interface UserInput {
  id?: string;
  email: string;
  password?: string;
  displayName: string;
  roleName: Role;
}

export interface ColumnDef {
  id: number;
  name: string;
  fieldName: string;
  dataTypeName: DataTypeName;
  /** 1-based. */
  position: number;
  description: string;
}

export interface ColumnInput {
  name: string;
  /** Derived from `name` (lower snake case) when omitted. */
  fieldName?: string;
  /** Legacy (`calendar_date`, `checkbox`) or SoQL (`floating_timestamp`, `boolean`) type name. */
  dataTypeName: string;
  description?: string;
}

export interface Dataset {
  id: string;
  name: string;
  description: string;
  category: string | null;
  tags: string[];
  attribution: string | null;
  /** Owner user id. */
  owner: string;
  isPublic: boolean;
  /** fieldName of the row identifier column, if any. */
  rowIdentifier: string | undefined;
  columns: ColumnDef[];
  /** Epoch seconds. */
  createdAt: number;
  rowsUpdatedAt: number;
  viewLastModified: number;
  rowsUpdatedBy: string;
  publicationStage: 'published' | 'unpublished';
  provenance: 'official' | 'community';
  /** When set, DSMAPI applies to this dataset go through approval. */
  approvalRequired: boolean;
  /** Free-form per-dataset flags tests may set. */
  flags: Record<string, unknown>;
  /** Bumped on every row or metadata change (used for ETags). */
  dataVersion: number;
  nextColumnId: number;
  nextSid: number;
  /** Name of the sample generator whose rows have not been materialised yet. */
  seedPending: string | undefined;
  /** Roles given to other users (absent in state saved before sharing existed). */
  grants?: Grant[];
}

export interface DatasetInput {
  /** A fixed 4x4 (must be unused); generated when omitted. */
  id?: string;
  name: string;
  description?: string;
  category?: string | null;
  tags?: string[];
  attribution?: string | null;
  /** Owner user id. */
  owner: string;
  /** Default false (new datasets are private, as on Socrata). */
  isPublic?: boolean;
  columns: ColumnInput[];
  /** fieldName of the row identifier column. */
  rowIdentifier?: string;
  publicationStage?: 'published' | 'unpublished';
  approvalRequired?: boolean;
  provenance?: 'official' | 'community';
}

export interface Row {
  /** Internal sequence number. */
  sid: number;
  /** `:id`, e.g. `row-abcd~efgh~ijkm`. */
  id: string;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Stored values by fieldName (null cells are absent). */
  v: Record<string, StoredValue>;
}

/** The public upsert/replace report (all six keys, as the docs and captured responses show). */
export interface UpsertResult {
  'By RowIdentifier': number;
  'Rows Updated': number;
  'Rows Deleted': number;
  'By SID': number;
  'Rows Created': number;
  Errors: number;
}

export interface AppliedWrite {
  seq: number;
  /** Epoch ms. */
  at: number;
  requestId: string | undefined;
  dataset: string;
  kind: 'upsert' | 'replace' | 'delete';
  /** Number of row operations in the request. */
  rowsIn: number;
  result: UpsertResult;
  /** Where the write came from, e.g. `resource`, `dsmapi`, `store`. */
  source: string;
}

export interface WriteOptions {
  requestId?: string;
  source?: string;
}

export interface FaultCounters {
  requests: number;
  latencyMs: number;
  errors5xx: number;
  resets: number;
  throttled: number;
  throttledWithRetryAfter: number;
  resetsAfterApply: number;
  /** Reads answered 202 Accepted (`accepted=<rate>`). */
  accepted: number;
}

export interface SinkCounters {
  requests: number;
  rows: number;
  bytes: number;
}

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** Registered callback prefixes (redirect_uri must start with one of them). */
  callbackPrefixes: string[];
  /** Also accept `http://127.0.0.1:<any port>/` and `http://localhost:<any port>/` redirects. */
  allowLoopback: boolean;
}

interface ApiKey {
  keyId: string;
  keySecret: string;
  userId: string;
}

interface Principals {
  users: (User & { password?: string })[];
  apiKeys: ApiKey[];
  appTokens: string[];
  clients: OAuthClient[];
  tokens: { token: string; userId: string; clientId: string }[];
}

interface RowState {
  /** Hash of the dataset id: the first five characters of every `:id`. */
  hash: number;
  /** Rows by sid, in insertion order (an `:id` is decoded to its sid, see {@link sidOfRowId}). */
  byId: Map<number, Row>;
  byKey: Map<string, Row> | undefined;
}

/** One validated row operation of an upsert/replace request. */
interface Op {
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
const FOURBYFOUR = /^[a-z0-9]{4}-[a-z0-9]{4}$/;
const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export function isFourByFour(s: string): boolean {
  return FOURBYFOUR.test(s);
}

/** Canonical map key of a row-identifier value. */
export function keyOf(v: StoredValue): string {
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function datasetHash(datasetId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < datasetId.length; i++) h = Math.imul(h ^ datasetId.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const SID_MULTIPLIER = 0x9e3779b1;
/** The inverse of {@link SID_MULTIPLIER} modulo 2^32 (Newton's iteration), to decode an `:id` back to its sid. */
const SID_INVERSE = ((): number => {
  let x = SID_MULTIPLIER;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(SID_MULTIPLIER, x));
  return x >>> 0;
})();

/** `row-xxxx~xxxx~xxxx`: five characters of the dataset hash, then seven of the scrambled sid (5 bits each). */
function rowIdOf(hash: number, sid: number): string {
  const low = Math.imul(sid, SID_MULTIPLIER) >>> 0; // bijection on 32 bits: unique per sid
  let s = '';
  let hi = hash;
  for (let i = 0; i < 5; i++) {
    s += ID_ALPHABET[hi & 31] ?? 'a';
    hi >>>= 5;
  }
  let lo = low;
  for (let i = 0; i < 7; i++) {
    s += ID_ALPHABET[lo & 31] ?? 'a';
    lo = Math.floor(lo / 32);
  }
  return `row-${s.slice(0, 4)}~${s.slice(4, 8)}~${s.slice(8, 12)}`;
}

/** The sid an `:id` of this dataset stands for, or undefined when it is not one of its ids. */
function sidOfRowId(hash: number, id: string): number | undefined {
  if (id.length !== 18 || !id.startsWith('row-') || id[8] !== '~' || id[13] !== '~') return undefined;
  const s = id.slice(4, 8) + id.slice(9, 13) + id.slice(14, 18);
  let lo = 0;
  for (let i = 11; i >= 5; i--) {
    const d = ID_ALPHABET.indexOf(s[i] ?? '');
    if (d < 0) return undefined;
    lo = lo * 32 + d;
  }
  if (lo >= 2 ** 32) return undefined;
  const sid = Math.imul(lo, SID_INVERSE) >>> 0;
  return rowIdOf(hash, sid) === id ? sid : undefined;
}

/**
 * A stored row: its `:id` is computed from the dataset hash and the sid when read, not kept (an id string per row
 * cost more memory than the rest of the row's bookkeeping).
 */
class StoredRow implements Row {
  constructor(
    readonly sid: number,
    public createdAt: number,
    public updatedAt: number,
    public v: Record<string, StoredValue>,
    private readonly hash: number,
  ) {}
  get id(): string {
    return rowIdOf(this.hash, this.sid);
  }
  toJSON(): Row {
    return { sid: this.sid, id: this.id, createdAt: this.createdAt, updatedAt: this.updatedAt, v: this.v };
  }
}

function emptyRowState(ds: Dataset): RowState {
  return { hash: datasetHash(ds.id), byId: new Map(), byKey: ds.rowIdentifier ? new Map() : undefined };
}

function fieldNameFrom(name: string): string {
  const f = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return f === '' ? 'column' : /^[0-9]/.test(f) ? `_${f}` : f;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function emptyResult(): UpsertResult {
  return { 'By RowIdentifier': 0, 'Rows Updated': 0, 'Rows Deleted': 0, 'By SID': 0, 'Rows Created': 0, Errors: 0 };
}

function rightsFor(role: Role): string[] {
  switch (role) {
    case 'administrator':
      return ['create_datasets', 'edit_others_datasets', 'edit_sdp', 'view_domain', 'view_others_datasets', 'manage_users'];
    case 'publisher':
      return ['create_datasets', 'edit_sdp', 'view_domain', 'view_others_datasets', 'manage_stories'];
    case 'viewer':
      return ['view_domain'];
  }
}

export interface StoreOptions {
  /** Directory for `emulator.sqlite`; in memory when omitted. */
  dataDir?: string;
  /** Load the sample seed into an empty store (default `sample`). */
  seed?: 'sample' | 'none';
}

export class EmulatorStore {
  private readonly principals: Principals = { users: [], apiKeys: [], appTokens: [], clients: [], tokens: [] };
  private readonly datasets = new Map<string, Dataset>();
  private readonly rowStates = new Map<string, RowState>();
  private readonly db: Database.Database | undefined;
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
    if (opts.dataDir) {
      mkdirSync(opts.dataDir, { recursive: true });
      this.db = new Database(join(opts.dataDir, 'emulator.sqlite'));
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS datasets (id TEXT PRIMARY KEY, json TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS rows (dataset TEXT NOT NULL, sid INTEGER NOT NULL, json TEXT NOT NULL,
          PRIMARY KEY (dataset, sid)) WITHOUT ROWID;`);
      const kv = this.db.prepare('SELECT v FROM kv WHERE k = ?').get('principals') as { v: string } | undefined;
      if (kv) {
        Object.assign(this.principals, JSON.parse(kv.v) as Principals);
        for (const r of this.db.prepare('SELECT json FROM datasets').all() as { json: string }[]) {
          const ds = JSON.parse(r.json) as Dataset;
          this.datasets.set(ds.id, ds);
        }
        return;
      }
    }
    if ((opts.seed ?? 'sample') === 'sample') this.loadSample();
    this.savePrincipals();
  }

  /** Closes the SQLite database (if any). */
  close(): void {
    this.db?.close();
  }

  // ---------------------------------------------------------------- principals

  /** Creates a user (id generated when omitted) and returns it. */
  createUser(input: UserInput): User {
    const id = input.id ?? this.newFourByFour(new Set(this.principals.users.map((u) => u.id)));
    if (this.principals.users.some((u) => u.id === id || u.email.toLowerCase() === input.email.toLowerCase())) {
      throw new Error(`user ${id} / ${input.email} already exists`);
    }
    const user: User & { password?: string } = {
      id,
      email: input.email,
      displayName: input.displayName,
      screenName: input.displayName,
      roleName: input.roleName,
      rights: rightsFor(input.roleName),
    };
    if (input.password !== undefined) user.password = input.password;
    this.principals.users.push(user);
    this.savePrincipals();
    return publicUser(user);
  }

  getUser(id: string): User | undefined {
    const u = this.principals.users.find((x) => x.id === id);
    return u && publicUser(u);
  }

  userByEmail(email: string): User | undefined {
    const u = this.principals.users.find((x) => x.email.toLowerCase() === email.toLowerCase());
    return u && publicUser(u);
  }

  /** Adds an API key (key id/secret usable in HTTP Basic) for a user. */
  addApiKey(userId: string, keyId: string, keySecret: string): void {
    this.principals.apiKeys.push({ keyId, keySecret, userId });
    this.savePrincipals();
  }

  /** HTTP Basic check: email + password, or API key id + secret. */
  authenticateBasic(username: string, password: string): User | undefined {
    const key = this.principals.apiKeys.find((k) => k.keyId === username);
    if (key) return key.keySecret === password ? this.getUser(key.userId) : undefined;
    const u = this.principals.users.find((x) => x.email.toLowerCase() === username.toLowerCase());
    if (u?.password !== undefined && u.password === password) return publicUser(u);
    return undefined;
  }

  /** Registers an app token (also usable as an OAuth client id when a client is added for it). */
  addAppToken(token: string): void {
    if (!this.principals.appTokens.includes(token)) this.principals.appTokens.push(token);
    this.savePrincipals();
  }

  isKnownAppToken(token: string): boolean {
    return this.principals.appTokens.includes(token);
  }

  /** Registers an OAuth client; its client id becomes a known app token. */
  addOAuthClient(client: OAuthClient): void {
    this.principals.clients = this.principals.clients.filter((c) => c.clientId !== client.clientId);
    this.principals.clients.push(client);
    this.addAppToken(client.clientId);
  }

  oauthClient(clientId: string): OAuthClient | undefined {
    return this.principals.clients.find((c) => c.clientId === clientId);
  }

  /** Issues a new OAuth access token for `userId` on behalf of `clientId` (used by the OAuth module). */
  issueAccessToken(userId: string, clientId: string): string {
    if (!this.getUser(userId)) throw new Error(`unknown user ${userId}`);
    const token = randomBytes(24).toString('base64url');
    this.principals.tokens.push({ token, userId, clientId });
    this.savePrincipals();
    return token;
  }

  /** The user an OAuth access token belongs to, or undefined when unknown/revoked. */
  userForToken(token: string): User | undefined {
    const t = this.principals.tokens.find((x) => x.token === token);
    return t && this.getUser(t.userId);
  }

  /** Revokes an access token; returns whether it existed. */
  revokeAccessToken(token: string): boolean {
    const before = this.principals.tokens.length;
    this.principals.tokens = this.principals.tokens.filter((x) => x.token !== token);
    this.savePrincipals();
    return this.principals.tokens.length !== before;
  }

  // ---------------------------------------------------------------- datasets

  /**
   * Creates a dataset (view) with its columns and returns its 4x4. Column field names are derived from the
   * display names when omitted; `rowIdentifier` is a fieldName. Throws an {@link EmulatorHttpError}
   * (`soda.column.unknown-type`, `soda.dataset.already-exists`, …) on bad input.
   */
  createDataset(input: DatasetInput): string {
    if (!this.getUser(input.owner)) throw sodaError(400, 'soda.dataset.maltyped', `Unknown owner ${input.owner}`, { owner: input.owner });
    const id = input.id ?? this.newFourByFour(new Set(this.datasets.keys()));
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
    this.rowStates.set(id, emptyRowState(ds));
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
    this.rowStates.delete(id);
    if (this.db) {
      this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
      this.db.prepare('DELETE FROM rows WHERE dataset = ?').run(id);
    }
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
    const st = this.rows(ds);
    if (fieldName === undefined) {
      ds.rowIdentifier = undefined;
      st.byKey = undefined;
    } else {
      if (!ds.columns.some((c) => c.fieldName === fieldName)) {
        throw sodaError(404, 'soda.dataset.column-not-found', `Column ${fieldName} was not found on dataset ${id}`, { dataset: id, column: fieldName });
      }
      const byKey = new Map<string, Row>();
      for (const row of st.byId.values()) {
        const v = row.v[fieldName];
        if (v === undefined) {
          throw sodaError(400, 'soda.row.primary-key-nonexistent-or-null', 'row lacks a primary key or it is null', { value: row.id });
        }
        const k = keyOf(v);
        if (byKey.has(k)) throw sodaError(400, 'soda.column.not-unique', `row-identifier column ${fieldName} contains duplicate values`, { column: fieldName });
        byKey.set(k, row);
      }
      ds.rowIdentifier = fieldName;
      st.byKey = byKey;
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
    const st = renames.size ? this.rows(ds) : undefined;
    for (const ch of changes) {
      const col = ds.columns.find((c) => c.id === ch.id);
      if (!col) continue;
      if (ch.name !== undefined) col.name = ch.name;
      if (ch.description !== undefined) col.description = ch.description;
      if (ch.fieldName !== undefined) col.fieldName = ch.fieldName;
    }
    if (st) {
      for (const row of st.byId.values()) {
        const v: Record<string, StoredValue> = {};
        for (const [k, x] of Object.entries(row.v)) v[renames.get(k) ?? k] = x;
        row.v = v;
      }
      if (ds.rowIdentifier) ds.rowIdentifier = renames.get(ds.rowIdentifier) ?? ds.rowIdentifier;
    }
    ds.viewLastModified = nowSeconds();
    ds.dataVersion++;
    if (st) this.persistRows(ds, st, new Set(), [], true);
    else this.saveDataset(ds);
  }

  // ---------------------------------------------------------------- rows

  /** Rows of a dataset in `:id` (insertion) order. */
  getRows(id: string): Row[] {
    return [...this.rows(this.mustGet(id)).byId.values()];
  }

  /** Number of rows (generates sample rows if still pending). */
  rowCount(id: string): number {
    return this.rows(this.mustGet(id)).byId.size;
  }

  /** Iterates rows without copying (the emulator's query engine uses it). */
  iterateRows(id: string): IterableIterator<Row> {
    return this.rows(this.mustGet(id)).byId.values();
  }

  /**
   * Finds a row by its row-identifier value (as text, e.g. from a URL path) or by its `:id`.
   */
  findRow(id: string, idOrKey: string): Row | undefined {
    const ds = this.mustGet(id);
    const st = this.rows(ds);
    if (ds.rowIdentifier && st.byKey) {
      const col = ds.columns.find((c) => c.fieldName === ds.rowIdentifier);
      if (col) {
        const v = fromCsv(col.dataTypeName, idOrKey);
        if (v !== null && v !== MALTYPED) {
          const r = st.byKey.get(keyOf(v));
          if (r) return r;
        }
      }
    }
    const sid = sidOfRowId(st.hash, idOrKey);
    return sid === undefined ? undefined : st.byId.get(sid);
  }

  /**
   * Upsert of JSON row objects (the `/resource` POST semantics): merge updates, `:deleted`, `:id`, matching on
   * the row identifier; without one, rows lacking `:id` are appended. The whole request is validated first:
   * an unknown field (400 `soda.row.column-not-found`), a maltyped value (400 `soda.column.maltyped`) or a
   * missing key throws an {@link EmulatorHttpError} and nothing is applied.
   */
  upsertRows(id: string, rows: unknown[], opts: WriteOptions = {}): UpsertResult {
    const ds = this.mustGet(id);
    const ops = this.prepareJson(ds, rows);
    return this.apply(ds, ops, false, opts);
  }

  /** Replaces all rows atomically with the given JSON row objects (`[]` truncates). Validation as for upsert. */
  replaceRows(id: string, rows: unknown[], opts: WriteOptions = {}): UpsertResult {
    const ds = this.mustGet(id);
    const ops = this.prepareJson(ds, rows);
    return this.apply(ds, ops, true, opts);
  }

  /** Upsert from CSV text whose header holds field names (`:id`, `:deleted` allowed); empty cells are null. */
  upsertCsv(id: string, csv: string, opts: WriteOptions = {}): UpsertResult {
    const ds = this.mustGet(id);
    return this.apply(ds, this.prepareCsv(ds, csv), false, opts);
  }

  /** Replace from CSV text (see {@link upsertCsv}). */
  replaceCsv(id: string, csv: string, opts: WriteOptions = {}): UpsertResult {
    const ds = this.mustGet(id);
    return this.apply(ds, this.prepareCsv(ds, csv), true, opts);
  }

  /**
   * Upsert (or, with `replace`, replace) of values already in stored form, as DSMAPI's output schemas hold them:
   * `valueOf(row, i)` is the value of column `fields[i]`; a null leaves the cell out (an update keeps its old value,
   * as DSMAPI's row objects always did here). Matching and the report
   * are those of {@link upsertRows}. `columns[i].dataType` is the type the values of column i are in: where it is the
   * dataset column's type the values are taken as they are, otherwise they are converted (400
   * `soda.column.maltyped` when one does not fit, and nothing is applied).
   */
  applyStoredRows<R>(
    id: string,
    columns: readonly { field: string; dataType: DataTypeName }[],
    rows: readonly R[],
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
    const ops = new Array<Op>(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
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
      const op = this.finishOp(ds, values, undefined, false, r, values);
      op.clean = true;
      ops[r] = op;
    }
    return this.apply(ds, ops, replace, opts);
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

  private newFourByFour(taken: Set<string>): string {
    for (;;) {
      const b = randomBytes(8);
      let s = '';
      for (let i = 0; i < 8; i++) s += (i === 4 ? '-' : '') + ID_ALPHABET[(b[i] ?? 0) & 31];
      if (!taken.has(s)) return s;
    }
  }

  /** Row state, loading/generating it on first use. */
  private rows(ds: Dataset): RowState {
    let st = this.rowStates.get(ds.id);
    if (st) return st;
    st = emptyRowState(ds);
    if (ds.seedPending) {
      const created = ds.createdAt * 1000;
      let sid = 0;
      for (const v of sampleRows(ds.seedPending)) {
        sid++;
        const row = new StoredRow(sid, created, created, v, st.hash);
        st.byId.set(sid, row);
        const kv = ds.rowIdentifier ? v[ds.rowIdentifier] : undefined;
        if (st.byKey && kv !== undefined) st.byKey.set(keyOf(kv), row);
      }
      ds.nextSid = Math.max(ds.nextSid, sid + 1);
    } else if (this.db) {
      for (const r of this.db.prepare('SELECT json FROM rows WHERE dataset = ? ORDER BY sid').all(ds.id) as { json: string }[]) {
        const saved = JSON.parse(r.json) as Row;
        const row = new StoredRow(saved.sid, saved.createdAt, saved.updatedAt, saved.v, st.hash);
        st.byId.set(row.sid, row);
        if (st.byKey && ds.rowIdentifier) {
          const v = row.v[ds.rowIdentifier];
          if (v !== undefined) st.byKey.set(keyOf(v), row);
        }
      }
    }
    this.rowStates.set(ds.id, st);
    return st;
  }

  private prepareJson(ds: Dataset, rows: unknown[]): Op[] {
    const cols = new Map(ds.columns.map((c) => [c.fieldName, c] as const));
    const ops: Op[] = new Array<Op>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const el = rows[i];
      if (Array.isArray(el)) {
        // `[<row id>]` deletes that row (soda-fountain accepts this form).
        if (el.length !== 1) throw sodaError(400, 'soda.row.upsert-row-not-an-object', 'Row is not parseable as a json object', { value: el, index: i });
        ops[i] = this.deleteOp(ds, el[0], i);
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
      ops[i] = this.finishOp(ds, values, sid, del, i, obj);
    }
    return ops;
  }

  private deleteOp(ds: Dataset, raw: unknown, index: number): Op {
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

  private finishOp(ds: Dataset, values: Record<string, StoredValue | null>, sid: string | undefined, del: boolean, index: number, original: unknown): Op {
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

  private prepareCsv(ds: Dataset, csv: string): Op[] {
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
        ops[r - 1] = this.finishOp(ds, values, sid, del, r - 1, Object.fromEntries(header.map((h, i) => [h, rec[i]])));
      } catch (e) {
        if (e instanceof EmulatorHttpError) e.data.line = r + 1;
        throw e;
      }
    }
    return ops;
  }

  private apply(ds: Dataset, ops: Op[], replace: boolean, opts: WriteOptions, kind?: AppliedWrite['kind']): UpsertResult {
    const old = this.rows(ds);
    const st: RowState = replace ? emptyRowState(ds) : old;
    const result = emptyResult();
    const now = Date.now();
    const changed = new Set<Row>();
    const deleted: number[] = [];
    const rid = ds.rowIdentifier;
    for (const op of ops) {
      let row: Row | undefined;
      if (op.key !== undefined) {
        row = st.byKey?.get(op.key);
        result['By RowIdentifier']++;
      } else if (op.sid !== undefined) {
        const sid = sidOfRowId(st.hash, op.sid);
        row = sid === undefined ? undefined : st.byId.get(sid);
        result['By SID']++;
      }
      if (op.del) {
        if (!row) {
          result.Errors++;
          continue;
        }
        st.byId.delete(row.sid);
        if (rid && st.byKey) {
          const kv = row.v[rid];
          if (kv !== undefined) st.byKey.delete(keyOf(kv));
        }
        changed.delete(row);
        deleted.push(row.sid);
        result['Rows Deleted']++;
        continue;
      }
      if (row) {
        // Merge; an update addressed by :id may change the row identifier value (if it stays unique).
        if (rid && st.byKey && op.sid !== undefined && rid in op.values) {
          const nv = op.values[rid];
          if (nv === null || nv === undefined) {
            result.Errors++;
            continue;
          }
          const nk = keyOf(nv);
          const other = st.byKey.get(nk);
          if (other && other !== row) {
            result.Errors++;
            continue;
          }
          const ok = row.v[rid];
          if (ok !== undefined) st.byKey.delete(keyOf(ok));
          st.byKey.set(nk, row);
        }
        for (const k in op.values) {
          const v = op.values[k];
          if (v === null || v === undefined) delete row.v[k];
          else row.v[k] = v;
        }
        row.updatedAt = now;
        changed.add(row);
        result['Rows Updated']++;
        continue;
      }
      if (op.sid !== undefined) {
        // No such row to update.
        result.Errors++;
        continue;
      }
      const sid = ds.nextSid++;
      let v: Record<string, StoredValue>;
      if (op.clean) v = op.values as Record<string, StoredValue>;
      else {
        v = {};
        for (const k in op.values) {
          const x = op.values[k];
          if (x !== null && x !== undefined) v[k] = x;
        }
      }
      const nr = new StoredRow(sid, now, now, v, st.hash);
      st.byId.set(sid, nr);
      if (op.key !== undefined) st.byKey?.set(op.key, nr);
      changed.add(nr);
      result['Rows Created']++;
    }
    if (replace) {
      this.rowStates.set(ds.id, st);
      result['Rows Deleted'] = 0;
    }
    const secs = Math.floor(now / 1000);
    ds.rowsUpdatedAt = secs;
    ds.viewLastModified = secs;
    ds.dataVersion++;
    this.persistRows(ds, st, changed, deleted, replace);
    this.appliedWrites.push({
      seq: ++this.seq,
      at: now,
      requestId: opts.requestId,
      dataset: ds.id,
      kind: kind ?? (replace ? 'replace' : 'upsert'),
      rowsIn: ops.length,
      result: { ...result },
      source: opts.source ?? 'store',
    });
    return result;
  }

  private persistRows(ds: Dataset, st: RowState, changed: Set<Row>, deleted: number[], replace: boolean): void {
    const db = this.db;
    if (!db) return;
    const full = replace || ds.seedPending !== undefined;
    ds.seedPending = undefined;
    const ins = db.prepare('INSERT OR REPLACE INTO rows (dataset, sid, json) VALUES (?, ?, ?)');
    const del = db.prepare('DELETE FROM rows WHERE dataset = ? AND sid = ?');
    db.transaction(() => {
      if (full) {
        db.prepare('DELETE FROM rows WHERE dataset = ?').run(ds.id);
        for (const r of st.byId.values()) ins.run(ds.id, r.sid, JSON.stringify(r));
      } else {
        for (const sid of deleted) del.run(ds.id, sid);
        for (const r of changed) ins.run(ds.id, r.sid, JSON.stringify(r));
      }
      db.prepare('INSERT OR REPLACE INTO datasets (id, json) VALUES (?, ?)').run(ds.id, JSON.stringify(ds));
    })();
  }

  private saveDataset(ds: Dataset): void {
    this.db?.prepare('INSERT OR REPLACE INTO datasets (id, json) VALUES (?, ?)').run(ds.id, JSON.stringify(ds));
  }

  private savePrincipals(): void {
    this.db?.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)').run('principals', JSON.stringify(this.principals));
  }

  private loadSample(): void {
    for (const u of Object.values(SAMPLE.users)) {
      this.principals.users.push({
        id: u.id,
        email: u.email,
        password: u.password,
        displayName: u.displayName,
        screenName: u.displayName,
        roleName: u.roleName,
        rights: rightsFor(u.roleName),
      });
    }
    this.principals.apiKeys.push({ keyId: SAMPLE.apiKey.keyId, keySecret: SAMPLE.apiKey.keySecret, userId: SAMPLE.apiKey.userId });
    this.principals.appTokens.push(SAMPLE.appToken);
    this.principals.clients.push({
      clientId: SAMPLE.oauthClient.clientId,
      clientSecret: SAMPLE.oauthClient.clientSecret,
      callbackPrefixes: [SAMPLE.oauthClient.callbackPrefix],
      allowLoopback: true,
    });
    for (const d of Object.values(SAMPLE.datasets)) {
      const input: DatasetInput = {
        id: d.id,
        name: d.name,
        description: d.description,
        category: d.category,
        tags: [...d.tags],
        owner: d.owner,
        isPublic: d.isPublic,
        columns: d.columns.map((c) => ({ ...c })),
      };
      if (d.rowIdentifier) input.rowIdentifier = d.rowIdentifier;
      this.createDataset(input);
      const ds = this.mustGet(d.id);
      ds.createdAt = ds.rowsUpdatedAt = ds.viewLastModified = SAMPLE.createdAt;
      ds.seedPending = d.id;
      this.rowStates.delete(d.id);
      ds.grants = (SAMPLE.grants as readonly { dataset: string; userId: string; type: GrantType }[])
        .filter((g) => g.dataset === d.id)
        .map((g) => ({ type: g.type, userId: g.userId }));
      this.saveDataset(ds);
    }
    this.loadSampleCatalog();
  }

  /** The public catalog of other departments: metadata only, no rows (cheap to create and to keep). */
  private loadSampleCatalog(): void {
    const save = (): void => {
      for (const d of sampleCatalog()) {
        this.createDataset({
          id: d.id,
          name: d.name,
          description: d.description,
          category: d.category,
          tags: [...d.tags],
          owner: d.owner,
          isPublic: true,
          columns: d.columns.map((c) => ({ ...c })),
        });
        const ds = this.mustGet(d.id);
        ds.createdAt = ds.rowsUpdatedAt = ds.viewLastModified = d.updatedAt;
        this.saveDataset(ds);
      }
    };
    if (this.db) this.db.transaction(save)();
    else save();
  }
}

function publicUser(u: User & { password?: string }): User {
  return { id: u.id, email: u.email, displayName: u.displayName, screenName: u.screenName, roleName: u.roleName, rights: [...u.rights] };
}

function maltyped(field: string, type: DataTypeName, got: unknown, index: number, pos: { line: number; column: number } | undefined): EmulatorHttpError {
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

function columnNotFound(name: string, index: number | undefined, pos: { line: number; column: number } | undefined): EmulatorHttpError {
  const data: Record<string, unknown> = { value: name };
  if (index !== undefined) data.index = index;
  if (pos) Object.assign(data, pos);
  return sodaError(400, 'soda.row.column-not-found', `One or more rows expected column '${name}' which was not found on the dataset`, data);
}
