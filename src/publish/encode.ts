// Turns CSV records into the JSON text of one SODA row object. The planner and the executor share this code, so
// the plan's numbers (bad rows, created/updated) are exactly what the execution then does.
//
// Speed: the key prefix of every column (`{"field":` / `,"field":`) is built once, and each column gets a
// precompiled cell encoder that turns the cell text straight into the JSON text of its value. Common notations take
// a hand-written fast path that builds no intermediate value (plain and grouped numbers, ISO and US slash dates,
// true/false, `POINT (lon lat)`, bare http(s) URLs, text that needs no escaping); anything else goes through the
// `src/csv` converter, so the result is always the converter's (a property test holds the two to the same text).
// Each cell is validated and converted once.
import { createConverter, type ColumnConverter, type ColumnType, type ConvertOptions, type JsonValue } from '../csv';
import type { ColumnMappingEntry } from './types';

export type EncodeResult =
  | { ok: true; json: string; id: string | undefined }
  | { ok: false; message: string; column: number | undefined };

/** Characters JSON.stringify would escape (plus every surrogate, so lone ones are escaped by the slow path). */
// eslint-disable-next-line no-control-regex -- the control characters are exactly what must be found
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function jsonText(v: JsonValue): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // GeoJSON points are the most common object value: written without the generic serialiser.
  if (!Array.isArray(v) && v !== null && v.type === 'Point' && Array.isArray(v.coordinates) && v.coordinates.length === 2) {
    const [x, y] = v.coordinates;
    if (typeof x === 'number' && typeof y === 'number' && Object.keys(v).length === 2) return `{"type":"Point","coordinates":[${x},${y}]}`;
  }
  return JSON.stringify(v);
}

// ------------------------------------------------------------------------------------------------ fast paths
// Each returns the JSON text of the converted value, or undefined when the cell is not in the one notation it knows
// (the converter then decides, and builds the message of an invalid cell). A fast path never accepts a cell the
// converter would reject and always gives the converter's text.

type FastPath = (raw: string) => string | undefined;

const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?$/;
const GROUPED_NUMBER = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
const PLAIN_INTEGER = /^-?\d+$/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validDay(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Digits at [at, at+len) as a number, or -1. */
function digitsAt(s: string, at: number, len: number): number {
  if (at + len > s.length) return -1;
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** 1 or 2 digits at `at`, packed as `value * 64 + end` (no array per call: this runs for every date cell), or -1. */
function shortInt(s: string, at: number): number {
  const c0 = s.charCodeAt(at);
  if (!isDigit(c0)) return -1;
  const c1 = s.charCodeAt(at + 1);
  if (isDigit(c1)) {
    if (isDigit(s.charCodeAt(at + 2))) return -1;
    return ((c0 - 48) * 10 + (c1 - 48)) * 64 + at + 2;
  }
  return (c0 - 48) * 64 + at + 1;
}

const valueOf = (packed: number): number => packed >> 6;
const endOf = (packed: number): number => packed & 63;

/** `HH:MM[:SS]` (24-hour, nothing after) from `at` to the end: `HH:MM:SS.000`, or undefined. */
function timeText(s: string, at: number): string | undefined {
  const h = shortInt(s, at);
  if (h < 0 || valueOf(h) > 23 || s.charCodeAt(endOf(h)) !== 58) return undefined;
  const mi = digitsAt(s, endOf(h) + 1, 2);
  if (mi < 0 || mi > 59) return undefined;
  let end = endOf(h) + 3;
  let sec = 0;
  if (end < s.length) {
    if (s.charCodeAt(end) !== 58) return undefined;
    sec = digitsAt(s, end + 1, 2);
    if (sec < 0 || sec > 59) return undefined;
    end += 3;
  }
  if (end !== s.length) return undefined;
  return `${two(valueOf(h))}:${two(mi)}:${two(sec)}.000`;
}

/** Zone-less `YYYY-M-D[( |T)HH:MM[:SS]]` or `A/B/YYYY [HH:MM[:SS]]` (also `-` or `.`) → `"YYYY-MM-DDTHH:MM:SS.000"`. */
function fastFloating(order: 'mdy' | 'dmy'): FastPath {
  return (s) => {
    const len = s.length;
    if (len < 8 || len > 19) return undefined;
    let year: number;
    let month: number;
    let day: number;
    let at: number;
    if (s.charCodeAt(4) === 45) {
      year = digitsAt(s, 0, 4);
      if (year < 0) return undefined;
      const m = shortInt(s, 5);
      if (m < 0 || s.charCodeAt(endOf(m)) !== 45) return undefined;
      const d = shortInt(s, endOf(m) + 1);
      if (d < 0) return undefined;
      month = valueOf(m);
      day = valueOf(d);
      at = endOf(d);
    } else {
      const a = shortInt(s, 0);
      if (a < 0) return undefined;
      const sep = s.charCodeAt(endOf(a));
      if (sep !== 47 && sep !== 45 && sep !== 46) return undefined;
      const b = shortInt(s, endOf(a) + 1);
      if (b < 0 || s.charCodeAt(endOf(b)) !== sep) return undefined;
      year = digitsAt(s, endOf(b) + 1, 4);
      if (year < 0) return undefined;
      at = endOf(b) + 5;
      if (order === 'mdy') {
        month = valueOf(a);
        day = valueOf(b);
      } else {
        month = valueOf(b);
        day = valueOf(a);
      }
    }
    if (!validDay(year, month, day)) return undefined;
    // `YYYY-MM-DD` as written is the date part as is.
    const date = at === 10 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 ? `"${s.slice(0, 10)}T` : `"${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T`;
    if (at === len) return `${date}00:00:00.000"`;
    const sep = s.charCodeAt(at);
    if (sep !== 32 && sep !== 84) return undefined;
    const time = timeText(s, at + 1);
    return time === undefined ? undefined : `${date}${time}"`;
  };
}

/**
 * The text `String(Number(decimal))` gives for the decimal `-?\d+(\.\d+)?` at [start, end), computed without
 * the number: leading zeros of the integer part and trailing zeros of the fraction dropped, `-0` written `0`. Only for
 * at most 15 significant digits (the decimal is then the shortest text of its double) and magnitudes of 0 or at least
 * 1e-6 with at most 3 integer digits (written without an exponent); otherwise undefined. `limit`: the largest
 * magnitude accepted (range check of a coordinate), beyond it undefined too.
 */
function coordinateText(s: string, start: number, end: number, limit: number): string | undefined {
  let i = start;
  const neg = s.charCodeAt(i) === 45;
  if (neg) i++;
  const intStart = i;
  let value = 0;
  while (i < end && isDigit(s.charCodeAt(i))) value = value * 10 + (s.charCodeAt(i++) - 48);
  const intEnd = i;
  if (intEnd === intStart) return undefined;
  let fracStart = end;
  let fracEnd = end;
  if (i < end) {
    if (s.charCodeAt(i) !== 46) return undefined;
    fracStart = ++i;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    if (i !== end || i === fracStart) return undefined;
    fracEnd = end;
    while (fracEnd > fracStart && s.charCodeAt(fracEnd - 1) === 48) fracEnd--;
  }
  let a = intStart;
  while (a < intEnd - 1 && s.charCodeAt(a) === 48) a++;
  if (intEnd - a > 3 || value > limit || (value === limit && fracEnd > fracStart)) return undefined;
  if (value === 0) {
    if (fracEnd === fracStart) return '0';
    let z = fracStart;
    while (s.charCodeAt(z) === 48) z++;
    if (z - fracStart >= 6 || fracEnd - z > 15) return undefined;
    return `${neg ? '-' : ''}0.${s.slice(fracStart, fracEnd)}`;
  }
  if (intEnd - a + (fracEnd - fracStart) > 15) return undefined;
  return `${neg ? '-' : ''}${s.slice(a, intEnd)}${fracEnd > fracStart ? `.${s.slice(fracStart, fracEnd)}` : ''}`;
}

/** `POINT (lon lat)` written exactly so → GeoJSON text (the same number text as the converter's). */
function fastPoint(s: string): string | undefined {
  const last = s.length - 1;
  if (!s.startsWith('POINT (') || s.charCodeAt(last) !== 41) return undefined;
  const space = s.indexOf(' ', 7);
  if (space < 0) return undefined;
  const lon = coordinateText(s, 7, space, 180);
  if (lon === undefined) return undefined;
  const lat = coordinateText(s, space + 1, last, 90);
  if (lat === undefined) return undefined;
  return `{"type":"Point","coordinates":[${lon},${lat}]}`;
}

/** A bare `http://` or `https://` URL of printable ASCII without spaces, quotes or backslashes. */
function fastUrl(s: string): string | undefined {
  const start = s.startsWith('https://') ? 8 : s.startsWith('http://') ? 7 : -1;
  if (start < 0 || start >= s.length) return undefined;
  const first = s.charCodeAt(start);
  if (first === 47 || first === 36 || first === 46 || first === 63 || first === 35) return undefined;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 34 || c === 92) return undefined;
  }
  return `{"url":"${s}"}`;
}

function fastPathFor(type: ColumnType, options: ConvertOptions): FastPath | undefined {
  switch (type) {
    case 'text':
      return (raw) => (raw.length === 0 ? 'null' : NEEDS_ESCAPE.test(raw) ? undefined : `"${raw}"`);
    case 'number':
      if (options.decimalComma) return (raw) => (raw.length === 0 ? 'null' : PLAIN_INTEGER.test(raw) ? `"${raw}"` : undefined);
      return (raw) => {
        if (raw.length === 0) return 'null';
        if (PLAIN_NUMBER.test(raw)) return `"${raw}"`;
        return GROUPED_NUMBER.test(raw) ? `"${raw.replace(/,/g, '')}"` : undefined;
      };
    case 'checkbox':
      return (raw) => (raw === 'true' ? 'true' : raw === 'false' ? 'false' : raw.length === 0 ? 'null' : undefined);
    case 'floating_timestamp': {
      const date = fastFloating(options.dateOrder ?? 'mdy');
      return (raw) => (raw.length === 0 ? 'null' : date(raw));
    }
    case 'point':
      return (raw) => (raw.length === 0 ? 'null' : fastPoint(raw));
    case 'url':
      return (raw) => (raw.length === 0 ? 'null' : fastUrl(raw));
    default:
      return undefined;
  }
}

/** Failure of the last `encodeText` call (encoder state, so that a good row allocates no result object). */
interface LastError {
  message: string;
  column: number | undefined;
}

export class RowEncoder {
  private readonly indexes: number[];
  private readonly converters: ColumnConverter[];
  private readonly fast: (FastPath | undefined)[];
  private readonly prefixes: string[];
  private readonly headers: string[];
  private readonly fields: string[];
  private readonly idPos: number;
  private readonly idIsText: boolean;
  private readonly suffix: string;
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
    this.fast = used.map((c) => fastPathFor(c.type, { dateOrder: dateOrders[c.csvIndex] }));
    this.prefixes = used.map((c, k) => `${k === 0 ? '{' : ','}${JSON.stringify(c.fieldName)}:`);
    this.idPos = rowIdentifier === undefined ? -1 : used.findIndex((c) => c.fieldName === rowIdentifier);
    this.idIsText = this.idPos >= 0 && used[this.idPos]?.type === 'text';
    this.suffix = deleteRows ? ',":deleted":true}' : '}';
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
