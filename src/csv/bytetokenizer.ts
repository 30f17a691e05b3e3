// A byte-level CSV tokenizer for the publish scan: records of a UTF-8 file given as byte ranges of the chunk they are
// in, so that a cell that needs no conversion can be copied byte for byte into a request body, and no string is made
// for it (`CsvTokenizer`, ./tokenizer.ts, decodes each chunk to a string and slices a string per field).
//
// It handles the common shapes exactly as `CsvTokenizer` does: LF or CRLF line breaks, unquoted fields, quoted
// fields (with `""` escapes, which make the field's value a string, and line breaks inside, which are counted).
// At the first record it does not handle — a closing quote followed by other characters, a lone CR, a quoted field
// open at the end of the input, a record longer than a third of the size limit, or any file with CR line breaks — it
// hands that record and everything after it to a `CsvTokenizer`, which then yields string records (`out`). The
// records, their lines, the empty lines and the errors are therefore `CsvTokenizer`'s; a property test
// (test/unit/csv-bytetokenizer.test.ts) holds the two to the same records on random inputs cut into random chunks.
//
// Why a third of the limit: `CsvTokenizer` measures a record only once its characters pass a third of the size limit
// (a character is at most 3 bytes); a record of fewer raw bytes than that can never be refused, so only longer
// records need it.
import type { CsvFormat, CsvRecord } from './reader';
import { CsvTokenizer, tokenizerSupports } from './tokenizer';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** One record as byte ranges (valid only during the `onRow` call that receives it). */
export interface ByteRow {
  /** The bytes the ranges point into. */
  buf: Buffer;
  /** Fields in the record. */
  count: number;
  /** Byte range of field k's value: [starts[k], ends[k]) of `buf` (quotes excluded). */
  starts: Int32Array;
  ends: Int32Array;
  /** Field k's value when it is not its byte range as is (a quoted field with `""` escapes), else undefined. */
  texts: (string | undefined)[];
  /** Whether any of `texts` is set (else none need looking at). */
  hasTexts: boolean;
  /** 1-based physical line where the record starts. */
  line: number;
  /** Line breaks inside its quoted fields. */
  breaks: number;
}

/** Field k of a byte row as a string. */
export function byteRowField(row: ByteRow, k: number): string {
  return row.texts[k] ?? row.buf.toString('utf8', row.starts[k], row.ends[k]);
}

/** All fields of a byte row as strings (a `CsvRecord`'s `fields`). */
export function byteRowFields(row: ByteRow): string[] {
  const out: string[] = new Array<string>(row.count);
  for (let k = 0; k < row.count; k++) out[k] = byteRowField(row, k);
  return out;
}

/** Whether `CsvByteTokenizer` can start on files of this format (else it hands everything to `CsvTokenizer`). */
export function byteTokenizerSupports(format: CsvFormat): boolean {
  return format.encoding === 'utf-8' && format.lineBreak === '\n' && tokenizerSupports(format.delimiter);
}

export class CsvByteTokenizer {
  private lineNo = 1;
  private empties = 0;
  /** Bytes of the record in progress (from its start), carried to the next call. */
  private rest: Buffer | undefined;
  private fallback: CsvTokenizer | undefined;
  /** `row.texts` holds values of an earlier record. */
  private dirty = false;
  private readonly row: ByteRow;
  private readonly delim: number;
  /** 1 for the bytes that end an unquoted field: the delimiter, LF and CR. */
  private readonly stops = new Uint8Array(256);
  /** Raw bytes a record may have on this path. */
  private readonly limit: number;

  constructor(
    private readonly format: CsvFormat,
    private readonly maxFieldSize: number,
  ) {
    this.delim = format.delimiter.charCodeAt(0);
    this.limit = Math.floor(maxFieldSize / 3);
    this.stops[this.delim] = this.stops[LF] = this.stops[CR] = 1;
    this.row = { buf: Buffer.alloc(0), count: 0, starts: new Int32Array(64), ends: new Int32Array(64), texts: [], hasTexts: false, line: 0, breaks: 0 };
    if (!byteTokenizerSupports(format)) this.fallback = new CsvTokenizer(format, maxFieldSize);
  }

  /** Start line of the next record. */
  get line(): number {
    return this.fallback ? this.fallback.line : this.lineNo;
  }

  /** Empty lines skipped so far. */
  get emptyLines(): number {
    return this.fallback ? this.fallback.emptyLines : this.empties;
  }

  /** Whether records now come as strings (`out`) from `CsvTokenizer`. */
  get handedOver(): boolean {
    return this.fallback !== undefined;
  }

  /**
   * Parses `chunk` (UTF-8, whole characters) or flushes when `end`. Records on the byte path go to `onRow`, in order;
   * once handed over, records go to `out` (after every `onRow` of this call). Throws `CsvError`.
   */
  feed(chunk: Buffer | undefined, end: boolean, onRow: (row: ByteRow) => void, out: CsvRecord[]): void {
    if (this.fallback) {
      this.fallback.feed(chunk, end, out);
      return;
    }
    let b: Buffer;
    if (this.rest !== undefined) b = chunk !== undefined && chunk.length > 0 ? Buffer.concat([this.rest, chunk]) : this.rest;
    else b = chunk ?? Buffer.alloc(0);
    this.rest = undefined;
    const n = b.length;
    const delim = this.delim;
    const stops = this.stops;
    const row = this.row;
    row.buf = b;
    let starts = row.starts;
    let ends = row.ends;
    const texts = row.texts;
    let pos = 0;
    let dirty = this.dirty;
    records: while (pos < n) {
      // One record from `pos`.
      let k = 0;
      let i = pos;
      let breaks = 0;
      if (dirty) {
        texts.fill(undefined);
        dirty = false;
      }
      let next: number; // where the next record starts
      for (;;) {
        if (k === starts.length) {
          const s2 = new Int32Array(k * 2);
          s2.set(starts);
          const e2 = new Int32Array(k * 2);
          e2.set(ends);
          starts = row.starts = s2;
          ends = row.ends = e2;
        }
        if (i >= n) {
          // A field starts at the end of the input (after a delimiter).
          if (!end) break records;
          starts[k] = ends[k] = n;
          k++;
          next = n;
          break;
        }
        if (b[i] === QUOTE) {
          // The closing quote: the next quote not followed by another (`""` is an escaped quote).
          let j = i + 1;
          let q = -1;
          let escapes = false;
          for (;;) {
            while (j < n && b[j] !== QUOTE) {
              if (b[j] === LF) breaks++;
              j++;
            }
            if (j >= n) break;
            if (j + 1 < n && b[j + 1] === QUOTE) {
              escapes = true;
              j += 2;
              continue;
            }
            q = j;
            break;
          }
          if (q === -1) {
            if (!end) break records;
            return this.handOver(b, pos, end, out); // unterminated: CsvTokenizer's error
          }
          if (q + 1 >= n && !end) break records; // the quote may start a `""`
          starts[k] = i + 1;
          ends[k] = q;
          if (escapes) {
            texts[k] = b.toString('utf8', i + 1, q).replace(/""/g, '"');
            dirty = true;
          }
          k++;
          if (q + 1 >= n) {
            next = n;
            break;
          }
          const c = b[q + 1];
          if (c === delim) {
            i = q + 2;
            continue;
          }
          if (c === LF) {
            next = q + 2;
            break;
          }
          if (c === CR) {
            if (q + 2 >= n && !end) break records;
            if (q + 2 < n && b[q + 2] === LF) {
              next = q + 3;
              break;
            }
          }
          return this.handOver(b, pos, end, out); // a relaxed closing quote, or a lone CR
        }
        let j = i;
        while (j < n && stops[b[j]] === 0) j++;
        starts[k] = i;
        ends[k] = j;
        k++;
        if (j >= n) {
          if (!end) break records;
          next = n;
          break;
        }
        const c = b[j];
        if (c === delim) {
          i = j + 1;
          continue;
        }
        if (c === LF) {
          next = j + 1;
          break;
        }
        // CR
        if (j + 1 >= n && !end) break records;
        if (j + 1 < n && b[j + 1] === LF) {
          next = j + 2;
          break;
        }
        return this.handOver(b, pos, end, out); // a lone CR
      }
      if (next - pos > this.limit) return this.handOver(b, pos, end, out);
      const line = this.lineNo;
      this.lineNo += 1 + breaks;
      if (k === 1 && (texts[0] === undefined ? ends[0] === starts[0] : texts[0] === '')) this.empties++;
      else {
        row.count = k;
        row.hasTexts = dirty;
        row.line = line;
        row.breaks = breaks;
        onRow(row);
      }
      pos = next;
    }
    this.dirty = dirty;
    if (pos < n) {
      if (n - pos > this.limit) return this.handOver(b, pos, end, out);
      this.rest = b.subarray(pos);
    }
  }

  /** From the record at `pos` on, `CsvTokenizer` reads. */
  private handOver(b: Buffer, pos: number, end: boolean, out: CsvRecord[]): void {
    const t = new CsvTokenizer(this.format, this.maxFieldSize);
    t.line = this.lineNo;
    t.emptyLines = this.empties;
    this.fallback = t;
    this.rest = undefined;
    t.feed(b.subarray(pos), end, out);
  }
}
