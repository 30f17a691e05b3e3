/**
 * A small SoQL engine: tokenizer, recursive-descent parser, type checker and evaluator for the subset the
 * emulator serves on `/resource/{4x4}.json|csv` — `$select` (columns, aliases, `*`, `:*`, aggregates),
 * `$where`, `$order`, `$group`, `$having`, `$limit`, `$offset`, `$q`, `$query` and simple `field=value`
 * filters. Errors are soda-fountain passthrough envelopes with query-coordinator codes
 * (`query.soql.no-such-column`, `query.soql.bad-parse`, …) and the 1-based position in the parameter text.
 */
import { sodaError, type EmulatorHttpError } from './errors';
import type { ColumnDef, Row } from './store';
import { formatNumber, parseFixedTimestamp, parseFloatingTimestamp, soqlTypeOf, type SoqlType } from './types';

// ------------------------------------------------------------------ tokens

type TokKind = 'ident' | 'str' | 'num' | 'op' | 'eof';
interface Tok {
  kind: TokKind;
  /** Identifier (as written; backquotes removed), string contents, number text or operator. */
  v: string;
  /** 0-based offset in the source. */
  pos: number;
  quoted?: boolean;
}

const OPS = ['<=', '>=', '!=', '<>', '||', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.'];

export class SoqlError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly pos: number,
    readonly data: Record<string, unknown> = {},
  ) {
    super(`${code}: ${description}`);
    this.name = 'SoqlError';
  }
}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new SoqlError('query.soql.unterminated-string', 'Unterminated string', start);
        const d = src.charAt(i);
        if (d === "'") {
          if (src.charAt(i + 1) === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += d;
        i++;
      }
      toks.push({ kind: 'str', v: s, pos: start });
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new SoqlError('query.soql.unterminated-string', 'Unterminated quoted identifier', start);
      toks.push({ kind: 'ident', v: src.slice(i + 1, end), pos: start, quoted: true });
      i = end + 1;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src.charAt(i + 1)))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
      const text = m?.[0] ?? c;
      toks.push({ kind: 'num', v: text, pos: start });
      i += text.length;
      continue;
    }
    if (/[A-Za-z_:@]/.test(c)) {
      const m = /^:?@?[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      if (m) {
        toks.push({ kind: 'ident', v: m[0], pos: start });
        i += m[0].length;
        continue;
      }
      if (c === ':' && src.charAt(i + 1) === '*') {
        toks.push({ kind: 'ident', v: ':*', pos: start });
        i += 2;
        continue;
      }
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new SoqlError('query.soql.unexpected-character', `Unexpected character '${c}'`, start, { character: c });
    toks.push({ kind: 'op', v: op, pos: start });
    i += op.length;
  }
  toks.push({ kind: 'eof', v: '', pos: src.length });
  return toks;
}

// ------------------------------------------------------------------ AST

export type Expr =
  | { k: 'col'; name: string; pos: number }
  | { k: 'lit'; v: string | number | boolean | null; pos: number }
  | { k: 'star'; pos: number }
  | { k: 'fn'; name: string; args: Expr[]; pos: number }
  | { k: 'bin'; op: string; l: Expr; r: Expr; pos: number }
  | { k: 'not'; e: Expr; pos: number }
  | { k: 'neg'; e: Expr; pos: number }
  | { k: 'isnull'; e: Expr; neg: boolean; pos: number }
  | { k: 'in'; e: Expr; list: Expr[]; neg: boolean; pos: number }
  | { k: 'between'; e: Expr; lo: Expr; hi: Expr; neg: boolean; pos: number }
  | { k: 'like'; e: Expr; pat: Expr; neg: boolean; pos: number };

export interface SelectItem {
  expr: Expr | 'star' | 'sysstar';
  alias: string | undefined;
  pos: number;
}
export interface OrderItem {
  expr: Expr;
  desc: boolean;
}

const RESERVED = new Set([
  'select',
  'where',
  'group',
  'order',
  'having',
  'limit',
  'offset',
  'search',
  'by',
  'and',
  'or',
  'not',
  'is',
  'in',
  'between',
  'like',
  'as',
  'asc',
  'desc',
  'null',
  'true',
  'false',
  'from',
]);

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  private get t(): Tok {
    return this.toks[this.i] ?? { kind: 'eof', v: '', pos: 0 };
  }
  private next(): Tok {
    const t = this.t;
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  isKw(word: string): boolean {
    return this.t.kind === 'ident' && !this.t.quoted && this.t.v.toLowerCase() === word;
  }
  acceptKw(word: string): boolean {
    if (this.isKw(word)) {
      this.i++;
      return true;
    }
    return false;
  }
  private isOp(op: string): boolean {
    return this.t.kind === 'op' && this.t.v === op;
  }
  private acceptOp(op: string): boolean {
    if (this.isOp(op)) {
      this.i++;
      return true;
    }
    return false;
  }
  fail(expected: string): never {
    const t = this.t;
    if (t.kind === 'eof') throw new SoqlError('query.soql.unexpected-eof', `Expected ${expected}, but reached the end of the input`, t.pos);
    throw new SoqlError('query.soql.bad-parse', `Expected ${expected}, but got \`${t.v}'`, t.pos, { got: t.v });
  }
  private expectOp(op: string): void {
    if (!this.acceptOp(op)) this.fail(`\`${op}'`);
  }
  expectKw(word: string): void {
    if (!this.acceptKw(word)) this.fail(word.toUpperCase());
  }
  atEnd(): boolean {
    return this.t.kind === 'eof';
  }
  expectEnd(): void {
    if (!this.atEnd()) this.fail('end of input');
  }

  selectList(): SelectItem[] {
    const items: SelectItem[] = [];
    do {
      const pos = this.t.pos;
      if (this.acceptOp('*')) items.push({ expr: 'star', alias: undefined, pos });
      else if (this.t.kind === 'ident' && this.t.v === ':*') {
        this.next();
        items.push({ expr: 'sysstar', alias: undefined, pos });
      } else {
        const expr = this.expr();
        let alias: string | undefined;
        if (this.acceptKw('as')) {
          const a = this.next();
          if (a.kind !== 'ident') {
            this.i--;
            this.fail('an alias');
          }
          alias = a.v;
        }
        items.push({ expr, alias, pos });
      }
    } while (this.acceptOp(','));
    return items;
  }

  exprList(): Expr[] {
    const out: Expr[] = [];
    do out.push(this.expr());
    while (this.acceptOp(','));
    return out;
  }

  orderList(): OrderItem[] {
    const out: OrderItem[] = [];
    do {
      const expr = this.expr();
      let desc = false;
      if (this.acceptKw('desc')) desc = true;
      else this.acceptKw('asc');
      out.push({ expr, desc });
    } while (this.acceptOp(','));
    return out;
  }

  integer(): number {
    const t = this.next();
    if (t.kind !== 'num' || !/^\d+$/.test(t.v)) {
      this.i--;
      this.fail('a non-negative integer');
    }
    return Number(t.v);
  }

  stringLit(): string {
    const t = this.next();
    if (t.kind !== 'str') {
      this.i--;
      this.fail('a string literal');
    }
    return t.v;
  }

  expr(): Expr {
    return this.or();
  }
  private or(): Expr {
    let l = this.and();
    while (this.isKw('or')) {
      const pos = this.next().pos;
      l = { k: 'bin', op: 'or', l, r: this.and(), pos };
    }
    return l;
  }
  private and(): Expr {
    let l = this.not();
    while (this.isKw('and')) {
      const pos = this.next().pos;
      l = { k: 'bin', op: 'and', l, r: this.not(), pos };
    }
    return l;
  }
  private not(): Expr {
    if (this.isKw('not')) {
      const pos = this.next().pos;
      return { k: 'not', e: this.not(), pos };
    }
    return this.comparison();
  }
  private comparison(): Expr {
    const l = this.additive();
    const t = this.t;
    if (t.kind === 'op' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(t.v)) {
      this.next();
      return { k: 'bin', op: t.v === '<>' ? '!=' : t.v, l, r: this.additive(), pos: t.pos };
    }
    if (this.acceptKw('is')) {
      const neg = this.acceptKw('not');
      this.expectKw('null');
      return { k: 'isnull', e: l, neg, pos: t.pos };
    }
    let neg = false;
    if (this.isKw('not')) {
      const save = this.i;
      this.next();
      if (this.isKw('in') || this.isKw('between') || this.isKw('like')) neg = true;
      else this.i = save;
    }
    if (this.acceptKw('in')) {
      this.expectOp('(');
      const list = this.exprList();
      this.expectOp(')');
      return { k: 'in', e: l, list, neg, pos: t.pos };
    }
    if (this.acceptKw('between')) {
      const lo = this.additive();
      this.expectKw('and');
      const hi = this.additive();
      return { k: 'between', e: l, lo, hi, neg, pos: t.pos };
    }
    if (this.acceptKw('like')) return { k: 'like', e: l, pat: this.additive(), neg, pos: t.pos };
    return l;
  }
  private additive(): Expr {
    let l = this.mult();
    for (;;) {
      const t = this.t;
      if (t.kind === 'op' && (t.v === '+' || t.v === '-' || t.v === '||')) {
        this.next();
        l = { k: 'bin', op: t.v, l, r: this.mult(), pos: t.pos };
      } else return l;
    }
  }
  private mult(): Expr {
    let l = this.unary();
    for (;;) {
      const t = this.t;
      if (t.kind === 'op' && (t.v === '*' || t.v === '/' || t.v === '%')) {
        this.next();
        l = { k: 'bin', op: t.v, l, r: this.unary(), pos: t.pos };
      } else return l;
    }
  }
  private unary(): Expr {
    if (this.isOp('-')) {
      const pos = this.next().pos;
      return { k: 'neg', e: this.unary(), pos };
    }
    if (this.acceptOp('+')) return this.unary();
    return this.primary();
  }
  private primary(): Expr {
    const t = this.t;
    if (t.kind === 'num') {
      this.next();
      return { k: 'lit', v: Number(t.v), pos: t.pos };
    }
    if (t.kind === 'str') {
      this.next();
      return { k: 'lit', v: t.v, pos: t.pos };
    }
    if (this.acceptOp('(')) {
      const e = this.expr();
      this.expectOp(')');
      return e;
    }
    if (t.kind === 'ident') {
      const lower = t.v.toLowerCase();
      if (!t.quoted) {
        if (lower === 'true' || lower === 'false') {
          this.next();
          return { k: 'lit', v: lower === 'true', pos: t.pos };
        }
        if (lower === 'null') {
          this.next();
          return { k: 'lit', v: null, pos: t.pos };
        }
        if (RESERVED.has(lower)) this.fail('an expression');
      }
      this.next();
      if (!t.quoted && this.acceptOp('(')) {
        const args: Expr[] = [];
        if (this.isOp('*')) {
          args.push({ k: 'star', pos: this.next().pos });
        } else if (!this.isOp(')')) {
          args.push(...this.exprList());
        }
        this.expectOp(')');
        return { k: 'fn', name: lower, args, pos: t.pos };
      }
      return { k: 'col', name: t.v, pos: t.pos };
    }
    return this.fail('an expression');
  }
}

// ------------------------------------------------------------------ query model

export interface QueryParams {
  select?: string;
  where?: string;
  order?: string;
  group?: string;
  having?: string;
  limit?: string;
  offset?: string;
  q?: string;
  query?: string;
  /** `field=value` simple filters. */
  filters: [string, string][];
  /** Row limit when the query sets none (SODA 2.1: 1000; SODA3: none). */
  defaultLimit?: number;
  /** A page cut from the query's result, after its own LIMIT and OFFSET (SODA3 `page`). */
  window?: { offset: number; limit: number };
  /** `*` also brings the system fields `:id`, `:created_at`, `:updated_at` (SODA3 `includeSynthetic`). */
  synthetic?: boolean;
}

interface ParsedQuery {
  select: SelectItem[];
  where: Expr | undefined;
  group: Expr[] | undefined;
  having: Expr | undefined;
  order: OrderItem[];
  limit: number;
  offset: number;
  search: string | undefined;
}

type Param = 'select' | 'where' | 'order' | 'group' | 'having' | 'limit' | 'offset' | 'q' | 'query';

class ParamError extends Error {
  constructor(
    readonly param: Param,
    readonly inner: SoqlError,
  ) {
    super(inner.message);
    this.name = 'ParamError';
  }
}

function parsePart<T>(param: Param, text: string, f: (p: Parser) => T): T {
  try {
    const p = new Parser(tokenize(text));
    const out = f(p);
    p.expectEnd();
    return out;
  } catch (e) {
    if (e instanceof SoqlError) throw new ParamError(param, e);
    throw e;
  }
}

function parseQuery(params: QueryParams): ParsedQuery {
  const defaultLimit = params.defaultLimit ?? 1000;
  if (params.query !== undefined) return parseFullQuery(params.query, defaultLimit);
  const out: ParsedQuery = {
    select: params.select !== undefined ? parsePart('select', params.select, (p) => p.selectList()) : [{ expr: 'star', alias: undefined, pos: 0 }],
    where: params.where !== undefined ? parsePart('where', params.where, (p) => p.expr()) : undefined,
    group: params.group !== undefined ? parsePart('group', params.group, (p) => p.exprList()) : undefined,
    having: params.having !== undefined ? parsePart('having', params.having, (p) => p.expr()) : undefined,
    order: params.order !== undefined ? parsePart('order', params.order, (p) => p.orderList()) : [],
    limit: params.limit !== undefined ? parsePart('limit', params.limit, (p) => p.integer()) : defaultLimit,
    offset: params.offset !== undefined ? parsePart('offset', params.offset, (p) => p.integer()) : 0,
    search: params.q,
  };
  return out;
}

function parseFullQuery(text: string, defaultLimit: number): ParsedQuery {
  return parsePart('query', text, (p) => {
    const q: ParsedQuery = {
      select: [{ expr: 'star', alias: undefined, pos: 0 }],
      where: undefined,
      group: undefined,
      having: undefined,
      order: [],
      limit: defaultLimit,
      offset: 0,
      search: undefined,
    };
    if (p.acceptKw('select')) {
      q.select = p.selectList();
    }
    while (!p.atEnd()) {
      if (p.acceptKw('where')) {
        q.where = p.expr();
      } else if (p.acceptKw('group')) {
        p.expectKw('by');
        q.group = p.exprList();
      } else if (p.acceptKw('having')) {
        q.having = p.expr();
      } else if (p.acceptKw('order')) {
        p.expectKw('by');
        q.order = p.orderList();
      } else if (p.acceptKw('limit')) {
        q.limit = p.integer();
      } else if (p.acceptKw('offset')) {
        q.offset = p.integer();
      } else if (p.acceptKw('search')) {
        q.search = p.stringLit();
      } else p.fail('WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET or SEARCH');
    }
    return q;
  });
}

// ------------------------------------------------------------------ compile & evaluate

type Val = string | number | boolean | Record<string, unknown> | null;
interface Ctx {
  row: Row;
  group: Row[] | undefined;
}
type Fn = (c: Ctx) => Val;
interface Compiled {
  fn: Fn;
  type: SoqlType;
  /** Set for a plain column reference: output the stored form. */
  raw?: (c: Ctx) => unknown;
  agg: boolean;
}

const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max']);
const SYSTEM: Record<string, SoqlType> = { ':id': 'row_identifier', ':created_at': 'fixed_timestamp', ':updated_at': 'fixed_timestamp' };

export interface QueryResult {
  fields: string[];
  types: SoqlType[];
  rows: Record<string, unknown>[];
  /** Parallel to `rows`: cells by field (undefined = null), for CSV. */
}

function cmp(a: Val, b: Val): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function eq(a: Val, b: Val): boolean {
  if (a !== null && typeof a === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

function exprKey(e: Expr): string {
  return JSON.stringify(e, (k, v: unknown) => (k === 'pos' ? undefined : v));
}

function defaultName(e: Expr): string {
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

function likeRegex(p: string): RegExp {
  let re = '^';
  for (const ch of p) {
    if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

const truthy = (v: Val): boolean => v === true;

class Compiler {
  private readonly cols: Map<string, ColumnDef>;
  constructor(
    columns: ColumnDef[],
    private readonly aliases: Map<string, Expr>,
    private readonly allowAggregates: boolean,
  ) {
    this.cols = new Map(columns.map((c) => [c.fieldName, c] as const));
  }

  compile(e: Expr): Compiled {
    switch (e.k) {
      case 'col':
        return this.column(e.name, e.pos);
      case 'lit':
        return { fn: () => e.v, type: typeof e.v === 'number' ? 'number' : typeof e.v === 'boolean' ? 'boolean' : 'text', agg: false };
      case 'star':
        throw new SoqlError('query.soql.bad-parse', 'Unexpected `*`', e.pos);
      case 'not': {
        const a = this.bool(e.e);
        return { fn: (c) => (a.fn(c) === null ? null : !truthy(a.fn(c))), type: 'boolean', agg: a.agg };
      }
      case 'neg': {
        const a = this.numeric(e.e);
        return {
          fn: (c) => {
            const v = a.fn(c);
            return v === null ? null : -(v as number);
          },
          type: a.type,
          agg: a.agg,
        };
      }
      case 'isnull': {
        const a = this.compile(e.e);
        return { fn: (c) => (a.fn(c) === null) !== e.neg, type: 'boolean', agg: a.agg };
      }
      case 'in': {
        const a = this.compile(e.e);
        const list = e.list.map((x) => this.coerceTo(x, a.type));
        return {
          fn: (c) => {
            const v = a.fn(c);
            if (v === null) return null;
            return list.some((x) => eq(v, x.fn(c))) !== e.neg;
          },
          type: 'boolean',
          agg: a.agg || list.some((x) => x.agg),
        };
      }
      case 'between': {
        const a = this.compile(e.e);
        const lo = this.coerceTo(e.lo, a.type);
        const hi = this.coerceTo(e.hi, a.type);
        return {
          fn: (c) => {
            const v = a.fn(c);
            const l = lo.fn(c);
            const h = hi.fn(c);
            if (v === null || l === null || h === null) return null;
            return (cmp(v, l) >= 0 && cmp(v, h) <= 0) !== e.neg;
          },
          type: 'boolean',
          agg: a.agg,
        };
      }
      case 'like': {
        const a = this.compile(e.e);
        this.expectType(a, ['text'], e.e);
        if (e.pat.k !== 'lit' || typeof e.pat.v !== 'string') throw new SoqlError('query.soql.type-mismatch', 'LIKE needs a text literal pattern', e.pat.pos);
        const re = likeRegex(e.pat.v);
        return {
          fn: (c) => {
            const v = a.fn(c);
            return v === null ? null : re.test(v as string) !== e.neg;
          },
          type: 'boolean',
          agg: a.agg,
        };
      }
      case 'bin':
        return this.binary(e);
      case 'fn':
        return this.func(e);
    }
  }

  private column(name: string, pos: number): Compiled {
    const sys = SYSTEM[name];
    if (sys) {
      const fn: Fn =
        name === ':id'
          ? (c) => c.row.id
          : name === ':created_at'
            ? (c) => new Date(c.row.createdAt).toISOString()
            : (c) => new Date(c.row.updatedAt).toISOString();
      return { fn, type: sys, raw: fn, agg: false };
    }
    const col = this.cols.get(name);
    if (!col) {
      const alias = this.aliases.get(name);
      if (alias) return this.compile(alias);
      throw new SoqlError('query.soql.no-such-column', `No such column: ${name}`, pos, { column: name });
    }
    const t = soqlTypeOf(col.dataTypeName);
    const f = col.fieldName;
    const raw = (c: Ctx): unknown => c.row.v[f];
    if (t === 'number') {
      return {
        fn: (c) => {
          const v = c.row.v[f];
          return v === undefined ? null : Number(v);
        },
        type: t,
        raw,
        agg: false,
      };
    }
    return { fn: (c) => (c.row.v[f] ?? null) as Val, type: t, raw, agg: false };
  }

  private expectType(a: Compiled, types: SoqlType[], e: Expr): void {
    if (!types.includes(a.type)) {
      throw new SoqlError('query.soql.type-mismatch', `Type mismatch: expected ${types.join(' or ')} but got ${a.type}`, e.pos, {
        expected: types,
        got: a.type,
      });
    }
  }
  private bool(e: Expr): Compiled {
    const a = this.compile(e);
    this.expectType(a, ['boolean'], e);
    return a;
  }
  private numeric(e: Expr): Compiled {
    const a = this.compile(e);
    this.expectType(a, ['number', 'double'], e);
    return a;
  }

  /** Compiles `e`, converting a text literal to the representation of `t` (e.g. a date string for a date column). */
  private coerceTo(e: Expr, t: SoqlType): Compiled {
    if (e.k === 'lit' && typeof e.v === 'string' && t !== 'text') {
      let v: Val | undefined;
      if (t === 'number' || t === 'double') {
        const n = Number(e.v);
        v = e.v.trim() !== '' && !Number.isNaN(n) ? n : undefined;
      } else if (t === 'floating_timestamp') v = parseFloatingTimestamp(e.v);
      else if (t === 'fixed_timestamp') v = parseFixedTimestamp(e.v);
      else if (t === 'boolean') v = e.v === 'true' ? true : e.v === 'false' ? false : undefined;
      else if (t === 'row_identifier') v = e.v;
      if (v === undefined) throw new SoqlError('query.soql.type-mismatch', `Type mismatch: cannot read '${e.v}' as ${t}`, e.pos, { expected: t, got: e.v });
      const value = v;
      return { fn: () => value, type: t, agg: false };
    }
    if (e.k === 'lit' && e.v === null) return { fn: () => null, type: t, agg: false };
    const c = this.compile(e);
    const compatible =
      c.type === t || ((c.type === 'number' || c.type === 'double') && (t === 'number' || t === 'double')) || (c.type === 'text' && t === 'row_identifier');
    if (!compatible) throw new SoqlError('query.soql.type-mismatch', `Type mismatch: cannot compare ${t} with ${c.type}`, e.pos, { expected: t, got: c.type });
    return c;
  }

  private binary(e: Extract<Expr, { k: 'bin' }>): Compiled {
    if (e.op === 'and' || e.op === 'or') {
      const l = this.bool(e.l);
      const r = this.bool(e.r);
      const isAnd = e.op === 'and';
      return {
        fn: (c) => {
          const a = l.fn(c);
          if (isAnd && a === false) return false;
          if (!isAnd && a === true) return true;
          const b = r.fn(c);
          if (a === null || b === null) return isAnd ? (b === false ? false : null) : b === true ? true : null;
          return b;
        },
        type: 'boolean',
        agg: l.agg || r.agg,
      };
    }
    if (['=', '!=', '<', '<=', '>', '>='].includes(e.op)) {
      let l: Compiled;
      let r: Compiled;
      if (e.l.k === 'lit' && typeof e.l.v === 'string' && !(e.r.k === 'lit')) {
        r = this.compile(e.r);
        l = this.coerceTo(e.l, r.type);
      } else {
        l = this.compile(e.l);
        r = this.coerceTo(e.r, l.type);
      }
      const op = e.op;
      return {
        fn: (c) => {
          const a = l.fn(c);
          const b = r.fn(c);
          if (a === null || b === null) return null;
          switch (op) {
            case '=':
              return eq(a, b);
            case '!=':
              return !eq(a, b);
            case '<':
              return cmp(a, b) < 0;
            case '<=':
              return cmp(a, b) <= 0;
            case '>':
              return cmp(a, b) > 0;
            default:
              return cmp(a, b) >= 0;
          }
        },
        type: 'boolean',
        agg: l.agg || r.agg,
      };
    }
    if (e.op === '||') {
      const l = this.compile(e.l);
      const r = this.compile(e.r);
      const str = (v: Val): string => (typeof v === 'number' ? formatNumber(v) : typeof v === 'string' ? v : JSON.stringify(v));
      return {
        fn: (c) => {
          const a = l.fn(c);
          const b = r.fn(c);
          return a === null || b === null ? null : str(a) + str(b);
        },
        type: 'text',
        agg: l.agg || r.agg,
      };
    }
    const l = this.numeric(e.l);
    const r = this.numeric(e.r);
    const op = e.op;
    return {
      fn: (c) => {
        const a = l.fn(c) as number | null;
        const b = r.fn(c) as number | null;
        if (a === null || b === null) return null;
        switch (op) {
          case '+':
            return a + b;
          case '-':
            return a - b;
          case '*':
            return a * b;
          case '/':
            return b === 0 ? null : a / b;
          default:
            return b === 0 ? null : a % b;
        }
      },
      type: l.type === 'double' || r.type === 'double' ? 'double' : 'number',
      agg: l.agg || r.agg,
    };
  }

  private func(e: Extract<Expr, { k: 'fn' }>): Compiled {
    const arity = (n: number): void => {
      if (e.args.length !== n) {
        throw new SoqlError('query.soql.no-such-function', `No function ${e.name} taking ${e.args.length} argument(s)`, e.pos, {
          function: e.name,
          arity: e.args.length,
        });
      }
    };
    if (AGGREGATES.has(e.name)) {
      if (!this.allowAggregates) {
        throw new SoqlError('query.soql.aggregate-in-ungrouped-context', `Aggregate ${e.name} is not allowed here`, e.pos, { function: e.name });
      }
      arity(1);
      const argE = e.args[0];
      if (e.name === 'count' && argE.k === 'star') {
        return { fn: (c) => c.group?.length ?? 1, type: 'number', agg: true };
      }
      const inner = new Compiler([...this.cols.values()], this.aliases, false).compile(argE);
      if (inner.agg) throw new SoqlError('query.soql.aggregate-in-ungrouped-context', 'Nested aggregates are not allowed', argE.pos);
      const values = (c: Ctx): Val[] => {
        const out: Val[] = [];
        for (const row of c.group ?? [c.row]) {
          const v = inner.fn({ row, group: undefined });
          if (v !== null) out.push(v);
        }
        return out;
      };
      const round = (n: number): number => Number(n.toFixed(10));
      switch (e.name) {
        case 'count':
          return { fn: (c) => values(c).length, type: 'number', agg: true };
        case 'sum':
          this.expectType(inner, ['number', 'double'], argE);
          return {
            fn: (c) => {
              const v = values(c) as number[];
              return v.length ? round(v.reduce((a, b) => a + b, 0)) : null;
            },
            type: inner.type,
            agg: true,
          };
        case 'avg':
          this.expectType(inner, ['number', 'double'], argE);
          return {
            fn: (c) => {
              const v = values(c) as number[];
              return v.length ? round(v.reduce((a, b) => a + b, 0) / v.length) : null;
            },
            type: inner.type,
            agg: true,
          };
        default: {
          const sign = e.name === 'min' ? -1 : 1;
          return {
            fn: (c) => {
              let best: Val = null;
              for (const v of values(c)) if (best === null || cmp(v, best) * sign > 0) best = v;
              return best;
            },
            type: inner.type,
            agg: true,
          };
        }
      }
    }
    const args = e.args.map((a) => this.compile(a));
    const agg = args.some((a) => a.agg);
    const a0 = args[0];
    switch (e.name) {
      case 'upper':
      case 'lower': {
        arity(1);
        if (!a0) break;
        this.expectType(a0, ['text'], e.args[0]);
        const up = e.name === 'upper';
        return {
          fn: (c) => {
            const v = a0.fn(c);
            return v === null ? null : up ? (v as string).toUpperCase() : (v as string).toLowerCase();
          },
          type: 'text',
          agg,
        };
      }
      case 'starts_with':
      case 'contains': {
        arity(2);
        const a1 = args[1];
        if (!a0 || !a1) break;
        this.expectType(a0, ['text'], e.args[0]);
        this.expectType(a1, ['text'], e.args[1]);
        const sw = e.name === 'starts_with';
        return {
          fn: (c) => {
            const v = a0.fn(c);
            const p = a1.fn(c);
            if (v === null || p === null) return null;
            return sw ? (v as string).startsWith(p as string) : (v as string).includes(p as string);
          },
          type: 'boolean',
          agg,
        };
      }
      case 'date_trunc_y':
      case 'date_trunc_ym':
      case 'date_trunc_ymd': {
        arity(1);
        if (!a0) break;
        this.expectType(a0, ['floating_timestamp'], e.args[0]);
        const keep = e.name === 'date_trunc_y' ? 4 : e.name === 'date_trunc_ym' ? 7 : 10;
        const tail = '0000-01-01T00:00:00.000'.slice(keep);
        return {
          fn: (c) => {
            const v = a0.fn(c);
            return v === null ? null : (v as string).slice(0, keep) + tail;
          },
          type: 'floating_timestamp',
          agg,
        };
      }
      default:
        break;
    }
    throw new SoqlError('query.soql.no-such-function', `No such function: ${e.name}`, e.pos, { function: e.name });
  }
}

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
export function runQuery(datasetId: string, columns: ColumnDef[], rows: Iterable<Row>, params: QueryParams): QueryResult {
  try {
    return execute(columns, rows, params);
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

function execute(columns: ColumnDef[], rows: Iterable<Row>, params: QueryParams): QueryResult {
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
  if (grouped) {
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
    if (units.length === 0 && groupC.length === 0) units = [{ row: { sid: 0, id: '', createdAt: 0, updatedAt: 0, v: {} }, group: [] }];
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
