// Planning a publish: everything is checked and counted before a single row is written.
//
// Remote row ids (for the created/updated/deleted counts) are read with paged SoQL `$select=<row id>` ordered by
// `:id`, 50 000 per page, into one Set of strings. That Set is the only structure that grows with the dataset;
// it is capped at `maxRemoteIds` (default 5 000 000 ids — for short ids roughly 300–500 MB, the documented worst
// case). Past the cap the counts are reported as unknown and sync is refused. The file itself is streamed; for sync
// a second Set holds the file's ids that are new to the dataset.
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { columnTypeOf, CsvError, matchHeaders, normaliseFieldName, openCsv, readHead, type ColumnType } from '../csv';
import { canWrite, draftRef, isSodaError, isValid4x4, type SodaClient, type ViewMetadata } from '../soda';
import { hashId, IdHashLog, sortedHas } from '../csv/idtable';
import { type Batch, BatchBuilder, BufferPool } from './batches';
import { RowEncoder } from './encode';
import { type Spool, SpoolWriter } from './spool';
import { PublishError } from './errors';
import { PUBLISH_MODES, type ColumnMappingEntry, type PlanProblem, type PublishPlan, type PublishRequest, type PublishRoute } from './types';

export const DEFAULT_BATCH_SIZE = 10_000;
export const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 3;
export const HEAD_HASH_BYTES = 64 * 1024;
const MAX_PROBLEMS = 20;
const TABLE_DISPLAY_TYPES = new Set(['table', 'fatrow', 'page']);

export interface PlanOptions {
  signal?: AbortSignal;
  /** Rows scanned so far (planning progress). */
  onScan?: (rows: number, bytes: number, fileSize: number) => void;
  /**
   * One-pass publish (/resource route with a full scan): the scan also writes the request bodies of the good rows
   * to a temporary spool file (`plan.spool`), which `executePublish` sends without reading the CSV again, then
   * deletes. Whoever plans with this and does not execute must call `disposePlan(plan)`. `maxBytes` bounds the
   * spool (default: half the temp folder's free space); past it the spool is given up and the execution reads the
   * file again.
   */
  spool?: boolean | { maxBytes: number };
}

/** Deletes what a plan holds on disk (its spool). Safe to call more than once. */
export async function disposePlan(plan: PublishPlan): Promise<void> {
  await plan.spool?.dispose();
}

/** sha256 of the first 64 KiB (journal identity of the file together with size and mtime). */
export async function headHash(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_HASH_BYTES);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return createHash('sha256').update(buf.subarray(0, bytesRead)).digest('hex');
  } finally {
    await handle.close();
  }
}

function checkInt(value: number | undefined, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PublishError('invalid-input', `${field}: must be a whole number from ${min} to ${max} (got ${String(value)}).`, field);
  }
  return value;
}

/** Checks the request's shape (mode, ids, numbers). Throws PublishError naming the field. */
export function checkRequest(req: PublishRequest): void {
  if (!(PUBLISH_MODES as readonly string[]).includes(req.mode)) {
    throw new PublishError('invalid-input', `mode: must be one of ${PUBLISH_MODES.join(', ')} (got ${JSON.stringify(req.mode)}).`, 'mode');
  }
  if (req.mode === 'create') {
    if (req.dataset !== undefined) {
      throw new PublishError('invalid-input', 'dataset: mode create makes a new dataset; leave out the dataset id (or choose another mode).', 'dataset');
    }
    if (!req.newDataset || typeof req.newDataset.name !== 'string' || req.newDataset.name.trim() === '') {
      throw new PublishError('invalid-input', 'new.name: a new dataset needs a name.', 'new.name');
    }
  } else {
    if (req.dataset === undefined) {
      throw new PublishError('invalid-input', `dataset: mode ${req.mode} needs the 4x4 id of an existing dataset (or use mode create with a name).`, 'dataset');
    }
    const draft = draftRef(req.dataset);
    if (draft) {
      throw new PublishError(
        'invalid-input',
        `dataset: ${JSON.stringify(req.dataset)} is a draft (revision ${draft.revision}) of ${draft.id}; publish to ${draft.id} (a publish opens its own revision).`,
        'dataset',
      );
    }
    if (!isValid4x4(req.dataset)) {
      throw new PublishError('invalid-input', `dataset: ${JSON.stringify(req.dataset)} is not a 4x4 id such as "abcd-1234".`, 'dataset');
    }
  }
  checkInt(req.batchSize, 'batchSize', 1, 100_000, DEFAULT_BATCH_SIZE);
  checkInt(req.batchBytes, 'batchBytes', 1024, 256 * 1024 * 1024, DEFAULT_BATCH_BYTES);
  checkInt(req.concurrency, 'concurrency', 1, 8, DEFAULT_CONCURRENCY);
}

/** Refuses targets that cannot be written: derived views, missing rights. */
export function checkWritable(view: ViewMetadata, mode: PublishRequest['mode']): void {
  const raw = view.raw;
  const displayType = typeof raw.displayType === 'string' ? raw.displayType : undefined;
  const modifying = typeof raw.modifyingViewUid === 'string' ? raw.modifyingViewUid : undefined;
  if (
    (view.viewType !== undefined && view.viewType !== 'tabular') ||
    (displayType !== undefined && !TABLE_DISPLAY_TYPES.has(displayType)) ||
    modifying !== undefined
  ) {
    const parent = modifying !== undefined ? ` Publish to its source dataset ${modifying} instead.` : ' Publish to the dataset it is based on instead.';
    throw new PublishError(
      'refused',
      `${view.id} ("${view.name}") is a ${displayType ?? view.viewType ?? 'derived'} view, not a dataset table: rows cannot be written to it.${parent}`,
      'dataset',
    );
  }
  if (view.rights !== undefined) {
    if (!canWrite(view, mode === 'append' ? 'append' : 'write')) {
      const owner = view.owner?.displayName ?? view.owner?.id;
      throw new PublishError(
        'refused',
        `You may read ${view.id} ("${view.name}") but not write to it: the "${mode === 'append' ? 'write" or "add' : 'write'}" right is missing (your rights: ${view.rights.join(', ') || 'none'}). Ask its owner${owner ? ` (${owner})` : ''} to share it with you as an editor, or sign in as a user who has it.`,
        'dataset',
      );
    }
  }
}

function explain(route: PublishRoute, mode: PublishRequest['mode'], rid: string | undefined, dataset: string | undefined): string {
  switch (mode) {
    case 'create':
      return 'A new dataset is created through a revision: the file is uploaded as it is, the server builds the columns, and the dataset appears only when everything is applied.';
    case 'replace':
      return `All rows of ${dataset} are replaced through a revision: the file is uploaded as it is and applied in one step, so readers see the old rows or the new ones, never a mix.`;
    case 'sync':
      return `Rows are upserted to ${dataset} in batches through /resource, matched on the row identifier ${rid}; then the rows whose ${rid} is not in the file are deleted. Each batch is safe to repeat.`;
    case 'delete':
      return route === 'revision'
        ? `The rows listed in the file are deleted from ${dataset} through a revision, all at once.`
        : `The rows listed in the file (by ${rid}) are deleted from ${dataset} in batches through /resource; each batch is safe to repeat.`;
    case 'upsert':
      return route === 'revision'
        ? `Rows are upserted to ${dataset} through a revision, all at once (matched on ${rid}).`
        : `Rows are upserted to ${dataset} in batches through /resource, matched on the row identifier ${rid}: rows with a known ${rid} are updated, others created. Each batch is safe to repeat, so an interrupted publish resumes where it stopped.`;
    case 'append':
      return route === 'revision'
        ? `Rows are appended to ${dataset} through a revision: all of them or none.`
        : rid === undefined
          ? `Rows are appended to ${dataset} in batches through /resource. The dataset has no row identifier, so a batch whose answer is lost cannot be re-sent safely: the publish stops and names the lines to check (choose the revision route for an all-or-nothing append).`
          : `Rows are added to ${dataset} in batches through /resource (matched on ${rid}, so repeating a batch is safe).`;
  }
}

interface Mapping {
  columns: ColumnMappingEntry[];
  warnings: string[];
}

function buildMapping(header: string[], req: PublishRequest, view: ViewMetadata | undefined, sampleTypes: ColumnType[]): Mapping {
  const warnings: string[] = [];
  const explicit = req.mapping ?? {};
  for (const key of Object.keys(explicit)) {
    if (!header.includes(key)) {
      throw new PublishError('invalid-input', `mapping: the CSV has no column "${key}" (its columns: ${header.join(', ')}).`, `mapping.${key}`);
    }
  }
  const types = req.types ?? {};
  if (view === undefined) {
    // New dataset: field names from the headers, types from the sample unless overridden.
    const columns = header.map((h, i): ColumnMappingEntry => {
      const target = Object.prototype.hasOwnProperty.call(explicit, h) ? explicit[h] : normaliseFieldName(h);
      if (target === null) return { csvIndex: i, csvHeader: h, fieldName: undefined, type: undefined, note: 'ignored in the mapping' };
      const fieldName = target ?? normaliseFieldName(h);
      if (!/^[a-z_][a-z0-9_]*$/.test(fieldName)) {
        throw new PublishError('invalid-input', `mapping.${h}: "${fieldName}" is not a valid field name (lower-case letters, digits and "_").`, `mapping.${h}`);
      }
      return { csvIndex: i, csvHeader: h, fieldName, type: types[fieldName] ?? sampleTypes[i] ?? 'text' };
    });
    const seen = new Set<string>();
    for (const c of columns) {
      if (c.fieldName === undefined) continue;
      if (seen.has(c.fieldName)) {
        throw new PublishError(
          'invalid-input',
          `mapping: two columns would both become the field "${c.fieldName}"; rename one in the mapping.`,
          `mapping.${c.csvHeader}`,
        );
      }
      seen.add(c.fieldName);
    }
    for (const f of Object.keys(types)) {
      if (!seen.has(f)) throw new PublishError('invalid-input', `types.${f}: no column of the file becomes the field "${f}".`, `types.${f}`);
    }
    return { columns, warnings };
  }
  const dsColumns = view.columns.filter((c) => !c.fieldName.startsWith(':'));
  const byField = new Map(dsColumns.map((c) => [c.fieldName, c]));
  const matches = matchHeaders(header, dsColumns, 0.85);
  const unmatched: string[] = [];
  const columns = header.map((h, i): ColumnMappingEntry => {
    let fieldName: string | undefined;
    if (Object.prototype.hasOwnProperty.call(explicit, h)) {
      const target = explicit[h];
      if (target === null) return { csvIndex: i, csvHeader: h, fieldName: undefined, type: undefined, note: 'ignored in the mapping' };
      if (target !== undefined && !byField.has(target)) {
        throw new PublishError(
          'invalid-input',
          `mapping.${h}: dataset ${view.id} has no field "${target}" (its fields: ${[...byField.keys()].join(', ')}).`,
          `mapping.${h}`,
        );
      }
      fieldName = target;
    } else {
      fieldName = matches[i]?.fieldName;
    }
    const col = fieldName !== undefined ? byField.get(fieldName) : undefined;
    if (!col) {
      if (h !== 'error') unmatched.push(h);
      return { csvIndex: i, csvHeader: h, fieldName: undefined, type: undefined, note: 'no matching field' };
    }
    const own = columnTypeOf(col.dataTypeName);
    const chosen = types[col.fieldName];
    // The server checks every cell against the field's own type, whatever is chosen here: a choice it would refuse
    // (text for a number field lets "n/a" through to a refused batch) is refused now. Any type fits a text field.
    const numeric = (t: string): string => (t === 'double' ? 'number' : t);
    if (chosen !== undefined && numeric(chosen) !== numeric(own) && own !== 'text' && own !== 'unsupported') {
      throw new PublishError(
        'invalid-input',
        `types.${col.fieldName}: the field ${col.fieldName} of ${view.id} is ${own}, and the server checks its cells as ${own} whatever type is chosen here; "${chosen}" would let through values it refuses. Keep ${own} (and fix the cells it finds), or change the field's type on the portal.`,
        `types.${col.fieldName}`,
      );
    }
    const type = chosen ?? own;
    if (type === 'unsupported') {
      throw new PublishError(
        'invalid-input',
        `${h}: the field ${col.fieldName} has the type ${col.dataTypeName}, which cannot be written from a CSV.`,
        `mapping.${h}`,
      );
    }
    return { csvIndex: i, csvHeader: h, fieldName: col.fieldName, type };
  });
  const seen = new Map<string, string>();
  for (const c of columns) {
    if (c.fieldName === undefined) continue;
    const other = seen.get(c.fieldName);
    if (other !== undefined) {
      throw new PublishError(
        'invalid-input',
        `mapping: the CSV columns "${other}" and "${c.csvHeader}" both go to the field ${c.fieldName}; ignore one of them.`,
        `mapping.${c.csvHeader}`,
      );
    }
    seen.set(c.fieldName, c.csvHeader);
  }
  // One warning per unmatched column, up to 10; a file with thousands of extra columns gets one summary.
  for (const h of unmatched.slice(0, 10)) {
    warnings.push(`The CSV column "${h}" matches no field of ${view.id} and is not sent (map it in the mapping, or ignore it with null).`);
  }
  if (unmatched.length > 10) {
    warnings.push(`${unmatched.length - 10} more CSV columns match no field of ${view.id} and are not sent (${unmatched.length} in all).`);
  }
  return { columns, warnings };
}

async function remoteIds(client: SodaClient, dataset: string, field: string, max: number, signal: AbortSignal | undefined): Promise<Set<string> | undefined> {
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

/**
 * Sync: the remote rows' mapped fields, as row id → digest of the row's JSON in the encoder's form. A remote value
 * written differently from the file's (e.g. "1.50" vs "1.5") only makes the row look changed: it is sent again,
 * which an upsert makes harmless.
 */
async function remoteRowHashes(
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

function describeSodaFailure(e: unknown, dataset: string, domain: string): PublishError | undefined {
  if (!isSodaError(e)) return undefined;
  if (e.kind === 'not-found') {
    return new PublishError(
      'refused',
      `Dataset ${dataset} was not found on ${domain}. Check the id, or sign in: a private dataset is invisible to others.`,
      'dataset',
      e,
    );
  }
  if (e.kind === 'auth') {
    return new PublishError(
      'refused',
      `${domain} refused the credentials or the access to ${dataset} (${e.serverMessage ?? e.message}). Check the key id and secret (or email and password) and that this user may see the dataset.`,
      'credentials',
      e,
    );
  }
  return undefined;
}

/**
 * A CSV that cannot be read (unterminated quote, bad encoding, a huge field) is a refusal like any other: its
 * message already names the file, line and column. A cancel stays a cancel.
 */
function unreadable(e: unknown): never {
  if (e instanceof CsvError && e.code !== 'ABORTED') throw new PublishError('invalid-input', e.message, 'file', e);
  throw e;
}

/** Builds the plan. Throws PublishError (`refused` / `invalid-input`) for what cannot work, saying why and what to do. */
export async function planPublish(client: SodaClient, request: PublishRequest, options: PlanOptions = {}): Promise<PublishPlan> {
  checkRequest(request);
  const req = { ...request, file: resolve(request.file) };
  const domain = client.domain.host;
  let st;
  try {
    st = await stat(req.file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PublishError('invalid-input', `${req.file}: cannot read the file (${code === 'ENOENT' ? 'it does not exist' : (code ?? String(e))}).`, 'file', e);
  }
  if (!st.isFile()) throw new PublishError('invalid-input', `${req.file}: not a file.`, 'file');
  const hash = await headHash(req.file).catch((e: unknown) => {
    throw new PublishError('invalid-input', `${req.file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, 'file', e);
  });
  const head = await readHead(req.file, { rows: 0 }).catch(unreadable);
  const header = head.header;
  if (header.length === 0) throw new PublishError('invalid-input', `${req.file}: the file is empty (no header line).`, 'file');
  if (header.some((h) => h.includes('\0'))) {
    throw new PublishError(
      'invalid-input',
      `${req.file}:1: the header contains NUL characters: the file looks like UTF-16 without a byte order mark, or is not text. Save it as UTF-8 (or choose its encoding).`,
      'file',
    );
  }

  let view: ViewMetadata | undefined;
  let rid: string | undefined;
  let ownerWarning: string | undefined;
  if (req.mode !== 'create') {
    const dataset = req.dataset as string;
    try {
      view = await client.view(dataset, { signal: options.signal });
    } catch (e) {
      throw describeSodaFailure(e, dataset, domain) ?? e;
    }
    checkWritable(view, req.mode);
    if (view.rights === undefined && view.owner !== undefined) {
      // No rights list on this server: compare the owner with the signed-in user (writes may still be granted).
      const me = await client.currentUser({ signal: options.signal }).catch(() => undefined);
      if (me !== undefined && me.id !== view.owner.id && me.roleName !== 'administrator') {
        ownerWarning = `${view.id} is owned by ${view.owner.displayName ?? view.owner.id}, not by you (${me.displayName ?? me.id}); the server will refuse the rows unless the owner granted you write access.`;
      }
    }
    rid = view.rowIdentifier;
    if (req.rowIdentifier !== undefined && req.rowIdentifier !== rid) {
      throw new PublishError(
        'refused',
        rid === undefined
          ? `rowIdentifier: ${dataset} has no row identifier, so rows cannot be matched on ${req.rowIdentifier}. Set ${req.rowIdentifier} as the row identifier on the dataset first, or leave it out.`
          : `rowIdentifier: the row identifier of ${dataset} is ${rid}, not ${req.rowIdentifier}.`,
        'rowIdentifier',
      );
    }
    if (rid === undefined && (req.mode === 'upsert' || req.mode === 'sync' || req.mode === 'delete')) {
      const what = req.mode === 'delete' ? 'which rows to delete' : req.mode === 'sync' ? 'which remote rows are absent from the file' : 'which rows to update';
      throw new PublishError(
        'refused',
        `${dataset} ("${view.name}") has no row identifier, so there is no way to tell ${what}. Set a row identifier column on the dataset, ${req.mode === 'upsert' ? 'use mode append to add the rows, ' : ''}or use mode replace to replace every row.`,
        'mode',
      );
    }
  } else {
    rid = req.rowIdentifier;
  }

  const mapping = buildMapping(
    header,
    req,
    view,
    head.columns.map((c) => c.type),
  );
  const columns = mapping.columns;
  const warnings = [...(ownerWarning !== undefined ? [ownerWarning] : []), ...mapping.warnings];
  const problems: PlanProblem[] = head.headerProblems.map((p) => ({ message: `${req.file}: header: ${p.message}` }));
  if (rid !== undefined && !columns.some((c) => c.fieldName === rid)) {
    throw new PublishError(
      'refused',
      `The row identifier ${rid} is not among the columns of ${req.file} (${header.join(', ')}); add it, or map the column that holds it.`,
      'rowIdentifier',
    );
  }
  if (!columns.some((c) => c.fieldName !== undefined)) {
    throw new PublishError('invalid-input', `${req.file}: no column of the file goes to a field of the dataset; check the mapping.`, 'mapping');
  }
  const dateOrders = header.map((_, i) => head.columns[i]?.dateOrder);

  const route: PublishRoute = req.mode === 'create' || req.mode === 'replace' || (req.route === 'revision' && req.mode !== 'sync') ? 'revision' : 'resource';
  const counts: PublishPlan['counts'] = {};
  let rows: number | undefined;
  let badRows: number | undefined;
  let problemCount = problems.length;
  let syncDeletes: string[] | undefined;
  let remoteHashes: Map<string, string> | undefined;
  let planSpool: Spool | undefined;

  const fullScan = req.fullScan ?? true;
  if (fullScan) {
    const needIds = view !== undefined && rid !== undefined && (req.mode === 'upsert' || req.mode === 'sync' || req.mode === 'delete' || req.mode === 'append');
    const maxIds = req.maxRemoteIds ?? 5_000_000;
    let remote: Set<string> | Map<string, string> | undefined;
    if (needIds && req.mode === 'sync') {
      remoteHashes = await remoteRowHashes(client, view?.id as string, columns, dateOrders, header.length, rid as string, maxIds, options.signal);
      remote = remoteHashes;
    } else if (needIds) {
      remote = await remoteIds(client, view?.id as string, rid as string, maxIds, options.signal);
      if (remote === undefined) {
        if (req.mode === 'sync') {
          throw new PublishError(
            'refused',
            `The dataset has more than ${maxIds} rows: too many row ids to compare in memory for a sync (option maxRemoteIds). Use replace instead.`,
            'maxRemoteIds',
          );
        }
        warnings.push(`The dataset has more than ${maxIds} rows: created/updated counts are not computed (option maxRemoteIds).`);
      }
    }
    const encoder = new RowEncoder(columns, dateOrders, header.length, rid, req.mode === 'delete');
    // Row ids of the file are counted as 52-bit hashes (8 bytes each, no string kept): `newIds` for ids not in the
    // dataset, `hitIds` for listed ids of a delete that are. Repeats are confirmed exactly below.
    const newIds = new IdHashLog();
    const hitIds = new IdHashLog();
    const seenRemote = remote !== undefined && req.mode === 'sync' ? new Set<string>() : undefined;
    let total = 0;
    let bad = 0;
    let updated = 0;
    let unchanged = 0;
    const skipBad = req.skipBadRows ?? false;
    let spool =
      route === 'resource' && options.spool ? await SpoolWriter.create(typeof options.spool === 'object' ? options.spool.maxBytes : undefined) : undefined;
    const batchSize = req.batchSize ?? DEFAULT_BATCH_SIZE;
    const batchBytes = req.batchBytes ?? DEFAULT_BATCH_BYTES;
    const reader = await openCsv(req.file, { signal: options.signal }).catch(unreadable);
    let builder = spool ? new BatchBuilder(batchSize, batchBytes, reader.format.lineBreak, new BufferPool(batchBytes + 64 * 1024, 1)) : undefined;
    const spoolBatch = async (b: Batch): Promise<void> => {
      await spool?.batch(b);
      builder?.pool.release(b);
    };
    try {
      for await (const batch of reader.batches()) {
        for (const rec of batch) {
          total++;
          const json = encoder.encodeText(rec.fields);
          if (json === undefined) {
            bad++;
            problemCount++;
            const { message, column } = encoder.lastError;
            if (problems.length < MAX_PROBLEMS) {
              problems.push({ line: rec.line, column, message: `${req.file}:${rec.line}${column !== undefined ? `:${column}` : ''}: ${message}` });
            }
            if (spool) {
              // Without --skip-bad-rows nothing will be sent: stop spooling.
              if (skipBad) await spool.bad({ line: rec.line, fields: [...rec.fields], message });
              else {
                await spool.abandon();
                spool = undefined;
                builder = undefined;
              }
            }
            continue;
          }
          const id = encoder.lastId;
          let send = true;
          if (remote !== undefined && id !== undefined) {
            if (remote.has(id)) {
              if (req.mode === 'delete') hitIds.add(hashId(id));
              else {
                seenRemote?.add(id);
                // Sync sends only the rows that differ from the remote row.
                if (remoteHashes !== undefined && remoteHashes.get(id) === rowHash(json)) {
                  unchanged++;
                  send = false;
                } else updated++;
              }
            } else newIds.add(hashId(id));
          }
          if (send && builder) {
            const closed = builder.add(json, rec.line, rec.fields, reader.bytesRead);
            if (closed) for (const b of closed) await spoolBatch(b);
          }
        }
        options.onScan?.(total, reader.bytesRead, reader.format.fileSize);
        if (spool && !spool.active) {
          spool = undefined;
          builder = undefined;
        }
      }
      if (builder && spool) {
        const last = builder.finish(st.size);
        if (last) await spoolBatch(last);
      }
      planSpool = spool ? spool.finish({ size: st.size, mtimeMs: st.mtimeMs }) : undefined;
      spool = undefined;
    } catch (e) {
      unreadable(e);
    } finally {
      await spool?.abandon();
    }
    // A delete counts each listed id once (a repeated or unknown id is a not-found error on the server); an upsert
    // counts an id new to the dataset as created once, its repeats as updates.
    const known = remote;
    const distinctNew = known !== undefined && req.mode !== 'delete' ? await distinctIds(newIds, (id) => !known.has(id), req.file, encoder, options.signal) : 0;
    const distinctHit = known !== undefined && req.mode === 'delete' ? await distinctIds(hitIds, (id) => known.has(id), req.file, encoder, options.signal) : 0;
    let created = distinctNew;
    if (req.mode === 'delete') {
      created = newIds.size + hitIds.size - distinctHit;
      updated = distinctHit;
    } else updated += newIds.size - distinctNew;
    rows = total;
    badRows = bad;
    if (total === 0) {
      warnings.push(
        req.mode === 'replace'
          ? `${req.file} has a header but no data rows: replacing with it leaves ${view?.id ?? 'the dataset'} empty.`
          : `${req.file} has a header but no data rows: nothing will be sent.`,
      );
    }
    const good = total - bad;
    counts.toSend = good - unchanged;
    if (req.mode === 'sync') counts.unchanged = unchanged;
    if (req.mode === 'create' || (req.mode === 'append' && rid === undefined)) counts.toCreate = good;
    if (remote !== undefined) {
      if (req.mode === 'delete') {
        counts.toDelete = updated;
        counts.notFound = created;
      } else {
        counts.toCreate = created;
        counts.toUpdate = updated;
      }
      if (req.mode === 'sync' && seenRemote !== undefined) {
        syncDeletes = [];
        for (const id of remote.keys()) if (!seenRemote.has(id)) syncDeletes.push(id);
        counts.toDelete = syncDeletes.length;
        counts.remoteBefore = remote.size;
        counts.remoteAfter = remote.size + created - syncDeletes.length;
      }
    }
    if (req.mode === 'replace') {
      counts.remoteBefore = await client.count(view?.id as string, {}, { signal: options.signal });
      counts.remoteAfter = good;
      counts.toDelete = counts.remoteBefore;
      counts.toCreate = good;
    }
  } else {
    warnings.push('Only the head of the file was read: row counts are unknown until the rows are sent, and rows with problems are found while sending.');
  }

  const blocked = !(req.skipBadRows ?? false) && problemCount > 0;
  if (blocked) {
    await planSpool?.dispose();
    planSpool = undefined;
  }
  if (rid !== undefined && req.mode === 'delete' && counts.notFound) {
    warnings.push(`${counts.notFound} row id(s) listed in the file are not in the dataset: nothing to delete for them.`);
  }
  return {
    request: req,
    domain,
    dataset: view?.id,
    datasetName: view?.name ?? req.newDataset?.name,
    mode: req.mode,
    route,
    explanation: explain(route, req.mode, rid, view?.id),
    rowIdentifier: rid,
    columns,
    dateOrders,
    file: { path: req.file, size: st.size, mtimeMs: st.mtimeMs, headHash: hash, header },
    rows,
    badRows,
    problemCount,
    problems,
    warnings,
    counts,
    syncDeletes,
    remoteHashes,
    blocked,
    batchSize: req.batchSize ?? DEFAULT_BATCH_SIZE,
    batchBytes: req.batchBytes ?? DEFAULT_BATCH_BYTES,
    concurrency: req.concurrency ?? DEFAULT_CONCURRENCY,
    spool: planSpool,
  };
}

/**
 * The number of distinct ids among those logged. Equal hashes only make ids suspected; when there are any, the file
 * is read again and the ids of just the suspected rows are compared as strings, so the count is exact. Only a file
 * with repeated ids (or, about once in 10 000 files of 1M ids, two ids sharing a 52-bit hash) pays for that read.
 */
async function distinctIds(
  log: IdHashLog,
  logged: (id: string) => boolean,
  file: string,
  encoder: RowEncoder,
  signal: AbortSignal | undefined,
): Promise<number> {
  const size = log.size;
  const { extra, suspects } = log.repeats();
  if (extra === 0) return size;
  let suspectRows = 0;
  const ids = new Set<string>();
  const reader = await openCsv(file, { signal }).catch(unreadable);
  try {
    for await (const batch of reader.batches()) {
      for (const rec of batch) {
        if (encoder.encodeText(rec.fields) === undefined || encoder.lastId === undefined) continue;
        const id = encoder.lastId;
        if (!sortedHas(suspects, hashId(id)) || !logged(id)) continue;
        suspectRows++;
        ids.add(id);
      }
    }
  } catch (e) {
    unreadable(e);
  }
  return size - suspectRows + ids.size;
}
