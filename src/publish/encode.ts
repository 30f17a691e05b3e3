// Turns CSV records into the JSON text of one SODA row object. The planner and the executor share this code, so
// the plan's numbers (bad rows, created/updated) are exactly what the execution then does.
//
// Speed: the key prefix of every column (`{"field":` / `,"field":`) is built once; each row's JSON text is built
// once by string concatenation (no intermediate row object, no JSON.stringify of the whole row).
import { createConverter, type ColumnConverter, type ColumnType, type JsonValue } from '../csv';
import type { ColumnMappingEntry } from './types';

export type EncodeResult =
  | { ok: true; json: string; id: string | undefined }
  | { ok: false; message: string; column: number | undefined };

function jsonText(v: JsonValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // GeoJSON points are the most common object value: written without the generic serialiser.
  if (!Array.isArray(v) && v !== null && v.type === 'Point' && Array.isArray(v.coordinates) && v.coordinates.length === 2) {
    const [x, y] = v.coordinates;
    if (typeof x === 'number' && typeof y === 'number' && Object.keys(v).length === 2) return `{"type":"Point","coordinates":[${x},${y}]}`;
  }
  return JSON.stringify(v);
}

export class RowEncoder {
  private readonly indexes: number[];
  private readonly converters: ColumnConverter[];
  private readonly prefixes: string[];
  private readonly headers: string[];
  private readonly fields: string[];
  private readonly idPos: number;
  readonly width: number;

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
    this.prefixes = used.map((c, k) => `${k === 0 ? '{' : ','}${JSON.stringify(c.fieldName)}:`);
    this.idPos = rowIdentifier === undefined ? -1 : used.findIndex((c) => c.fieldName === rowIdentifier);
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

  encode(fields: readonly string[]): EncodeResult {
    if (fields.length !== this.width) {
      return { ok: false, message: `the row has ${fields.length} fields, the header has ${this.width}`, column: undefined };
    }
    let json = '';
    let id: string | undefined;
    const n = this.indexes.length;
    for (let k = 0; k < n; k++) {
      const c = this.indexes[k];
      const raw = fields[c] ?? '';
      const res = this.converters[k].convert(raw);
      if (!res.ok) return { ok: false, message: `${this.headers[k]}: ${res.message}`, column: c + 1 };
      if (k === this.idPos) {
        if (res.value === null) return { ok: false, message: `the row identifier ${this.headers[k]} is empty`, column: c + 1 };
        id = typeof res.value === 'string' ? res.value : JSON.stringify(res.value);
      }
      json += this.prefixes[k] + (res.value === null ? 'null' : jsonText(res.value));
    }
    if (n === 0) return { ok: true, json: '{}', id };
    json += this.deleteRows ? ',":deleted":true}' : '}';
    return { ok: true, json, id };
  }
}
