// Planning a publish: everything is checked and counted before a single row is written.
//
// The parts: checks.ts (the request, the target's rights, refusals), mapping.ts (CSV columns → fields and types),
// remote.ts (the dataset's ids and, for a sync, its rows' digests), scan.ts (the full scan of the file: every row
// checked and encoded once, counted, and spooled for a one-pass /resource publish).
//
// The /resource route scans the whole file by default (`fullScan`), so that nothing is written when a row is bad.
// The revision route does not: the server checks every row of the upload, and nothing is applied when it finds
// errors (unless `skipBadRows`); its plan reads the head only (header, mapping, types).
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readHead } from '../csv';
import type { SodaClient, ViewMetadata } from '../soda';
import { checkRequest, DEFAULT_BATCH_BYTES, DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, checkWritable, describeSodaFailure, explain, unreadable } from './checks';
import { buildMapping } from './mapping';
import { scanFile } from './scan';
import type { Spool } from './spool';
import { PublishError } from './errors';
import type { PlanProblem, PublishPlan, PublishRequest, PublishRoute } from './types';

export { checkRequest, checkWritable, DEFAULT_BATCH_BYTES, DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY } from './checks';
export { rowHash } from './remote';
export const HEAD_HASH_BYTES = 64 * 1024;

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

  const fullScan = req.fullScan ?? route === 'resource';
  if (fullScan) {
    const scan = await scanFile({
      client,
      req,
      view,
      rid,
      columns,
      dateOrders,
      header,
      route,
      file: { size: st.size, mtimeMs: st.mtimeMs },
      options,
      problems,
      warnings,
      counts,
    });
    rows = scan.rows;
    badRows = scan.badRows;
    problemCount += scan.badRows;
    syncDeletes = scan.syncDeletes;
    remoteHashes = scan.remoteHashes;
    planSpool = scan.spool;
  } else if (route === 'resource') {
    warnings.push('Only the head of the file was read: row counts are unknown until the rows are sent, and rows with problems are found while sending.');
  }
  if (req.mode === 'replace') {
    counts.remoteBefore = await client.count(view?.id as string, {}, { signal: options.signal });
    counts.toDelete = counts.remoteBefore;
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
    file: { path: req.file, size: st.size, mtimeMs: st.mtimeMs, headHash: hash, header, encoding: head.format.encoding, delimiter: head.format.delimiter },
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
