import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type * as vscode from 'vscode';
import { runner } from './lib/host';

describe('SecretStorage in this VS Code', () => {
  it('stores, reads, reports changes and deletes a secret', async () => {
    const secrets = runner().context.secrets;
    const key = `host-test-${randomUUID()}`;
    const value = `value-${randomUUID()}`;
    const changed: string[] = [];
    const listener: vscode.Disposable = secrets.onDidChange((e) => changed.push(e.key));
    try {
      assert.equal(await secrets.get(key), undefined);
      await secrets.store(key, value);
      assert.equal(await secrets.get(key), value);
      await secrets.delete(key);
      assert.equal(await secrets.get(key), undefined);
      assert.ok(changed.includes(key), 'onDidChange did not fire for the key');
    } finally {
      listener.dispose();
    }
  });
});
