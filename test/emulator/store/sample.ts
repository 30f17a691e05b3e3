/**
 * The sample seed loaded into an empty store: the sample users and credentials, the sample datasets (their rows are
 * generated on first access, see `seedPending`) and the metadata-only catalog of other departments.
 */
import type { GrantType } from '../grants';
import { SAMPLE, sampleCatalog } from '../seed';
import type { EmulatorStore } from './index';
import type { Dataset, DatasetInput } from './model';
import { type Principals, rightsFor } from './principals';

/** The stored (mutable) dataset: the seed sets times and flags no public method changes. */
function live(store: EmulatorStore, id: string): Dataset {
  const ds = store.getDataset(id);
  if (!ds) throw new Error(`sample dataset ${id} was not created`);
  return ds;
}

export function loadSample(store: EmulatorStore, principals: Principals, save: (ds: Dataset) => void): void {
  for (const u of Object.values(SAMPLE.users)) {
    principals.users.push({
      id: u.id,
      email: u.email,
      password: u.password,
      displayName: u.displayName,
      screenName: u.displayName,
      roleName: u.roleName,
      rights: rightsFor(u.roleName),
    });
  }
  principals.apiKeys.push({ keyId: SAMPLE.apiKey.keyId, keySecret: SAMPLE.apiKey.keySecret, userId: SAMPLE.apiKey.userId });
  principals.appTokens.push(SAMPLE.appToken);
  principals.clients.push({
    clientId: SAMPLE.oauthClient.clientId,
    clientSecret: SAMPLE.oauthClient.clientSecret,
    callbackPrefixes: [SAMPLE.oauthClient.callbackPrefix],
    allowLoopback: true,
  });
  for (const d of Object.values(SAMPLE.datasets)) {
    const input: DatasetInput = {
      id: d.id,
      name: d.name,
      description: d.description,
      category: d.category,
      tags: [...d.tags],
      owner: d.owner,
      isPublic: d.isPublic,
      columns: d.columns.map((c) => ({ ...c })),
    };
    if (d.rowIdentifier) input.rowIdentifier = d.rowIdentifier;
    store.createDataset(input);
    const ds = live(store, d.id);
    ds.createdAt = ds.rowsUpdatedAt = ds.viewLastModified = SAMPLE.createdAt;
    ds.seedPending = d.id;
    ds.grants = (SAMPLE.grants as readonly { dataset: string; userId: string; type: GrantType }[])
      .filter((g) => g.dataset === d.id)
      .map((g) => ({ type: g.type, userId: g.userId }));
    save(ds);
  }
  loadSampleCatalog(store, save);
}

/** The public catalog of other departments: metadata only, no rows (cheap to create and to keep). */
function loadSampleCatalog(store: EmulatorStore, save: (ds: Dataset) => void): void {
  for (const d of sampleCatalog()) {
    store.createDataset({
      id: d.id,
      name: d.name,
      description: d.description,
      category: d.category,
      tags: [...d.tags],
      owner: d.owner,
      isPublic: true,
      columns: d.columns.map((c) => ({ ...c })),
    });
    const ds = live(store, d.id);
    ds.createdAt = ds.rowsUpdatedAt = ds.viewLastModified = d.updatedAt;
    save(ds);
  }
}
