// The full scan of a plan: every row read once, checked and encoded with the execution's own encoder, counted
// against the dataset's ids, and (one pass, /resource route) its request bodies spooled for the execution.
import { byteRowFields, detectFormat, openCsv, type ByteRow, type CsvRecord } from '../csv';
import { byteTokenizerSupports } from '../csv/bytetokenizer';
import { hashId, sortedHas } from '../csv/idtable';
import { readByteRows } from '../csv/byteReader';
import type { ReadProgress } from '../csv/reader';
import type { SodaClient, ViewMetadata } from '../soda';
import { type Batch, BatchBuilder, BufferPool } from './batches';
import { DEFAULT_BATCH_BYTES, DEFAULT_BATCH_SIZE, unreadable } from './checks';
import { RowEncoder } from './encode';
import { PublishError } from './errors';
import { SpillingIdLog } from './idlog';
import type { PlanOptions } from './plan';
import { remoteIds, remoteRowHashes, rowHash, rowHashBytes } from './remote';
import { type Spool, type SpoolRecord, SpoolWriter } from './spool';
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
  const format = await detectFormat(req.file).catch(unreadable);
  // Rows of a UTF-8 file are read as bytes (`readByteRows`): cells in the common notations go from the file's bytes
  // to the request body's without a string in between. Other encodings are read as strings.
  const byteRows = byteTokenizerSupports(format);
  let builder = spool ? new BatchBuilder(batchSize, batchBytes, format.lineBreak, new BufferPool(batchBytes + 64 * 1024, 1)) : undefined;
  // What the rows of one chunk (or reader batch) give the spool, in file order: written after it, in `drain`.
  const queue: SpoolRecord[] = [];
  let stopSpool = false;
  let bytesRead = 0;
  const onBadRow = (line: number, fields: () => string[]): void => {
    bad++;
    const { message, column } = encoder.lastError;
    if (problems.length < MAX_PROBLEMS) {
      problems.push({ line, column, message: `${req.file}:${line}${column !== undefined ? `:${column}` : ''}: ${message}` });
    }
    if (builder) {
      // Without --skip-bad-rows nothing will be sent: stop spooling.
      if (skipBad) queue.push({ kind: 'bad', row: { line, fields: fields(), message } });
      else {
        stopSpool = true;
        builder = undefined;
        queue.length = 0;
      }
    }
  };
  /**
   * Counts the good row's id against the dataset's; false when the row need not be sent (a sync's unchanged row).
   * The row's JSON text is `json`, or else the encoder's bytes up to `end`.
   */
  const countId = (json: string | undefined, end: number): boolean => {
    if (remote === undefined || !encoder.hasId) return true;
    if (remote.size === 0) {
      newIds.add(encoder.idHash());
      return true;
    }
    const id = encoder.idText() ?? '';
    if (!remote.has(id)) {
      newIds.add(encoder.idHash());
      return true;
    }
    if (req.mode === 'delete') {
      hitIds.add(encoder.idHash());
      return true;
    }
    seenRemote?.add(id);
    // Sync sends only the rows that differ from the remote row.
    const remoteHash = remoteHashes?.get(id);
    if (remoteHash !== undefined && remoteHash === (json !== undefined ? rowHash(json) : rowHashBytes(encoder.out, encoder.outStart, end))) {
      unchanged++;
      return false;
    }
    updated++;
    return true;
  };
  let headerNext = byteRows;
  const onRow = (row: ByteRow): void => {
    if (headerNext) {
      headerNext = false;
      return;
    }
    total++;
    // Written straight into the request body being built (or, without one, into the encoder's own buffer).
    const end = builder ? encoder.encodeBytes(row, builder.target, builder.rowStart(), builder.rowLimit) : encoder.encodeBytes(row);
    if (end < 0) return onBadRow(row.line, () => byteRowFields(row));
    if (countId(undefined, end) && builder) {
      const closed =
        encoder.out === builder.target
          ? builder.commitBytes(end, row.line, row.breaks, bytesRead)
          : builder.addBytes(encoder.out, encoder.outStart, end, row.line, row.breaks, bytesRead);
      if (closed) for (const b of closed) queue.push({ kind: 'batch', batch: b });
    }
  };
  const onRecord = (rec: CsvRecord): void => {
    if (headerNext) {
      headerNext = false;
      return;
    }
    total++;
    const json = encoder.encodeText(rec.fields);
    if (json === undefined) return onBadRow(rec.line, () => [...rec.fields]);
    if (countId(json, 0) && builder) {
      const closed = builder.add(json, rec.line, rec.fields, bytesRead);
      if (closed) for (const b of closed) queue.push({ kind: 'batch', batch: b });
    }
  };
  const drain = async (): Promise<void> => {
    if (stopSpool) {
      stopSpool = false;
      queue.length = 0;
      await spool?.abandon();
      spool = undefined;
      builder = undefined;
      return;
    }
    for (const r of queue) {
      if (r.kind === 'batch') await spoolBatch(r.batch);
      else await spool?.bad(r.row);
    }
    queue.length = 0;
    if (spool && !spool.active) {
      spool = undefined;
      builder = undefined;
    }
  };
  const spoolBatch = async (b: Batch): Promise<void> => {
    await spool?.batch(b);
    builder?.pool.release(b);
  };
  try {
    if (byteRows) {
      const progress: ReadProgress = { bytes: 0 };
      let chunks = 0;
      for await (const records of readByteRows(format, { signal: options.signal }, progress, onRow)) {
        for (const rec of records) onRecord(rec);
        bytesRead = progress.bytes;
        await drain();
        if (++chunks % 16 === 0) options.onScan?.(total, bytesRead, format.fileSize);
      }
      options.onScan?.(total, bytesRead, format.fileSize);
    } else {
      const reader = await openCsv(req.file, { signal: options.signal }).catch(unreadable);
      for await (const batch of reader.batches()) {
        bytesRead = reader.bytesRead;
        for (const rec of batch) onRecord(rec);
        await drain();
        options.onScan?.(total, reader.bytesRead, reader.format.fileSize);
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
