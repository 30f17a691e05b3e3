/**
 * An upload's rows converted once, at commit, for its apply. The type guess converts every cell anyway; the rows are
 * kept as the dataset will store them (the JSON text of each row's values, `store.stageRows`, in SQLite's temporary
 * database, not the JS heap), so the apply of the first output schema, the one made of the guessed types, is one
 * INSERT … SELECT instead of a second read of the bytes and a second conversion of every cell.
 *
 * The guessed types are known only once every row is read: the staged rows are converted with the types guessed from
 * the first {@link LOOKAHEAD} rows, and are dropped (the apply then reads the bytes, as for any other output schema)
 * when a later row changes a guess.
 */
import type { StagedRows } from '../store';
import { type Converted, type DataTypeName, MALTYPED, type PointValue, type StoredValue } from '../types';
import type { InputSchemaState, OutputColumnState } from './model';
import { FUNCTION_OF_SOQL, fieldNamesOf, functionType, Guesser, parseExpr, transformCell } from './transforms';

/** Rows read before the types the rows are staged with are chosen. */
const LOOKAHEAD = 1000;

/** Staged rows of an input schema and the transform function of each input column they were converted with. */
export interface Staged {
  rows: StagedRows;
  fns: string[];
}

// Read once (run as CommonJS, each use of an imported binding is a getter call; this one is used for every cell).
const MAL: typeof MALTYPED = MALTYPED;
/** Characters JSON writes escaped (and surrogates, which it may: those strings go through `JSON.stringify`). */
// eslint-disable-next-line no-control-regex
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The JSON text of one stored value, as `JSON.stringify` writes it. */
function valueJson(v: StoredValue): string {
  if (typeof v === 'string') return ESCAPED.test(v) ? JSON.stringify(v) : `"${v}"`;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'object' && (v as PointValue).type === 'Point') {
    const [lon, lat] = (v as PointValue).coordinates;
    // JSON writes a finite number as String() does.
    return `{"type":"Point","coordinates":[${lon},${lat}]}`;
  }
  return JSON.stringify(v);
}

/**
 * Watches the rows of an upload as they are read at commit: guesses the types (a {@link Guesser}) and stages each row
 * converted with the guessed functions.
 */
export class UploadStager {
  guesser: Guesser | undefined;
  private head: string[][] = [];
  private fns: string[] | undefined;
  /** `"field":` and `,"field":` of each column. */
  private first: string[] = [];
  private next: string[] = [];
  private values: Converted[] = [];
  private rows: StagedRows | undefined;

  /** `open` undefined: nothing is staged (the rows could not be appended as they are; see `ingest`), only guessed. */
  constructor(private readonly open: (() => StagedRows) | undefined) {}

  add(cells: string[], header: readonly string[]): void {
    this.guesser ??= new Guesser(cells.length);
    if (this.open === undefined) {
      this.guesser.add(cells);
      return;
    }
    if (this.fns === undefined) {
      this.guesser.add(cells);
      this.head.push(cells);
      if (this.head.length === LOOKAHEAD) this.start(header);
      return;
    }
    if (this.rows === undefined) {
      this.guesser.add(cells);
      return;
    }
    this.guesser.add(cells, this.fns, this.values);
    if (!this.stage(this.values)) this.giveUp();
  }

  /** After the last row: the staged rows, or undefined when a guess changed since they were staged. */
  finish(header: readonly string[]): Staged | undefined {
    this.guesser ??= new Guesser(header.length);
    if (this.open === undefined) return undefined;
    if (this.fns === undefined) this.start(header);
    const rows = this.rows;
    const fns = this.fns;
    if (!rows || !fns) return undefined;
    rows.finish();
    const guesser = this.guesser;
    if (fns.some((fn, i) => fn !== guessedFunction(guesser, i))) {
      this.giveUp();
      return undefined;
    }
    return { rows, fns };
  }

  /** Chooses the functions from the rows so far and stages those rows. */
  private start(header: readonly string[]): void {
    const guesser = this.guesser ?? new Guesser(header.length);
    const fns = header.map((_, i) => guessedFunction(guesser, i));
    this.fns = fns;
    const names = fieldNamesOf(header).map((f) => `${JSON.stringify(f)}:`);
    this.first = names.map((n) => `{${n}`);
    this.next = names.map((n) => `,${n}`);
    this.rows = this.open?.();
    const values: Converted[] = new Array<Converted>(fns.length);
    for (const cells of this.head) {
      for (let i = 0; i < fns.length; i++) {
        const fn = fns[i] ?? 'to_text';
        values[i] = transformCell(fn, functionType(fn), cells[i] ?? '');
      }
      if (!this.stage(values)) {
        this.giveUp();
        break;
      }
    }
    this.head = [];
  }

  /** Stages one row's values; false when one of them did not convert. */
  private stage(values: Converted[]): boolean {
    const rows = this.rows;
    if (!rows) return false;
    let s = '';
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      if (v === MAL) return false;
      s += (s === '' ? this.first[i] : this.next[i]) + valueJson(v);
    }
    rows.add(s === '' ? '{}' : `${s}}`);
    return true;
  }

  /** Lets the rows staged so far go (the file could not be read). */
  discard(): void {
    this.giveUp();
  }

  private giveUp(): void {
    this.rows?.drop();
    this.rows = undefined;
  }
}

function guessedFunction(g: Guesser, i: number): string {
  return FUNCTION_OF_SOQL[g.guess(i)] ?? 'to_text';
}

/** How an output schema can take the staged rows: where each of its columns is in them, and whether as they are. */
export interface StagedUse {
  staged: Staged;
  /** The field of the staged rows each output column takes its values from. */
  from: string[];
  /**
   * Per output column, the function its values are computed with from the staged text (a column staged through
   * `to_text` whose output function is another), or undefined when the staged value is taken as it is.
   */
  recompute: ({ fn: string; dataType: DataTypeName } | undefined)[];
  /** The output schema is the staged rows' own: the columns of the upload in order, each under its own name. */
  same: boolean;
}

/**
 * Whether output schema `columns` can take the staged rows of `input`: every column is an input column through the
 * function it was staged with (renamed, reordered, left out or taken twice: the values are the same), or an input
 * column staged through `to_text` (whose value is the cell's text exactly, the empty cell left out) through another
 * function, computed from that text as from the cell.
 */
export function stagedFor(input: InputSchemaState, columns: readonly OutputColumnState[]): StagedUse | undefined {
  const staged = input.staged;
  if (!staged?.rows.available) return undefined;
  const from: string[] = [];
  const recompute: StagedUse['recompute'] = [];
  let same = columns.length === input.input_columns.length;
  for (const [i, c] of columns.entries()) {
    const p = parseExpr(c.transform.transform_expr);
    if (typeof p === 'string') return undefined;
    const j = input.input_columns.findIndex((ic) => ic.field_name === p.column);
    const ic = input.input_columns[j];
    const fn = staged.fns[j];
    if (!ic || fn === undefined) return undefined;
    if (fn === p.fn) recompute.push(undefined);
    else if (fn === 'to_text') {
      recompute.push({ fn: p.fn, dataType: p.dataType });
      same = false;
    } else return undefined;
    from.push(ic.field_name);
    if (j !== i || c.field_name !== ic.field_name) same = false;
  }
  return { staged, from, recompute, same };
}

/** Sets `out` to the values of the output columns of `use` in staged row `r`; false when a function refuses one. */
function valuesOf(use: StagedUse, r: Record<string, StoredValue>, out: (StoredValue | null)[]): boolean {
  const { from, recompute } = use;
  for (let i = 0; i < from.length; i++) {
    const f = from[i] ?? '';
    const v = Object.hasOwn(r, f) ? (r[f] ?? null) : null;
    const re = recompute[i];
    if (re === undefined) {
      out[i] = v;
      continue;
    }
    // The staged to_text value is the cell's text exactly (an empty cell is left out).
    const c = transformCell(re.fn, re.dataType, typeof v === 'string' ? v : '');
    if (c === MAL) return false;
    out[i] = c;
  }
  return true;
}

/**
 * The staged rows read back as the values of the output columns of `use`, in order; a row with a value its function
 * refuses is left out, as `convertedRows` leaves it out (only a recomputed column can refuse one: every staged value
 * converted).
 */
export function* stagedValues(use: StagedUse): Generator<(StoredValue | null)[]> {
  for (const r of use.staged.rows.values()) {
    const out = new Array<StoredValue | null>(use.from.length);
    if (valuesOf(use, r, out)) yield out;
  }
}

/**
 * The stored JSON of the output columns `fields` of `use` from a staged row's JSON (as `applyStoredRows` would store
 * the values of {@link stagedValues}), for an output schema without errors: throws on a value a function refuses.
 * When the output columns are the staged ones in order under their own names, only the recomputed values are
 * replaced in the text (see {@link replaceText}); else the row is parsed and written again.
 */
export function restaged(use: StagedUse, input: InputSchemaState, fields: readonly string[]): (json: string) => string {
  const names = fields.map((f) => `${JSON.stringify(f)}:`);
  const inPlace = fields.length === input.input_columns.length && fields.every((f, i) => f === use.from[i] && f === input.input_columns[i]?.field_name);
  if (inPlace) {
    const steps = use.recompute.flatMap((re, i) => (re ? [{ ...re, key: names[i] ?? '' }] : []));
    return (json) => {
      let s = json;
      for (const step of steps) s = replaceText(s, step.key, step.fn, step.dataType);
      return s;
    };
  }
  const first = names.map((n) => `{${n}`);
  const next = names.map((n) => `,${n}`);
  const values = new Array<StoredValue | null>(fields.length);
  return (json) => {
    if (!valuesOf(use, JSON.parse(json) as Record<string, StoredValue>, values)) throw refused();
    let s = '';
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      s += (s === '' ? first[i] : next[i]) + valueJson(v);
    }
    return s === '' ? '{}' : `${s}}`;
  };
}

function refused(): Error {
  return new Error('a staged value does not convert through its output function');
}

/**
 * Staged row JSON `s` with the string value of `key` (`"field":`) replaced by its value through `fn`. The staged JSON
 * is the stager's own (keys in column order, nulls left out): a `"` inside a string value is always escaped, so the
 * first `{"field":` or `,"field":` is the key itself, and its string ends at the first `"` after an even run of
 * backslashes.
 */
function replaceText(s: string, key: string, fn: string, dataType: DataTypeName): string {
  const at = s.startsWith(key, 1) ? 0 : s.indexOf(`,${key}`);
  if (at < 0) return s; // An empty cell: null through every function.
  const start = at + 1 + key.length;
  if (s.charCodeAt(start) !== 0x22) throw new Error("staged row JSON is not the stager's");
  let end = start;
  for (;;) {
    end = s.indexOf('"', end + 1);
    if (end < 0) throw new Error("staged row JSON is not the stager's");
    let slashes = 0;
    while (s.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) break;
  }
  const quoted = s.slice(start, end + 1);
  const text = quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
  const v = transformCell(fn, dataType, text);
  if (v === MAL) throw refused();
  const rest = s.slice(end + 1);
  if (v !== null) return `${s.slice(0, start)}${valueJson(v)}${rest}`;
  return at === 0 ? `{${rest.startsWith(',') ? rest.slice(1) : rest}` : `${s.slice(0, at)}${rest}`;
}
