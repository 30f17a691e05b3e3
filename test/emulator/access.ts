/** Who may do what on the SODA routes: read and write checks with the platform's answers, and the user's JSON. */
import type { EmulatorContext } from './context';
import { coreError, type EmulatorHttpError, sodaError } from './errors';
import { datasetRights, missingRightMessage } from './grants';
import { type Dataset, isFourByFour, type User } from './store';

export function canRead(ds: Dataset, user: User | undefined): boolean {
  return datasetRights(ds, user).includes('read');
}

export function readable(ctx: EmulatorContext, id: string): Dataset {
  const ds = isFourByFour(id) ? ctx.store.getDataset(id) : undefined;
  if (!ds || !canRead(ds, ctx.user)) throw coreError(404, 'dataset.missing', 'Not found', { id });
  return ds;
}

export function writable(ctx: EmulatorContext, id: string, right = 'write'): Dataset {
  const ds = readable(ctx, id);
  mustWrite(ctx, ds, right);
  return ds;
}

// ------------------------------------------------------------------ /api/users, /api/catalog, /api/views

export function currentUser(ctx: EmulatorContext): void {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw methodNotAllowed(ctx, ['GET']);
  if (!ctx.user) throw coreError(403, 'authentication_required', 'You must be logged in to access this resource');
  ctx.sendJson(200, userJson(ctx.user, true));
}

function mustWrite(ctx: EmulatorContext, ds: Dataset, right: string): void {
  if (!ctx.user) throw coreError(403, 'authentication_required', 'You must be logged in to access this resource');
  if (!datasetRights(ds, ctx.user).includes(right)) {
    throw coreError(403, 'permission_denied', missingRightMessage(ds, right), { id: ds.id, right });
  }
}

export function methodNotAllowed(ctx: EmulatorContext, allowed: string[]): EmulatorHttpError {
  return sodaError(405, 'method-not-allowed', `Method ${ctx.method} is not allowed here`, { method: ctx.method, allowed });
}

export function userJson(u: User, self: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = { id: u.id, screenName: u.screenName, displayName: u.displayName, roleName: u.roleName, rights: u.rights, flags: [] };
  if (self) o.email = u.email;
  return o;
}
