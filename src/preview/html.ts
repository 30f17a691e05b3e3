// The preview's HTML shell. A strict Content-Security-Policy every time it is rendered:
//   default-src 'none'; scripts only with a fresh nonce (crypto.randomBytes); styles and fonts only from
//   webview.cspSource (files of dist/webview and media/ through asWebviewUri); no 'unsafe-inline', no 'unsafe-eval'.
// The app sets sizes through `element.style` (CSSOM), which style-src does not restrict; the markup itself carries
// no style attribute.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** The folders the webview may load from (its `localResourceRoots`). */
export function previewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/** Text for an HTML attribute value or element content (`& < > " '` as character references); both webviews use it. */
export function attr(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function renderPreviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, nonce: string, title: string): string {
  const uri = (...parts: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...parts)).toString();
  const csp = contentSecurityPolicy(webview.cspSource, nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(uri('dist', 'webview', 'codicons', 'codicon.css'))}">
<link rel="stylesheet" href="${attr(uri('media', 'preview.css'))}">
<title>${attr(title)}</title>
</head>
<body>
<main id="root" aria-busy="true"><p class="loading">Loading the preview…</p></main>
<script nonce="${nonce}" src="${attr(uri('dist', 'webview', 'preview.js'))}"></script>
</body>
</html>`;
}
