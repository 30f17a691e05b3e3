// Messages from the webviews are checked before use. The host tests (test/host/suite/preview.test.ts) check that the
// preview panel ignores and logs malformed messages and renders a strict CSP with a fresh nonce; here the guards
// themselves get arbitrary JSON (what a compromised or buggy webview could post): they never throw, and whatever
// they accept has exactly the documented shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isGridToHost } from '../../src/datasets/grid/protocol';
import { isColumnType, isMode, isWebviewToHost } from '../../src/publishing/protocol';

const KNOWN = new Set(['ready', 'pickDataset', 'setType', 'setTarget', 'setMode', 'newDataset', 'setRowIdentifier', 'openLine', 'action']);
const types = fc.constantFrom(...KNOWN, 'next', 'previous', 'saveCsv', 'retry', 'constructor', '__proto__', 'toString', '');
const messages = fc.oneof(
  fc.jsonValue(),
  fc.record({ type: types }, { requiredKeys: [] }),
  fc.dictionary(
    fc.constantFrom('type', 'column', 'columnType', 'target', 'mode', 'name', 'description', 'field', 'line', 'action', '__proto__', 'constructor'),
    fc.oneof(types, fc.jsonValue(), fc.integer({ min: -3, max: 3 }), fc.constant(null)),
  ),
);

describe('security: webview messages are validated before use', () => {
  it('the preview guard never throws, and accepts only well-formed messages', () => {
    let accepted = 0;
    fc.assert(
      fc.property(messages, (m) => {
        const ok = isWebviewToHost(m);
        if (!ok) return;
        accepted++;
        const r = m as Record<string, unknown>;
        assert.ok(KNOWN.has(r.type as string));
        const isIndex = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
        switch (r.type) {
          case 'setType':
            assert.ok(isIndex(r.column) && isColumnType(r.columnType));
            break;
          case 'setTarget':
            assert.ok(isIndex(r.column) && (r.target === null || (typeof r.target === 'string' && /^[A-Za-z0-9_:@]{1,200}$/.test(r.target))));
            break;
          case 'setMode':
            assert.ok(isMode(r.mode));
            break;
          case 'openLine':
            assert.ok(isIndex(r.column) && typeof r.line === 'number' && Number.isInteger(r.line) && r.line >= 1);
            break;
          case 'action':
            assert.ok(['dryRun', 'publish', 'saveSpec'].includes(r.action as string));
            break;
          case 'setRowIdentifier':
            assert.ok(r.field === null || (typeof r.field === 'string' && /^[a-z_][a-z0-9_]*$/.test(r.field)));
            break;
          case 'newDataset':
            assert.ok(typeof r.name === 'string' && r.name.trim() !== '' && typeof r.description === 'string');
            break;
          default:
            assert.deepEqual(Object.keys(r), ['type']);
        }
      }),
      { numRuns: 3000 },
    );
    assert.ok(accepted > 0, 'some generated messages are well formed (the guard does not refuse everything)');
    for (const bad of [
      null,
      'ready',
      42,
      [{ type: 'ready' }],
      { type: 'ready', extra: 1 },
      { type: 'setType', column: -1, columnType: 'number' },
      { type: 'setTarget', column: 0, target: '../../etc' },
      { type: 'setMode', mode: 'drop' },
      { type: 'action', action: 'eval' },
      { type: 'openLine', line: 0, column: 0 },
    ]) {
      assert.equal(isWebviewToHost(bad), false, JSON.stringify(bad));
    }
  });

  it('the grid guard never throws and accepts only its five commands', () => {
    fc.assert(
      fc.property(messages, (m) => {
        if (isGridToHost(m)) assert.ok(['ready', 'next', 'previous', 'saveCsv', 'retry'].includes((m as { type: string }).type));
      }),
      { numRuns: 2000 },
    );
    for (const bad of [null, undefined, 'next', 1, [], { type: 'run', soql: 'x' }, { type: ['next'] }]) assert.equal(isGridToHost(bad), false);
  });
});
