// The account model shared by the authentication provider, the commands and the tests. Nothing here imports
// `vscode`, so the whole file is exercised by plain-Node unit tests. Its texts go through @vscode/l10n (VS Code's
// bundle in the editor, English in plain Node).
import * as l10n from '@vscode/l10n';

/** How an account proves who it is. `apiKey` and `basic` both travel as HTTP Basic; `oauth` as `Authorization: OAuth`. */
export type AuthKind = 'apiKey' | 'basic' | 'oauth';

/** The secret half of an account. Only ever kept in SecretStorage, never logged, never shown. */
export type Credential =
  | { readonly kind: 'apiKey'; readonly keyId: string; readonly keySecret: string }
  | { readonly kind: 'basic'; readonly email: string; readonly password: string }
  | { readonly kind: 'oauth'; readonly accessToken: string; readonly clientId: string };

/** The public half of an account: safe to show in the Accounts menu, the tree and logs. */
export interface AccountDescription {
  /** Stable session id: `<domain>|<user id>`. */
  readonly id: string;
  readonly domain: string;
  readonly userId: string;
  readonly email: string;
  readonly displayName: string;
  readonly roleName?: string;
  readonly kind: AuthKind;
  /** Set after the portal answered 401 with these credentials; the account stays listed until the user signs in again or out. */
  readonly invalid?: boolean;
}

/** What `/api/users/current.json` tells about the signed-in user (the fields the accounts need). */
export interface Identity {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly roleName?: string;
}

/**
 * Secret storage keys, all in one place so none is spelled twice.
 * - `accounts`: the account list (descriptions only; kept in SecretStorage because it is the one store whose
 *   changes reach every window through `onDidChange`).
 * - `credential`: one entry per account.
 * - `appToken`: one entry per domain (the app token is not a password but it is attributed to its owner).
 * - `oauthClient`: the registered OAuth application per domain (client id, secret, redirect URI).
 */
export const SecretKeys = {
  accounts: 'socrata.accounts.v1',
  credential: (accountId: string) => `socrata.credential.v1:${accountId}`,
  appToken: (domain: string) => `socrata.appToken.v1:${domain}`,
  oauthClient: (domain: string) => `socrata.oauthClient.v1:${domain}`,
} as const;

export type SecretKeyKind = 'accounts' | 'credential' | 'appToken' | 'oauthClient';

/** Which family a secret key belongs to (used to decide what a `secrets.onDidChange` event means). */
export function secretKeyKind(key: string): SecretKeyKind | undefined {
  if (key === SecretKeys.accounts) return 'accounts';
  if (key.startsWith('socrata.credential.v1:')) return 'credential';
  if (key.startsWith('socrata.appToken.v1:')) return 'appToken';
  if (key.startsWith('socrata.oauthClient.v1:')) return 'oauthClient';
  return undefined;
}

/** The registered OAuth application for one domain. */
export interface OAuthClientConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
}

export function accountId(domain: string, userId: string): string {
  return `${domain}|${userId}`;
}

/** `publisher@example.org @ data.city.gov` (falls back to the display name for accounts without an email). */
export function accountLabel(account: Pick<AccountDescription, 'email' | 'displayName' | 'domain'>): string {
  return `${account.email || account.displayName} @ ${account.domain}`;
}

export const DOMAIN_SCOPE_PREFIX = 'domain:';

export function domainScope(domain: string): string {
  return `${DOMAIN_SCOPE_PREFIX}${domain}`;
}

/** The domain a list of session scopes asks for, if any (`['domain:data.city.gov']` → `data.city.gov`). */
export function domainFromScopes(scopes: readonly string[] | undefined): string | undefined {
  const scope = scopes?.find((s) => s.startsWith(DOMAIN_SCOPE_PREFIX));
  return scope === undefined ? undefined : scope.slice(DOMAIN_SCOPE_PREFIX.length);
}

export function describeKind(kind: AuthKind): string {
  switch (kind) {
    case 'apiKey':
      return l10n.t('API key');
    case 'basic':
      return l10n.t('email and password');
    case 'oauth':
      return l10n.t('OAuth');
  }
}

const KINDS: readonly string[] = ['apiKey', 'basic', 'oauth'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Reads the stored account list; entries that do not parse are dropped (and reported through `dropped`). */
export function parseAccounts(text: string | undefined): { accounts: AccountDescription[]; dropped: number } {
  if (text === undefined || text === '') return { accounts: [], dropped: 0 };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { accounts: [], dropped: 1 };
  }
  if (!Array.isArray(value)) return { accounts: [], dropped: 1 };
  const accounts: AccountDescription[] = [];
  let dropped = 0;
  const seen = new Set<string>();
  for (const entry of value as unknown[]) {
    if (
      isRecord(entry) &&
      str(entry.domain) &&
      str(entry.userId) &&
      typeof entry.email === 'string' &&
      typeof entry.displayName === 'string' &&
      typeof entry.kind === 'string' &&
      KINDS.includes(entry.kind)
    ) {
      const id = accountId(entry.domain, entry.userId);
      if (seen.has(id)) continue;
      seen.add(id);
      accounts.push({
        id,
        domain: entry.domain,
        userId: entry.userId,
        email: entry.email,
        displayName: entry.displayName,
        ...(typeof entry.roleName === 'string' ? { roleName: entry.roleName } : {}),
        kind: entry.kind as AuthKind,
        ...(entry.invalid === true ? { invalid: true } : {}),
      });
    } else {
      dropped += 1;
    }
  }
  return { accounts, dropped };
}

export function serializeAccounts(accounts: readonly AccountDescription[]): string {
  return JSON.stringify(accounts);
}

export function parseCredential(text: string | undefined): Credential | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  if (value.kind === 'apiKey' && str(value.keyId) && str(value.keySecret)) {
    return { kind: 'apiKey', keyId: value.keyId, keySecret: value.keySecret };
  }
  if (value.kind === 'basic' && str(value.email) && str(value.password)) {
    return { kind: 'basic', email: value.email, password: value.password };
  }
  if (value.kind === 'oauth' && str(value.accessToken) && str(value.clientId)) {
    return { kind: 'oauth', accessToken: value.accessToken, clientId: value.clientId };
  }
  return undefined;
}

export function parseOAuthClient(text: string | undefined): OAuthClientConfig | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (isRecord(value) && str(value.clientId) && str(value.clientSecret) && str(value.redirectUri)) {
      return { clientId: value.clientId, clientSecret: value.clientSecret, redirectUri: value.redirectUri };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** Added / removed / changed accounts between two snapshots (by id). */
export function diffAccounts(
  before: readonly AccountDescription[],
  after: readonly AccountDescription[],
): { added: AccountDescription[]; removed: AccountDescription[]; changed: AccountDescription[] } {
  const old = new Map(before.map((a) => [a.id, a]));
  const now = new Map(after.map((a) => [a.id, a]));
  const added = after.filter((a) => !old.has(a.id));
  const removed = before.filter((a) => !now.has(a.id));
  const changed = after.filter((a) => {
    const prev = old.get(a.id);
    return prev !== undefined && JSON.stringify(prev) !== JSON.stringify(a);
  });
  return { added, removed, changed };
}
