/** The SoQL parser: recursive descent from tokens to expressions, select lists and order lists. */
import { SoqlError, type Tok } from './lexer';

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

export const RESERVED = new Set([
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

export class Parser {
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
