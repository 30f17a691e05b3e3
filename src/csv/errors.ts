import { basename } from 'node:path';

/** Machine-readable kind of a fatal CSV reading error. */
export type CsvErrorCode = 'ENCODING' | 'UNTERMINATED_QUOTE' | 'INVALID_QUOTE' | 'FIELD_TOO_LARGE' | 'EMPTY_FILE' | 'PARSE' | 'ABORTED';

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

/** A quoted field still open at the end of the input (from either record parser). */
export function unterminatedQuote(file: string, line: number, column: number | undefined): CsvError {
  return new CsvError('UNTERMINATED_QUOTE', file, line, column, 'unterminated quoted field (the closing quote is missing before the end of the file)');
}

/** The error for a record over the `maxFieldSize` limit (from either record parser). */
export function fieldTooLarge(file: string, line: number, column: number | undefined, limit: number): CsvError {
  return new CsvError('FIELD_TOO_LARGE', file, line, column, `a field is larger than the limit of ${formatBytes(limit)} (option maxFieldSize)`);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}
