// The dataset browser's commands. Every handler is registered through the error boundary; tree commands also
// work from the palette (they ask for the dataset) and accept `{ domain, id, … }` arguments from other
// features and tests.
// Why one file: one handler class, each handler short, sharing the target resolution (node,
// argument object or palette) and the registration table; the grid they open is src/datasets/grid.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import * as vscode from 'vscode';
import type { SocrataAccounts } from '../accounts';
import { GridPanel, type GridSource, type GridState } from './grid/panel';
import type { SodaClient } from '../soda/client';
import { parseDomain } from '../soda/domain';
import { SodaError } from '../soda/errors';
import { apiEndpoint, checkStatement, portalUrl, soqlTypeName } from './model';
import { AccountNode, type CatalogSort, type DatasetNode, type DatasetsNode, TreeCommands } from './nodes';
import { askDatasetRef, type DatasetTarget, pickDataset, resolveRef, targetOf } from './pick';
import type { DatasetsProvider } from './provider';
import { exportQueryCsv, queryPage, queryTotal, type QueryHistory } from './query';
import { type CommandBoundary, ExpectedError, UserCancelledError } from '../ui/boundary';

export const DatasetCommands = {
  refresh: 'socrata.datasets.refresh',
  filter: 'socrata.datasets.filter',
  clearFilter: 'socrata.datasets.clearFilter',
  goTo: 'socrata.datasets.goTo',
  loadMore: TreeCommands.loadMore,
  refreshItem: TreeCommands.refreshItem,
  openInBrowser: 'socrata.dataset.openInBrowser',
  copyId: 'socrata.dataset.copyId',
  copyApiEndpoint: 'socrata.dataset.copyApiEndpoint',
  previewRows: TreeCommands.previewRows,
  runQuery: 'socrata.dataset.runQuery',
  saveCsv: 'socrata.query.saveCsv',
  deleteDataset: 'socrata.dataset.delete',
  sortAll: 'socrata.datasets.sortAll',
} as const;

/** Declared by the publishing feature; the dataset context menu keeps group "2_publish" for it. */
export const PUBLISH_CSV_COMMAND = 'socrata.dataset.publishCsv';

export const QuerySettings = { pageSize: 'query.pageSize' } as const;

export interface QueryResult {
  readonly domain: string;
  readonly id: string;
  readonly statement: string;
  readonly columns: readonly { name: string; type: string | undefined }[];
  readonly rows: readonly (readonly (string | null)[])[];
  readonly hasNext: boolean;
  readonly error: string | undefined;
}

export interface SaveCsvResult {
  readonly path: string;
  readonly rows: number;
}

export interface DatasetCommandDeps {
  readonly provider: DatasetsProvider;
  readonly treeView: vscode.TreeView<DatasetsNode>;
  readonly accounts: SocrataAccounts<SodaClient>;
  readonly extensionUri: vscode.Uri;
  readonly boundary: CommandBoundary;
  readonly log: vscode.LogOutputChannel;
  /** The grid panels opened, newest last (tests page through them). */
  readonly grids: GridPanel[];
  /** The statements run per dataset (absent: no history kept). */
  readonly history?: QueryHistory;
}

/** A query tab's title: the query (shortened), then the dataset. */
function queryTitle(statement: string, target: DatasetTarget): string {
  const short = statement.replace(/\s+/g, ' ').trim();
  return `${short.length > 60 ? `${short.slice(0, 59)}…` : short} · ${target.name ?? target.id}`;
}

function queryPageSize(): number {
  const v = vscode.workspace.getConfiguration('socrata').get<number>(QuerySettings.pageSize, 100);
  return Number.isInteger(v) && v >= 1 && v <= 50_000 ? v : 100;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function field(arg: unknown, name: string): unknown {
  return typeof arg === 'object' && arg !== null ? (arg as Record<string, unknown>)[name] : undefined;
}

export class DatasetCommandHandlers {
  constructor(private readonly deps: DatasetCommandDeps) {}

  /** The engine's one-time notice that a portal has no SODA3 and is queried through SODA 2.1. */
  private readonly notice = (message: string): void => {
    this.deps.log.info(message);
  };

  /** The dataset a command is about: its node or argument, otherwise picked. Cancel ends the command. */
  private async target(arg: unknown, title: string, options: { writableOnly?: boolean } = {}): Promise<DatasetTarget> {
    const given = targetOf(arg);
    if (given) return given;
    const picked = await pickDataset(this.deps.accounts, { title, ...options });
    if (!picked) throw new UserCancelledError();
    return picked;
  }

  private async client(target: DatasetTarget): Promise<SodaClient> {
    const connection = await this.deps.accounts.getConnection(target.domain, { silent: true, ...(target.accountId ? { accountId: target.accountId } : {}) });
    if (!connection) {
      throw new ExpectedError(vscode.l10n.t('Sign in to {0} first (Socrata: Sign In with API Key, Email and Password, or OAuth).', target.domain));
    }
    return connection.client;
  }

  refresh(): void {
    this.deps.provider.refreshAll();
  }

  refreshItem(node: unknown): void {
    if (isNode(node)) this.deps.provider.refresh(node);
    else this.deps.provider.refreshAll();
  }

  async loadMore(node: unknown): Promise<void> {
    if (isNode(node) && (node.kind === 'loadMore' || node.kind === 'group' || node.kind === 'domain')) await this.deps.provider.loadMore(node);
  }

  /** Sorts "All datasets on <portal>" by name or by last update (`'name'` / `'updatedAt'`, or asked). */
  async sortAll(arg: unknown): Promise<CatalogSort> {
    let sort: CatalogSort | undefined = arg === 'name' || arg === 'updatedAt' ? arg : undefined;
    if (sort === undefined) {
      const current = this.deps.provider.sort;
      const picked = await vscode.window.showQuickPick(
        [
          { label: vscode.l10n.t('Name'), description: current === 'name' ? vscode.l10n.t('current') : undefined, sort: 'name' as const },
          { label: vscode.l10n.t('Last update'), description: current === 'updatedAt' ? vscode.l10n.t('current') : undefined, sort: 'updatedAt' as const },
        ],
        { title: vscode.l10n.t('Sort All Datasets By') },
      );
      if (picked === undefined) throw new UserCancelledError();
      sort = picked.sort;
    }
    this.deps.provider.setSort(sort);
    return sort;
  }

  async filter(arg: unknown): Promise<string | undefined> {
    let q = typeof arg === 'string' ? arg : undefined;
    if (q === undefined) {
      q = await vscode.window.showInputBox({
        title: vscode.l10n.t('Filter Datasets'),
        prompt: vscode.l10n.t('Search your datasets on the portal (name, description, column names, tags). Empty clears the filter.'),
        value: this.deps.provider.filter ?? '',
        ignoreFocusOut: true,
      });
      if (q === undefined) throw new UserCancelledError();
    }
    await this.deps.provider.setFilter(q);
    this.updateDescription();
    return this.deps.provider.filter;
  }

  async clearFilter(): Promise<void> {
    await this.deps.provider.setFilter(undefined);
    this.updateDescription();
  }

  private updateDescription(): void {
    const q = this.deps.provider.filter;
    this.deps.treeView.description = q === undefined ? undefined : vscode.l10n.t('Filter: "{0}"', q);
  }

  /** Shows a dataset in the tree (adding it under its account when it is not one of the listed ones). */
  async goTo(arg: unknown): Promise<{ domain: string; id: string; name: string } | undefined> {
    const text = typeof arg === 'string' ? arg : str(field(arg, 'text'));
    const target =
      targetOf(arg) ?? (text !== undefined ? await resolveRef(this.deps.accounts, text, str(field(arg, 'domain'))) : await askDatasetRef(this.deps.accounts));
    if (!target) throw new UserCancelledError();
    const accountNodes = await this.deps.provider.accountNodes();
    const account = accountNodes.find((n) =>
      target.accountId ? n.account.id === target.accountId : n.account.domain === target.domain && n.account.invalid !== true,
    );
    if (!account) throw new ExpectedError(vscode.l10n.t('Sign in to {0} first to browse {1} there.', target.domain, target.id));
    const node = await this.deps.provider.openDataset(account, target.id);
    await this.reveal(node);
    return { domain: account.account.domain, id: node.datasetId, name: node.name };
  }

  private async reveal(node: DatasetNode): Promise<void> {
    try {
      await this.deps.treeView.reveal(node, { select: true, focus: true, expand: false });
    } catch (error) {
      // The view may be hidden or collapsed; the dataset is in the tree anyway.
      this.deps.log.debug(`reveal ${node.datasetId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async openInBrowser(arg: unknown): Promise<string> {
    const target = await this.target(arg, vscode.l10n.t('Open Dataset in Browser'));
    const url = portalUrl(parseDomain(target.domain), target.id);
    if (field(arg, 'dryRun') !== true) await vscode.env.openExternal(vscode.Uri.parse(url, true));
    return url;
  }

  /**
   * Deletes a dataset through the platform's delete, after the person types its name (argument `typedName` for
   * automation that has asked already). A name that does not match deletes nothing.
   */
  async deleteDataset(arg: unknown): Promise<{ domain: string; id: string }> {
    const target = await this.target(arg, vscode.l10n.t('Delete Dataset'), { writableOnly: true });
    const client = await this.client(target);
    const view = await client.view(target.id);
    const name = view.name;
    const typed =
      str(field(arg, 'typedName')) ??
      (await vscode.window.showInputBox({
        title: vscode.l10n.t('Delete Dataset "{0}" ({1})', name, target.id),
        prompt: vscode.l10n.t(
          'This deletes the dataset and all its rows on {0}, for everyone, and cannot be undone. To confirm, type the name of the dataset: {1}',
          target.domain,
          name,
        ),
        placeHolder: name,
        ignoreFocusOut: true,
        validateInput: (v) => (v === name ? undefined : vscode.l10n.t("Type the dataset's name exactly to delete it.")),
      }));
    if (typed === undefined) throw new UserCancelledError();
    if (typed !== name) throw new ExpectedError(vscode.l10n.t('Nothing was deleted: "{0}" is not the name of {1} ("{2}").', typed, target.id, name));
    await client.deleteDataset(target.id);
    this.deps.log.info(`Deleted the dataset ${target.id} ("${name}") on ${target.domain}.`);
    this.deps.provider.refreshAll();
    void vscode.window.showInformationMessage(vscode.l10n.t('Socrata: deleted the dataset "{0}" ({1}).', name, target.id));
    return { domain: target.domain, id: target.id };
  }

  async copyId(arg: unknown): Promise<string> {
    const target = await this.target(arg, vscode.l10n.t('Copy Dataset 4x4'));
    await vscode.env.clipboard.writeText(target.id);
    void vscode.window.setStatusBarMessage(vscode.l10n.t('Copied {0}', target.id), 3000);
    return target.id;
  }

  async copyApiEndpoint(arg: unknown): Promise<string> {
    const target = await this.target(arg, vscode.l10n.t('Copy API Endpoint'));
    const url = apiEndpoint(parseDomain(target.domain), target.id);
    await vscode.env.clipboard.writeText(url);
    void vscode.window.setStatusBarMessage(vscode.l10n.t('Copied {0}', url), 3000);
    return url;
  }

  async previewRows(arg: unknown): Promise<QueryResult> {
    const target = await this.target(arg, vscode.l10n.t('Preview Rows'));
    return this.openGrid(target, 'SELECT *', vscode.l10n.t('Preview: {0}', target.name ?? target.id));
  }

  async runQuery(arg: unknown): Promise<QueryResult> {
    const target = await this.target(arg, vscode.l10n.t('Run SoQL Query'));
    const statement = str(field(arg, 'query')) ?? (await this.askQuery(target));
    const problem = checkStatement(statement);
    if (problem !== undefined) throw new SodaError({ kind: 'invalid-input', message: problem, field: 'query' });
    // The tab is titled by its query (shortened), then the dataset.
    return this.openGrid(target, statement, queryTitle(statement, target));
  }

  /**
   * The rows of `statement` on the dataset, for a grid tab: paged, counted once, saved as CSV, remembered in the
   * dataset's history once its first page loads, and replaced by another statement run from the tab's query box.
   */
  private querySource(target: DatasetTarget, client: SodaClient, statement: string, title: string, pageSize: number): GridSource {
    const history = this.deps.history;
    return {
      title,
      // The statement is in the query box above the status line.
      subtitle: target.domain,
      pageSize,
      statement,
      load: async (index, signal) => {
        const page = await queryPage(client, target.id, statement, pageSize, index, { signal, onNotice: this.notice });
        // The history is a convenience: a failure to store it does not fail the page.
        if (index === 0 && history) await history.add(target.domain, target.id, statement).catch(() => undefined);
        return page;
      },
      saveCsv: async () => {
        await this.saveCsv({ domain: target.domain, id: target.id, accountId: target.accountId, query: statement });
      },
      history: () => history?.list(target.domain, target.id) ?? [],
      count: (signal) => queryTotal(client, target.id, statement, { signal, onNotice: this.notice }),
      withStatement: (next) => {
        const text = next.trim();
        const problem = checkStatement(text);
        if (problem !== undefined) throw new SodaError({ kind: 'invalid-input', message: problem, field: 'query' });
        return this.querySource(target, client, text, queryTitle(text, target), pageSize);
      },
    };
  }

  private async openGrid(target: DatasetTarget, statement: string, title: string): Promise<QueryResult> {
    const client = await this.client(target);
    const pageSize = queryPageSize();
    const grid = GridPanel.open(
      this.deps.extensionUri,
      this.querySource(target, client, statement, title, pageSize),
      (work) => this.deps.boundary.run(DatasetCommands.saveCsv, work),
      this.deps.log,
    );
    this.deps.grids.push(grid);
    grid.panel.onDidDispose(() => {
      const i = this.deps.grids.indexOf(grid);
      if (i >= 0) this.deps.grids.splice(i, 1);
    });
    const state = await grid.firstLoad;
    return resultOf(target, statement, state);
  }

  /** A quick pick whose value is the statement; the dataset's fields are offered and inserted when picked. */
  private async askQuery(target: DatasetTarget): Promise<string> {
    const client = await this.client(target);
    const view = await client.view(target.id);
    interface Item extends vscode.QuickPickItem {
      field?: string;
      statement?: string;
    }
    const run: Item = { label: `$(play) ${vscode.l10n.t('Run query')}`, alwaysShow: true };
    const recent = this.deps.history?.list(target.domain, target.id) ?? [];
    const recentItems: Item[] =
      recent.length === 0
        ? []
        : [
            { label: vscode.l10n.t('Recent queries'), kind: vscode.QuickPickItemKind.Separator },
            // The statement is the description, which the typed text is not matched against: a match would sort
            // the item above "Run query", and Enter would run it instead of the typed statement.
            ...recent.map((statement) => ({ label: '$(history)', description: statement, alwaysShow: true, statement })),
            { label: vscode.l10n.t('Fields'), kind: vscode.QuickPickItemKind.Separator },
          ];
    const fields: Item[] = view.columns
      .filter((c) => !c.fieldName.startsWith(':'))
      .map((c) => ({ label: c.fieldName, description: soqlTypeName(c.dataTypeName), detail: c.name, alwaysShow: true, field: c.fieldName }));
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = vscode.l10n.t('Run SoQL Query on {0} ({1})', view.name, target.id);
    qp.placeholder = vscode.l10n.t('SELECT * WHERE … ORDER BY … — pick a field to insert it, or a recent query to run it');
    qp.value = 'SELECT * ';
    qp.ignoreFocusOut = true;
    qp.matchOnDescription = false;
    qp.items = [run, ...recentItems, ...fields];
    const update = () => {
      const problem = checkStatement(qp.value);
      run.detail = problem === undefined ? undefined : `$(warning) ${problem}`;
      qp.items = [run, ...recentItems, ...fields];
    };
    update();
    try {
      return await new Promise<string>((resolve, reject) => {
        qp.onDidChangeValue(update);
        qp.onDidAccept(() => {
          const picked = qp.selectedItems[0] ?? qp.activeItems[0];
          if (picked?.statement !== undefined) {
            resolve(picked.statement);
            return;
          }
          if (picked?.field !== undefined) {
            qp.value = `${qp.value.replace(/\s*$/, ' ')}${picked.field} `;
            update();
            return;
          }
          if (checkStatement(qp.value) !== undefined) return;
          resolve(qp.value.trim());
        });
        qp.onDidHide(() => reject(new UserCancelledError()));
        qp.show();
      });
    } finally {
      qp.dispose();
    }
  }

  /**
   * Saves every row of a query as CSV. Arguments: `{ domain, id, query, target? }` (`target` = a file path,
   * which skips the save dialog), or a dataset node (then the query is asked for).
   */
  async saveCsv(arg: unknown): Promise<SaveCsvResult> {
    const target = await this.target(arg, vscode.l10n.t('Save Query Results as CSV'));
    const statement = str(field(arg, 'query')) ?? (await this.askQuery(target));
    const problem = checkStatement(statement);
    if (problem !== undefined) throw new SodaError({ kind: 'invalid-input', message: problem, field: 'query' });
    let file: vscode.Uri | undefined;
    const path = str(field(arg, 'target'));
    if (path !== undefined) {
      file = vscode.Uri.file(path);
    } else {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      file = await vscode.window.showSaveDialog({
        title: vscode.l10n.t('Save Query Results as CSV'),
        filters: { [vscode.l10n.t('CSV files')]: ['csv'] },
        ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${target.id}.csv`) } : {}),
      });
      if (!file) throw new UserCancelledError();
    }
    const out = file;
    const client = await this.client(target);
    const rows = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Socrata: saving {0} as CSV', target.id), cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        const stream = createWriteStream(out.fsPath, { encoding: 'utf8' });
        try {
          const result = await exportQueryCsv(client, target.id, statement, stream, {
            signal: abort.signal,
            onNotice: this.notice,
            onProgress: (n) => progress.report({ message: vscode.l10n.t('{0} rows written', n.toLocaleString('en-US')) }),
          });
          stream.end();
          await finished(stream);
          return result.rows;
        } catch (error) {
          stream.destroy();
          // A partial file would look like a complete export: remove it.
          await rm(out.fsPath, { force: true }).catch(() => undefined);
          if (token.isCancellationRequested) throw new UserCancelledError();
          throw error;
        } finally {
          sub.dispose();
        }
      },
    );
    this.deps.log.info(`Saved ${rows} rows of ${target.id} (${statement}) to ${out.fsPath}.`);
    if (path === undefined) {
      const open = vscode.l10n.t('Open');
      void vscode.window
        .showInformationMessage(vscode.l10n.t('Socrata: saved {0} rows to {1}.', rows.toLocaleString('en-US'), vscode.workspace.asRelativePath(out)), open)
        .then((choice) => {
          if (choice === open) void vscode.commands.executeCommand('vscode.open', out);
        });
    }
    return { path: out.fsPath, rows };
  }

  /** Registers every command through the boundary. */
  register(): vscode.Disposable[] {
    const b = this.deps.boundary;
    return [
      b.register(DatasetCommands.refresh, () => this.refresh()),
      b.register(DatasetCommands.refreshItem, (node) => this.refreshItem(node)),
      b.register(DatasetCommands.loadMore, (node) => this.loadMore(node)),
      b.register(DatasetCommands.filter, (arg) => this.filter(arg)),
      b.register(DatasetCommands.clearFilter, () => this.clearFilter()),
      b.register(DatasetCommands.goTo, (arg) => this.goTo(arg)),
      b.register(DatasetCommands.openInBrowser, (arg) => this.openInBrowser(arg)),
      b.register(DatasetCommands.deleteDataset, (arg) => this.deleteDataset(arg)),
      b.register(DatasetCommands.copyId, (arg) => this.copyId(arg)),
      b.register(DatasetCommands.copyApiEndpoint, (arg) => this.copyApiEndpoint(arg)),
      b.register(DatasetCommands.previewRows, (arg) => this.previewRows(arg)),
      b.register(DatasetCommands.runQuery, (arg) => this.runQuery(arg)),
      b.register(DatasetCommands.saveCsv, (arg) => this.saveCsv(arg)),
      b.register(DatasetCommands.sortAll, (arg) => this.sortAll(arg)),
    ];
  }
}

function isNode(value: unknown): value is DatasetsNode {
  if (value instanceof AccountNode) return true;
  const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
  return (
    kind === 'dataset' ||
    kind === 'draft' ||
    kind === 'group' ||
    kind === 'column' ||
    kind === 'loadMore' ||
    kind === 'error' ||
    kind === 'message' ||
    kind === 'domain'
  );
}

export function resultOf(target: DatasetTarget, statement: string, state: GridState): QueryResult {
  return {
    domain: target.domain,
    id: target.id,
    statement,
    columns: state.page?.columns ?? [],
    rows: state.page?.rows ?? [],
    hasNext: state.page?.hasNext ?? false,
    error: state.error,
  };
}
