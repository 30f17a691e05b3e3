// Cell conversion to the JSON the SODA API expects (and, in infer.ts, type inference by the same parsers).
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
import {
  FALSE_RESULT,
  fail,
  NUL_MESSAGE,
  NULL_RESULT,
  TRUE_RESULT,
  type ColumnConverter,
  type ColumnType,
  type ConvertOptions,
  type ConvertResult,
} from './catalog';
import { formatFixed, formatFloating, isEmail, parseBoolean, parseDate, parseNumber, parsePoint, parseUrl } from './parse';

// ---------------------------------------------------------------------------------------------------------------
// Converters.

/** Empty, or only spaces and tabs: a null cell for every type but text. */
export function isBlank(raw: string): boolean {
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
