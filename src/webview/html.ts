// The webviews' shared HTML shell (the CSV preview and the grid). A strict Content-Security-Policy every time one
// is rendered:
//   default-src 'none'; scripts only with a fresh nonce (crypto.randomBytes); styles and fonts only from
//   webview.cspSource (files of dist/webview and media/ through asWebviewUri); no 'unsafe-inline', no 'unsafe-eval'.
// The apps set sizes through `element.style` (CSSOM), which style-src does not restrict; the markup itself carries
// no style attribute.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** The folders a webview may load from (its `localResourceRoots`). */
export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
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

export interface ShellOptions {
  /** The script's nonce (a fresh one per render: `newNonce()`). */
  readonly nonce: string;
  readonly title: string;
  /** Stylesheets, each as path parts under the extension folder, in order. */
  readonly styles: readonly (readonly string[])[];
  /** The app's script, as path parts under the extension folder. */
  readonly script: readonly string[];
  /** The body's markup before the script (trusted, written by the extension). */
  readonly body: string;
}

/**
 * The translations for the webview apps: VS Code's bundle for the display language (every `l10n.t` text of the
 * extension, the apps' included), as a `data-l10n` attribute the app reads before it renders (src/webview/app/l10n.ts).
 * Nothing in English, where VS Code loads no bundle. Data in an attribute, not a script: the CSP is unchanged.
 */
export function translationsAttribute(bundle: Record<string, string> | undefined = vscode.l10n.bundle): string {
  return bundle === undefined || Object.keys(bundle).length === 0 ? '' : ` data-l10n="${attr(JSON.stringify(bundle))}"`;
}

/** The HTML page of a webview: the CSP, the stylesheets, the body (with the translations) and the nonce'd app script. */
export function renderShell(webview: vscode.Webview, extensionUri: vscode.Uri, options: ShellOptions): string {
  const uri = (parts: readonly string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...parts)).toString();
  const csp = contentSecurityPolicy(webview.cspSource, options.nonce);
  const styles = options.styles.map((parts) => `<link rel="stylesheet" href="${attr(uri(parts))}">\n`).join('');
  return `<!DOCTYPE html>
<html lang="${attr(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}<title>${attr(options.title)}</title>
</head>
<body${translationsAttribute()}>
${options.body}
<script nonce="${options.nonce}" src="${attr(uri(options.script))}"></script>
</body>
</html>`;
}
