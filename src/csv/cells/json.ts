// JSON text of a cell's converted value, written straight from the cell text for the common notations (the publish
// encoder's fast paths): plain and grouped numbers, ISO and US slash dates, true/false, `POINT (lon lat)` with the
// coordinates written from their decimal text, bare http(s) URLs, text that needs no escaping. Each returns the JSON
// text of the value `createConverter(type, options)` gives, or undefined when the cell is not in the one notation it
// knows (the converter then decides, and builds the message of an invalid cell). A property test holds the two to
// the same text.
import type { ColumnType, ConvertOptions, JsonValue } from './catalog';
import { FLOATING, isBareHttpUrl, POINT, scanFloating, scanPoint } from './scan';

export type JsonFastPath = (raw: string) => string | undefined;

/** Characters JSON.stringify would escape (plus every surrogate, so lone ones are escaped by the slow path). */
// eslint-disable-next-line no-control-regex -- the control characters are exactly what must be found
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** The JSON text of a converted value (as `JSON.stringify` writes it). */
export function jsonText(v: JsonValue): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // GeoJSON points are the most common object value: written without the generic serialiser.
  if (!Array.isArray(v) && v !== null && v.type === 'Point' && Array.isArray(v.coordinates) && v.coordinates.length === 2) {
    const [x, y] = v.coordinates;
    if (typeof x === 'number' && typeof y === 'number' && Object.keys(v).length === 2) return `{"type":"Point","coordinates":[${x},${y}]}`;
  }
  return JSON.stringify(v);
}

const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?$/;
const GROUPED_NUMBER = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
const PLAIN_INTEGER = /^-?\d+$/;

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `"YYYY-MM-DDTHH:MM:SS.000"` of a scanned floating timestamp. */
function floatingText(s: string): string {
  const f = FLOATING;
  // `YYYY-MM-DD` as written is the date part as is.
  const date = f[6] === 1 ? s.slice(0, 10) : `${String(f[0]).padStart(4, '0')}-${two(f[1])}-${two(f[2])}`;
  return `"${date}T${two(f[3])}:${two(f[4])}:${two(f[5])}.000"`;
}

/** The text `String(Number(decimal))` gives for a scanned coordinate (at POINT[k]), computed without the number. */
function coordinateText(s: string, k: number): string {
  const p = POINT;
  const sign = p[k] === 1 ? '-' : '';
  const frac = p[k + 4] > p[k + 3] ? s.slice(p[k + 3], p[k + 4]) : '';
  if (p[k + 5] === 1) return frac === '' ? '0' : `${sign}0.${frac}`;
  return `${sign}${s.slice(p[k + 1], p[k + 2])}${frac === '' ? '' : `.${frac}`}`;
}

/** The JSON fast path of a column type, or undefined for types without one. */
export function jsonFastPath(type: ColumnType, options: ConvertOptions): JsonFastPath | undefined {
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
      const order = options.dateOrder ?? 'mdy';
      return (raw) => (raw.length === 0 ? 'null' : scanFloating(raw, order) ? floatingText(raw) : undefined);
    }
    case 'point':
      return (raw) =>
        raw.length === 0 ? 'null' : scanPoint(raw) ? `{"type":"Point","coordinates":[${coordinateText(raw, 0)},${coordinateText(raw, 6)}]}` : undefined;
    case 'url':
      return (raw) => (raw.length === 0 ? 'null' : isBareHttpUrl(raw, true) ? `{"url":"${raw}"}` : undefined);
    default:
      return undefined;
  }
}
