// The CLI's progress on stderr (src/cli.ts progressPrinter): a bar redrawn in place on a terminal, a line about every
// 10 s otherwise, nothing with --quiet. Time is the one seam here: the printer takes a clock.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { PROGRESS_LINE_INTERVAL_MS, progressPrinter } from '../../src/cli';
import type { PublishProgress } from '../../src/publish';

function sink(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return Object.assign(w, { isTTY, text: () => text });
}

const progress = (rowsDone: number): PublishProgress => ({
  stage: 'sending',
  rowsDone,
  rowsTotal: 1000,
  bytesDone: rowsDone * 10,
  bytesTotal: 10_000,
  rowsPerSecond: 50,
  etaSeconds: 20,
  lastRequestId: undefined,
});

describe('CLI progress', () => {
  it('not a terminal: a line about every 10 s, the first one 10 s after the start', () => {
    let t = 0;
    const err = sink(false);
    const p = progressPrinter(err, { now: () => t });
    for (const [at, rows] of [
      [0, 10],
      [3_000, 100],
      [9_999, 200],
      [10_000, 300],
      [15_000, 400],
      [19_999, 500],
      [20_000, 600],
      [21_000, 700],
    ] as const) {
      t = at;
      p.onProgress(progress(rows));
    }
    p.done();
    const lines = err.text().trimEnd().split('\n');
    assert.equal(PROGRESS_LINE_INTERVAL_MS, 10_000);
    assert.deepEqual(
      lines.map((l) => /sending (\d+)\/1000 rows/.exec(l)?.[1]),
      ['300', '600'],
    );
    assert.ok(!err.text().includes('\r') && !err.text().includes('\u001b'), 'no terminal control characters');
  });

  it('a terminal: a bar redrawn in place, ended by a newline', () => {
    const err = sink(true);
    const p = progressPrinter(err, { now: () => 0 });
    p.onProgress(progress(250));
    p.onProgress(progress(500));
    p.done();
    const text = err.text();
    assert.equal(text.split('\r').length - 1, 2);
    assert.match(text, /\[######------------------\] {2}25% sending 250\/1000 rows/);
    assert.match(text, /\[############------------\] {2}50% sending 500\/1000 rows.*\n$/);
  });

  it('--quiet: nothing, on a terminal or not', () => {
    for (const tty of [true, false]) {
      let t = 0;
      const err = sink(tty);
      const p = progressPrinter(err, { quiet: true, now: () => t });
      for (let i = 0; i < 5; i++) {
        t += 11_000;
        p.onProgress(progress(i * 100));
      }
      p.done();
      assert.equal(err.text(), '');
    }
  });
});
