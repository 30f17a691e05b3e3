/**
 * The store's principals: users, passwords, API keys, app tokens, OAuth clients and access tokens. With a data
 * directory they are saved as one JSON value (`kv` table, key `principals`) on every change.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ID_ALPHABET, type OAuthClient, type Role, type User, type UserInput } from './model';

interface ApiKey {
  keyId: string;
  keySecret: string;
  userId: string;
}

export interface Principals {
  users: (User & { password?: string })[];
  apiKeys: ApiKey[];
  appTokens: string[];
  clients: OAuthClient[];
  tokens: { token: string; userId: string; clientId: string }[];
}

export function rightsFor(role: Role): string[] {
  switch (role) {
    case 'administrator':
      return ['create_datasets', 'edit_others_datasets', 'edit_sdp', 'view_domain', 'view_others_datasets', 'manage_users'];
    case 'publisher':
      return ['create_datasets', 'edit_sdp', 'view_domain', 'view_others_datasets', 'manage_stories'];
    case 'viewer':
      return ['view_domain'];
  }
}

export function publicUser(u: User & { password?: string }): User {
  return { id: u.id, email: u.email, displayName: u.displayName, screenName: u.screenName, roleName: u.roleName, rights: [...u.rights] };
}

/** A 4x4 not in `taken`. */
export function newFourByFour(taken: Set<string>): string {
  for (;;) {
    const b = randomBytes(8);
    let s = '';
    for (let i = 0; i < 8; i++) s += (i === 4 ? '-' : '') + ID_ALPHABET[(b[i] ?? 0) & 31];
    if (!taken.has(s)) return s;
  }
}

/** The principals part of the store; {@link EmulatorStore} adds datasets and rows. */
export class PrincipalStore {
  protected readonly principals: Principals = { users: [], apiKeys: [], appTokens: [], clients: [], tokens: [] };

  /** `persist` is the data directory's database (undefined: nothing is saved). */
  constructor(protected readonly persist: Database.Database | undefined) {}

  /** Creates a user (id generated when omitted) and returns it. */
  createUser(input: UserInput): User {
    const id = input.id ?? newFourByFour(new Set(this.principals.users.map((u) => u.id)));
    if (this.principals.users.some((u) => u.id === id || u.email.toLowerCase() === input.email.toLowerCase())) {
      throw new Error(`user ${id} / ${input.email} already exists`);
    }
    const user: User & { password?: string } = {
      id,
      email: input.email,
      displayName: input.displayName,
      screenName: input.displayName,
      roleName: input.roleName,
      rights: rightsFor(input.roleName),
    };
    if (input.password !== undefined) user.password = input.password;
    this.principals.users.push(user);
    this.savePrincipals();
    return publicUser(user);
  }

  getUser(id: string): User | undefined {
    const u = this.principals.users.find((x) => x.id === id);
    return u && publicUser(u);
  }

  userByEmail(email: string): User | undefined {
    const u = this.principals.users.find((x) => x.email.toLowerCase() === email.toLowerCase());
    return u && publicUser(u);
  }

  /** Adds an API key (key id/secret usable in HTTP Basic) for a user. */
  addApiKey(userId: string, keyId: string, keySecret: string): void {
    this.principals.apiKeys.push({ keyId, keySecret, userId });
    this.savePrincipals();
  }

  /** HTTP Basic check: email + password, or API key id + secret. */
  authenticateBasic(username: string, password: string): User | undefined {
    const key = this.principals.apiKeys.find((k) => k.keyId === username);
    if (key) return key.keySecret === password ? this.getUser(key.userId) : undefined;
    const u = this.principals.users.find((x) => x.email.toLowerCase() === username.toLowerCase());
    if (u?.password !== undefined && u.password === password) return publicUser(u);
    return undefined;
  }

  /** Registers an app token (also usable as an OAuth client id when a client is added for it). */
  addAppToken(token: string): void {
    if (!this.principals.appTokens.includes(token)) this.principals.appTokens.push(token);
    this.savePrincipals();
  }

  isKnownAppToken(token: string): boolean {
    return this.principals.appTokens.includes(token);
  }

  /** Registers an OAuth client; its client id becomes a known app token. */
  addOAuthClient(client: OAuthClient): void {
    this.principals.clients = this.principals.clients.filter((c) => c.clientId !== client.clientId);
    this.principals.clients.push(client);
    this.addAppToken(client.clientId);
  }

  oauthClient(clientId: string): OAuthClient | undefined {
    return this.principals.clients.find((c) => c.clientId === clientId);
  }

  /** Issues a new OAuth access token for `userId` on behalf of `clientId` (used by the OAuth module). */
  issueAccessToken(userId: string, clientId: string): string {
    if (!this.getUser(userId)) throw new Error(`unknown user ${userId}`);
    const token = randomBytes(24).toString('base64url');
    this.principals.tokens.push({ token, userId, clientId });
    this.savePrincipals();
    return token;
  }

  /** The user an OAuth access token belongs to, or undefined when unknown/revoked. */
  userForToken(token: string): User | undefined {
    const t = this.principals.tokens.find((x) => x.token === token);
    return t && this.getUser(t.userId);
  }

  /** Revokes an access token; returns whether it existed. */
  revokeAccessToken(token: string): boolean {
    const before = this.principals.tokens.length;
    this.principals.tokens = this.principals.tokens.filter((x) => x.token !== token);
    this.savePrincipals();
    return this.principals.tokens.length !== before;
  }

  protected savePrincipals(): void {
    this.persist?.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)').run('principals', JSON.stringify(this.principals));
  }
}
