// The status bar item shown while a publish runs: rows done of the total, and a click opens the log.
import * as vscode from 'vscode';

export class PublishStatus implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('socrata.publishStatus', vscode.StatusBarAlignment.Left, 50);
    this.item.name = vscode.l10n.t('Socrata Publish');
    this.item.command = 'socrata.showLog';
  }

  /** Shows the item with `text` (e.g. "permits.csv 12 000 / 100 000 rows"). */
  show(text: string, tooltip: string): void {
    this.item.text = `$(sync~spin) ${vscode.l10n.t('Socrata: {0}', text)}`;
    this.item.tooltip = `${tooltip}\n${vscode.l10n.t('Cancel from the progress notification or with "Socrata: Cancel Publish".')}`;
    this.item.show();
  }

  get text(): string | undefined {
    return this.item.text;
  }

  hide(): void {
    this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}
