// A byte-level JSON validator: checks that a body is one well-formed JSON text (RFC 8259) in well-formed UTF-8 and
// counts the elements of a top-level array, without building any objects or decoding any strings. Sink mode uses it
// so that acknowledging a multi-megabyte upsert costs a single pass over the bytes instead of a JSON.parse.
import { isUtf8 } from 'node:buffer';

export type JsonScanResult =
  { ok: true; topLevel: 'array' | 'object' | 'other'; elements: number } | { ok: false; offset: number; line: number; column: number; message: string };

/** Nesting deeper than this is refused (the server is not meant to receive deeply nested bodies). */
export const DEFAULT_MAX_DEPTH = 1024;

const ARRAY = 1;
const OBJECT = 2;

/** Hex digit values; -1 for a byte that is not a hex digit. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

/** Bytes that may follow a backslash in a string: " \ / b f n r t (u is handled separately). */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const ch of '"\\/bfnrt') SIMPLE_ESCAPE[ch.charCodeAt(0)] = 1;

/**
 * Validates `bytes` as a JSON text. On success, `topLevel` says what the top value is and `elements` is the number of
 * elements of a top-level array (0 otherwise). On failure, `offset` is the byte offset of the first offending byte
 * (the length of the input when the text ends too early), and `line`/`column` are 1-based (column in UTF-16 code
 * units, as an editor shows it; lines are counted by LF).
 */
export function scanJson(bytes: Uint8Array, maxDepth = DEFAULT_MAX_DEPTH): JsonScanResult {
  const r = scanSyntax(bytes, maxDepth);
  if (!isUtf8(bytes)) {
    const bad = firstInvalidUtf8(bytes);
    if (r.ok || bad < r.offset) return failure(bytes, bad, 'Invalid UTF-8 byte sequence');
  }
  return r.ok ? r : failure(bytes, r.offset, r.message);
}

type SyntaxResult = { ok: true; topLevel: 'array' | 'object' | 'other'; elements: number } | { ok: false; offset: number; message: string };

/** The syntax pass. Bytes >= 0x80 are only accepted inside strings; their UTF-8 form is checked separately. */
function scanSyntax(b: Uint8Array, maxDepth: number): SyntaxResult {
  const n = b.length;
  const stack = new Uint8Array(maxDepth);
  let depth = 0;
  let i = 0;
  let c = 0;
  let elements = 0;
  let topLevel: 'array' | 'object' | 'other' = 'other';
  // True when the next thing must be an object member: `"name" :` and then the value.
  let expectKey = false;

  for (;;) {
    // ---- A value (preceded by a property name when inside an object) starts here.
    while (i < n && ((c = b[i]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;
    if (expectKey) {
      if (i >= n || b[i] !== 0x22) return { ok: false, offset: i, message: `Expected a double-quoted property name, found ${describe(b, i)}` };
      i = scanString(b, i + 1, n);
      if (i < 0) return stringFailure(b, ~i);
      while (i < n && ((c = b[i]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;
      if (i >= n || b[i] !== 0x3a) return { ok: false, offset: i, message: `Expected ':' after a property name, found ${describe(b, i)}` };
      i++;
      while (i < n && ((c = b[i]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;
      expectKey = false;
    }
    if (i >= n) return { ok: false, offset: i, message: 'Unexpected end of input, expected a JSON value' };
    if (depth === 1 && stack[0] === ARRAY) elements++;
    c = b[i];
    if (c === 0x22) {
      i = scanString(b, i + 1, n);
      if (i < 0) return stringFailure(b, ~i);
    } else if (c === 0x7b || c === 0x5b) {
      if (depth >= maxDepth) return { ok: false, offset: i, message: `Nesting deeper than ${maxDepth} levels` };
      if (depth === 0) topLevel = c === 0x5b ? 'array' : 'object';
      stack[depth++] = c === 0x5b ? ARRAY : OBJECT;
      i++;
      while (i < n && ((c = b[i]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;
      if (i < n && b[i] === (stack[depth - 1] === ARRAY ? 0x5d : 0x7d)) {
        i++; // empty container: closed right away
        depth--;
      } else {
        expectKey = stack[depth - 1] === OBJECT;
        continue;
      }
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
      if (c === 0x2d) {
        i++;
        if (i >= n || (c = b[i]) < 0x30 || c > 0x39) return { ok: false, offset: i, message: `Expected a digit after '-', found ${describe(b, i)}` };
      }
      i++;
      if (c !== 0x30) while (i < n && (c = b[i]) >= 0x30 && c <= 0x39) i++;
      if (i < n && b[i] === 0x2e) {
        i++;
        if (i >= n || (c = b[i]) < 0x30 || c > 0x39) {
          return { ok: false, offset: i, message: `Expected a digit after the decimal point, found ${describe(b, i)}` };
        }
        while (i < n && (c = b[i]) >= 0x30 && c <= 0x39) i++;
      }
      if (i < n && ((c = b[i]) === 0x65 || c === 0x45)) {
        i++;
        if (i < n && ((c = b[i]) === 0x2b || c === 0x2d)) i++;
        if (i >= n || (c = b[i]) < 0x30 || c > 0x39) return { ok: false, offset: i, message: `Expected a digit in the exponent, found ${describe(b, i)}` };
        while (i < n && (c = b[i]) >= 0x30 && c <= 0x39) i++;
      }
    } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
      const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
      for (let k = 1; k < word.length; k++) {
        if (i + k >= n || b[i + k] !== word.charCodeAt(k)) return { ok: false, offset: i + k, message: `Invalid literal, expected '${word}'` };
      }
      i += word.length;
    } else {
      return { ok: false, offset: i, message: `Expected a JSON value, found ${describe(b, i)}` };
    }

    // ---- A value has ended: close containers until one continues with ',' or the text ends.
    for (;;) {
      while (i < n && ((c = b[i]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;
      if (depth === 0) {
        if (i === n) return { ok: true, topLevel, elements };
        return { ok: false, offset: i, message: `Unexpected ${describe(b, i)} after the top-level value` };
      }
      c = i < n ? b[i] : -1;
      if (stack[depth - 1] === ARRAY) {
        if (c === 0x2c) break;
        if (c !== 0x5d) return { ok: false, offset: i, message: `Expected ',' or ']' after an array element, found ${describe(b, i)}` };
      } else {
        if (c === 0x2c) {
          expectKey = true;
          break;
        }
        if (c !== 0x7d) return { ok: false, offset: i, message: `Expected ',' or '}' after an object member, found ${describe(b, i)}` };
      }
      i++;
      depth--;
    }
    i++; // the ','
  }
}

/**
 * Scans the rest of a string whose opening quote is just before `i`. Returns the offset after the closing quote, or
 * `~offset` of the offending byte (`~n` when the input ends inside the string).
 */
function scanString(b: Uint8Array, i: number, n: number): number {
  let c = 0;
  for (;;) {
    // Plain bytes (everything but the quote, the backslash and control characters) are skipped in one tight loop.
    while (i < n && (c = b[i]) >= 0x20 && c !== 0x22 && c !== 0x5c) i++;
    if (i >= n) return ~n;
    if (c === 0x22) return i + 1;
    if (c < 0x20) return ~i;
    // A backslash.
    i++;
    if (i >= n) return ~n;
    c = b[i];
    if (SIMPLE_ESCAPE[c] === 1) {
      i++;
    } else if (c === 0x75) {
      for (let k = 1; k <= 4; k++) {
        if (i + k >= n) return ~n;
        if (HEX[b[i + k]] < 0) return ~(i + k);
      }
      i += 5;
    } else {
      return ~i;
    }
  }
}

/** Explains why `scanString` stopped at `offset`. */
function stringFailure(b: Uint8Array, offset: number): { ok: false; offset: number; message: string } {
  if (offset >= b.length) return { ok: false, offset, message: 'Unterminated string' };
  const c = b[offset];
  if (c < 0x20) return { ok: false, offset, message: `Control character U+${c.toString(16).toUpperCase().padStart(4, '0')} must be escaped in a string` };
  if (offset >= 1 && b[offset - 1] === 0x5c) return { ok: false, offset, message: `Invalid escape, found ${describe(b, offset)} after a backslash` };
  return { ok: false, offset, message: `Expected a hex digit in a \\u escape, found ${describe(b, offset)}` };
}

/** How the byte at `i` is shown in a message. */
function describe(b: Uint8Array, i: number): string {
  if (i >= b.length) return 'end of input';
  const c = b[i];
  if (c > 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).toUpperCase().padStart(2, '0')}`;
}

function failure(b: Uint8Array, offset: number, message: string): { ok: false; offset: number; line: number; column: number; message: string } {
  return { ok: false, offset, ...lineColumn(b, offset), message };
}

/** 1-based line (counted by LF) and column (UTF-16 code units) of byte `offset`, which is at a character boundary. */
export function lineColumn(b: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, b.length);
  for (let i = 0; i < end; i++) {
    if (b[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8').length + 1 };
}

/**
 * Offset of the first byte of the first ill-formed UTF-8 sequence (Unicode table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or -1 when the bytes are well-formed. Only used once `isUtf8` has said no.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + len > n) return i;
    const c1 = b[i + 1];
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k < len; k++) {
      const ck = b[i + k];
      if (ck < 0x80 || ck > 0xbf) return i;
    }
    i += len;
  }
  return -1;
}
