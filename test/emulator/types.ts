/**
 * Column data types of the emulator: legacy `dataTypeName`s (as in `/api/views`), their SoQL names
 * (as in `X-SODA2-Types`), and conversion between wire forms (JSON, CSV text) and stored values.
 *
 * Stored values: text → string; number/money/percent → canonical decimal string; double → number;
 * calendar_date → `YYYY-MM-DDTHH:MM:SS.sss`; date → `YYYY-MM-DDTHH:MM:SS.sssZ`; checkbox → boolean;
 * url → `{url?, description?}`; point → GeoJSON `{type: 'Point', coordinates: [lon, lat]}`.
 *
 * Over 400 lines: every type's conversions in one place, the fast paths for the common date and point shapes next to
 * the general forms whose answers they must give.
 */

export type DataTypeName = 'text' | 'number' | 'money' | 'percent' | 'double' | 'calendar_date' | 'date' | 'checkbox' | 'url' | 'point';

export type SoqlType = 'text' | 'number' | 'double' | 'floating_timestamp' | 'fixed_timestamp' | 'boolean' | 'url' | 'point' | 'row_identifier' | 'row_version';

export interface UrlValue {
  url?: string;
  description?: string;
}
export interface PointValue {
  type: 'Point';
  coordinates: [number, number];
}
export type StoredValue = string | number | boolean | UrlValue | PointValue;

const SOQL_OF: Record<DataTypeName, SoqlType> = {
  text: 'text',
  number: 'number',
  money: 'number',
  percent: 'number',
  double: 'double',
  calendar_date: 'floating_timestamp',
  date: 'fixed_timestamp',
  checkbox: 'boolean',
  url: 'url',
  point: 'point',
};

/** Display names as the catalog's `columns_datatype` shows them. */
const DISPLAY_OF: Record<DataTypeName, string> = {
  text: 'Text',
  number: 'Number',
  money: 'Money',
  percent: 'Percent',
  double: 'Double',
  calendar_date: 'Calendar date',
  date: 'Date',
  checkbox: 'Checkbox',
  url: 'URL',
  point: 'Point',
};

export function soqlTypeOf(t: DataTypeName): SoqlType {
  return SOQL_OF[t];
}
export function displayTypeOf(t: DataTypeName): string {
  return DISPLAY_OF[t];
}

/**
 * Accepts a legacy name or a SoQL name (`floating_timestamp`, `boolean`, `fixed_timestamp`) and returns the
 * legacy `dataTypeName`, or undefined when unknown.
 */
export function normalizeDataType(name: string): DataTypeName | undefined {
  const n = name.trim().toLowerCase();
  switch (n) {
    case 'text':
    case 'number':
    case 'money':
    case 'percent':
    case 'double':
    case 'calendar_date':
    case 'date':
    case 'checkbox':
    case 'url':
    case 'point':
      return n;
    case 'floating_timestamp':
      return 'calendar_date';
    case 'fixed_timestamp':
      return 'date';
    case 'boolean':
      return 'checkbox';
    default:
      return undefined;
  }
}

/** Returned by the converters when a value does not fit its column. */
export const MALTYPED: unique symbol = Symbol('maltyped');
export type Converted = StoredValue | null | typeof MALTYPED;

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Canonical decimal text of a number value (no leading `+`, no superfluous zeros). */
export function canonicalNumber(text: string): string | undefined {
  const t = text.trim();
  // Most numbers are canonical already: no plus sign, leading or trailing zeros, or exponent.
  if (CANONICAL.test(t)) return t === '-0' ? '0' : t;
  if (!DECIMAL.test(t)) return undefined;
  if (/[eE]/.test(t)) {
    const n = Number(t);
    return Number.isFinite(n) ? formatNumber(n) : undefined;
  }
  let s = t;
  let sign = '';
  if (s[0] === '+' || s[0] === '-') {
    sign = s[0] === '-' ? '-' : '';
    s = s.slice(1);
  }
  let [int = '', frac = ''] = s.split('.');
  int = int.replace(/^0+(?=\d)/, '');
  if (int === '') int = '0';
  frac = frac.replace(/0+$/, '');
  const out = frac ? `${int}.${frac}` : int;
  return out === '0' ? '0' : sign + out;
}

/** Plain-digit rendering of a JS number (scientific notation only for extreme magnitudes). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const abs = Math.abs(n);
  if (abs >= 1e-20 && abs < 1e21) return canonicalNumber(n.toFixed(20)) ?? s;
  return s;
}

const CANONICAL = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
/** `00` … `99`: two-digit fields without `padStart`. */
const TWO = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

const ISO_FLOATING = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))? ?([AaPp][Mm])?)?$/;

function validTs(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  return d <= 28 || d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

function buildTs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): string | undefined {
  if (!validTs(y, mo, d, h, mi, s)) return undefined;
  const year = y >= 1000 && y <= 9999 ? String(y) : pad(y, 4);
  return `${year}-${TWO[mo]}-${TWO[d]}T${TWO[h]}:${TWO[mi]}:${TWO[s]}.${pad(ms, 3)}`;
}

/** The digit at `i` of `t` (0-9), or -1. */
function digit(t: string, i: number): number {
  const c = t.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** `d` or `dd` at `i`: [value, index after], or undefined. */
function digits12(t: string, i: number): [number, number] | undefined {
  const a = digit(t, i);
  if (a < 0) return undefined;
  const b = digit(t, i + 1);
  return b < 0 ? [a, i + 1] : [a * 10 + b, i + 2];
}

/**
 * The common shapes of a floating timestamp read without a regular expression (the same answers as the general
 * path below): `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS` and `M/D/YYYY[ h:mm[:ss]]`; `null` when `t` has another shape.
 */
function fastFloating(t: string): string | undefined | null {
  const n = t.length;
  if (n >= 10 && t.charCodeAt(4) === 45 && t.charCodeAt(7) === 45) {
    if (n !== 10 && n !== 19) return null;
    const y0 = digit(t, 0),
      y1 = digit(t, 1),
      y2 = digit(t, 2),
      y3 = digit(t, 3);
    const m0 = digit(t, 5),
      m1 = digit(t, 6),
      d0 = digit(t, 8),
      d1 = digit(t, 9);
    if ((y0 | y1 | y2 | y3 | m0 | m1 | d0 | d1) < 0) return null;
    const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
    if (n === 10) return validTs(y, m0 * 10 + m1, d0 * 10 + d1, 0, 0, 0) ? `${t}T00:00:00.000` : undefined;
    const sep = t.charCodeAt(10);
    if ((sep !== 84 && sep !== 32) || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return null;
    const h0 = digit(t, 11),
      h1 = digit(t, 12),
      i0 = digit(t, 14),
      i1 = digit(t, 15),
      s0 = digit(t, 17),
      s1 = digit(t, 18);
    if ((h0 | h1 | i0 | i1 | s0 | s1) < 0) return null;
    if (!validTs(y, m0 * 10 + m1, d0 * 10 + d1, h0 * 10 + h1, i0 * 10 + i1, s0 * 10 + s1)) return undefined;
    return `${t.slice(0, 10)}T${t.slice(11)}.000`;
  }
  // M/D/YYYY[ h:mm[:ss]] (no AM/PM: the general path reads those)
  const mo = digits12(t, 0);
  if (!mo || t.charCodeAt(mo[1]) !== 47) return null;
  const d = digits12(t, mo[1] + 1);
  if (!d || t.charCodeAt(d[1]) !== 47) return null;
  let i = d[1] + 1;
  const y0 = digit(t, i),
    y1 = digit(t, i + 1),
    y2 = digit(t, i + 2),
    y3 = digit(t, i + 3);
  if ((y0 | y1 | y2 | y3) < 0) return null;
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  i += 4;
  if (i === n) return buildTs(y, mo[0], d[0], 0, 0, 0, 0);
  if (t.charCodeAt(i) !== 32) return null;
  const h = digits12(t, i + 1);
  if (!h || t.charCodeAt(h[1]) !== 58) return null;
  i = h[1] + 1;
  const i0 = digit(t, i),
    i1 = digit(t, i + 1);
  if ((i0 | i1) < 0) return null;
  i += 2;
  let s = 0;
  if (t.charCodeAt(i) === 58) {
    const s0 = digit(t, i + 1),
      s1 = digit(t, i + 2);
    if ((s0 | s1) < 0) return null;
    s = s0 * 10 + s1;
    i += 3;
  }
  if (i !== n) return null;
  return buildTs(y, mo[0], d[0], h[0], i0 * 10 + i1, s, 0);
}

/**
 * Parses a floating timestamp: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` (space also accepted) or, as CSV
 * upserts allow, `MM/DD/YYYY[ hh:mm[:ss][ AM|PM]]`. A zone suffix is rejected (floating = no zone).
 */
export function parseFloatingTimestamp(text: string): string | undefined {
  const t = text.trim();
  const fast = fastFloating(t);
  if (fast !== null) return fast;
  let m = ISO_FLOATING.exec(t);
  if (m) {
    const ms = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
    return buildTs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms);
  }
  m = US_DATE.exec(t);
  if (m) {
    let h = Number(m[4] ?? 0);
    const ap = m[7]?.toLowerCase();
    if (ap) {
      if (h < 1 || h > 12) return undefined;
      if (ap === 'pm' && h !== 12) h += 12;
      if (ap === 'am' && h === 12) h = 0;
    }
    return buildTs(Number(m[3]), Number(m[1]), Number(m[2]), h, Number(m[5] ?? 0), Number(m[6] ?? 0), 0);
  }
  return undefined;
}

/** Parses a fixed timestamp (ISO-8601 with optional zone; no zone = UTC) into `...sssZ`. */
export function parseFixedTimestamp(text: string): string | undefined {
  const t = text.trim();
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (!m) return undefined;
  let zone = m[3] ?? 'Z';
  if (zone !== 'Z' && !zone.includes(':')) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString();
}

/** `-?\d+(\.\d+)?` from `i` to `end`: whether the text there is a plain decimal. */
function plainDecimal(t: string, i: number, end: number): boolean {
  if (t.charCodeAt(i) === 45) i++;
  const start = i;
  while (i < end && digit(t, i) >= 0) i++;
  if (i === start) return false;
  if (i === end) return true;
  if (t.charCodeAt(i) !== 46) return false;
  const frac = ++i;
  while (i < end && digit(t, i) >= 0) i++;
  return i === end && i > frac;
}

function parseWktPoint(text: string): PointValue | undefined {
  // The common shape, `POINT (lon lat)` with plain decimals, without a regular expression; else the general path.
  if (text.startsWith('POINT (') && text.charCodeAt(text.length - 1) === 41) {
    const sp = text.indexOf(' ', 7);
    const end = text.length - 1;
    if (sp > 7 && plainDecimal(text, 7, sp) && plainDecimal(text, sp + 1, end)) {
      return makePoint(Number(text.slice(7, sp)), Number(text.slice(sp + 1, end)));
    }
  }
  const m = /^\s*POINT\s*\(\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s+(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*\)\s*$/i.exec(text);
  if (!m) return undefined;
  return makePoint(Number(m[1]), Number(m[2]));
}

function makePoint(lon: number, lat: number): PointValue | undefined {
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) return undefined;
  return { type: 'Point', coordinates: [lon, lat] };
}

function pointFromJson(v: unknown): PointValue | undefined {
  if (typeof v === 'string') return parseWktPoint(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (o.type === 'Point' && Array.isArray(o.coordinates) && o.coordinates.length === 2) {
      const [lon, lat] = o.coordinates as unknown[];
      if (typeof lon === 'number' && typeof lat === 'number') return makePoint(lon, lat);
    }
  }
  return undefined;
}

function urlFromText(text: string): UrlValue | null {
  const t = text.trim();
  if (t === '') return null;
  if (t.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(t);
      const u = urlFromJsonObject(parsed);
      if (u) return u;
    } catch {
      /* fall through: treat as a bare URL */
    }
  }
  const labelled = /^(.*\S)\s+\((\S+)\)$/.exec(t);
  if (labelled?.[1] && labelled[2] && /^[a-z][a-z0-9+.-]*:/i.test(labelled[2])) {
    return { url: labelled[2], description: labelled[1] };
  }
  return { url: t };
}

function urlFromJsonObject(v: unknown): UrlValue | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const out: UrlValue = {};
  if (typeof o.url === 'string') out.url = o.url;
  if (typeof o.description === 'string') out.description = o.description;
  return out.url === undefined && out.description === undefined ? undefined : out;
}

/** Converts a JSON request value to the stored form of a column of type `t`. */
export function fromJson(t: DataTypeName, v: unknown): Converted {
  if (v === null || v === undefined) return null;
  switch (t) {
    case 'text':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return formatNumber(v);
      return MALTYPED;
    case 'number':
    case 'money':
    case 'percent':
      if (typeof v === 'number') return Number.isFinite(v) ? formatNumber(v) : MALTYPED;
      if (typeof v === 'string') return v.trim() === '' ? null : (canonicalNumber(v) ?? MALTYPED);
      return MALTYPED;
    case 'double':
      if (typeof v === 'number') return v;
      if (typeof v === 'string') {
        const n = Number(v);
        return v.trim() !== '' && !Number.isNaN(n) ? n : MALTYPED;
      }
      return MALTYPED;
    case 'calendar_date':
      return typeof v === 'string' ? (v.trim() === '' ? null : (parseFloatingTimestamp(v) ?? MALTYPED)) : MALTYPED;
    case 'date':
      return typeof v === 'string' ? (v.trim() === '' ? null : (parseFixedTimestamp(v) ?? MALTYPED)) : MALTYPED;
    case 'checkbox':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') return parseBool(v) ?? MALTYPED;
      return MALTYPED;
    case 'url':
      // soda-fountain's JSON reader turns anything that is not a url object into null without an error;
      // a string is read as a bare URL (SoQLUrl text form).
      if (typeof v === 'string') return urlFromText(v);
      return urlFromJsonObject(v) ?? null;
    case 'point':
      return pointFromJson(v) ?? MALTYPED;
  }
}

function parseBool(s: string): boolean | undefined {
  switch (s.trim().toLowerCase()) {
    case 'true':
    case '1':
    case 'yes':
    case 'y':
      return true;
    case 'false':
    case '0':
    case 'no':
    case 'n':
      return false;
    default:
      return undefined;
  }
}

/** Converts a CSV cell (text; empty = null) to the stored form of a column of type `t`. */
export function fromCsv(t: DataTypeName, text: string): Converted {
  if (text === '') return null;
  switch (t) {
    case 'text':
      return text;
    case 'number':
    case 'money':
    case 'percent':
      return canonicalNumber(text) ?? MALTYPED;
    case 'double': {
      const n = Number(text);
      return text.trim() !== '' && !Number.isNaN(n) ? n : MALTYPED;
    }
    case 'calendar_date':
      return parseFloatingTimestamp(text) ?? MALTYPED;
    case 'date':
      return parseFixedTimestamp(text) ?? MALTYPED;
    case 'checkbox':
      return parseBool(text) ?? MALTYPED;
    case 'url':
      return urlFromText(text);
    case 'point': {
      const wkt = parseWktPoint(text);
      if (wkt) return wkt;
      // Location text form: "(lat, lon)" or "address (lat, lon)".
      const m = /\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)\s*$/.exec(text);
      if (m) return makePoint(Number(m[2]), Number(m[1])) ?? MALTYPED;
      return MALTYPED;
    }
  }
}

/** JSON output form of a stored value (numbers as strings, doubles as numbers, the rest as stored). */
export function toJsonValue(t: SoqlType, v: unknown): unknown {
  if (t === 'double' && typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

/** CSV cell text of a stored value (null → undefined, written as an empty unquoted cell). */
export function toCsvText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const o = v as Record<string, unknown>;
  if (o.type === 'Point' && Array.isArray(o.coordinates)) {
    const [lon, lat] = o.coordinates as number[];
    return `POINT (${lon} ${lat})`;
  }
  if ('url' in o || 'description' in o) {
    const u = o as UrlValue;
    return u.description && u.url ? `${u.description} (${u.url})` : (u.url ?? u.description ?? '');
  }
  return JSON.stringify(v);
}

/** A printable form of a rejected value for `soda.column.maltyped` messages. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
