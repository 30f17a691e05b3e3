// Messages between the preview host and its webview. Type-only: imported by both bundles.
export type HostToWebview = { type: 'init'; title: string };
export type WebviewToHost = { type: 'ready' };
