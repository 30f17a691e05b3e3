/** Values of the SoQL evaluator: what a compiled expression is, and comparing, naming and matching values. */
import type { Row } from '../store';
import type { SoqlType } from '../types';
import type { Expr } from './parser';

export type Val = string | number | boolean | Record<string, unknown> | null;
export interface Ctx {
  row: Row;
  group: Row[] | undefined;
}
export type Fn = (c: Ctx) => Val;
export interface Compiled {
  fn: Fn;
  type: SoqlType;
  /** Set for a plain column reference: output the stored form. */
  raw?: (c: Ctx) => unknown;
  agg: boolean;
}

export const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max']);
export const SYSTEM: Record<string, SoqlType> = { ':id': 'row_identifier', ':created_at': 'fixed_timestamp', ':updated_at': 'fixed_timestamp' };

export interface QueryResult {
  fields: string[];
  types: SoqlType[];
  rows: Record<string, unknown>[];
  /** Parallel to `rows`: cells by field (undefined = null), for CSV. */
}

export function cmp(a: Val, b: Val): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function eq(a: Val, b: Val): boolean {
  if (a !== null && typeof a === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

export function exprKey(e: Expr): string {
  return JSON.stringify(e, (k, v: unknown) => (k === 'pos' ? undefined : v));
}

export function defaultName(e: Expr): string {
  switch (e.k) {
    case 'col':
      return e.name;
    case 'fn':
      return [e.name, ...e.args.map((a) => (a.k === 'star' ? '' : defaultName(a)))].filter((x) => x !== '').join('_');
    case 'lit':
      return String(e.v);
    case 'bin':
      return `${defaultName(e.l)}_${defaultName(e.r)}`;
    default:
      return 'expr';
  }
}

export function likeRegex(p: string): RegExp {
  let re = '^';
  for (const ch of p) {
    if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

export const truthy = (v: Val): boolean => v === true;
