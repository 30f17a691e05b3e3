// Allocation-free checks for validation.
//
// `createChecker(type, options)` answers, per cell, only *whether* `createConverter(type, options).convert(cell)`
// would give a value, a null or an error, without building the result. Common notations take the scanners of scan.ts
// (plain and grouped numbers, ISO and US slash dates, true/false words, `POINT (lon lat)`, bare http(s) URLs);
// anything a scanner does not recognise goes to `convert` itself, so the answer is always the converter's. The
// scanners only ever accept cells that `convert` accepts (a property test compares the two); the message for a
// failing cell is built afterwards with `convert`.
import type { ColumnType, ConvertOptions } from './catalog';
import { createConverter } from './convert';
import { BOOLEANS } from './parse';
import { isBareHttpUrl, scanFloating, scanNumber, scanPoint } from './scan';

export const CHECK_VALUE = 0;
export const CHECK_NULL = 1;
export const CHECK_INVALID = 2;
export type CheckResult = typeof CHECK_VALUE | typeof CHECK_NULL | typeof CHECK_INVALID;

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
      return (raw) => (scanFloating(raw, order) ? CHECK_VALUE : slow(raw));
    case 'point':
      return (raw) => (scanPoint(raw) ? CHECK_VALUE : slow(raw));
    case 'url':
      return (raw) => (isBareHttpUrl(raw, false) ? CHECK_VALUE : slow(raw));
    default:
      return slow;
  }
}
