// Emulator store: row ids are computed from the sid (not kept per row), and every id finds its row again, also
// after a reload from the data directory (also one saved in the earlier one-table layout); ids of other datasets or
// malformed ones find nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SAMPLE } from '../emulator/seed';
import { EmulatorStore } from '../emulator/store';

const owner = SAMPLE.users.publisher.id;

describe('emulator store: row ids', () => {
  it('finds every row by its :id, and nothing by an id of another dataset or a damaged one', () => {
    const store = new EmulatorStore();
    const a = store.createDataset({ name: 'a', owner, columns: [{ name: 'n', dataTypeName: 'number' }] });
    const b = store.createDataset({ name: 'b', owner, columns: [{ name: 'n', dataTypeName: 'number' }] });
    store.upsertRows(
      a,
      Array.from({ length: 2000 }, (_, i) => ({ n: i })),
    );
    store.upsertRows(b, [{ n: 1 }]);
    const ids = store.getRows(a).map((r) => r.id);
    assert.equal(new Set(ids).size, 2000);
    for (const [i, id] of ids.entries()) {
      assert.match(id, /^row-[a-z2-9]{4}~[a-z2-9]{4}~[a-z2-9]{4}$/);
      assert.equal(store.findRow(a, id)?.v.n, String(i));
    }
    const other = store.getRows(b)[0]?.id ?? '';
    assert.equal(store.findRow(a, other), undefined);
    assert.equal(store.findRow(a, `${ids[0] ?? ''}x`), undefined);
    assert.equal(store.findRow(a, (ids[0] ?? '').replace('~', '-')), undefined);
    // Deleting by :id removes exactly that row.
    const res = store.deleteRows(a, [ids[5] ?? '']);
    assert.equal(res['Rows Deleted'], 1);
    assert.equal(store.findRow(a, ids[5] ?? ''), undefined);
    assert.equal(store.rowCount(a), 1999);
  });

  it('in one request longer than a write batch, later rows see the rows created earlier in it (update, delete)', () => {
    const store = new EmulatorStore();
    const id = store.createDataset({
      name: 'keyed',
      owner,
      columns: [
        { name: 'k', dataTypeName: 'text' },
        { name: 'n', dataTypeName: 'number' },
      ],
      rowIdentifier: 'k',
    });
    const rows: Record<string, unknown>[] = Array.from({ length: 250 }, (_, i) => ({ k: `k${i}`, n: i }));
    // Same key as a row still waiting in the current batch, and as one already written; a delete of each kind.
    rows.push({ k: 'k240', n: 1000 }, { k: 'k10', n: 1001 }, { k: 'k245', ':deleted': true }, { k: 'k20', ':deleted': true });
    const res = store.upsertRows(id, rows);
    assert.equal(res['Rows Created'], 250);
    assert.equal(res['Rows Updated'], 2);
    assert.equal(res['Rows Deleted'], 2);
    assert.equal(res.Errors, 0);
    assert.equal(store.rowCount(id), 248);
    const byKey = new Map(store.getRows(id).map((r) => [r.v.k, r.v.n]));
    assert.equal(byKey.size, 248);
    assert.equal(byKey.get('k240'), '1000');
    assert.equal(byKey.get('k10'), '1001');
    assert.equal(byKey.get('k249'), '249');
    assert.equal(byKey.has('k245'), false);
    assert.equal(byKey.has('k20'), false);
  });

  it('keeps :id, timestamps and values through a reload from the data directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-rows-'));
    try {
      const first = new EmulatorStore({ dataDir: dir });
      const id = first.createDataset({ name: 'a', owner, columns: [{ name: 't', dataTypeName: 'text' }] });
      first.upsertRows(id, [{ t: 'x' }, { t: 'y' }]);
      const before = first.getRows(id).map((r) => ({ id: r.id, createdAt: r.createdAt, v: r.v }));
      first.close();
      const second = new EmulatorStore({ dataDir: dir });
      const after = second.getRows(id).map((r) => ({ id: r.id, createdAt: r.createdAt, v: r.v }));
      assert.deepEqual(after, before);
      assert.equal(second.findRow(id, before[1]?.id ?? '')?.v.t, 'y');
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('moves rows saved in the earlier layout (one rows table of JSON rows) to the dataset tables, sids (so :ids) and times kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-rows-'));
    try {
      const first = new EmulatorStore({ dataDir: dir });
      const id = first.createDataset({ name: 'a', owner, columns: [{ name: 'code', dataTypeName: 'text' }], rowIdentifier: 'code' });
      first.close();
      const db = new Database(join(dir, 'emulator.sqlite'));
      db.exec('CREATE TABLE rows (dataset TEXT NOT NULL, sid INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (dataset, sid)) WITHOUT ROWID');
      const old = [
        { sid: 7, createdAt: 1000, updatedAt: 2000, v: { code: 'A' } },
        { sid: 9, createdAt: 1000, updatedAt: 3000, v: { code: 'B' } },
      ];
      for (const r of old) db.prepare('INSERT INTO rows (dataset, sid, json) VALUES (?, ?, ?)').run(id, r.sid, JSON.stringify(r));
      db.close();
      const second = new EmulatorStore({ dataDir: dir });
      const rows = second.getRows(id);
      assert.deepEqual(
        rows.map((r) => [r.sid, r.updatedAt, r.v.code]),
        [
          [7, 2000, 'A'],
          [9, 3000, 'B'],
        ],
      );
      assert.equal(second.findRow(id, 'B')?.sid, 9, 'found by row identifier');
      assert.equal(second.findRow(id, rows[0]?.id ?? '')?.v.code, 'A', 'found by :id');
      second.close();
      const tables = new Database(join(dir, 'emulator.sqlite'), { readonly: true });
      assert.equal(tables.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'rows'").pluck().get(), 0, 'the old table is gone');
      tables.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
