// Turns CSV records into the JSON text of one SODA row object. The planner and the executor share this code, so
// the plan's numbers (bad rows, created/updated) are exactly what the execution then does.
//
// Speed: the key prefix of every column (`{"field":` / `,"field":`) is built once, and each column gets a
// precompiled cell encoder that turns the cell text straight into the JSON text of its value. Common notations take
// a hand-written fast path that builds no intermediate value (`src/csv/cells/json.ts`: plain and grouped numbers,
// ISO and US slash dates, true/false, `POINT (lon lat)`, bare http(s) URLs, text that needs no escaping); anything
// else goes through the `src/csv` converter, so the result is always the converter's (a property test holds the two
// to the same text).
// `encodeBytes` does the same for a record given as byte ranges of the file (`src/csv/bytetokenizer.ts`): cells in
// those notations are written from their bytes straight into a request body (`src/csv/cells/jsonbytes.ts`), any
// other cell goes through the string path above; the text is the same (a property test holds the two together).
// Each cell is validated and converted once.
import {
  createConverter,
  jsonBytesKind,
  JsonBytesKind,
  jsonFastPath,
  jsonText,
  type ByteRow,
  type ColumnConverter,
  type ColumnType,
  type JsonFastPath,
  type JsonValue,
  writeJsonBytes,
} from '../csv';
import { hashId, hashIdBytes } from '../csv/idtable';
import type { ColumnMappingEntry } from './types';

export type EncodeResult = { ok: true; json: string; id: string | undefined } | { ok: false; message: string; column: number | undefined };

/** Failure of the last `encodeText` call (encoder state, so that a good row allocates no result object). */
interface LastError {
  message: string;
  column: number | undefined;
}

export class RowEncoder {
  private readonly indexes: number[];
  private readonly converters: ColumnConverter[];
  private readonly fast: (JsonFastPath | undefined)[];
  private readonly prefixes: string[];
  private readonly headers: string[];
  private readonly fields: string[];
  private readonly idPos: number;
  private readonly idIsText: boolean;
  private readonly suffix: string;
  private readonly kinds: Uint8Array;
  private readonly prefixBytes: Uint8Array[];
  private readonly prefixWords: Uint32Array[];
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewOf: Buffer | undefined;
  private readonly suffixBytes: Uint8Array;
  /** After `encodeBytes`: the row identifier as a byte range of `idBuf` (when `lastId` was not made). */
  private idBuf: Buffer | undefined;
  private idStart = 0;
  private idEnd = 0;
  /** The buffer `encodeBytes` writes to when not given one, or moves a row to that does not fit where it was given. */
  bytes: Buffer = Buffer.allocUnsafe(64 * 1024);
  /** After `encodeBytes`: where the row's JSON text is, `out[outStart..end)` (`end` being what it returned). */
  out: Buffer = this.bytes;
  outStart = 0;
  private limit = 0;
  readonly width: number;
  /** After `encodeText`: the row identifier's value (as text) of the row, when the dataset has one. */
  lastId: string | undefined;
  /** After `encodeText` returned undefined: why the row cannot be sent. */
  lastError: LastError = { message: '', column: undefined };

  constructor(
    columns: readonly ColumnMappingEntry[],
    dateOrders: readonly ('mdy' | 'dmy' | undefined)[],
    width: number,
    rowIdentifier: string | undefined,
    /** Delete mode: only the row identifier is sent, with `":deleted": true`. */
    readonly deleteRows = false,
  ) {
    this.width = width;
    const active = columns.filter((c): c is ColumnMappingEntry & { fieldName: string; type: ColumnType } => c.fieldName !== undefined && c.type !== undefined);
    const used = deleteRows ? active.filter((c) => c.fieldName === rowIdentifier) : active;
    this.indexes = used.map((c) => c.csvIndex);
    this.headers = used.map((c) => c.csvHeader);
    this.fields = used.map((c) => c.fieldName);
    this.converters = used.map((c) => createConverter(c.type, { dateOrder: dateOrders[c.csvIndex] }));
    this.fast = used.map((c) => jsonFastPath(c.type, { dateOrder: dateOrders[c.csvIndex] }));
    this.prefixes = used.map((c, k) => `${k === 0 ? '{' : ','}${JSON.stringify(c.fieldName)}:`);
    this.idPos = rowIdentifier === undefined ? -1 : used.findIndex((c) => c.fieldName === rowIdentifier);
    this.idIsText = this.idPos >= 0 && used[this.idPos]?.type === 'text';
    this.suffix = deleteRows ? ',":deleted":true}' : '}';
    this.kinds = Uint8Array.from(used.map((c) => jsonBytesKind(c.type, { dateOrder: dateOrders[c.csvIndex] })));
    this.prefixBytes = this.prefixes.map((p) => Uint8Array.from(Buffer.from(p)));
    this.suffixBytes = Buffer.from(this.suffix);
    this.prefixWords = this.prefixBytes.map((p) => {
      const words = new Uint32Array(p.length >> 2);
      const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
      for (let i = 0; i < words.length; i++) words[i] = dv.getUint32(4 * i, true);
      return words;
    });
  }

  /** After `encodeText` or `encodeBytes` (a good row): the row identifier's text, or undefined without one. */
  idText(): string | undefined {
    if (this.lastId === undefined && this.idBuf !== undefined) this.lastId = this.idBuf.toString('utf8', this.idStart, this.idEnd);
    return this.lastId;
  }

  /** After a good row with an identifier: `hashId` of `idText()`. */
  idHash(): number {
    if (this.lastId === undefined && this.idBuf !== undefined) return hashIdBytes(this.idBuf, this.idStart, this.idEnd);
    return hashId(this.lastId ?? '');
  }

  /** Whether the last good row has a row identifier. */
  get hasId(): boolean {
    return this.lastId !== undefined || this.idBuf !== undefined;
  }

  /**
   * `encodeText` of a byte row: its JSON text (UTF-8, the same text `encodeText` gives for the row's fields as
   * strings) written to `target` from `at`, not past `limit`; a row that does not fit there is moved to `bytes` and
   * finished there. Returns the end of the row's text in `out` (it starts at `outStart`), or -1 when the row cannot
   * be sent (`lastError` says why). Cells in
   * the common notations are written from their bytes; any other cell goes through the same string path as
   * `encodeText`. The identifier is then `idText()` / `idHash()` (made from its bytes only when asked).
   */
  encodeBytes(row: ByteRow, target: Buffer = this.bytes, at = 0, limit: number = target.length): number {
    this.lastId = undefined;
    this.idBuf = undefined;
    this.out = target;
    this.outStart = at;
    this.limit = limit;
    if (row.count !== this.width) {
      this.fail(`the row has ${row.count} fields, the header has ${this.width}`, undefined);
      return -1;
    }
    const n = this.indexes.length;
    let out = target;
    let o = at;
    if (n === 0) {
      if (o + 2 > limit) {
        o = this.grow(o, 2);
        out = this.out;
      }
      out[o] = 0x7b;
      out[o + 1] = 0x7d;
      return o + 2;
    }
    const src = row.buf;
    const texts = row.texts;
    const starts = row.starts;
    const ends = row.ends;
    const indexes = this.indexes;
    const prefixes = this.prefixBytes;
    const prefixWords = this.prefixWords;
    const kinds = this.kinds;
    const idPos = this.idPos;
    const anyText = row.hasTexts;
    let room = limit;
    for (let k = 0; k < n; k++) {
      const c = indexes[k];
      const s = starts[c];
      const e = ends[c];
      const prefix = prefixes[k];
      const pn = prefix.length;
      if (o + pn + (e - s) + 64 > room) {
        o = this.grow(o, pn + (e - s) + 64);
        out = this.out;
        room = this.limit;
      }
      if (out !== this.viewOf) {
        this.view = new DataView(out.buffer, out.byteOffset, out.byteLength);
        this.viewOf = out;
      }
      const words = prefixWords[k];
      const view = this.view;
      let i = 0;
      for (; i < words.length; i++) view.setUint32(o + 4 * i, words[i], true);
      for (i *= 4; i < pn; i++) out[o + i] = prefix[i];
      o += pn;
      const kind = kinds[k] as JsonBytesKind;
      const text = anyText ? texts[c] : undefined;
      if (kind !== JsonBytesKind.None && text === undefined && (k !== idPos || (this.idIsText && e > s))) {
        const r = writeJsonBytes(kind, src, s, e, out, o);
        if (r >= 0) {
          o = r;
          if (k === idPos) {
            this.idBuf = src;
            this.idStart = s;
            this.idEnd = e;
          }
          continue;
        }
      }
      const json = this.cellText(k, text ?? src.toString('utf8', s, e));
      if (json === undefined) {
        this.idBuf = undefined;
        return -1;
      }
      if (o + json.length * 3 + 8 > room) {
        o = this.grow(o, json.length * 3 + 8);
        out = this.out;
        room = this.limit;
      }
      o += out.write(json, o);
    }
    const suffix = this.suffixBytes;
    if (o + suffix.length > this.limit) {
      o = this.grow(o, suffix.length);
      out = this.out;
    }
    for (let i = 0; i < suffix.length; i++) out[o + i] = suffix[i];
    return o + suffix.length;
  }

  /**
   * Room for `more` bytes after the row's bytes so far (`out[outStart..o)`): they move to the start of `bytes` (made
   * larger when needed), which the row is then written to. Returns the row's new end.
   */
  private grow(o: number, more: number): number {
    const used = o - this.outStart;
    let dest = this.bytes;
    if (used + more > dest.length) {
      dest = Buffer.allocUnsafe(Math.max(dest.length * 2, used + more + 1024));
      this.bytes = dest;
    }
    if (this.out !== dest || this.outStart !== 0) this.out.copy(dest, 0, this.outStart, o);
    this.out = dest;
    this.outStart = 0;
    this.limit = dest.length;
    return used;
  }

  /** The JSON text of column k's cell `raw` by the converter's path (sets `lastId` for the row identifier), or undefined (`lastError`). */
  private cellText(k: number, raw: string): string | undefined {
    const c = this.indexes[k];
    if (k === this.idPos) {
      // The id's value as text: for a text column the cell itself (what the converter gives).
      if (this.idIsText && raw.length > 0) {
        const text = this.fast[k]?.(raw);
        if (text !== undefined) {
          this.lastId = raw;
          return text;
        }
      }
      const res = this.converters[k].convert(raw);
      if (!res.ok) return this.fail(`${this.headers[k]}: ${res.message}`, c + 1);
      if (res.value === null) return this.fail(`the row identifier ${this.headers[k]} is empty`, c + 1);
      this.lastId = typeof res.value === 'string' ? res.value : JSON.stringify(res.value);
      return jsonText(res.value);
    }
    const fast = this.fast[k];
    const text = fast === undefined ? undefined : fast(raw);
    if (text !== undefined) return text;
    const res = this.converters[k].convert(raw);
    if (!res.ok) return this.fail(`${this.headers[k]}: ${res.message}`, c + 1);
    return res.value === null ? 'null' : jsonText(res.value);
  }

  /** The JSON text of a row read from the server, in the same form `encode` gives a file row (for sync). */
  encodeRemote(row: Readonly<Record<string, unknown>>): string {
    let json = '';
    const n = this.fields.length;
    for (let k = 0; k < n; k++) {
      const v = row[this.fields[k]];
      json += this.prefixes[k] + (v === undefined || v === null ? 'null' : jsonText(v as JsonValue));
    }
    return n === 0 ? '{}' : `${json}}`;
  }

  /** The CSV header of the k-th sent column (for messages). */
  header(k: number): string {
    return this.headers[k] ?? '';
  }

  /**
   * The JSON text of a file row, or undefined when the row cannot be sent (`lastError` says why). `lastId` is the
   * row identifier's value. Allocates only the text itself for cells in the common notations.
   */
  encodeText(fields: readonly string[]): string | undefined {
    this.lastId = undefined;
    this.idBuf = undefined;
    if (fields.length !== this.width) return this.fail(`the row has ${fields.length} fields, the header has ${this.width}`, undefined);
    const n = this.indexes.length;
    if (n === 0) return '{}';
    let json = '';
    for (let k = 0; k < n; k++) {
      const c = this.indexes[k];
      const raw = fields[c] ?? '';
      let text: string | undefined;
      if (k === this.idPos) {
        // The id's value as text: for a text column the cell itself (what the converter gives).
        if (this.idIsText && raw.length > 0) {
          text = this.fast[k]?.(raw);
          if (text !== undefined) this.lastId = raw;
        }
        if (text === undefined) {
          const res = this.converters[k].convert(raw);
          if (!res.ok) return this.fail(`${this.headers[k]}: ${res.message}`, c + 1);
          if (res.value === null) return this.fail(`the row identifier ${this.headers[k]} is empty`, c + 1);
          this.lastId = typeof res.value === 'string' ? res.value : JSON.stringify(res.value);
          text = jsonText(res.value);
        }
      } else {
        const fast = this.fast[k];
        text = fast === undefined ? undefined : fast(raw);
        if (text === undefined) {
          const res = this.converters[k].convert(raw);
          if (!res.ok) return this.fail(`${this.headers[k]}: ${res.message}`, c + 1);
          text = res.value === null ? 'null' : jsonText(res.value);
        }
      }
      json += this.prefixes[k] + text;
    }
    return json + this.suffix;
  }

  private fail(message: string, column: number | undefined): undefined {
    this.lastError = { message, column };
    return undefined;
  }

  encode(fields: readonly string[]): EncodeResult {
    const json = this.encodeText(fields);
    if (json === undefined) return { ok: false, message: this.lastError.message, column: this.lastError.column };
    return { ok: true, json, id: this.lastId };
  }
}
