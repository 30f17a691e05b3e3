// Socrata column types, cell conversion to the JSON the SODA API expects, and type inference.
//
// Conversion rules (JSON encodings from the SODA reference, "JSON encodings per type"):
//  - empty cell (after trimming, except for text where only "" counts) → null, for every type;
//  - text: the cell unchanged (formula-like text such as `=HYPERLINK(...)` included);
//  - number: a string of plain digits: `1,234.50` → "1234.50", `+5` → "5", `.5` → "0.5", `1.` → "1"; thousands separators must
//    be groups of three; `1.234,5` is rejected as ambiguous unless `decimalComma` is on (then `.` groups thousands and
//    `,` is the decimal mark); currency symbols and `%` are rejected;
//  - double: a JSON number;
//  - checkbox: true/false from true/false, yes/no, y/n, t/f, 1/0 (any case);
//  - floating_timestamp (legacy calendar_date): "YYYY-MM-DDTHH:MM:SS.sss", no zone; accepted inputs: ISO 8601 date or
//    date-time (`T` or space), and `MM/DD/YYYY` or `DD/MM/YYYY` (also with `-` or `.`) with an optional
//    `HH:MM[:SS]` and AM/PM. Impossible dates (2023-02-30) are rejected. A value with a zone is rejected;
//  - fixed_timestamp (legacy date): ISO 8601 with `Z` or an offset, converted to UTC "…sssZ";
//  - point: GeoJSON `{"type":"Point","coordinates":[lon,lat]}` from WKT `POINT (lon lat)` or a `(lat, lon)` pair;
//    latitude must be within ±90 and longitude within ±180;
//  - location (legacy): `{"latitude":"…","longitude":"…"}` from the same two notations;
//  - url: `{"url": "…"}` from a bare http(s)/ftp URL, or `{"url","description"}` from `Label (http://…)`;
//  - email: the address as a string;
//  - multipoint/line/multiline/polygon/multipolygon: a WKT string of that type, passed through (the API accepts WKT).
//
// Inference (the same parsers decide): a column gets the first type, in this order, that every non-empty value fits:
// checkbox, number, floating_timestamp, fixed_timestamp, point, url, email, text. Choices:
//  - a column of only 0/1 is a *number* (counts and flags look alike; a checkbox target still accepts 1/0);
//  - dates: the day/month order is chosen per column from the values: any first part > 12 means DD/MM, any second
//    part > 12 means MM/DD; if both stay possible the column is MM/DD (`ambiguousDateOrder` is set), and if both are
//    contradicted the column is text. ISO dates may mix with the chosen slash order;
//  - a column where some timestamps have a zone and some do not is text;
//  - an empty column (all cells empty) is text with `nullShare` 1.

export type ColumnType =
  | 'text'
  | 'number'
  | 'double'
  | 'checkbox'
  | 'floating_timestamp'
  | 'fixed_timestamp'
  | 'point'
  | 'location'
  | 'url'
  | 'email'
  | 'multipoint'
  | 'line'
  | 'multiline'
  | 'polygon'
  | 'multipolygon'
  | 'unsupported';

const LEGACY_TYPES: Record<string, ColumnType> = {
  text: 'text',
  html: 'text',
  phone: 'text',
  drop_down_list: 'text',
  number: 'number',
  money: 'number',
  percent: 'number',
  stars: 'number',
  double: 'double',
  checkbox: 'checkbox',
  boolean: 'checkbox',
  calendar_date: 'floating_timestamp',
  floating_timestamp: 'floating_timestamp',
  date: 'fixed_timestamp',
  fixed_timestamp: 'fixed_timestamp',
  point: 'point',
  location: 'location',
  url: 'url',
  email: 'email',
  multipoint: 'multipoint',
  line: 'line',
  multiline: 'multiline',
  polygon: 'polygon',
  multipolygon: 'multipolygon',
};

/** Maps a `dataTypeName` (legacy `/api/views` names or SoQL names) to the type used for conversion. */
export function columnTypeOf(dataTypeName: string): ColumnType {
  return LEGACY_TYPES[dataTypeName.toLowerCase()] ?? 'unsupported';
}

export interface ConvertOptions {
  /** Read `1.234,5` as 1234.5 (and `1,5` as 1.5). Default false. */
  decimalComma?: boolean;
  /** Order of slash dates; default `mdy` (US). Inference sets it per column. */
  dateOrder?: 'mdy' | 'dmy';
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type ConvertResult = { ok: true; value: JsonValue } | { ok: false; message: string };

export interface ColumnConverter {
  readonly type: ColumnType;
  convert(raw: string): ConvertResult;
}

const NULL_RESULT: ConvertResult = Object.freeze({ ok: true, value: null });
const TRUE_RESULT: ConvertResult = Object.freeze({ ok: true, value: true });
const FALSE_RESULT: ConvertResult = Object.freeze({ ok: true, value: false });

const NUL_MESSAGE = 'contains a NUL character (U+0000), which cannot be stored; is the file binary, or UTF-16 without a byte order mark?';

function fail(message: string): ConvertResult {
  return { ok: false, message };
}

// ---------------------------------------------------------------------------------------------------------------
// Value parsers. Every regular expression is anchored and free of nested quantifiers (no catastrophic backtracking).

const NUMBER_DOT = /^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)?(?:\.\d*)?(?:[eE][+-]?\d+)?$/;
const NUMBER_COMMA = /^[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+)?(?:,\d+)?(?:[eE][+-]?\d+)?$/;
const LOOKS_DECIMAL_COMMA = /^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+$/;
const HAS_DIGIT = /\d/;

/** Returns the number as the API's decimal string, or an error message. */
export function parseNumber(text: string, decimalComma = false): string | { error: string } {
  const s = text.trim();
  if (decimalComma) {
    if (!NUMBER_COMMA.test(s) || !HAS_DIGIT.test(s)) return { error: numberError(s) };
    return tidyNumber(s.replace(/\./g, '').replace(',', '.'));
  }
  if (NUMBER_DOT.test(s) && HAS_DIGIT.test(s)) return tidyNumber(s.includes(',') ? s.replace(/,/g, '') : s);
  if (LOOKS_DECIMAL_COMMA.test(s)) return { error: `"${s}" looks like a number with a decimal comma; turn on the decimal-comma option to read it` };
  return { error: numberError(s) };
}

function numberError(s: string): string {
  if (/[$€£¥%]/.test(s)) return `"${s}" is not a plain number (currency symbols and % are not allowed)`;
  return `"${s}" is not a number`;
}

function tidyNumber(s: string): string {
  let out = s[0] === '+' ? s.slice(1) : s;
  if (out[0] === '.') out = `0${out}`;
  else if (out[0] === '-' && out[1] === '.') out = `-0${out.slice(1)}`;
  const e = out.search(/[eE]/);
  if (e > 0 && out[e - 1] === '.') out = out.slice(0, e - 1) + out.slice(e);
  else if (out.endsWith('.')) out = out.slice(0, -1);
  return out;
}

// Without a prototype, so that `constructor` or `toString` are not taken for checkbox values.
const BOOLEANS: Record<string, boolean | undefined> = Object.assign(Object.create(null) as Record<string, boolean | undefined>, {
  true: true, false: false, yes: true, no: false, y: true, n: false, t: true, f: false, '1': true, '0': false,
});

export function parseBoolean(text: string): boolean | undefined {
  return BOOLEANS[text.trim().toLowerCase()];
}

export interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millis: number;
  /** Minutes east of UTC when the value carries a zone. */
  offset?: number;
}

const ISO_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const SLASH_DATE = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:\s*([AP])\.?M\.?)?)?$/i;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function checkParts(p: DateParts, text: string): DateParts | { error: string } {
  if (p.month < 1 || p.month > 12) return { error: `"${text}" has month ${p.month}, which does not exist` };
  if (p.day < 1 || p.day > daysInMonth(p.year, p.month)) {
    return { error: `"${text}" is not a real date (${p.year}-${pad(p.month, 2)} has no day ${p.day})` };
  }
  if (p.hour > 23 || p.minute > 59 || p.second > 59) return { error: `"${text}" has an impossible time of day` };
  return p;
}

function millisOf(frac: string | undefined): number {
  return frac ? Number((frac + '00').slice(0, 3)) : 0;
}

/** Parses an ISO 8601 date or date-time (optionally with `Z` or an offset). */
export function parseIsoDate(text: string): DateParts | { error: string } | undefined {
  const m = ISO_DATE.exec(text.trim());
  if (!m) return undefined;
  if (m[8] && m[4] === undefined) return { error: `"${text}" has a time zone but no time` };
  let offset: number | undefined;
  if (m[8]) {
    if (m[8] === 'Z' || m[8] === 'z') offset = 0;
    else {
      const digits = m[8].replace(':', '');
      const sign = digits[0] === '-' ? -1 : 1;
      offset = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || '0'));
    }
  }
  return checkParts(
    { year: +m[1], month: +m[2], day: +m[3], hour: m[4] ? +m[4] : 0, minute: m[5] ? +m[5] : 0, second: m[6] ? +m[6] : 0, millis: millisOf(m[7]), offset },
    text,
  );
}

/** Parses `A/B/YYYY [HH:MM[:SS]] [AM|PM]`; returns the two leading numbers so inference can pick the order. */
export function parseSlashDate(text: string): { a: number; b: number; year: number; time: [number, number, number, number] } | { error: string } | undefined {
  const m = SLASH_DATE.exec(text.trim());
  if (!m) return undefined;
  let hour = m[5] ? +m[5] : 0;
  if (m[9]) {
    if (hour < 1 || hour > 12) return { error: `"${text}" has hour ${hour} with AM/PM` };
    const pm = m[9].toUpperCase() === 'P';
    hour = (hour % 12) + (pm ? 12 : 0);
  }
  return { a: +m[1], b: +m[3], year: +m[4], time: [hour, m[6] ? +m[6] : 0, m[7] ? +m[7] : 0, millisOf(m[8])] };
}

/** Parses a date in any accepted notation with the given slash order. */
export function parseDate(text: string, order: 'mdy' | 'dmy' = 'mdy'): DateParts | { error: string } {
  const iso = parseIsoDate(text);
  if (iso) return iso;
  const slash = parseSlashDate(text);
  if (!slash) return { error: `"${text}" is not a date (expected YYYY-MM-DD[THH:MM:SS] or ${order === 'mdy' ? 'MM/DD/YYYY' : 'DD/MM/YYYY'})` };
  if ('error' in slash) return slash;
  const [month, day] = order === 'mdy' ? [slash.a, slash.b] : [slash.b, slash.a];
  const [hour, minute, second, millis] = slash.time;
  return checkParts({ year: slash.year, month, day, hour, minute, second, millis }, text);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function formatFloating(p: DateParts): string {
  return `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}T${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}.${pad(p.millis, 3)}`;
}

export function formatFixed(p: DateParts): string {
  const utc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.millis) - (p.offset ?? 0) * 60_000;
  return new Date(utc).toISOString();
}

const NUM = '([+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+))';
const WKT_POINT = new RegExp(`^POINT\\s*\\(\\s*${NUM}\\s+${NUM}\\s*\\)$`, 'i');
const LAT_LON_PAIR = new RegExp(`^\\(\\s*${NUM}\\s*,\\s*${NUM}\\s*\\)$`);

/** Parses `POINT (lon lat)` or `(lat, lon)`; checks the ranges. */
export function parsePoint(text: string): { lon: number; lat: number } | { error: string } {
  const s = text.trim();
  let lon: number;
  let lat: number;
  let m = WKT_POINT.exec(s);
  if (m) {
    lon = Number(m[1]);
    lat = Number(m[2]);
  } else if ((m = LAT_LON_PAIR.exec(s))) {
    lat = Number(m[1]);
    lon = Number(m[2]);
  } else {
    return { error: `"${s}" is not a point (expected POINT (longitude latitude) or (latitude, longitude))` };
  }
  if (lat < -90 || lat > 90) return { error: `"${s}" has latitude ${lat}, outside -90..90` };
  if (lon < -180 || lon > 180) return { error: `"${s}" has longitude ${lon}, outside -180..180` };
  return { lon, lat };
}

const BARE_URL = /^(?:https?|ftp):\/\/[^\s/$.?#][^\s]*$/i;
const LABELLED_URL = /^([^()]*?)\s*\(((?:https?|ftp):\/\/[^\s()]+)\)$/i;

export function parseUrl(text: string): { url: string; description?: string } | undefined {
  const s = text.trim();
  if (BARE_URL.test(s)) return { url: s };
  const m = s.length < 4096 ? LABELLED_URL.exec(s) : null;
  if (m) return m[1] ? { url: m[2], description: m[1] } : { url: m[2] };
  return undefined;
}

const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

export function isEmail(text: string): boolean {
  const s = text.trim();
  return s.length <= 320 && EMAIL.test(s);
}

// ---------------------------------------------------------------------------------------------------------------
// Converters.

function isBlank(raw: string): boolean {
  if (raw.length === 0) return true;
  const c = raw.charCodeAt(0);
  return (c === 32 || c === 9) && raw.trim().length === 0;
}

/** Builds the converter for one column; create it once per column and call `convert` per cell. */
export function createConverter(type: ColumnType, options: ConvertOptions = {}): ColumnConverter {
  const decimalComma = options.decimalComma ?? false;
  const order = options.dateOrder ?? 'mdy';
  const make = (convert: (raw: string) => ConvertResult): ColumnConverter => ({ type, convert });
  switch (type) {
    case 'text':
      // A NUL character cannot be stored by Socrata (PostgreSQL text); it usually means a binary or UTF-16 file.
      return make((raw) => (raw.length === 0 ? NULL_RESULT : raw.includes('\0') ? fail(NUL_MESSAGE) : { ok: true, value: raw }));
    case 'number':
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        const n = parseNumber(raw, decimalComma);
        return typeof n === 'string' ? { ok: true, value: n } : fail(n.error);
      });
    case 'double':
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        const s = raw.trim();
        if (/^(NaN|[+-]?Infinity)$/.test(s)) return { ok: true, value: s };
        const n = parseNumber(s, decimalComma);
        return typeof n === 'string' ? { ok: true, value: Number(n) } : fail(n.error);
      });
    case 'checkbox':
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        const b = parseBoolean(raw);
        if (b === undefined) return fail(`"${raw.trim()}" is not a checkbox value (use true/false, yes/no, y/n or 1/0)`);
        return b ? TRUE_RESULT : FALSE_RESULT;
      });
    case 'floating_timestamp':
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        const p = parseDate(raw, order);
        if ('error' in p) return fail(p.error);
        if (p.offset !== undefined) return fail(`"${raw.trim()}" has a time zone, but the column is a floating timestamp (calendar date) without zone`);
        return { ok: true, value: formatFloating(p) };
      });
    case 'fixed_timestamp':
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        const p = parseDate(raw, order);
        if ('error' in p) return fail(p.error);
        if (p.offset === undefined) return fail(`"${raw.trim()}" has no time zone; the column is a fixed timestamp and needs Z or an offset such as -08:00`);
        return { ok: true, value: formatFixed(p) };
      });
    case 'point':
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        const p = parsePoint(raw);
        return 'error' in p ? fail(p.error) : { ok: true, value: { type: 'Point', coordinates: [p.lon, p.lat] } };
      });
    case 'location':
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        const p = parsePoint(raw);
        return 'error' in p ? fail(p.error) : { ok: true, value: { latitude: String(p.lat), longitude: String(p.lon) } };
      });
    case 'url':
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        const u = parseUrl(raw);
        return u ? { ok: true, value: u } : fail(`"${raw.trim()}" is not a URL (expected http://…, https://… or "Label (https://…)")`);
      });
    case 'email':
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        return isEmail(raw) ? { ok: true, value: raw.trim() } : fail(`"${raw.trim()}" is not an email address`);
      });
    case 'multipoint':
    case 'line':
    case 'multiline':
    case 'polygon':
    case 'multipolygon': {
      const keyword = type === 'line' ? 'LINESTRING' : type === 'multiline' ? 'MULTILINESTRING' : type.toUpperCase();
      return make((raw) => {
        if (isBlank(raw)) return NULL_RESULT;
        const s = raw.trim();
        const head = s.slice(0, keyword.length + 1).toUpperCase();
        return head.startsWith(keyword) && !/[A-Z]/.test(head[keyword.length] ?? '') && s.endsWith(')')
          ? { ok: true, value: s }
          : fail(`"${s}" is not a WKT ${keyword} geometry`);
      });
    }
    case 'unsupported':
      return make((raw) => (raw.length === 0 ? NULL_RESULT : fail('this column type cannot be filled from a CSV file')));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Allocation-free checks for validation.
//
// `createChecker(type, options)` answers, per cell, only *whether* `createConverter(type, options).convert(cell)`
// would give a value, a null or an error, without building the result. Common notations take a hand-written fast
// path (plain and grouped numbers, ISO and US slash dates, true/false words, `POINT (lon lat)`, bare http(s) URLs);
// anything the fast path does not recognise goes to `convert` itself, so the answer is always the converter's. The
// fast paths only ever accept cells that `convert` accepts (a property test compares the two); the message for a
// failing cell is built afterwards with `convert`.

export const CHECK_VALUE = 0;
export const CHECK_NULL = 1;
export const CHECK_INVALID = 2;
export type CheckResult = typeof CHECK_VALUE | typeof CHECK_NULL | typeof CHECK_INVALID;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * End index of a number starting at `i`: optional sign, digits (comma-grouped by three when `grouping`), then an
 * optional `.fraction` when `fraction`; at least one digit; no exponent. -1 when the text is not of that shape.
 */
function scanNumber(s: string, i: number, end: number, grouping: boolean, fraction = true): number {
  const sign = s.charCodeAt(i);
  if (sign === 43 || sign === 45) i++;
  const start = i;
  while (i < end && isDigit(s.charCodeAt(i))) i++;
  let digits = i - start;
  if (grouping && i < end && s.charCodeAt(i) === 44) {
    // 1-3 digits, then groups of exactly three.
    if (digits < 1 || digits > 3) return -1;
    while (i < end && s.charCodeAt(i) === 44) {
      if (i + 3 >= end) return -1;
      if (!isDigit(s.charCodeAt(i + 1)) || !isDigit(s.charCodeAt(i + 2)) || !isDigit(s.charCodeAt(i + 3))) return -1;
      i += 4;
      if (i < end && isDigit(s.charCodeAt(i))) return -1;
    }
  }
  if (fraction && i < end && s.charCodeAt(i) === 46) {
    i++;
    const f = i;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    digits += i - f;
  }
  return digits > 0 ? i : -1;
}

/** Reads 1..maxLen digits at `i`; returns the value, or -1. `pos.at` is moved past them. */
function readInt(s: string, pos: { at: number }, minLen: number, maxLen: number): number {
  let i = pos.at;
  let v = 0;
  const stop = Math.min(s.length, i + maxLen);
  while (i < stop) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) break;
    v = v * 10 + (c - 48);
    i++;
  }
  if (i - pos.at < minLen) return -1;
  pos.at = i;
  return v;
}

function validDay(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** `[ T]HH:MM[:SS]` at pos (24-hour, no fraction, no zone, no AM/PM) up to the end; true when valid and complete. */
function fastTime(s: string, pos: { at: number }): boolean {
  const h = readInt(s, pos, 1, 2);
  if (h < 0 || h > 23 || s.charCodeAt(pos.at) !== 58) return false;
  pos.at++;
  const mi = readInt(s, pos, 2, 2);
  if (mi < 0 || mi > 59) return false;
  if (pos.at === s.length) return true;
  if (s.charCodeAt(pos.at) !== 58) return false;
  pos.at++;
  const sec = readInt(s, pos, 2, 2);
  return sec >= 0 && sec <= 59 && pos.at === s.length;
}

/** Fast acceptance of a zone-less ISO (`YYYY-MM-DD[( |T)HH:MM[:SS]]`) or slash (`A/B/YYYY [HH:MM[:SS]]`) date. */
function fastFloatingDate(s: string, order: 'mdy' | 'dmy'): boolean {
  const len = s.length;
  if (len < 8 || len > 19) return false;
  const pos = { at: 0 };
  if (s.charCodeAt(4) === 45) {
    const year = readInt(s, pos, 4, 4);
    if (year < 0 || s.charCodeAt(pos.at) !== 45) return false;
    pos.at++;
    const month = readInt(s, pos, 1, 2);
    if (month < 0 || s.charCodeAt(pos.at) !== 45) return false;
    pos.at++;
    const day = readInt(s, pos, 1, 2);
    if (day < 0 || !validDay(year, month, day)) return false;
    if (pos.at === len) return true;
    const sep = s.charCodeAt(pos.at);
    if (sep !== 84 && sep !== 32) return false;
    pos.at++;
    return fastTime(s, pos);
  }
  const a = readInt(s, pos, 1, 2);
  const sep = s.charCodeAt(pos.at);
  if (a < 0 || (sep !== 47 && sep !== 45 && sep !== 46)) return false;
  pos.at++;
  const b = readInt(s, pos, 1, 2);
  if (b < 0 || s.charCodeAt(pos.at) !== sep) return false;
  pos.at++;
  const year = readInt(s, pos, 4, 4);
  if (year < 0 || isDigit(s.charCodeAt(pos.at))) return false;
  if (!(order === 'mdy' ? validDay(year, a, b) : validDay(year, b, a))) return false;
  if (pos.at === len) return true;
  const t = s.charCodeAt(pos.at);
  if (t !== 32 && t !== 84) return false;
  pos.at++;
  return fastTime(s, pos);
}

/** |integer part| of the decimal at [i, end) (digits, optional sign and fraction); -1 when it is not that shape. */
function coordinateMagnitude(s: string, i: number, end: number): number {
  const stop = scanNumber(s, i, end, false);
  if (stop !== end) return -1;
  let c = s.charCodeAt(i);
  if (c === 43 || c === 45) c = s.charCodeAt(++i);
  let v = 0;
  while (isDigit(c) && v < 1000) {
    v = v * 10 + (c - 48);
    c = s.charCodeAt(++i);
  }
  return v;
}

/** Fast acceptance of `POINT (lon lat)` written exactly so, with both coordinates clearly within range. */
function fastPoint(s: string): boolean {
  if (!s.startsWith('POINT (') || s.charCodeAt(s.length - 1) !== 41) return false;
  const space = s.indexOf(' ', 7);
  if (space < 0 || space !== s.lastIndexOf(' ')) return false;
  const lon = coordinateMagnitude(s, 7, space);
  const lat = coordinateMagnitude(s, space + 1, s.length - 1);
  return lon >= 0 && lon < 180 && lat >= 0 && lat < 90;
}

/** Fast acceptance of a bare `http://` or `https://` URL made only of printable ASCII without spaces. */
function fastUrl(s: string): boolean {
  const start = s.startsWith('https://') ? 8 : s.startsWith('http://') ? 7 : -1;
  if (start < 0 || start >= s.length) return false;
  const first = s.charCodeAt(start);
  if (first === 47 || first === 36 || first === 46 || first === 63 || first === 35) return false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

/** Builds the checker for one column: `check(cell)` → CHECK_VALUE | CHECK_NULL | CHECK_INVALID, as `convert` would. */
export function createChecker(type: ColumnType, options: ConvertOptions = {}): (raw: string) => CheckResult {
  const converter = createConverter(type, options);
  const slow = (raw: string): CheckResult => {
    const r = converter.convert(raw);
    return !r.ok ? CHECK_INVALID : r.value === null ? CHECK_NULL : CHECK_VALUE;
  };
  const decimalComma = options.decimalComma ?? false;
  const order = options.dateOrder ?? 'mdy';
  switch (type) {
    case 'text':
      return (raw) => (raw.length === 0 ? CHECK_NULL : raw.includes('\0') ? CHECK_INVALID : CHECK_VALUE);
    case 'number':
    case 'double':
      return (raw) => {
        const len = raw.length;
        // With decimal commas only plain integers take the fast path (`1.5` is not a number there, `1.500` is 1500).
        if (len > 0 && len < 64 && scanNumber(raw, 0, len, !decimalComma, !decimalComma) === len) return CHECK_VALUE;
        return slow(raw);
      };
    case 'checkbox':
      return (raw) => (BOOLEANS[raw] !== undefined ? CHECK_VALUE : slow(raw));
    case 'floating_timestamp':
      return (raw) => (fastFloatingDate(raw, order) ? CHECK_VALUE : slow(raw));
    case 'point':
      return (raw) => (fastPoint(raw) ? CHECK_VALUE : slow(raw));
    case 'url':
      return (raw) => (fastUrl(raw) ? CHECK_VALUE : slow(raw));
    default:
      return slow;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Inference.

export interface InferredColumn {
  type: ColumnType;
  /** Non-empty values seen. */
  values: number;
  /** Empty cells seen. */
  nulls: number;
  /** nulls / (values + nulls); 0 for no rows. */
  nullShare: number;
  /** For timestamp columns with slash dates: the chosen order. */
  dateOrder?: 'mdy' | 'dmy';
  /** Both orders fit every value seen (e.g. 03/04/2024 only); MM/DD was chosen. */
  ambiguousDateOrder?: boolean;
}

const C_CHECKBOX = 1;
const C_NUMBER = 2;
const C_DATE = 4;
const C_POINT = 8;
const C_URL = 16;
const C_EMAIL = 32;

/** Accumulates the values of one column; `result()` names the type. Memory is constant per column. */
export class TypeInferrer {
  private alive = C_CHECKBOX | C_NUMBER | C_DATE | C_POINT | C_URL | C_EMAIL;
  private values = 0;
  private nulls = 0;
  private canMdy = true;
  private canDmy = true;
  private sawSlash = false;
  private zoned = 0;
  private unzoned = 0;

  constructor(private readonly decimalComma = false) {}

  add(raw: string): void {
    if (isBlank(raw)) {
      this.nulls++;
      return;
    }
    this.values++;
    const alive = this.alive;
    if (alive === 0) return;
    if (alive & C_CHECKBOX) {
      const b = parseBoolean(raw);
      // 1/0 alone make a number column: only count words as checkbox evidence.
      if (b === undefined) this.alive &= ~C_CHECKBOX;
      else if (!this.words) {
        const t = raw.trim();
        if (t !== '1' && t !== '0') this.words = true;
      }
    }
    if (alive & C_NUMBER && typeof parseNumber(raw, this.decimalComma) !== 'string') this.alive &= ~C_NUMBER;
    if (alive & C_DATE) this.addDate(raw);
    if (alive & C_POINT && 'error' in parsePoint(raw)) this.alive &= ~C_POINT;
    if (alive & C_URL && !parseUrl(raw)) this.alive &= ~C_URL;
    if (alive & C_EMAIL && !isEmail(raw)) this.alive &= ~C_EMAIL;
  }

  private addDate(raw: string): void {
    const iso = parseIsoDate(raw);
    if (iso) {
      if ('error' in iso) this.alive &= ~C_DATE;
      else if (iso.offset === undefined) this.unzoned++;
      else this.zoned++;
      return;
    }
    const s = parseSlashDate(raw);
    if (!s || 'error' in s) {
      this.alive &= ~C_DATE;
      return;
    }
    this.sawSlash = true;
    this.unzoned++;
    const [h, mi, sec] = s.time;
    if (h > 23 || mi > 59 || sec > 59) this.alive &= ~C_DATE;
    if (this.canMdy && (s.a > 12 || s.a < 1 || s.b < 1 || s.b > daysInMonth(s.year, s.a))) this.canMdy = false;
    if (this.canDmy && (s.b > 12 || s.b < 1 || s.a < 1 || s.a > daysInMonth(s.year, s.b))) this.canDmy = false;
    if (!this.canMdy && !this.canDmy) this.alive &= ~C_DATE;
  }

  result(): InferredColumn {
    const total = this.values + this.nulls;
    const base = { values: this.values, nulls: this.nulls, nullShare: total ? this.nulls / total : 0 };
    const a = this.values === 0 ? 0 : this.alive;
    if (a & C_CHECKBOX && this.hasWords()) return { type: 'checkbox', ...base };
    if (a & C_NUMBER) return { type: 'number', ...base };
    if (a & C_DATE && !(this.zoned && this.unzoned)) {
      const type: ColumnType = this.zoned ? 'fixed_timestamp' : 'floating_timestamp';
      if (!this.sawSlash) return { type, ...base };
      const dateOrder = this.canMdy ? 'mdy' : 'dmy';
      return { type, ...base, dateOrder, ambiguousDateOrder: this.canMdy && this.canDmy };
    }
    if (a & C_POINT) return { type: 'point', ...base };
    if (a & C_URL) return { type: 'url', ...base };
    if (a & C_EMAIL) return { type: 'email', ...base };
    return { type: 'text', ...base };
  }

  /** Adds what `other` saw (another part of the same column, e.g. from a second thread). */
  merge(other: TypeInferrer): void {
    this.alive &= other.alive;
    this.values += other.values;
    this.nulls += other.nulls;
    this.canMdy &&= other.canMdy;
    this.canDmy &&= other.canDmy;
    this.sawSlash ||= other.sawSlash;
    this.zoned += other.zoned;
    this.unzoned += other.unzoned;
    this.words ||= other.words;
  }

  /** Rebuilds an inferrer from a structured clone of one (as posted by a worker thread). */
  static revive(state: unknown, decimalComma = false): TypeInferrer {
    return Object.assign(new TypeInferrer(decimalComma), state);
  }

  // Checkbox needs at least one word value: a column with only 1/0 (which also fit checkbox) is a number.
  private words = false;
  private hasWords(): boolean {
    return this.words;
  }
}

/** Infers the types of all columns of a set of rows (the head sample). */
export function inferColumns(header: readonly string[], rows: readonly { fields: readonly string[] }[], options: ConvertOptions = {}): InferredColumn[] {
  const inferrers = header.map(() => new TypeInferrer(options.decimalComma));
  for (const row of rows) {
    for (let c = 0; c < inferrers.length; c++) {
      inferrers[c].add(row.fields[c] ?? '');
    }
  }
  return inferrers.map((i) => i.result());
}
