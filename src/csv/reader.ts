// Streaming CSV reader.
//
// Records come from `CsvTokenizer` (./tokenizer.ts), which gives csv-parse's results at a fraction of its cost, or,
// with `parser: 'csv-parse'`, from csv-parse itself, the reference the tokenizer is tested against. Both run on
// UTF-8 Buffers. csv-parse is used through its public API only: its `Parser` stream takes each chunk with `write()`
// (and `end()`), and the records are taken at once with `read()`. A Node Transform runs `_transform`/`_flush`
// synchronously inside `write()`/`end()` when nothing is queued, and the records pushed before an error stay readable,
// so the records and any error (`errored`) are there when the call returns; unit tests keep that honest across
// csv-parse and Node updates. (Its `on_record` option would avoid the stream buffer but builds an info object per
// record: about 1.5 times slower.) The options and error objects are csv-parse's own.
//
// The publish scan reads bytes instead: `readByteRows` (./byteReader.ts).
//
// Line numbers: csv-parse's `info.lines` counts a CRLF as two lines, so it cannot be used. Each record's 1-based
// physical start line is computed here: the next record starts `1 + (line breaks inside its quoted fields)` lines
// later; empty lines (a record of one empty field) are skipped but counted.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { TextDecoder } from 'node:util';
import { Parser } from 'csv-parse';
import { canonicalEncoding, createDecoder, detectBom, InvalidBytesError, type ChunkDecoder } from './decode';
import { CsvError, fieldTooLarge, unterminatedQuote } from './errors';
import { sniffDelimiter } from './sniff';
import { CsvTokenizer, tokenizerSupports } from './tokenizer';

export interface CsvReadOptions {
  /** `auto` (default): BOM decides (UTF-8, UTF-16 LE/BE), otherwise UTF-8. Or any WHATWG label, e.g. `windows-1252`. */
  encoding?: string;
  /** Field delimiter; sniffed from the head (comma, tab, semicolon, pipe) when not given. */
  delimiter?: string;
  /** Largest accepted field in bytes (default 10 MB); a larger field is a `FIELD_TOO_LARGE` error naming the line. */
  maxFieldSize?: number;
  /** Records per batch yielded by `CsvReader.batches()` (default 2000). */
  batchSize?: number;
  /** Bytes per disk read (default 64 KiB: small reads keep few records alive at once, which the garbage collector
   *  rewards; 1 MiB reads made reading about 50 % slower and 60 MB larger). */
  chunkSize?: number;
  signal?: AbortSignal;
  /** `fast` (default): our tokenizer; `csv-parse`: csv-parse, the reference (slower, same records and errors). */
  parser?: 'fast' | 'csv-parse';
}

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: string[];
}

export interface CsvFormat {
  path: string;
  /** Canonical encoding name (`utf-8`, `utf-16le`, `windows-1252`, …). */
  encoding: string;
  bom: boolean;
  delimiter: string;
  /** `\n` (LF or CRLF files) or `\r` (old Mac files). */
  lineBreak: '\n' | '\r';
  fileSize: number;
}

export const DEFAULT_MAX_FIELD_SIZE = 10 * 1024 * 1024;
const SNIFF_BYTES = 64 * 1024;

interface CsvParseError extends Error {
  code?: string;
  index?: number;
}

/** Detects encoding, BOM, delimiter and line break from the first bytes of the file. */
export async function detectFormat(path: string, options: CsvReadOptions = {}): Promise<CsvFormat> {
  const { size } = await stat(path);
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(Math.min(SNIFF_BYTES, size));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const bom = detectBom(head);
  const requested = options.encoding && options.encoding !== 'auto' ? canonicalEncoding(options.encoding) : undefined;
  const encoding = requested ?? bom?.encoding ?? 'utf-8';
  const bomMatches = bom !== undefined && bom.encoding === encoding;
  // Non-fatal decoding is fine for sniffing only; the real pass validates every byte.
  const text = new TextDecoder(encoding).decode(bomMatches ? head.subarray(bom.length) : head);
  const lineBreak = text.includes('\n') || !text.includes('\r') ? '\n' : '\r';
  const delimiter = options.delimiter ?? sniffDelimiter(text);
  return { path, encoding, bom: bomMatches, delimiter, lineBreak, fileSize: size };
}

/** Synchronous record assembly: feed it UTF-8 buffers (whole characters), collect `CsvRecord`s. */
export interface RecordParser {
  /** Start line of the next record. */
  readonly line: number;
  /** Empty lines skipped so far. */
  readonly emptyLines: number;
  /** Parses `buf` (or flushes when `end`), appending complete records to `out`. Throws `CsvError`. */
  feed(buf: Buffer | undefined, end: boolean, out: CsvRecord[]): void;
}

/** The tokenizer, or csv-parse when asked for (or when the delimiter is one the tokenizer does not take). */
export function createRecordParser(format: CsvFormat, maxFieldSize = DEFAULT_MAX_FIELD_SIZE, parser: CsvReadOptions['parser'] = 'fast'): RecordParser {
  return parser === 'csv-parse' || !tokenizerSupports(format.delimiter)
    ? new CsvParseRecordParser(format, maxFieldSize)
    : new CsvTokenizer(format, maxFieldSize);
}

/** Record assembly over csv-parse's public stream API (see the top of this file). */
export class CsvParseRecordParser implements RecordParser {
  private readonly parser: Parser;
  private readonly breakChar: string;
  /** Start line of the next record. */
  line = 1;
  emptyLines = 0;
  private out: CsvRecord[] = [];

  constructor(
    private readonly format: CsvFormat,
    private readonly maxFieldSize = DEFAULT_MAX_FIELD_SIZE,
  ) {
    this.breakChar = format.lineBreak;
    this.parser = new Parser({
      delimiter: format.delimiter,
      quote: '"',
      escape: '"',
      record_delimiter: format.lineBreak === '\r' ? ['\r'] : ['\r\n', '\n'],
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      bom: false,
      max_record_size: maxFieldSize,
    });
    // An error is read from `errored` as soon as `write()`/`end()` returns; the stream's later 'error' event is not needed.
    this.parser.on('error', () => undefined);
  }

  private push(fields: string[]): void {
    const line = this.line;
    let lines = 1;
    const br = this.breakChar;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      let at = f.indexOf(br);
      while (at !== -1) {
        lines++;
        at = f.indexOf(br, at + 1);
      }
    }
    this.line += lines;
    if (fields.length === 1 && fields[0] === '') {
      this.emptyLines++;
      return;
    }
    this.out.push({ line, fields });
  }

  /** Parses `buf` (or flushes when `end`), appending complete records to `out`. Throws `CsvError`. */
  feed(buf: Buffer | undefined, end: boolean, out: CsvRecord[]): void {
    this.out = out;
    if (!this.parser.errored) {
      if (buf !== undefined) this.parser.write(buf);
      this.drain();
      if (end) this.parser.end();
    }
    // The records before an error, so that the error names the line where the failing record starts.
    this.drain();
    const err: CsvParseError | null = this.parser.errored;
    if (err) throw this.toCsvError(err);
  }

  private drain(): void {
    let fields: unknown;
    while ((fields = this.parser.read()) !== null) this.push(fields as string[]);
  }

  private toCsvError(err: CsvParseError): CsvError {
    const column = typeof err.index === 'number' ? err.index + 1 : undefined;
    const file = this.format.path;
    switch (err.code) {
      case 'CSV_QUOTE_NOT_CLOSED':
        return unterminatedQuote(file, this.line, column);
      case 'CSV_INVALID_CLOSING_QUOTE':
        return new CsvError(
          'INVALID_QUOTE',
          file,
          this.line,
          column,
          'a closing quote is followed by other characters instead of a delimiter or line break (write "" for a quote inside a quoted field)',
        );
      case 'CSV_MAX_RECORD_SIZE':
        return fieldTooLarge(file, this.line, column, this.maxFieldSize);
      default:
        return new CsvError('PARSE', file, this.line, column, err.message);
    }
  }
}

/** Turns a decoder failure into a CsvError with line and column, scanning the file up to the offset. */
export async function encodingError(format: CsvFormat, err: InvalidBytesError): Promise<CsvError> {
  const offset = err.byteOffset;
  const wide = format.encoding === 'utf-16le' || format.encoding === 'utf-16be';
  const handle = await open(format.path, 'r');
  let line = 1;
  let lineStart = format.bom ? (wide ? 2 : 3) : 0;
  let bad = Buffer.alloc(0);
  try {
    const buf = Buffer.alloc(1024 * 1024);
    let pos = 0;
    while (pos < offset) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, offset - pos), pos);
      if (bytesRead === 0) break;
      if (!wide) {
        for (let i = 0; i < bytesRead; i++) {
          if (buf[i] === 0x0a) {
            line++;
            lineStart = pos + i + 1;
          }
        }
      } else {
        const le = format.encoding === 'utf-16le';
        for (let i = 0; i + 1 < bytesRead; i += 2) {
          const unit = le ? buf[i] | (buf[i + 1] << 8) : (buf[i] << 8) | buf[i + 1];
          if (unit === 0x0a) {
            line++;
            lineStart = pos + i + 2;
          }
        }
      }
      pos += bytesRead;
    }
    bad = Buffer.alloc(4);
    const { bytesRead } = await handle.read(bad, 0, 4, offset);
    bad = bad.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const column = (wide ? (offset - lineStart) / 2 : offset - lineStart) + 1;
  const hex = [...bad.subarray(0, wide ? 2 : 1)].map((b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
  const hint = format.encoding === 'utf-8' ? '; if the file was saved by a legacy program, choose its encoding (e.g. windows-1252)' : '';
  return new CsvError('ENCODING', format.path, line, Math.floor(column), `invalid ${err.encoding} byte ${hex} at byte offset ${offset}${hint}`, offset);
}

function abortError(format: CsvFormat, line: number): CsvError {
  return new CsvError('ABORTED', format.path, line, undefined, 'reading was cancelled');
}

/**
 * Streams a whole CSV file: the header, then batches of records. Created by `openCsv`.
 * Iterate once: `for await (const batch of reader.batches()) …` (or `for await (const batch of reader)`).
 */
export class CsvReader implements AsyncIterable<CsvRecord[]> {
  /** File bytes consumed so far (for progress). */
  bytesRead = 0;
  /** Data records yielded so far (header excluded). */
  rowCount = 0;
  private started = false;

  constructor(
    readonly format: CsvFormat,
    /** Header fields (the first record); empty for an empty file. */
    readonly header: string[],
    /** Line of the header record (1 unless the file starts with empty lines). */
    readonly headerLine: number,
    private readonly source: AsyncGenerator<CsvRecord[]>,
    private readonly firstRecords: CsvRecord[],
    private readonly batchSize: number,
    /** Bytes read; `line` (the line after the last record) once the source is exhausted. */
    readonly progress: ReadProgress,
  ) {}

  async *batches(): AsyncGenerator<CsvRecord[]> {
    if (this.started) throw new Error('CsvReader.batches() can be iterated only once');
    this.started = true;
    let pending = this.firstRecords;
    const size = this.batchSize;
    const emit = (batch: CsvRecord[]): CsvRecord[] => {
      this.rowCount += batch.length;
      this.bytesRead = this.progress.bytes;
      return batch;
    };
    for await (const records of this.source) {
      pending = pending.length ? pending.concat(records) : records;
      let at = 0;
      while (pending.length - at >= size) {
        yield emit(pending.slice(at, at + size));
        at += size;
      }
      pending = at ? pending.slice(at) : pending;
    }
    this.bytesRead = this.progress.bytes;
    if (pending.length) yield emit(pending);
  }

  [Symbol.asyncIterator](): AsyncIterator<CsvRecord[]> {
    return this.batches();
  }

  /** Stops reading and closes the file (only needed when leaving before the end). */
  async close(): Promise<void> {
    await this.source.return(undefined);
  }
}

/** Progress shared between a record source and its consumer; `line` is the line after the last record, at the end. */
export interface ReadProgress {
  bytes: number;
  line?: number;
}

/** Byte range of a partial read (for parallel validation): from `start` (a record start) to `end` (exclusive). */
export interface ReadRange {
  start?: number;
  end?: number;
}

/**
 * Yields the records of the file (or of `range`; records are then numbered from line 1 of the range). Throws
 * `CsvError`; a range that ends inside a quoted field throws `UNTERMINATED_QUOTE`.
 */
export async function* readRecords(format: CsvFormat, options: CsvReadOptions, progress: ReadProgress, range: ReadRange = {}): AsyncGenerator<CsvRecord[]> {
  const parser = createRecordParser(format, options.maxFieldSize ?? DEFAULT_MAX_FIELD_SIZE, options.parser);
  for await (const utf8 of decodedChunks(format, options, progress, () => parser.line, range)) {
    const out: CsvRecord[] = [];
    parser.feed(utf8, false, out);
    if (out.length) yield out;
  }
  const out: CsvRecord[] = [];
  parser.feed(undefined, true, out);
  progress.line = parser.line;
  if (out.length) yield out;
}

/**
 * The file's bytes from `range.start` (default: after the BOM) to `range.end`, decoded to UTF-8 chunk by chunk, the
 * decoder's tail last; `progress.bytes` follows the file offset. Throws `CsvError` for bytes that are not the
 * encoding's (with file:line:column) and for a cancel (`line()` gives the reader's line at that moment).
 */
export async function* decodedChunks(
  format: CsvFormat,
  options: CsvReadOptions,
  progress: ReadProgress,
  line: () => number,
  range: ReadRange = {},
): AsyncGenerator<Buffer> {
  const wide = format.encoding === 'utf-16le' || format.encoding === 'utf-16be';
  const start = range.start ?? (format.bom ? (wide ? 2 : 3) : 0);
  const decoder: ChunkDecoder = createDecoder(format.encoding);
  const stream = createReadStream(format.path, {
    start,
    ...(range.end !== undefined ? { end: range.end - 1 } : {}),
    highWaterMark: options.chunkSize ?? 64 * 1024,
  });
  let offset = start;
  const decoded = async (decode: () => Buffer): Promise<Buffer> => {
    try {
      return decode();
    } catch (err) {
      if (err instanceof InvalidBytesError) throw await encodingError(format, err);
      throw err;
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (options.signal?.aborted) throw abortError(format, line());
      const utf8 = await decoded(() => decoder.push(chunk, offset));
      offset += chunk.length;
      progress.bytes = offset;
      yield utf8;
    }
    const tail = await decoded(() => decoder.end(offset));
    if (tail.length) yield tail;
  } finally {
    stream.destroy();
  }
}

/**
 * Opens a CSV file for streaming: detects the format, reads the header record and returns a `CsvReader` whose
 * `batches()` yields the data records. Throws `CsvError` (with file:line:column) for encoding and quoting errors.
 */
export async function openCsv(path: string, options: CsvReadOptions = {}): Promise<CsvReader> {
  return openCsvUpTo(path, options, undefined);
}

/** `openCsv` that stops at byte `end` (a record boundary) when given; `reader.progress.line` is set at the end. */
export async function openCsvUpTo(path: string, options: CsvReadOptions, end: number | undefined, known?: CsvFormat): Promise<CsvReader> {
  const format = known ?? (await detectFormat(path, options));
  const progress: ReadProgress = { bytes: 0 };
  const source = readRecords(format, options, progress, { end });
  let first: CsvRecord[] = [];
  // Pull until the header record is there (or the file ends).
  for (;;) {
    const next = await source.next();
    if (next.done) break;
    first = first.concat(next.value);
    if (first.length > 0) break;
  }
  const headerRecord = first.shift();
  return new CsvReader(format, headerRecord?.fields ?? [], headerRecord?.line ?? 1, source, first, options.batchSize ?? 2000, progress);
}
