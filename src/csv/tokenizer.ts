// The CSV tokenizer used for reading: records out of UTF-8 text, with the same results as csv-parse under the
// options the reader gives it (`relax_quotes`, `relax_column_count`, `skip_empty_lines: false`, quote and escape `"`,
// record delimiters CRLF/LF or CR), and the same errors.
//
// Why not csv-parse itself: csv-parse walks the bytes one at a time through several method calls and builds each
// field in a resizable buffer that is then decoded, which is about two thirds of the time of a whole validation or
// publish. Here a chunk is decoded to a string once (natively), unquoted fields are sliced out of it, and a quoted
// field's end is found with `indexOf`. csv-parse stays the reference: `test/unit/csv-tokenizer.test.ts` holds this
// tokenizer to csv-parse's records, line numbers and errors on random inputs cut into random chunks, and the reader
// can be switched to csv-parse (`parser: 'csv-parse'`).
//
// csv-parse behaviours kept on purpose:
//  - a quote inside an unquoted field is an ordinary character;
//  - a closing quote followed by anything but a delimiter, a record delimiter or the end (`"ab"c`) ends the quoting
//    and the field continues unquoted, its text being `"` + the unescaped content + `"` + what follows;
//  - in a CRLF/LF file a lone CR is an ordinary character; in a CR file an LF is;
//  - a last line without a line break is a record; an empty line is a record of one empty field (the reader skips it).
// The size limit is on a record's field bytes (UTF-8), as csv-parse's `max_record_size`: checked exactly when a
// field ends, and in characters while a field is still being read, so a record growing past it is refused before it
// is whole and memory stays bounded.
import type { CsvFormat, CsvRecord } from './reader';
import { fieldTooLarge, unterminatedQuote } from './errors';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

const enum Mode {
  /** Nothing of the current field read yet. */
  Start,
  /** Inside a quoted field; scanning resumes at `scanFrom`. */
  Quoted,
  /** In an unquoted field (or after a relaxed closing quote); scanning resumes at `scanFrom`. */
  Unquoted,
}

/** Whether the tokenizer handles these format options (a one-character delimiter that is not a quote or line break). */
export function tokenizerSupports(delimiter: string): boolean {
  return delimiter.length === 1 && delimiter !== '"' && delimiter !== '\n' && delimiter !== '\r';
}

export class CsvTokenizer {
  /** Start line of the next record. */
  line = 1;
  emptyLines = 0;
  /** Unconsumed text, starting at the current field's first character. */
  private rest = '';
  /** Completed fields of the current record. */
  private fields: string[] = [];
  /** Characters in the completed fields of the current record. */
  private recordChars = 0;
  /** UTF-8 bytes of the current record's completed fields, counted only near the limit (-1: not counted yet). */
  private recordBytes = -1;
  /** Line breaks inside the completed quoted fields of the current record. */
  private recordBreaks = 0;
  private mode = Mode.Start;
  /** Where scanning of the current field resumes, relative to `rest`. */
  private scanFrom = 0;
  /** The current quoted field has seen `""`. */
  private escapes = false;
  /** Offset (relative to the field start) of a closing quote that was followed by other characters, or -1. */
  private relaxedClose = -1;
  /** Content of a quoted field whose closing quote was followed by other characters (see `relaxedClose`). */
  private relaxedContent = '';
  private readonly delim: number;
  /** LF in a CRLF/LF file; -1 (matches nothing) in a CR file, where LF is an ordinary character. */
  private readonly lf: number;
  private readonly crlf: boolean;
  private readonly breakChar: string;

  constructor(
    private readonly format: CsvFormat,
    private readonly maxFieldSize: number,
  ) {
    if (!tokenizerSupports(format.delimiter)) throw new Error(`the tokenizer needs a one-character delimiter, got ${JSON.stringify(format.delimiter)}`);
    this.delim = format.delimiter.charCodeAt(0);
    this.crlf = format.lineBreak === '\n';
    this.lf = this.crlf ? LF : -1;
    this.breakChar = format.lineBreak;
  }

  /** Parses `buf` (UTF-8, whole characters) or flushes when `end`, appending complete records to `out`. Throws `CsvError`. */
  feed(buf: Buffer | undefined, end: boolean, out: CsvRecord[]): void {
    let s = this.rest;
    if (buf !== undefined && buf.length > 0) {
      const text = buf.toString('utf8');
      s = s.length > 0 ? s + text : text;
    }
    const n = s.length;
    const delim = this.delim;
    const lf = this.lf;
    const crlf = this.crlf;
    let fields = this.fields;
    let mode = this.mode;
    let pos = 0;
    let i = this.scanFrom;
    let escapes = this.escapes;
    let relaxedClose = this.relaxedClose;

    for (;;) {
      if (mode === Mode.Start) {
        if (pos >= n) {
          if (!end) break;
          // End of input at a field start: after a delimiter the record ends with an empty field; after a record
          // delimiter (or in an empty input) there is nothing more.
          if (fields.length > 0) {
            fields.push('');
            this.emit(fields, out);
            fields = [];
          }
          break;
        }
        if (s.charCodeAt(pos) === QUOTE) {
          mode = Mode.Quoted;
          i = pos + 1;
          escapes = false;
        } else {
          mode = Mode.Unquoted;
          i = pos;
          relaxedClose = -1;
        }
      }

      // Where the field ends (index of its delimiter or record delimiter, or n at the end of input), and how long the
      // terminator is: 0 delimiter, 1 or 2 record delimiter, -1 end of input.
      let fieldEnd: number;
      let term: number;
      let value: string;

      if (mode === Mode.Quoted) {
        let q: number;
        for (;;) {
          q = s.indexOf('"', i);
          if (q === -1 || (q + 1 >= n && !end)) break;
          if (q + 1 < n && s.charCodeAt(q + 1) === QUOTE) {
            escapes = true;
            i = q + 2;
            continue;
          }
          break;
        }
        if (q === -1) {
          if (end) throw unterminatedQuote(this.format.path, this.line, fields.length + 1);
          i = n;
          break;
        }
        if (q + 1 >= n && !end) {
          i = q; // the quote may start a `""`: look again with more text
          break;
        }
        // Closing quote at q.
        let content = s.slice(pos + 1, q);
        if (escapes) content = content.replace(/""/g, '"');
        if (q + 1 >= n) {
          fieldEnd = n;
          term = -1;
          value = content;
        } else {
          const c = s.charCodeAt(q + 1);
          if (c === delim) {
            fieldEnd = q + 1;
            term = 0;
            value = content;
          } else if (c === lf) {
            fieldEnd = q + 1;
            term = 1;
            value = content;
          } else if (c === CR && !crlf) {
            fieldEnd = q + 1;
            term = 1;
            value = content;
          } else if (c === CR && q + 2 >= n && !end) {
            i = q; // CR at the end of the text: CRLF or not?
            break;
          } else if (c === CR && q + 2 < n && s.charCodeAt(q + 2) === LF) {
            fieldEnd = q + 1;
            term = 2;
            value = content;
          } else {
            // Relaxed closing quote: the field goes on unquoted.
            mode = Mode.Unquoted;
            relaxedClose = q - pos;
            i = q + 1;
            this.relaxedContent = content;
            continue;
          }
        }
        this.recordBreaks += countOf(content, this.breakChar);
      } else {
        // Unquoted: scan to the next delimiter or record delimiter.
        let j = i;
        let found = -2; // -2 not found, else terminator length
        while (j < n) {
          const c = s.charCodeAt(j);
          if (c === delim) {
            found = 0;
            break;
          }
          if (c === lf) {
            found = 1;
            break;
          }
          if (c === CR) {
            if (!crlf) {
              found = 1;
              break;
            }
            if (j + 1 < n) {
              if (s.charCodeAt(j + 1) === LF) {
                found = 2;
                break;
              }
            } else if (!end) {
              break; // CR at the end of the text: CRLF or not?
            }
          }
          j++;
        }
        if (found === -2 && !end) {
          i = j;
          break;
        }
        fieldEnd = j;
        term = found === -2 ? -1 : found;
        value = relaxedClose < 0 ? s.slice(pos, j) : `"${this.relaxedContent}"${s.slice(pos + relaxedClose + 1, j)}`;
        if (relaxedClose >= 0) {
          this.recordBreaks += countOf(this.relaxedContent, this.breakChar);
          this.relaxedContent = '';
          relaxedClose = -1;
        }
      }

      // A field is complete.
      fields.push(value);
      this.recordChars += value.length;
      if (this.recordChars > this.maxFieldSize / 3 && this.overLimit(fields, value)) {
        throw fieldTooLarge(this.format.path, this.line, fields.length, this.maxFieldSize);
      }
      mode = Mode.Start;
      if (term === 0) {
        pos = fieldEnd + 1;
        continue;
      }
      this.emit(fields, out);
      fields = [];
      if (term === -1) {
        pos = n;
        break;
      }
      pos = fieldEnd + term;
    }

    // Keep what is not consumed for the next call.
    this.fields = fields;
    this.mode = mode;
    this.escapes = escapes;
    this.relaxedClose = relaxedClose;
    if (end) {
      this.rest = '';
      this.scanFrom = 0;
      this.mode = Mode.Start;
      return;
    }
    this.rest = pos === 0 ? s : pos >= n ? '' : s.slice(pos);
    this.scanFrom = mode === Mode.Start ? 0 : i - pos;
    if (mode !== Mode.Start && this.recordChars + (n - pos) > this.maxFieldSize) {
      throw fieldTooLarge(this.format.path, this.line, fields.length + 1, this.maxFieldSize);
    }
  }

  private emit(fields: string[], out: CsvRecord[]): void {
    const line = this.line;
    this.line += 1 + this.recordBreaks;
    this.recordBreaks = 0;
    this.recordChars = 0;
    this.recordBytes = -1;
    if (fields.length === 1 && fields[0] === '') {
      this.emptyLines++;
      return;
    }
    out.push({ line, fields });
  }

  /**
   * Whether the record's completed fields exceed the limit in UTF-8 bytes; called once its characters pass a third of
   * the limit (a character is at most 3 UTF-8 bytes per UTF-16 unit), then counted field by field.
   */
  private overLimit(fields: string[], added: string): boolean {
    if (this.recordChars > this.maxFieldSize) return true;
    if (this.recordBytes < 0) {
      this.recordBytes = 0;
      for (const f of fields) this.recordBytes += Buffer.byteLength(f);
    } else {
      this.recordBytes += Buffer.byteLength(added);
    }
    return this.recordBytes > this.maxFieldSize;
  }
}

function countOf(text: string, ch: string): number {
  let count = 0;
  let at = text.indexOf(ch);
  while (at !== -1) {
    count++;
    at = text.indexOf(ch, at + 1);
  }
  return count;
}
