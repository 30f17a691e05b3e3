// The seam between accounts and the SODA client: how a stored credential becomes request authentication,
// and the one call the sign-in commands need (`currentUser`). No `vscode` import: unit-tested in Node.
import type { SodaDomain } from '../soda/domain';
import type { SodaAuth } from '../soda/http';
import type { CurrentUser as SodaCurrentUser } from '../soda/types';
import type { Credential, Identity } from './model';

export type { SodaAuth };

export function authFor(credential: Credential): SodaAuth {
  switch (credential.kind) {
    case 'apiKey':
      return { type: 'apiKey', keyId: credential.keyId, keySecret: credential.keySecret };
    case 'basic':
      return { type: 'basic', email: credential.email, password: credential.password };
    case 'oauth':
      return { type: 'oauth', accessToken: credential.accessToken };
  }
}

/** What `/api/users/current.json` returns, as far as accounts care. */
export type CurrentUser = Pick<SodaCurrentUser, 'id' | 'email' | 'displayName' | 'screenName' | 'roleName'>;

/** The part of a SODA client that accounts use. */
export interface IdentityClient {
  currentUser(options?: { signal?: AbortSignal }): Promise<CurrentUser>;
  /** Releases connections; called when the client is replaced or no longer needed. */
  close?(): Promise<void>;
}

export interface ClientOptions {
  readonly domain: SodaDomain;
  readonly auth: SodaAuth;
  readonly appToken: string | undefined;
  /**
   * Called when a request of the client fails for good with 401, or the 403 "You must be logged in" (the portal no
   * longer accepts the stored credential). Set for the clients of stored accounts, so that every feature's requests mark the account.
   */
  readonly onUnauthorized?: () => void;
}

/** Builds a configured client; the extension passes one that builds a `SodaClient`. */
export type ClientFactory<C extends IdentityClient> = (options: ClientOptions) => C;

export function identityOf(user: CurrentUser, fallbackEmail = ''): Identity {
  return {
    id: user.id,
    email: user.email ?? fallbackEmail,
    displayName: user.displayName ?? user.screenName ?? user.email ?? user.id,
    ...(user.roleName !== undefined ? { roleName: user.roleName } : {}),
  };
}

/** `Pat Publisher <publisher@example.org>, role publisher` — what the sign-in commands show. */
export function describeIdentity(identity: Identity): string {
  const who = identity.email !== '' && identity.email !== identity.displayName ? `${identity.displayName} <${identity.email}>` : identity.displayName;
  return identity.roleName !== undefined && identity.roleName !== '' ? `${who}, role ${identity.roleName}` : who;
}
