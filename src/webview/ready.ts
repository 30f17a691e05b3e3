// Messages to a webview wait until its app says `ready` (a webview drops what is posted before its script runs).
import type * as vscode from 'vscode';

/**
 * Holds a webview's outgoing messages until `ready()`. `hold: 'latest'` keeps the newest message and sends it on
 * ready (only the latest state matters); `hold: 'none'` drops them (the host sends the whole state on ready).
 */
export class ReadyQueue<M> {
  private isReadyNow = false;
  private pending: M | undefined;

  constructor(
    private readonly webview: Pick<vscode.Webview, 'postMessage'>,
    private readonly hold: 'latest' | 'none',
  ) {}

  get isReady(): boolean {
    return this.isReadyNow;
  }

  post(message: M): void {
    if (this.isReadyNow) void this.webview.postMessage(message);
    else if (this.hold === 'latest') this.pending = message;
  }

  /** The app is ready: the held message (if any) goes out. */
  ready(): void {
    this.isReadyNow = true;
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) void this.webview.postMessage(pending);
  }

  /** The HTML was rewritten: wait for the app's `ready` again. */
  reset(): void {
    this.isReadyNow = false;
    this.pending = undefined;
  }
}
