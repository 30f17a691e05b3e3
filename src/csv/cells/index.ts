// Cells: one module per concern, one scanner per notation.
//   catalog.ts  the column types and result shapes;     parse.ts  the value parsers;
//   scan.ts     allocation-free scanners of the common notations (shared by check.ts and json.ts);
//   convert.ts  createConverter (the rules);            check.ts  createChecker (validation, allocation-free);
//   json.ts     JSON text straight from the cell (the publish encoder); infer.ts  type inference.
export { columnTypeOf, type ColumnConverter, type ColumnType, type ConvertOptions, type ConvertResult, type JsonValue } from './catalog';
export { parseDate, parseNumber, parsePoint, parseUrl } from './parse';
export { createConverter } from './convert';
export { CHECK_INVALID, CHECK_NULL, CHECK_VALUE, createChecker, type CheckResult } from './check';
export { jsonFastPath, jsonText, type JsonFastPath } from './json';
export { jsonBytesKind, jsonBytesWriter, JsonBytesKind, writeJsonBytes, type JsonBytesWriter } from './jsonbytes';
export { inferColumns, TypeInferrer, type InferredColumn } from './infer';
