// Type inference: a column gets the first type that every non-empty value fits (the rules are in convert.ts).
import type { ColumnType, ConvertOptions } from './catalog';
import { isEmail, parseBoolean, parseIsoDate, parseNumber, parsePoint, parseSlashDate, parseUrl } from './parse';
import { isBlank } from './convert';
import { daysInMonth } from './scan';

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
