// Allocation-free scanners for the common notations of cells, shared by the validation checkers (check.ts) and the
// JSON writers of the publish encoder (json.ts): each notation is recognised in one place. A scanner accepts only
// cells the converter (convert.ts) accepts with the same value; anything else is left to the converter. Results go to
// module-level scratch arrays (FLOATING, POINT), read right after a successful scan.

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function validDay(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * End index of a number starting at `i`: optional sign, digits (comma-grouped by three when `grouping`), then an
 * optional `.fraction` when `fraction`; at least one digit; no exponent. -1 when the text is not of that shape.
 */
export function scanNumber(s: string, i: number, end: number, grouping: boolean, fraction = true): number {
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

/** 1 or 2 digits at `at` (not 3), packed as `value * 64 + end` (no array per call), or -1. */
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

/** After a successful `scanFloating`: year, month, day, hour, minute, second, and 1 when the cell starts `YYYY-MM-DD`. */
export const FLOATING = new Int32Array(7);

/** `HH:MM[:SS]` (24-hour, nothing after) from `at` to the end, into FLOATING[3..5]. */
function scanTime(s: string, at: number): boolean {
  const h = shortInt(s, at);
  if (h < 0 || valueOf(h) > 23 || s.charCodeAt(endOf(h)) !== 58) return false;
  const mi = digitsAt(s, endOf(h) + 1, 2);
  if (mi < 0 || mi > 59) return false;
  let end = endOf(h) + 3;
  let sec = 0;
  if (end < s.length) {
    if (s.charCodeAt(end) !== 58) return false;
    sec = digitsAt(s, end + 1, 2);
    if (sec < 0 || sec > 59) return false;
    end += 3;
  }
  if (end !== s.length) return false;
  FLOATING[3] = valueOf(h);
  FLOATING[4] = mi;
  FLOATING[5] = sec;
  return true;
}

/** A zone-less `YYYY-M-D[( |T)HH:MM[:SS]]` or `A/B/YYYY [HH:MM[:SS]]` (also `-` or `.`) date, into FLOATING. */
export function scanFloating(s: string, order: 'mdy' | 'dmy'): boolean {
  const len = s.length;
  if (len < 8 || len > 19) return false;
  let year: number;
  let month: number;
  let day: number;
  let at: number;
  const iso = s.charCodeAt(4) === 45;
  if (iso) {
    year = digitsAt(s, 0, 4);
    if (year < 0) return false;
    const m = shortInt(s, 5);
    if (m < 0 || s.charCodeAt(endOf(m)) !== 45) return false;
    const d = shortInt(s, endOf(m) + 1);
    if (d < 0) return false;
    month = valueOf(m);
    day = valueOf(d);
    at = endOf(d);
  } else {
    const a = shortInt(s, 0);
    if (a < 0) return false;
    const sep = s.charCodeAt(endOf(a));
    if (sep !== 47 && sep !== 45 && sep !== 46) return false;
    const b = shortInt(s, endOf(a) + 1);
    if (b < 0 || s.charCodeAt(endOf(b)) !== sep) return false;
    year = digitsAt(s, endOf(b) + 1, 4);
    if (year < 0) return false;
    at = endOf(b) + 5;
    if (order === 'mdy') {
      month = valueOf(a);
      day = valueOf(b);
    } else {
      month = valueOf(b);
      day = valueOf(a);
    }
  }
  if (!validDay(year, month, day)) return false;
  FLOATING[0] = year;
  FLOATING[1] = month;
  FLOATING[2] = day;
  FLOATING[6] = iso && at === 10 && s.charCodeAt(7) === 45 ? 1 : 0;
  if (at === len) {
    FLOATING[3] = FLOATING[4] = FLOATING[5] = 0;
    return true;
  }
  const sep = s.charCodeAt(at);
  if (sep !== 32 && sep !== 84) return false;
  return scanTime(s, at + 1);
}

/**
 * After a successful `scanPoint`, per coordinate (longitude at 0, latitude at 6): negative (1/0), start and end of the
 * integer digits to write (leading zeros dropped), start and end of the fraction digits to write (trailing zeros
 * dropped), and 1 when the value is zero.
 */
export const POINT = new Int32Array(12);

/**
 * The decimal `-?\d+(\.\d+)?` at [start, end) whose shortest double text is the decimal itself: at most 15 significant
 * digits, and 0 or a magnitude of at least 1e-6 with at most 3 integer digits (no exponent). `limit`: the largest
 * magnitude accepted (a coordinate's range).
 */
function scanCoordinate(s: string, start: number, end: number, limit: number, k: number): boolean {
  let i = start;
  const neg = s.charCodeAt(i) === 45;
  if (neg) i++;
  const intStart = i;
  let value = 0;
  while (i < end && isDigit(s.charCodeAt(i))) value = value * 10 + (s.charCodeAt(i++) - 48);
  const intEnd = i;
  if (intEnd === intStart) return false;
  let fracStart = end;
  let fracEnd = end;
  if (i < end) {
    if (s.charCodeAt(i) !== 46) return false;
    fracStart = ++i;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    if (i !== end || i === fracStart) return false;
    fracEnd = end;
    while (fracEnd > fracStart && s.charCodeAt(fracEnd - 1) === 48) fracEnd--;
  }
  let a = intStart;
  while (a < intEnd - 1 && s.charCodeAt(a) === 48) a++;
  if (intEnd - a > 3 || value > limit || (value === limit && fracEnd > fracStart)) return false;
  if (value === 0) {
    if (fracEnd > fracStart) {
      let z = fracStart;
      while (s.charCodeAt(z) === 48) z++;
      if (z - fracStart >= 6 || fracEnd - z > 15) return false;
    }
  } else if (intEnd - a + (fracEnd - fracStart) > 15) return false;
  POINT[k] = neg ? 1 : 0;
  POINT[k + 1] = a;
  POINT[k + 2] = intEnd;
  POINT[k + 3] = fracStart;
  POINT[k + 4] = fracEnd;
  POINT[k + 5] = value === 0 ? 1 : 0;
  return true;
}

/** `POINT (lon lat)` written exactly so, each coordinate within range, into POINT. */
export function scanPoint(s: string): boolean {
  const last = s.length - 1;
  if (!s.startsWith('POINT (') || s.charCodeAt(last) !== 41) return false;
  const space = s.indexOf(' ', 7);
  if (space < 0) return false;
  return scanCoordinate(s, 7, space, 180, 0) && scanCoordinate(s, space + 1, last, 90, 6);
}

/**
 * A bare `http://` or `https://` URL of printable ASCII without spaces (and, with `jsonSafe`, without the quote and
 * backslash JSON would escape).
 */
export function isBareHttpUrl(s: string, jsonSafe: boolean): boolean {
  const start = s.startsWith('https://') ? 8 : s.startsWith('http://') ? 7 : -1;
  if (start < 0 || start >= s.length) return false;
  const first = s.charCodeAt(start);
  if (first === 47 || first === 36 || first === 46 || first === 63 || first === 35) return false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127 || (jsonSafe && (c === 34 || c === 92))) return false;
  }
  return true;
}
