// locateCells (src/csv/locate.ts): the text span of a cell as an editor counts it, for the Problems panel.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readHead, validateFile } from '../../src/csv';
import { cellKey, locateCells } from '../../src/csv/locate';

const dir = mkdtempSync(join(tmpdir(), 'csv-locate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function csv(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** The text of a span, cut from the lines of `text` (split as VS Code does). */
function cut(text: string, s: { startLine: number; startCharacter: number; endLine: number; endCharacter: number }): string {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  if (s.startLine === s.endLine) return (lines[s.startLine] ?? '').slice(s.startCharacter, s.endCharacter);
  return [
    (lines[s.startLine] ?? '').slice(s.startCharacter),
    ...lines.slice(s.startLine + 1, s.endLine),
    (lines[s.endLine] ?? '').slice(0, s.endCharacter),
  ].join('\n');
}

describe('locateCells', () => {
  it('plain, quoted (with delimiters, doubled quotes and line breaks), empty and non-ASCII cells', async () => {
    const text = 'id,name,amount\n1,"Smith, ""Jo""",12\n2,"two\nlines",x\n3,,13\n4,Zoë 🌳,bad\n5,last,99';
    const path = csv('mixed.csv', text);
    const wanted = [
      { line: 2, column: 2 },
      { line: 2, column: 3 },
      { line: 3, column: 2 },
      { line: 3, column: 3 },
      { line: 5, column: 2 },
      { line: 6, column: 3 },
      { line: 7, column: 3 },
      { line: 6, column: 3 },
      { line: 6, column: 2 },
    ];
    const spans = await locateCells({ path, encoding: 'utf-8', delimiter: ',' }, wanted);
    const at = (line: number, column: number): string => {
      const s = spans.get(cellKey({ line, column }));
      assert.ok(s, `cell ${line}:${column} located`);
      return cut(text, s);
    };
    assert.equal(at(2, 2), '"Smith, ""Jo"""');
    assert.equal(at(2, 3), '12');
    assert.equal(at(3, 2), '"two\nlines"');
    assert.equal(at(3, 3), 'x', 'the record starting on line 3 continues on line 4');
    assert.deepEqual(spans.get('3:3'), { startLine: 3, startCharacter: 7, endLine: 3, endCharacter: 8 });
    assert.deepEqual(spans.get('5:2'), { startLine: 4, startCharacter: 2, endLine: 4, endCharacter: 2 }, 'an empty cell');
    assert.equal(at(6, 3), 'bad');
    assert.deepEqual(spans.get('6:3'), { startLine: 5, startCharacter: 9, endLine: 5, endCharacter: 12 }, 'UTF-16 characters: the emoji counts 2');
    assert.equal(at(7, 3), '99', 'the last cell without a final line break');
  });

  it('CRLF, a BOM, semicolons, and a short row (not found)', async () => {
    const text = '\uFEFFa;b;c\r\n1;2;3\r\n4;5\r\n6;"7;x";8\r\n';
    const path = csv('crlf.csv', text);
    const spans = await locateCells({ path, encoding: 'utf-8', delimiter: ';' }, [
      { line: 1, column: 1 },
      { line: 2, column: 3 },
      { line: 3, column: 3 },
      { line: 4, column: 2 },
    ]);
    assert.deepEqual(spans.get('1:1'), { startLine: 0, startCharacter: 0, endLine: 0, endCharacter: 1 }, 'the BOM is not a character of the document');
    assert.equal(cut(text, spans.get('2:3') ?? assert.fail()), '3');
    assert.equal(spans.get('3:3'), undefined);
    assert.equal(cut(text, spans.get('4:2') ?? assert.fail()), '"7;x"');
  });

  it('UTF-16 files', async () => {
    const text = 'a,b\r\n1,é2\r\n';
    const path = csv('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const spans = await locateCells({ path, encoding: 'utf-16le', delimiter: ',' }, [{ line: 2, column: 2 }]);
    assert.deepEqual(spans.get('2:2'), { startLine: 1, startCharacter: 2, endLine: 1, endCharacter: 4 });
  });

  it('matches the lines and columns validateFile reports', async () => {
    const text = 'permit_id,valuation,notes\nP-1,100,"a\nb"\nP-2,twelve thousand,ok\nP-3,,"x"\n';
    const path = csv('validate.csv', text);
    const head = await readHead(path, { rows: 0 });
    const report = await validateFile(path, {
      columns: [
        { fieldName: 'permit_id', name: 'permit_id', dataTypeName: 'text' },
        { fieldName: 'valuation', name: 'valuation', dataTypeName: 'number' },
        { fieldName: 'notes', name: 'notes', dataTypeName: 'text' },
      ],
    });
    const bad = report.columns.flatMap((c) => c.invalid.examples);
    assert.equal(bad.length, 1);
    const spans = await locateCells(
      head.format,
      bad.map((e) => ({ line: e.line, column: e.column })),
    );
    const s = spans.get(cellKey(bad[0]));
    assert.ok(s);
    assert.equal(cut(text, s), 'twelve thousand');
    assert.equal(s.startLine, 3);
  });
});
