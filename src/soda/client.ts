// SodaClient: the typed SODA endpoints (identity, catalog, metadata, rows, writes, CSV export) on top of
// the SodaHttp gateway. Every dataset id is checked with assert4x4() before a URL is built; row ids and
// query values only ever travel as encoded path segments or query parameters.
import type { Readable } from 'node:stream';
import { assert4x4 } from './domain';
import { SodaError } from './errors';
import { type BodySource, type GatewayOptions, type HttpMethod, type RequestOptions, SodaHttp, type SodaResponse } from './http';
import { type RetryPolicy } from './retry';
import { checkField, checkRowId, type CsvBody, rowsBody, type RowsBody, soqlParams } from './rowRequest';
import { jsonHeader, normaliseUpsertResult, parseCatalogEntry, parseCurrentUser, parseView } from './results';
import {
  CATALOG_OFFSET_CAP,
  type CatalogPage,
  type CatalogQuery,
  type CurrentUser,
  type Row,
  type RowQuery,
  type RowsResult,
  type UpsertResult,
  type ViewMetadata,
} from './types';

export interface CallOptions {
  signal?: AbortSignal;
  /** Limit per attempt (see `RequestOptions.timeoutMs`). */
  timeoutMs?: number;
  /** Override the client's retry policy for this call; `false` = a single attempt. */
  retry?: Partial<RetryPolicy> | false;
  /** X-Socrata-RequestId to use (to group several calls of one larger operation). */
  operationId?: string;
}

export interface WriteOptions extends CallOptions {
  /**
   * Whether the dataset has a row identifier. With one, an upsert is idempotent and retried on 5xx and
   * network errors; without one rows are appended, so a failed upsert is never repeated blindly.
   * Default: looked up with `view()` (one extra GET).
   */
  hasRowIdentifier?: boolean;
}

export type { CsvBody, RowsBody } from './rowRequest';

export type SodaClientOptions = GatewayOptions;

export class SodaClient {
  readonly http: SodaHttp;

  constructor(options: SodaClientOptions | SodaHttp) {
    this.http = options instanceof SodaHttp ? options : new SodaHttp(options);
  }

  get domain(): SodaHttp['domain'] {
    return this.http.domain;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** Low-level access for modules that build on the gateway (DSMAPI, publishing). */
  request<T = unknown>(options: RequestOptions): Promise<SodaResponse<T>> {
    return this.http.request<T>(options);
  }

  /** The signed-in user (`/api/users/current.json`). Fails with kind 'auth' when not signed in. */
  async currentUser(opts: CallOptions = {}): Promise<CurrentUser> {
    const res = await this.http.request({ method: 'GET', path: '/api/users/current.json', ...opts });
    return parseCurrentUser(res.body);
  }

  /**
   * Pages of the catalog (`/api/catalog/v1`), newest first unless `order` says otherwise. Stops at the end
   * of the results, or when the catalog's 10 000 offset limit is reached — the last page then has
   * `capped: true` and `total` tells how many exist.
   */
  async *catalog(query: CatalogQuery = {}): AsyncGenerator<CatalogPage> {
    const pageSize = query.pageSize ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new SodaError({ kind: 'invalid-input', message: `The catalog page size must be between 1 and 1000 (got ${pageSize}).`, field: 'pageSize' });
    }
    if (query.forUser !== undefined) assert4x4(query.forUser, 'user id');
    if (query.sharedTo !== undefined) assert4x4(query.sharedTo, 'user id');
    let offset = query.offset ?? 0;
    for (;;) {
      const limit = Math.min(pageSize, CATALOG_OFFSET_CAP - offset);
      if (limit <= 0) return;
      const res = await this.http.request({
        method: 'GET',
        path: '/api/catalog/v1',
        query: {
          domains: query.domains ?? [this.domain.host],
          search_context: query.domains === undefined ? this.domain.host : undefined,
          for_user: query.forUser,
          shared_to: query.sharedTo,
          only: query.only === null ? undefined : (query.only ?? 'dataset'),
          q: query.q,
          order: query.order,
          limit,
          offset,
        },
        // Discovery API: private, unpublished and hidden assets are listed only to an authenticated caller naming the
        // authenticating domain here (Socrata's own Elixir client sends it on every call).
        headers: { 'x-socrata-host': this.domain.host },
        signal: query.signal,
        retry: query.retry,
      });
      const body = res.body as { results?: unknown; resultSetSize?: unknown };
      if (typeof body !== 'object' || body === null || !Array.isArray(body.results)) {
        throw new SodaError({ kind: 'protocol', message: 'Unexpected answer from the catalog: no "results" list.', data: body });
      }
      const results = body.results.map(parseCatalogEntry);
      const total = typeof body.resultSetSize === 'number' ? body.resultSetSize : offset + results.length;
      const next = offset + results.length;
      const done = results.length === 0 || next >= total;
      const capped = !done && next >= CATALOG_OFFSET_CAP;
      yield { results, offset, total, capped };
      if (done || capped) return;
      offset = next;
    }
  }

  /** Dataset metadata (`/api/views/{4x4}.json`). */
  async view(id: string, opts: CallOptions = {}): Promise<ViewMetadata> {
    assert4x4(id);
    const res = await this.http.request({ method: 'GET', path: `/api/views/${id}.json`, ...opts });
    return parseView(res.body);
  }

  /**
   * Deletes a dataset and its rows (`DELETE /api/views/{4x4}.json`, as the portal's own delete does). Not
   * repeated after an unknown outcome: a second delete of a deleted dataset is a confusing 404.
   */
  async deleteDataset(id: string, opts: CallOptions = {}): Promise<void> {
    assert4x4(id);
    await this.http.request({ method: 'DELETE', path: `/api/views/${id}.json`, expect: 'none', safeToRepeat: false, ...opts });
  }

  /** The row identifier's field name, or undefined when the dataset has none. */
  async rowIdentifier(id: string, opts: CallOptions = {}): Promise<string | undefined> {
    return (await this.view(id, opts)).rowIdentifier;
  }

  /** One query on `/resource/{4x4}.json` (SODA's default limit of 1000 rows applies unless `limit` is set). */
  async rows<T = Row>(id: string, query?: RowQuery, opts: CallOptions = {}): Promise<RowsResult<T>> {
    assert4x4(id);
    const res = await this.http.request({ method: 'GET', path: `/resource/${id}.json`, query: soqlParams(query), ...opts });
    if (!Array.isArray(res.body)) {
      throw new SodaError({
        kind: 'protocol',
        message: `Unexpected answer to a rows query on ${id}: not a JSON array.`,
        data: res.body,
        requestId: res.serverRequestId ?? res.operationId,
      });
    }
    return { rows: res.body as T[], fields: jsonHeader(res.headers, 'x-soda2-fields'), types: jsonHeader(res.headers, 'x-soda2-types'), headers: res.headers };
  }

  /**
   * Every row matching `query`, one page at a time, ordered by `:id` unless `order` is given (a stable order
   * is what makes offset paging correct). `limit` caps the total; `pageSize` defaults to 5000.
   */
  async *allRows<T = Row>(
    id: string,
    query: Omit<RowQuery, 'offset' | 'query'> = {},
    opts: CallOptions & { pageSize?: number } = {},
  ): AsyncGenerator<RowsResult<T>> {
    assert4x4(id);
    if ((query as RowQuery).query !== undefined) {
      throw new SodaError({ kind: 'invalid-input', message: 'Paging needs separate clauses; a raw $query cannot be paged.', field: 'query' });
    }
    const pageSize = opts.pageSize ?? 5000;
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new SodaError({ kind: 'invalid-input', message: `Invalid page size ${pageSize}.`, field: 'pageSize' });
    }
    const total = query.limit;
    let offset = 0;
    for (;;) {
      const limit = total === undefined ? pageSize : Math.min(pageSize, total - offset);
      if (limit <= 0) return;
      const page = await this.rows<T>(id, { ...query, order: query.order ?? ':id', limit, offset }, opts);
      if (page.rows.length > 0) yield page;
      if (page.rows.length < limit) return;
      offset += page.rows.length;
    }
  }

  /** Number of rows matching `where`/`q` (all rows without them). */
  async count(id: string, query: Pick<RowQuery, 'where' | 'q' | 'filters'> = {}, opts: CallOptions = {}): Promise<number> {
    const res = await this.rows(id, { where: query.where, q: query.q, filters: query.filters, select: 'count(*) AS count' }, opts);
    const first = res.rows[0];
    const value = first === undefined ? undefined : (first.count ?? Object.values(first)[0]);
    const n = Number(value);
    if (value === undefined || value === null || !Number.isFinite(n)) {
      throw new SodaError({ kind: 'protocol', message: `Unexpected answer to a count on ${id}.`, data: res.rows });
    }
    return n;
  }

  /** One row by its row identifier or `:id` (`/resource/{4x4}/{rowId}.json`). */
  async row<T = Row>(id: string, rowId: string | number, opts: CallOptions = {}): Promise<T> {
    assert4x4(id);
    const res = await this.http.request<T>({ method: 'GET', path: `/resource/${id}/${encodeURIComponent(checkRowId(rowId))}.json`, ...opts });
    return res.body;
  }

  private async isIdempotentUpsert(id: string, opts: WriteOptions): Promise<boolean> {
    if (opts.hasRowIdentifier !== undefined) return opts.hasRowIdentifier;
    return (await this.rowIdentifier(id, { signal: opts.signal })) !== undefined;
  }

  private async write(
    method: HttpMethod,
    id: string,
    body: string | (() => BodySource),
    contentType: string,
    safe: boolean,
    opts: CallOptions,
  ): Promise<UpsertResult> {
    const res = await this.http.request({
      method,
      path: `/resource/${id}.json`,
      body,
      contentType,
      safeToRepeat: safe,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      retry: opts.retry,
      operationId: opts.operationId,
    });
    return normaliseUpsertResult(res.body);
  }

  /**
   * Upsert (`POST /resource/{4x4}.json`): rows with the row identifier update (merge), others are created;
   * `{":deleted": true, <row id>}` deletes. Retried only when the dataset has a row identifier.
   */
  async upsert(id: string, rows: RowsBody, opts: WriteOptions = {}): Promise<UpsertResult> {
    assert4x4(id);
    const safe = await this.isIdempotentUpsert(id, opts);
    const { body } = rowsBody(rows);
    return this.write('POST', id, body, 'application/json', safe, opts);
  }

  /** Upsert from CSV (`text/csv`, first line = API field names). */
  async upsertCsv(id: string, csv: CsvBody, opts: WriteOptions = {}): Promise<UpsertResult> {
    assert4x4(id);
    const safe = await this.isIdempotentUpsert(id, opts);
    return this.write('POST', id, csv as string | (() => BodySource), 'text/csv', safe, opts);
  }

  /** Replace every row (`PUT /resource/{4x4}.json`); an empty array empties the dataset. Safe to repeat. */
  async replace(id: string, rows: RowsBody, opts: CallOptions = {}): Promise<UpsertResult> {
    assert4x4(id);
    const { body } = rowsBody(rows);
    return this.write('PUT', id, body, 'application/json', true, opts);
  }

  /** Replace every row from CSV. */
  async replaceCsv(id: string, csv: CsvBody, opts: CallOptions = {}): Promise<UpsertResult> {
    assert4x4(id);
    return this.write('PUT', id, csv as string | (() => BodySource), 'text/csv', true, opts);
  }

  /** Deletes one row (`DELETE /resource/{4x4}/{rowId}.json`). A missing row fails with kind 'not-found'. */
  async deleteRow(id: string, rowId: string | number, opts: CallOptions = {}): Promise<void> {
    assert4x4(id);
    await this.http.request({
      method: 'DELETE',
      path: `/resource/${id}/${encodeURIComponent(checkRowId(rowId))}.json`,
      expect: 'none',
      // Repeating a delete after an unknown outcome would turn success into a confusing 404: not retried.
      safeToRepeat: false,
      ...opts,
    });
  }

  /** Deletes rows by row identifier with an upsert of `{":deleted": true}` rows. Needs a row identifier. */
  async deleteRows(id: string, keys: readonly (string | number)[], opts: CallOptions & { rowIdentifier?: string } = {}): Promise<UpsertResult> {
    assert4x4(id);
    const field = opts.rowIdentifier ?? (await this.rowIdentifier(id, { signal: opts.signal }));
    if (field === undefined) {
      throw new SodaError({
        kind: 'invalid-input',
        message: `Dataset ${id} has no row identifier; delete its rows one by one by :id instead.`,
        field: 'rowIdentifier',
      });
    }
    checkField(field, 'row identifier');
    return this.upsert(
      id,
      keys.map((k) => ({ [field]: k, ':deleted': true })),
      { ...opts, hasRowIdentifier: true },
    );
  }

  /**
   * The rows of a query as CSV (`/resource/{4x4}.csv`), streamed, for "Save as CSV". Without `limit` every
   * row is exported: the rows are counted first and `$limit` set to that count (SODA's default is 1000),
   * ordered by `:id`.
   */
  async exportCsv(id: string, query: Omit<RowQuery, 'query'> = {}, opts: CallOptions & { maxBytes?: number } = {}): Promise<Readable> {
    assert4x4(id);
    let limit = query.limit;
    if (limit === undefined && query.group === undefined) {
      limit = Math.max(1, await this.count(id, query, { signal: opts.signal }));
    }
    const res = await this.http.request({
      method: 'GET',
      path: `/resource/${id}.csv`,
      query: soqlParams({ ...query, order: query.order ?? (query.group === undefined ? ':id' : undefined), limit }),
      expect: 'stream',
      headers: { accept: 'text/csv' },
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      retry: opts.retry,
      operationId: opts.operationId,
      maxBodyBytes: opts.maxBytes,
    });
    return res.body;
  }
}
