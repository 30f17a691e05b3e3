import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { authFor, describeIdentity, identityOf } from '../../src/accounts/client';
import { accountLabel, diffAccounts, domainFromScopes, domainScope, parseAccounts, parseCredential, SecretKeys, secretKeyKind } from '../../src/accounts/model';
import { AccountStore, type SecretStore } from '../../src/accounts/store';

/** An in-memory SecretStorage (the seam VS Code's SecretStorage fills in the extension). */
class MemorySecrets implements SecretStore {
  readonly data = new Map<string, string>();
  get(key: string) {
    return Promise.resolve(this.data.get(key));
  }
  store(key: string, value: string) {
    this.data.set(key, value);
    return Promise.resolve();
  }
  delete(key: string) {
    this.data.delete(key);
    return Promise.resolve();
  }
}

const publisher = {
  domain: 'data.city.gov',
  userId: 'pub1-usr1',
  email: 'publisher@example.org',
  displayName: 'Pat Publisher',
  roleName: 'publisher',
  kind: 'apiKey' as const,
};

describe('auth model', () => {
  it('labels accounts as "<email> @ <domain>" and carries the domain in the scopes', () => {
    assert.equal(accountLabel(publisher), 'publisher@example.org @ data.city.gov');
    assert.equal(domainScope('data.city.gov'), 'domain:data.city.gov');
    assert.equal(domainFromScopes(['x', 'domain:127.0.0.1:8080']), '127.0.0.1:8080');
    assert.equal(domainFromScopes([]), undefined);
    assert.equal(domainFromScopes(undefined), undefined);
  });

  it('classifies secret keys', () => {
    assert.equal(secretKeyKind(SecretKeys.accounts), 'accounts');
    assert.equal(secretKeyKind(SecretKeys.credential('a|b')), 'credential');
    assert.equal(secretKeyKind(SecretKeys.appToken('d')), 'appToken');
    assert.equal(secretKeyKind(SecretKeys.oauthClient('d')), 'oauthClient');
    assert.equal(secretKeyKind('other.extension.key'), undefined);
  });

  it('drops unreadable account entries and duplicates', () => {
    assert.deepEqual(parseAccounts('not json'), { accounts: [], dropped: 1 });
    assert.deepEqual(parseAccounts('{"a":1}'), { accounts: [], dropped: 1 });
    const { accounts, dropped } = parseAccounts(JSON.stringify([publisher, publisher, { domain: 'x' }, { ...publisher, kind: 'magic' }]));
    assert.equal(accounts.length, 1);
    assert.equal(accounts[0]?.id, 'data.city.gov|pub1-usr1');
    assert.equal(dropped, 2);
  });

  it('reads only well-formed credentials', () => {
    assert.deepEqual(parseCredential('{"kind":"apiKey","keyId":"k","keySecret":"s"}'), { kind: 'apiKey', keyId: 'k', keySecret: 's' });
    assert.equal(parseCredential('{"kind":"apiKey","keyId":"k"}'), undefined);
    assert.equal(parseCredential('{"kind":"oauth","accessToken":"t"}'), undefined);
    assert.equal(parseCredential('garbage'), undefined);
  });

  it('maps credentials to the SODA client authentication', () => {
    assert.deepEqual(authFor({ kind: 'apiKey', keyId: 'k', keySecret: 's' }), { type: 'apiKey', keyId: 'k', keySecret: 's' });
    assert.deepEqual(authFor({ kind: 'basic', email: 'e', password: 'p' }), { type: 'basic', email: 'e', password: 'p' });
    assert.deepEqual(authFor({ kind: 'oauth', accessToken: 't', clientId: 'c' }), { type: 'oauth', accessToken: 't' });
  });

  it('describes who signed in', () => {
    const id = identityOf({ id: 'pub1-usr1', email: 'publisher@example.org', displayName: 'Pat Publisher', screenName: undefined, roleName: 'publisher' });
    assert.equal(describeIdentity(id), 'Pat Publisher <publisher@example.org>, role publisher');
    assert.equal(identityOf({ id: 'x', email: undefined, displayName: undefined, screenName: 'Sam', roleName: undefined }).displayName, 'Sam');
  });

  it('diffs account snapshots by id', () => {
    const a = { ...publisher, id: 'd|1' };
    const b = { ...publisher, userId: '2', id: 'd|2' };
    const d = diffAccounts(
      [a, b],
      [
        { ...b, invalid: true },
        { ...a, userId: '3', id: 'd|3' },
      ],
    );
    assert.deepEqual(
      d.removed.map((x) => x.id),
      ['d|1'],
    );
    assert.deepEqual(
      d.added.map((x) => x.id),
      ['d|3'],
    );
    assert.deepEqual(
      d.changed.map((x) => x.id),
      ['d|2'],
    );
  });
});

describe('auth account store', () => {
  it('saves the description apart from the credential, and removes both', async () => {
    const secrets = new MemorySecrets();
    const store = new AccountStore(secrets);
    const saved = await store.save(publisher, { kind: 'apiKey', keyId: 'demo_key_id', keySecret: 'demo_key_secret' });
    assert.equal(saved.id, 'data.city.gov|pub1-usr1');
    const index = secrets.data.get(SecretKeys.accounts) ?? '';
    assert.ok(!index.includes('demo_key_secret'), 'the account list holds no secret');
    assert.deepEqual(await store.credential(saved.id), { kind: 'apiKey', keyId: 'demo_key_id', keySecret: 'demo_key_secret' });
    assert.deepEqual(
      (await store.list()).map((a) => a.id),
      [saved.id],
    );

    // Signing in again as the same user on the same domain replaces the account (one session per identity).
    await store.save({ ...publisher, kind: 'basic' }, { kind: 'basic', email: 'publisher@example.org', password: 'publish-me' });
    const list = await store.list();
    assert.equal(list.length, 1);
    assert.equal(list[0]?.kind, 'basic');

    await store.remove(saved.id);
    assert.deepEqual(await store.list(), []);
    assert.equal(secrets.data.has(SecretKeys.credential(saved.id)), false);
  });

  it('keeps concurrent saves (no lost update within a window)', async () => {
    const store = new AccountStore(new MemorySecrets());
    await Promise.all(['a', 'b', 'c', 'd'].map((u) => store.save({ ...publisher, userId: u }, { kind: 'apiKey', keyId: u, keySecret: 's' })));
    assert.deepEqual((await store.list()).map((a) => a.userId).sort(), ['a', 'b', 'c', 'd']);
  });

  it('marks an account invalid once', async () => {
    const store = new AccountStore(new MemorySecrets());
    const saved = await store.save(publisher, { kind: 'apiKey', keyId: 'k', keySecret: 's' });
    assert.equal(await store.markInvalid(saved.id), true);
    assert.equal(await store.markInvalid(saved.id), false);
    assert.equal((await store.list())[0]?.invalid, true);
    // Signing in again clears the mark.
    await store.save(publisher, { kind: 'apiKey', keyId: 'k', keySecret: 's2' });
    assert.equal((await store.list())[0]?.invalid, undefined);
  });

  it('drops an unreadable account list for good and says so', async () => {
    const secrets = new MemorySecrets();
    secrets.data.set(SecretKeys.accounts, '{broken');
    const warnings: string[] = [];
    const store = new AccountStore(secrets, { warn: (m) => warnings.push(m) });
    assert.deepEqual(await store.list(), []);
    assert.equal(secrets.data.get(SecretKeys.accounts), '[]');
    assert.equal(warnings.length, 1);
  });

  it('stores app tokens and OAuth clients per domain, and clears an empty app token', async () => {
    const secrets = new MemorySecrets();
    const store = new AccountStore(secrets);
    await store.setAppToken('data.city.gov', 'demo-app-token');
    assert.equal(await store.appToken('data.city.gov'), 'demo-app-token');
    assert.equal(await store.appToken('other.gov'), undefined);
    await store.setAppToken('data.city.gov', '');
    assert.equal(secrets.data.has(SecretKeys.appToken('data.city.gov')), false);
    await store.setOAuthClient('data.city.gov', { clientId: 'c', clientSecret: 's', redirectUri: 'https://localhost/cb' });
    assert.deepEqual(await store.oauthClient('data.city.gov'), { clientId: 'c', clientSecret: 's', redirectUri: 'https://localhost/cb' });
  });
});
