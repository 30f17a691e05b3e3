/**
 * DSMAPI transforms as the emulator evaluates them: the `to_<type>(\`column\`)` expressions, what each function
 * accepts (docs/EMULATOR.md, "Transforms"), the type guess of an upload's columns, and the passes over an upload that
 * count a schema's errors, show its cells and give the apply its converted rows, one row at a time.
 */
import { canonicalNumber, type DataTypeName, fromCsv, MALTYPED, parseFixedTimestamp, parseFloatingTimestamp, type StoredValue, type Converted } from '../types';
import type { Cell, InputSchemaState, OutputColumnState } from './model';
import type { CsvOptions } from './upload';

// Read once into module constants: run by tsx as CommonJS, each use of an imported binding is two getter calls, which
// the per-cell loops below would otherwise pay for every cell of an upload, twice.
const MAL: typeof MALTYPED = MALTYPED;
const fromCsvCell = fromCsv;

/** The field names of an upload's columns (see {@link fieldNameOf}), in order. */
export function fieldNamesOf(header: readonly string[]): string[] {
  const used = new Set<string>();
  return header.map((h) => fieldNameOf(h, used));
}

/** `Permit ID` → `permit_id` (lower case, non-alphanumerics → `_`). */
export function fieldNameOf(header: string, used: Set<string>): string {
  let base = header
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (base === '') base = 'column';
  if (/^[0-9]/.test(base)) base = `_${base}`;
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

/** Transform functions the emulator evaluates, by name → (legacy type, SoQL output type). */
const FUNCTIONS: Record<string, { dataType: DataTypeName; soql: string }> = {
  to_text: { dataType: 'text', soql: 'text' },
  to_number: { dataType: 'number', soql: 'number' },
  to_boolean: { dataType: 'checkbox', soql: 'boolean' },
  to_floating_timestamp: { dataType: 'calendar_date', soql: 'floating_timestamp' },
  to_fixed_timestamp: { dataType: 'date', soql: 'fixed_timestamp' },
  to_point: { dataType: 'point', soql: 'point' },
  to_url: { dataType: 'url', soql: 'url' },
};

/** The legacy type of a transform function's values (text for an unknown one). */
export function functionType(fn: string): DataTypeName {
  return FUNCTIONS[fn]?.dataType ?? 'text';
}

export const FUNCTION_OF_SOQL: Record<string, string> = {
  text: 'to_text',
  number: 'to_number',
  boolean: 'to_boolean',
  floating_timestamp: 'to_floating_timestamp',
  fixed_timestamp: 'to_fixed_timestamp',
  point: 'to_point',
  url: 'to_url',
};

export interface ParsedExpr {
  fn: string;
  column: string;
  dataType: DataTypeName;
  soql: string;
}

/** Parses `` `col` `` or `` to_<type>(`col`) ``; anything else is unsupported here. */
export function parseExpr(expr: string): ParsedExpr | string {
  const ident = /^\s*`([^`]+)`\s*$/.exec(expr);
  if (ident?.[1]) return { fn: 'to_text', column: ident[1], dataType: 'text', soql: 'text' };
  const call = /^\s*([a-z_]+)\s*\(\s*`([^`]+)`\s*\)\s*$/.exec(expr);
  if (!call?.[1] || !call[2]) return `unsupported transform expression: ${expr}`;
  const f = FUNCTIONS[call[1]];
  if (!f) return `unknown function ${call[1]} in: ${expr}`;
  return { fn: call[1], column: call[2], dataType: f.dataType, soql: f.soql };
}

/** `1,234,567.89`: digits grouped by threes with commas. */
const GROUPED = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$/;
const US_DATE_START = /^\d{1,2}\/\d{1,2}\/\d{4}/;

/**
 * The value of one cell through a transform function. Beyond what a CSV upsert takes (`fromCsv`), `to_number` takes
 * comma-grouped digits and `to_fixed_timestamp` a US date(-time) without a zone, read as UTC.
 */
export function transformCell(fn: string, dataType: DataTypeName, text: string): Converted {
  const v = fromCsvCell(dataType, text);
  if (v !== MAL) return v;
  const t = text.trim();
  if (fn === 'to_number' && GROUPED.test(t)) return canonicalNumber(t.replace(/,/g, '')) ?? MAL;
  if (fn === 'to_fixed_timestamp' && US_DATE_START.test(t)) {
    const floating = parseFloatingTimestamp(t);
    return floating ? (parseFixedTimestamp(`${floating}Z`) ?? MAL) : MAL;
  }
  return MAL;
}

const WKT_POINT = /^\s*POINT\s*\(\s*-?\d+(?:\.\d+)?\s+-?\d+(?:\.\d+)?\s*\)\s*$/i;
const BOOLEAN_TEXT = /^(true|false)$/i;
/** Functions that may fail on a value (to_text and to_url take anything). */
const CHECKED = ['to_number', 'to_boolean', 'to_floating_timestamp', 'to_fixed_timestamp', 'to_point'] as const;

/**
 * Watches every row of an upload once: which functions convert every value of each column (so a schema made of them
 * has no errors to look for), and the guessed type (the first of number, boolean, floating timestamp and point that
 * fits every non-empty value, else text).
 */
export class Guesser {
  private readonly ok: Set<string>[];
  private readonly boolText: boolean[];
  private readonly wkt: boolean[];
  private readonly seen: boolean[];

  constructor(width: number) {
    this.ok = Array.from({ length: width }, () => new Set<string>(CHECKED));
    this.boolText = new Array<boolean>(width).fill(true);
    this.wkt = new Array<boolean>(width).fill(true);
    this.seen = new Array<boolean>(width).fill(false);
  }

  /**
   * Watches one row. With `want`, `values[i]` is set to the value of cell i through function `want[i]` (computed
   * once: the conversion the guess makes anyway when that function still converts every value so far).
   */
  add(cells: string[], want?: readonly string[], values?: Converted[]): void {
    for (let i = 0; i < cells.length; i++) {
      const text = cells[i] ?? '';
      const w = want?.[i];
      if (text === '') {
        if (values) values[i] = null;
        continue;
      }
      const ok = this.ok[i];
      if (!ok) continue;
      let got = w === undefined || values === undefined;
      if (text.trim() !== '') {
        this.seen[i] = true;
        if (this.boolText[i] && !BOOLEAN_TEXT.test(text.trim())) this.boolText[i] = false;
        if (this.wkt[i] && !WKT_POINT.test(text)) this.wkt[i] = false;
      }
      let floating = false;
      for (const fn of ok) {
        // A value that is a floating timestamp is a fixed one too (read as UTC): no second parse.
        if (fn === 'to_fixed_timestamp' && floating) continue;
        const f = FUNCTIONS[fn];
        if (!f) continue;
        const v = transformCell(fn, f.dataType, text);
        if (fn === w && values) {
          values[i] = v;
          got = true;
        }
        if (v === MAL) ok.delete(fn);
        else if (fn === 'to_floating_timestamp') floating = true;
      }
      if (!got && values && w !== undefined) {
        const f = FUNCTIONS[w];
        values[i] = f ? transformCell(w, f.dataType, text) : MAL;
      }
    }
  }

  /** The SoQL type guessed for column `i`. */
  guess(i: number): string {
    if (!this.seen[i]) return 'text';
    const ok = this.ok[i];
    if (ok?.has('to_number')) return 'number';
    if (this.boolText[i]) return 'boolean';
    if (ok?.has('to_floating_timestamp')) return 'floating_timestamp';
    if (this.wkt[i] && ok?.has('to_point')) return 'point';
    return 'text';
  }

  /** Functions that convert every value of each column (to_text and to_url always do). */
  clean(): Set<string>[] {
    return this.ok.map((s) => new Set([...s, 'to_text', 'to_url']));
  }
}

/** The reader options of an upload (`parse_options` and the content type). */
export function csvOptions(contentType: string | null, options: Record<string, unknown>): CsvOptions {
  const delimiter =
    typeof options.column_separator === 'string' && options.column_separator !== ''
      ? options.column_separator
      : contentType?.includes('tab-separated')
        ? '\t'
        : ',';
  return { delimiter, trim: options.trim_whitespace !== false, skipEmpty: options.remove_empty_rows !== false };
}

interface Step {
  col: OutputColumnState;
  index: number;
  fn: string;
  dataType: DataTypeName;
  soql: string;
  /** Every value of the input column converts: nothing to check. */
  clean: boolean;
}

function plan(input: InputSchemaState, columns: OutputColumnState[]): Step[] {
  const indexOf = new Map(input.input_columns.map((c, i) => [c.field_name, i]));
  return columns.map((col) => {
    const parsed = parseExpr(col.transform.transform_expr) as ParsedExpr;
    const index = indexOf.get(parsed.column) ?? -1;
    return { col, index, fn: parsed.fn, dataType: parsed.dataType, soql: parsed.soql, clean: input.clean[index]?.has(parsed.fn) ?? false };
  });
}

/**
 * Counts an output schema's errors (per column and rows with any) in one pass over the upload; no pass at all when
 * every column's function is known to convert every value of its input column.
 */
export function evaluate(input: InputSchemaState, columns: OutputColumnState[]): { errorRows: number[]; errorCount: number } {
  const steps = plan(input, columns);
  for (const c of columns) c.transform.error_count = 0;
  const checked = steps.filter((p) => !p.clean);
  const errorRows: number[] = [];
  if (checked.length === 0) return { errorRows, errorCount: 0 };
  for (const [raw, index] of input.upload.rows()) {
    let bad = false;
    for (const p of checked) {
      if (transformCell(p.fn, p.dataType, raw[p.index] ?? '') === MAL) {
        p.col.transform.error_count++;
        bad = true;
      }
    }
    if (bad) errorRows.push(index);
  }
  return { errorRows, errorCount: errorRows.length };
}

const NULL_CELL: Cell = Object.freeze({ ok: null });

/** One row's cells through the schema's transforms, errors included (for the rows and errors answers). */
export function cellsOf(input: InputSchemaState, columns: OutputColumnState[]): (raw: string[]) => Cell[] {
  const steps = plan(input, columns);
  return (raw) =>
    steps.map((p) => {
      const text = raw[p.index] ?? '';
      const v = transformCell(p.fn, p.dataType, text);
      if (v === MAL) return { error: { message: `Unable to convert "${text}" to ${p.soql}`, input: text } };
      return v === null ? NULL_CELL : { ok: v };
    });
}

/** The converted rows of a schema, those with an error left out, as the apply takes them (one at a time). */
export function* convertedRows(input: InputSchemaState, columns: OutputColumnState[]): Generator<(StoredValue | null)[]> {
  const steps = plan(input, columns);
  const width = steps.length;
  rows: for (const [raw] of input.upload.rows()) {
    const out = new Array<StoredValue | null>(width);
    for (let i = 0; i < width; i++) {
      const p = steps[i];
      const v = transformCell(p.fn, p.dataType, raw[p.index] ?? '');
      if (v === MAL) continue rows;
      out[i] = v;
    }
    yield out;
  }
}
