// Host side of the read-only grid webview: one panel per query or preview, paged with Next/Previous.
// Strict CSP (default-src 'none', a crypto nonce for the one script), resources only from dist/webview and
// media, and messages held back until the webview says it is ready.
import * as vscode from 'vscode';
import { newNonce, ReadyQueue, renderShell, webviewResourceRoots } from '../../webview';
import { type GridColumn, type HostToGrid, isGridToHost } from './protocol';

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
}

export interface GridState {
  readonly pageIndex: number;
  readonly page: GridPage | undefined;
  readonly error: string | undefined;
}

export class GridPanel implements vscode.Disposable {
  static readonly viewType = 'socrata.grid';
  private readonly disposables: vscode.Disposable[] = [];
  private readonly queue: ReadyQueue<HostToGrid>;
  private index = 0;
  private current: GridPage | undefined;
  private error: string | undefined;
  private abort: AbortController | undefined;
  private disposed = false;
  /** Settles when the first page has loaded (or failed). */
  readonly firstLoad: Promise<GridState>;

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly source: GridSource,
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
        }
      }),
    );
    this.firstLoad = this.show(0);
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
    return { pageIndex: this.index, page: this.current, error: this.error };
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
    this.post({ type: 'busy', message: `Loading rows ${index * this.source.pageSize + 1}–${(index + 1) * this.source.pageSize}…` });
    try {
      const page = await this.source.load(index, abort.signal);
      if (abort.signal.aborted) return this.state;
      this.index = index;
      this.current = page;
      this.error = undefined;
      this.post({
        type: 'page',
        title: this.source.title,
        subtitle: this.source.subtitle,
        columns: page.columns,
        rows: page.rows,
        firstRow: index * this.source.pageSize + 1,
        hasPrevious: index > 0,
        hasNext: page.hasNext,
        canSave: this.source.saveCsv !== undefined,
      });
    } catch (error) {
      if (abort.signal.aborted) return this.state;
      this.index = index;
      this.current = undefined;
      this.error = error instanceof Error ? error.message : String(error);
      this.post({ type: 'error', title: this.source.title, message: this.error, hasPrevious: index > 0 });
    }
    return this.state;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.abort?.abort();
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
