// The JSON fast paths of json.ts on bytes: a cell given as a UTF-8 byte range is written as the JSON text of its
// converted value straight into an output buffer, with no string made. Each writer accepts only cells in the one
// notation it knows (all of them ASCII, except text, whose bytes are copied as they are) and writes exactly what
// `jsonFastPath` (and so the converter) gives for them; anything else returns -1 and the caller takes the string path.
// The property test of the publish encoder holds these writers to the converter.
import type { ColumnType, ConvertOptions } from './catalog';
import { daysInMonth } from './scan';

/**
 * Writes the JSON text of the cell `b[s..e)` at `out[o..]` and returns the end offset, or -1 when the cell is not in
 * this writer's notation (what was written is then to be discarded). `out` must have room for `e - s + 48` bytes.
 */
export type JsonBytesWriter = (b: Buffer, s: number, e: number, out: Buffer, o: number) => number;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const DOT = 0x2e;
const MINUS = 0x2d;

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function put(out: Buffer, o: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) out[o + i] = bytes[i];
  return o + bytes.length;
}

function writeNull(out: Buffer, o: number): number {
  out[o] = 0x6e;
  out[o + 1] = 0x75;
  out[o + 2] = 0x6c;
  out[o + 3] = 0x6c;
  return o + 4;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Text that JSON needs no escape for: `"` + the bytes + `"`. */
function writeText(b: Buffer, s: number, e: number, out: Buffer, o: number): number {
  if (s === e) return writeNull(out, o);
  out[o++] = QUOTE;
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c < 0x20 || c === QUOTE || c === BACKSLASH) return -1;
    out[o++] = c;
  }
  out[o++] = QUOTE;
  return o;
}

/** `-?\d+(\.\d+)?` as it is, or `-?\d{1,3}(,\d{3})+(\.\d+)?` without its commas, in quotes. */
function writeNumber(b: Buffer, s: number, e: number, out: Buffer, o: number): number {
  if (s === e) return writeNull(out, o);
  let i = s;
  out[o++] = QUOTE;
  if (b[i] === MINUS) {
    out[o++] = MINUS;
    i++;
  }
  const ds = i;
  while (i < e && isDigit(b[i])) out[o++] = b[i++];
  if (i === ds) return -1;
  if (i < e && b[i] === COMMA) {
    if (i - ds > 3) return -1;
    while (i < e && b[i] === COMMA) {
      if (i + 3 >= e || !isDigit(b[i + 1]) || !isDigit(b[i + 2]) || !isDigit(b[i + 3])) return -1;
      out[o++] = b[i + 1];
      out[o++] = b[i + 2];
      out[o++] = b[i + 3];
      i += 4;
    }
  }
  if (i < e && b[i] === DOT) {
    out[o++] = DOT;
    const fs = ++i;
    while (i < e && isDigit(b[i])) out[o++] = b[i++];
    if (i === fs) return -1;
  }
  if (i !== e) return -1;
  out[o++] = QUOTE;
  return o;
}

/** `-?\d+` in quotes (numbers of a decimal-comma column). */
function writeInteger(b: Buffer, s: number, e: number, out: Buffer, o: number): number {
  if (s === e) return writeNull(out, o);
  let i = s;
  out[o++] = QUOTE;
  if (b[i] === MINUS) out[o++] = b[i++];
  if (i === e) return -1;
  while (i < e) {
    if (!isDigit(b[i])) return -1;
    out[o++] = b[i++];
  }
  out[o++] = QUOTE;
  return o;
}

const TRUE = ascii('true');
const FALSE = ascii('false');

function writeCheckbox(b: Buffer, s: number, e: number, out: Buffer, o: number): number {
  if (s === e) return writeNull(out, o);
  const n = e - s;
  if (n === 4 && b[s] === 0x74 && b[s + 1] === 0x72 && b[s + 2] === 0x75 && b[s + 3] === 0x65) return put(out, o, TRUE);
  if (n === 5 && b[s] === 0x66 && b[s + 1] === 0x61 && b[s + 2] === 0x6c && b[s + 3] === 0x73 && b[s + 4] === 0x65) return put(out, o, FALSE);
  return -1;
}

/** Digits at [at, at+len) (within `e`) as a number, or -1. */
function digitsAt(b: Buffer, at: number, len: number, e: number): number {
  if (at + len > e) return -1;
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const c = b[i];
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** 1 or 2 digits at `at` (not 3), packed as `value * 64 + length`, or -1. */
function shortInt(b: Buffer, at: number, e: number): number {
  if (at >= e || !isDigit(b[at])) return -1;
  const v0 = b[at] - 48;
  if (at + 1 < e && isDigit(b[at + 1])) {
    if (at + 2 < e && isDigit(b[at + 2])) return -1;
    return (v0 * 10 + (b[at + 1] - 48)) * 64 + 2;
  }
  return v0 * 64 + 1;
}

function two(out: Buffer, o: number, v: number): number {
  out[o] = 48 + ((v / 10) | 0);
  out[o + 1] = 48 + (v % 10);
  return o + 2;
}

/**
 * A zone-less `YYYY-M-D[( |T)H:MM[:SS]]` or `A/B/YYYY [H:MM[:SS]]` (also `-` or `.`) date, as
 * `"YYYY-MM-DDTHH:MM:SS.000"` (the byte form of scan.ts's `scanFloating`).
 */
function writeFloating(b: Buffer, s: number, e: number, out: Buffer, o: number, dmy: boolean): number {
  {
    if (s === e) return writeNull(out, o);
    const len = e - s;
    if (len < 8 || len > 19) return -1;
    let year: number;
    let month: number;
    let day: number;
    let at: number;
    const iso = b[s + 4] === MINUS;
    if (iso) {
      year = digitsAt(b, s, 4, e);
      if (year < 0) return -1;
      const m = shortInt(b, s + 5, e);
      if (m < 0) return -1;
      const mEnd = s + 5 + (m & 63);
      if (mEnd >= e || b[mEnd] !== MINUS) return -1;
      const d = shortInt(b, mEnd + 1, e);
      if (d < 0) return -1;
      month = m >> 6;
      day = d >> 6;
      at = mEnd + 1 + (d & 63);
    } else {
      const a = shortInt(b, s, e);
      if (a < 0) return -1;
      const aEnd = s + (a & 63);
      if (aEnd >= e) return -1;
      const sep = b[aEnd];
      if (sep !== 47 && sep !== MINUS && sep !== DOT) return -1;
      const c = shortInt(b, aEnd + 1, e);
      if (c < 0) return -1;
      const cEnd = aEnd + 1 + (c & 63);
      if (cEnd >= e || b[cEnd] !== sep) return -1;
      year = digitsAt(b, cEnd + 1, 4, e);
      if (year < 0) return -1;
      at = cEnd + 5;
      if (!dmy) {
        month = a >> 6;
        day = c >> 6;
      } else {
        month = c >> 6;
        day = a >> 6;
      }
    }
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return -1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    if (at !== e) {
      const sep = b[at];
      if (sep !== 32 && sep !== 84) return -1;
      const h = shortInt(b, at + 1, e);
      if (h < 0) return -1;
      hour = h >> 6;
      let t = at + 1 + (h & 63);
      if (hour > 23 || t >= e || b[t] !== 58) return -1;
      minute = digitsAt(b, t + 1, 2, e);
      if (minute < 0 || minute > 59) return -1;
      t += 3;
      if (t < e) {
        if (b[t] !== 58) return -1;
        second = digitsAt(b, t + 1, 2, e);
        if (second < 0 || second > 59) return -1;
        t += 3;
      }
      if (t !== e) return -1;
    }
    out[o++] = QUOTE;
    if (iso && at - s === 10 && b[s + 7] === MINUS) {
      for (let i = s; i < s + 10; i++) out[o++] = b[i];
    } else {
      o = two(out, o, (year / 100) | 0);
      o = two(out, o, year % 100);
      out[o++] = MINUS;
      o = two(out, o, month);
      out[o++] = MINUS;
      o = two(out, o, day);
    }
    out[o++] = 0x54; // T
    o = two(out, o, hour);
    out[o++] = 58;
    o = two(out, o, minute);
    out[o++] = 58;
    o = two(out, o, second);
    out[o++] = DOT;
    out[o++] = 48;
    out[o++] = 48;
    out[o++] = 48;
    out[o++] = QUOTE;
    return o;
  }
}

/**
 * Writes the decimal `-?\d+(\.\d+)?` at [start, end) as `String(Number(decimal))` gives it, when that is the decimal
 * itself (at most 15 significant digits; 0 or a magnitude of at least 1e-6 with at most 3 integer digits; within
 * `limit`). The byte form of scan.ts's `scanCoordinate` with json.ts's `coordinateText`. Returns the end or -1.
 */
function writeCoordinate(b: Buffer, start: number, end: number, limit: number, out: Buffer, o: number): number {
  let i = start;
  const neg = b[i] === MINUS;
  if (neg) i++;
  const intStart = i;
  let value = 0;
  while (i < end && isDigit(b[i])) value = value * 10 + (b[i++] - 48);
  const intEnd = i;
  if (intEnd === intStart) return -1;
  let fracStart = end;
  let fracEnd = end;
  if (i < end) {
    if (b[i] !== DOT) return -1;
    fracStart = ++i;
    while (i < end && isDigit(b[i])) i++;
    if (i !== end || i === fracStart) return -1;
    fracEnd = end;
    while (fracEnd > fracStart && b[fracEnd - 1] === 48) fracEnd--;
  }
  let a = intStart;
  while (a < intEnd - 1 && b[a] === 48) a++;
  if (intEnd - a > 3 || value > limit || (value === limit && fracEnd > fracStart)) return -1;
  if (value === 0) {
    if (fracEnd > fracStart) {
      let z = fracStart;
      while (b[z] === 48) z++;
      if (z - fracStart >= 6 || fracEnd - z > 15) return -1;
    }
  } else if (intEnd - a + (fracEnd - fracStart) > 15) return -1;
  if (value === 0) {
    if (fracEnd === fracStart) {
      out[o++] = 48;
      return o;
    }
    if (neg) out[o++] = MINUS;
    out[o++] = 48;
  } else {
    if (neg) out[o++] = MINUS;
    for (let k = a; k < intEnd; k++) out[o++] = b[k];
  }
  if (fracEnd > fracStart) {
    out[o++] = DOT;
    for (let k = fracStart; k < fracEnd; k++) out[o++] = b[k];
  }
  return o;
}

const POINT_PREFIX = ascii('POINT (');
const POINT_JSON = ascii('{"type":"Point","coordinates":[');

/** `POINT (lon lat)` written exactly so, each coordinate within range, as GeoJSON. */
function writePoint(b: Buffer, s: number, e: number, out: Buffer, o: number): number {
  if (s === e) return writeNull(out, o);
  const last = e - 1;
  if (e - s < 10 || b[last] !== 41) return -1;
  for (let i = 0; i < 7; i++) if (b[s + i] !== POINT_PREFIX[i]) return -1;
  let space = s + 7;
  while (space < last && b[space] !== 32) space++;
  if (space >= last) return -1;
  o = put(out, o, POINT_JSON);
  o = writeCoordinate(b, s + 7, space, 180, out, o);
  if (o < 0) return -1;
  out[o++] = COMMA;
  o = writeCoordinate(b, space + 1, last, 90, out, o);
  if (o < 0) return -1;
  out[o++] = 0x5d; // ]
  out[o++] = 0x7d; // }
  return o;
}

const URL_JSON = ascii('{"url":"');

/** A bare http(s) URL of printable ASCII without spaces, quotes or backslashes, as `{"url":"…"}`. */
function writeUrl(b: Buffer, s: number, e: number, out: Buffer, o: number): number {
  if (s === e) return writeNull(out, o);
  if (e - s < 8 || b[s] !== 0x68 || b[s + 1] !== 0x74 || b[s + 2] !== 0x74 || b[s + 3] !== 0x70) return -1;
  let start: number;
  if (b[s + 4] === 0x73 && b[s + 5] === 58 && b[s + 6] === 47 && b[s + 7] === 47) start = s + 8;
  else if (b[s + 4] === 58 && b[s + 5] === 47 && b[s + 6] === 47) start = s + 7;
  else return -1;
  if (start >= e) return -1;
  const first = b[start];
  if (first === 47 || first === 36 || first === DOT || first === 63 || first === 35) return -1;
  o = put(out, o, URL_JSON);
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c <= 32 || c >= 127 || c === QUOTE || c === BACKSLASH) return -1;
    out[o++] = c;
  }
  out[o++] = QUOTE;
  out[o++] = 0x7d;
  return o;
}

/** Which writer `writeJsonBytes` uses for a column (0: none). */
export const enum JsonBytesKind {
  None = 0,
  Text,
  Number,
  Integer,
  Checkbox,
  FloatingMdy,
  FloatingDmy,
  Point,
  Url,
}

/** The writer kind of a column type, `JsonBytesKind.None` for types without one. */
export function jsonBytesKind(type: ColumnType, options: ConvertOptions): JsonBytesKind {
  switch (type) {
    case 'text':
      return JsonBytesKind.Text;
    case 'number':
      return options.decimalComma ? JsonBytesKind.Integer : JsonBytesKind.Number;
    case 'checkbox':
      return JsonBytesKind.Checkbox;
    case 'floating_timestamp':
      return options.dateOrder === 'dmy' ? JsonBytesKind.FloatingDmy : JsonBytesKind.FloatingMdy;
    case 'point':
      return JsonBytesKind.Point;
    case 'url':
      return JsonBytesKind.Url;
    default:
      return JsonBytesKind.None;
  }
}

/** The writer of `kind` (a `JsonBytesWriter`); -1 for `None`. One call site for every kind: each call is direct. */
export function writeJsonBytes(kind: JsonBytesKind, b: Buffer, s: number, e: number, out: Buffer, o: number): number {
  switch (kind) {
    case JsonBytesKind.Text:
      return writeText(b, s, e, out, o);
    case JsonBytesKind.Number:
      return writeNumber(b, s, e, out, o);
    case JsonBytesKind.Integer:
      return writeInteger(b, s, e, out, o);
    case JsonBytesKind.Checkbox:
      return writeCheckbox(b, s, e, out, o);
    case JsonBytesKind.FloatingMdy:
      return writeFloating(b, s, e, out, o, false);
    case JsonBytesKind.FloatingDmy:
      return writeFloating(b, s, e, out, o, true);
    case JsonBytesKind.Point:
      return writePoint(b, s, e, out, o);
    case JsonBytesKind.Url:
      return writeUrl(b, s, e, out, o);
    default:
      return -1;
  }
}

/** The byte writer of a column type, or undefined for types without one. */
export function jsonBytesWriter(type: ColumnType, options: ConvertOptions): JsonBytesWriter | undefined {
  const kind = jsonBytesKind(type, options);
  return kind === JsonBytesKind.None ? undefined : (b, s, e, out, o) => writeJsonBytes(kind, b, s, e, out, o);
}
