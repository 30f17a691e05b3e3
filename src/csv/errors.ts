import { basename } from 'node:path';

/** Machine-readable kind of a fatal CSV reading error. */
export type CsvErrorCode =
  | 'ENCODING'
  | 'UNTERMINATED_QUOTE'
  | 'INVALID_QUOTE'
  | 'FIELD_TOO_LARGE'
  | 'EMPTY_FILE'
  | 'PARSE'
  | 'ABORTED';

/**
 * A fatal error while reading a CSV file. `message` reads `file.csv:17:3: unterminated quoted field`
 * (file name, 1-based physical line, 1-based column), so it can be shown to a person as is.
 */
export class CsvError extends Error {
  override readonly name = 'CsvError';
  constructor(
    readonly code: CsvErrorCode,
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    readonly detail: string,
    /** Byte offset in the file, for encoding errors. */
    readonly byteOffset?: number,
  ) {
    super(`${location(file, line, column)}: ${detail}`);
  }
}

export function location(file: string, line?: number, column?: number): string {
  let out = basename(file);
  if (line !== undefined) out += `:${line}`;
  if (line !== undefined && column !== undefined) out += `:${column}`;
  return out;
}

/** Cuts a cell value for a problem report: at most `max` characters, with an ellipsis. */
export function truncate(value: string, max = 80): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
