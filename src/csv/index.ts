// src/csv — streaming CSV reading, Socrata type inference, cell conversion and validation. Plain Node, no vscode.
//
// API (for the preview, the mapping UI and the publish engine):
//   readHead(path, { rows: 200 }) → CsvHead        fast preview: bounded bytes from the start of the file, header,
//                                                  first rows with line numbers, sample types, estimated row count.
//   openCsv(path, options) → CsvReader              streaming: `reader.header`, `reader.format` (encoding, delimiter),
//                                                  `for await (const batch of reader.batches())` → CsvRecord[]
//                                                  ({ line, fields }), `reader.bytesRead` for progress.
//                                                  Throws CsvError ("data.csv:17:3: unterminated quoted field").
//   columnTypeOf(dataTypeName) → ColumnType         legacy/SoQL type names → conversion type.
//   createConverter(type, { decimalComma, dateOrder }) → ColumnConverter
//                                                  `convert(cell)` → { ok: true, value } (JSON for the API, null for
//                                                  an empty cell) | { ok: false, message }. Build once per column.
//   createChecker(type, options) → (cell) → CHECK_VALUE | CHECK_NULL | CHECK_INVALID   what `convert` would answer,
//                                                  without building the value (fast paths for common notations).
//   inferColumns(header, rows) / TypeInferrer       Socrata type per column from values, with null share.
//   normaliseFieldName(header), checkHeader(header), matchHeaders(header, datasetColumns) → HeaderMatch[] with confidence.
//   validateFile(path, schema, options) → ValidationReport   whole-file streaming validation with progress and
//                                                  AbortSignal; schemaFromView(viewJson) builds the schema.
//   validateInWorker(path, schema, options, { signal, onProgress }) the same in a worker thread.
// Record fields whose count differs from the header are yielded as they are: callers decide (validateFile reports them).
export { CsvError, type CsvErrorCode } from './errors';
export { DELIMITERS, sniffDelimiter, type Delimiter } from './sniff';
export { detectBom, firstInvalidUtf8 } from './decode';
export { DEFAULT_MAX_FIELD_SIZE, detectFormat, openCsv, CsvReader, type CsvFormat, type CsvReadOptions, type CsvRecord } from './reader';
export { readHead, type CsvHead, type HeadOptions, type RaggedRow } from './head';
export {
  CHECK_INVALID,
  CHECK_NULL,
  CHECK_VALUE,
  columnTypeOf,
  createChecker,
  createConverter,
  inferColumns,
  jsonBytesKind,
  JsonBytesKind,
  jsonBytesWriter,
  jsonFastPath,
  jsonText,
  parseDate,
  parseNumber,
  parsePoint,
  parseUrl,
  TypeInferrer,
  writeJsonBytes,
  type CheckResult,
  type ColumnConverter,
  type ColumnType,
  type ConvertOptions,
  type ConvertResult,
  type InferredColumn,
  type JsonBytesWriter,
  type JsonFastPath,
  type JsonValue,
} from './cells';
export { checkHeader, editDistance, matchHeaders, normaliseFieldName, type DatasetColumnRef, type HeaderMatch, type HeaderProblem } from './fieldnames';
export {
  schemaFromView,
  validateFile,
  type CellProblem,
  type ColumnReport,
  type DatasetColumn,
  type DatasetSchema,
  type ProblemSummary,
  type TypeDisagreement,
  type ValidateOptions,
  type ValidationProgress,
  type ValidationReport,
} from './validate';
export { byteRowFields, type ByteRow } from './bytetokenizer';
export { validateInWorker, type WorkerValidateOptions } from './worker';
