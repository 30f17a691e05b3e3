// The column types a CSV cell can be converted to, how dataset type names map to them, and the shapes of a
// conversion's result. The conversion rules themselves are in convert.ts.

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

export const NULL_RESULT: ConvertResult = Object.freeze({ ok: true, value: null });
export const TRUE_RESULT: ConvertResult = Object.freeze({ ok: true, value: true });
export const FALSE_RESULT: ConvertResult = Object.freeze({ ok: true, value: false });

export const NUL_MESSAGE = 'contains a NUL character (U+0000), which cannot be stored; is the file binary, or UTF-16 without a byte order mark?';

export function fail(message: string): ConvertResult {
  return { ok: false, message };
}
