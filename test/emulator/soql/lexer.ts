/** The SoQL tokenizer: identifiers (backquoted too), strings, numbers and operators, each with its offset. */

export type TokKind = 'ident' | 'str' | 'num' | 'op' | 'eof';
export interface Tok {
  kind: TokKind;
  /** Identifier (as written; backquotes removed), string contents, number text or operator. */
  v: string;
  /** 0-based offset in the source. */
  pos: number;
  quoted?: boolean;
}

export const OPS = ['<=', '>=', '!=', '<>', '||', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.'];

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

export function tokenize(src: string): Tok[] {
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
