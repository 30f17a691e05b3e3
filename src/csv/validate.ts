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
import { CsvError, location, truncate } from './errors';
import { checkHeader, matchHeaders, type HeaderProblem } from './fieldnames';
import { readHead, type RaggedRow } from './head';
import { hashId, IdHashLog, sortedHas } from './idtable';
import { openCsv, type CsvFormat, type CsvReadOptions } from './reader';
import {
  CHECK_INVALID, CHECK_NULL, columnTypeOf, createChecker, createConverter, TypeInferrer,
  type ColumnConverter, type ColumnType, type ConvertOptions,
} from './types';

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

export interface CellProblem {
  /** 1-based physical line of the record. */
  line: number;
  /** 1-based CSV column. */
  column: number;
  /** CSV header of that column. */
  columnName: string;
  /** The cell, truncated to 80 characters. */
  value: string;
  message: string;
  /** `file.csv:17:3 (valuation): "abc" is not a number` */
  text: string;
}

export interface ProblemSummary {
  count: number;
  examples: CellProblem[];
}

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
  const head = await readHead(path, { ...options, rows: 0, ...(options.sampleBytes ? { initialBytes: options.sampleBytes, maxBytes: options.sampleBytes } : {}) });
  const reader = await openCsv(path, options);
  const header = reader.header;
  const file = path;

  // Mapping CSV column → dataset column.
  const mapping = options.mapping
    ? header.map((h, i) => ({ csvIndex: i, csvHeader: h, fieldName: options.mapping?.[i] ?? undefined }))
    : matchHeaders(header, target.columns, 0.85).map((m) => ({ csvIndex: m.csvIndex, csvHeader: m.csvHeader, fieldName: m.fieldName }));
  const byField = new Map(target.columns.map((c) => [c.fieldName, c]));
  const mappedFields = new Set(mapping.map((m) => m.fieldName).filter((f): f is string => f !== undefined));

  const columns: ColumnReport[] = [];
  const converters: (ColumnConverter | undefined)[] = header.map(() => undefined);
  const checkers: (((raw: string) => number) | undefined)[] = header.map(() => undefined);
  const reports: (ColumnReport | undefined)[] = header.map(() => undefined);
  for (const m of mapping) {
    const col = m.fieldName !== undefined ? byField.get(m.fieldName) : undefined;
    if (!col) continue;
    const type = columnTypeOf(col.dataTypeName);
    const sample = head.columns[m.csvIndex];
    const dateOrder = options.dateOrders?.[col.fieldName] ?? sample?.dateOrder ?? options.dateOrder;
    converters[m.csvIndex] = createConverter(type, { decimalComma: options.decimalComma, dateOrder });
    checkers[m.csvIndex] = createChecker(type, { decimalComma: options.decimalComma, dateOrder });
    const report: ColumnReport = { csvIndex: m.csvIndex, csvHeader: m.csvHeader, fieldName: col.fieldName, type, invalid: summary(), nulls: 0 };
    reports[m.csvIndex] = report;
    columns.push(report);
  }

  const idField = target.rowIdentifier;
  const idIndex = idField !== undefined ? mapping.findIndex((m) => m.fieldName === idField) : -1;
  const rowIdentifier: ValidationReport['rowIdentifier'] = idField
    ? { fieldName: idField, inCsv: idIndex >= 0, empty: summary(), duplicates: summary(), duplicateCheck: 'complete' }
    : undefined;
  const checkIds = rowIdentifier !== undefined && idIndex >= 0;
  const idLog = new IdHashLog();
  /** Line of the first id that was not recorded any more (cap reached); ids from there on are not checked. */
  let idStopLine = Infinity;
  const ragged: ValidationReport['ragged'] = { ...summary(), rows: [] };
  const width = header.length;

  // Whole-file inference, per column: 'run' = a TypeInferrer sees every cell; 'known' = the sample type is the answer
  // (see the file comment); 'pending' = it was 'known' until an invalid cell: inferred in the second read.
  const sampleType = (c: number): ColumnType => head.columns[c]?.type ?? 'text';
  const inference: ('run' | 'known' | 'pending')[] = confirmTypes
    ? header.map((_, c) => {
        const sample = head.columns[c];
        if (sample && sample.values > 0 && sample.type === 'text') return 'known';
        const convType = converters[c]?.type;
        return convType !== undefined && convType === sample?.type && INFERENCE_MATCHES_CONVERSION.has(convType) ? 'known' : 'run';
      })
    : [];
  const inferrers = inference.map((how) => (how === 'run' ? new TypeInferrer(options.decimalComma) : undefined));
  const inferred = inference.flatMap((how, c) => (how === 'run' ? [c] : []));
  const liveInferrers = inferred.map((c) => inferrers[c] as TypeInferrer);

  const problem = (line: number, c: number, value: string, message: string): CellProblem => {
    const columnName = header[c] ?? `column ${c + 1}`;
    const shown = truncate(value);
    return { line, column: c + 1, columnName, value: shown, message, text: `${location(file, line, c + 1)} (${columnName}): ${message}` };
  };
  const note = (s: ProblemSummary, make: () => CellProblem): void => {
    s.count++;
    if (s.examples.length < maxExamples) s.examples.push(make());
  };
  const cancelled = (line: number | undefined): CsvError => new CsvError('ABORTED', file, line, undefined, 'validation was cancelled');

  let rows = 0;
  const activeColumns = columns.map((c) => c.csvIndex);
  const activeCheckers = activeColumns.map((c) => checkers[c] as (raw: string) => number);
  const activeConverters = activeColumns.map((c) => converters[c] as ColumnConverter);
  const activeReports = activeColumns.map((c) => reports[c] as ColumnReport);
  const activeKnown = activeColumns.map((c) => inference[c] === 'known');
  for await (const batch of reader.batches()) {
    if (options.signal?.aborted) {
      await reader.close();
      throw cancelled(batch[0]?.line);
    }
    for (let r = 0; r < batch.length; r++) {
      const { line, fields } = batch[r];
      if (fields.length !== width) {
        ragged.count++;
        if (ragged.examples.length < maxExamples) {
          ragged.rows.push({ line, expected: width, actual: fields.length });
          ragged.examples.push({
            line, column: Math.min(fields.length, width) + 1, columnName: '', value: truncate(fields.join(reader.format.delimiter)),
            message: `row has ${fields.length} fields, the header has ${width}`,
            text: `${location(file, line)}: row has ${fields.length} fields, the header has ${width}`,
          });
        }
      }
      for (let k = 0; k < activeColumns.length; k++) {
        const c = activeColumns[k];
        const raw = fields[c];
        if (raw === undefined || raw.length === 0) {
          activeReports[k].nulls++;
          continue;
        }
        const res = activeCheckers[k](raw);
        if (res === CHECK_INVALID) {
          const conv = activeConverters[k];
          note(activeReports[k].invalid, () => {
            const failed = conv.convert(raw);
            return problem(line, c, raw, failed.ok ? 'invalid value' : failed.message);
          });
          if (activeKnown[k]) {
            activeKnown[k] = false;
            inference[c] = 'pending';
          }
        } else if (res === CHECK_NULL) activeReports[k].nulls++;
      }
      if (checkIds) {
        const id = (fields[idIndex] ?? '').trim();
        if (!id) note(rowIdentifier.empty, () => problem(line, idIndex, '', `the row identifier ${idField} is empty`));
        else if (line < idStopLine) {
          if (idLog.size >= maxTrackedIds) {
            idStopLine = line;
            rowIdentifier.duplicateCheck = 'stopped';
          } else idLog.add(hashId(id));
        }
      }
      for (let k = 0; k < inferred.length; k++) liveInferrers[k].add(fields[inferred[k]] ?? '');
    }
    rows += batch.length;
    options.onProgress?.({ bytesRead: reader.bytesRead, fileSize: reader.format.fileSize, rows });
  }
  if (options.signal?.aborted) throw cancelled(undefined);

  // Second read, only when needed: exact duplicate check of the suspected ids, inference of the 'pending' columns.
  const suspects = checkIds && idLog.size > 0 ? idLog.suspects() : new Float64Array(0);
  const pending = inference.flatMap((how, c) => (how === 'pending' ? [c] : []));
  if (suspects.length > 0 || pending.length > 0) {
    const pendingInferrers = pending.map((c) => (inferrers[c] = new TypeInferrer(options.decimalComma)));
    const firstSeen = new Set<string>();
    const again = await openCsv(path, options);
    for await (const batch of again.batches()) {
      if (options.signal?.aborted) {
        await again.close();
        throw cancelled(batch[0]?.line);
      }
      for (let r = 0; r < batch.length; r++) {
        const { line, fields } = batch[r];
        if (suspects.length > 0 && line < idStopLine && rowIdentifier) {
          const id = (fields[idIndex] ?? '').trim();
          if (id && sortedHas(suspects, hashId(id))) {
            if (firstSeen.has(id)) note(rowIdentifier.duplicates, () => problem(line, idIndex, id, `row identifier "${truncate(id, 40)}" appears more than once in the file`));
            else firstSeen.add(id);
          }
        }
        for (let k = 0; k < pending.length; k++) pendingInferrers[k].add(fields[pending[k]] ?? '');
      }
    }
    if (options.signal?.aborted) throw cancelled(undefined);
  }

  const typeDisagreements: TypeDisagreement[] = [];
  inference.forEach((how, c) => {
    const full = how === 'known' ? sampleType(c) : (inferrers[c]?.result().type ?? sampleType(c));
    const sample = sampleType(c);
    if (full !== sample) {
      typeDisagreements.push({
        csvIndex: c, csvHeader: header[c], sample, full,
        message: `column "${header[c]}" looked like ${sample} in the first ${head.sampledRows} rows but the whole file reads as ${full}`,
      });
    }
  });

  const unknownColumns = mapping.filter((m) => m.fieldName === undefined || !byField.has(m.fieldName)).map((m) => m.csvHeader);
  const missingColumns = target.columns.map((c) => c.fieldName).filter((f) => !mappedFields.has(f));
  const problemCount =
    columns.reduce((n, c) => n + c.invalid.count, 0) +
    ragged.count +
    (rowIdentifier ? rowIdentifier.empty.count + rowIdentifier.duplicates.count + (rowIdentifier.inCsv ? 0 : 1) : 0);
  return {
    file, format: reader.format, header, rows,
    headerProblems: checkHeader(header),
    mapping, unknownColumns, missingColumns, rowIdentifier, columns, ragged, typeDisagreements, problemCount,
  };
}
