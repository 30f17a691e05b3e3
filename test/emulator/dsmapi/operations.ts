/**
 * What the emulator's DSMAPI does: checks of the caller and of request bodies, revisions, ingesting an upload into
 * input and output schemas, row-id validation and apply jobs. HTTP lives in index.ts, answer shapes in shapes.ts,
 * transforms in transforms.ts, the upload's rows in upload.ts.
 *
 * Over 400 lines: the steps of one revision's life (open, upload, schema, apply) read best in order, side by side.
 */
import type { EmulatorContext } from '../context';
import { EmulatorHttpError } from '../errors';
import { datasetRights } from '../grants';
import { applyChange, type MetadataChange, MetadataInvalid, parseChange } from '../metadata';
import type { Dataset, EmulatorStore, User } from '../store';
import { MALTYPED, type StoredValue } from '../types';
import {
  type DsmapiState,
  type InputSchemaState,
  nowIso,
  type OutputColumnState,
  type OutputSchemaState,
  type RevisionState,
  type SourceState,
  type TaskSetState,
  type UserRef,
} from './model';
import { restaged, type Staged, stagedFor, stagedValues, UploadStager } from './staged';
import { convertedRows, csvOptions, evaluate, FUNCTION_OF_SOQL, fieldNamesOf, Guesser, parseExpr, transformCell } from './transforms';
import { UploadRows } from './upload';

export class Fail extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const userRef = (u: User): UserRef => ({ user_id: u.id, display_name: u.displayName, email: u.email });
const FOURFOUR = /^[a-z0-9]{4}-[a-z0-9]{4}$/;

export function mayWrite(ds: Dataset, u: User): boolean {
  return datasetRights(ds, u).includes('write');
}

export function requireUser(ctx: EmulatorContext): User {
  if (!ctx.user) throw new Fail(401, 'authentication_required', 'You must be logged in to use the Dataset Management API');
  return ctx.user;
}

export function requireDataset(ctx: EmulatorContext, fourfour: string, user: User): Dataset {
  if (!FOURFOUR.test(fourfour)) throw new Fail(400, 'invalid_fourfour', `"${fourfour}" is not a 4x4 id`, { fourfour });
  const ds = ctx.store.getDataset(fourfour);
  if (!ds || !datasetRights(ds, user).includes('read')) throw new Fail(404, 'not_found', `Dataset ${fourfour} was not found`, { fourfour });
  if (!mayWrite(ds, user)) throw new Fail(403, 'permission_denied', `You do not have permission to change dataset ${fourfour}`, { fourfour });
  return ds;
}

export function requireRevision(ctx: EmulatorContext, st: DsmapiState, fourfour: string, seqText: string, user: User): RevisionState {
  requireDataset(ctx, fourfour, user);
  const rev = st.findRevision(fourfour, Number(seqText));
  if (!/^\d+$/.test(seqText) || !rev) throw new Fail(404, 'not_found', `Revision ${seqText} of ${fourfour} was not found`, { fourfour, revision_seq: seqText });
  return rev;
}

export function requireOpen(rev: RevisionState): void {
  if (rev.closed_at) throw new Fail(400, 'revision_closed', `Revision ${rev.revision_seq} of ${rev.fourfour} is closed`, { revision_seq: rev.revision_seq });
}

export function requireSource(ctx: EmulatorContext, st: DsmapiState, idText: string, user: User): SourceState {
  const src = /^\d+$/.test(idText) ? st.sources.get(Number(idText)) : undefined;
  if (!src) throw new Fail(404, 'not_found', `Source ${idText} was not found`, { source_id: idText });
  requireDataset(ctx, src.fourfour, user);
  return src;
}

export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Fail(400, 'invalid_body', `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

export function parseAction(body: Record<string, unknown>, allowDelete: boolean): RevisionState['action'] {
  const a = body.action === undefined ? { type: 'update' } : asObject(body.action, 'action');
  const type = a.type ?? 'update';
  if (type !== 'update' && type !== 'replace' && !(allowDelete && type === 'delete')) {
    throw new Fail(400, 'invalid_action', `action.type must be update, replace${allowDelete ? ' or delete' : ''}; got ${JSON.stringify(type)}`, {
      field: 'action.type',
    });
  }
  const out: RevisionState['action'] = { type };
  // socrata-py sends `permission: null` from create_*_revision by default: the dataset keeps its permission.
  if (a.permission !== undefined && a.permission !== null) {
    if (a.permission !== 'public' && a.permission !== 'private') {
      throw new Fail(400, 'invalid_permission', 'action.permission must be public or private', { field: 'action.permission' });
    }
    out.permission = a.permission;
  }
  return out;
}

export function parseMetadata(body: Record<string, unknown>): Record<string, unknown> | null {
  if (body.metadata === undefined || body.metadata === null) return null;
  const m = asObject(body.metadata, 'metadata');
  for (const k of ['name', 'description', 'category'] as const) {
    if (m[k] !== undefined && m[k] !== null && typeof m[k] !== 'string') {
      throw new Fail(400, 'invalid_metadata', `metadata.${k} must be a string`, { field: `metadata.${k}` });
    }
  }
  if (m.tags !== undefined && (!Array.isArray(m.tags) || m.tags.some((t) => typeof t !== 'string'))) {
    throw new Fail(400, 'invalid_metadata', 'metadata.tags must be a list of strings', { field: 'metadata.tags' });
  }
  return m;
}

export function newRevision(
  st: DsmapiState,
  fourfour: string,
  user: User,
  action: RevisionState['action'],
  metadata: Record<string, unknown> | null,
  creates: boolean,
): RevisionState {
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

/** A new upload source of `rev`, registered in `st` (`POST /revision/{4x4}/{seq}/source` with `source_type.type: upload`). */
export function newUploadSource(
  st: DsmapiState,
  rev: RevisionState,
  user: User,
  filename: string,
  parseOptions: Record<string, unknown> = {},
  contentType: string | null = null,
): SourceState {
  const src: SourceState = {
    id: st.newId(),
    fourfour: rev.fourfour,
    revision_seq: rev.revision_seq,
    source_type: { type: 'upload', filename },
    parse_options: { parse_source: true, header_count: 1, column_header: 1, ...parseOptions },
    content_type: contentType,
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
  return src;
}

/**
 * Reads the uploaded bytes once into an input schema (header, row count, type guesses; the rows stay in the bytes)
 * and its first output schema (the guessed types, which convert every value: no errors by construction).
 */
export function ingest(st: DsmapiState, store: EmulatorStore, src: SourceState, bytes: Buffer, user: User): void {
  src.filesize = bytes.length;
  src.finished_at = nowIso();
  const options = src.parse_options;
  const headerCount = typeof options.header_count === 'number' ? options.header_count : 1;
  const columnHeader = typeof options.column_header === 'number' ? options.column_header : 1;
  // One read: the type guess, and the rows converted with the guessed types (staged for the apply). Not staged for
  // a keyed write (an update or replace of a dataset with a row identifier) or a delete: those match every row on
  // its key, and read the bytes again at the apply.
  const rev = st.findRevision(src.fourfour, src.revision_seq);
  const keyed = rev !== undefined && !rev.creates && (rev.action.type === 'delete' || store.getDataset(src.fourfour)?.rowIdentifier !== undefined);
  const stager = new UploadStager(keyed ? undefined : () => store.stageRows());
  let staged: Staged | undefined;
  const upload = store.transaction(() => {
    const read = UploadRows.read(bytes, csvOptions(src.content_type, options), headerCount, columnHeader, (cells, header) => stager.add(cells, header));
    if (typeof read !== 'string') staged = stager.finish(read.header);
    return read;
  });
  if (typeof upload === 'string') {
    stager.discard();
    src.failed_at = nowIso();
    src.failure_details = { message: upload };
    return;
  }
  const guessed = stager.guesser ?? new Guesser(upload.header.length);
  const isid = st.newId();
  const names = fieldNamesOf(upload.header);
  const now = Date.now();
  const input: InputSchemaState = {
    id: isid,
    source_id: src.id,
    input_columns: upload.header.map((h, i) => ({
      id: st.newId(),
      field_name: names[i] ?? `column_${i + 1}`,
      display_name: h.trim() || `Column ${i + 1}`,
      position: i + 1,
      soql_type: 'text',
      guessed_soql_type: guessed.guess(i),
      input_schema_id: isid,
    })),
    upload,
    staged,
    clean: guessed.clean(),
    num_row_errors: upload.rowErrors,
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

/** Lets the bytes of the revision's uploads go (after its apply, or when it is discarded); the counts stay. */
export function releaseUploads(st: DsmapiState, rev: RevisionState): void {
  for (const src of st.sources.values()) {
    if (src.fourfour !== rev.fourfour || src.revision_seq !== rev.revision_seq) continue;
    src.chunks.clear();
    for (const input of src.schemas) {
      input.upload.release();
      input.staged?.rows.drop();
      input.staged = undefined;
    }
  }
}

export function addOutputSchema(st: DsmapiState, src: SourceState, input: InputSchemaState, raw: unknown[], user: User, after: number): OutputSchemaState {
  const seen = new Set<string>();
  const columns: OutputColumnState[] = raw.map((value, i) => {
    const c = asObject(value, `output_columns[${i}]`);
    const field = c.field_name;
    if (typeof field !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(field)) {
      throw new Fail(400, 'invalid_field_name', `output_columns[${i}].field_name must be lower-case letters, digits and _`, {
        field: `output_columns[${i}].field_name`,
      });
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
  const { errorRows, errorCount } = ok.length === columns.length ? evaluate(input, columns) : { errorRows: [], errorCount: 0 };
  const out: OutputSchemaState = {
    id: st.newId(),
    input_schema_id: input.id,
    output_columns: columns.sort((a, b) => a.position - b.position),
    created_at: nowIso(),
    readyAt: Math.max(after, Date.now()) + st.config.transformDelayMs,
    total: input.upload.count,
    errorRows,
    error_count: errorCount,
    created_by: userRef(user),
  };
  input.output_schemas.push(out);
  const rev = st.findRevision(src.fourfour, src.revision_seq);
  if (rev) rev.output_schema_id = out.id;
  return out;
}

export function findOutputSchema(st: DsmapiState, id: number): { src: SourceState; input: InputSchemaState; out: OutputSchemaState } | undefined {
  for (const src of st.sources.values()) {
    for (const input of src.schemas) {
      const out = input.output_schemas.find((o) => o.id === id);
      if (out) return { src, input, out };
    }
  }
  return undefined;
}

/** Valid as row identifier: every cell converted, non-null and unique (one pass over the upload). */
export function validRowId(input: InputSchemaState, out: OutputSchemaState, transformId: number): boolean {
  const col = out.output_columns.find((c) => c.transform.id === transformId);
  const parsed = col ? parseExpr(col.transform.transform_expr) : 'no such transform';
  if (typeof parsed === 'string') return false;
  const index = input.input_columns.findIndex((c) => c.field_name === parsed.column);
  const seen = new Set<string>();
  for (const [raw] of input.upload.rows()) {
    const v = transformCell(parsed.fn, parsed.dataType, raw[index] ?? '');
    if (v === MALTYPED || v === null) return false;
    const key = typeof v === 'string' ? v : JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

/** Runs the revision against the store; all row changes land in one synchronous store call. */
function execute(ctx: EmulatorContext, rev: RevisionState, found: { input: InputSchemaState; out: OutputSchemaState } | undefined): Record<string, unknown> {
  const store = ctx.store;
  const id = rev.fourfour;
  const m = rev.metadata ?? {};
  const patch: Parameters<EmulatorStore['updateDataset']>[1] = {};
  // Validated again (the dataset may have changed since the revision was opened) before anything is applied. A new
  // dataset's row identifier comes from its output schema, not from the metadata.
  const target = store.getDataset(id);
  let change: MetadataChange | undefined;
  if (target && rev.metadata) {
    try {
      change = parseChange(m, target, { allowColumns: false, prefix: 'metadata.' });
    } catch (e) {
      if (e instanceof MetadataInvalid) throw new Error(`${e.field}: ${e.message}`);
      throw e;
    }
    if (rev.creates) delete change.rowIdentifier;
  }
  if (rev.action.permission) patch.isPublic = rev.action.permission === 'public';
  if (rev.creates) patch.publicationStage = 'published';
  let result: Record<string, unknown> = { 'Rows Created': 0, 'Rows Updated': 0, 'Rows Deleted': 0, Errors: 0 };
  if (found) {
    const { input, out } = found;
    if (!input.upload.available) throw new Error('the upload of this revision is no longer kept');
    const ds = store.getDataset(id);
    if (!ds) throw new Error(`dataset ${id} no longer exists`);
    const pk = out.output_columns.find((c) => c.is_primary_key)?.field_name;
    if (rev.action.type === 'delete') {
      if (!ds.rowIdentifier) throw new Error('a delete revision needs a dataset with a row identifier');
      const col = Math.max(
        0,
        out.output_columns.findIndex((c) => c.field_name === ds.rowIdentifier),
      );
      const keys: string[] = [];
      for (const r of convertedRows(input, out.output_columns)) {
        const v = r[col];
        if (v === null || v === undefined) continue;
        keys.push(typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
      }
      result = { ...store.deleteRows(id, keys, { source: 'dsmapi' }) };
    } else {
      for (const c of out.output_columns) {
        if (!ds.columns.some((dc) => dc.fieldName === c.field_name)) {
          store.addColumn(id, { name: c.display_name, fieldName: c.field_name, dataTypeName: c.dataType, description: c.description });
        }
      }
      // The rows staged at commit when this schema can take them (staged.ts). Else rows with a transform error are
      // left out and the others converted from the upload's bytes one at a time, straight into the store (no copy
      // of the upload's rows is held).
      const rows = convertedRows(input, out.output_columns);
      const empty = out.total - out.error_count === 0;
      const fields = out.output_columns.map((c) => ({ field: c.field_name, dataType: c.dataType }));
      const valueOf = (r: (StoredValue | null)[], i: number): StoredValue | null => r[i] ?? null;
      // Staged rows that cannot be appended as they are (renamed or left-out columns, a row refused by a function
      // computed from a column staged as text, a keyed write, other column types) are read back as values.
      const use = stagedFor(input, out.output_columns);
      const write = (replace: boolean): Record<string, unknown> => {
        if (!use) return { ...store.applyStoredRows(id, fields, rows, valueOf, replace, { source: 'dsmapi' }) };
        // A function computed from a column staged as text, no row refused: the staged rows rewritten in one
        // INSERT … SELECT.
        const rewrite =
          !use.same && out.error_count === 0 && use.recompute.some((r) => r !== undefined)
            ? restaged(
                use,
                input,
                fields.map((f) => f.field),
              )
            : undefined;
        const appended = use.same || rewrite ? store.applyStagedRows(id, fields, use.staged.rows, replace, { source: 'dsmapi' }, rewrite) : undefined;
        if (appended) return { ...appended };
        return { ...store.applyStoredRows(id, fields, stagedValues(use), valueOf, replace, { source: 'dsmapi' }) };
      };
      if (rev.action.type === 'replace' || rev.creates) {
        if (pk !== ds.rowIdentifier && empty) store.setRowIdentifier(id, pk);
        if (pk !== undefined && pk !== ds.rowIdentifier) store.setRowIdentifier(id, undefined);
        result = write(true);
        if (pk !== undefined && pk !== ds.rowIdentifier) store.setRowIdentifier(id, pk);
      } else {
        if (pk !== undefined && pk !== ds.rowIdentifier) store.setRowIdentifier(id, pk);
        result = write(false);
      }
      result.Errors = Number(result.Errors ?? 0) + out.error_count;
    }
  }
  if (change && target) applyChange(store, target, change);
  if (Object.keys(patch).length > 0) store.updateDataset(id, patch);
  return result;
}

export function startJob(
  ctx: EmulatorContext,
  st: DsmapiState,
  rev: RevisionState,
  found: { input: InputSchemaState; out: OutputSchemaState } | undefined,
  user: User,
): TaskSetState {
  const out = found?.out;
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
  const total = out ? out.total - out.error_count : 0;
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
        const counts = execute(ctx, rev, found);
        job.status = 'successful';
        job.log.push({ stage: 'upsert_complete', time: nowIso(), details: counts });
      } catch (e) {
        job.status = 'failure';
        const message = e instanceof EmulatorHttpError || e instanceof Error ? e.message : String(e);
        job.log.push({ stage: 'failure', time: nowIso(), details: { message } });
      }
      job.finished_at = nowIso();
      releaseUploads(st, rev);
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

/** Validates revision metadata against the dataset and the domain's lists (the same rules as PUT /api/views). */
export function checkMetadata(ds: Dataset, metadata: Record<string, unknown> | null): void {
  if (!metadata) return;
  try {
    parseChange(metadata, ds, { allowColumns: false, prefix: 'metadata.' });
  } catch (e) {
    if (e instanceof MetadataInvalid) throw new Fail(400, 'invalid_metadata', e.message, { field: e.field, value: e.value ?? null });
    throw e;
  }
}
