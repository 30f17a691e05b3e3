// Entry point of the CSV preview webview (browser bundle). The real app lands with the preview feature.
import type { HostToWebview } from '../protocol';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

const vscode = acquireVsCodeApi();
window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const root = document.getElementById('root');
  if (root && event.data.type === 'init') {
    root.textContent = event.data.title;
  }
});
vscode.postMessage({ type: 'ready' });
