// SODA3 fallback in real VS Code: with the emulator's SODA3 switched off (as on a portal without it), Run SoQL
// Query, Preview Rows and Save as CSV still answer, through SODA 2.1 /resource, and the extension logs the switch
// once. The portal is reached as `localhost:<port>` so that the per-domain memory of the fallback does not touch
// the `127.0.0.1:<port>` domain the other host tests use over SODA3.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import * as vscode from 'vscode';
import { emulator, signOutAll, socrataLog, socrataLogWhen } from './lib/host';

const KEY = 'Basic ' + Buffer.from('demo_key_id:demo_key_secret').toString('base64');

async function setSoda(url: string, soda: 2 | 3): Promise<void> {
  const res = await fetch(new URL('/__emulator/soda', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ soda }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** Rows straight from the emulator's SODA 2.1 endpoint. */
async function expectedRows(url: string, id: string, statement: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(new URL(`/resource/${id}.json?$query=${encodeURIComponent(statement)}`, url), { headers: { authorization: KEY } });
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>[];
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('SODA3: falling back to SODA 2.1 on a portal without it', function () {
  this.timeout(60_000);
  let url = '';
  let domain = '';

  before(async function () {
    const emu = emulator();
    if (!emu) this.skip();
    url = emu.url;
    domain = `localhost:${new URL(emu.url).port}`;
    await signOutAll();
    await setSoda(url, 2);
    const signedIn = await vscode.commands.executeCommand<{ domain: string } | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    assert.ok(signedIn, 'signed in to the portal without SODA3');
  });

  after(async () => {
    if (url !== '') await setSoda(url, 3);
    await signOutAll();
  });

  it('Run SoQL Query, Preview Rows and Save as CSV answer through /resource; the switch is logged once', async () => {
    const query = 'SELECT permit_id, valuation WHERE valuation > 100000 ORDER BY permit_id LIMIT 5';
    const result = await vscode.commands.executeCommand<{ rows: (string | null)[][]; error?: string }>('socrata.dataset.runQuery', {
      domain,
      id: 'bldg-prmt',
      query,
    });
    assert.equal(result.error, undefined);
    const expected = await expectedRows(url, 'bldg-prmt', query);
    assert.equal(expected.length, 5);
    assert.deepEqual(
      result.rows.map((r) => r[0]),
      expected.map((r) => String(r.permit_id)),
    );

    const preview = await vscode.commands.executeCommand<{ rows: (string | null)[][]; hasNext: boolean; error?: string }>('socrata.dataset.previewRows', {
      domain,
      id: 'crsh-larg',
    });
    assert.equal(preview.error, undefined);
    assert.equal(preview.rows.length, 100);
    assert.equal(preview.hasNext, true);
    const first = await expectedRows(url, 'crsh-larg', 'SELECT crash_id ORDER BY :id LIMIT 100');
    assert.deepEqual(
      preview.rows.map((r) => r[0]),
      first.map((r) => String(r.crash_id)),
    );

    const dir = mkdtempSync(join(tmpdir(), 'socrata-soda3-'));
    try {
      const target = join(dir, 'crashes.csv');
      const saved = await vscode.commands.executeCommand<{ rows: number; path: string }>('socrata.query.saveCsv', {
        domain,
        id: 'crsh-larg',
        query: 'SELECT crash_id',
        target,
      });
      const records = parse<Record<string, string>>(readFileSync(target, 'utf8'), { columns: true });
      assert.ok(records.length > 1000, `past SODA 2.1's default of 1000 rows: ${records.length}`);
      assert.equal(saved.rows, records.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const told = `${domain} has no SODA3 query API`;
    const log = await socrataLogWhen('the SODA3 fallback notice', (text) => text.includes(told));
    assert.equal(occurrences(log, told), 1, 'logged once for the domain, not per query');
    assert.equal(occurrences(socrataLog(), `127.0.0.1:${new URL(url).port} has no SODA3`), 0, 'the other domain keeps SODA3');
  });
});
