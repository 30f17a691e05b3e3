// What the webview panels share: the HTML shell with its CSP and nonce, the attribute escaper and the ready queue.
export { attr, contentSecurityPolicy, newNonce, renderShell, type ShellOptions, translationsAttribute, webviewResourceRoots } from './html';
export { ReadyQueue } from './ready';
