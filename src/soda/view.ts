// The facts about a dataset that every feature asks for, in one place: is it public, may this caller write to it,
// which column is its row identifier, is it a draft. `parseView` (./results.ts) fills them from the view's JSON;
// the tree, the preview, the publish flow and the planner read them from `ViewMetadata` instead of the raw JSON.

/** Rights a write needs, per mode: an append may also be allowed by the narrower `add` right. */
export type WriteKind = 'append' | 'write';

/** True/false from the view's grants (a grant with the `public` flag), undefined when the grants were not sent. */
export function publicFromGrants(raw: Record<string, unknown>): boolean | undefined {
  const grants = raw.grants;
  if (!Array.isArray(grants)) return undefined;
  return grants.some(
    (g) => typeof g === 'object' && g !== null && Array.isArray((g as { flags?: unknown }).flags) && (g as { flags: unknown[] }).flags.includes('public'),
  );
}

/** True when the view is not yet published (a draft or working copy: `publicationStage` "unpublished"). */
export function draftFromStage(publicationStage: string | undefined): boolean {
  return publicationStage === 'unpublished';
}

/**
 * May the caller write to the view? From its `rights` when the server sent them (`write`, or `add` for an append);
 * otherwise undefined, unless `userId` is given: then ownership decides, as a portal gives owners every right.
 */
export function canWrite(
  view: { rights: readonly string[] | undefined; owner: { id: string } | undefined },
  kind: WriteKind = 'write',
  userId?: string,
): boolean | undefined {
  if (view.rights !== undefined) return view.rights.includes('write') || (kind === 'append' && view.rights.includes('add'));
  if (userId === undefined) return undefined;
  return view.owner?.id === userId;
}
