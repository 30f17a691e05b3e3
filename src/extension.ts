import * as vscode from 'vscode';
import { registerAuth } from './auth';

/**
 * Wires the features together. Each feature registers its own commands, views and providers and hands
 * every Disposable back to `context.subscriptions`.
 */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Socrata', { log: true });
  context.subscriptions.push(log);
  context.subscriptions.push(vscode.commands.registerCommand('socrata.showLog', () => log.show()));
  const accounts = registerAuth(context, log);
  void accounts;
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
