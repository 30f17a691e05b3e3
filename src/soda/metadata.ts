// Applying a metadata document to a dataset atomically: a DSMAPI metadata-only revision, or `PUT /api/views/{4x4}`
// where the portal has no DSMAPI or columns change; server refusals mapped back to the document's field names.
// The document itself is in metadataDocument.ts, the diff and request bodies in metadataChanges.ts, partial
// documents in metadataPatch.ts; they are re-exported here, the module the rest of the code imports.
// Plain Node: never imports vscode.
import { assert4x4 } from './domain';
import { SodaError, isSodaError } from './errors';
import type { SodaClient } from './client';
import { RevisionError, RevisionRunner, RevisionsClient, transportFromHttp } from './revisions';
import { columnsBody, diffDocuments, metadataBody, type MetadataChange } from './metadataChanges';
import {
  documentFromView,
  isObj,
  MetadataDocumentError,
  sameDocument,
  validateDocument,
  type DomainMetadataLists,
  type MetadataDocument,
} from './metadataDocument';

export {
  documentFromView,
  formatDocument,
  MAX_FIELD_NAME_LENGTH,
  MAX_NAME_LENGTH,
  MetadataDocumentError,
  parseDocument,
  sameDocument,
  validateDocument,
  type ColumnMetadata,
  type DomainMetadataLists,
  type FieldsetOption,
  type LicenseOption,
  type MetadataDocument,
  type MetadataProblem,
} from './metadataDocument';
export { columnsBody, describeRisks, diffDocuments, isRisky, metadataBody, type MetadataChange, type MetadataChangeKind } from './metadataChanges';
export { applyPatch, patchBody, patchProblems, type MetadataPatch } from './metadataPatch';
// ------------------------------------------------------------------------------------------ client

/** Saving refused: the dataset's metadata changed on the server since `base` was read. */
export class MetadataConflictError extends Error {
  override readonly name = 'MetadataConflictError';
  constructor(
    readonly server: MetadataDocument,
    readonly raw: Record<string, unknown>,
  ) {
    super("The dataset's metadata changed on the server since it was opened.");
  }
}

export type MetadataRoute = 'revision' | 'view';

export interface ApplyMetadataOptions {
  /** The document as it was when the editing started; omitted = no conflict check. */
  base?: MetadataDocument;
  /** Force a route ('view' for portals without DSMAPI); default: revision unless columns change. */
  route?: MetadataRoute;
  /** Only validate and report what would change. */
  dryRun?: boolean;
  lists?: DomainMetadataLists;
  signal?: AbortSignal;
}

export interface ApplyMetadataResult {
  changes: MetadataChange[];
  route: MetadataRoute | 'none';
  /** The document on the server afterwards (the current one for a dry run). */
  document: MetadataDocument;
  approvalSubmitted?: boolean;
}

export class MetadataClient {
  constructor(private readonly soda: SodaClient) {}

  /** The dataset's document and its raw view. */
  async get(id: string, signal?: AbortSignal): Promise<{ document: MetadataDocument; raw: Record<string, unknown> }> {
    assert4x4(id);
    const res = await this.soda.request<Record<string, unknown>>({ method: 'GET', path: `/api/views/${id}.json`, signal });
    if (!isObj(res.body)) throw new SodaError({ kind: 'protocol', message: `The view of ${id} is not a JSON object.` });
    return { document: documentFromView(res.body), raw: res.body };
  }

  /**
   * The portal's categories (`/api/catalog/v1/domain_categories`), licences (`/api/licenses.json`) and custom
   * fieldsets (`/api/configurations.json?type=metadata`); a list the portal does not answer is left out.
   */
  async lists(signal?: AbortSignal): Promise<DomainMetadataLists> {
    const out: DomainMetadataLists = {};
    const tryGet = async (path: string, query?: Record<string, string>): Promise<unknown> => {
      try {
        return (await this.soda.request({ method: 'GET', path, query, signal, retry: false })).body;
      } catch (e) {
        if (isSodaError(e) && (e.status === 404 || e.status === 403 || e.kind === 'protocol')) return undefined;
        throw e;
      }
    };
    const cats = (await tryGet('/api/catalog/v1/domain_categories', { domains: this.soda.domain.host })) as
      { results?: { domain_category?: unknown }[] } | undefined;
    if (cats && Array.isArray(cats.results)) out.categories = cats.results.map((r) => r.domain_category).filter((c): c is string => typeof c === 'string');
    const lic = await tryGet('/api/licenses.json');
    if (Array.isArray(lic)) {
      out.licenses = (lic as Record<string, unknown>[])
        .filter((l) => typeof l.id === 'string')
        .map((l) => ({
          id: l.id as string,
          name: typeof l.name === 'string' ? l.name : (l.id as string),
          attributionRequired: l.attributionRequired === true,
        }));
    }
    const conf = await tryGet('/api/configurations.json', { type: 'metadata', defaultOnly: 'true' });
    if (Array.isArray(conf)) {
      const props = (conf as { properties?: { name?: unknown; value?: unknown }[] }[]).flatMap((c) => c.properties ?? []);
      const sets = props.find((p) => p.name === 'fieldsets')?.value;
      if (Array.isArray(sets)) {
        out.fieldsets = (sets as Record<string, unknown>[])
          .filter((s) => typeof s.name === 'string')
          .map((s) => ({
            name: s.name as string,
            fields: (Array.isArray(s.fields) ? (s.fields as Record<string, unknown>[]) : [])
              .filter((f) => typeof f.name === 'string')
              .map((f) => ({
                name: f.name as string,
                ...(Array.isArray(f.options) ? { options: (f.options as unknown[]).filter((o): o is string => typeof o === 'string') } : {}),
              })),
          }));
      }
    }
    return out;
  }

  /**
   * Applies `mine` (already validated against the server's document) as one atomic change. Refuses with
   * {@link MetadataConflictError} when the server's document is no longer `opts.base`.
   */
  async apply(id: string, mine: MetadataDocument, opts: ApplyMetadataOptions = {}): Promise<ApplyMetadataResult> {
    const { document: server, raw } = await this.get(id, opts.signal);
    if (opts.base && !sameDocument(opts.base, server)) throw new MetadataConflictError(server, raw);
    const problems = validateDocument(mine, server, opts.lists ?? {});
    if (problems.length) throw new MetadataDocumentError(problems);
    const changes = diffDocuments(server, mine);
    if (changes.length === 0) return { changes, route: 'none', document: server };
    const cols = columnsBody(server, mine);
    const permissionChanges = mine.permission !== server.permission;
    const route: MetadataRoute = opts.route ?? (cols.length ? 'view' : 'revision');
    const onlyPermission = permissionChanges && changes.length === 1;
    if (route === 'view' && permissionChanges && !onlyPermission) {
      throw new SodaError({
        kind: 'invalid-input',
        field: 'permission',
        message: cols.length
          ? 'Column changes and a permission change cannot be saved in one step (columns change through PUT /api/views, the permission through a revision). Save the column changes first, then the permission.'
          : 'Without a revision the permission cannot change in the same step as the other metadata (it has its own call): save the other changes first, then the permission.',
      });
    }
    if (opts.dryRun) return { changes, route, document: server };
    const body = metadataBody(server, mine, raw);
    if (route === 'revision') {
      const runner = new RevisionRunner(new RevisionsClient(transportFromHttp(this.soda.http), { domain: this.soda.domain.host }));
      try {
        const outcome = await runner.updateMetadata(id, body, { signal: opts.signal, ...(permissionChanges ? { permission: mine.permission } : {}) });
        const after = await this.get(id, opts.signal);
        return { changes, route, document: after.document, ...(outcome.status === 'approval-submitted' ? { approvalSubmitted: true } : {}) };
      } catch (e) {
        throw fieldOf(e);
      }
    }
    if (onlyPermission) {
      // sodapy's set_permission: PUT /api/views/{4x4}?method=setPermission&value=public.read|private
      try {
        await this.soda.request({
          method: 'PUT',
          path: `/api/views/${id}`,
          query: { method: 'setPermission', value: mine.permission === 'public' ? 'public.read' : 'private' },
          signal: opts.signal,
          safeToRepeat: true,
        });
      } catch (e) {
        throw fieldOf(e);
      }
      return { changes, route, document: (await this.get(id, opts.signal)).document };
    }
    if (cols.length) body.columns = cols;
    let res;
    try {
      res = await this.soda.request<Record<string, unknown>>({
        method: 'PUT',
        path: `/api/views/${id}.json`,
        json: body,
        signal: opts.signal,
        safeToRepeat: true,
      });
    } catch (e) {
      throw fieldOf(e);
    }
    const after = isObj(res.body) && Array.isArray(res.body.columns) ? documentFromView(res.body) : (await this.get(id, opts.signal)).document;
    return { changes, route, document: after };
  }
}

/** A server refusal mapped back to the document's field names (`metadata.privateMetadata.contactEmail` → `contactEmail`). */
function fieldOf(e: unknown): unknown {
  const cause = e instanceof RevisionError ? e.details.cause : e;
  if (!isSodaError(cause)) return e;
  const data = cause.data as { field?: unknown } | undefined;
  const raw = typeof data?.field === 'string' ? data.field : cause.field;
  if (!raw) return e;
  const field = documentField(raw);
  return new SodaError({
    kind: 'invalid-input',
    status: cause.status,
    code: cause.code,
    message: `${field}: ${cause.serverMessage ?? cause.message}`,
    field,
    data: cause.data,
    cause,
  });
}

/** The document path of a server-side field name. */
export function documentField(serverField: string): string {
  const f = serverField.replace(/^metadata\.(?=.)/, '');
  const map: Record<string, string> = {
    licenseId: 'license.id',
    attribution: 'license.attribution',
    attributionLink: 'license.attributionLink',
    'privateMetadata.contactEmail': 'contactEmail',
    'metadata.rowIdentifier': 'rowIdentifier',
    rowIdentifier: 'rowIdentifier',
  };
  if (map[f]) return map[f];
  const cf = /^(?:metadata\.)?custom_fields\.?(.*)$/.exec(f);
  if (cf) return cf[1] ? `customFields.${cf[1]}` : 'customFields';
  return f.replace(/^columns\[(\d+)\]\.name$/, 'columns[$1].displayName');
}
