// Edit Dataset Metadata in the real extension host, against the emulator: the document through the socrata: file
// system, the portal's schema, saving (one change on the server), a refused document, a risky change shown as a
// diff and confirmed (or not), and a save conflict with Compare and Overwrite.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SocrataExtensionApi } from '../../../src/extension';
import type { MetadataPrompts } from '../../../src/metadata';
import { emulator, extension, signOutAll } from './lib/host';

const ID = 'tree-cnsu';
const AUTH = `Basic ${Buffer.from('publisher@example.org:publish-me').toString('base64')}`;

function api(): SocrataExtensionApi {
  return extension().exports as SocrataExtensionApi;
}

async function serverView(): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(`/api/views/${ID}.json`, emulator()?.url), { headers: { authorization: AUTH } });
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

async function putView(body: unknown): Promise<void> {
  const res = await fetch(new URL(`/api/views/${ID}.json`, emulator()?.url), {
    method: 'PUT',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

/** Replaces the whole text of the editor's document and saves it; returns what `save()` answered. */
async function editAndSave(editor: vscode.TextEditor, change: (doc: Record<string, unknown>) => void): Promise<boolean> {
  const doc = JSON.parse(editor.document.getText()) as Record<string, unknown>;
  change(doc);
  const edit = new vscode.WorkspaceEdit();
  const all = new vscode.Range(editor.document.positionAt(0), editor.document.positionAt(editor.document.getText().length));
  edit.replace(editor.document.uri, all, `${JSON.stringify(doc, null, 2)}\n`);
  assert.ok(await vscode.workspace.applyEdit(edit));
  return editor.document.save();
}

function diffTabs(): vscode.TabInputTextDiff[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).flatMap((t) => (t.input instanceof vscode.TabInputTextDiff ? [t.input] : []));
}

/** Reverts the unsaved metadata documents (so closing asks nothing), then closes every editor. */
async function closeAll(): Promise<void> {
  for (const doc of vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'socrata' && d.isDirty)) {
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

describe('Edit Dataset Metadata', function () {
  this.timeout(90_000);
  let domain = '';
  let original: Record<string, unknown>;
  const asked: { risky: string[][]; conflicts: number } = { risky: [], conflicts: 0 };
  let answers: { risky: boolean; conflict: 'compare' | 'overwrite' | undefined } = { risky: true, conflict: undefined };
  const prompts: MetadataPrompts = {
    confirmRisky: (_title, risks) => {
      asked.risky.push(risks);
      return Promise.resolve(answers.risky);
    },
    conflict: () => {
      asked.conflicts++;
      return Promise.resolve(answers.conflict);
    },
  };

  before(async function () {
    const emu = emulator();
    if (!emu) this.skip();
    domain = emu.domain;
    await extension().activate();
    await signOutAll();
    const result = await vscode.commands.executeCommand<{ domain: string } | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    assert.equal(result?.domain, domain);
    api().metadata.setPrompts(prompts);
    original = await serverView();
  });

  after(async () => {
    await closeAll();
    // Other test files use the sample dataset: put it back as it was.
    const cols = (await serverView()).columns as { id: number; fieldName: string }[];
    const originalCols = original.columns as { id: number; fieldName: string; name: string; description: string }[];
    await putView({
      name: original.name,
      description: original.description,
      category: original.category,
      columns: originalCols
        .filter((c) => cols.some((x) => x.id === c.id))
        .map((c) => ({ id: c.id, fieldName: c.fieldName, name: c.name, description: c.description })),
    });
    await signOutAll();
  });

  afterEach(async () => {
    await closeAll();
    asked.risky.length = 0;
    asked.conflicts = 0;
  });

  it('opens socrata:/<domain>/<4x4>/metadata.json from the command, with the portal schema, and saves a change', async () => {
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('socrata.dataset.editMetadata', { domain, id: ID });
    assert.ok(editor, 'an editor opened');
    assert.equal(editor.document.uri.toString(), vscode.Uri.from({ scheme: 'socrata', path: `/${domain}/${ID}/metadata.json` }).toString());
    assert.equal(editor.document.languageId, 'json');
    const doc = JSON.parse(editor.document.getText()) as { $schema: string; name: string; columns: { fieldName: string }[] };
    assert.equal(doc.name, 'Street Tree Census');
    assert.deepEqual(
      doc.columns.map((c) => c.fieldName),
      ['species', 'diameter_in', 'planted_on', 'healthy', 'location'],
    );
    const schema = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.parse(doc.$schema)))) as {
      properties: { category: { enum: unknown[] } };
    };
    assert.ok(schema.properties.category.enum.includes('Environment'), 'the portal categories are an enum');
    const saved = new Promise<unknown>((resolve) => {
      const sub = api().metadata.onDidSave((e) => {
        sub.dispose();
        resolve(e);
      });
    });
    assert.equal(await editAndSave(editor, (d) => (d.description = 'Counted every spring.')), true);
    assert.equal(((await saved) as { id: string }).id, ID);
    assert.equal((await serverView()).description, 'Counted every spring.');
    assert.equal(asked.risky.length, 0, 'no confirmation for a plain change');
  });

  it('the schema marks a bad category, and saving it is refused with nothing sent', async () => {
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('socrata.dataset.editMetadata', { domain, id: ID });
    const before = await serverView();
    assert.equal(
      await editAndSave(editor, (d) => {
        d.category = 'Sports';
        d.name = 'Not saved';
      }),
      false,
    );
    const after = await serverView();
    assert.deepEqual([after.name, after.category], [before.name, before.category]);
    // The JSON language service validates against socrata:/<domain>/schema.json.
    const deadline = Date.now() + 30_000;
    let messages: string[] = [];
    while (Date.now() < deadline) {
      messages = vscode.languages.getDiagnostics(editor.document.uri).map((d) => d.message);
      if (messages.some((m) => /Environment|enum|allowed/i.test(m))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(
      messages.some((m) => /Environment|enum|allowed/i.test(m)),
      `a schema diagnostic for the category, got: ${messages.join(' | ')}`,
    );
  });

  it('a field-name rename is shown as a diff and needs confirmation; declined, nothing changes', async () => {
    answers = { risky: false, conflict: undefined };
    let editor = await vscode.commands.executeCommand<vscode.TextEditor>('socrata.dataset.editMetadata', { domain, id: ID });
    const rename = (d: Record<string, unknown>): void => {
      const cols = d.columns as { fieldName: string }[];
      cols[0].fieldName = 'species_name';
    };
    assert.equal(await editAndSave(editor, rename), false);
    assert.equal(asked.risky.length, 1);
    assert.match(asked.risky[0]?.join('\n') ?? '', /species → species_name: this breaks API consumers/);
    const diff = diffTabs().find((t) => t.original.path.endsWith(`/${ID}/metadata.server.json`));
    assert.ok(diff, 'the server ↔ yours diff is open');
    assert.ok(diff.modified.path.endsWith(`/${ID}/metadata.yours.json`));
    assert.equal(((await serverView()).columns as { fieldName: string }[])[0]?.fieldName, 'species');
    await closeAll();
    answers = { risky: true, conflict: undefined };
    editor = await vscode.commands.executeCommand<vscode.TextEditor>('socrata.dataset.editMetadata', { domain, id: ID });
    assert.equal(await editAndSave(editor, rename), true);
    assert.equal(((await serverView()).columns as { fieldName: string }[])[0]?.fieldName, 'species_name');
  });

  it('refuses to save over a change made on the server since opening; Compare shows both, Overwrite saves', async () => {
    answers = { risky: true, conflict: 'compare' };
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('socrata.dataset.editMetadata', { domain, id: ID });
    await putView({ description: 'Changed on the server' });
    assert.equal(await editAndSave(editor, (d) => (d.name = 'Mine')), false);
    assert.equal(asked.conflicts, 1);
    assert.ok(
      diffTabs().some((t) => t.original.path.endsWith('/metadata.server.json')),
      'Compare opened the diff',
    );
    assert.equal((await serverView()).name, 'Street Tree Census');
    answers = { risky: true, conflict: 'overwrite' };
    await vscode.window.showTextDocument(editor.document);
    assert.equal(await editor.document.save(), true);
    const view = await serverView();
    assert.deepEqual([view.name, view.description], ['Mine', 'Counted every spring.']);
  });
});
