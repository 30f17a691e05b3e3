// The Socrata account commands. Every command also accepts an argument object so that other features (the
// tree's "sign in to this domain") and the extension-host tests can fill in fields; whatever is missing is
// asked for in input boxes. Commands return a public summary of the account (never a secret).
// Why one file: one handler class whose sign-in paths (API key, password, OAuth, sign in again) share the prompts,
// the retry after a refused secret and the summary; splitting it would pass that state between files.
import * as vscode from 'vscode';
import { CredentialRejectedError, type SocrataAccounts } from './accounts';
import { describeIdentity, type IdentityClient } from './client';
import { type AccountDescription, accountLabel, type Credential, describeKind, type Identity } from './model';
import { OAuthCancelledError, OAuthError, validateRedirectUri } from './oauth';
import { runOAuthFlow, type SocrataUriHandler } from './oauthFlow';
import { parseDomain } from '../soda/domain';
import { type BoundaryOptions, type CommandBoundary, isCancellation as isUserCancellation, UserCancelledError } from '../ui/boundary';

export const AuthCommands = {
  signInWithApiKey: 'socrata.auth.signInWithApiKey',
  signInWithPassword: 'socrata.auth.signInWithPassword',
  signInWithOAuth: 'socrata.auth.signInWithOAuth',
  setAppToken: 'socrata.auth.setAppToken',
  updateCredentials: 'socrata.auth.updateCredentials',
  signOut: 'socrata.auth.signOut',
  /** Not in the palette: the public descriptions of the accounts (for other features and tests; no secrets). */
  listAccounts: 'socrata.auth.listAccounts',
} as const;

export interface SignInResult {
  readonly accountId: string;
  readonly label: string;
  readonly domain: string;
  readonly displayName: string;
  readonly email: string;
  readonly roleName: string | undefined;
}

interface ApiKeyArgs {
  domain?: string;
  keyId?: string;
  keySecret?: string;
}
interface PasswordArgs {
  domain?: string;
  email?: string;
  password?: string;
}
interface OAuthArgs {
  domain?: string;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string;
}
interface AppTokenArgs {
  domain?: string;
  appToken?: string;
}
interface AccountArgs {
  accountId?: string;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function obj<T>(arg: unknown): Partial<T> {
  if (typeof arg !== 'object' || arg === null) return {};
  const value: Partial<T> = arg;
  return value;
}

async function ask(options: vscode.InputBoxOptions): Promise<string> {
  const value = await vscode.window.showInputBox({ ignoreFocusOut: true, ...options });
  if (value === undefined) throw new UserCancelledError();
  return value.trim();
}

function domainError(value: string): string | undefined {
  try {
    parseDomain(value);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** A retry's prompt: why the portal refused the last answer, then what to enter. */
function withReason(retry: { reason: string } | undefined, prompt: string): string {
  return retry === undefined ? prompt : vscode.l10n.t('{0} Check it and try again. {1}', retry.reason, prompt);
}

/** A validator for a box that must not stay empty; `message` says what to enter. */
const required = (message: string) => (value: string) => (value.trim() === '' ? message : undefined);

function summary(account: AccountDescription): SignInResult {
  return {
    accountId: account.id,
    label: accountLabel(account),
    domain: account.domain,
    displayName: account.displayName,
    email: account.email,
    roleName: account.roleName,
  };
}

export class AuthCommandHandlers {
  constructor(
    private readonly accounts: SocrataAccounts<IdentityClient>,
    private readonly uriHandler: SocrataUriHandler,
    private readonly extensionId: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /**
   * The portal's host name: given, or asked. The box starts with what was typed before (a retry), else the
   * `socrata.defaultDomain` setting, else the one domain already signed in to.
   */
  private async askDomain(given: string | undefined, title: string): Promise<string> {
    if (given !== undefined) {
      const problem = domainError(given);
      if (problem !== undefined) throw new Error(problem);
      return parseDomain(given).host;
    }
    const known = await this.accounts.domains();
    const configured = vscode.workspace.getConfiguration('socrata').get<string>('defaultDomain')?.trim() ?? '';
    const suggested = configured !== '' && domainError(configured) === undefined ? configured : known.length === 1 ? known[0] : undefined;
    const value = await ask({
      title,
      prompt: vscode.l10n.t('Socrata domain (the portal host name, e.g. data.cityofchicago.org)'),
      placeHolder: vscode.l10n.t('data.city.gov'),
      value: suggested,
      validateInput: (v) => (v.trim() === '' ? vscode.l10n.t('Enter the portal host name.') : domainError(v)),
    });
    return parseDomain(value).host;
  }

  /**
   * Asks for a credential and signs in with it. When the portal refuses a credential the person typed, the boxes
   * come back with what was typed kept (the domain is not asked again, the user name or key id is filled in,
   * the secret is empty) and the portal's reason in front of each prompt, until it is accepted or the person
   * cancels. A secret given as an argument is not asked again: its refusal is the command's error.
   */
  private async signInWithRetry(
    secretGiven: boolean,
    askCredential: (retry: { reason: string; user: string } | undefined) => Promise<{ user: string; credential: Credential }>,
    domain: string,
  ): Promise<SignInResult> {
    let retry: { reason: string; user: string } | undefined;
    for (;;) {
      const { user, credential } = await askCredential(retry);
      try {
        return await this.validateAndSave(domain, credential);
      } catch (error) {
        if (secretGiven || !(error instanceof CredentialRejectedError)) throw error;
        this.log.warn(error.message);
        retry = { reason: error.message, user };
      }
    }
  }

  /** Validates with the portal under a cancellable progress notification, then saves. */
  private async validateAndSave(domain: string, credential: Credential): Promise<SignInResult> {
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Socrata: checking the {0} with {1}…', describeKind(credential.kind), domain),
        cancellable: true,
      },
      async (_progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          return await this.accounts.signIn(domain, credential, abort.signal);
        } catch (error) {
          if (token.isCancellationRequested) throw new UserCancelledError();
          throw error;
        } finally {
          sub.dispose();
        }
      },
    );
    this.announce(domain, result.identity);
    return summary(result.account);
  }

  private announce(domain: string, identity: Identity): void {
    void vscode.window.showInformationMessage(vscode.l10n.t('Socrata: signed in to {0} as {1}.', domain, describeIdentity(identity)));
  }

  async signInWithApiKey(arg?: unknown): Promise<SignInResult> {
    const a = obj<ApiKeyArgs>(arg);
    const title = vscode.l10n.t('Sign in to Socrata with an API key');
    const domain = await this.askDomain(str(a.domain), title);
    const given = { keyId: str(a.keyId), keySecret: str(a.keySecret) };
    return this.signInWithRetry(
      given.keySecret !== undefined,
      async (retry) => {
        const keyId =
          (retry === undefined ? given.keyId : undefined) ??
          (await ask({
            title,
            prompt: withReason(retry, vscode.l10n.t('API key id for {0} (Profile → Developer Settings)', domain)),
            value: retry?.user ?? given.keyId,
            validateInput: required(vscode.l10n.t('Enter the API key id.')),
          }));
        const keySecret =
          given.keySecret ??
          (await ask({
            title,
            prompt: withReason(retry, vscode.l10n.t('API key secret for key {0}', keyId)),
            password: true,
            validateInput: required(vscode.l10n.t('Enter the API key secret.')),
          }));
        return { user: keyId, credential: { kind: 'apiKey', keyId, keySecret } };
      },
      domain,
    );
  }

  async signInWithPassword(arg?: unknown): Promise<SignInResult> {
    const a = obj<PasswordArgs>(arg);
    const title = vscode.l10n.t('Sign in to Socrata with email and password');
    const domain = await this.askDomain(str(a.domain), title);
    const given = { email: str(a.email), password: str(a.password) };
    return this.signInWithRetry(
      given.password !== undefined,
      async (retry) => {
        const email =
          (retry === undefined ? given.email : undefined) ??
          (await ask({
            title,
            prompt: withReason(retry, vscode.l10n.t('Account email on {0}', domain)),
            value: retry?.user ?? given.email,
            validateInput: required(vscode.l10n.t('Enter the account email.')),
          }));
        const password =
          given.password ??
          (await ask({
            title,
            prompt: withReason(retry, vscode.l10n.t('Password of {0}', email)),
            password: true,
            validateInput: required(vscode.l10n.t('Enter the password.')),
          }));
        return { user: email, credential: { kind: 'basic', email, password } };
      },
      domain,
    );
  }

  async signInWithOAuth(arg?: unknown): Promise<SignInResult> {
    const a = obj<OAuthArgs>(arg);
    const title = vscode.l10n.t('Sign in to Socrata with OAuth');
    const domain = await this.askDomain(str(a.domain), title);
    const saved = await this.accounts.store.oauthClient(domain);
    const clientId =
      str(a.clientId) ??
      (await ask({
        title,
        prompt: vscode.l10n.t('OAuth client id (the app token of the application registered on {0})', domain),
        value: saved?.clientId,
        validateInput: required(vscode.l10n.t('Enter the client id.')),
      }));
    const sameClient = saved !== undefined && saved.clientId === clientId;
    const clientSecret =
      str(a.clientSecret) ??
      (sameClient
        ? saved.clientSecret
        : await ask({
            title,
            prompt: vscode.l10n.t('Secret token of the application {0}', clientId),
            password: true,
            validateInput: required(vscode.l10n.t('Enter the client secret.')),
          }));
    const redirectValidation = (v: string) => {
      try {
        validateRedirectUri(v);
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    };
    const redirectText =
      str(a.redirectUri) ??
      (await ask({
        title,
        prompt: vscode.l10n.t(
          "Redirect URI: the https address where the callback page (oauth-callback.html) is hosted; it must start with the application's callback prefix",
        ),
        value: saved?.redirectUri,
        placeHolder: vscode.l10n.t('https://example.org/socrata/oauth-callback.html'),
        validateInput: redirectValidation,
      }));
    const redirectUri = validateRedirectUri(redirectText);
    const client = { clientId, clientSecret, redirectUri };
    const accessToken = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Socrata: waiting for the sign-in to {0} in the browser…', domain),
        cancellable: true,
      },
      (_progress, token) => runOAuthFlow({ domain, client, extensionId: this.extensionId, handler: this.uriHandler, log: this.log, token }),
    );
    const result = await this.validateAndSave(domain, { kind: 'oauth', accessToken, clientId });
    await this.accounts.store.setOAuthClient(domain, client);
    return result;
  }

  async setAppToken(arg?: unknown): Promise<{ domain: string; set: boolean }> {
    const a = obj<AppTokenArgs>(arg);
    const title = vscode.l10n.t('Set the Socrata app token');
    const domain = await this.askDomain(str(a.domain), title);
    const token =
      typeof a.appToken === 'string'
        ? a.appToken.trim()
        : await ask({ title, prompt: vscode.l10n.t('App token for {0} (leave empty to remove it)', domain), password: true });
    if (token !== '' && !/^[A-Za-z0-9_.-]{1,200}$/.test(token)) {
      throw new Error(vscode.l10n.t('The app token may only contain letters, digits, "-", "_" and "." (at most 200 characters).'));
    }
    await this.accounts.store.setAppToken(domain, token);
    this.log.info(token === '' ? `Removed the app token of ${domain}.` : `Set the app token of ${domain}.`);
    void vscode.window.showInformationMessage(
      token === '' ? vscode.l10n.t('Socrata: removed the app token of {0}.', domain) : vscode.l10n.t('Socrata: app token set for {0}.', domain),
    );
    return { domain, set: token !== '' };
  }

  private async pickAccount(arg: unknown, placeHolder: string): Promise<AccountDescription> {
    const a = obj<AccountArgs>(arg);
    const all = await this.accounts.list();
    // The tree's account node carries its account.
    const fromNode = (arg as { account?: { id?: unknown } } | undefined)?.account?.id;
    const id = str(a.accountId) ?? str(fromNode);
    if (id !== undefined) {
      const found = all.find((x) => x.id === id);
      if (found === undefined) throw new Error(vscode.l10n.t('That Socrata account is no longer signed in.'));
      return found;
    }
    if (all.length === 0) throw new Error(vscode.l10n.t('No Socrata account is signed in.'));
    const picked = await vscode.window.showQuickPick(
      all.map((account) => ({
        label: accountLabel(account),
        description: `${account.displayName} · ${describeKind(account.kind)}${account.invalid === true ? ` · ${vscode.l10n.t('needs signing in again')}` : ''}`,
        account,
      })),
      { placeHolder, ignoreFocusOut: true },
    );
    if (picked === undefined) throw new UserCancelledError();
    return picked.account;
  }

  async updateCredentials(arg?: unknown): Promise<SignInResult> {
    const account = await this.pickAccount(arg, vscode.l10n.t('Update the credentials of which account?'));
    return this.signInAgain(account);
  }

  /** Asks for new credentials of the same kind (and domain) as the account. */
  async signInAgain(account: AccountDescription): Promise<SignInResult> {
    const base = { domain: account.domain };
    switch (account.kind) {
      case 'apiKey':
        return this.signInWithApiKey(base);
      case 'basic':
        return this.signInWithPassword({ ...base, email: account.email });
      case 'oauth':
        return this.signInWithOAuth(base);
    }
  }

  async signOut(arg?: unknown): Promise<{ accountId: string } | undefined> {
    const account = await this.pickAccount(arg, vscode.l10n.t('Sign out of which account?'));
    await this.accounts.signOut(account.id);
    void vscode.window.showInformationMessage(vscode.l10n.t('Socrata: signed out of {0}.', accountLabel(account)));
    return { accountId: account.id };
  }

  async listAccounts(): Promise<(SignInResult & { kind: string; needsSignIn: boolean })[]> {
    return (await this.accounts.list()).map((a) => ({ ...summary(a), kind: a.kind, needsSignIn: a.invalid === true }));
  }

  /** Used by the provider's createSession: choose a method, then sign in. */
  async signInInteractively(domain: string | undefined): Promise<AccountDescription | undefined> {
    const methods = [
      {
        label: vscode.l10n.t('API key'),
        detail: vscode.l10n.t('Key id and key secret from Profile → Developer Settings (recommended)'),
        run: () => this.signInWithApiKey({ domain }),
      },
      {
        label: vscode.l10n.t('Email and password'),
        detail: vscode.l10n.t('Your portal account (not for single sign-on accounts)'),
        run: () => this.signInWithPassword({ domain }),
      },
      {
        label: vscode.l10n.t('OAuth'),
        detail: vscode.l10n.t('An application registered on the portal, with a hosted callback page'),
        run: () => this.signInWithOAuth({ domain }),
      },
    ];
    const picked = await vscode.window.showQuickPick(methods, {
      placeHolder: domain ? vscode.l10n.t('Sign in to {0} with…', domain) : vscode.l10n.t('Sign in to Socrata with…'),
      ignoreFocusOut: true,
    });
    if (picked === undefined) return undefined;
    try {
      const result = await picked.run();
      return (await this.accounts.list()).find((a) => a.id === result.accountId);
    } catch (error) {
      if (isCancellation(error)) return undefined;
      throw error;
    }
  }
}

/** A cancel: the boundary's own (a dismissed input, a cancelled request) or an OAuth flow the person cancelled. */
export function isCancellation(error: unknown): boolean {
  return isUserCancellation(error) || (error instanceof OAuthCancelledError && error.reason === 'cancelled');
}

/** The account errors the command boundary treats as expected (their message is shown as is) or as a cancel. */
export const authBoundaryOptions: BoundaryOptions = {
  expected: (error) => error instanceof CredentialRejectedError || error instanceof OAuthError || error instanceof OAuthCancelledError,
  cancelled: isCancellation,
};

export function registerAuthCommands(handlers: AuthCommandHandlers, boundary: CommandBoundary): vscode.Disposable[] {
  const reg = (id: string, fn: (arg?: unknown) => Promise<unknown>) => boundary.register(id, (arg?: unknown) => fn(arg));
  return [
    reg(AuthCommands.signInWithApiKey, (arg) => handlers.signInWithApiKey(arg)),
    reg(AuthCommands.signInWithPassword, (arg) => handlers.signInWithPassword(arg)),
    reg(AuthCommands.signInWithOAuth, (arg) => handlers.signInWithOAuth(arg)),
    reg(AuthCommands.setAppToken, (arg) => handlers.setAppToken(arg)),
    reg(AuthCommands.updateCredentials, (arg) => handlers.updateCredentials(arg)),
    reg(AuthCommands.signOut, (arg) => handlers.signOut(arg)),
    reg(AuthCommands.listAccounts, () => handlers.listAccounts()),
  ];
}
