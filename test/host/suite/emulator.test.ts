import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { emulator } from './lib/host';

describe('the emulator from inside the extension host', () => {
  before(function () {
    if (!emulator()) this.skip();
  });

  it('points socrata.defaultDomain at the emulator', () => {
    assert.equal(vscode.workspace.getConfiguration('socrata').get('defaultDomain'), emulator()?.domain);
  });

  it('serves the sample dataset bldg-prmt over loopback HTTP', async () => {
    const base = emulator()?.url;
    assert.ok(base);
    const response = await fetch(new URL('/api/views/bldg-prmt.json', base));
    assert.equal(response.status, 200);
    const view = (await response.json()) as { id?: string; name?: string };
    assert.equal(view.id, 'bldg-prmt');
    assert.equal(view.name, 'Building Permits');
  });
});
