// The full scan of a plan: every row read once, checked and encoded with the execution's own encoder, counted
// against the dataset's ids, and (one pass, /resource route) its request bodies spooled for the execution.
import { openCsv } from '../csv';
import { hashId, sortedHas } from '../csv/idtable';
import type { SodaClient, ViewMetadata } from '../soda';
import { type Batch, BatchBuilder, BufferPool } from './batches';
import { DEFAULT_BATCH_BYTES, DEFAULT_BATCH_SIZE, unreadable } from './checks';
import { RowEncoder } from './encode';
import { PublishError } from './errors';
import { SpillingIdLog } from './idlog';
import type { PlanOptions } from './plan';
import { remoteIds, remoteRowHashes, rowHash } from './remote';
import { type Spool, SpoolWriter } from './spool';
import type { ColumnMappingEntry, PlanProblem, PublishPlan, PublishRequest, PublishRoute } from './types';

const MAX_PROBLEMS = 20;

export interface ScanInput {
  client: SodaClient;
  /** The request, its file resolved. */
  req: PublishRequest;
  view: ViewMetadata | undefined;
  rid: string | undefined;
  columns: ColumnMappingEntry[];
  dateOrders: ('mdy' | 'dmy' | undefined)[];
  header: string[];
  route: PublishRoute;
  file: { size: number; mtimeMs: number };
  options: PlanOptions;
  /** Appended to: the first problems found (up to 20 in all). */
  problems: PlanProblem[];
  /** Appended to. */
  warnings: string[];
  /** Filled in. */
  counts: PublishPlan['counts'];
}

export interface ScanOutput {
  rows: number;
  badRows: number;
  syncDeletes: string[] | undefined;
  remoteHashes: Map<string, string> | undefined;
  spool: Spool | undefined;
}

/** Reads every row of the file once. Throws PublishError for an unreadable file or a sync past `maxRemoteIds`. */
export async function scanFile(input: ScanInput): Promise<ScanOutput> {
  const { client, req, view, rid, columns, dateOrders, header, route, options, problems, warnings, counts } = input;
  const st = input.file;
  const out: ScanOutput = { rows: 0, badRows: 0, syncDeletes: undefined, remoteHashes: undefined, spool: undefined };
  let remoteHashes: Map<string, string> | undefined;
  const needIds = view !== undefined && rid !== undefined && (req.mode === 'upsert' || req.mode === 'sync' || req.mode === 'delete' || req.mode === 'append');
  const maxIds = req.maxRemoteIds ?? 5_000_000;
  let remote: Set<string> | Map<string, string> | undefined;
  if (needIds && req.mode === 'sync') {
    const hashes = await remoteRowHashes(client, view?.id, columns, dateOrders, header.length, rid, maxIds, options.signal);
    remote = hashes;
    remoteHashes = hashes;
    out.remoteHashes = hashes;
  } else if (needIds) {
    remote = await remoteIds(client, view?.id, rid, maxIds, options.signal);
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
  // Row ids of the file are counted as 52-bit hashes (8 bytes each in memory up to 1M ids, then on disk; no string kept): `newIds` for ids not in the
  // dataset, `hitIds` for listed ids of a delete that are. Repeats are confirmed exactly below.
  const newIds = new SpillingIdLog();
  const hitIds = new SpillingIdLog();
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
    out.spool = spool ? spool.finish({ size: st.size, mtimeMs: st.mtimeMs }) : undefined;
    spool = undefined;
  } catch (e) {
    unreadable(e);
  } finally {
    await spool?.abandon();
  }
  // A delete counts each listed id once (a repeated or unknown id is a not-found error on the server); an upsert
  // counts an id new to the dataset as created once, its repeats as updates.
  const known = remote;
  let distinctNew = 0;
  let distinctHit = 0;
  try {
    if (known !== undefined && req.mode !== 'delete') distinctNew = await distinctIds(newIds, (id) => !known.has(id), req.file, encoder, options.signal);
    if (known !== undefined && req.mode === 'delete') distinctHit = await distinctIds(hitIds, (id) => known.has(id), req.file, encoder, options.signal);
  } finally {
    newIds.dispose();
    hitIds.dispose();
  }
  let created = distinctNew;
  if (req.mode === 'delete') {
    created = newIds.size + hitIds.size - distinctHit;
    updated = distinctHit;
  } else updated += newIds.size - distinctNew;
  out.rows = total;
  out.badRows = bad;
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
      const syncDeletes: string[] = [];
      for (const id of remote.keys()) if (!seenRemote.has(id)) syncDeletes.push(id);
      out.syncDeletes = syncDeletes;
      counts.toDelete = syncDeletes.length;
      counts.remoteBefore = remote.size;
      counts.remoteAfter = remote.size + created - syncDeletes.length;
    }
  }
  if (req.mode === 'replace') {
    counts.remoteAfter = good;
    counts.toCreate = good;
  }
  return out;
}

/**
 * The number of distinct ids among those logged. Equal hashes only make ids suspected; when there are any, the file
 * is read again and the ids of just the suspected rows are compared as strings, so the count is exact. Only a file
 * with repeated ids (or, about once in 10 000 files of 1M ids, two ids sharing a 52-bit hash) pays for that read.
 */
async function distinctIds(
  log: SpillingIdLog,
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
