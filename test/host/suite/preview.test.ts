// The CSV preview and the publish flow in the real extension host, against the emulator (sample seed): the webview's
// strict CSP and fresh nonce per render (the app must still start: it answers `ready`), malformed messages ignored,
// "Publish to Socrata…" on the planted bad file (inferred types, problems in the preview and the Problems panel),
// a publish whose rows land in the emulator, and a cancel that leaves a journal the next publish resumes from.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { permitRow } from '../lib/workspace';
import { config, emulator, extension, signOutAll } from './lib/host';

interface PreviewPanelLike {
  readonly html: string;
  readonly nonces: string[];
  readonly isReady: boolean;
  ignoredMessages: number;
  render(): void;
  receive(m: unknown): void;
  session: { file: string; summary(): FlowSummary };
}

interface FlowSummary {
  file: string;
  mode: string;
  rows: number | undefined;
  problems: number | undefined;
  columns: { header: string; type: string; inferredType: string; target: string | null; problems: number }[];
  error: string | undefined;
}

interface FlowResult {
  file: string;
  preview: FlowSummary;
  outcome:
    | {
        status: string;
        created: number;
        updated: number;
        errors: number;
        appliedRanges: [number, number][];
        resume: { status: string; skippedRows: number } | undefined;
        message: string;
      }
    | undefined;
}

interface Api {
  preview: { flow: { openPreviews: readonly PreviewPanelLike[] }; runner: { running: string | undefined } };
}

function api(): Api {
  return extension().exports as Api;
}

function panelFor(file: string): PreviewPanelLike {
  const p = api().preview.flow.openPreviews.find((x) => x.session.file === file);
  assert.ok(p, `a preview is open for ${file}`);
  return p;
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rowCount(url: string, where?: string): Promise<number> {
  const u = new URL('/resource/bldg-prmt.json', url);
  u.searchParams.set('$select', 'count(*)');
  if (where) u.searchParams.set('$where', where);
  const res = await fetch(u);
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, string>[];
  const first = body[0] ?? {};
  return Number(Object.values(first)[0]);
}

function ws(name: string): string {
  return join(config().workspaceFolder, name);
}

/** Deletes from bldg-prmt (as its owner, over loopback) the rows whose permit ids the given workspace files hold. */
async function deletePublishedRows(url: string, files: string[]): Promise<void> {
  const ids: string[] = [];
  for (const name of files) {
    if (!existsSync(ws(name))) continue;
    for (const line of readFileSync(ws(name), 'utf8').split('\n').slice(1)) {
      const id = line.split(',')[0];
      if (id) ids.push(id);
    }
  }
  const auth = `Basic ${Buffer.from('demo_key_id:demo_key_secret').toString('base64')}`;
  for (let i = 0; i < ids.length; i += 5000) {
    const body = ids.slice(i, i + 5000).map((permit_id) => ({ permit_id, ':deleted': true }));
    const res = await fetch(new URL('/resource/bldg-prmt.json', url), {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, `deleting the published rows: ${await res.text()}`);
  }
  assert.equal(await rowCount(url, "starts_with(permit_id, 'DEMO-') OR starts_with(permit_id, 'CNCL-')"), 0, 'the published rows are gone');
}

describe('preview: webview security and protocol', function () {
  // The first webview of a run loads its bundle in a cold browser; on 2 busy cores that has taken over 20 s.
  this.timeout(120_000);

  before(async () => {
    await extension().activate();
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('renders a strict CSP with a fresh crypto nonce each time, and the app still starts under it', async () => {
    const file = ws('permits-good.csv');
    const result = await vscode.commands.executeCommand<FlowResult>('socrata.csv.preview', vscode.Uri.file(file));
    assert.equal(result.file, file);
    const panel = panelFor(file);
    const html = panel.html;
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replace(/&#39;|&apos;/g, "'");
    assert.ok(csp, 'the HTML has a CSP meta tag');
    assert.match(csp, /^default-src 'none';/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|(^|\s)\*(\s|;|$)|data:|https?:(\s|;|$)/, 'no unsafe or open-ended source');
    assert.match(csp, /style-src [^;]*vscode-cdn\.net|style-src [^;]*vscode-resource|style-src 'self'/, 'styles only from webview.cspSource');
    const nonce = /script-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)?.[1];
    assert.ok(nonce && nonce.length >= 22, 'a nonce of at least 128 bits');
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1] ?? '');
    assert.ok(scripts.length > 0);
    for (const s of scripts) assert.ok(s.includes(`nonce="${nonce}"`), `every script carries the nonce: ${s}`);
    assert.doesNotMatch(html, /\sstyle="/, 'no inline style attributes');
    assert.doesNotMatch(html, /<style/, 'no inline style elements');
    await until('the app to say ready', 50_000, () => panel.isReady);

    panel.render();
    const again = panel.nonces[panel.nonces.length - 1];
    assert.ok(again && again !== nonce, 'a new render has a new nonce');
    assert.ok(panel.html.includes(`'nonce-${again}'`) || panel.html.includes(`&#39;nonce-${again}&#39;`));
    assert.ok(!panel.html.includes(nonce), 'the old nonce is gone');
    assert.equal(new Set(panel.nonces).size, panel.nonces.length);
    await until('the app to say ready after the re-render', 50_000, () => panel.isReady);
  });

  it('ignores malformed messages from the webview and acts on well-formed ones', () => {
    const panel = panelFor(ws('permits-good.csv'));
    const before = JSON.stringify(panel.session.summary().columns);
    const ignoredBefore = panel.ignoredMessages;
    const bad: unknown[] = [
      null,
      'ready',
      42,
      [{ type: 'ready' }],
      { type: 'ready', extra: true },
      { type: 'setType', column: -1, columnType: 'number' },
      { type: 'setType', column: 0, columnType: 'bogus' },
      { type: 'setType', column: '0', columnType: 'text' },
      { type: 'setTarget', column: 0, target: 'no spaces allowed' },
      { type: 'setMode', mode: 'drop-table' },
      { type: 'openLine', line: 0, column: 0 },
      { type: 'action', action: 'deleteEverything' },
      { type: 'newDataset', name: '', description: '' },
      { type: 'unknown' },
    ];
    for (const m of bad) panel.receive(m);
    assert.equal(panel.ignoredMessages - ignoredBefore, bad.length);
    assert.equal(JSON.stringify(panel.session.summary().columns), before, 'nothing changed');
    // A well-formed message is acted on (so the check is not "ignore everything").
    panel.receive({ type: 'setType', column: 2, columnType: 'text' });
    assert.equal(panel.ignoredMessages - ignoredBefore, bad.length);
    assert.equal(panel.session.summary().columns[2]?.type, 'text');
  });
});

describe('publish flow against the emulator', function () {
  this.timeout(180_000);
  let domain = '';
  let url = '';

  before(async function () {
    const emu = emulator();
    if (!emu) this.skip();
    domain = emu.domain;
    url = emu.url;
    await extension().activate();
    // Only the publisher (the owner of bldg-prmt) is signed in, whatever earlier test files did.
    await signOutAll();
    const signedIn = await vscode.commands.executeCommand<{ accountId: string } | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    assert.ok(signedIn, 'signed in as the publisher');
  });

  after(async () => {
    await vscode.workspace.getConfiguration('socrata').update('publish.batchSize', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('socrata').update('publish.concurrency', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await signOutAll();
    // The emulator serves every test file of the run: take out the rows published here (the dataset browser's
    // tests count bldg-prmt's seed rows).
    if (url !== '') await deletePublishedRows(url, ['permits-good.csv', 'permits-cancel.csv']);
  });

  it('Publish to Socrata… on the bad file: types from the dataset, the planted problems in the preview and the Problems panel', async () => {
    const file = ws('permits-bad.csv');
    const result = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), {
      domain,
      dataset: 'bldg-prmt',
      run: 'dryRun',
    });
    const cols = new Map(result.preview.columns.map((c) => [c.header, c]));
    assert.equal(result.preview.error, undefined);
    assert.equal(result.preview.mode, 'upsert', 'bldg-prmt has a row identifier: upsert');
    assert.equal(cols.get('valuation')?.target, 'valuation');
    assert.equal(cols.get('valuation')?.type, 'number', 'the type of the dataset field');
    assert.equal(cols.get('permit_id')?.inferredType, 'text');
    assert.equal(cols.get('inspector')?.target, null, 'a column the dataset lacks is not sent');
    assert.ok((cols.get('valuation')?.problems ?? 0) >= 1, '"twelve thousand" is a problem of valuation');
    assert.ok((result.preview.problems ?? 0) >= 8, `the planted problems are counted (got ${result.preview.problems})`);
    assert.equal(result.outcome?.status, 'dry-run');

    const diags = vscode.languages.getDiagnostics(vscode.Uri.file(file));
    const line3 = diags.find((d) => d.range.start.line === 2);
    assert.ok(line3, 'a diagnostic on line 3');
    assert.match(line3.message, /valuation/);
    assert.equal(line3.severity, vscode.DiagnosticSeverity.Error);
    assert.ok(
      diags.some((d) => d.range.start.line === 9 && /field/.test(d.message)),
      'the short row on line 10',
    );
    assert.ok(
      diags.some((d) => d.range.start.line === 7),
      'the duplicate permit id on line 8',
    );

    // Each cell problem points at its field: the line and the column of the cell, not column 1.
    const located = await waitForCellRange(file, 2);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    assert.ok(located.range.start.character > 0, 'not column 1');
    assert.match(doc.getText(located.range), /twelve thousand/i, 'the range covers the bad valuation cell');

    // Publishing the bad file is refused with the problems named; nothing is sent.
    const before = await rowCount(url);
    const refused = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), {
      domain,
      dataset: 'bldg-prmt',
      run: 'publish',
    });
    assert.equal(refused.outcome?.status, 'refused');
    assert.equal(await rowCount(url), before);
  });

  it('Publish sends the good file: the emulator holds the new rows', async () => {
    const file = ws('permits-good.csv');
    const before = await rowCount(url, "starts_with(permit_id, 'DEMO-')");
    assert.equal(before, 0);
    const result = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), {
      domain,
      dataset: 'bldg-prmt',
      run: 'publish',
    });
    assert.equal(result.outcome?.status, 'success', result.outcome?.message);
    assert.equal(result.outcome.created, 200);
    assert.equal(await rowCount(url, "starts_with(permit_id, 'DEMO-')"), 200);
    const one = (await (await fetch(new URL('/resource/bldg-prmt.json?permit_id=DEMO-000001', url))).json()) as { permit_id: string; valuation: string }[];
    assert.equal(one.length, 1);
    assert.equal(one[0]?.permit_id, 'DEMO-000001');
  });

  it('a cancel mid-publish is not an error and leaves a journal the next publish resumes from', async () => {
    const file = ws('permits-cancel.csv');
    const rows = 30_000;
    const rnd = (() => {
      let a = 99;
      return () => {
        a = (a * 1103515245 + 12345) % 2147483648;
        return a / 2147483648;
      };
    })();
    const lines = ['permit_id,address,valuation,issued_date,is_residential,info_url,location'];
    for (let i = 1; i <= rows; i++) lines.push(permitRow(100_000 + i, rnd).replace(/^DEMO-/, 'CNCL-'));
    writeFileSync(file, `${lines.join('\n')}\n`);
    await vscode.workspace.getConfiguration('socrata').update('publish.batchSize', 100, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('socrata').update('publish.concurrency', 1, vscode.ConfigurationTarget.Global);

    const where = "starts_with(permit_id, 'CNCL-')";
    const running = vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), { domain, dataset: 'bldg-prmt', run: 'publish' });
    await until('rows to arrive at the emulator', 60_000, async () => (await rowCount(url, where)) > 0);
    assert.equal(await vscode.commands.executeCommand<boolean>('socrata.publish.cancel'), true);
    const cancelled = await running;
    assert.equal(cancelled.outcome?.status, 'cancelled', cancelled.outcome?.message);
    const applied = cancelled.outcome.appliedRanges.reduce((n, [a, b]) => n + (b - a + 1), 0);
    assert.ok(applied > 0 && applied < rows, `some rows were applied before the cancel (${applied})`);
    assert.equal(await vscode.commands.executeCommand<boolean>('socrata.publish.cancel'), false, 'nothing runs any more');

    const resumed = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), {
      domain,
      dataset: 'bldg-prmt',
      run: 'publish',
    });
    assert.equal(resumed.outcome?.status, 'success', resumed.outcome?.message);
    assert.equal(resumed.outcome.resume?.status, 'resumed');
    assert.ok((resumed.outcome.resume?.skippedRows ?? 0) >= applied, 'the applied rows were skipped');
    assert.equal(await rowCount(url, where), rows);
  });

  it('with a second account on the portal that may only read the dataset, a target given without an account publishes as the one that may write', async () => {
    const other = await vscode.commands.executeCommand<{ accountId: string } | undefined>('socrata.auth.signInWithPassword', {
      domain,
      email: 'other@example.org',
      password: 'other-pass',
    });
    assert.ok(other, 'signed in as a second user');
    try {
      const listed = ((await vscode.commands.executeCommand<{ domain: string; email: string }[] | undefined>('socrata.auth.listAccounts')) ?? []).filter(
        (a) => a.domain === domain,
      );
      assert.deepEqual(
        listed.map((a) => a.email),
        ['other@example.org', 'publisher@example.org'],
        'the reader comes first, so "the first account" would be refused',
      );
      const file = ws('permits-good.csv');
      const result = await vscode.commands.executeCommand<FlowResult | undefined>('socrata.csv.publish', vscode.Uri.file(file), {
        domain,
        dataset: 'bldg-prmt',
        run: 'dryRun',
      });
      assert.ok(result, 'the command returned its summary (no error)');
      assert.equal(result.preview.error, undefined);
      assert.equal(result.outcome?.status, 'dry-run', result.outcome?.message);
    } finally {
      await vscode.commands.executeCommand('socrata.auth.signOut', { accountId: other.accountId });
    }
  });

  it('Publish Again with a spec naming only the portal runs as the signed-in account that may write, not the first one', async () => {
    const other = await vscode.commands.executeCommand<{ accountId: string } | undefined>('socrata.auth.signInWithPassword', {
      domain,
      email: 'other@example.org',
      password: 'other-pass',
    });
    assert.ok(other, 'signed in as a second user');
    const spec = ws('permits-again.socrata.json');
    writeFileSync(spec, JSON.stringify({ domain, dataset: 'bldg-prmt', csv: 'permits-good.csv', mode: 'upsert' }, null, 2));
    try {
      const listed = ((await vscode.commands.executeCommand<{ domain: string; email: string }[] | undefined>('socrata.auth.listAccounts')) ?? []).filter(
        (a) => a.domain === domain,
      );
      assert.equal(listed[0]?.email, 'other@example.org', 'the reader comes first, so "the first account" would be refused');
      const outcome = await vscode.commands.executeCommand<{ status: string; message?: string; updated?: number } | undefined>('socrata.publishAgain', {
        spec,
        run: 'publish',
        confirmed: true,
      });
      assert.ok(outcome, 'the command returned its outcome (no error)');
      assert.equal(outcome.status, 'success', outcome.message);
      assert.equal(outcome.updated, 200, 'the rows published by the earlier test are updated');
    } finally {
      rmSync(spec, { force: true });
      await vscode.commands.executeCommand('socrata.auth.signOut', { accountId: other.accountId });
    }
  });
});

/** The first diagnostic of `file` on 0-based `line` whose range starts past column 1 (they are refined after the scan). */
async function waitForCellRange(file: string, line: number): Promise<vscode.Diagnostic> {
  const end = Date.now() + 20_000;
  for (;;) {
    const d = vscode.languages.getDiagnostics(vscode.Uri.file(file)).find((x) => x.range.start.line === line && x.range.start.character > 0);
    if (d) return d;
    if (Date.now() > end) throw new Error(`no diagnostic on line ${line + 1} pointing at a cell`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
