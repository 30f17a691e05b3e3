// Registers the dataset browser: the "Datasets" tree in the Socrata activity-bar container, its commands and
// the read-only grid. Returns the parts other features (and the extension-host tests) use.
import * as vscode from 'vscode';
import type { SocrataAccounts } from '../accounts';
import { commandBoundary } from '../ui/boundary';
import { DatasetCommandHandlers } from './commands';
import type { GridPanel } from './grid/panel';
import type { SodaClient } from '../soda/client';
import { type DatasetsNode, VIEW_ID } from './nodes';
import { type DatasetTarget, pickDataset, type PickDatasetOptions } from './pick';
import { DatasetsProvider } from './provider';
import { QueryHistory } from './query';

export { DatasetNode, type DatasetsNode, VIEW_ID } from './nodes';
export { pickDataset, targetOf, type DatasetTarget, type PickDatasetOptions } from './pick';
export { ContextKeys, type ViewState } from './provider';
export { DatasetCommands, PUBLISH_CSV_COMMAND, type QueryResult, type SaveCsvResult } from './commands';

export interface DatasetsFeature {
  readonly provider: DatasetsProvider;
  readonly treeView: vscode.TreeView<DatasetsNode>;
  /** Open grid panels (query results and previews), newest last. */
  readonly grids: readonly GridPanel[];
  /** Quick pick over the signed-in accounts' datasets (or any by 4x4/URL); undefined when dismissed. */
  pickDataset(options?: PickDatasetOptions): Promise<DatasetTarget | undefined>;
}

export function registerViews(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, accounts: SocrataAccounts<SodaClient>): DatasetsFeature {
  const provider = new DatasetsProvider(accounts, log);
  const treeView = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: provider, showCollapseAll: true });
  const grids: GridPanel[] = [];
  const handlers = new DatasetCommandHandlers({
    provider,
    treeView,
    accounts,
    extensionUri: context.extensionUri,
    boundary: commandBoundary(log),
    log,
    grids,
    history: new QueryHistory(context.globalState),
  });
  context.subscriptions.push(provider, treeView, ...handlers.register(), { dispose: () => grids.splice(0).forEach((g) => g.dispose()) });
  return {
    provider,
    treeView,
    grids,
    pickDataset: (options) => pickDataset(accounts, options),
  };
}
