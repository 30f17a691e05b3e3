// The `socrata:` file system: a dataset's metadata as `socrata:/<domain>/<4x4>/metadata.json`, the portal's JSON
// Schema as `socrata:/<domain>/schema.json`, and two read-only companions for the diff editor (`metadata.server.json`,
// the server's current document, and `metadata.yours.json`, the one being saved). Saving validates, shows risky
// changes as a diff and asks, refuses when the server changed since the document was opened (Compare / Overwrite),
// then applies everything as one change through the engine (src/soda/metadata.ts).
import * as vscode from 'vscode';
import { assert4x4, isValid4x4, parseDomain } from '../soda/domain';
import {
  describeRisks,
  diffDocuments,
  formatDocument,
  isRisky,
  MetadataClient,
  MetadataConflictError,
  MetadataDocumentError,
  parseDocument,
  type DomainMetadataLists,
  type MetadataDocument,
} from '../soda/metadata';
import { metadataJsonSchema } from '../soda/metadataSchema';
import type { SodaClient } from '../soda/client';
import type { AccountDescription, SocrataAccounts } from '../accounts';

export const SCHEME = 'socrata';

/** The parts of the accounts API this feature needs. */
export type MetadataAccounts = Pick<SocrataAccounts<SodaClient>, 'getConnection' | 'reportError'>;

/** The person's answers (a seam: the extension asks with VS Code's dialogs; tests answer for them). */
export interface MetadataPrompts {
  /** Risky changes: true to apply them. */
  confirmRisky(title: string, risks: string[]): Promise<boolean>;
  /** The server changed since the document was opened. */
  conflict(title: string): Promise<'compare' | 'overwrite' | undefined>;
}

export const dialogPrompts: MetadataPrompts = {
  async confirmRisky(title, risks) {
    const apply = vscode.l10n.t('Apply Changes');
    const answer = await vscode.window.showWarningMessage(title, { modal: true, detail: risks.join('\n\n') }, apply);
    return answer === apply;
  },
  async conflict(title) {
    const compare = vscode.l10n.t('Compare');
    const overwrite = vscode.l10n.t('Overwrite');
    const answer = await vscode.window.showWarningMessage(
      title,
      { modal: true, detail: vscode.l10n.t("Compare shows the server's version next to yours; Overwrite saves yours over it.") },
      compare,
      overwrite,
    );
    return answer === compare ? 'compare' : answer === overwrite ? 'overwrite' : undefined;
  },
};

interface OpenDocument {
  domain: string;
  id: string;
  accountId: string | undefined;
  /** The server's document when it was opened (or last saved). */
  base: MetadataDocument;
  lists: DomainMetadataLists;
  text: Uint8Array;
  mtime: number;
  ctime: number;
}

export interface SavedEvent {
  readonly domain: string;
  readonly id: string;
  readonly document: MetadataDocument;
}

/** `socrata:/<domain>/<4x4>/metadata.json` for a dataset. */
export function metadataUri(domain: string, id: string): vscode.Uri {
  parseDomain(domain);
  assert4x4(id);
  return vscode.Uri.from({ scheme: SCHEME, path: `/${domain}/${id}/metadata.json` });
}

type Parsed =
  { kind: 'metadata' | 'server' | 'yours'; domain: string; id: string } | { kind: 'schema'; domain: string } | { kind: 'dir'; domain?: string; id?: string };

function parseUri(uri: vscode.Uri): Parsed {
  const parts = uri.path.split('/').filter(Boolean);
  const domain = parts[0];
  if (domain === undefined) return { kind: 'dir' };
  try {
    parseDomain(domain);
  } catch {
    throw vscode.FileSystemError.FileNotFound(uri);
  }
  if (parts.length === 1) return { kind: 'dir', domain };
  if (parts.length === 2 && parts[1] === 'schema.json') return { kind: 'schema', domain };
  const id = parts[1];
  if (!isValid4x4(id)) throw vscode.FileSystemError.FileNotFound(uri);
  if (parts.length === 2) return { kind: 'dir', domain, id };
  if (parts.length === 3) {
    if (parts[2] === 'metadata.json') return { kind: 'metadata', domain, id };
    if (parts[2] === 'metadata.server.json') return { kind: 'server', domain, id };
    if (parts[2] === 'metadata.yours.json') return { kind: 'yours', domain, id };
  }
  throw vscode.FileSystemError.FileNotFound(uri);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class MetadataFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changeEmitter.event;
  private readonly savedEmitter = new vscode.EventEmitter<SavedEvent>();
  /** Fires after a document was applied on the server. */
  readonly onDidSave = this.savedEmitter.event;
  private readonly docs = new Map<string, OpenDocument>();
  /** Companion files for the diff editor, by URI. */
  private readonly companions = new Map<string, Uint8Array>();
  private readonly schemas = new Map<string, Uint8Array>();
  /** The account a dataset was opened with (from the tree), by `domain/id`. */
  private readonly accountFor = new Map<string, string>();
  prompts: MetadataPrompts = dialogPrompts;

  constructor(
    private readonly accounts: MetadataAccounts,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  dispose(): void {
    this.changeEmitter.dispose();
    this.savedEmitter.dispose();
  }

  /** Remembers which account to use for a dataset opened from the tree. */
  useAccount(domain: string, id: string, accountId: string | undefined): void {
    if (accountId) this.accountFor.set(`${domain}/${id}`, accountId);
  }

  /** Forgets what was read, so the next read asks the server again (when the editor is closed). */
  forget(uri: vscode.Uri): void {
    this.docs.delete(uri.toString());
  }

  /** Reads the server again and tells the editor (for a document with no unsaved changes). */
  reload(uri: vscode.Uri): void {
    if (!this.docs.delete(uri.toString())) return;
    this.changeEmitter.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const p = parseUri(uri);
    if (p.kind === 'dir') return { type: vscode.FileType.Directory, ctime: 0, mtime: 0, size: 0 };
    const data = await this.readFile(uri);
    const doc = p.kind === 'metadata' ? this.docs.get(uri.toString()) : undefined;
    return {
      type: vscode.FileType.File,
      ctime: doc?.ctime ?? 0,
      mtime: doc?.mtime ?? 0,
      size: data.byteLength,
      ...(p.kind === 'metadata' ? {} : { permissions: vscode.FilePermission.Readonly }),
    };
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  createDirectory(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const p = parseUri(uri);
    if (p.kind === 'dir') throw vscode.FileSystemError.FileIsADirectory(uri);
    if (p.kind === 'schema') {
      const cached = this.schemas.get(p.domain);
      if (cached) return cached;
      const lists = await this.listsFor(p.domain, undefined);
      const bytes = encoder.encode(`${JSON.stringify(metadataJsonSchema(lists, uri.toString()), null, 2)}\n`);
      this.schemas.set(p.domain, bytes);
      return bytes;
    }
    if (p.kind === 'server' || p.kind === 'yours') {
      const bytes = this.companions.get(uri.toString());
      if (!bytes) throw vscode.FileSystemError.FileNotFound(uri);
      return bytes;
    }
    const open = this.docs.get(uri.toString()) ?? (await this.load(uri, p.domain, p.id));
    return open.text;
  }

  private async load(uri: vscode.Uri, domain: string, id: string): Promise<OpenDocument> {
    const accountId = this.accountFor.get(`${domain}/${id}`);
    const { meta, account } = await this.client(domain, accountId);
    try {
      const [{ document }, lists] = await Promise.all([meta.get(id), meta.lists()]);
      const now = Date.now();
      const open: OpenDocument = {
        domain,
        id,
        accountId: account.id,
        base: document,
        lists,
        text: encoder.encode(formatDocument(document, this.schemaUri(domain))),
        mtime: now,
        ctime: now,
      };
      this.docs.set(uri.toString(), open);
      return open;
    } catch (e) {
      await this.accounts.reportError(account, e);
      throw e;
    }
  }

  private schemaUri(domain: string): string {
    return vscode.Uri.from({ scheme: SCHEME, path: `/${domain}/schema.json` }).toString();
  }

  private async listsFor(domain: string, accountId: string | undefined): Promise<DomainMetadataLists> {
    for (const d of this.docs.values()) if (d.domain === domain) return d.lists;
    const { meta } = await this.client(domain, accountId);
    return meta.lists();
  }

  private async client(domain: string, accountId: string | undefined): Promise<{ meta: MetadataClient; account: AccountDescription }> {
    const connection = await this.accounts.getConnection(domain, { ...(accountId ? { accountId } : {}), silent: true });
    if (!connection) throw vscode.FileSystemError.Unavailable(vscode.l10n.t('Not signed in to {0}: sign in from the Socrata view first.', domain));
    return { meta: new MetadataClient(connection.client), account: connection.account };
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array): Promise<void> {
    const p = parseUri(uri);
    if (p.kind !== 'metadata') throw vscode.FileSystemError.NoPermissions(uri);
    const open = this.docs.get(uri.toString()) ?? (await this.load(uri, p.domain, p.id));
    const text = decoder.decode(content);
    let mine: MetadataDocument;
    try {
      mine = parseDocument(text, open.base, open.lists, `${p.id}/metadata.json`);
    } catch (e) {
      if (e instanceof MetadataDocumentError) {
        throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Not saved — {0}', e.problems.map((x) => `${x.field}: ${x.message}`).join('; ')));
      }
      throw e;
    }
    delete (mine as { $schema?: unknown }).$schema;
    const { meta, account } = await this.client(p.domain, open.accountId);
    const title = `${open.base.name} (${p.id})`;
    let force = false;
    // Risky changes are judged against the server as it is now.
    let server: MetadataDocument;
    try {
      server = (await meta.get(p.id)).document;
    } catch (e) {
      await this.accounts.reportError(account, e);
      throw e;
    }
    if (!sameText(server, open.base)) {
      const choice = await this.prompts.conflict(vscode.l10n.t('{0} changed on the server since you opened it. Your changes were not saved.', title));
      if (choice === 'compare') {
        await this.showDiff(p.domain, p.id, server, text, vscode.l10n.t('{0} metadata: server ↔ yours', p.id));
        throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Not saved: the dataset changed on the server. Compare, then save again or overwrite.'));
      }
      if (choice !== 'overwrite') {
        throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Not saved: the dataset changed on the server since it was opened.'));
      }
      force = true;
    }
    const changes = diffDocuments(server, mine);
    const risky = changes.filter(isRisky);
    if (risky.length) {
      const one = risky.length === 1;
      await this.showDiff(
        p.domain,
        p.id,
        server,
        text,
        one
          ? vscode.l10n.t('{0} metadata: server ↔ yours (1 risky change)', p.id)
          : vscode.l10n.t('{0} metadata: server ↔ yours ({1} risky changes)', p.id, risky.length),
      );
      const ok = await this.prompts.confirmRisky(
        one ? vscode.l10n.t('Apply 1 risky change to {0}?', title) : vscode.l10n.t('Apply {0} risky changes to {1}?', risky.length, title),
        describeRisks(changes, p.domain, p.id),
      );
      if (!ok) throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Not saved: the risky changes were not confirmed.'));
    }
    let result;
    try {
      result = await meta.apply(p.id, mine, { base: force ? server : open.base, lists: open.lists });
    } catch (e) {
      if (e instanceof MetadataConflictError) {
        throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Not saved: the dataset changed on the server while saving. Save again to compare.'));
      }
      if (!(await this.accounts.reportError(account, e))) this.log.warn(`metadata ${p.domain}/${p.id}: ${e instanceof Error ? e.message : String(e)}`);
      throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Not saved — {0}', e instanceof Error ? e.message : String(e)));
    }
    this.log.info(`metadata ${p.domain}/${p.id}: saved ${result.changes.length} change(s) through ${result.route}`);
    const now = Date.now();
    open.base = result.document;
    open.text = content;
    open.mtime = Math.max(now, open.mtime + 1);
    this.changeEmitter.fire([{ type: vscode.FileChangeType.Changed, uri }]);
    this.savedEmitter.fire({ domain: p.domain, id: p.id, document: result.document });
    if (result.approvalSubmitted) void vscode.window.showInformationMessage(vscode.l10n.t('The metadata change to {0} was submitted for approval.', title));
  }

  private async showDiff(domain: string, id: string, server: MetadataDocument, yours: string, title: string): Promise<void> {
    const left = vscode.Uri.from({ scheme: SCHEME, path: `/${domain}/${id}/metadata.server.json` });
    const right = vscode.Uri.from({ scheme: SCHEME, path: `/${domain}/${id}/metadata.yours.json` });
    this.companions.set(left.toString(), encoder.encode(formatDocument(server, this.schemaUri(domain))));
    this.companions.set(right.toString(), encoder.encode(yours));
    this.changeEmitter.fire([
      { type: vscode.FileChangeType.Changed, uri: left },
      { type: vscode.FileChangeType.Changed, uri: right },
    ]);
    await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: true, preserveFocus: false });
  }
}

function sameText(a: MetadataDocument, b: MetadataDocument): boolean {
  return formatDocument(a) === formatDocument(b);
}
