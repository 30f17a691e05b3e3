// The dataset browser's manifest entries as VS Code loaded them: menus only name declared commands, tree-only
// commands are hidden from the palette, item menus match capability tokens with regexes, and the welcome
// content links to commands that exist. (Declared vs registered commands: activation.test.ts.)
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { config, extension } from './lib/host';

interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}

interface Manifest {
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    menus: Record<string, MenuEntry[]>;
    viewsContainers: { activitybar: { id: string; icon: string }[] };
    views: Record<string, { id: string }[]>;
    viewsWelcome: { view: string; contents: string; when: string }[];
  };
}

const manifest = (): Manifest => extension().packageJSON as Manifest;
const TREE_ONLY = ['socrata.datasets.loadMore', 'socrata.treeItem.refresh'];

describe('views: manifest', () => {
  it('declares the Socrata container with the Datasets view and an icon that exists', () => {
    const m = manifest();
    const container = m.contributes.viewsContainers.activitybar.find((c) => c.id === 'socrata');
    assert.ok(container);
    assert.ok(existsSync(join(dirname(config().manifestPath), container.icon)), container.icon);
    assert.deepEqual(
      m.contributes.views.socrata?.map((v) => v.id),
      ['socrata.datasets'],
    );
  });

  it('gives every declared command the "Socrata" category and hides the tree-only ones from the palette', () => {
    const m = manifest();
    const missing = m.contributes.commands.filter((c) => c.category !== 'Socrata').map((c) => c.command);
    assert.deepEqual(missing, []);
    const palette = new Map((m.contributes.menus.commandPalette ?? []).map((e) => [e.command, e.when]));
    for (const id of TREE_ONLY) assert.equal(palette.get(id), 'false', `${id} is hidden from the palette`);
  });

  it('names only declared commands in menus and welcome links', async () => {
    const m = manifest();
    const declared = new Set(m.contributes.commands.map((c) => c.command));
    const inMenus = Object.values(m.contributes.menus)
      .flat()
      .map((e) => e.command);
    const inWelcome = m.contributes.viewsWelcome.flatMap((w) => [...w.contents.matchAll(/\(command:([\w.]+)\)/g)].map((x) => x[1] ?? ''));
    const unknown = [...inMenus, ...inWelcome].filter((id) => !declared.has(id));
    assert.deepEqual(unknown, []);
    await extension().activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const linkedButMissing = inWelcome.filter((id) => !registered.has(id));
    assert.deepEqual(linkedButMissing, []);
  });

  it('matches dataset tree items by capability-token regexes, never by equality', () => {
    const items = (manifest().contributes.menus['view/item/context'] ?? []).filter((e) => e.when?.includes('view == socrata.datasets'));
    assert.ok(items.length >= 6);
    for (const e of items) {
      assert.doesNotMatch(e.when ?? '', /viewItem ==/, `${e.command}: ${e.when}`);
      assert.match(e.when ?? '', /viewItem =~ \//, `${e.command}: ${e.when}`);
      assert.match(e.group ?? '', /^(inline|\d+_[a-z]+)(@\d+)?$/, `${e.command} is in a numbered group`);
    }
  });

  it('has welcome content for signed out, no datasets and unreachable', () => {
    const whens = manifest()
      .contributes.viewsWelcome.filter((w) => w.view === 'socrata.datasets')
      .map((w) => w.when);
    for (const state of ['signedOut', 'empty', 'unreachable']) assert.ok(whens.includes(`socrata.datasets.state == ${state}`), state);
  });
});
