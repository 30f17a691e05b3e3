/** A query's parts: the `$select`, `$where`, … parameters or one `$query`, each parsed with its parameter named in errors. */
import { SoqlError, tokenize } from './lexer';
import { type Expr, type OrderItem, Parser, type SelectItem } from './parser';

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

export interface ParsedQuery {
  select: SelectItem[];
  where: Expr | undefined;
  group: Expr[] | undefined;
  having: Expr | undefined;
  order: OrderItem[];
  limit: number;
  offset: number;
  search: string | undefined;
}

export type Param = 'select' | 'where' | 'order' | 'group' | 'having' | 'limit' | 'offset' | 'q' | 'query';

export class ParamError extends Error {
  constructor(
    readonly param: Param,
    readonly inner: SoqlError,
  ) {
    super(inner.message);
    this.name = 'ParamError';
  }
}

export function parsePart<T>(param: Param, text: string, f: (p: Parser) => T): T {
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

export function parseQuery(params: QueryParams): ParsedQuery {
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

export function parseFullQuery(text: string, defaultLimit: number): ParsedQuery {
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
