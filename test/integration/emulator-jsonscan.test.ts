// The sink's byte-level JSON validator (test/emulator/jsonscan.ts):
// - hand cases: every kind of error, with its byte offset, line and column;
// - properties: it accepts what JSON.stringify writes and counts a top-level array like JSON.parse; on mutated and
//   random text and bytes it accepts exactly what JSON.parse of the decoded text accepts when the bytes are UTF-8;
//   on ASCII text it points at the same position V8's error message names;
// - the sink-mode emulator answers a malformed body with 400 and a good one with its row count.
import assert from 'node:assert/strict';
import { isAscii, isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { startEmulator } from '../emulator/index';
import { DEFAULT_MAX_DEPTH, firstInvalidUtf8, scanJson, type JsonScanResult } from '../emulator/jsonscan';
import { PUBLISHER_AUTH, call } from '../emulator/testing';

const bytes = (s: string | readonly number[]): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s));

function parses(b: Buffer): { ok: true; value: unknown } | { ok: false; message: string } {
  if (!isUtf8(b)) return { ok: false, message: 'not UTF-8' };
  try {
    return { ok: true, value: JSON.parse(b.toString('utf8')) as unknown };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

/** Line and column computed from the decoded text, the way the emulator's other JSON errors do it. */
function textPosition(b: Buffer, offset: number): { line: number; column: number } {
  const lines = b.subarray(0, offset).toString('utf8').split('\n');
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

function assertAgrees(b: Buffer): JsonScanResult {
  const r = scanJson(b);
  const p = parses(b);
  assert.equal(r.ok, p.ok, `${JSON.stringify(b.toString('latin1'))}: scan ${r.ok ? 'ok' : r.message}, JSON.parse ${p.ok ? 'ok' : p.message}`);
  if (r.ok && p.ok) {
    assert.equal(r.topLevel, Array.isArray(p.value) ? 'array' : p.value !== null && typeof p.value === 'object' ? 'object' : 'other');
    assert.equal(r.elements, Array.isArray(p.value) ? p.value.length : 0);
  }
  if (!r.ok) {
    assert.ok(r.offset >= 0 && r.offset <= b.length);
    assert.deepEqual({ line: r.line, column: r.column }, textPosition(b, r.offset));
  }
  return r;
}

type Failure = Extract<JsonScanResult, { ok: false }>;
function fails(input: string | readonly number[] | Buffer, maxDepth?: number): Failure {
  const r = scanJson(Buffer.isBuffer(input) ? input : bytes(input), maxDepth);
  if (r.ok) assert.fail(`accepted ${JSON.stringify(input)}`);
  return r;
}

describe('emulator sink: JSON scanner, hand cases', () => {
  it('accepts every kind of value and counts the elements of a top-level array', () => {
    assert.deepEqual(scanJson(bytes('[]')), { ok: true, topLevel: 'array', elements: 0 });
    assert.deepEqual(scanJson(bytes(' \t\r\n[ 1 , "a", {"b": [2, 3], "c": {}}, [], null, true, false, -0.5e+10, 0, 1E-7, 12.25 ]\n')), {
      ok: true,
      topLevel: 'array',
      elements: 11,
    });
    assert.deepEqual(scanJson(bytes('{"a": [1, 2], "": {"x": null}}')), { ok: true, topLevel: 'object', elements: 0 });
    assert.deepEqual(scanJson(bytes('{}')), { ok: true, topLevel: 'object', elements: 0 });
    for (const scalar of ['"x"', '0', '-0', '1E5', '-12.5e-3', 'true', 'false', 'null', '""']) {
      assert.deepEqual(scanJson(bytes(scalar)), { ok: true, topLevel: 'other', elements: 0 }, scalar);
    }
    assert.deepEqual(scanJson(bytes('["\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\\ud800", "é😀 ~\u007f"]')), { ok: true, topLevel: 'array', elements: 2 });
    assert.deepEqual(scanJson(bytes('[[1, 2, 3], [4]]')), { ok: true, topLevel: 'array', elements: 2 });
  });

  it('refuses empty input and input that ends early', () => {
    assert.deepEqual(fails(''), { ok: false, offset: 0, line: 1, column: 1, message: 'Unexpected end of input, expected a JSON value' });
    assert.deepEqual(fails('  \n '), { ok: false, offset: 4, line: 2, column: 2, message: 'Unexpected end of input, expected a JSON value' });
    assert.match(fails('[1, 2').message, /Expected ',' or '\]' after an array element, found end of input/);
    assert.equal(fails('[1, 2').offset, 5);
    assert.match(fails('{"a": 1').message, /Expected ',' or '\}' after an object member, found end of input/);
    assert.equal(fails('{"a"').offset, 4);
    assert.equal(fails('[').offset, 1);
  });

  it('refuses structural mistakes at the offending byte', () => {
    const cases: [string, number, RegExp][] = [
      ['[1,]', 3, /^Expected a JSON value, found '\]'$/],
      ['[,1]', 1, /^Expected a JSON value, found ','$/],
      ['[1 2]', 3, /^Expected ',' or '\]' after an array element, found '2'$/],
      ['[1}', 2, /^Expected ',' or '\]'/],
      ['{"a":1 "b":2}', 7, /^Expected ',' or '\}' after an object member, found '"'$/],
      ['{"a":1]', 6, /^Expected ',' or '\}'/],
      ['{"a" 1}', 5, /^Expected ':' after a property name, found '1'$/],
      ['{a:1}', 1, /^Expected a double-quoted property name, found 'a'$/],
      ['{"a":1,}', 7, /^Expected a double-quoted property name, found '\}'$/],
      ["{'a':1}", 1, /^Expected a double-quoted property name/],
      ['{"a":}', 5, /^Expected a JSON value, found '\}'$/],
      ['[1]]', 3, /^Unexpected '\]' after the top-level value$/],
      ['[1] [2]', 4, /^Unexpected '\[' after the top-level value$/],
      ['"a""b"', 3, /after the top-level value/],
      ['\uFEFF[]', 0, /^Expected a JSON value, found byte 0xEF$/],
      ['[é]', 1, /^Expected a JSON value, found byte 0xC3$/],
      ['[\u0000]', 1, /^Expected a JSON value, found byte 0x00$/],
      ['[1]\u000b', 3, /^Unexpected byte 0x0B after the top-level value$/],
    ];
    for (const [text, offset, message] of cases) {
      const r = fails(text);
      assert.equal(r.offset, offset, text);
      assert.match(r.message, message, text);
    }
  });

  it('refuses bad strings: unterminated, raw control characters, bad escapes', () => {
    const cases: [string, number, RegExp][] = [
      ['"abc', 4, /^Unterminated string$/],
      ['["abc\\"]', 8, /^Unterminated string$/],
      ['"a\\', 3, /^Unterminated string$/],
      ['"\\u12', 5, /^Unterminated string$/],
      ['"a\nb"', 2, /^Control character U\+000A must be escaped in a string$/],
      ['"a\tb"', 2, /^Control character U\+0009/],
      ['"\u001f"', 1, /^Control character U\+001F/],
      ['"\\x"', 2, /^Invalid escape, found 'x' after a backslash$/],
      ['"\\U00e9"', 2, /^Invalid escape, found 'U'/],
      ['"\\\'"', 2, /^Invalid escape/],
      ['"\\u12g4"', 5, /^Expected a hex digit in a \\u escape, found 'g'$/],
      ['"\\u12"', 5, /^Expected a hex digit in a \\u escape, found '"'$/],
      ['"\\u123g"', 6, /^Expected a hex digit in a \\u escape, found 'g'$/],
      ['"\\u123"', 6, /^Expected a hex digit in a \\u escape, found '"'$/],
      ['{"a\u0001":1}', 3, /^Control character U\+0001/],
    ];
    for (const [text, offset, message] of cases) {
      const r = fails(text);
      assert.equal(r.offset, offset, text);
      assert.match(r.message, message, text);
    }
  });

  it('refuses numbers outside the JSON grammar', () => {
    const cases: [string, number, RegExp][] = [
      ['01', 1, /^Unexpected '1' after the top-level value$/],
      ['[-01]', 3, /^Expected ',' or '\]'/],
      ['-', 1, /^Expected a digit after '-', found end of input$/],
      ['-a', 1, /^Expected a digit after '-', found 'a'$/],
      ['1.', 2, /^Expected a digit after the decimal point, found end of input$/],
      ['1.e5', 2, /^Expected a digit after the decimal point, found 'e'$/],
      ['1e', 2, /^Expected a digit in the exponent, found end of input$/],
      ['[1e+]', 4, /^Expected a digit in the exponent, found '\]'$/],
      ['+1', 0, /^Expected a JSON value, found '\+'$/],
      ['.5', 0, /^Expected a JSON value, found '\.'$/],
      ['0x10', 1, /^Unexpected 'x' after the top-level value$/],
      ['NaN', 0, /^Expected a JSON value, found 'N'$/],
      ['-Infinity', 1, /^Expected a digit after '-'/],
      ['1.5.2', 3, /after the top-level value/],
    ];
    for (const [text, offset, message] of cases) {
      const r = fails(text);
      assert.equal(r.offset, offset, text);
      assert.match(r.message, message, text);
    }
  });

  it('refuses misspelt literals', () => {
    const cases: [string, number, RegExp][] = [
      ['tru', 3, /^Invalid literal, expected 'true'$/],
      ['[nulL]', 4, /^Invalid literal, expected 'null'$/],
      ['fals e', 4, /^Invalid literal, expected 'false'$/],
      ['True', 0, /^Expected a JSON value, found 'T'$/],
      ['truex', 4, /^Unexpected 'x' after the top-level value$/],
    ];
    for (const [text, offset, message] of cases) {
      const r = fails(text);
      assert.equal(r.offset, offset, text);
      assert.match(r.message, message, text);
    }
  });

  it('limits the nesting depth', () => {
    assert.equal(DEFAULT_MAX_DEPTH, 1024);
    assert.deepEqual(scanJson(bytes('['.repeat(1024) + ']'.repeat(1024))), { ok: true, topLevel: 'array', elements: 1 });
    assert.deepEqual(fails('['.repeat(1025) + ']'.repeat(1025)), {
      ok: false,
      offset: 1024,
      line: 1,
      column: 1025,
      message: 'Nesting deeper than 1024 levels',
    });
    assert.deepEqual(scanJson(bytes('[{"a": 1}]'), 2), { ok: true, topLevel: 'array', elements: 1 });
    assert.deepEqual(fails('[{"a": [1]}]', 2), { ok: false, offset: 7, line: 1, column: 8, message: 'Nesting deeper than 2 levels' });
  });

  it('refuses bytes that are not well-formed UTF-8, unless a syntax error comes first', () => {
    const bad: [number[], number][] = [
      [[0x22, 0xff, 0x22], 1], // never valid
      [[0x22, 0x41, 0xc0, 0x80, 0x22], 2], // overlong NUL
      [[0x22, 0xe0, 0x80, 0xaf, 0x22], 1], // overlong '/'
      [[0x22, 0xed, 0xa0, 0x80, 0x22], 1], // encoded surrogate
      [[0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], 1], // above U+10FFFF
      [[0x22, 0xc3, 0x22], 1], // truncated sequence
      [[0x22, 0x80, 0x22], 1], // lone continuation byte
      [[0x5b, 0x22, 0x61, 0x22, 0x2c, 0x22, 0xe2, 0x82], 6], // truncated at the end: the UTF-8 error comes first
    ];
    for (const [b, offset] of bad) {
      assert.deepEqual(fails(b), { ok: false, offset, line: 1, column: offset + 1, message: 'Invalid UTF-8 byte sequence' }, JSON.stringify(b));
    }
    const syntaxFirst = fails(Buffer.concat([bytes('[1,]'), Buffer.from([0xff])]));
    assert.equal(syntaxFirst.offset, 3);
    assert.match(syntaxFirst.message, /^Expected a JSON value/);
  });

  it('gives 1-based lines (by LF) and columns in UTF-16 code units', () => {
    // Line 2 is `  "é😀", x]`: é is 2 bytes and 1 unit, 😀 is 4 bytes and 2 units.
    assert.deepEqual(fails('[\n  "é😀", x]'), { ok: false, offset: 14, line: 2, column: 10, message: "Expected a JSON value, found 'x'" });
    assert.deepEqual(fails('[\r\n1,\r\n]'), { ok: false, offset: 7, line: 3, column: 1, message: "Expected a JSON value, found ']'" });
    assert.deepEqual(fails('{\n"a":\n\n  tx}'), { ok: false, offset: 11, line: 4, column: 4, message: "Invalid literal, expected 'true'" });
  });
});

/** JSON texts with up to a few edits from characters that matter to the grammar. */
const grammarChar = fc.constantFrom(...'{}[],:"\\ \n\r\t0123456789-+.eEtrufalsnxu/é😀\u0000\u001f\u007f\uFEFF');
const edit = fc.tuple(fc.nat(), fc.nat({ max: 3 }), grammarChar);
function applyEdits(text: string, edits: readonly (readonly [number, number, string])[]): string {
  let s = text;
  for (const [at, kind, ch] of edits) {
    const k = at % (s.length + 1);
    if (kind === 0) s = s.slice(0, k) + s.slice(k + 1);
    else if (kind === 1) s = s.slice(0, k) + ch + s.slice(k);
    else if (kind === 2) s = s.slice(0, k) + ch + s.slice(k + 1);
    else s = s.slice(0, k);
  }
  return s;
}

describe('emulator sink: JSON scanner, properties', () => {
  it('accepts what JSON.stringify writes and counts a top-level array like JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 0, 2, '\t'), (value, indent) => {
        const b = bytes(JSON.stringify(value, null, indent));
        const r = scanJson(b);
        assert.deepEqual(r, {
          ok: true,
          topLevel: Array.isArray(value) ? 'array' : value !== null && typeof value === 'object' ? 'object' : 'other',
          elements: Array.isArray(value) ? value.length : 0,
        });
        assertAgrees(b);
      }),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(fc.json(), (text) => void assertAgrees(bytes(text))),
      { numRuns: 500 },
    );
  });

  it('accepts exactly what JSON.parse accepts, for edited and truncated JSON text', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), fc.array(edit, { minLength: 1, maxLength: 4 }), (text, edits) => void assertAgrees(bytes(applyEdits(text, edits)))),
      { numRuns: 4000 },
    );
  });

  it('accepts exactly what JSON.parse accepts, for random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: grammarChar, maxLength: 30 }), (s) => void assertAgrees(bytes(s))),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => void assertAgrees(bytes(s))),
      { numRuns: 1000 },
    );
  });

  it('accepts exactly the UTF-8 bytes JSON.parse accepts, for byte-level edits and random bytes', () => {
    const byteEdit = fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), fc.array(byteEdit, { minLength: 1, maxLength: 3 }), (text, edits) => {
        let b = bytes(text);
        for (const [at, kind, byte] of edits) {
          const k = at % (b.length + 1);
          const one = Buffer.from([byte]);
          b =
            kind === 0
              ? Buffer.concat([b.subarray(0, k), one, b.subarray(k)])
              : kind === 1
                ? Buffer.concat([b.subarray(0, k), one, b.subarray(k + 1)])
                : Buffer.concat([b.subarray(0, k), b.subarray(k + 1)]);
        }
        assertAgrees(b);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (a) => void assertAgrees(Buffer.from(a))),
      { numRuns: 1000 },
    );
  });

  it('points at the position V8 names, on ASCII text where V8 names one', () => {
    let compared = 0;
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), fc.array(edit, { minLength: 1, maxLength: 3 }), (text, edits) => {
        const s = applyEdits(text, edits);
        if (!isAscii(bytes(s))) return;
        const r = scanJson(bytes(s));
        const p = parses(bytes(s));
        if (r.ok || p.ok) return;
        const m = /at position (\d+)/.exec(p.message);
        if (!m) return;
        compared++;
        assert.equal(r.offset, Number(m[1]), `${JSON.stringify(s)}: V8 says "${p.message}", scan says ${r.offset} "${r.message}"`);
      }),
      { numRuns: 3000 },
    );
    assert.ok(compared > 100, `only ${compared} comparisons`);
  });

  it('finds the first ill-formed UTF-8 sequence exactly when isUtf8 refuses the bytes', () => {
    const highBytes = fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a.map((x) => (x < 64 ? x : 0x80 + (x % 0x80)))));
    fc.assert(
      fc.property(
        fc.oneof(
          highBytes,
          fc.string({ unit: 'binary', maxLength: 8 }).map((s) => bytes(s)),
        ),
        (b) => {
          const at = firstInvalidUtf8(b);
          assert.equal(at === -1, isUtf8(b));
          if (at >= 0) {
            assert.ok(isUtf8(b.subarray(0, at)), 'the bytes before the reported sequence are well-formed');
            assert.ok(new TextDecoder('utf-8').decode(b.subarray(at)).startsWith('\uFFFD'), 'a sequence starts there that a decoder replaces');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('emulator sink: JSON bodies', () => {
  it('answers a malformed body with 400 req.body.malformed-json and a good one with its row count', async () => {
    const sink = await startEmulator({ seed: 'sample', sink: true });
    try {
      const post = (body: string | Buffer) =>
        call<{ message: string; errorCode: string; data: unknown; 'Rows Created': number }>(sink.url, '/resource/abcd-1234.json', {
          method: 'POST',
          headers: { authorization: PUBLISHER_AUTH, 'content-type': 'application/json' },
          body,
        });
      const bad = await post('[{"a": "1"},\n  {"a": "2",}]');
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body, { message: 'Malformed JSON at line 2, column 13', errorCode: 'req.body.malformed-json', data: { row: 2, column: 13 } });
      const notUtf8 = await post(Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d]));
      assert.equal(notUtf8.status, 400);
      assert.deepEqual(notUtf8.body.data, { row: 1, column: 3 });
      assert.equal((await post('')).status, 400);
      assert.deepEqual([sink.store.sinkCounters.requests, sink.store.sinkCounters.rows], [0, 0]);

      const rows = Array.from({ length: 1234 }, (_, i) => ({ id: `R${i}`, note: `row "${i}"\n\u00e9`, nested: { list: [i, i + 1] } }));
      const good = await post(JSON.stringify(rows));
      assert.equal(good.status, 200);
      assert.equal(good.body['Rows Created'], 1234);
      const one = await post(' {"id": "X", "list": [1, 2, 3]} ');
      assert.equal(one.status, 200);
      assert.equal(one.body['Rows Created'], 1);
      assert.deepEqual([sink.store.sinkCounters.requests, sink.store.sinkCounters.rows], [2, 1235]);
    } finally {
      await sink.stop();
    }
  });
});
