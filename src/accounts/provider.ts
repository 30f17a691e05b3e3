import * as vscode from 'vscode';
import { type AccountDescription, accountLabel, diffAccounts, domainFromScopes, domainScope, secretKeyKind } from './model';
import type { AccountStore } from './store';

export const AUTH_PROVIDER_ID = 'socrata';
export const AUTH_PROVIDER_LABEL = 'Socrata';

/**
 * Interactive sign-in used when VS Code asks the provider for a new session (a consumer called `getSession`
 * with `createIfNone`, or the user picked "Sign in" in the Accounts menu). Resolves to the saved account, or
 * undefined when the user cancelled.
 */
export type InteractiveSignIn = (domain: string | undefined) => Promise<AccountDescription | undefined>;

export function sessionFor(account: AccountDescription): vscode.AuthenticationSession {
  return {
    id: account.id,
    // The session object reaches every extension the user allows; it carries an opaque reference, never the
    // credential. Requests are made through SocrataAccounts.getClientFor, which reads SecretStorage.
    accessToken: account.id,
    account: { id: account.id, label: accountLabel(account) },
    scopes: [domainScope(account.domain)],
  };
}

/**
 * The `socrata` AuthenticationProvider. One session per (domain, user). Keeps a cached account list, reloads
 * it when SecretStorage changes (in this window or any other) and fires `onDidChangeSessions` only for what
 * actually changed. Accounts marked invalid (the portal answered 401) are not offered as sessions.
 */
export class SocrataAuthenticationProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.changeEmitter.event;
  private readonly accountsEmitter = new vscode.EventEmitter<readonly AccountDescription[]>();
  /** Fires with the whole account list (including invalid ones) whenever it changes. */
  readonly onDidChangeAccounts = this.accountsEmitter.event;

  private cache: Promise<AccountDescription[]> | undefined;
  private snapshot: AccountDescription[] | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  constructor(
    private readonly store: AccountStore,
    secrets: vscode.SecretStorage,
    private readonly log: vscode.LogOutputChannel,
    /** Interactive sign-in for a domain (the account commands' chooser). */
    private readonly signIn: InteractiveSignIn,
  ) {
    this.disposables.push(
      this.changeEmitter,
      this.accountsEmitter,
      secrets.onDidChange((e) => {
        const kind = secretKeyKind(e.key);
        if (kind === 'accounts' || kind === 'credential') void this.refresh();
      }),
    );
  }

  /** All stored accounts, including invalid ones (cached). */
  accounts(): Promise<AccountDescription[]> {
    if (this.cache === undefined) {
      this.cache = this.store.list().then(
        (accounts) => {
          this.snapshot ??= accounts;
          return accounts;
        },
        (error: unknown) => {
          this.cache = undefined;
          throw error;
        },
      );
    }
    return this.cache;
  }

  async getSessions(scopes?: readonly string[]): Promise<vscode.AuthenticationSession[]> {
    const domain = domainFromScopes(scopes);
    const accounts = await this.accounts();
    return accounts.filter((a) => a.invalid !== true && (domain === undefined || a.domain === domain)).map(sessionFor);
  }

  async createSession(scopes: readonly string[]): Promise<vscode.AuthenticationSession> {
    const account = await this.signIn(domainFromScopes(scopes));
    if (account === undefined) throw new vscode.CancellationError();
    return sessionFor(account);
  }

  async removeSession(sessionId: string): Promise<void> {
    const removed = await this.store.remove(sessionId);
    if (removed) this.log.info(`Signed out of ${accountLabel(removed)}.`);
    await this.refresh();
  }

  /** Re-reads the stored accounts and fires events for the differences. */
  async refresh(): Promise<void> {
    this.cache = undefined;
    const before = this.snapshot ?? [];
    let after: AccountDescription[];
    try {
      after = await this.accounts();
    } catch (error) {
      this.log.error(`Could not read the stored Socrata accounts: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.snapshot = after;
    const { added, removed, changed } = diffAccounts(before, after);
    if (added.length + removed.length + changed.length === 0) return;
    const valid = (a: AccountDescription) => a.invalid !== true;
    const event = {
      added: added.filter(valid).map(sessionFor),
      // An account that became invalid disappears from the sessions; one that became valid again appears.
      removed: [...removed, ...changed.filter((a) => !valid(a))].map(sessionFor),
      changed: changed.filter(valid).map(sessionFor),
    };
    const addedBack = changed.filter((a) => valid(a) && before.find((b) => b.id === a.id)?.invalid === true);
    event.added.push(...addedBack.map(sessionFor));
    event.changed = event.changed.filter((s) => !addedBack.some((a) => a.id === s.id));
    if (event.added.length + event.removed.length + event.changed.length > 0) this.changeEmitter.fire(event);
    this.accountsEmitter.fire(after);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
