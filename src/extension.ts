import * as l10n from '@vscode/l10n';
import * as vscode from 'vscode';
import { registerAuth, type SocrataAccounts } from './accounts';
import type { SodaClient } from './soda/client';
import { type DatasetsFeature, registerViews } from './datasets';
import { type PreviewFeature, registerPreview } from './publishing';
import { type MetadataFeature, registerMetadata } from './metadata';

/**
 * Wires the features together. Each feature registers its own commands, views and providers and hands
 * every Disposable back to `context.subscriptions`.
 */
export function activate(context: vscode.ExtensionContext): SocrataExtensionApi {
  // Modules that also run in plain Node (unit-tested without VS Code) translate through @vscode/l10n: they get the
  // bundle VS Code loaded for the display language (there is none in English).
  if (vscode.l10n.bundle) l10n.config({ contents: vscode.l10n.bundle });
  const log = vscode.window.createOutputChannel('Socrata', { log: true });
  context.subscriptions.push(log);
  context.subscriptions.push(vscode.commands.registerCommand('socrata.showLog', () => log.show()));
  const accounts = registerAuth(context, log);
  const datasets = registerViews(context, log, accounts);
  const preview = registerPreview(context, log, accounts);
  const metadata = registerMetadata(context, log, accounts, { pickDataset: (options) => datasets.pickDataset(options) });
  // After a metadata save the tree shows the new names and open grids load their page again (a renamed field).
  context.subscriptions.push(
    metadata.onDidSave(() => {
      datasets.provider.refreshAll();
      for (const grid of datasets.grids) void grid.show(grid.state.pageIndex);
    }),
  );
  // A publish or create changes the portal: the tree shows the new dataset and fresh "updated" dates.
  context.subscriptions.push(
    preview.runner.onDidFinish((outcome) => {
      if (outcome.status === 'success' || outcome.status === 'partial' || outcome.status === 'cancelled') datasets.provider.refreshAll();
    }),
  );
  return { accounts, datasets, preview, metadata };
}

/** What `activate` returns: the features' APIs (used by the extension-host tests). */
export interface SocrataExtensionApi {
  readonly accounts: SocrataAccounts<SodaClient>;
  readonly datasets: DatasetsFeature;
  readonly preview: PreviewFeature;
  readonly metadata: MetadataFeature;
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
