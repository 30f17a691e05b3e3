/**
 * Dataset Management API (`/api/publishing/v1/**`) of the emulator: revisions, sources, single-shot and
 * chunked uploads, input/output schemas with evaluated transforms, row-id validation, schema errors
 * (JSON and CSV) and asynchronous apply jobs. Resources answer `{resource, links}`; three answers are flat, as on
 * the platform (socrata-py and the .NET client read them so): `initiate` (`{preferred_chunk_size,
 * preferred_upload_parallelism}`), `validate_row_id` (`{valid}`) and apply when approval is needed
 * (`{key: "approval_submitted", …}`). Errors use envelope A.
 *
 * Tests tune it per emulator instance with {@link configureDsmapi} (chunk size, delays) and
 * {@link failChunkOnce}; approval is the store's per-dataset `setApprovalRequired`.
 */
import { BadRequestError, BodyTooLargeError, type EmulatorContext } from '../context';
import { EmulatorHttpError } from '../errors';
import type { Dataset, EmulatorStore, User } from '../store';
import { type StoredValue, toCsvText } from '../types';
import {
  type Cell,
  type DsmapiConfig,
  DsmapiState,
  evaluate,
  FUNCTION_OF_SOQL,
  fieldNameOf,
  guessType,
  type InputSchemaState,
  nowIso,
  type OutputColumnState,
  type OutputSchemaState,
  parseExpr,
  parseUpload,
  type RevisionState,
  type SourceState,
  type TaskSetState,
  type UserRef,
} from './model';

const BASE = '/api/publishing/v1';
const states = new WeakMap<EmulatorStore, DsmapiState>();

/** The DSMAPI state of an emulator (created on first use). */
export function dsmapiState(store: EmulatorStore): DsmapiState {
  let s = states.get(store);
  if (!s) {
    s = new DsmapiState();
    states.set(store, s);
  }
  return s;
}

/** Changes chunk size, parallelism and processing delays for one emulator instance. */
export function configureDsmapi(store: EmulatorStore, config: Partial<DsmapiConfig>): void {
  const s = dsmapiState(store);
  s.config = { ...s.config, ...config };
}

/** The next upload of chunk number `seq` (any source) fails once with a 500. */
export function failChunkOnce(store: EmulatorStore, seq: number): void {
  dsmapiState(store).failChunksOnce.add(seq);
}

/** Cancels pending apply timers (call before stopping an emulator mid-job). */
export function stopDsmapi(store: EmulatorStore): void {
  states.get(store)?.stop();
}

/** An open revision of an existing dataset, as the catalog lists it to the dataset's owner. */
export interface DraftRef {
  fourfour: string;
  revision_seq: number;
  name: string | undefined;
  created_at: string;
}

/** Open revisions of existing datasets (not of datasets that only exist as a draft), oldest first. */
export function openDrafts(store: EmulatorStore): DraftRef[] {
  const out: DraftRef[] = [];
  for (const list of dsmapiState(store).revisions.values()) {
    for (const r of list) {
      if (r.closed_at || r.creates) continue;
      const name = typeof r.metadata?.name === 'string' && r.metadata.name.trim() !== '' ? r.metadata.name : undefined;
      out.push({ fourfour: r.fourfour, revision_seq: r.revision_seq, name, created_at: r.created_at });
    }
  }
  return out;
}

/**
 * The sample seed's draft: an open update revision of `tree-cnsu` owned by the publisher, listed in the catalog as
 * `tree-cnsu:1`. Does nothing when the dataset or its owner is missing.
 */
export function seedDraft(store: EmulatorStore): void {
  const ds = store.getDataset('tree-cnsu');
  const owner = ds ? store.getUser(ds.owner) : undefined;
  if (!ds || !owner || dsmapiState(store).revisionsOf(ds.id).length > 0) return;
  newRevision(dsmapiState(store), ds.id, owner, { type: 'update' }, null, false);
}

class Fail extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const userRef = (u: User): UserRef => ({ user_id: u.id, display_name: u.displayName, email: u.email });
const FOURFOUR = /^[a-z0-9]{4}-[a-z0-9]{4}$/;

function mayWrite(ds: Dataset, u: User): boolean {
  return ds.owner === u.id || u.roleName === 'administrator';
}

function requireUser(ctx: EmulatorContext): User {
  if (!ctx.user) throw new Fail(401, 'authentication_required', 'You must be logged in to use the Dataset Management API');
  return ctx.user;
}

function requireDataset(ctx: EmulatorContext, fourfour: string, user: User): Dataset {
  if (!FOURFOUR.test(fourfour)) throw new Fail(400, 'invalid_fourfour', `"${fourfour}" is not a 4x4 id`, { fourfour });
  const ds = ctx.store.getDataset(fourfour);
  if (!ds || (!ds.isPublic && !mayWrite(ds, user))) throw new Fail(404, 'not_found', `Dataset ${fourfour} was not found`, { fourfour });
  if (!mayWrite(ds, user)) throw new Fail(403, 'permission_denied', `You do not have permission to change dataset ${fourfour}`, { fourfour });
  return ds;
}

function requireRevision(ctx: EmulatorContext, st: DsmapiState, fourfour: string, seqText: string, user: User): RevisionState {
  requireDataset(ctx, fourfour, user);
  const rev = st.findRevision(fourfour, Number(seqText));
  if (!/^\d+$/.test(seqText) || !rev) throw new Fail(404, 'not_found', `Revision ${seqText} of ${fourfour} was not found`, { fourfour, revision_seq: seqText });
  return rev;
}

function requireOpen(rev: RevisionState): void {
  if (rev.closed_at) throw new Fail(400, 'revision_closed', `Revision ${rev.revision_seq} of ${rev.fourfour} is closed`, { revision_seq: rev.revision_seq });
}

function requireSource(ctx: EmulatorContext, st: DsmapiState, idText: string, user: User): SourceState {
  const src = /^\d+$/.test(idText) ? st.sources.get(Number(idText)) : undefined;
  if (!src) throw new Fail(404, 'not_found', `Source ${idText} was not found`, { source_id: idText });
  requireDataset(ctx, src.fourfour, user);
  return src;
}

// ------------------------------------------------------------------------------------------ serialisation

function revisionPath(r: RevisionState): string {
  return `${BASE}/revision/${r.fourfour}/${r.revision_seq}`;
}

function revisionJson(r: RevisionState): unknown {
  const p = revisionPath(r);
  return {
    resource: {
      id: r.id,
      fourfour: r.fourfour,
      revision_seq: r.revision_seq,
      action: r.action,
      metadata: r.metadata,
      output_schema_id: r.output_schema_id,
      created_at: r.created_at,
      created_by: r.created_by,
      closed_at: r.closed_at,
      task_sets: r.task_sets.map(taskSetBody),
      ...(r.approval ? { approval: r.approval } : {}),
    },
    links: { show: p, update: p, discard: p, apply: `${p}/apply`, create_source: `${p}/source`, list_sources: `${p}/source` },
  };
}

function taskSetBody(t: TaskSetState): unknown {
  return { ...t, log: [...t.log].reverse() };
}

function taskSetJson(r: RevisionState, t: TaskSetState): unknown {
  return { resource: taskSetBody(t), links: { show: `${revisionPath(r)}/apply/${t.id}`, revision: revisionPath(r) } };
}

function outputColumnBody(c: OutputColumnState): unknown {
  const { dataType: _dataType, ...rest } = c;
  return rest;
}

function outputSchemaBody(o: OutputSchemaState, now: number): unknown {
  const done = now >= o.readyAt;
  return {
    id: o.id,
    input_schema_id: o.input_schema_id,
    output_columns: o.output_columns.map((c) => {
      const body = outputColumnBody(c) as { transform: Record<string, unknown> };
      if (!done) body.transform = { ...body.transform, completed_at: null, finished_at: null, error_count: null };
      return body;
    }),
    sort_bys: [],
    total_rows: done ? o.rows.length : null,
    error_count: done ? o.error_count : null,
    completed_at: done ? new Date(o.readyAt).toISOString() : null,
    finished_at: done ? new Date(o.readyAt).toISOString() : null,
    created_at: o.created_at,
    created_by: o.created_by,
  };
}

function inputSchemaBody(i: InputSchemaState, now: number): unknown {
  const ready = now >= i.readyAt;
  return {
    id: i.id,
    name: null,
    total_rows: ready ? i.rows.length : null,
    num_row_errors: ready ? i.num_row_errors : null,
    input_columns: i.input_columns,
    output_schemas: ready ? i.output_schemas.map((o) => outputSchemaBody(o, now)) : [],
    created_at: i.created_at,
  };
}

function sourceLinks(s: SourceState): unknown {
  const p = `${BASE}/source/${s.id}`;
  const is = `${p}/schema/{input_schema_id}`;
  return {
    show: p,
    bytes: p,
    update: p,
    initiate: `${p}/initiate`,
    chunk: `${p}/chunk/{seq_num}/{byte_offset}`,
    commit: `${p}/chunk/{seq_num}/{byte_offset}/commit`,
    add_to_revision: p,
    input_schema_links: {
      show: is,
      transform: is,
      latest_output: `${is}/output/latest`,
      output_schema_links: {
        show: `${is}/output/{output_schema_id}`,
        rows: `${is}/rows/{output_schema_id}`,
        schema_errors: `${is}/errors/{output_schema_id}`,
        validate_row_id: `${is}/output/{output_schema_id}/validate_row_id/{transform_id}`,
      },
    },
  };
}

/** The source's `input_schema_links` with `{input_schema_id}` filled in. */
function inputSchemaLinks(s: SourceState, inputSchemaId: number): unknown {
  const fill = (v: unknown): unknown =>
    typeof v === 'string' ? v.replace('{input_schema_id}', String(inputSchemaId)) : Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fill(x)]));
  return fill((sourceLinks(s) as { input_schema_links: unknown }).input_schema_links);
}

function sourceJson(s: SourceState): unknown {
  const now = Date.now();
  return {
    resource: {
      id: s.id,
      source_type: s.source_type,
      parse_options: s.parse_options,
      content_type: s.content_type,
      filesize: s.filesize,
      created_at: s.created_at,
      finished_at: s.finished_at,
      failed_at: s.failed_at,
      failure_details: s.failure_details,
      created_by: s.created_by,
      schemas: s.schemas.map((i) => inputSchemaBody(i, now)),
    },
    links: sourceLinks(s),
  };
}

function outputSchemaJson(s: SourceState, o: OutputSchemaState): unknown {
  const p = `${BASE}/source/${s.id}/schema/${o.input_schema_id}`;
  return {
    resource: outputSchemaBody(o, Date.now()),
    links: {
      show: `${p}/output/${o.id}`,
      rows: `${p}/rows/${o.id}`,
      schema_errors: `${p}/errors/${o.id}`,
      validate_row_id: `${p}/output/${o.id}/validate_row_id/{transform_id}`,
    },
  };
}

// ------------------------------------------------------------------------------------------ operations

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Fail(400, 'invalid_body', `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function parseAction(body: Record<string, unknown>, allowDelete: boolean): RevisionState['action'] {
  const a = body.action === undefined ? { type: 'update' } : asObject(body.action, 'action');
  const type = a.type ?? 'update';
  if (type !== 'update' && type !== 'replace' && !(allowDelete && type === 'delete')) {
    throw new Fail(400, 'invalid_action', `action.type must be update, replace${allowDelete ? ' or delete' : ''}; got ${JSON.stringify(type)}`, { field: 'action.type' });
  }
  const out: RevisionState['action'] = { type };
  // socrata-py sends `permission: null` from create_*_revision by default: the dataset keeps its permission.
  if (a.permission !== undefined && a.permission !== null) {
    if (a.permission !== 'public' && a.permission !== 'private') throw new Fail(400, 'invalid_permission', 'action.permission must be public or private', { field: 'action.permission' });
    out.permission = a.permission;
  }
  return out;
}

function parseMetadata(body: Record<string, unknown>): Record<string, unknown> | null {
  if (body.metadata === undefined || body.metadata === null) return null;
  const m = asObject(body.metadata, 'metadata');
  for (const k of ['name', 'description', 'category'] as const) {
    if (m[k] !== undefined && m[k] !== null && typeof m[k] !== 'string') throw new Fail(400, 'invalid_metadata', `metadata.${k} must be a string`, { field: `metadata.${k}` });
  }
  if (m.tags !== undefined && (!Array.isArray(m.tags) || m.tags.some((t) => typeof t !== 'string'))) {
    throw new Fail(400, 'invalid_metadata', 'metadata.tags must be a list of strings', { field: 'metadata.tags' });
  }
  return m;
}

function newRevision(st: DsmapiState, fourfour: string, user: User, action: RevisionState['action'], metadata: Record<string, unknown> | null, creates: boolean): RevisionState {
  const list = st.revisionsOf(fourfour);
  const rev: RevisionState = {
    id: st.newId(),
    fourfour,
    // Revision 0 is the one that created a dataset; an existing dataset's first revision here is 1.
    revision_seq: list.length === 0 ? (creates ? 0 : 1) : Math.max(...list.map((r) => r.revision_seq)) + 1,
    action,
    metadata,
    output_schema_id: null,
    created_at: nowIso(),
    created_by: userRef(user),
    closed_at: null,
    task_sets: [],
    creates,
    ownerId: user.id,
  };
  list.push(rev);
  return rev;
}

/** Parses the uploaded bytes into an input schema and its first output schema (types guessed). */
function ingest(st: DsmapiState, src: SourceState, bytes: Buffer, user: User): void {
  src.filesize = bytes.length;
  src.finished_at = nowIso();
  const parsed = parseUpload(bytes, src.content_type, src.parse_options);
  if ('error' in parsed) {
    src.failed_at = nowIso();
    src.failure_details = { message: parsed.error };
    return;
  }
  const isid = st.newId();
  const used = new Set<string>();
  const now = Date.now();
  const input: InputSchemaState = {
    id: isid,
    source_id: src.id,
    input_columns: parsed.header.map((h, i) => ({
      id: st.newId(),
      field_name: fieldNameOf(h, used),
      display_name: h.trim() || `Column ${i + 1}`,
      position: i + 1,
      soql_type: 'text',
      guessed_soql_type: guessType(parsed.rows.map((r) => r[i] ?? '')),
      input_schema_id: isid,
    })),
    rows: parsed.rows,
    num_row_errors: parsed.rowErrors,
    output_schemas: [],
    created_at: nowIso(),
    readyAt: now + st.config.parseDelayMs,
  };
  src.schemas.push(input);
  const columns = input.input_columns.map((c) => ({
    field_name: c.field_name,
    display_name: c.display_name,
    description: '',
    position: c.position,
    format: {},
    is_primary_key: false,
    initial_output_column_id: null,
    transform: { transform_expr: `${FUNCTION_OF_SOQL[c.guessed_soql_type] ?? 'to_text'}(\`${c.field_name}\`)` },
  }));
  addOutputSchema(st, src, input, columns, user, input.readyAt);
}

function addOutputSchema(st: DsmapiState, src: SourceState, input: InputSchemaState, raw: unknown[], user: User, after: number): OutputSchemaState {
  const seen = new Set<string>();
  const columns: OutputColumnState[] = raw.map((value, i) => {
    const c = asObject(value, `output_columns[${i}]`);
    const field = c.field_name;
    if (typeof field !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(field)) {
      throw new Fail(400, 'invalid_field_name', `output_columns[${i}].field_name must be lower-case letters, digits and _`, { field: `output_columns[${i}].field_name` });
    }
    if (seen.has(field)) throw new Fail(400, 'duplicate_field_name', `field_name ${field} is used twice`, { field });
    seen.add(field);
    const t = asObject(c.transform, `output_columns[${i}].transform`);
    const expr = t.transform_expr;
    if (typeof expr !== 'string') throw new Fail(400, 'invalid_transform', `output_columns[${i}].transform.transform_expr must be a string`, { field });
    const parsed = parseExpr(expr);
    const inputCol = typeof parsed === 'string' ? undefined : input.input_columns.find((ic) => ic.field_name === parsed.column);
    const failure = typeof parsed === 'string' ? parsed : inputCol ? null : `no input column \`${parsed.column}\``;
    const initial = c.initial_output_column_id;
    return {
      id: st.newId(),
      field_name: field,
      display_name: typeof c.display_name === 'string' && c.display_name !== '' ? c.display_name : field,
      description: typeof c.description === 'string' ? c.description : '',
      position: typeof c.position === 'number' ? c.position : i + 1,
      format: typeof c.format === 'object' && c.format !== null ? (c.format as Record<string, unknown>) : {},
      is_primary_key: c.is_primary_key === true,
      initial_output_column_id: typeof initial === 'number' ? initial : null,
      transform: {
        id: st.newId(),
        transform_expr: expr,
        output_soql_type: typeof parsed === 'string' ? 'text' : parsed.soql,
        transform_input_columns: inputCol ? [{ input_column_id: inputCol.id }] : [],
        error_count: 0,
        failed_at: failure ? nowIso() : null,
        failure_details: failure ? { message: failure, type: 'transform_error' } : null,
        completed_at: failure ? null : nowIso(),
        finished_at: failure ? null : nowIso(),
      },
      dataType: typeof parsed === 'string' ? 'text' : parsed.dataType,
    };
  });
  if (columns.filter((c) => c.is_primary_key).length > 1) throw new Fail(400, 'multiple_primary_keys', 'only one column can be the primary key');
  const ok = columns.filter((c) => !c.transform.failed_at);
  const { rows, errorCount } = ok.length === columns.length ? evaluate(input, columns) : { rows: [], errorCount: 0 };
  const out: OutputSchemaState = {
    id: st.newId(),
    input_schema_id: input.id,
    output_columns: columns.sort((a, b) => a.position - b.position),
    created_at: nowIso(),
    readyAt: Math.max(after, Date.now()) + st.config.transformDelayMs,
    rows,
    error_count: errorCount,
    created_by: userRef(user),
  };
  input.output_schemas.push(out);
  const rev = st.findRevision(src.fourfour, src.revision_seq);
  if (rev) rev.output_schema_id = out.id;
  return out;
}

function findOutputSchema(st: DsmapiState, id: number): { src: SourceState; input: InputSchemaState; out: OutputSchemaState } | undefined {
  for (const src of st.sources.values()) {
    for (const input of src.schemas) {
      const out = input.output_schemas.find((o) => o.id === id);
      if (out) return { src, input, out };
    }
  }
  return undefined;
}

/** Valid as row identifier: every cell converted, non-null and unique. */
function validRowId(out: OutputSchemaState, transformId: number): boolean {
  const idx = out.output_columns.findIndex((c) => c.transform.id === transformId);
  if (idx < 0) return false;
  const seen = new Set<string>();
  for (const row of out.rows) {
    const cell = row[idx];
    if (!cell || !('ok' in cell) || cell.ok === null) return false;
    const key = JSON.stringify(cell.ok);
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

function rowObjects(out: OutputSchemaState): Record<string, StoredValue>[] {
  const rows: Record<string, StoredValue>[] = [];
  for (const r of out.rows) {
    if (r.some((c) => 'error' in c)) continue;
    const obj: Record<string, StoredValue> = {};
    r.forEach((c, i) => {
      const col = out.output_columns[i];
      if (col && 'ok' in c && c.ok !== null) obj[col.field_name] = c.ok;
    });
    rows.push(obj);
  }
  return rows;
}

/** Runs the revision against the store; all row changes land in one synchronous store call. */
function execute(ctx: EmulatorContext, rev: RevisionState, out: OutputSchemaState | undefined): Record<string, unknown> {
  const store = ctx.store;
  const id = rev.fourfour;
  const m = rev.metadata ?? {};
  const patch: Parameters<EmulatorStore['updateDataset']>[1] = {};
  if (typeof m.name === 'string') patch.name = m.name;
  if (typeof m.description === 'string') patch.description = m.description;
  if (typeof m.category === 'string' || m.category === null) patch.category = m.category;
  if (Array.isArray(m.tags)) patch.tags = m.tags as string[];
  if (rev.action.permission) patch.isPublic = rev.action.permission === 'public';
  if (rev.creates) patch.publicationStage = 'published';
  let result: Record<string, unknown> = { 'Rows Created': 0, 'Rows Updated': 0, 'Rows Deleted': 0, Errors: 0 };
  if (out) {
    const ds = store.getDataset(id);
    if (!ds) throw new Error(`dataset ${id} no longer exists`);
    const pk = out.output_columns.find((c) => c.is_primary_key)?.field_name;
    if (rev.action.type === 'delete') {
      if (!ds.rowIdentifier) throw new Error('a delete revision needs a dataset with a row identifier');
      const col = out.output_columns.find((c) => c.field_name === ds.rowIdentifier) ?? out.output_columns[0];
      const keys = rowObjects(out)
        .map((r) => (col ? r[col.field_name] : undefined))
        .filter((v): v is StoredValue => v !== undefined)
        .map((v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v)));
      result = { ...store.deleteRows(id, keys, { source: 'dsmapi' }) };
    } else {
      for (const c of out.output_columns) {
        if (!ds.columns.some((dc) => dc.fieldName === c.field_name)) {
          store.addColumn(id, { name: c.display_name, fieldName: c.field_name, dataTypeName: c.dataType, description: c.description });
        }
      }
      const rows = rowObjects(out);
      if (rev.action.type === 'replace' || rev.creates) {
        if (pk !== ds.rowIdentifier && rows.length === 0) store.setRowIdentifier(id, pk);
        if (pk !== undefined && pk !== ds.rowIdentifier) store.setRowIdentifier(id, undefined);
        result = { ...store.replaceRows(id, rows, { source: 'dsmapi' }) };
        if (pk !== undefined && pk !== ds.rowIdentifier) store.setRowIdentifier(id, pk);
      } else {
        if (pk !== undefined && pk !== ds.rowIdentifier) store.setRowIdentifier(id, pk);
        result = { ...store.upsertRows(id, rows, { source: 'dsmapi' }) };
      }
      result.Errors = Number(result.Errors ?? 0) + out.error_count;
    }
  }
  if (Object.keys(patch).length > 0) store.updateDataset(id, patch);
  return result;
}

function startJob(ctx: EmulatorContext, st: DsmapiState, rev: RevisionState, out: OutputSchemaState | undefined, user: User): TaskSetState {
  const now = nowIso();
  const job: TaskSetState = {
    id: st.newId(),
    status: 'initializing',
    log: [{ stage: 'started', time: now, details: null }],
    created_at: now,
    updated_at: now,
    finished_at: null,
    output_schema_id: out?.id ?? null,
    created_by: userRef(user),
  };
  rev.task_sets.push(job);
  rev.closed_at = now;
  const step = st.config.applyStepMs;
  const total = out ? out.rows.length : 0;
  const stages: (() => void)[] = [
    () => {
      job.status = 'upserting';
      job.log.push({ stage: 'upsert_progress', time: nowIso(), details: { rows_upserted: Math.floor(total / 2) } });
    },
    () => {
      job.log.push({ stage: 'upsert_progress', time: nowIso(), details: { rows_upserted: total } });
    },
    () => {
      try {
        const counts = execute(ctx, rev, out);
        job.status = 'successful';
        job.log.push({ stage: 'upsert_complete', time: nowIso(), details: counts });
      } catch (e) {
        job.status = 'failure';
        const message = e instanceof EmulatorHttpError || e instanceof Error ? e.message : String(e);
        job.log.push({ stage: 'failure', time: nowIso(), details: { message } });
      }
      job.finished_at = nowIso();
    },
  ];
  const run = (i: number): void => {
    const t = setTimeout(() => {
      st.timers.delete(t);
      stages[i]?.();
      job.updated_at = nowIso();
      if (i + 1 < stages.length) run(i + 1);
    }, step);
    t.unref();
    st.timers.add(t);
  };
  run(0);
  return job;
}

// ------------------------------------------------------------------------------------------ routes

async function route(ctx: EmulatorContext, st: DsmapiState): Promise<void> {
  const parts = ctx.url.pathname.slice(BASE.length).split('/').filter(Boolean).map(decodeURIComponent);
  const m = ctx.method;
  const user = requireUser(ctx);
  const [head, a, b, c, d, e, f, g] = parts;

  if (head === 'revision') {
    if (a === undefined) {
      if (m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      if (user.roleName === 'viewer') throw new Fail(403, 'permission_denied', 'You do not have permission to create datasets');
      const body = asObject(await ctx.readJson(), 'the request body');
      const action = parseAction(body, false);
      const metadata = parseMetadata(body);
      const name = typeof metadata?.name === 'string' && metadata.name.trim() !== '' ? metadata.name : 'Untitled dataset';
      const fourfour = ctx.store.createDataset({ name, owner: user.id, columns: [], isPublic: false, publicationStage: 'unpublished' });
      const rev = newRevision(st, fourfour, user, action, metadata ?? { name }, true);
      ctx.sendJson(201, revisionJson(rev));
      return;
    }
    if (b === undefined) {
      const ds = requireDataset(ctx, a, user);
      if (m === 'GET') {
        const open = ctx.url.searchParams.get('open') === 'true';
        const list = st.revisionsOf(ds.id).filter((r) => !open || !r.closed_at).sort((x, y) => y.revision_seq - x.revision_seq);
        ctx.sendJson(200, list.map(revisionJson));
        return;
      }
      if (m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      const body = asObject(await ctx.readJson(), 'the request body');
      const action = parseAction(body, true);
      if (action.type === 'delete' && !ds.rowIdentifier) {
        throw new Fail(400, 'row_identifier_required', `a delete revision needs dataset ${ds.id} to have a row identifier`, { field: 'action.type' });
      }
      const rev = newRevision(st, ds.id, user, action, parseMetadata(body), false);
      ctx.sendJson(201, revisionJson(rev));
      return;
    }
    const rev = requireRevision(ctx, st, a, b, user);
    if (c === undefined) {
      if (m === 'GET') return ctx.sendJson(200, revisionJson(rev));
      if (m === 'DELETE') {
        if (!rev.closed_at) {
          rev.closed_at = nowIso();
          // Chunks of an upload that was never committed go with the discarded revision (a commit now fails anyway).
          for (const src of st.sources.values()) if (src.fourfour === rev.fourfour && src.revision_seq === rev.revision_seq) src.chunks.clear();
          // A dataset that only existed as this draft goes away with it.
          if (rev.creates) ctx.store.deleteDataset(rev.fourfour);
        }
        return ctx.sendJson(200, revisionJson(rev));
      }
      if (m === 'PUT' || m === 'PATCH') {
        requireOpen(rev);
        const body = asObject(await ctx.readJson(), 'the request body');
        const md = parseMetadata(body);
        if (md) rev.metadata = { ...(rev.metadata ?? {}), ...md };
        if (typeof body.output_schema_id === 'number') {
          if (!findOutputSchema(st, body.output_schema_id)) throw new Fail(400, 'invalid_output_schema', `output schema ${body.output_schema_id} does not exist`);
          rev.output_schema_id = body.output_schema_id;
        }
        return ctx.sendJson(200, revisionJson(rev));
      }
      throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
    }
    if (c === 'apply') {
      if (d !== undefined) {
        const job = rev.task_sets.find((t) => String(t.id) === d);
        if (!job || m !== 'GET') throw new Fail(404, 'not_found', `Job ${d} was not found`);
        return ctx.sendJson(200, taskSetJson(rev, job));
      }
      if (m !== 'PUT' && m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      requireOpen(rev);
      const body = asObject(await ctx.readJson(), 'the request body');
      const osid = typeof body.output_schema_id === 'number' ? body.output_schema_id : rev.output_schema_id;
      let out: OutputSchemaState | undefined;
      if (osid !== null && osid !== undefined) {
        const found = findOutputSchema(st, osid);
        if (!found || found.src.fourfour !== rev.fourfour || found.src.revision_seq !== rev.revision_seq) {
          throw new Fail(400, 'invalid_output_schema', `output schema ${osid} does not belong to this revision`, { output_schema_id: osid });
        }
        if (Date.now() < found.out.readyAt) throw new Fail(400, 'output_schema_not_ready', `output schema ${osid} is still being computed`);
        if (found.out.output_columns.some((col) => col.transform.failed_at)) throw new Fail(400, 'transform_failed', `output schema ${osid} has failed transforms`);
        out = found.out;
      } else if (rev.creates) {
        throw new Fail(400, 'output_schema_required', 'a new dataset needs an upload before it can be applied');
      }
      const ds = ctx.store.getDataset(rev.fourfour);
      if (ds?.approvalRequired) {
        rev.approval = 'submitted';
        rev.closed_at = nowIso();
        // Flat, like initiate: socrata-py's Job sees `key == 'approval_submitted'` at the top level.
        return ctx.sendJson(200, { key: 'approval_submitted', message: 'The revision was submitted for approval', fourfour: rev.fourfour, revision_seq: rev.revision_seq });
      }
      const job = startJob(ctx, st, rev, out, user);
      return ctx.sendJson(200, taskSetJson(rev, job));
    }
    if (c === 'source' && d === undefined) {
      if (m === 'GET') {
        return ctx.sendJson(200, [...st.sources.values()].filter((s) => s.fourfour === rev.fourfour && s.revision_seq === rev.revision_seq).map(sourceJson));
      }
      if (m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      requireOpen(rev);
      const body = asObject(await ctx.readJson(), 'the request body');
      const type = asObject(body.source_type, 'source_type');
      if (type.type !== 'upload') throw new Fail(400, 'unsupported_source_type', `source_type.type ${JSON.stringify(type.type)} is not supported (only upload)`, { field: 'source_type.type' });
      if (typeof type.filename !== 'string' || type.filename === '') throw new Fail(400, 'invalid_filename', 'source_type.filename must be a non-empty string', { field: 'source_type.filename' });
      const parseOptions = body.parse_options === undefined ? {} : asObject(body.parse_options, 'parse_options');
      const src: SourceState = {
        id: st.newId(),
        fourfour: rev.fourfour,
        revision_seq: rev.revision_seq,
        source_type: { type: 'upload', filename: type.filename },
        parse_options: { parse_source: true, header_count: 1, column_header: 1, ...parseOptions },
        content_type: null,
        chunks: new Map(),
        filesize: null,
        created_at: nowIso(),
        finished_at: null,
        failed_at: null,
        failure_details: null,
        schemas: [],
        created_by: userRef(user),
      };
      st.sources.set(src.id, src);
      return ctx.sendJson(201, sourceJson(src));
    }
    throw new Fail(404, 'not_found', `Path not found: ${ctx.url.pathname}`, { path: ctx.url.pathname });
  }

  if (head === 'source' && a !== undefined) {
    const src = requireSource(ctx, st, a, user);
    const rev = st.findRevision(src.fourfour, src.revision_seq);
    if (b === undefined) {
      if (m === 'GET') return ctx.sendJson(200, sourceJson(src));
      if (m === 'POST') {
        if (rev) requireOpen(rev);
        if (src.finished_at) throw new Fail(400, 'already_uploaded', `source ${src.id} already has its bytes`);
        src.content_type = (ctx.req.headers['content-type'] ?? 'text/csv').split(';')[0]?.trim() ?? 'text/csv';
        const bytes = await ctx.readBody();
        ingest(st, src, bytes, user);
        return ctx.sendJson(200, sourceJson(src));
      }
      throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
    }
    if (b === 'initiate' && m === 'POST') {
      if (rev) requireOpen(rev);
      const body = asObject(await ctx.readJson(), 'the request body');
      src.content_type = typeof body.content_type === 'string' ? body.content_type : 'text/csv';
      src.chunks.clear();
      // Flat: socrata-py reads init['preferred_chunk_size']; the .NET client's InitiateResponse has just these two keys.
      return ctx.sendJson(200, { preferred_chunk_size: st.config.preferredChunkSize, preferred_upload_parallelism: st.config.preferredParallelism });
    }
    if (b === 'chunk' && c !== undefined && d !== undefined && m === 'POST') {
      const seq = Number(c);
      const offset = Number(d);
      if (!/^\d+$/.test(c) || !/^\d+$/.test(d)) throw new Fail(400, 'invalid_chunk', 'seq_num and byte_offset must be non-negative integers');
      if (rev) requireOpen(rev);
      if (src.finished_at) throw new Fail(400, 'already_uploaded', `source ${src.id} already has its bytes`);
      if (e === 'commit') {
        const ordered = [...src.chunks.entries()].sort((x, y) => x[0] - y[0]);
        let pos = 0;
        for (const [i, [s, chunk]] of ordered.entries()) {
          if (s !== i || chunk.offset !== pos) throw new Fail(400, 'missing_chunk', `chunk ${i} (at byte ${pos}) is missing`, { seq_num: i, byte_offset: pos });
          pos += chunk.length;
        }
        if (ordered.length !== seq + 1 || pos !== offset) {
          throw new Fail(400, 'size_mismatch', `commit says ${seq + 1} chunks / ${offset} bytes; received ${ordered.length} / ${pos}`, { seq_num: seq, byte_offset: offset });
        }
        const bytes = Buffer.concat(ordered.flatMap(([, x]) => x.parts), pos);
        src.chunks.clear();
        ingest(st, src, bytes, user);
        return ctx.sendJson(200, sourceJson(src));
      }
      if (e !== undefined) throw new Fail(404, 'not_found', `Path not found: ${ctx.url.pathname}`);
      const { parts, length } = await readChunk(ctx, st.config.preferredChunkSize * 2 + 1024);
      if (st.failChunksOnce.delete(seq)) throw new Fail(500, 'internal_error', `chunk ${seq} could not be stored (injected failure)`, { seq_num: seq });
      src.chunks.set(seq, { offset, length, parts });
      return ctx.sendJson(200, { resource: { seq_num: seq, byte_offset: offset, end_byte_offset: offset + length }, links: {} });
    }
    if (b === 'schema' && c !== undefined) {
      const input = src.schemas.find((i) => String(i.id) === c);
      if (!input) throw new Fail(404, 'not_found', `Input schema ${c} was not found`);
      if (d === undefined) {
        // Links of an input schema, as the .NET client's InputSchemaLinks reads them (`output_schema_links.validate_row_id`).
        if (m === 'GET') return ctx.sendJson(200, { resource: inputSchemaBody(input, Date.now()), links: inputSchemaLinks(src, input.id) });
        if (m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
        if (rev) requireOpen(rev);
        const body = asObject(await ctx.readJson(), 'the request body');
        if (!Array.isArray(body.output_columns) || body.output_columns.length === 0) {
          throw new Fail(400, 'invalid_output_columns', 'output_columns must be a non-empty list', { field: 'output_columns' });
        }
        const out = addOutputSchema(st, src, input, body.output_columns, user, input.readyAt);
        return ctx.sendJson(201, outputSchemaJson(src, out));
      }
      const pick = (idText: string | undefined): OutputSchemaState => {
        const out = idText === 'latest' ? input.output_schemas[input.output_schemas.length - 1] : input.output_schemas.find((o) => String(o.id) === idText);
        if (!out) throw new Fail(404, 'not_found', `Output schema ${idText ?? ''} was not found`);
        return out;
      };
      if (m !== 'GET') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      if (d === 'output' && e !== undefined && f === undefined) return ctx.sendJson(200, outputSchemaJson(src, pick(e)));
      if (d === 'output' && f === 'validate_row_id' && g !== undefined) {
        const out = pick(e);
        if (Date.now() < out.readyAt) throw new Fail(400, 'output_schema_not_ready', 'the output schema is still being computed');
        // Flat: socrata-py reads get(...)['valid']; the .NET client's ValidResult is `{valid}`.
        return ctx.sendJson(200, { valid: validRowId(out, Number(g)) });
      }
      if ((d === 'rows' || d === 'errors') && e !== undefined) {
        const out = pick(e);
        const limit = Math.min(10_000, Number(ctx.url.searchParams.get('limit') ?? 500) || 500);
        const offset = Math.max(0, Number(ctx.url.searchParams.get('offset') ?? 0) || 0);
        const entries = out.rows.map((row, i) => ({ offset: i, row })).filter((x) => d === 'rows' || x.row.some((cell) => 'error' in cell));
        if (d === 'errors' && (ctx.req.headers.accept ?? '').includes('text/csv')) return ctx.sendRaw(200, errorsCsv(out, entries), 'text/csv; charset=utf-8');
        const meta = { output_columns: out.output_columns.map((col) => ({ field_name: col.field_name, position: col.position })), total: entries.length };
        return ctx.sendJson(200, [meta, ...entries.slice(offset, offset + limit)]);
      }
    }
  }
  throw new Fail(404, 'not_found', `Path not found: ${ctx.url.pathname}`, { path: ctx.url.pathname });
}

/**
 * A chunk's bytes as the pieces they arrived in: storing them is then free, and the upload's bytes are copied once,
 * at commit (joining each 4 MiB chunk on arrival cost about as much as receiving it). A body without a declared
 * length within the limit goes through `readBody` (its 413 answer and limits).
 */
async function readChunk(ctx: EmulatorContext, limit: number): Promise<{ parts: Buffer[]; length: number }> {
  const declared = Number(ctx.req.headers['content-length']);
  if (!Number.isInteger(declared) || declared < 0 || declared > limit) {
    const bytes = await ctx.readBody(limit);
    return { parts: [bytes], length: bytes.length };
  }
  const parts: Buffer[] = [];
  let length = 0;
  for await (const piece of ctx.req as AsyncIterable<Buffer>) {
    parts.push(piece);
    length += piece.length;
  }
  return { parts, length };
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** CSV export of rows with errors: the file's line number, each column's input text, then the messages. */
function errorsCsv(out: OutputSchemaState, entries: { offset: number; row: Cell[] }[]): string {
  const lines = [['line', ...out.output_columns.map((c) => c.field_name), 'errors'].map(csvCell).join(',')];
  for (const { offset, row } of entries) {
    const cells = row.map((cell) => ('error' in cell ? cell.error.input : (toCsvText(cell.ok) ?? '')));
    const messages = row.flatMap((cell, i) => ('error' in cell ? [`${out.output_columns[i]?.field_name ?? i}: ${cell.error.message}`] : []));
    lines.push([String(offset + 2), ...cells, messages.join('; ')].map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export async function handlePublishing(ctx: EmulatorContext): Promise<void> {
  const st = dsmapiState(ctx.store);
  try {
    await route(ctx, st);
  } catch (e) {
    if (e instanceof BodyTooLargeError || e instanceof BadRequestError) return;
    if (e instanceof Fail) return ctx.sendCoreError(e.status, e.code, e.message, e.data);
    if (e instanceof EmulatorHttpError) return ctx.sendCoreError(e.status, e.code, e.message, e.data);
    throw e;
  }
}
