// The "Datasets" tree: signed-in accounts → their datasets from the catalog (paged) → columns.
// Failures become error nodes with a retry action; the empty states (signed out, no datasets, portal down)
// are context-key values that the manifest's viewsWelcome entries show.
import * as vscode from 'vscode';
import { accountLabel, type SocrataAccounts } from '../accounts';
import type { SodaClient } from '../soda/client';
import { isSodaError } from '../soda/errors';
import type { CatalogEntry } from '../soda/types';
import { AccountNode, ColumnNode, DatasetNode, type DatasetsNode, DraftNode, ErrorNode, LoadMoreNode, MessageNode } from './nodes';

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
        return `Cannot reach the portal: ${error.message}`;
      case 'auth':
        return `Not allowed: ${error.message}`;
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
  private loadingMore = new Set<AccountNode>();
  private _filter: string | undefined;
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

  getTreeItem(node: DatasetsNode): vscode.TreeItem {
    return node.kind === 'domain' ? node.treeItem(this._filter) : node.treeItem();
  }

  getParent(node: DatasetsNode): DatasetsNode | undefined {
    return node.parent;
  }

  async getChildren(node?: DatasetsNode): Promise<DatasetsNode[]> {
    try {
      if (node === undefined) return await this.roots();
      switch (node.kind) {
        case 'domain':
          return await this.accountChildren(node);
        case 'dataset':
          return await this.datasetChildren(node);
        default:
          return [];
      }
    } catch (error) {
      // Never a pop-up from here: an unexpected failure is logged and shown as a node.
      this.log.error('Datasets view: loading failed:', error instanceof Error ? (error.stack ?? error.message) : String(error));
      return node !== undefined && (node.kind === 'domain' || node.kind === 'dataset') ? [new ErrorNode(node, errorText(error))] : [];
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
    await Promise.all(nodes.filter((n) => n.account.invalid !== true).map((n) => this.ensurePage(n)));
    const usable = nodes.filter((n) => n.account.invalid !== true);
    const failed = usable.filter((n) => n.page?.error !== undefined);
    if (usable.length > 0 && failed.length === usable.length && failed.every((n) => isSodaError(n.page?.error, 'network'))) {
      await this.setState('unreachable');
      return [];
    }
    const empty = nodes.every((n) => n.account.invalid !== true && n.page?.error === undefined && n.page?.items.length === 0 && n.extra.length === 0);
    if (empty && this._filter === undefined) {
      await this.setState('empty');
      return [];
    }
    await this.setState('ready');
    return nodes;
  }

  private async client(node: AccountNode): Promise<SodaClient> {
    const connection = await this.accounts.getConnection(node.account.domain, { accountId: node.account.id, silent: true });
    if (connection === undefined) throw new Error(`Not signed in to ${node.account.domain} as ${accountLabel(node.account)}.`);
    return connection.client;
  }

  /** A client for the node's account (for commands). */
  clientFor(node: AccountNode): Promise<SodaClient> {
    return this.client(node);
  }

  private async fetchPage(node: AccountNode, offset: number): Promise<{ results: CatalogEntry[]; total: number; nextOffset: number | undefined }> {
    const client = await this.client(node);
    const pages = client.catalog({ forUser: node.account.userId, q: this._filter, pageSize: this.pageSize(), offset, order: 'name', retry: TREE_RETRY });
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

  private async ensurePage(node: AccountNode): Promise<void> {
    if (node.page !== undefined) return;
    try {
      const page = await this.fetchPage(node, 0);
      node.drafts = [];
      node.page = { items: [], nextOffset: page.nextOffset, total: page.total, error: undefined, loaded: page.results.length };
      this.place(node, page.results);
    } catch (error) {
      this.log.warn(`Datasets view: listing the datasets of ${accountLabel(node.account)} failed: ${errorText(error)}`);
      node.page = { items: [], nextOffset: undefined, total: 0, error };
      await this.accounts.reportError(node.account, error);
    }
  }

  /**
   * Adds catalog entries to the account's list: datasets as dataset nodes; drafts (`abcd-1234:7`) under their
   * dataset when it is listed (the catalog lists a draft right after it), else under the account.
   */
  private place(account: AccountNode, entries: CatalogEntry[]): void {
    const items = account.page?.items ?? [];
    const known = new Set(items.map((d) => d.datasetId));
    for (const entry of entries) {
      const draftOf = entry.draftOf;
      if (draftOf !== undefined) {
        const base = items.find((d) => d.datasetId === draftOf.id) ?? account.extra.find((d) => d.datasetId === draftOf.id);
        const list = base ? base.drafts : account.drafts;
        if (!list.some((d) => d.entry.id === entry.id)) list.push(new DraftNode(base ?? account, { ...entry, draftOf }));
      } else if (!known.has(entry.id)) {
        known.add(entry.id);
        items.push(new DatasetNode(account, entry));
      }
    }
  }

  private async accountChildren(node: AccountNode): Promise<DatasetsNode[]> {
    if (node.account.invalid === true) {
      return [
        new ErrorNode(node, `The portal no longer accepts the credentials of ${accountLabel(node.account)}.`, {
          command: 'socrata.auth.updateCredentials',
          title: 'Sign In Again',
          arguments: [{ accountId: node.account.id }],
        }),
      ];
    }
    await this.ensurePage(node);
    const page = node.page;
    if (page === undefined) return [];
    if (page.error !== undefined) return [new ErrorNode(node, errorText(page.error))];
    const ids = new Set(page.items.map((d) => d.datasetId));
    const children: DatasetsNode[] = [...node.extra.filter((d) => !ids.has(d.datasetId)), ...page.items, ...node.drafts];
    if (children.length === 0) {
      children.push(new MessageNode(node, this._filter !== undefined ? `No datasets of yours match "${this._filter}"` : 'You own no datasets on this portal'));
    }
    if (page.nextOffset !== undefined) children.push(new LoadMoreNode(node, page.loaded ?? page.items.length, page.total));
    return children;
  }

  /** Loads the view metadata of a dataset (columns, row identifier, rights) once; errors are kept on the node. */
  async ensureView(node: DatasetNode): Promise<void> {
    if (node.view !== undefined || node.viewError !== undefined) return;
    const before = node.contextValue();
    try {
      node.view = await (await this.client(node.parent)).view(node.datasetId);
    } catch (error) {
      this.log.warn(`Datasets view: reading the metadata of ${node.datasetId} failed: ${errorText(error)}`);
      node.viewError = error;
      await this.accounts.reportError(node.parent.account, error);
    }
    // Rights and the row identifier are now known: redraw the item if its menus change.
    if (node.contextValue() !== before) this.changed.fire(node);
  }

  private async datasetChildren(node: DatasetNode): Promise<DatasetsNode[]> {
    await this.ensureView(node);
    if (node.viewError !== undefined) return [new ErrorNode(node, errorText(node.viewError))];
    const view = node.view;
    if (view === undefined) return [];
    const rowId = node.rowIdentifier;
    const columns = view.columns.filter((c) => !c.fieldName.startsWith(':'));
    if (columns.length === 0) return [...node.drafts, new MessageNode(node, 'No columns')];
    return [...node.drafts, ...columns.map((c) => new ColumnNode(node, c, rowId !== undefined && c.id === rowId.id))];
  }

  /** Appends the next catalog page to the account's list (the pages already loaded are kept, not refetched). */
  async loadMore(node: LoadMoreNode | AccountNode): Promise<void> {
    const account = node.kind === 'loadMore' ? node.parent : node;
    const page = account.page;
    if (page?.nextOffset === undefined || this.loadingMore.has(account)) return;
    this.loadingMore.add(account);
    try {
      const next = await this.fetchPage(account, page.nextOffset);
      this.place(account, next.results);
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
      node.page = undefined;
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
    await this.ensurePage(account);
    const existing = account.page?.items.find((d) => d.datasetId === id) ?? account.extra.find((d) => d.datasetId === id);
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
    const node = new DatasetNode(account, entry);
    node.view = view;
    account.extra.unshift(node);
    this.changed.fire(account);
    return node;
  }

  dispose(): void {
    if (this.debounce) clearTimeout(this.debounce);
    for (const d of this.disposables) d.dispose();
  }
}
