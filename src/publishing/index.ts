// Registers the CSV preview and the publish flow: the commands, the webview serializer (previews come back after a
// window reload), the Problems-panel diagnostics, the status bar item and the publish runner.
import { mkdirSync } from 'node:fs';
import * as vscode from 'vscode';
import type { SocrataAccounts } from '../accounts';
import { commandBoundary } from '../ui/boundary';
import { PublishFlow } from './flow';
import { PublishRunner } from './runner';
import type { SodaClient } from '../soda/client';
import { PublishStatus } from './status';

export { PublishCommands, type FlowResult, type PublishCommandArgs } from './flow';
export type { PublishOutcome } from './runner';
export { PREVIEW_VIEW_TYPE } from './protocol';

export interface PreviewFeature {
  readonly flow: PublishFlow;
  readonly runner: PublishRunner;
  readonly diagnostics: vscode.DiagnosticCollection;
}

export function registerPreview(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, accounts: SocrataAccounts<SodaClient>): PreviewFeature {
  const diagnostics = vscode.languages.createDiagnosticCollection('socrata');
  const status = new PublishStatus();
  // Resume journals live in the extension's storage (per workspace when there is one).
  const journalDir = (): string => {
    const dir = vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, 'journals').fsPath;
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const runner = new PublishRunner(log, status, journalDir);
  const flow = new PublishFlow({ context, accounts, log, boundary: commandBoundary(log), runner, diagnostics });
  context.subscriptions.push(diagnostics, status, runner, ...flow.register());
  return { flow, runner, diagnostics };
}
