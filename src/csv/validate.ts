// Streaming validation of a CSV file against a target dataset's columns.
//
// Memory is bounded: per column a counter and at most `maxExamples` examples (values truncated to 80 characters);
// duplicate row identifiers are found from 8-byte hashes of the ids (see `idtable.ts`), at most `maxTrackedIds`
// (default 12 000 000 ids, 96 MB); past the cap the duplicate check stops and the report says so
// (`rowIdentifier.duplicateCheck = 'stopped'`; duplicates among the ids before the cap are still reported). Empty row
// identifiers are always counted.
//
// Speed: cells are checked with `createChecker` (no result object per cell; messages are built only for failing
// cells). With `confirmTypes`, the whole-file type inference is skipped for the columns whose outcome is already
// known: a column whose sample type is text stays text, and a column whose target type equals its sample type keeps
// that type as long as every cell converts (the converter and the inference accept the same values for these
// types). Only when such a column gets an invalid cell, or when ids are suspected to repeat, is the file read a
// second time, for just those columns and ids, so that the report stays exact.
//
// Threads: on a machine with two or more cores a UTF-8 file of 32 MiB or more is split at a line break near its
// middle; this thread validates the first half while a worker validates the second (`validate-part.ts`), and the
// halves are merged with file line numbers. A split that falls inside a quoted field is detected (the first half then
// ends inside quotes) and the file is validated on one thread instead. The id cap then applies per half.
import { availableParallelism } from 'node:os';
import { CsvError, truncate } from './errors';
import { checkHeader, matchHeaders, type HeaderProblem } from './fieldnames';
import { readHead, type RaggedRow } from './head';
import { hashId, IdHashLog, sortedHas } from './idtable';
import { openCsv, openCsvUpTo, type CsvFormat, type CsvReadOptions, type CsvReader } from './reader';
import { columnTypeOf, TypeInferrer, type ColumnType, type ConvertOptions } from './cells';
import { cellProblem, mergeParts, PartValidator, type InferenceMode, type PartConfig, type PartResult, type ProblemSummary } from './validate-part';
import { findSplit, validatePartInWorker } from './worker';

export interface DatasetColumn {
  fieldName: string;
  /** Display name. */
  name: string;
  /** Legacy (`calendar_date`, `checkbox`, …) or SoQL (`floating_timestamp`, `boolean`, …) type name. */
  dataTypeName: string;
}

export interface DatasetSchema {
  columns: DatasetColumn[];
  /** Field name of the row identifier column, if the dataset has one. */
  rowIdentifier?: string;
}

/** Builds a schema from the `/api/views/{4x4}.json` body (system columns starting with `:` are left out). */
export function schemaFromView(view: {
  columns?: { id?: number; fieldName: string; name: string; dataTypeName: string }[];
  rowIdentifierColumnId?: number;
  metadata?: { rowIdentifier?: string | number };
}): DatasetSchema {
  const all = view.columns ?? [];
  const columns = all.filter((c) => !c.fieldName.startsWith(':')).map(({ fieldName, name, dataTypeName }) => ({ fieldName, name, dataTypeName }));
  const byId = (id: number | string | undefined) => all.find((c) => c.id !== undefined && String(c.id) === String(id));
  const ri = view.metadata?.rowIdentifier;
  const rowIdentifier =
    byId(view.rowIdentifierColumnId)?.fieldName ??
    (ri !== undefined ? (byId(ri)?.fieldName ?? (all.some((c) => c.fieldName === ri) ? String(ri) : undefined)) : undefined);
  return rowIdentifier ? { columns, rowIdentifier } : { columns };
}

export type { CellProblem, ProblemSummary } from './validate-part';

export interface ColumnReport {
  csvIndex: number;
  csvHeader: string;
  fieldName: string;
  type: ColumnType;
  invalid: ProblemSummary;
  nulls: number;
}

export interface TypeDisagreement {
  csvIndex: number;
  csvHeader: string;
  sample: ColumnType;
  full: ColumnType;
  message: string;
}

export interface ValidationReport {
  file: string;
  format: CsvFormat;
  header: string[];
  rows: number;
  headerProblems: HeaderProblem[];
  /** Per CSV column, the dataset field it goes to (undefined = not imported). */
  mapping: { csvIndex: number; csvHeader: string; fieldName: string | undefined }[];
  /** CSV headers that match no dataset column. */
  unknownColumns: string[];
  /** Dataset field names no CSV column maps to. */
  missingColumns: string[];
  rowIdentifier?: {
    fieldName: string;
    inCsv: boolean;
    empty: ProblemSummary;
    duplicates: ProblemSummary;
    duplicateCheck: 'complete' | 'stopped';
  };
  columns: ColumnReport[];
  ragged: ProblemSummary & { rows: RaggedRow[] };
  /** Columns whose type from the whole file differs from the head sample's. Empty unless `confirmTypes`. */
  typeDisagreements: TypeDisagreement[];
  /** Total number of problems (cells, ragged rows, empty or duplicate ids, missing row identifier column). */
  problemCount: number;
}

export interface ValidationProgress {
  bytesRead: number;
  fileSize: number;
  rows: number;
}

export interface ValidateOptions extends CsvReadOptions, ConvertOptions {
  /** Per CSV column index, the target field name or null to skip it. Default: exact / normalised field name, or
   *  display name (matches with confidence ≥ 0.85 from `matchHeaders`). */
  mapping?: (string | null)[];
  /** Slash-date order per field name; default from the head sample. */
  dateOrders?: Record<string, 'mdy' | 'dmy'>;
  /** Examples kept per problem kind and column (default 5). */
  maxExamples?: number;
  /** Row identifiers remembered for the duplicate check (default 12 000 000, 8 bytes each). */
  maxTrackedIds?: number;
  /** Also infer every column's type over the whole file and report disagreements with the sample (default true). */
  confirmTypes?: boolean;
  /** Bytes read from the start of the file for the type sample (default: `readHead`'s 256 KiB window). */
  sampleBytes?: number;
  /** Threads for one validation (default: 2 when the machine has 2 or more cores, else 1). With 2, a UTF-8 file of at
   *  least `parallelMinBytes` is split at a line break near its middle and the second half is validated in a worker
   *  thread; if the split turns out to be inside a quoted field, the file is validated again on one thread. */
  threads?: number;
  /** Smallest file validated on two threads (default 32 MiB). */
  parallelMinBytes?: number;
  onProgress?: (progress: ValidationProgress) => void;
}

function summary(): ProblemSummary {
  return { count: 0, examples: [] };
}

/** Sample types for which "every cell converts to the target type" implies "the whole file infers as that type". */
const INFERENCE_MATCHES_CONVERSION = new Set<ColumnType>(['number', 'checkbox', 'floating_timestamp', 'fixed_timestamp', 'point', 'url', 'email']);

export async function validateFile(path: string, target: DatasetSchema, options: ValidateOptions = {}): Promise<ValidationReport> {
  const maxExamples = options.maxExamples ?? 5;
  const maxTrackedIds = options.maxTrackedIds ?? 12_000_000;
  const confirmTypes = options.confirmTypes ?? true;
  const head = await readHead(path, {
    ...options,
    rows: 0,
    ...(options.sampleBytes ? { initialBytes: options.sampleBytes, maxBytes: options.sampleBytes } : {}),
  });
  const file = path;
  const format = head.format;
  const threads = options.threads ?? (availableParallelism() >= 2 ? 2 : 1);
  const split =
    threads >= 2 &&
    format.encoding === 'utf-8' &&
    format.fileSize >= (options.parallelMinBytes ?? 32 * 1024 * 1024) &&
    head.estimatedRowCount * 1.5 < maxTrackedIds
      ? await findSplit(path, format.fileSize)
      : undefined;
  // The header comes from the reader (the head window may be too small for a very long header record).
  const firstReader = await openCsvUpTo(path, options, split, format);
  const header = firstReader.header;

  // Mapping CSV column → dataset column.
  const mapping = options.mapping
    ? header.map((h, i) => ({ csvIndex: i, csvHeader: h, fieldName: options.mapping?.[i] ?? undefined }))
    : matchHeaders(header, target.columns, 0.85).map((m) => ({ csvIndex: m.csvIndex, csvHeader: m.csvHeader, fieldName: m.fieldName }));
  const byField = new Map(target.columns.map((c) => [c.fieldName, c]));
  const mappedFields = new Set(mapping.map((m) => m.fieldName).filter((f): f is string => f !== undefined));

  const active: PartConfig['active'] = [];
  const reportInfo: { csvIndex: number; csvHeader: string; fieldName: string; type: ColumnType }[] = [];
  for (const m of mapping) {
    const col = m.fieldName !== undefined ? byField.get(m.fieldName) : undefined;
    if (!col) continue;
    const type = columnTypeOf(col.dataTypeName);
    const dateOrder = options.dateOrders?.[col.fieldName] ?? head.columns[m.csvIndex]?.dateOrder ?? options.dateOrder;
    active.push({ csvIndex: m.csvIndex, type, ...(dateOrder ? { dateOrder } : {}) });
    reportInfo.push({ csvIndex: m.csvIndex, csvHeader: m.csvHeader, fieldName: col.fieldName, type });
  }

  const idField = target.rowIdentifier;
  const idIndex = idField !== undefined ? mapping.findIndex((m) => m.fieldName === idField) : -1;

  // Whole-file inference, per column: 'run' = a TypeInferrer sees every cell; 'known' = the sample type is the answer
  // (see the file comment); 'pending' = it was 'known' until an invalid cell: inferred in the second read.
  const sampleType = (c: number): ColumnType => head.columns[c]?.type ?? 'text';
  const targetType = new Map(active.map((a) => [a.csvIndex, a.type]));
  const inference: InferenceMode[] = confirmTypes
    ? header.map((_, c) => {
        const sample = head.columns[c];
        if (sample && sample.values > 0 && sample.type === 'text') return 'known';
        const t = targetType.get(c);
        return t !== undefined && t === sample?.type && INFERENCE_MATCHES_CONVERSION.has(t) ? 'known' : 'run';
      })
    : [];
  const config: PartConfig = {
    file,
    header,
    delimiter: format.delimiter,
    active,
    decimalComma: options.decimalComma ?? false,
    idIndex: idField !== undefined ? idIndex : -1,
    idField: idField ?? '',
    maxExamples,
    maxTrackedIds,
    inference,
  };
  const cancelled = (line: number | undefined): CsvError => new CsvError('ABORTED', file, line, undefined, 'validation was cancelled');

  let part: PartResult | undefined;
  if (split !== undefined) part = await validateInTwo(firstReader, path, format, config, options, split, cancelled);
  part ??= await validatePart(
    split === undefined ? firstReader : await openCsvUpTo(path, options, undefined, format),
    format,
    config,
    options,
    undefined,
    cancelled,
  );

  // Second read, only when needed: exact duplicate check of the suspected ids, inference of the 'pending' columns.
  const rowIdentifier: ValidationReport['rowIdentifier'] = idField
    ? {
        fieldName: idField,
        inCsv: idIndex >= 0,
        empty: part.emptyIds,
        duplicates: summary(),
        duplicateCheck: part.idStopLine === Infinity ? 'complete' : 'stopped',
      }
    : undefined;
  const idLog = new IdHashLog();
  idLog.addRuns(part.idRuns);
  const suspects = idLog.size > 0 ? idLog.suspects() : new Float64Array(0);
  const pending = part.inference.flatMap((how, c) => (how === 'pending' ? [c] : []));
  const inferrers = part.inferrers.map((inf) => (inf ? TypeInferrer.revive(inf, options.decimalComma) : undefined));
  if (suspects.length > 0 || pending.length > 0) {
    const pendingInferrers = pending.map((c) => (inferrers[c] = new TypeInferrer(options.decimalComma)));
    const firstSeen = new Set<string>();
    const again = await openCsv(path, options);
    const stopLine = part.idStopLine;
    for await (const batch of again.batches()) {
      if (options.signal?.aborted) {
        await again.close();
        throw cancelled(batch[0]?.line);
      }
      for (let r = 0; r < batch.length; r++) {
        const { line, fields } = batch[r];
        if (suspects.length > 0 && line < stopLine && rowIdentifier) {
          const id = (fields[idIndex] ?? '').trim();
          if (id && sortedHas(suspects, hashId(id))) {
            if (!firstSeen.has(id)) firstSeen.add(id);
            else {
              rowIdentifier.duplicates.count++;
              if (rowIdentifier.duplicates.examples.length < maxExamples) {
                rowIdentifier.duplicates.examples.push(
                  cellProblem(file, header, line, idIndex, id, `row identifier "${truncate(id, 40)}" appears more than once in the file`),
                );
              }
            }
          }
        }
        for (let k = 0; k < pending.length; k++) pendingInferrers[k].add(fields[pending[k]] ?? '');
      }
    }
    if (options.signal?.aborted) throw cancelled(undefined);
  }

  const typeDisagreements: TypeDisagreement[] = [];
  part.inference.forEach((how, c) => {
    const full = how === 'known' ? sampleType(c) : (inferrers[c]?.result().type ?? sampleType(c));
    const sample = sampleType(c);
    if (full !== sample) {
      typeDisagreements.push({
        csvIndex: c,
        csvHeader: header[c],
        sample,
        full,
        message: `column "${header[c]}" looked like ${sample} in the first ${head.sampledRows} rows but the whole file reads as ${full}`,
      });
    }
  });

  const columns: ColumnReport[] = reportInfo.map((info, k) => ({ ...info, invalid: part.invalid[k], nulls: part.nulls[k] }));
  const ragged = part.ragged;
  const unknownColumns = mapping.filter((m) => m.fieldName === undefined || !byField.has(m.fieldName)).map((m) => m.csvHeader);
  const missingColumns = target.columns.map((c) => c.fieldName).filter((f) => !mappedFields.has(f));
  const problemCount =
    columns.reduce((n, c) => n + c.invalid.count, 0) +
    ragged.count +
    (rowIdentifier ? rowIdentifier.empty.count + rowIdentifier.duplicates.count + (rowIdentifier.inCsv ? 0 : 1) : 0);
  return {
    file,
    format,
    header,
    rows: part.rows,
    headerProblems: checkHeader(header),
    mapping,
    unknownColumns,
    missingColumns,
    rowIdentifier,
    columns,
    ragged,
    typeDisagreements,
    problemCount,
  };
}

/** Validates the records of `reader` (the whole file, or up to the split) on this thread. */
async function validatePart(
  reader: CsvReader,
  format: CsvFormat,
  config: PartConfig,
  options: ValidateOptions,
  otherBytes: (() => number) | undefined,
  cancelled: (line: number | undefined) => CsvError,
): Promise<PartResult> {
  const part = new PartValidator(config);
  let rows = 0;
  for await (const batch of reader.batches()) {
    if (options.signal?.aborted) {
      await reader.close();
      throw cancelled(batch[0]?.line);
    }
    part.add(batch);
    rows += batch.length;
    options.onProgress?.({ bytesRead: reader.bytesRead + (otherBytes?.() ?? 0), fileSize: format.fileSize, rows });
  }
  if (options.signal?.aborted) throw cancelled(undefined);
  return part.result(reader.progress.line ?? 1);
}

/**
 * The first half on this thread, the second in a worker; undefined when the split point was inside a quoted field
 * (the caller then validates on one thread).
 */
async function validateInTwo(
  firstReader: CsvReader,
  path: string,
  format: CsvFormat,
  config: PartConfig,
  options: ValidateOptions,
  split: number,
  cancelled: (line: number | undefined) => CsvError,
): Promise<PartResult | undefined> {
  const other = { bytes: 0 };
  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const second = validatePartInWorker(path, format, config, options, split, ac.signal, (bytes) => (other.bytes = bytes));
  second.catch(() => undefined); // awaited below; this only keeps an early failure from being reported as unhandled
  try {
    let first: PartResult;
    try {
      first = await validatePart(firstReader, format, config, options, () => other.bytes, cancelled);
    } catch (err) {
      ac.abort();
      if (err instanceof CsvError && err.code === 'UNTERMINATED_QUOTE') return undefined; // the split was inside quotes
      throw err;
    }
    let rest: PartResult;
    try {
      rest = await second;
    } catch (err) {
      if (err instanceof CsvError && err.code !== 'ENCODING' && err.code !== 'ABORTED' && err.line !== undefined) {
        // A real error in the second half (the first half ended on a record boundary): give its line in the file.
        throw new CsvError(err.code, err.file, err.line + first.nextLine - 1, err.column, err.detail, err.byteOffset);
      }
      throw err;
    }
    const merged = mergeParts(config, first, rest);
    options.onProgress?.({ bytesRead: format.fileSize, fileSize: format.fileSize, rows: merged.rows });
    return merged;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
