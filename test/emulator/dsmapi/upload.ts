/**
 * An upload as DSMAPI's input schema holds it: the bytes as they came (one copy, outside the JS heap), the header,
 * the row count, and the byte offset of every 1024th row, so that a page of rows, the transforms and the apply each
 * read the rows again from the bytes instead of keeping them as strings.
 *
 * The CSV reader is the emulator's own (RFC 4180: quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM), reading
 * latin1 windows of the bytes (byte offsets are string offsets) and decoding a field as UTF-8 only when it holds a
 * byte over 0x7f. Rows whose cell count differs from the header's are counted as row errors and left out.
 */
import { isAscii } from 'node:buffer';

export interface CsvOptions {
  delimiter: string;
  trim: boolean;
  skipEmpty: boolean;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const WINDOW = 1 << 24;
const CHECKPOINT = 1024;
const HIGH = /[\u0080-\u00ff]/;

export class CsvError extends Error {}

/**
 * Records from byte offset `from`: each as its cells and the byte offset it starts at. Throws {@link CsvError} on an
 * unterminated quoted field.
 */
export function* records(bytes: Buffer, from: number, opts: CsvOptions): Generator<[string[], number]> {
  const delim = opts.delimiter.charCodeAt(0);
  const n = bytes.length;
  let base = from === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : from;
  let size = WINDOW;
  while (base < n) {
    const end = Math.min(n, base + size);
    const last = end === n;
    const s = bytes.toString('latin1', base, end);
    const ascii = isAscii(bytes.subarray(base, end));
    const len = s.length;
    let i = 0;
    let done = 0;
    records: while (i < len) {
      const start = i;
      const cells: string[] = [];
      for (;;) {
        let value: string;
        if (i < len && s.charCodeAt(i) === QUOTE) {
          let j = i + 1;
          value = '';
          for (;;) {
            const k = s.indexOf('"', j);
            if (k < 0 || (k + 1 === len && !last)) {
              if (last) throw new CsvError(`unterminated quoted field at byte ${base + i}`);
              break records;
            }
            if (s.charCodeAt(k + 1) === QUOTE) {
              value += s.slice(j, k + 1);
              j = k + 2;
              continue;
            }
            value += s.slice(j, k);
            i = k + 1;
            break;
          }
          // Text after the closing quote (lenient): kept up to the delimiter or the line end.
          let j2 = i;
          while (j2 < len) {
            const c = s.charCodeAt(j2);
            if (c === delim || c === LF || c === CR) break;
            j2++;
          }
          if (j2 > i) value += s.slice(i, j2);
          i = j2;
        } else {
          let j = i;
          while (j < len) {
            const c = s.charCodeAt(j);
            if (c === delim || c === LF || c === CR) break;
            j++;
          }
          value = s.slice(i, j);
          i = j;
        }
        if (!ascii && HIGH.test(value)) value = Buffer.from(value, 'latin1').toString('utf8');
        cells.push(opts.trim ? value.trim() : value);
        if (i >= len) {
          if (!last) break records;
          break;
        }
        const c = s.charCodeAt(i);
        if (c === delim) {
          i++;
          if (i >= len && !last) break records;
          continue;
        }
        if (c === CR) {
          if (i + 1 >= len && !last) break records;
          i += s.charCodeAt(i + 1) === LF ? 2 : 1;
        } else i++;
        break;
      }
      done = i;
      if (opts.skipEmpty && cells.length === 1 && cells[0] === '') {
        if (i >= len) break;
        continue;
      }
      yield [cells, base + start];
      if (i >= len) break;
    }
    if (last) return;
    if (done === 0) {
      // One record longer than the window: read a bigger one.
      size *= 2;
      continue;
    }
    base += done;
  }
}

/** The rows of an uploaded CSV/TSV file, read again from its bytes on each pass. */
export class UploadRows {
  /** Byte offset of good row `i * 1024`. */
  private readonly checkpoints: number[] = [];
  private bytes: Buffer | undefined;
  header: string[] = [];
  count = 0;
  rowErrors = 0;

  private constructor(
    bytes: Buffer,
    private readonly opts: CsvOptions,
  ) {
    this.bytes = bytes;
  }

  /**
   * Reads the file once: header (the `columnHeader`-th of `headerCount` header rows), row count, row errors and
   * checkpoints; `onRow` sees every good row (and the header). An error message when the file cannot be read.
   */
  static read(
    bytes: Buffer,
    opts: CsvOptions,
    headerCount: number,
    columnHeader: number,
    onRow: (cells: string[], header: readonly string[]) => void,
  ): UploadRows | string {
    const up = new UploadRows(bytes, opts);
    let index = 0;
    try {
      for (const [cells, at] of records(bytes, 0, opts)) {
        if (index < headerCount) {
          if (index === Math.max(0, columnHeader - 1)) up.header = cells;
          index++;
          continue;
        }
        index++;
        if (cells.length !== up.header.length) {
          up.rowErrors++;
          continue;
        }
        if (up.count % CHECKPOINT === 0) up.checkpoints.push(at);
        up.count++;
        onRow(cells, up.header);
      }
    } catch (e) {
      if (e instanceof CsvError) return `could not parse the file: ${e.message}`;
      throw e;
    }
    if (index < headerCount || headerCount < 1) return 'the file has no header row';
    return up;
  }

  /** Whether the bytes are still kept (they go when the revision is applied or discarded). */
  get available(): boolean {
    return this.bytes !== undefined;
  }

  /** Lets the bytes go; the counts stay. */
  release(): void {
    this.bytes = undefined;
  }

  /** Good rows from row `from` on, with their index. */
  *rows(from = 0): Generator<[string[], number]> {
    const bytes = this.bytes;
    if (!bytes || from >= this.count) return;
    const cp = Math.floor(from / CHECKPOINT);
    let index = cp * CHECKPOINT;
    const width = this.header.length;
    for (const [cells] of records(bytes, this.checkpoints[cp] ?? 0, this.opts)) {
      if (cells.length !== width) continue;
      if (index >= from) yield [cells, index];
      index++;
      if (index >= this.count) return;
    }
  }
}
