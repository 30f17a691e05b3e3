// After every flow of the host suite (sign-ins with right and wrong secrets, the dataset browser, previews,
// publishes, cancels and resumes): no secret used anywhere in the suite may be found in settings (user and
// workspace), global and workspace state (state.vscdb, read with better-sqlite3 when it loads here, and byte-scanned
// in any case, with its WAL), the extension's storage (publish journals), the log files (the Socrata output channel
// included) or the workspace.
//
// This suite moves itself to the end of the run (mocha runs root suites in order; this one is put last in a root
// `before` hook), so it sees what every other suite left behind.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { config, note, runner } from './lib/host';

/** Every secret the host suites use (passwords, API key secrets, the OAuth client secret, test-only values). */
const SECRETS = ['publish-me', 'view-only', 'other-pass', 'demo_key_secret', 'demo-app-secret', 'wrong-secret-value'];
const MAX_FILE = 64 * 1024 * 1024;

function filesUnder(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    let st;
    try {
      st = statSync(full);
    } catch {
      continue; // removed while listing
    }
    if (st.isDirectory()) {
      if (name !== 'node_modules' && name !== 'CachedExtensionVSIXs' && name !== 'extensions') filesUnder(full, out);
    } else if (st.size <= MAX_FILE) out.push(full);
  }
  return out;
}

/** The files to scan: user data (settings, state, storage, logs) and the workspace. */
function candidates(): string[] {
  // <user data>/User/globalStorage/<runner id> → <user data>
  const userData = join(runner().context.globalStorageUri.fsPath, '..', '..', '..');
  return [
    ...filesUnder(join(userData, 'User')),
    ...filesUnder(join(userData, 'logs')),
    ...filesUnder(join(userData, 'Machine')),
    ...filesUnder(config().workspaceFolder),
  ];
}

/** Where each secret appears, as UTF-8/Latin-1 bytes or as UTF-16 (SQLite and some logs may use either). */
function leaksIn(files: string[]): string[] {
  const leaks: string[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    for (const secret of SECRETS) {
      if (bytes.includes(Buffer.from(secret, 'latin1')) || bytes.includes(Buffer.from(secret, 'utf16le'))) leaks.push(`${file}: ${secret}`);
    }
  }
  return leaks;
}

interface Sqlite {
  prepare(sql: string): { all(): { key: string; value: unknown }[] };
  close(): void;
}

/** better-sqlite3 from the repository's node_modules, when its native module loads in this extension host. */
function openSqlite(path: string): Sqlite | undefined {
  try {
    const load = createRequire(config().manifestPath);
    const Database = load('better-sqlite3') as new (p: string, o: { readonly: boolean; fileMustExist: boolean }) => Sqlite;
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    note(`secrets scan: ${path} not opened with better-sqlite3 (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); byte scan only`);
    return undefined;
  }
}

const scan = describe('secrets: nothing left behind by any flow of the suite', () => {
  it('no secret in settings, state, storage, logs, the output channel or the workspace', async () => {
    // Let log writers flush what the last flows wrote.
    await new Promise((r) => setTimeout(r, 1500));
    const files = candidates();
    assert.ok(
      files.some((f) => /[\\/]logs[\\/]/.test(f)),
      'found the log files',
    );
    const outputLogs = files.filter((f) => /Socrata\.log$/.test(f));
    assert.ok(outputLogs.length > 0, 'found the Socrata output channel log');
    assert.ok(
      outputLogs.some((f) => readFileSync(f, 'utf8').trim().length > 0),
      'the output channel has content',
    );
    // Desktop VS Code keeps global and workspace state in state.vscdb files under the user data; code-server keeps
    // them in the browser (IndexedDB), out of reach here: the byte scan covers state.vscdb when it exists.
    note(`secrets scan: ${files.length} files, ${files.filter((f) => /state\.vscdb$/.test(f)).length} state.vscdb, ${outputLogs.length} Socrata output log(s)`);
    assert.deepEqual(leaksIn(files), []);

    // Settings as VS Code resolves them (user, workspace, defaults).
    const settings = JSON.stringify(vscode.workspace.getConfiguration().inspect('socrata')) + JSON.stringify(vscode.workspace.getConfiguration('socrata'));
    for (const secret of SECRETS) assert.ok(!settings.includes(secret), `settings hold ${secret}`);
  });

  it('state.vscdb rows (global and workspace state) hold no secret, read through SQLite', function () {
    const dbs = candidates().filter((f) => /state\.vscdb$/.test(f));
    let opened = 0;
    const leaks: string[] = [];
    for (const path of dbs) {
      const db = openSqlite(path);
      if (!db) continue;
      opened++;
      try {
        for (const row of db.prepare('SELECT key, value FROM ItemTable').all()) {
          const text = Buffer.isBuffer(row.value) ? row.value.toString('utf8') : String(row.value);
          for (const secret of SECRETS) if (text.includes(secret) || row.key.includes(secret)) leaks.push(`${path} ${row.key}: ${secret}`);
        }
      } finally {
        db.close();
      }
    }
    if (opened === 0) this.skip(); // the byte scan above still covered these files
    assert.deepEqual(leaks, []);
  });

  it('the scan finds a planted secret (so an empty result means something)', () => {
    const userData = join(runner().context.globalStorageUri.fsPath, '..', '..', '..');
    const dir = join(userData, 'logs', 'secrets-scan-control');
    mkdirSync(dir, { recursive: true });
    const planted = join(dir, 'planted.log');
    writeFileSync(planted, Buffer.from(`token=${SECRETS[3]}`, 'utf16le'));
    try {
      assert.deepEqual(leaksIn(candidates()), [`${planted}: ${SECRETS[3]}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Run after every other root suite, whatever the file order.
before(function () {
  const root = scan.parent;
  if (!root) return;
  root.suites.splice(root.suites.indexOf(scan), 1);
  root.suites.push(scan);
});
