// The webviews' translations (browser side). The host puts VS Code's translation bundle for the display language in
// the page (`<body data-l10n="…">`, see renderShell in src/webview/html.ts); this loads it into @vscode/l10n before
// the app renders, so `l10n.t('…')` in the apps returns the translated text. In English there is no bundle and
// `l10n.t` returns the English text it was given, with its `{0}` placeholders filled in.
import * as l10n from '@vscode/l10n';

/** Loads the page's translations (a no-op without them, or when they cannot be read). */
export function loadTranslations(root: HTMLElement = document.body): void {
  const json = root.dataset.l10n;
  if (json === undefined || json === '') return;
  try {
    l10n.config({ contents: JSON.parse(json) as Record<string, string> });
  } catch {
    // A bundle that cannot be read leaves the English texts.
  }
}
