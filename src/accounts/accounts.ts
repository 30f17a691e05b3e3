import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import { isSodaError } from '../soda/errors';
import { parseDomain } from '../soda/domain';
import { authFor, type ClientFactory, describeIdentity, type IdentityClient, identityOf } from './client';
import { type AccountDescription, accountLabel, type Credential, describeKind, type Identity } from './model';
import type { InteractiveSignIn, SocrataAuthenticationProvider } from './provider';
import type { AccountStore } from './store';

export interface GetClientOptions {
  /** Default true: never prompt; resolve undefined when there is no usable account for the domain. */
  readonly silent?: boolean;
  /** Pick one account of the domain (its session id); otherwise the first valid one. */
  readonly accountId?: string;
}

export interface Connection<C> {
  readonly client: C;
  readonly account: AccountDescription;
}

/**
 * The accounts API the other features use: which domains and accounts exist, a configured client per
 * domain, and an event when any of that changes. Secrets are read from SecretStorage only when a client is
 * built and never leave this object except inside the client.
 */
export class SocrataAccounts<C extends IdentityClient> implements vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** Fires when accounts are added, removed, marked invalid or signed in again (in any window). */
  readonly onDidChange = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [this.changeEmitter];
  /** One client per account (and credential/app token version), reused across calls. */
  private readonly clients = new Map<string, { fingerprint: string; client: C }>();

  constructor(
    readonly provider: SocrataAuthenticationProvider,
    readonly store: AccountStore,
    private readonly factory: ClientFactory<C>,
    private readonly log: vscode.LogOutputChannel,
    /** Interactive sign-in for a domain (the account commands' chooser). */
    private readonly signInInteractively: InteractiveSignIn,
  ) {
    this.disposables.push(
      provider.onDidChangeAccounts((accounts) => {
        for (const [id, entry] of this.clients) {
          if (!accounts.some((a) => a.id === id && a.invalid !== true)) this.dropClient(id, entry.client);
        }
        this.changeEmitter.fire();
      }),
    );
  }

  private dropClient(id: string, client: C): void {
    this.clients.delete(id);
    void client.close?.().catch(() => undefined);
  }

  /**
   * Forgets the cached clients (after a proxy or certificate setting changed), so that the next request gets a
   * client built with the new settings. They are not closed: an operation in progress keeps its client, whose idle
   * connections close by themselves.
   */
  forgetClients(): void {
    this.clients.clear();
  }

  /** Every stored account (including those that need signing in again), sorted by domain then label. */
  async list(): Promise<AccountDescription[]> {
    const accounts = await this.provider.accounts();
    return [...accounts].sort((a, b) => a.domain.localeCompare(b.domain) || accountLabel(a).localeCompare(accountLabel(b)));
  }

  /** The domains that have at least one account (valid or not), sorted. */
  async domains(): Promise<string[]> {
    return [...new Set((await this.list()).map((a) => a.domain))];
  }

  /** A client for the domain authenticated as one of its accounts; undefined when silent and none is usable. */
  async getClientFor(domain: string, options: GetClientOptions = {}): Promise<C | undefined> {
    return (await this.getConnection(domain, options))?.client;
  }

  async getConnection(domain: string, options: GetClientOptions = {}): Promise<Connection<C> | undefined> {
    const host = parseDomain(domain).host;
    const candidates = (await this.provider.accounts()).filter((a) => a.domain === host && a.invalid !== true);
    let account = options.accountId !== undefined ? candidates.find((a) => a.id === options.accountId) : candidates[0];
    if (account === undefined) {
      if (options.silent !== false) return undefined;
      account = await this.signInInteractively(host);
      if (account === undefined) return undefined;
    }
    const credential = await this.store.credential(account.id);
    if (credential === undefined) {
      this.log.warn(`The stored credential of ${accountLabel(account)} is missing or unreadable; the account needs signing in again.`);
      await this.markInvalid(account);
      return undefined;
    }
    const appToken = await this.store.appToken(host);
    // A fingerprint (not the secret itself) tells whether a cached client still matches what is stored.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([credential, appToken ?? null]))
      .digest('base64url');
    const cached = this.clients.get(account.id);
    if (cached?.fingerprint === fingerprint) return { client: cached.client, account };
    if (cached) this.dropClient(account.id, cached.client);
    const accountId = account.id;
    const onUnauthorized = (): void => {
      this.rejected(accountId, fingerprint).catch((e: unknown) =>
        this.log.error(`Marking ${accountId} as needing sign-in failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    };
    const client = this.factory({ domain: parseDomain(host), auth: authFor(credential), appToken, onUnauthorized });
    this.clients.set(account.id, { fingerprint, client });
    return { client, account };
  }

  /**
   * A request of an account's client failed with 401, whichever feature made it: the account is marked invalid as
   * by {@link reportError}, unless its credential was replaced since that client was made.
   */
  private async rejected(accountId: string, fingerprint: string): Promise<void> {
    if (this.clients.get(accountId)?.fingerprint !== fingerprint) return;
    const account = (await this.provider.accounts()).find((a) => a.id === accountId);
    if (account !== undefined) await this.markInvalid(account);
  }

  /** An unauthenticated client for public reads (with the domain's app token if one is set). */
  async anonymousClient(domain: string): Promise<C> {
    const d = parseDomain(domain);
    return this.factory({ domain: d, auth: { type: 'none' }, appToken: await this.store.appToken(d.host) });
  }

  /** Builds a client for a credential that is not stored (yet): used to validate before saving. */
  async clientWith(domain: string, credential: Credential): Promise<C> {
    const d = parseDomain(domain);
    return this.factory({ domain: d, auth: authFor(credential), appToken: await this.store.appToken(d.host) });
  }

  /**
   * Asks the portal who the credential belongs to. A 401/403 becomes an error saying the credential was
   * rejected (nothing is saved by the caller then).
   */
  async whoAmI(domain: string, credential: Credential, signal?: AbortSignal): Promise<Identity> {
    const client = await this.clientWith(domain, credential);
    try {
      const user = await client.currentUser(signal ? { signal } : {});
      return identityOf(user, credential.kind === 'basic' ? credential.email : '');
    } catch (error) {
      if (isSodaError(error, 'auth')) {
        const host = parseDomain(domain).host;
        const status = error.status ?? 'error';
        throw new CredentialRejectedError(
          credential.kind === 'apiKey'
            ? vscode.l10n.t('{0} rejected the API key id or key secret (HTTP {1}). Nothing was saved.', host, status)
            : credential.kind === 'basic'
              ? vscode.l10n.t('{0} rejected the email or password (HTTP {1}). Nothing was saved.', host, status)
              : vscode.l10n.t('{0} rejected the access token (HTTP {1}). Nothing was saved.', host, status),
        );
      }
      throw error;
    } finally {
      void client.close?.().catch(() => undefined);
    }
  }

  /** Validates then saves: the account is stored only when the portal accepted the credential. */
  async signIn(domain: string, credential: Credential, signal?: AbortSignal): Promise<{ account: AccountDescription; identity: Identity }> {
    const host = parseDomain(domain).host;
    const identity = await this.whoAmI(host, credential, signal);
    const account = await this.store.save(
      {
        domain: host,
        userId: identity.id,
        email: identity.email,
        displayName: identity.displayName,
        ...(identity.roleName !== undefined ? { roleName: identity.roleName } : {}),
        kind: credential.kind,
      },
      credential,
    );
    this.log.info(`Signed in to ${host} as ${describeIdentity(identity)} with ${describeKind(credential.kind)}.`);
    await this.provider.refresh();
    return { account, identity };
  }

  async signOut(accountId: string): Promise<AccountDescription | undefined> {
    const account = (await this.provider.accounts()).find((a) => a.id === accountId);
    await this.provider.removeSession(accountId);
    return account;
  }

  /**
   * Consumers call this with any error a request of a client from `getConnection` threw. A 401 (or the 403 "You
   * must be logged in" without a code that some portals answer instead) marks the
   * account invalid (it stops being offered) and shows one notification with "Sign In Again"; returns true
   * when the error was such an authentication failure. (A client from `getConnection` also reports its own
   * 401s, so a caller that does not call this still has the account marked; calling it again tells nobody twice.)
   */
  async reportError(account: AccountDescription, error: unknown): Promise<boolean> {
    // A 401, or a 403 "You must be logged in…" without a code (how some portals refuse credentials).
    if (!isSodaError(error, 'auth') || (error.status !== 401 && !error.credentialsRejected)) return false;
    await this.markInvalid(account);
    return true;
  }

  private async markInvalid(account: AccountDescription): Promise<void> {
    const changed = await this.store.markInvalid(account.id);
    await this.provider.refresh();
    if (!changed) return; // already invalid: the user has been told once
    this.log.warn(`${accountLabel(account)} was rejected by the portal; it needs signing in again.`);
    const again = vscode.l10n.t('Sign In Again');
    void vscode.window
      .showWarningMessage(vscode.l10n.t('Socrata: the credentials of {0} are no longer accepted.', accountLabel(account)), again)
      .then((choice) => {
        if (choice === again) void vscode.commands.executeCommand('socrata.auth.updateCredentials', { accountId: account.id });
      });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const [id, entry] of this.clients) this.dropClient(id, entry.client);
  }
}

/** The portal rejected a credential during sign-in. */
export class CredentialRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialRejectedError';
  }
}
