// Host side of the read-only grid webview: one panel per query or preview, paged with Next/Previous.
// Strict CSP (default-src 'none', a crypto nonce for the one script), resources only from dist/webview and
// media, and messages held back until the webview says it is ready.
import * as vscode from 'vscode';
import { newNonce, ReadyQueue, renderShell, webviewResourceRoots } from '../../webview';
import { type GridColumn, type GridQuery, type GridTotal, type HostToGrid, isGridToHost } from './protocol';

export interface GridPage {
  readonly columns: readonly GridColumn[];
  readonly rows: readonly (readonly (string | null)[])[];
  /** Whether a next page may exist. */
  readonly hasNext: boolean;
}

/** Where a grid's rows come from. */
export interface GridSource {
  readonly title: string;
  readonly subtitle: string;
  readonly pageSize: number;
  /** Loads page `index` (0-based). */
  load(index: number, signal: AbortSignal): Promise<GridPage>;
  /** "Save as CSV…" (absent: no button). */
  saveCsv?(): Promise<void>;
  /** The statement the tab runs, shown in its editable query box (absent: no box). */
  readonly statement?: string;
  /** The dataset's recent statements, newest first (offered next to the query box). */
  history?(): readonly string[];
  /** The number of rows in all, counted once; undefined when it cannot be counted (absent: no total shown). */
  count?(signal: AbortSignal): Promise<number | undefined>;
  /** The source of another statement run in the same tab; throws a clear error for a statement that cannot run. */
  withStatement?(statement: string): GridSource;
}

export interface GridState {
  readonly pageIndex: number;
  readonly page: GridPage | undefined;
  readonly error: string | undefined;
  /** The statement the tab runs (query tabs). */
  readonly statement: string | undefined;
  /** The total rows shown (undefined: none shown). */
  readonly total: GridTotal | undefined;
}

export class GridPanel implements vscode.Disposable {
  static readonly viewType = 'socrata.grid';
  private readonly disposables: vscode.Disposable[] = [];
  private readonly queue: ReadyQueue<HostToGrid>;
  private index = 0;
  private current: GridPage | undefined;
  private error: string | undefined;
  private abort: AbortController | undefined;
  private counting: AbortController | undefined;
  private total: GridTotal | undefined;
  /** A page is being loaded (its message will carry the total). */
  private loading = false;
  private disposed = false;
  /** Settles when the first page has loaded (or failed). */
  readonly firstLoad: Promise<GridState>;

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private source: GridSource,
    private readonly run: (work: () => Promise<void>) => Promise<unknown>,
    private readonly log: Pick<vscode.LogOutputChannel, 'warn'>,
  ) {
    this.queue = new ReadyQueue<HostToGrid>(panel.webview, 'latest');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (!isGridToHost(message)) {
          this.log.warn(`Grid: ignored a malformed message from the webview (${describeMessage(message)}).`);
          return;
        }
        switch (message.type) {
          case 'ready':
            this.queue.ready();
            return;
          case 'next':
            void this.show(this.index + 1);
            return;
          case 'previous':
            void this.show(Math.max(0, this.index - 1));
            return;
          case 'retry':
            void this.show(this.index);
            return;
          case 'saveCsv':
            if (this.source.saveCsv) void this.run(() => this.source.saveCsv?.() ?? Promise.resolve());
            return;
          case 'run':
            void this.runStatement(message.statement);
            return;
        }
      }),
    );
    this.startCount();
    this.firstLoad = this.show(0);
  }

  /** Counts the source's rows once, in the background; the page shown is sent again with the total. */
  private startCount(): void {
    this.counting?.abort();
    this.counting = undefined;
    const source = this.source;
    if (!source.count) {
      this.total = undefined;
      return;
    }
    const abort = new AbortController();
    this.counting = abort;
    this.total = 'counting';
    source.count(abort.signal).then(
      (n) => this.settleCount(source, abort, n ?? 'unknown'),
      (error: unknown) => {
        if (!abort.signal.aborted) {
          this.log.warn(`Grid: the total row count failed; it is shown as unknown (${error instanceof Error ? error.message : String(error)}).`);
        }
        this.settleCount(source, abort, 'unknown');
      },
    );
  }

  private settleCount(source: GridSource, abort: AbortController, total: GridTotal): void {
    if (abort.signal.aborted || source !== this.source || this.disposed) return;
    this.total = total;
    if (this.current !== undefined && this.error === undefined && !this.loading) this.post(this.pageMessage(this.current));
  }

  /**
   * Runs another statement in this tab (the query box's Run): the tab's title, query, total and pages follow it.
   * A statement that cannot run is shown as the tab's error, with the query box kept for fixing it.
   */
  async runStatement(statement: string): Promise<GridState> {
    if (!this.source.withStatement) return this.state;
    let next: GridSource;
    try {
      next = this.source.withStatement(statement);
    } catch (error) {
      this.abort?.abort();
      this.current = undefined;
      this.error = error instanceof Error ? error.message : String(error);
      this.post({
        type: 'error',
        title: this.source.title,
        message: this.error,
        hasPrevious: false,
        query: { statement, history: this.source.history?.() ?? [] },
      });
      return this.state;
    }
    this.source = next;
    this.panel.title = next.title;
    this.index = 0;
    this.startCount();
    return this.show(0);
  }

  /** The query box's content: the statement and the dataset's recent ones. */
  private query(): GridQuery | undefined {
    const statement = this.source.statement;
    return statement === undefined ? undefined : { statement, history: this.source.history?.() ?? [] };
  }

  /** The total shown with a page: exact when the page is the last one, otherwise the count's. */
  private totalFor(page: GridPage, index: number): GridTotal | undefined {
    if (!page.hasNext) return index * this.source.pageSize + page.rows.length;
    return this.total;
  }

  private pageMessage(page: GridPage): HostToGrid {
    const query = this.query();
    const total = this.source.count ? this.totalFor(page, this.index) : undefined;
    return {
      type: 'page',
      title: this.source.title,
      subtitle: this.source.subtitle,
      columns: page.columns,
      rows: page.rows,
      firstRow: this.index * this.source.pageSize + 1,
      hasPrevious: this.index > 0,
      hasNext: page.hasNext,
      canSave: this.source.saveCsv !== undefined,
      ...(query ? { query } : {}),
      ...(total !== undefined ? { total } : {}),
    };
  }

  /** Opens a grid for `source` in a new editor tab and starts loading its first page. */
  static open(
    extensionUri: vscode.Uri,
    source: GridSource,
    run: (work: () => Promise<void>) => Promise<unknown>,
    log: Pick<vscode.LogOutputChannel, 'warn'>,
  ): GridPanel {
    const roots = webviewResourceRoots(extensionUri);
    const panel = vscode.window.createWebviewPanel(GridPanel.viewType, source.title, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: roots,
      retainContextWhenHidden: false,
    });
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'views-socrata.svg');
    panel.webview.html = gridHtml(panel.webview, extensionUri, source.title);
    return new GridPanel(panel, source, run, log);
  }

  get state(): GridState {
    const total = this.current !== undefined && this.source.count ? this.totalFor(this.current, this.index) : undefined;
    return { pageIndex: this.index, page: this.current, error: this.error, statement: this.source.statement, total };
  }

  private post(message: HostToGrid): void {
    if (this.disposed) return;
    // Before "ready" only the latest state matters.
    this.queue.post(message);
  }

  /** Loads and shows page `index`; the state after loading is returned (and kept for `state`). */
  async show(index: number): Promise<GridState> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.post({ type: 'busy', message: vscode.l10n.t('Loading rows {0}–{1}…', index * this.source.pageSize + 1, (index + 1) * this.source.pageSize) });
    this.loading = true;
    try {
      const page = await this.source.load(index, abort.signal);
      if (abort.signal.aborted) return this.state;
      this.index = index;
      this.current = page;
      this.error = undefined;
      this.post(this.pageMessage(page));
    } catch (error) {
      if (abort.signal.aborted) return this.state;
      this.index = index;
      this.current = undefined;
      this.error = error instanceof Error ? error.message : String(error);
      const query = this.query();
      this.post({ type: 'error', title: this.source.title, message: this.error, hasPrevious: index > 0, ...(query ? { query } : {}) });
    } finally {
      if (this.abort === abort) this.loading = false;
    }
    return this.state;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.abort?.abort();
    this.counting?.abort();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

/** A short, safe description of an unexpected message for the log: its type and keys, never its values. */
function describeMessage(message: unknown): string {
  if (message === null || typeof message !== 'object') return typeof message;
  const keys = Object.keys(message).slice(0, 5).join(', ');
  const type = (message as { type?: unknown }).type;
  return `type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : typeof type}; keys ${keys || 'none'}`;
}

export function gridHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  return renderShell(webview, extensionUri, {
    nonce: newNonce(),
    title,
    styles: [['media', 'views-grid.css']],
    script: ['dist', 'webview', 'grid.js'],
    body: '<main id="root" aria-live="polite"></main>',
  });
}
