// Host side of the CSV preview webview: one panel per file. It renders the HTML shell (strict CSP, fresh nonce per
// render), holds outgoing messages until the app says `ready`, checks every incoming message with the protocol's
// guard (anything malformed is ignored and logged), and forwards intents to the session and the actions.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { toDiagnostics } from './diagnostics';
import { attr, newNonce, ReadyQueue, renderShell, webviewResourceRoots } from '../webview';
import { type HostToWebview, isWebviewToHost, PREVIEW_VIEW_TYPE, type PreviewAction, type WebviewToHost } from './protocol';
import type { PreviewSession, SessionTarget } from './session';

export interface PreviewActions {
  /** Runs a button's action (dry run, publish, save as spec) for this preview. */
  run(panel: PreviewPanel, action: PreviewAction): Promise<unknown>;
  /** Asks for a dataset (the dataset picker); undefined when dismissed. */
  pickDataset(): Promise<SessionTarget | undefined>;
  /** The domain a new dataset goes to (asks when several are signed in). */
  domainForNew(): Promise<string | undefined>;
  /** Every problem goes to the Problems panel for this file. */
  setProblems(file: vscode.Uri, problems: vscode.Diagnostic[]): void;
}

export class PreviewPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly queue: ReadyQueue<HostToWebview>;
  private disposed = false;
  /** Nonces of every render, newest last (the host tests check each render has a fresh one). */
  readonly nonces: string[] = [];
  /** Messages that failed the protocol check (counted for the tests; each is logged). */
  ignoredMessages = 0;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly session: PreviewSession,
    private readonly extensionUri: vscode.Uri,
    private readonly actions: PreviewActions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // Before `ready` nothing is sent: the app asks with `ready` and then gets the whole, current model.
    this.queue = new ReadyQueue<HostToWebview>(panel.webview, 'none');
    panel.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: webviewResourceRoots(extensionUri) };
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'socrata.svg');
    this.disposables.push(
      this.disposeEmitter,
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)),
      session.onDidChange(() => this.sendModel()),
      session.onDidProblems((problems) => actions.setProblems(vscode.Uri.file(session.file), toDiagnostics(problems))),
    );
    this.render();
  }

  /** Creates the panel (beside the active editor) for a session. */
  static create(extensionUri: vscode.Uri, session: PreviewSession, actions: PreviewActions, log: vscode.LogOutputChannel): PreviewPanel {
    const panel = vscode.window.createWebviewPanel(
      PREVIEW_VIEW_TYPE,
      vscode.l10n.t('Preview: {0}', basename(session.file)),
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      {
        enableScripts: true,
        enableFindWidget: true,
        localResourceRoots: webviewResourceRoots(extensionUri),
      },
    );
    return new PreviewPanel(panel, session, extensionUri, actions, log);
  }

  /** (Re)writes the HTML: a new nonce each time; the app asks for the model again with `ready`. */
  render(): void {
    const nonce = newNonce();
    this.nonces.push(nonce);
    this.queue.reset();
    this.panel.webview.html = renderPreviewHtml(this.panel.webview, this.extensionUri, nonce, vscode.l10n.t('Preview: {0}', basename(this.session.file)));
  }

  get html(): string {
    return this.panel.webview.html;
  }

  get isReady(): boolean {
    return this.queue.isReady;
  }

  private post(message: HostToWebview): void {
    if (this.disposed) return;
    this.queue.post(message);
  }

  sendModel(): void {
    const model = this.session.model();
    if (!model) return;
    this.post({ type: 'model', model, restore: this.session.restoreState() });
  }

  /** Every message from the webview comes through here; only well-formed ones are acted on. */
  receive(message: unknown): void {
    if (!isWebviewToHost(message)) {
      this.ignoredMessages++;
      let shown: string;
      try {
        shown = JSON.stringify(message)?.slice(0, 200) ?? String(message);
      } catch {
        shown = typeof message;
      }
      this.log.warn(`Preview of ${basename(this.session.file)}: ignored a malformed message from the webview: ${shown}`);
      return;
    }
    void this.handle(message).catch((e: unknown) =>
      this.log.error(`Preview of ${basename(this.session.file)}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
    );
  }

  private async handle(m: WebviewToHost): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.queue.ready();
        this.sendModel();
        return;
      case 'setType':
        this.session.setType(m.column, m.columnType);
        return;
      case 'setTarget':
        this.session.setColumnTarget(m.column, m.target);
        return;
      case 'setMode':
        this.session.setMode(m.mode);
        return;
      case 'setRowIdentifier':
        this.session.setRowIdentifier(m.field ?? undefined);
        return;
      case 'setSkipBadRows':
        this.session.setSkipBadRows(m.skip);
        return;
      case 'refresh':
        await this.session.load();
        return;
      case 'pickDataset': {
        const target = await this.actions.pickDataset();
        if (target) await this.session.setTarget(target);
        return;
      }
      case 'newDataset': {
        const current = this.session.currentTarget;
        const domain = current?.domain ?? (await this.actions.domainForNew());
        if (!domain) return;
        await this.session.setTarget({ domain, newName: m.name.trim(), description: m.description, ...(m.permission ? { permission: m.permission } : {}) });
        return;
      }
      case 'openLine': {
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(this.session.file));
        const line = Math.min(m.line - 1, Math.max(0, doc.lineCount - 1));
        await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, 0, line, 0), viewColumn: vscode.ViewColumn.Beside });
        return;
      }
      case 'action':
        await this.actions.run(this, m.action);
        return;
    }
  }

  reveal(): void {
    this.panel.reveal();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
    this.actions.setProblems(vscode.Uri.file(this.session.file), []);
    this.session.dispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The preview's page: the codicons and its stylesheet, a loading note until the app renders. */
export function renderPreviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, nonce: string, title: string): string {
  return renderShell(webview, extensionUri, {
    nonce,
    title,
    styles: [
      ['dist', 'webview', 'codicons', 'codicon.css'],
      ['media', 'preview.css'],
    ],
    script: ['dist', 'webview', 'preview.js'],
    body: `<main id="root" aria-busy="true"><p class="loading">${attr(vscode.l10n.t('Loading the preview…'))}</p></main>`,
  });
}
