// Value parsers shared by the converters, the checkers and inference: each notation is parsed in one place.
import { daysInMonth } from './scan';

// ---------------------------------------------------------------------------------------------------------------
// Value parsers. Every regular expression is anchored and free of nested quantifiers (no catastrophic backtracking).

const NUMBER_DOT = /^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)?(?:\.\d*)?(?:[eE][+-]?\d+)?$/;
const NUMBER_COMMA = /^[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+)?(?:,\d+)?(?:[eE][+-]?\d+)?$/;
const LOOKS_DECIMAL_COMMA = /^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+$/;
// A digit before any exponent: `e5` or `.e5` is not a number.
const HAS_DIGIT = /^[^eE]*\d/;

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
export const BOOLEANS: Record<string, boolean | undefined> = Object.assign(Object.create(null) as Record<string, boolean | undefined>, {
  true: true,
  false: false,
  yes: true,
  no: false,
  y: true,
  n: false,
  t: true,
  f: false,
  '1': true,
  '0': false,
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
