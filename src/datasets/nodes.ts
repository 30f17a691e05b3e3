// The dataset browser's node types. One hierarchy with a `kind` discriminant, a parent link and a stable id:
// account (one per signed-in domain/account) → three groups (My datasets, Shared with me, All datasets on the
// portal) → datasets (paged, with a trailing "Load more…") → their open drafts, then columns.
// Errors and empty states are nodes too, so getChildren never shows a pop-up.
// Why one file: the node classes are one discriminated union, each class a few small methods
// (its tree item, context value, tooltip); they share the rights checks and icon rules, and a reader follows the
// hierarchy top to bottom here.
import * as vscode from 'vscode';
import type { AccountDescription } from '../accounts';
import { parseDomain, type SodaDomain } from '../soda/domain';
import { canWrite } from '../soda/view';
import type { CatalogEntry, ViewColumn, ViewMetadata } from '../soda/types';
import { contextValue, type GrantRole, inlineCode, roleLabel, roleOf, soqlTypeName, Tokens, updatedText, WriteRights } from './model';

export const VIEW_ID = 'socrata.datasets';

export const TreeCommands = {
  loadMore: 'socrata.datasets.loadMore',
  refreshItem: 'socrata.treeItem.refresh',
  previewRows: 'socrata.dataset.previewRows',
} as const;

export type DatasetsNode = AccountNode | GroupNode | DatasetNode | DraftNode | ColumnNode | LoadMoreNode | ErrorNode | MessageNode;

/** Where loading a list stands: nothing yet, loaded (with a cursor), or failed. */
export interface PageState<T> {
  items: T[];
  /** Offset of the next catalog page; undefined when everything is loaded. */
  nextOffset: number | undefined;
  total: number;
  error: unknown;
  /** Catalog entries received so far (datasets and drafts), shown as "loaded of total" by Load more. */
  loaded?: number;
}

export type GroupKind = 'mine' | 'shared' | 'all';
export const GROUP_KINDS: readonly GroupKind[] = ['mine', 'shared', 'all'];
/** How "All datasets" is sorted: the catalog's `order`. */
export type CatalogSort = 'name' | 'updatedAt';

export class AccountNode {
  readonly kind = 'domain';
  readonly parent = undefined;
  readonly domain: SodaDomain;
  /** My datasets, Shared with me, All datasets on the portal. */
  readonly groups: Readonly<Record<GroupKind, GroupNode>>;

  constructor(
    readonly account: AccountDescription,
    /** More than one account on this domain: the label names the user too. */
    private readonly showUser: boolean,
  ) {
    this.domain = parseDomain(account.domain);
    this.groups = { mine: new GroupNode(this, 'mine'), shared: new GroupNode(this, 'shared'), all: new GroupNode(this, 'all') };
  }

  /** The account's own datasets (the "My datasets" group's list). */
  get page(): PageState<DatasetNode> | undefined {
    return this.groups.mine.page;
  }

  /** Datasets opened with "Go to Dataset…" that are in no list (shown under My datasets). */
  get extra(): DatasetNode[] {
    return this.groups.mine.extra;
  }

  get id(): string {
    return `account:${this.account.id}`;
  }

  treeItem(filter: string | undefined): vscode.TreeItem {
    const item = new vscode.TreeItem(
      this.showUser ? `${this.account.domain} (${this.account.email || this.account.displayName})` : this.account.domain,
      vscode.TreeItemCollapsibleState.Expanded,
    );
    item.id = this.id;
    // The catalog's total counts drafts too: once everything is loaded, count the datasets themselves.
    const n = this.page === undefined ? 0 : this.page.nextOffset === undefined ? this.page.items.length : this.page.total;
    const count = this.page && this.page.error === undefined ? (n === 1 ? vscode.l10n.t('1 dataset') : vscode.l10n.t('{0} datasets', n)) : undefined;
    item.description = [
      this.account.invalid ? vscode.l10n.t('sign in again') : this.account.displayName,
      count,
      filter !== undefined ? vscode.l10n.t('matching "{0}"', filter) : undefined,
    ]
      .filter((s) => s !== undefined)
      .join(' · ');
    item.iconPath = new vscode.ThemeIcon(this.account.invalid ? 'warning' : 'globe');
    item.contextValue = contextValue('domain', [this.account.invalid === true && Tokens.invalid]);
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown('**');
    tip.appendText(this.account.domain);
    tip.appendMarkdown('**\n\n');
    const who = `${this.account.displayName}${this.account.email ? ` <${this.account.email}>` : ''}`;
    tip.appendText(this.account.roleName ? vscode.l10n.t('Signed in as {0}, role {1}', who, this.account.roleName) : vscode.l10n.t('Signed in as {0}', who));
    item.tooltip = tip;
    return item;
  }
}

export class GroupNode {
  readonly kind = 'group';
  /** Loaded datasets and the catalog cursor; undefined until the first page is fetched. */
  page: PageState<DatasetNode> | undefined;
  /** Datasets opened with "Go to Dataset…" that are not in any list (My datasets only). */
  readonly extra: DatasetNode[] = [];
  /** Drafts whose dataset is not in the list (a catalog search that matched the draft only). */
  drafts: DraftNode[] = [];

  constructor(
    readonly parent: AccountNode,
    readonly group: GroupKind,
  ) {}

  get id(): string {
    return `${this.parent.id}:${this.group}`;
  }

  get account(): AccountDescription {
    return this.parent.account;
  }

  get domain(): SodaDomain {
    return this.parent.domain;
  }

  get label(): string {
    return this.group === 'mine'
      ? vscode.l10n.t('My datasets')
      : this.group === 'shared'
        ? vscode.l10n.t('Shared with me')
        : vscode.l10n.t('All datasets on {0}', this.parent.account.domain);
  }

  treeItem(sort: CatalogSort): vscode.TreeItem {
    const item = new vscode.TreeItem(this.label, this.group === 'all' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    const count = this.page && this.page.error === undefined ? String(this.page.total) : undefined;
    item.description = [count, this.group === 'all' ? (sort === 'name' ? vscode.l10n.t('by name') : vscode.l10n.t('by last update')) : undefined]
      .filter((s) => s !== undefined)
      .join(' · ');
    item.iconPath = new vscode.ThemeIcon(this.group === 'mine' ? 'account' : this.group === 'shared' ? 'organization' : 'library');
    item.contextValue = contextValue('group', [
      this.group === 'mine' && Tokens.mine,
      this.group === 'shared' && Tokens.shared,
      this.group === 'all' && Tokens.all,
    ]);
    return item;
  }
}

export class DatasetNode {
  readonly kind = 'dataset';
  /** View metadata, loaded when the node is expanded (columns, row identifier, rights, visibility). */
  view: ViewMetadata | undefined;
  viewError: unknown;
  /** Open drafts (working copies) of this dataset that the catalog listed, shown before its columns. */
  readonly drafts: DraftNode[] = [];

  constructor(
    readonly parent: GroupNode,
    readonly entry: CatalogEntry,
  ) {}

  get id(): string {
    return `dataset:${this.parent.account.id}:${this.parent.group}:${this.entry.id}`;
  }

  /** The account's own grant on the dataset (from the view's `grants`), once loaded. */
  get role(): GrantRole | undefined {
    return roleOf(this.view?.raw.grants, this.parent.account.userId);
  }

  /** The account's rights on the dataset; undefined until the view is loaded (or when the server sends none). */
  get rights(): readonly string[] | undefined {
    return this.view?.rights;
  }

  private may(need: keyof typeof WriteRights): boolean {
    const rights = this.rights;
    return rights !== undefined ? rights.includes(WriteRights[need].right) : this.owned;
  }

  /** The write actions the account's rights leave out, each with the right it needs (`write rows (needs "write")`). */
  notOffered(): string | undefined {
    const rights = this.rights;
    if (rights === undefined) return undefined;
    const missing = Object.values(WriteRights).filter((w) => !rights.includes(w.right));
    return missing.length === 0 ? undefined : missing.map((w) => vscode.l10n.t('{0} (needs "{1}")', w.action(), w.right)).join(', ');
  }

  get datasetId(): string {
    return this.entry.id;
  }

  get domain(): SodaDomain {
    return this.parent.domain;
  }

  get name(): string {
    return this.view?.name ?? this.entry.name;
  }

  get owned(): boolean {
    const owner = this.view?.owner?.id ?? this.entry.owner?.id;
    return owner !== undefined && owner === this.parent.account.userId;
  }

  /** Known from the view's rights; before they are loaded, the owner is assumed to be able to write. */
  get writable(): boolean {
    return (this.view && canWrite(this.view)) ?? this.owned;
  }

  get rowIdentifier(): ViewColumn | undefined {
    const id = this.view?.rowIdentifierColumnId;
    return id === undefined ? undefined : this.view?.columns.find((c) => c.id === id);
  }

  /** true/false when known (catalog `metadata.is_public` with show_visibility, or the view's public grant). */
  get isPublic(): boolean | undefined {
    if (this.view?.isPublic !== undefined) return this.view.isPublic;
    const meta = this.entry.raw.metadata;
    if (typeof meta === 'object' && meta !== null) {
      const v = (meta as Record<string, unknown>).is_public ?? (meta as Record<string, unknown>).visible_to_anonymous;
      if (typeof v === 'boolean') return v;
    }
    return undefined;
  }

  contextValue(): string {
    const pub = this.isPublic;
    return contextValue('dataset', [
      this.owned && Tokens.owned,
      this.writable && Tokens.writable,
      this.may('publish') && Tokens.canWrite,
      this.may('deleteRows') && Tokens.canDeleteRows,
      this.may('editMetadata') && Tokens.canEditMetadata,
      this.may('deleteDataset') && Tokens.canDeleteDataset,
      !this.may('publish') && Tokens.readOnly,
      this.parent.group === 'shared' && Tokens.shared,
      this.rowIdentifier !== undefined && Tokens.hasRowId,
      pub === true && Tokens.public,
      pub === false && Tokens.private,
    ]);
  }

  private icon(): vscode.ThemeIcon {
    if (this.isPublic === false) return new vscode.ThemeIcon('lock');
    switch (this.view?.viewType ?? this.entry.type) {
      case 'blobby':
      case 'file':
        return new vscode.ThemeIcon('file');
      case 'href':
      case 'link':
        return new vscode.ThemeIcon('link-external');
      case 'map':
      case 'geo':
        return new vscode.ThemeIcon('map');
      case 'chart':
        return new vscode.ThemeIcon('graph');
      case 'story':
        return new vscode.ThemeIcon('book');
      default:
        return new vscode.ThemeIcon(this.writable ? 'table' : 'eye');
    }
  }

  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    const when = updatedText(this.entry.updatedAt);
    const drafts =
      this.drafts.length === 0 ? undefined : this.drafts.length === 1 ? vscode.l10n.t('draft open') : vscode.l10n.t('{0} drafts open', this.drafts.length);
    const role = this.role;
    item.description = [this.datasetId, role !== undefined ? roleLabel(role) : undefined, drafts, when].filter((s) => s !== undefined).join(' · ');
    item.iconPath = this.icon();
    item.contextValue = this.contextValue();
    item.tooltip = this.tooltip();
    const spoken =
      role !== undefined
        ? vscode.l10n.t('{0}, dataset {1}, shared with you as {2}', this.name, this.datasetId, roleLabel(role))
        : vscode.l10n.t('{0}, dataset {1}', this.name, this.datasetId);
    item.accessibilityInformation = { label: when ? `${spoken}, ${when}` : spoken };
    return item;
  }

  /** Metadata as Markdown. Every value from the server goes through appendText (escaped, no HTML, no links). */
  tooltip(): vscode.MarkdownString {
    const md = new vscode.MarkdownString();
    md.isTrusted = false;
    md.supportHtml = false;
    md.appendMarkdown('**');
    md.appendText(this.name);
    md.appendMarkdown(`** ${inlineCode(this.datasetId)}\n\n`);
    const description = this.view?.description ?? this.entry.description;
    if (description) {
      md.appendText(description.length > 400 ? `${description.slice(0, 400)}…` : description);
      md.appendMarkdown('\n\n');
    }
    const lines: [string, string | undefined][] = [
      [vscode.l10n.t('Owner'), this.view?.owner?.displayName ?? this.entry.owner?.displayName],
      [vscode.l10n.t('Shared with you as'), this.role !== undefined ? roleLabel(this.role) : undefined],
      [vscode.l10n.t('Your rights'), this.rights !== undefined ? this.rights.join(', ') || vscode.l10n.t('none') : undefined],
      [vscode.l10n.t('Not offered'), this.notOffered()],
      [vscode.l10n.t('Type'), this.view?.viewType ?? this.entry.type],
      [vscode.l10n.t('Visibility'), this.isPublic === undefined ? undefined : this.isPublic ? vscode.l10n.t('public') : vscode.l10n.t('private')],
      [vscode.l10n.t('Updated'), this.entry.updatedAt],
      [vscode.l10n.t('Created'), this.entry.createdAt],
      [vscode.l10n.t('Columns'), String(this.view?.columns.length ?? this.entry.columns.length)],
      [vscode.l10n.t('Row identifier'), this.view ? (this.rowIdentifier?.fieldName ?? vscode.l10n.t('none')) : undefined],
      [vscode.l10n.t('You can'), this.view?.rights !== undefined ? (this.writable ? vscode.l10n.t('read and write') : vscode.l10n.t('read only')) : undefined],
    ];
    for (const [label, value] of lines) {
      if (value === undefined || value === '') continue;
      md.appendMarkdown(`- ${label}: `);
      md.appendText(value);
      md.appendMarkdown('\n');
    }
    return md;
  }
}

/**
 * A draft or working copy of a dataset (`abcd-1234:7` in the catalog): an open revision not yet applied. It is shown
 * under its dataset (or under the account when the dataset is not listed). SODA reads and writes only reach the
 * dataset, so anything given this node uses `datasetId`, the dataset's 4x4.
 */
export class DraftNode {
  readonly kind = 'draft';

  constructor(
    readonly parent: DatasetNode | GroupNode,
    readonly entry: CatalogEntry & { draftOf: { id: string; revision: number } },
  ) {}

  get account(): AccountNode {
    return this.parent.kind === 'group' ? this.parent.parent : this.parent.parent.parent;
  }

  get id(): string {
    const group = this.parent.kind === 'group' ? this.parent.group : this.parent.parent.group;
    return `draft:${this.account.account.id}:${group}:${this.entry.id}`;
  }

  /** The dataset's 4x4 (commands that need a 4x4 use it). */
  get datasetId(): string {
    return this.entry.draftOf.id;
  }

  get revision(): number {
    return this.entry.draftOf.revision;
  }

  get domain(): SodaDomain {
    return this.account.domain;
  }

  treeItem(): vscode.TreeItem {
    const underDataset = this.parent.kind === 'dataset';
    const label = underDataset ? vscode.l10n.t('Draft (revision {0})', this.revision) : vscode.l10n.t('{0} (draft)', this.entry.name);
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    const when = updatedText(this.entry.updatedAt);
    item.description = [underDataset ? this.entry.id : vscode.l10n.t('draft of {0}', this.datasetId), when].filter((s) => s !== undefined).join(' · ');
    item.iconPath = new vscode.ThemeIcon('git-pull-request-draft');
    item.contextValue = contextValue('draft');
    const md = new vscode.MarkdownString();
    md.isTrusted = false;
    md.supportHtml = false;
    md.appendMarkdown('**');
    md.appendText(this.entry.name);
    md.appendMarkdown(`** ${inlineCode(this.entry.id)}

`);
    md.appendText(
      vscode.l10n.t(
        'Revision {0} of {1}, not yet applied. Previews, queries and publishing use the dataset {1}; the draft’s changes show there once it is applied on the portal.',
        this.revision,
        this.datasetId,
      ),
    );
    item.tooltip = md;
    item.accessibilityInformation = { label: vscode.l10n.t('Draft, revision {0} of dataset {1}', this.revision, this.datasetId) };
    return item;
  }
}

export class ColumnNode {
  readonly kind = 'column';

  constructor(
    readonly parent: DatasetNode,
    readonly column: ViewColumn,
    readonly isRowIdentifier: boolean,
  ) {}

  get id(): string {
    return `${this.parent.id}:column:${this.column.fieldName}`;
  }

  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.column.fieldName, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    const type = soqlTypeName(this.column.dataTypeName);
    item.description = this.isRowIdentifier ? `${type} · ${vscode.l10n.t('row identifier')}` : type;
    item.iconPath = new vscode.ThemeIcon(this.isRowIdentifier ? 'key' : iconForType(type));
    item.contextValue = contextValue('column', [this.isRowIdentifier && Tokens.rowId]);
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown('**');
    tip.appendText(this.column.name);
    tip.appendMarkdown(`** ${inlineCode(this.column.fieldName)}\n\n`);
    tip.appendText(`${type} (${this.column.dataTypeName})${this.isRowIdentifier ? ` — ${vscode.l10n.t('row identifier')}` : ''}`);
    if (this.column.description) {
      tip.appendMarkdown('\n\n');
      tip.appendText(this.column.description);
    }
    item.tooltip = tip;
    return item;
  }
}

function iconForType(type: string): string {
  if (type === 'number' || type === 'double') return 'symbol-number';
  if (type === 'boolean') return 'symbol-boolean';
  if (type.endsWith('timestamp') || type === 'datestamp') return 'calendar';
  if (['point', 'multipoint', 'line', 'multiline', 'polygon', 'multipolygon', 'location'].includes(type)) return 'location';
  if (type === 'url') return 'link';
  return 'symbol-string';
}

export class LoadMoreNode {
  readonly kind = 'loadMore';

  constructor(
    readonly parent: GroupNode,
    readonly loaded: number,
    readonly total: number,
  ) {}

  get id(): string {
    return `${this.parent.id}:loadMore`;
  }

  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(vscode.l10n.t('Load more…'), vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = vscode.l10n.t('{0} of {1}', this.loaded, this.total);
    item.iconPath = new vscode.ThemeIcon('more');
    item.contextValue = contextValue('loadMore');
    item.command = { command: TreeCommands.loadMore, title: vscode.l10n.t('Load More'), arguments: [this] };
    return item;
  }
}

export class ErrorNode {
  readonly kind = 'error';

  constructor(
    readonly parent: AccountNode | GroupNode | DatasetNode,
    readonly message: string,
    /** A command to fix it other than retrying (e.g. sign in again). */
    readonly action?: vscode.Command,
  ) {}

  get id(): string {
    return `${this.parent.id}:error`;
  }

  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.message, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = this.action ? this.action.title : vscode.l10n.t('click to retry');
    item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
    item.contextValue = contextValue('error');
    item.tooltip = new vscode.MarkdownString().appendText(this.message);
    item.command = this.action ?? { command: TreeCommands.refreshItem, title: vscode.l10n.t('Retry'), arguments: [this] };
    return item;
  }
}

export class MessageNode {
  readonly kind = 'message';

  constructor(
    readonly parent: AccountNode | GroupNode | DatasetNode,
    readonly message: string,
  ) {}

  get id(): string {
    return `${this.parent.id}:message`;
  }

  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.message, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon('info');
    item.contextValue = contextValue('message');
    return item;
  }
}
