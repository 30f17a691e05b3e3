/** The SoQL compiler: type-checks an expression against the dataset's columns and turns it into a function of a row (or a group). */
import type { ColumnDef } from '../store';
import { formatNumber, parseFixedTimestamp, parseFloatingTimestamp, soqlTypeOf, type SoqlType } from '../types';
import { SoqlError } from './lexer';
import type { Expr } from './parser';
import { AGGREGATES, cmp, type Compiled, type Ctx, eq, type Fn, likeRegex, SYSTEM, truthy, type Val } from './values';

export class Compiler {
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
