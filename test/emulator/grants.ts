/**
 * Sharing: grants on datasets and the rights they give each user.
 *
 * A grant gives one user a role on one dataset: `owner` (a co-owner), `contributor` (shown as "editor" by the
 * portal) or `viewer`. `/api/views/{4x4}` lists them in `grants` (`{inherited, type, userId, userEmail, flags}`),
 * next to the public grant (`{type: 'viewer', flags: ['public']}`) of a public dataset, and answers `rights` for the
 * caller. The same rules decide what the server lets that caller read and write (see docs/EMULATOR.md, Sharing).
 */
import type { Dataset, User } from './store';

export type GrantType = 'owner' | 'contributor' | 'viewer';

export interface Grant {
  readonly type: GrantType;
  readonly userId: string;
}

export const GRANT_TYPES: readonly GrantType[] = ['owner', 'contributor', 'viewer'];

/** Every right an owner (or an administrator) has on a dataset. */
export const OWNER_RIGHTS: readonly string[] = [
  'read',
  'write',
  'add',
  'delete',
  'grant',
  'add_column',
  'remove_column',
  'update_column',
  'update_view',
  'delete_view',
];
/** An editor changes rows, columns and metadata, but neither deletes the dataset nor shares it. */
export const CONTRIBUTOR_RIGHTS: readonly string[] = ['read', 'write', 'add', 'delete', 'add_column', 'remove_column', 'update_column', 'update_view'];
export const VIEWER_RIGHTS: readonly string[] = ['read'];

/** The user's own grant on the dataset, if any (the strongest one when several were given). */
export function grantOf(ds: Dataset, userId: string): Grant | undefined {
  const mine = (ds.grants ?? []).filter((g) => g.userId === userId);
  return mine.sort((a, b) => GRANT_TYPES.indexOf(a.type) - GRANT_TYPES.indexOf(b.type))[0];
}

/**
 * The caller's rights on the dataset: the owner's and an administrator's are all rights; a grant gives its
 * role's; anyone else may read a public dataset. Empty: the caller may not even see it.
 */
export function datasetRights(ds: Dataset, user: User | undefined): readonly string[] {
  if (user !== undefined) {
    if (user.roleName === 'administrator') return OWNER_RIGHTS;
    if (user.id === ds.owner) return user.rights.includes('create_datasets') ? OWNER_RIGHTS : VIEWER_RIGHTS;
    const grant = grantOf(ds, user.id);
    if (grant?.type === 'owner') return OWNER_RIGHTS;
    if (grant?.type === 'contributor') return CONTRIBUTOR_RIGHTS;
    if (grant?.type === 'viewer') return VIEWER_RIGHTS;
  }
  return ds.isPublic ? VIEWER_RIGHTS : [];
}

/** Why a write needing `right` is refused, in the words the server sends. */
export function missingRightMessage(ds: Dataset, right: string): string {
  return `You do not have permission to modify dataset ${ds.id} (the "${right}" right is missing)`;
}
