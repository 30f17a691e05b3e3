// Fast preview: reads only the start of the file (bounded bytes), parses the first records, infers the column types
// from everything parsed in that window and estimates the total row count from the file size.
import { open } from 'node:fs/promises';
import { createDecoder, InvalidBytesError } from './decode';
import { checkHeader, normaliseFieldName, type HeaderProblem } from './fieldnames';
import { DEFAULT_MAX_FIELD_SIZE, detectFormat, encodingError, createRecordParser, type CsvFormat, type CsvReadOptions, type CsvRecord } from './reader';
import { inferColumns, type ConvertOptions, type InferredColumn } from './cells';

export interface HeadOptions extends CsvReadOptions, ConvertOptions {
  /** Data rows to return (default 200). */
  rows?: number;
  /** First read size (default 256 KiB); grows ×4 while fewer rows were found, up to `maxBytes`. */
  initialBytes?: number;
  /** Upper bound of bytes read for the head (default 16 MiB, at least maxFieldSize + 1 MiB is not required). */
  maxBytes?: number;
}

export interface RaggedRow {
  line: number;
  expected: number;
  actual: number;
}

export interface CsvHead {
  format: CsvFormat;
  header: string[];
  headerLine: number;
  /** API field names derived from the header (see `normaliseFieldName`). */
  fieldNames: string[];
  headerProblems: HeaderProblem[];
  /** The first data rows (at most `rows`). */
  rows: CsvRecord[];
  /** Data rows parsed in the head window (used for the type sample). */
  sampledRows: number;
  /** Sample types, one per header column. */
  columns: InferredColumn[];
  /** Rows in the returned window whose field count differs from the header. */
  raggedRows: RaggedRow[];
  /** Bytes of the file read. */
  bytesRead: number;
  /** True when the whole file fit in the window: `estimatedRowCount` is then exact. */
  complete: boolean;
  estimatedRowCount: number;
}

export async function readHead(path: string, options: HeadOptions = {}): Promise<CsvHead> {
  const format = await detectFormat(path, options);
  const wanted = options.rows ?? 200;
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const start = format.bom ? (format.encoding.startsWith('utf-16') ? 2 : 3) : 0;
  let size = options.initialBytes ?? 256 * 1024;
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const length = Math.max(0, Math.min(size, format.fileSize - start));
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, start);
      const chunk = buf.subarray(0, bytesRead);
      const complete = start + bytesRead >= format.fileSize;
      const decoder = createDecoder(format.encoding);
      const parser = createRecordParser(format, options.maxFieldSize ?? DEFAULT_MAX_FIELD_SIZE, options.parser);
      const records: CsvRecord[] = [];
      try {
        const utf8 = decoder.push(chunk, start);
        parser.feed(utf8, false, records);
        if (complete) {
          const tail = decoder.end(start + bytesRead);
          if (tail.length) parser.feed(tail, false, records);
          parser.feed(undefined, true, records);
        }
      } catch (err) {
        if (err instanceof InvalidBytesError) throw await encodingError(format, err);
        throw err;
      }
      if (!complete && records.length < wanted + 1 && size < maxBytes) {
        size = Math.min(maxBytes, size * 4);
        continue;
      }
      const headerRecord = records.shift();
      const header = headerRecord?.fields ?? [];
      const rows = records.slice(0, wanted);
      const sampled = records.length;
      const estimate = complete ? sampled : sampled === 0 ? 0 : Math.round(((format.fileSize - start) * (sampled + 1)) / (start + bytesRead - start) - 1);
      return {
        format,
        header,
        headerLine: headerRecord?.line ?? 1,
        fieldNames: header.map(normaliseFieldName),
        headerProblems: checkHeader(header),
        rows,
        sampledRows: sampled,
        columns: inferColumns(header, records, options),
        raggedRows: rows.filter((r) => r.fields.length !== header.length).map((r) => ({ line: r.line, expected: header.length, actual: r.fields.length })),
        bytesRead,
        complete,
        estimatedRowCount: estimate,
      };
    }
  } finally {
    await handle.close();
  }
}
