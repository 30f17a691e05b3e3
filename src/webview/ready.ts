// Messages to a webview wait until its app says `ready` (a webview drops what is posted before its script runs).
import type * as vscode from 'vscode';

/**
 * Holds a webview's outgoing messages until `ready()`. `hold: 'latest'` keeps the newest message and sends it on
 * every ready: the first one, and each reload after the tab was hidden (VS Code tears a hidden webview's document
 * down, and the app comes back empty). `hold: 'none'` drops them (the host sends the whole state on ready).
 */
export class ReadyQueue<M> {
  private isReadyNow = false;
  private latest: M | undefined;

  constructor(
    private readonly webview: Pick<vscode.Webview, 'postMessage'>,
    private readonly hold: 'latest' | 'none',
  ) {}

  get isReady(): boolean {
    return this.isReadyNow;
  }

  post(message: M): void {
    if (this.hold === 'latest') this.latest = message;
    if (this.isReadyNow) void this.webview.postMessage(message);
  }

  /** The app is ready (first load or a reload): the latest message (if held) goes out. */
  ready(): void {
    this.isReadyNow = true;
    if (this.latest !== undefined) void this.webview.postMessage(this.latest);
  }

  /** The HTML was rewritten: wait for the app's `ready` again (which gets the latest message). */
  reset(): void {
    this.isReadyNow = false;
  }
}
