/** The catalog (`/api/catalog/v1`): search, filters, sharing views, order and paging, and its entries (drafts too). */
import { BadRequestError, type EmulatorContext } from './context';
import { type DraftRef, openDrafts } from './dsmapi/index';
import { canRead, methodNotAllowed } from './access';
import type { Dataset } from './store';
import { displayTypeOf } from './types';

export function catalog(ctx: EmulatorContext): void {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw methodNotAllowed(ctx, ['GET']);
  const sp = ctx.url.searchParams;
  const fail = (message: string): never => {
    ctx.sendJson(400, { error: message });
    throw new BadRequestError(message);
  };
  const intParam = (name: string, dflt: number): number => {
    const v = sp.get(name);
    if (v === null) return dflt;
    if (!/^\d+$/.test(v)) fail(`Invalid ${name}: '${v}' is not a non-negative integer`);
    return Number(v);
  };
  const limit = intParam('limit', 100);
  const offset = intParam('offset', 0);
  if (offset + limit > 10000) fail('Paging past 10000 results is not supported: offset + limit must be at most 10000 (use scroll_id)');
  const multi = (name: string): string[] =>
    [...sp.getAll(name), ...sp.getAll(`${name}[]`)]
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v !== '');
  const domains = multi('domains').map((d) => d.toLowerCase());
  const forUser = multi('for_user');
  const ids = multi('ids');
  const only = multi('only').map((o) => o.toLowerCase());
  const terms = (sp.get('q') ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => t !== '');
  const host = ctx.domain.toLowerCase();
  const hostOnly = host.replace(/:\d+$/, '');
  // Discovery API: private, unpublished and hidden assets (and drafts) only for an authenticated caller that names
  // the authenticating domain in X-Socrata-Host; everyone else sees the anonymously viewable assets.
  const xHost = String(ctx.req.headers['x-socrata-host'] ?? '')
    .trim()
    .toLowerCase();
  const authenticating = ctx.user !== undefined && xHost !== '' && (xHost === host || xHost === hostOnly);
  const anonymous = (ds: Dataset): boolean => ds.isPublic && ds.publicationStage === 'published' && ds.flags.hidden !== true;
  const drafts = authenticating && ctx.user ? openDrafts(ctx.store) : [];
  let list: { ds: Dataset; draft?: DraftRef }[] = [];
  for (const ds of ctx.store.listDatasets()) {
    if (anonymous(ds) || (authenticating && canRead(ds, ctx.user))) list.push({ ds });
    // Working copies and drafts of a dataset (`abcd-1234:7`) are listed to those who may write to it, after it.
    for (const d of drafts) if (d.fourfour === ds.id && (ctx.user?.id === ds.owner || ctx.user?.roleName === 'administrator')) list.push({ ds, draft: d });
  }
  if (domains.length && !domains.some((d) => d === host || d === hostOnly)) list = [];
  if (forUser.length) list = list.filter(({ ds }) => forUser.includes(ds.owner));
  list = catalogSharing(ctx, list, multi('shared_to'), domains.length > 0);
  const visibility = sp.get('visibility');
  if (visibility !== null) {
    if (visibility !== 'open' && visibility !== 'internal') fail(`Invalid visibility: '${visibility}' (expected 'open' or 'internal')`);
    list = list.filter(({ ds }) => (ds.isPublic && ds.publicationStage === 'published') === (visibility === 'open'));
  }
  if (ids.length) list = list.filter(({ ds, draft }) => ids.includes(draft ? `${ds.id}:${draft.revision_seq}` : ds.id));
  if (only.length && !only.some((o) => o === 'dataset' || o === 'datasets')) list = [];
  if (terms.length) {
    list = list.filter(({ ds }) => {
      const text = [
        ds.name,
        ds.description,
        ds.category ?? '',
        ...ds.tags,
        ...ds.columns.flatMap((c) => [c.name, c.fieldName, c.description]),
        ds.attribution ?? '',
      ]
        .join('\u0000')
        .toLowerCase();
      return terms.every((t) => text.includes(t));
    });
  }
  const order = sp.get('order');
  if (order !== null) list = catalogOrder(list, order, fail);
  const page = list.slice(offset, offset + limit);
  ctx.sendJson(200, {
    results: page.map(({ ds, draft }) => (draft ? draftEntry(ctx, ds, draft) : catalogEntry(ctx, ds))),
    resultSetSize: list.length,
    timings: { serviceMillis: 1, searchMillis: [0, 1] },
    warnings: [],
  });
}

/**
 * `shared_to`: the datasets on which one of the given users has a grant, without the caller's own. Anonymous
 * callers see nothing; a caller other than an administrator may name only themselves; `domains` is required.
 */
export function catalogSharing<T extends { ds: Dataset }>(ctx: EmulatorContext, list: T[], sharedTo: string[], hasDomains: boolean): T[] {
  if (sharedTo.length === 0) return list;
  const user = ctx.user;
  if (user === undefined) return [];
  if (!hasDomains) {
    ctx.sendJson(400, { error: 'shared_to requires the domains parameter' });
    throw new BadRequestError('shared_to without domains');
  }
  if (user.roleName !== 'administrator' && sharedTo.some((u) => u !== user.id)) {
    ctx.sendJson(403, { error: 'Only administrators may search for assets shared to other users; use your own user id in shared_to' });
    throw new BadRequestError('shared_to names another user');
  }
  return list.filter(({ ds }) => ds.owner !== user.id && (ds.grants ?? []).some((g) => sharedTo.includes(g.userId)));
}

export function catalogEntry(ctx: EmulatorContext, ds: Dataset): Record<string, unknown> {
  const owner = ctx.store.getUser(ds.owner);
  const iso = (s: number): string => new Date(s * 1000).toISOString();
  const slug = (s: string): string => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'dataset';
  return {
    resource: {
      name: ds.name,
      id: ds.id,
      parent_fxf: [],
      description: ds.description,
      attribution: ds.attribution,
      attribution_link: null,
      contact_email: null,
      type: 'dataset',
      updatedAt: iso(Math.max(ds.rowsUpdatedAt, ds.viewLastModified)),
      createdAt: iso(ds.createdAt),
      metadata_updated_at: iso(ds.viewLastModified),
      data_updated_at: iso(ds.rowsUpdatedAt),
      publication_date: iso(ds.createdAt),
      page_views: {
        page_views_last_week: 0,
        page_views_last_month: 0,
        page_views_total: 0,
        page_views_last_week_log: 0,
        page_views_last_month_log: 0,
        page_views_total_log: 0,
      },
      columns_name: ds.columns.map((c) => c.name),
      columns_field_name: ds.columns.map((c) => c.fieldName),
      columns_datatype: ds.columns.map((c) => displayTypeOf(c.dataTypeName)),
      columns_description: ds.columns.map((c) => c.description),
      columns_format: ds.columns.map(() => ({})),
      download_count: 0,
      provenance: ds.provenance,
      lens_view_type: 'tabular',
      lens_display_type: 'table',
      blob_mime_type: null,
      hide_from_data_json: false,
    },
    classification: { categories: [], tags: [], domain_category: ds.category, domain_tags: ds.tags, domain_metadata: [] },
    metadata: { domain: ctx.domain, license: null },
    permalink: `${ctx.baseUrl}/d/${ds.id}`,
    link: `${ctx.baseUrl}/${slug(ds.category ?? 'dataset')}/${slug(ds.name)}/${ds.id}`,
    owner: { id: ds.owner, user_type: 'interactive', display_name: owner?.displayName ?? ds.owner },
    creator: { id: ds.owner, user_type: 'interactive', display_name: owner?.displayName ?? ds.owner },
  };
}

/**
 * A draft (an open revision) of a dataset in the catalog: id `abcd-1234:7` (the form exsoda builds for approvals),
 * its own name if the revision renames it, and `published_copy` pointing back at the dataset (Discovery API docs).
 */
export function draftEntry(ctx: EmulatorContext, ds: Dataset, draft: DraftRef): Record<string, unknown> {
  const entry = catalogEntry(ctx, ds);
  const id = `${ds.id}:${draft.revision_seq}`;
  const resource = entry.resource as Record<string, unknown>;
  return {
    ...entry,
    resource: { ...resource, id, name: draft.name ?? ds.name, updatedAt: draft.created_at, createdAt: draft.created_at },
    permalink: `${ctx.baseUrl}/d/${ds.id}/revisions/${draft.revision_seq}`,
    link: `${ctx.baseUrl}/d/${ds.id}/revisions/${draft.revision_seq}`,
    published_copy: { uid: ds.id, permalink: `${ctx.baseUrl}/d/${ds.id}` },
  };
}

/** The catalog's `order`: `name`, `dataset_id`, `owner`, `createdAt`, `updatedAt` with an optional ASC/DESC (defaults per attribute). */
function catalogOrder<T extends { ds: Dataset }>(list: T[], order: string, fail: (message: string) => never): T[] {
  const m = /^\s*(name|dataset_id|owner|createdAt|updatedAt|relevance)(?:\s+(ASC|DESC))?\s*$/i.exec(order);
  if (!m?.[1]) return fail(`Invalid order: '${order}'`);
  const attr = m[1];
  if (attr.toLowerCase() === 'relevance') return list;
  const ascendingByDefault = !/^(createdAt|updatedAt)$/i.test(attr);
  const asc = m[2] === undefined ? ascendingByDefault : m[2].toUpperCase() === 'ASC';
  const key = (ds: Dataset): string | number => {
    switch (attr.toLowerCase()) {
      case 'name':
        return ds.name.toLowerCase();
      case 'dataset_id':
        return ds.id;
      case 'owner':
        return ds.owner;
      case 'createdat':
        return ds.createdAt;
      default:
        return Math.max(ds.rowsUpdatedAt, ds.viewLastModified);
    }
  };
  const sorted = [...list].sort(({ ds: a }, { ds: b }) => {
    const ka = key(a);
    const kb = key(b);
    const c = ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return asc ? c : -c;
  });
  return sorted;
}
