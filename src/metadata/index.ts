// "Socrata: Edit Dataset Metadata…": a dataset's metadata as a JSON document in the editor, through the `socrata:`
// file system (fileSystem.ts). Uses the accounts API and the engine only; the dataset picker and the refresh after a
// save come from extension.ts, which wires the features together.
import * as vscode from 'vscode';
import { isValid4x4 } from '../soda/domain';
import { commandBoundary } from '../ui/boundary';
import { metadataUri, MetadataFileSystem, SCHEME, type MetadataAccounts, type MetadataPrompts, type SavedEvent } from './fileSystem';

export { metadataUri, SCHEME, type MetadataPrompts, type SavedEvent } from './fileSystem';

export const EDIT_METADATA_COMMAND = 'socrata.dataset.editMetadata';

/** A dataset to edit: from the palette's picker or a tree item. */
export interface MetadataTarget {
  readonly domain: string;
  readonly id: string;
  readonly accountId?: string;
}

export interface MetadataDeps {
  /** The dataset picker (the datasets feature's quick pick); undefined when dismissed. */
  pickDataset(options: { title: string; writableOnly: boolean }): Promise<MetadataTarget | undefined>;
}

export interface MetadataFeature {
  readonly fileSystem: MetadataFileSystem;
  /** Fires after a document was applied on the server (extension.ts refreshes the tree and previews). */
  readonly onDidSave: vscode.Event<SavedEvent>;
  /** Opens the metadata document of a dataset. */
  open(target: MetadataTarget): Promise<vscode.TextEditor>;
  /** Replaces the dialogs (extension-host tests answer for the person). */
  setPrompts(prompts: MetadataPrompts): void;
}

/**
 * A tree item of the datasets view (`{ entry: { id }, parent: { account: { domain, id } } }`) or a plain
 * `{ domain, id }`, read by shape: this feature does not depend on the datasets feature's classes.
 */
export function targetOf(arg: unknown): MetadataTarget | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { domain?: unknown; id?: unknown; accountId?: unknown; entry?: { id?: unknown }; parent?: { account?: { domain?: unknown; id?: unknown } } };
  const id = typeof o.entry?.id === 'string' ? o.entry.id : o.id;
  const domain = typeof o.parent?.account?.domain === 'string' ? o.parent.account.domain : o.domain;
  const accountId = typeof o.parent?.account?.id === 'string' ? o.parent.account.id : o.accountId;
  if (typeof id !== 'string' || !isValid4x4(id) || typeof domain !== 'string') return undefined;
  return { domain, id, ...(typeof accountId === 'string' ? { accountId } : {}) };
}

export function registerMetadata(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  accounts: MetadataAccounts,
  deps: MetadataDeps,
): MetadataFeature {
  const fileSystem = new MetadataFileSystem(accounts, log);
  const open = async (target: MetadataTarget): Promise<vscode.TextEditor> => {
    fileSystem.useAccount(target.domain, target.id, target.accountId);
    const uri = metadataUri(target.domain, target.id);
    // Opening again shows the server's current document unless there are unsaved edits to keep.
    const existing = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!existing?.isDirty) fileSystem.reload(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.languageId !== 'json') await vscode.languages.setTextDocumentLanguage(doc, 'json');
    return vscode.window.showTextDocument(doc, { preview: false });
  };
  context.subscriptions.push(
    fileSystem,
    vscode.workspace.registerFileSystemProvider(SCHEME, fileSystem, { isCaseSensitive: true }),
    // Closing the editor drops what was read: the next open reads the server again.
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (doc.uri.scheme === SCHEME && doc.uri.path.endsWith('/metadata.json')) fileSystem.forget(doc.uri);
    }),
    // The one command boundary: a failure (not signed in, an unreachable portal) is shown with Show Log.
    commandBoundary(log, { expected: (e) => e instanceof vscode.FileSystemError }).register(EDIT_METADATA_COMMAND, async (arg?: unknown) => {
      const target = targetOf(arg) ?? (await deps.pickDataset({ title: vscode.l10n.t('Edit Dataset Metadata'), writableOnly: true }));
      return target ? open(target) : undefined;
    }),
  );
  return {
    fileSystem,
    onDidSave: fileSystem.onDidSave,
    open,
    setPrompts: (prompts) => {
      fileSystem.prompts = prompts;
    },
  };
}
