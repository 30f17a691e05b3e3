// DSMAPI client: one method per endpoint (revisions, sources, uploads, schemas, apply, jobs), each one request
// through the `DsmapiTransport` seam; `transportFromHttp` adapts the HTTP gateway to that seam.
import type { RequestOptions, SodaHttp } from './http';
import { isValid4x4 } from './ids';
import { assertFourfour, enc, followLink, paths } from './dsmapiPaths';
import {
  type DatasetMetadata,
  type DsmapiRequest,
  type DsmapiResponse,
  type DsmapiTransport,
  type Envelope,
  type HttpMethod,
  type Links,
  type OutputColumn,
  type OutputSchema,
  type OutputSchemaRef,
  type ParseOptions,
  type Permission,
  type Revision,
  type RevisionAction,
  type RevisionStage,
  type SchemaErrorRow,
  type Source,
  type TaskSet,
  envelope,
  isObject,
  RevisionError,
} from './dsmapiTypes';
import { type ChunkedUploadOptions, uploadFileChunked } from './dsmapiUpload';

// ---------------------------------------------------------------------------------------------------------
// Low-level client
// ---------------------------------------------------------------------------------------------------------

export interface RevisionsClientOptions {
  /** Validated domain (host or host:port) used only to build the browser URL of a revision. */
  domain: string;
  /** Scheme for browser URLs; 'https' unless the domain is a loopback emulator. */
  scheme?: 'https' | 'http';
}

export class RevisionsClient {
  constructor(
    private readonly transport: DsmapiTransport,
    private readonly options: RevisionsClientOptions,
  ) {}

  /** Browser page of a revision (socrata-py `Revision.ui_url`). */
  revisionUrl(fourfour: string, seq: number): string {
    const u = new URL(`${this.options.scheme ?? 'https'}://${this.options.domain}`);
    u.pathname = `/d/${enc(assertFourfour(fourfour))}/revisions/${enc(seq)}`;
    return u.toString();
  }

  private async call<T>(stage: RevisionStage, req: DsmapiRequest): Promise<Envelope<T>> {
    const res = await this.transport.request(req);
    return envelope<T>(res.body, stage);
  }

  private json(method: HttpMethod, path: string, body: unknown, retry: 'safe' | 'never', signal?: AbortSignal): DsmapiRequest {
    const req: DsmapiRequest = { method, path, expect: 'json', retry, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    if (signal) req.signal = signal;
    return req;
  }

  private get(path: string, signal?: AbortSignal, query?: Record<string, string>): DsmapiRequest {
    const req: DsmapiRequest = { method: 'GET', path, expect: 'json', retry: 'safe' };
    if (signal) req.signal = signal;
    if (query) req.query = query;
    return req;
  }

  /** New dataset with its first revision (`fourfour` undefined) or a revision on an existing dataset. */
  async createRevision(
    fourfour: string | undefined,
    opts: { action: RevisionAction; metadata?: DatasetMetadata; permission?: Permission },
    signal?: AbortSignal,
  ): Promise<Envelope<Revision>> {
    const action: Record<string, string> = { type: opts.action };
    if (opts.permission) action.permission = opts.permission;
    const body: Record<string, unknown> = { action };
    if (opts.metadata) body.metadata = opts.metadata;
    // Creating a revision is not idempotent (a retry would open a second one): never retried blindly.
    const env = await this.call<Revision>(
      'create-revision',
      this.json('POST', fourfour ? paths.revisions(fourfour) : paths.newRevision(), body, 'never', signal),
    );
    if (typeof env.resource.fourfour !== 'string' || !isValid4x4(env.resource.fourfour) || typeof env.resource.revision_seq !== 'number') {
      throw new RevisionError('the revision in the answer has no valid fourfour/revision_seq', 'protocol', 'create-revision');
    }
    return env;
  }

  async getRevision(fourfour: string, seq: number, signal?: AbortSignal): Promise<Envelope<Revision>> {
    return this.call<Revision>('job', this.get(paths.revision(fourfour, seq), signal));
  }

  async listRevisions(fourfour: string, openOnly = false, signal?: AbortSignal): Promise<Revision[]> {
    const res = await this.transport.request(this.get(paths.revisions(fourfour), signal, openOnly ? { open: 'true' } : undefined));
    const list = Array.isArray(res.body) ? res.body : [];
    return list.map((b) => envelope<Revision>(b, 'job').resource);
  }

  /** Discard (close without applying). Safe to repeat. */
  async discard(fourfour: string, seq: number, links?: Links): Promise<void> {
    const path = followLink(links, ['discard'], {}, paths.revision(fourfour, seq));
    await this.transport.request({ method: 'DELETE', path, expect: 'json', retry: 'safe' });
  }

  async createUploadSource(rev: Envelope<Revision>, filename: string, parseOptions: ParseOptions = {}, signal?: AbortSignal): Promise<Envelope<Source>> {
    const { fourfour, revision_seq: seq } = rev.resource;
    const path = followLink(rev.links, ['create_source'], {}, paths.createSource(fourfour, seq));
    const body = { source_type: { type: 'upload', filename }, parse_options: { parse_source: true, ...parseOptions } };
    const env = await this.call<Source>('create-source', this.json('POST', path, body, 'never', signal));
    if (typeof env.resource.id !== 'number') throw new RevisionError('the source in the answer has no numeric id', 'protocol', 'create-source');
    return env;
  }

  async getSource(source: Envelope<Source>, signal?: AbortSignal): Promise<Envelope<Source>> {
    const path = followLink(source.links, ['show'], {}, paths.source(source.resource.id));
    return this.call<Source>('parse', this.get(path, signal));
  }

  /** Single-shot upload of a small file (`links.bytes`). */
  async uploadBytes(source: Envelope<Source>, bytes: Uint8Array, contentType: string, signal?: AbortSignal): Promise<Envelope<Source>> {
    const path = followLink(source.links, ['bytes'], {}, paths.source(source.resource.id));
    const req: DsmapiRequest = { method: 'POST', path, expect: 'json', retry: 'never', headers: { 'content-type': contentType }, body: bytes };
    if (signal) req.signal = signal;
    return this.call<Source>('upload', req);
  }

  /** Chunked upload from disk (see `uploadFileChunked` in ./dsmapiUpload). */
  async uploadFileChunked(source: Envelope<Source>, file: string, opts: ChunkedUploadOptions): Promise<void> {
    return uploadFileChunked(this.transport, source, file, opts);
  }

  async getOutputSchema(ref: OutputSchemaRef, signal?: AbortSignal): Promise<Envelope<OutputSchema>> {
    const path = followLink(
      ref.links,
      ['show'],
      { output_schema_id: ref.outputSchemaId },
      paths.outputSchema(ref.sourceId, ref.inputSchemaId, ref.outputSchemaId),
    );
    return this.call<OutputSchema>('transform', this.get(path, signal));
  }

  /** POST a new output schema (transform) for an input schema. */
  async transform(
    sourceId: number,
    inputSchemaId: number,
    outputColumns: OutputColumn[],
    links: Links | undefined,
    signal?: AbortSignal,
  ): Promise<Envelope<OutputSchema>> {
    const path = followLink(links, ['transform'], { input_schema_id: inputSchemaId }, paths.inputSchema(sourceId, inputSchemaId));
    return this.call<OutputSchema>('transform', this.json('POST', path, { output_columns: outputColumns }, 'never', signal));
  }

  async validateRowId(ref: OutputSchemaRef, transformId: number, signal?: AbortSignal): Promise<boolean> {
    const path = followLink(
      ref.links,
      ['validate_row_id'],
      { transform_id: transformId, output_schema_id: ref.outputSchemaId },
      paths.validateRowId(ref.sourceId, ref.inputSchemaId, ref.outputSchemaId, transformId),
    );
    const res = await this.transport.request(this.get(path, signal));
    // The platform answers flat `{valid: boolean}` (socrata-py reads ['valid'], the .NET client's ValidResult).
    return isObject(res.body) && res.body.valid === true;
  }

  /** Schema (cell) errors of an output schema, as JSON rows. */
  async schemaErrors(ref: OutputSchemaRef, opts: { offset?: number; limit?: number; signal?: AbortSignal } = {}): Promise<SchemaErrorRow[]> {
    const path = followLink(
      ref.links,
      ['schema_errors'],
      { output_schema_id: ref.outputSchemaId },
      paths.schemaErrors(ref.sourceId, ref.inputSchemaId, ref.outputSchemaId),
    );
    const res = await this.transport.request(this.get(path, opts.signal, { offset: String(opts.offset ?? 0), limit: String(opts.limit ?? 500) }));
    const rows = Array.isArray(res.body) ? res.body : [];
    const schema = await this.getOutputSchema(ref, opts.signal);
    const fields = [...schema.resource.output_columns].sort((a, b) => a.position - b.position).map((c) => c.field_name);
    const out: SchemaErrorRow[] = [];
    for (const entry of rows) {
      // The first element is metadata (socrata-py drops it); rows are `{row: [{ok}|{error}...]}`.
      if (!isObject(entry) || !Array.isArray(entry.row)) continue;
      const errors: SchemaErrorRow['errors'] = [];
      entry.row.forEach((cell: unknown, i: number) => {
        if (isObject(cell) && isObject(cell.error)) {
          const e = cell.error;
          const item: SchemaErrorRow['errors'][number] = {
            field: fields[i] ?? `column ${i + 1}`,
            message: typeof e.message === 'string' ? e.message : 'invalid value',
          };
          if ('input' in e) item.input = e.input;
          errors.push(item);
        }
      });
      const row: SchemaErrorRow = { errors };
      if (typeof entry.offset === 'number') row.offset = entry.offset;
      out.push(row);
    }
    return out;
  }

  /** Schema errors as CSV text (same endpoint, `Accept: text/csv`), for export. */
  async schemaErrorsCsv(ref: OutputSchemaRef, signal?: AbortSignal): Promise<string> {
    const path = followLink(
      ref.links,
      ['schema_errors'],
      { output_schema_id: ref.outputSchemaId },
      paths.schemaErrors(ref.sourceId, ref.inputSchemaId, ref.outputSchemaId),
    );
    const req: DsmapiRequest = { method: 'GET', path, expect: 'text', retry: 'safe', headers: { accept: 'text/csv' } };
    if (signal) req.signal = signal;
    const res = await this.transport.request(req);
    return typeof res.body === 'string' ? res.body : String(res.body);
  }

  /** PUT apply. Unsafe: never retried. Returns the job (task set) or the approval marker. */
  async apply(rev: Envelope<Revision>, outputSchemaId: number | undefined, signal?: AbortSignal): Promise<Envelope<TaskSet>> {
    const { fourfour, revision_seq: seq } = rev.resource;
    const path = followLink(rev.links, ['apply'], {}, paths.apply(fourfour, seq));
    const body = outputSchemaId === undefined ? {} : { output_schema_id: outputSchemaId };
    return this.call<TaskSet>('apply', this.json('PUT', path, body, 'never', signal));
  }

  async getJob(fourfour: string, seq: number, job: Envelope<TaskSet>, signal?: AbortSignal): Promise<TaskSet> {
    const path = followLink(job.links, ['show'], {}, paths.job(fourfour, seq, job.resource.id));
    const env = await this.call<TaskSet>('job', this.get(path, signal));
    return env.resource;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Wiring to the HTTP gateway
// ---------------------------------------------------------------------------------------------------------

/**
 * Adapts the gateway (`SodaHttp`) to the transport seam: 'safe' → `safeToRepeat: true` (GETs, discard,
 * initiate), 'never' → `safeToRepeat: false`, so apply, commit and revision creation are only retried when
 * the gateway knows nothing was sent (its unsafe policy). Chunks use 'never' because this module retries
 * them itself with its own backoff.
 */
export function transportFromHttp(http: Pick<SodaHttp, 'request'>, operationId?: string): DsmapiTransport {
  return {
    async request(req: DsmapiRequest): Promise<DsmapiResponse> {
      const options: RequestOptions = { method: req.method, path: req.path, safeToRepeat: req.retry === 'safe' };
      if (req.query) options.query = req.query;
      if (req.headers) options.headers = req.headers;
      if (req.body !== undefined) options.body = req.body;
      if (req.signal) options.signal = req.signal;
      if (operationId) options.operationId = operationId;
      if (req.expect === 'text') {
        const res = await http.request({ ...options, expect: 'text' });
        return { status: res.status, body: res.body };
      }
      const res = await http.request({ ...options, expect: 'json' });
      return { status: res.status, body: res.body };
    },
  };
}
