// Account persistence over SecretStorage. Written against the small `SecretStore` shape below (which
// `vscode.SecretStorage` satisfies) so the logic runs in plain Node with an in-memory store in unit tests.
import {
  type AccountDescription,
  type Credential,
  type OAuthClientConfig,
  accountId,
  parseAccounts,
  parseCredential,
  parseOAuthClient,
  SecretKeys,
  serializeAccounts,
} from './model';

export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

export interface StoreLog {
  warn(message: string): void;
}

export class AccountStore {
  /** Serialises read-modify-write of the account list within this window. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly secrets: SecretStore,
    private readonly log: StoreLog = { warn: () => undefined },
  ) {}

  async list(): Promise<AccountDescription[]> {
    const text = await this.secrets.get(SecretKeys.accounts);
    const { accounts, dropped } = parseAccounts(text);
    if (dropped > 0) {
      // An entry that cannot be read is dropped for good, so it does not break every later read.
      this.log.warn(`Dropped ${dropped} unreadable stored Socrata account entr${dropped === 1 ? 'y' : 'ies'}.`);
      await this.mutate((current) => current);
    }
    return accounts;
  }

  async credential(id: string): Promise<Credential | undefined> {
    return parseCredential(await this.secrets.get(SecretKeys.credential(id)));
  }

  /** Saves (or replaces) an account and its credential; returns the stored description. */
  async save(description: Omit<AccountDescription, 'id' | 'invalid'>, credential: Credential): Promise<AccountDescription> {
    const account: AccountDescription = { ...description, id: accountId(description.domain, description.userId) };
    // The credential goes first: an account in the list always has a credential to read.
    await this.secrets.store(SecretKeys.credential(account.id), JSON.stringify(credential));
    await this.mutate((current) => [...current.filter((a) => a.id !== account.id), account]);
    return account;
  }

  async remove(id: string): Promise<AccountDescription | undefined> {
    let removed: AccountDescription | undefined;
    await this.mutate((current) => {
      removed = current.find((a) => a.id === id);
      return current.filter((a) => a.id !== id);
    });
    await this.secrets.delete(SecretKeys.credential(id));
    return removed;
  }

  /** Marks an account as rejected by its portal; returns false when it already was (so callers notify once). */
  async markInvalid(id: string): Promise<boolean> {
    let changed = false;
    await this.mutate((current) =>
      current.map((a) => {
        if (a.id !== id || a.invalid === true) return a;
        changed = true;
        return { ...a, invalid: true };
      }),
    );
    return changed;
  }

  async appToken(domain: string): Promise<string | undefined> {
    const value = await this.secrets.get(SecretKeys.appToken(domain));
    return value === undefined || value === '' ? undefined : value;
  }

  async setAppToken(domain: string, token: string | undefined): Promise<void> {
    if (token === undefined || token === '') await this.secrets.delete(SecretKeys.appToken(domain));
    else await this.secrets.store(SecretKeys.appToken(domain), token);
  }

  async oauthClient(domain: string): Promise<OAuthClientConfig | undefined> {
    return parseOAuthClient(await this.secrets.get(SecretKeys.oauthClient(domain)));
  }

  async setOAuthClient(domain: string, client: OAuthClientConfig): Promise<void> {
    await this.secrets.store(SecretKeys.oauthClient(domain), JSON.stringify(client));
  }

  private mutate(change: (current: AccountDescription[]) => AccountDescription[]): Promise<void> {
    const run = async () => {
      const text = await this.secrets.get(SecretKeys.accounts);
      const next = serializeAccounts(change(parseAccounts(text).accounts));
      if (next !== text) await this.secrets.store(SecretKeys.accounts, next);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
