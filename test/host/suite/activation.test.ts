import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extension, manifest, note, runner, workbenchViewCommands } from './lib/host';

describe('activation', () => {
  it('does not activate at start-up', () => {
    const events = manifest().activationEvents ?? [];
    assert.ok(!events.includes('*'), 'activationEvents must not contain "*"');
    assert.ok(!events.includes('onStartupFinished'), 'activationEvents must not contain "onStartupFinished"');
    assert.equal(runner().activeAtStartup, false, 'the extension was already active when start-up finished');
  });

  it('activates when one of its commands runs', async () => {
    const ext = extension();
    const started = performance.now();
    await vscode.commands.executeCommand('socrata.showLog');
    const elapsed = performance.now() - started;
    assert.equal(ext.isActive, true);
    note(`activation (first socrata.showLog, activation included): ${elapsed.toFixed(0)} ms`);
  });

  it('registers every command it contributes', async () => {
    await extension().activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = (manifest().contributes?.commands ?? []).map((c) => c.command);
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  it('contributes every socrata.* command it registers (besides those VS Code makes for its views)', async () => {
    await extension().activate();
    const contributed = new Set((manifest().contributes?.commands ?? []).map((c) => c.command));
    const generated = workbenchViewCommands();
    const registered = (await vscode.commands.getCommands(true)).filter((id) => id.startsWith('socrata.') && !generated.has(id));
    const extra = registered.filter((id) => !contributed.has(id));
    assert.deepEqual(extra, [], `registered but not in contributes.commands: ${extra.join(', ')}`);
  });
});
