// The "Datasets" tree: signed-in accounts → their datasets from the catalog (paged) → columns.
// Failures become error nodes with a retry action; the empty states (signed out, no datasets, portal down)
// are context-key values that the manifest's viewsWelcome entries show.
// Why one file: it is one TreeDataProvider whose paging, per-account clients, filter, sort and
// refresh state are private to it; the node types (nodes.ts) and the commands (commands.ts) are already apart.
import * as vscode from 'vscode';
import { accountLabel, type SocrataAccounts } from '../accounts';
import type { SodaClient } from '../soda/client';
import { isSodaError } from '../soda/errors';
import type { CatalogEntry } from '../soda/types';
import {
  AccountNode,
  type CatalogSort,
  ColumnNode,
  DatasetNode,
  type DatasetsNode,
  DraftNode,
  ErrorNode,
  GROUP_KINDS,
  type GroupNode,
  LoadMoreNode,
  MessageNode,
} from './nodes';

export type ViewState = 'loading' | 'signedOut' | 'empty' | 'unreachable' | 'ready';

export const ContextKeys = {
  /** One of ViewState: which welcome content the view shows. */
  state: 'socrata.datasets.state',
  /** True while a catalog filter is set (shows "Clear Filter"). */
  filtered: 'socrata.datasets.filtered',
} as const;

export const Settings = {
  section: 'socrata',
  pageSize: 'datasets.pageSize',
} as const;

const DEFAULT_PAGE_SIZE = 50;
const REFRESH_DEBOUNCE_MS = 300;
/** The tree shows an unreachable portal quickly (an error node with Retry) instead of backing off for minutes. */
const TREE_RETRY = { maxAttempts: 2, maxElapsedMs: 5_000, baseDelayMs: 300 } as const;

/** What the provider needs from the accounts API (the real SocrataAccounts, or a stand-in). */
export type Accounts = Pick<SocrataAccounts<SodaClient>, 'list' | 'getConnection' | 'reportError' | 'onDidChange'>;

function errorText(error: unknown): string {
  if (isSodaError(error)) {
    switch (error.kind) {
      case 'network':
        return vscode.l10n.t('Cannot reach the portal: {0}', error.message);
      case 'auth':
        return vscode.l10n.t('Not allowed: {0}', error.message);
      default:
        return error.message;
    }
  }
  return error instanceof Error ? error.message : String(error);
}

export function pageSizeSetting(): number {
  const value = vscode.workspace.getConfiguration(Settings.section).get<number>(Settings.pageSize, DEFAULT_PAGE_SIZE);
  return Number.isInteger(value) && value >= 1 && value <= 1000 ? value : DEFAULT_PAGE_SIZE;
}

export class DatasetsProvider implements vscode.TreeDataProvider<DatasetsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DatasetsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly stateChanged = new vscode.EventEmitter<ViewState>();
  /** Fires when the view state (the welcome content key) changes. */
  readonly onDidChangeState = this.stateChanged.event;
  private readonly disposables: vscode.Disposable[] = [this.changed, this.stateChanged];
  private nodes = new Map<string, AccountNode>();
  private debounce: NodeJS.Timeout | undefined;
  private loadingMore = new Set<GroupNode>();
  private _filter: string | undefined;
  private _sort: CatalogSort = 'name';
  private _state: ViewState = 'loading';

  constructor(
    private readonly accounts: Accounts,
    private readonly log: vscode.LogOutputChannel,
    private readonly pageSize: () => number = pageSizeSetting,
  ) {
    this.disposables.push(
      accounts.onDidChange(() => this.scheduleRefresh()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${Settings.section}.${Settings.pageSize}`)) this.scheduleRefresh();
      }),
    );
    void this.setState('loading');
  }

  get state(): ViewState {
    return this._state;
  }

  get filter(): string | undefined {
    return this._filter;
  }

  private async setState(state: ViewState): Promise<void> {
    const changed = state !== this._state;
    this._state = state;
    await vscode.commands.executeCommand('setContext', ContextKeys.state, state);
    if (changed) this.stateChanged.fire(state);
  }

  /** Sets (or clears, with undefined/empty) the server-side catalog search and reloads every account. */
  async setFilter(q: string | undefined): Promise<void> {
    const value = q?.trim() === '' ? undefined : q?.trim();
    this._filter = value;
    await vscode.commands.executeCommand('setContext', ContextKeys.filtered, value !== undefined);
    this.refreshAll();
  }

  /** How "All datasets on <portal>" is sorted. */
  get sort(): CatalogSort {
    return this._sort;
  }

  /** Sorts every account's "All datasets" group by name or by last update (reloaded from the first page). */
  setSort(sort: CatalogSort): void {
    this._sort = sort;
    for (const node of this.nodes.values()) {
      node.groups.all.page = undefined;
      this.changed.fire(node.groups.all);
    }
  }

  getTreeItem(node: DatasetsNode): vscode.TreeItem {
    if (node.kind === 'domain') return node.treeItem(this._filter);
    if (node.kind === 'group') return node.treeItem(this._sort);
    return node.treeItem();
  }

  getParent(node: DatasetsNode): DatasetsNode | undefined {
    return node.parent;
  }

  async getChildren(node?: DatasetsNode): Promise<DatasetsNode[]> {
    try {
      if (node === undefined) return await this.roots();
      switch (node.kind) {
        case 'domain':
          return this.accountChildren(node);
        case 'group':
          return await this.groupChildren(node);
        case 'dataset':
          return await this.datasetChildren(node);
        default:
          return [];
      }
    } catch (error) {
      // Never a pop-up from here: an unexpected failure is logged and shown as a node.
      this.log.error('Datasets view: loading failed:', error instanceof Error ? (error.stack ?? error.message) : String(error));
      return node !== undefined && (node.kind === 'domain' || node.kind === 'group' || node.kind === 'dataset') ? [new ErrorNode(node, errorText(error))] : [];
    }
  }

  /** The account nodes (reused while the account exists, so their loaded pages stay). */
  async accountNodes(): Promise<AccountNode[]> {
    const list = await this.accounts.list();
    const perDomain = new Map<string, number>();
    for (const a of list) perDomain.set(a.domain, (perDomain.get(a.domain) ?? 0) + 1);
    const next = new Map<string, AccountNode>();
    for (const account of list) {
      const old = this.nodes.get(account.id);
      const multi = (perDomain.get(account.domain) ?? 0) > 1;
      // A changed description (signed in again, marked invalid) gets a fresh node.
      const node = old && JSON.stringify(old.account) === JSON.stringify(account) ? old : new AccountNode(account, multi);
      next.set(account.id, node);
    }
    this.nodes = next;
    return [...next.values()];
  }

  private async roots(): Promise<DatasetsNode[]> {
    const nodes = await this.accountNodes();
    if (nodes.length === 0) {
      await this.setState('signedOut');
      return [];
    }
    await Promise.all(nodes.filter((n) => n.account.invalid !== true).map((n) => this.ensurePage(n.groups.mine)));
    const usable = nodes.filter((n) => n.account.invalid !== true);
    const failed = usable.filter((n) => n.page?.error !== undefined);
    if (usable.length > 0 && failed.length === usable.length && failed.every((n) => isSodaError(n.page?.error, 'network'))) {
      await this.setState('unreachable');
      return [];
    }
    // Empty only when no group of any account lists anything (the portal's catalog included).
    const loaded = usable.filter((n) => n.page?.error === undefined);
    await Promise.all(loaded.flatMap((n) => [this.ensurePage(n.groups.shared), this.ensurePage(n.groups.all)]));
    const empty = nodes.every(
      (n) =>
        n.account.invalid !== true &&
        n.extra.length === 0 &&
        GROUP_KINDS.every((g) => n.groups[g].page?.error === undefined && n.groups[g].page?.items.length === 0 && n.groups[g].drafts.length === 0),
    );
    if (empty && this._filter === undefined) {
      await this.setState('empty');
      return [];
    }
    await this.setState('ready');
    return nodes;
  }

  private async client(node: AccountNode): Promise<SodaClient> {
    const connection = await this.accounts.getConnection(node.account.domain, { accountId: node.account.id, silent: true });
    if (connection === undefined) throw new Error(vscode.l10n.t('Not signed in to {0} as {1}.', node.account.domain, accountLabel(node.account)));
    return connection.client;
  }

  /** A client for the node's account (for commands). */
  clientFor(node: AccountNode): Promise<SodaClient> {
    return this.client(node);
  }

  private async fetchPage(node: GroupNode, offset: number): Promise<{ results: CatalogEntry[]; total: number; nextOffset: number | undefined }> {
    const client = await this.client(node.parent);
    const userId = node.account.userId;
    const base = { q: this._filter, pageSize: this.pageSize(), offset, retry: TREE_RETRY };
    const pages =
      node.group === 'mine'
        ? client.catalog({ ...base, forUser: userId, order: 'name' })
        : node.group === 'shared'
          ? client.catalog({ ...base, sharedTo: userId, order: 'name' })
          : client.catalog({ ...base, order: this._sort === 'name' ? 'name' : 'updatedAt DESC' });
    try {
      const first = await pages.next();
      if (first.done === true) return { results: [], total: offset, nextOffset: undefined };
      const page = first.value;
      const next = page.offset + page.results.length;
      const more = page.results.length > 0 && next < page.total && !page.capped;
      return { results: page.results, total: page.total, nextOffset: more ? next : undefined };
    } finally {
      await pages.return(undefined);
    }
  }

  private async ensurePage(node: GroupNode): Promise<void> {
    if (node.page !== undefined) return;
    if (node.group === 'shared' && node.account.userId === undefined) {
      node.page = { items: [], nextOffset: undefined, total: 0, error: undefined };
      return;
    }
    try {
      const page = await this.fetchPage(node, 0);
      node.drafts = [];
      const fresh: NonNullable<GroupNode['page']> = {
        items: [],
        nextOffset: page.nextOffset,
        total: page.total,
        error: undefined,
        loaded: page.results.length,
      };
      const added = this.place(node, fresh.items, page.results);
      // Shared datasets show the account's role: their views (few) are read now.
      if (node.group === 'shared') await Promise.all(added.map((d) => this.ensureView(d, false)));
      node.page = fresh;
    } catch (error) {
      this.log.warn(`Datasets view: listing ${node.label} of ${accountLabel(node.account)} failed: ${errorText(error)}`);
      node.page = { items: [], nextOffset: undefined, total: 0, error };
      await this.accounts.reportError(node.account, error);
    }
  }

  /**
   * Adds catalog entries to the account's list: datasets as dataset nodes; drafts (`abcd-1234:7`) under their
   * dataset when it is listed (the catalog lists a draft right after it), else under the account.
   */
  private place(account: GroupNode, items: DatasetNode[], entries: CatalogEntry[]): DatasetNode[] {
    const added: DatasetNode[] = [];
    const known = new Set(items.map((d) => d.datasetId));
    for (const entry of entries) {
      const draftOf = entry.draftOf;
      if (draftOf !== undefined) {
        const base = items.find((d) => d.datasetId === draftOf.id) ?? account.extra.find((d) => d.datasetId === draftOf.id);
        const list = base ? base.drafts : account.drafts;
        if (!list.some((d) => d.entry.id === entry.id)) list.push(new DraftNode(base ?? account, { ...entry, draftOf }));
      } else if (!known.has(entry.id)) {
        known.add(entry.id);
        const node = new DatasetNode(account, entry);
        items.push(node);
        added.push(node);
      }
    }
    return added;
  }

  private accountChildren(node: AccountNode): DatasetsNode[] {
    if (node.account.invalid === true) {
      return [
        new ErrorNode(node, vscode.l10n.t('The portal no longer accepts the credentials of {0}.', accountLabel(node.account)), {
          command: 'socrata.auth.updateCredentials',
          title: vscode.l10n.t('Sign In Again'),
          arguments: [{ accountId: node.account.id }],
        }),
      ];
    }
    return GROUP_KINDS.map((g) => node.groups[g]);
  }

  private emptyText(node: GroupNode): string {
    const f = this._filter;
    switch (node.group) {
      case 'mine':
        return f !== undefined ? vscode.l10n.t('No datasets of yours match "{0}"', f) : vscode.l10n.t('You own no datasets on this portal');
      case 'shared':
        return f !== undefined ? vscode.l10n.t('No dataset shared with you matches "{0}"', f) : vscode.l10n.t('No datasets are shared with you');
      case 'all':
        return f !== undefined ? vscode.l10n.t('No dataset on this portal matches "{0}"', f) : vscode.l10n.t('The portal lists no datasets');
    }
  }

  private async groupChildren(node: GroupNode): Promise<DatasetsNode[]> {
    await this.ensurePage(node);
    const page = node.page;
    if (page === undefined) return [];
    if (page.error !== undefined) return [new ErrorNode(node, errorText(page.error))];
    const ids = new Set(page.items.map((d) => d.datasetId));
    const children: DatasetsNode[] = [...node.extra.filter((d) => !ids.has(d.datasetId)), ...page.items, ...node.drafts];
    if (children.length === 0) children.push(new MessageNode(node, this.emptyText(node)));
    if (page.nextOffset !== undefined) children.push(new LoadMoreNode(node, page.loaded ?? page.items.length, page.total));
    return children;
  }

  /** Loads the view metadata of a dataset (columns, row identifier, rights) once; errors are kept on the node. */
  async ensureView(node: DatasetNode, redraw = true): Promise<void> {
    if (node.view !== undefined || node.viewError !== undefined) return;
    const before = node.contextValue();
    try {
      node.view = await (await this.client(node.parent.parent)).view(node.datasetId);
    } catch (error) {
      this.log.warn(`Datasets view: reading the metadata of ${node.datasetId} failed: ${errorText(error)}`);
      node.viewError = error;
      await this.accounts.reportError(node.parent.account, error);
    }
    // Rights and the row identifier are now known: redraw the item if its menus change.
    if (redraw && node.contextValue() !== before) this.changed.fire(node);
  }

  private async datasetChildren(node: DatasetNode): Promise<DatasetsNode[]> {
    await this.ensureView(node);
    if (node.viewError !== undefined) return [new ErrorNode(node, errorText(node.viewError))];
    const view = node.view;
    if (view === undefined) return [];
    const rowId = node.rowIdentifier;
    const columns = view.columns.filter((c) => !c.fieldName.startsWith(':'));
    if (columns.length === 0) return [...node.drafts, new MessageNode(node, vscode.l10n.t('No columns'))];
    return [...node.drafts, ...columns.map((c) => new ColumnNode(node, c, rowId !== undefined && c.id === rowId.id))];
  }

  /** Appends the next catalog page to the account's list (the pages already loaded are kept, not refetched). */
  async loadMore(node: LoadMoreNode | GroupNode | AccountNode): Promise<void> {
    const account = node.kind === 'loadMore' ? node.parent : node.kind === 'domain' ? node.groups.mine : node;
    const page = account.page;
    if (page?.nextOffset === undefined || this.loadingMore.has(account)) return;
    this.loadingMore.add(account);
    try {
      const next = await this.fetchPage(account, page.nextOffset);
      const added = this.place(account, page.items, next.results);
      if (account.group === 'shared') await Promise.all(added.map((d) => this.ensureView(d, false)));
      page.loaded = (page.loaded ?? 0) + next.results.length;
      page.total = next.total;
      page.nextOffset = next.nextOffset;
    } finally {
      this.loadingMore.delete(account);
    }
    this.changed.fire(account);
  }

  /** Refreshes one node now (an account reloads its first page; a dataset its metadata). */
  refresh(node: DatasetsNode | undefined): void {
    if (node === undefined) return this.refreshAll();
    switch (node.kind) {
      case 'domain':
        for (const g of GROUP_KINDS) node.groups[g].page = undefined;
        this.changed.fire(node);
        return;
      case 'group':
        node.page = undefined;
        this.changed.fire(node);
        return;
      case 'dataset':
        node.view = undefined;
        node.viewError = undefined;
        this.changed.fire(node);
        return;
      case 'error':
      case 'message':
      case 'column':
      case 'draft':
        return this.refresh(node.parent);
      case 'loadMore':
        void this.loadMore(node);
        return;
    }
  }

  /** Reloads everything now. */
  refreshAll(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = undefined;
    for (const node of this.nodes.values()) {
      for (const g of GROUP_KINDS) node.groups[g].page = undefined;
    }
    this.changed.fire(undefined);
  }

  /** A burst of account events (sign-in in several windows, token refresh) produces one reload. */
  scheduleRefresh(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.refreshAll(), REFRESH_DEBOUNCE_MS);
  }

  /** The dataset node for `id` under the account, loaded or not: added to the account's list when missing. */
  async openDataset(account: AccountNode, id: string): Promise<DatasetNode> {
    await this.ensurePage(account.groups.mine);
    await this.ensurePage(account.groups.shared);
    const existing = (['mine', 'shared'] as const)
      .flatMap((g) => [...(account.groups[g].page?.items ?? []), ...account.groups[g].extra])
      .find((d) => d.datasetId === id);
    if (existing) return existing;
    const client = await this.client(account);
    const view = await client.view(id);
    const entry: CatalogEntry = {
      id: view.id,
      name: view.name,
      description: view.description,
      type: 'dataset',
      createdAt: view.createdAt?.toISOString(),
      updatedAt: (view.rowsUpdatedAt ?? view.viewLastModified)?.toISOString(),
      domain: account.account.domain,
      permalink: undefined,
      link: undefined,
      owner: view.owner ? { id: view.owner.id, displayName: view.owner.displayName } : undefined,
      columns: [],
      raw: {},
    };
    const node = new DatasetNode(account.groups.mine, entry);
    node.view = view;
    account.extra.unshift(node);
    this.changed.fire(account.groups.mine);
    return node;
  }

  dispose(): void {
    if (this.debounce) clearTimeout(this.debounce);
    for (const d of this.disposables) d.dispose();
  }
}
