/**
 * A small SoQL engine: tokenizer, recursive-descent parser, type checker and evaluator for the subset the
 * emulator serves on `/resource/{4x4}.json|csv` — `$select` (columns, aliases, `*`, `:*`, aggregates),
 * `$where`, `$order`, `$group`, `$having`, `$limit`, `$offset`, `$q`, `$query` and simple `field=value`
 * filters. Errors are soda-fountain passthrough envelopes with query-coordinator codes
 * (`query.soql.no-such-column`, `query.soql.bad-parse`, …) and the 1-based position in the parameter text.
 *
 * Parts: `lexer.ts` (tokens), `parser.ts` (expressions), `query.ts` (the query parameters), `compile.ts` (type check
 * and evaluation of expressions), `values.ts` (values and comparisons); this file runs a query over rows.
 */
import { sodaError, type EmulatorHttpError } from '../errors';
import type { ColumnDef, Row } from '../store';
import { formatNumber } from '../types';
import { Compiler } from './compile';
import { SoqlError } from './lexer';
import type { Expr } from './parser';
import { type Param, ParamError, parseQuery, type QueryParams } from './query';
import { AGGREGATES, cmp, type Compiled, type Ctx, defaultName, exprKey, type QueryResult, SYSTEM } from './values';

export { SoqlError } from './lexer';
export type { Expr, OrderItem, SelectItem } from './parser';
export type { QueryParams } from './query';
export type { QueryResult } from './values';

function hasAggregate(e: Expr): boolean {
  switch (e.k) {
    case 'fn':
      return AGGREGATES.has(e.name) || e.args.some(hasAggregate);
    case 'bin':
      return hasAggregate(e.l) || hasAggregate(e.r);
    case 'not':
    case 'neg':
    case 'isnull':
      return hasAggregate(e.e);
    case 'in':
      return hasAggregate(e.e) || e.list.some(hasAggregate);
    case 'between':
      return hasAggregate(e.e) || hasAggregate(e.lo) || hasAggregate(e.hi);
    case 'like':
      return hasAggregate(e.e);
    default:
      return false;
  }
}

/** Throws when `e` uses a column outside aggregates that is not one of the GROUP BY expressions. */
function checkGrouped(e: Expr, groupKeys: Set<string>, aliases: Map<string, Expr>): void {
  if (groupKeys.has(exprKey(e))) return;
  switch (e.k) {
    case 'col': {
      const a = aliases.get(e.name);
      if (a && groupKeys.has(exprKey(a))) return;
      if (a) return checkGrouped(a, groupKeys, aliases);
      throw new SoqlError('query.soql.column-not-in-group-bys', `Column ${e.name} is not in the GROUP BY`, e.pos, { column: e.name });
    }
    case 'fn':
      if (AGGREGATES.has(e.name)) return;
      e.args.forEach((a) => checkGrouped(a, groupKeys, aliases));
      return;
    case 'bin':
      checkGrouped(e.l, groupKeys, aliases);
      checkGrouped(e.r, groupKeys, aliases);
      return;
    case 'not':
    case 'neg':
    case 'isnull':
    case 'like':
      checkGrouped(e.e, groupKeys, aliases);
      return;
    case 'in':
      checkGrouped(e.e, groupKeys, aliases);
      e.list.forEach((a) => checkGrouped(a, groupKeys, aliases));
      return;
    case 'between':
      [e.e, e.lo, e.hi].forEach((a) => checkGrouped(a, groupKeys, aliases));
      return;
    default:
      return;
  }
}

/** Text of a row used by `$q` (lower-cased values of all columns). */
function searchText(row: Row): string {
  const parts: string[] = [];
  for (const k in row.v) {
    const v = row.v[k];
    if (typeof v === 'string') parts.push(v);
    else if (typeof v === 'object') {
      const o = v as unknown as Record<string, unknown>;
      if (typeof o.url === 'string') parts.push(o.url);
      if (typeof o.description === 'string') parts.push(o.description);
    } else parts.push(String(v));
  }
  return parts.join('\u0000').toLowerCase();
}

function outputValue(c: Compiled, ctx: Ctx): unknown {
  if (c.raw) return c.raw(ctx);
  const v = c.fn(ctx);
  if (v === null) return undefined;
  if (typeof v === 'number') {
    if (c.type === 'double') return Number.isFinite(v) ? v : String(v);
    return formatNumber(v);
  }
  return v;
}

/**
 * Runs a query over a dataset's rows. Throws an {@link EmulatorHttpError} (400, envelope B) for bad SoQL.
 */
export function runQuery(datasetId: string, columns: ColumnDef[], rows: Iterable<Row>, params: QueryParams, count?: () => number): QueryResult {
  try {
    return execute(columns, rows, params, count);
  } catch (e) {
    if (e instanceof ParamError || e instanceof SoqlError) throw toHttpError(datasetId, e);
    throw e;
  }
}

function toHttpError(datasetId: string, e: ParamError | SoqlError): EmulatorHttpError {
  const inner = e instanceof ParamError ? e.inner : e;
  const data: Record<string, unknown> = { ...inner.data, dataset: datasetId, position: { row: 1, column: inner.pos + 1 } };
  if (e instanceof ParamError) data.parameter = `$${e.param}`;
  return sodaError(400, inner.code, `Query coordinator error: ${inner.code}; ${inner.description}`, data);
}

/** `count(*)` and nothing else. */
function isCountStar(e: Expr): boolean {
  return e.k === 'fn' && e.name === 'count' && e.args.length === 1 && e.args[0]?.k === 'star';
}

/** `count`, when given, is the number of rows: a bare `SELECT count(*)` takes it instead of reading every row. */
function execute(columns: ColumnDef[], rows: Iterable<Row>, params: QueryParams, count?: () => number): QueryResult {
  const q = parseQuery(params);
  // Simple filters: `field=value` → `field = 'value'` (coerced to the column type), ANDed with $where.
  const cols = new Map(columns.map((c) => [c.fieldName, c] as const));
  let where = q.where;
  for (const [field, value] of params.filters) {
    if (!cols.has(field) && !SYSTEM[field]) throw new SoqlError('query.soql.no-such-column', `No such column: ${field}`, 0, { column: field });
    const cond: Expr = { k: 'bin', op: '=', l: { k: 'col', name: field, pos: 0 }, r: { k: 'lit', v: value, pos: 0 }, pos: 0 };
    where = where ? { k: 'bin', op: 'and', l: where, r: cond, pos: 0 } : cond;
  }

  // Expand the select list and collect aliases.
  const items: { name: string; expr: Expr; pos: number }[] = [];
  const sysstar = q.select.some((it) => it.expr === 'sysstar');
  for (const it of q.select) {
    if (it.expr === 'star' && params.synthetic && !sysstar) {
      for (const s of Object.keys(SYSTEM)) items.push({ name: s, expr: { k: 'col', name: s, pos: it.pos }, pos: it.pos });
    }
    if (it.expr === 'star') for (const c of columns) items.push({ name: c.fieldName, expr: { k: 'col', name: c.fieldName, pos: it.pos }, pos: it.pos });
    else if (it.expr === 'sysstar') for (const s of Object.keys(SYSTEM)) items.push({ name: s, expr: { k: 'col', name: s, pos: it.pos }, pos: it.pos });
    else items.push({ name: it.alias ?? defaultName(it.expr), expr: it.expr, pos: it.pos });
  }
  const aliases = new Map<string, Expr>();
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.name)) {
      throw new ParamError(
        params.query !== undefined ? 'query' : 'select',
        new SoqlError('query.soql.duplicate-alias', `Duplicate alias: ${it.name}`, it.pos, { name: it.name }),
      );
    }
    seen.add(it.name);
    if (!(it.expr.k === 'col' && it.expr.name === it.name)) aliases.set(it.name, it.expr);
  }

  const wrap = <T>(param: Param, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof SoqlError) throw new ParamError(params.query !== undefined ? 'query' : param, e);
      throw e;
    }
  };

  const plain = new Compiler(columns, new Map(), false);
  const whereFn = where ? wrap('where', () => plain.compile(where)) : undefined;
  if (whereFn && whereFn.type !== 'boolean') {
    throw new ParamError('where', new SoqlError('query.soql.type-mismatch', `$where must be boolean, got ${whereFn.type}`, 0));
  }

  const grouped = q.group !== undefined || items.some((i) => hasAggregate(i.expr)) || q.having !== undefined || q.order.some((o) => hasAggregate(o.expr));
  const aggC = new Compiler(columns, aliases, grouped);
  const selectC = items.map((it) => ({ name: it.name, c: wrap('select', () => aggC.compile(it.expr)) }));
  const groupC = (q.group ?? []).map((g) => wrap('group', () => new Compiler(columns, aliases, false).compile(g)));
  const groupKeys = new Set((q.group ?? []).map((g) => exprKey(g.k === 'col' && aliases.has(g.name) ? (aliases.get(g.name) as Expr) : g)));
  if (grouped) {
    for (const it of items) wrap('select', () => checkGrouped(it.expr, groupKeys, aliases));
    for (const o of q.order) wrap('order', () => checkGrouped(o.expr, groupKeys, aliases));
  }
  // SODA3 imposes an order when paging, so that the pages are a consistent set of rows.
  if (params.window && q.order.length === 0 && !grouped) q.order = [{ expr: { k: 'col', name: ':id', pos: 0 }, desc: false }];
  const havingC = q.having ? wrap('having', () => aggC.compile(q.having as Expr)) : undefined;
  const orderC = q.order.map((o) => ({ c: wrap('order', () => aggC.compile(o.expr)), desc: o.desc }));

  const terms = (q.search ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => t !== '');
  const matches = (row: Row): boolean => {
    if (whereFn && whereFn.fn({ row, group: undefined }) !== true) return false;
    if (terms.length) {
      const text = searchText(row);
      for (const t of terms) if (!text.includes(t)) return false;
    }
    return true;
  };

  let units: Ctx[] = [];
  const empty: Row = { sid: 0, id: '', createdAt: 0, updatedAt: 0, v: {} };
  if (grouped && count && !whereFn && terms.length === 0 && groupC.length === 0 && !havingC && orderC.length === 0 && items.every((i) => isCountStar(i.expr))) {
    // Only the group's length is read (count(*)): an array of that length, no row in it.
    units = [{ row: empty, group: new Array<Row>(count()) }];
  } else if (grouped) {
    const groups = new Map<string, Ctx & { group: Row[] }>();
    for (const row of rows) {
      if (!matches(row)) continue;
      const key = JSON.stringify(groupC.map((g) => g.fn({ row, group: undefined })));
      let g = groups.get(key);
      if (!g) {
        g = { row, group: [] };
        groups.set(key, g);
      }
      g.group.push(row);
    }
    units = [...groups.values()];
    if (units.length === 0 && groupC.length === 0) units = [{ row: empty, group: [] }];
    if (havingC) units = units.filter((u) => havingC.fn(u) === true);
  } else if (orderC.length === 0) {
    // No ordering: stop as soon as the page is full.
    const need = q.offset + Math.min(q.limit, params.window ? params.window.offset + params.window.limit : Infinity);
    for (const row of rows) {
      if (units.length >= need) break;
      if (matches(row)) units.push({ row, group: undefined });
    }
  } else {
    for (const row of rows) if (matches(row)) units.push({ row, group: undefined });
  }

  if (orderC.length) {
    const keyed = units.map((u) => ({ u, k: orderC.map((o) => o.c.fn(u)) }));
    keyed.sort((a, b) => {
      for (let i = 0; i < orderC.length; i++) {
        const x = a.k[i] ?? null;
        const y = b.k[i] ?? null;
        const desc = orderC[i]?.desc ?? false;
        if (x === null && y === null) continue;
        // Nulls last ascending, first descending (as PostgreSQL).
        if (x === null) return desc ? -1 : 1;
        if (y === null) return desc ? 1 : -1;
        const d = cmp(x, y);
        if (d !== 0) return desc ? -d : d;
      }
      return 0;
    });
    units = keyed.map((k) => k.u);
  }

  let page = units.slice(q.offset, q.offset + q.limit);
  if (params.window) page = page.slice(params.window.offset, params.window.offset + params.window.limit);
  const out: Record<string, unknown>[] = new Array<Record<string, unknown>>(page.length);
  for (let i = 0; i < page.length; i++) {
    const ctx = page[i];
    const o: Record<string, unknown> = {};
    for (const s of selectC) {
      const v = outputValue(s.c, ctx);
      if (v !== undefined && v !== null) o[s.name] = v;
    }
    out[i] = o;
  }
  return { fields: selectC.map((s) => s.name), types: selectC.map((s) => s.c.type), rows: out };
}
