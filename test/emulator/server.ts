/**
 * The emulator's HTTP layer (node:http): request ids, authentication, app tokens, fault injection, routing
 * to the SODA routes below and to the mounted DSMAPI and OAuth modules.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parse as parseCsv } from 'csv-parse/sync';
import { BadRequestError, BodyTooLargeError, DEFAULT_BODY_LIMIT, type EmulatorContext } from './context';
import { type DraftRef, handlePublishing, openDrafts } from './dsmapi/index';
import { EmulatorHttpError, coreError, sodaError } from './errors';
import { FaultInjector, parseFaultSpec, type FaultDecision } from './faults';
import { scanJson } from './jsonscan';
import { applyChange, decorateView, handleDomainMetadata, MetadataInvalid, parseChange } from './metadata';
import { handleOAuth } from './oauth';
import { servePage } from './pages';
import { handleSoda3, SODA3_PATH } from './soda3';
import { runQuery, type QueryParams } from './soql';
import { datasetRights, missingRightMessage } from './grants';
import { isFourByFour, type Dataset, type EmulatorStore, type Row, type UpsertResult, type User } from './store';
import { displayTypeOf, soqlTypeOf, toCsvText } from './types';

export interface ServerOptions {
  store: EmulatorStore;
  sink: boolean;
  faults: string | undefined;
  bodyLimit: number;
  /**
   * How bad credentials are refused: `code` (default) 401 with the core envelope; `login` 403
   * `{"error": true, "message": "You must be logged in to access this resource"}` with no `code`, as real portals
   * answer some auth failures.
   */
  authFailures?: AuthFailureStyle;
  /** 3 (default) serves SODA3 (`/api/v3/views/…`); 2 answers those paths 404, as a portal without v3. */
  soda?: 2 | 3;
}

export type AuthFailureStyle = 'code' | 'login';

/** The 403 body of {@link AuthFailureStyle} `login`: no `code`, only `error` and `message`. */
export const LOGIN_REQUIRED_BODY = { error: true, message: 'You must be logged in to access this resource' } as const;

class LoginRequired extends Error {}

interface RequestState {
  decision: FaultDecision | undefined;
  answered: boolean;
}

/**
 * Test control (loopback callers only, no credentials needed, never subject to faults): the Basic user names
 * (emails and API key ids) the emulator refuses with 401 whatever the password, as if the key had been revoked or
 * the password changed. `GET` lists them, `POST {"username": "…"}` adds one (with `"authFailures": "login"`, bad
 * credentials then get the 403 "You must be logged in" answer instead), `DELETE` clears the list and the style.
 */
export const REJECTED_CREDENTIALS_PATH = '/__emulator/rejected-credentials';

/**
 * Test control (loopback callers only, never subject to faults): which SODA the emulator serves. `GET` answers
 * `{"soda": 3}`; `POST {"soda": 2}` turns SODA3 off (its paths answer 404, as on a portal without it), `{"soda": 3}`
 * turns it back on.
 */
export const SODA_VERSION_PATH = '/__emulator/soda';

export class EmulatorServer {
  readonly server: Server;
  private injector: FaultInjector | undefined;
  /** Lower-cased Basic user names refused with 401 (set through {@link REJECTED_CREDENTIALS_PATH}). */
  private readonly rejectedUsers = new Set<string>();
  private authFailures: AuthFailureStyle;
  /** 3 = SODA3 served; 2 = its paths answer 404 (see {@link SODA_VERSION_PATH}). */
  soda: 2 | 3;

  constructor(private readonly opts: ServerOptions) {
    this.soda = opts.soda ?? 3;
    this.setFaults(opts.faults);
    this.authFailures = opts.authFailures ?? 'code';
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.keepAliveTimeout = 5000;
  }

  /** Sets (or clears, with undefined/empty) the fault spec; the request index and counters restart at 0. */
  setFaults(spec: string | undefined): void {
    const c = this.opts.store.faultCounters;
    for (const k of Object.keys(c) as (keyof typeof c)[]) c[k] = 0;
    this.injector = spec && spec.trim() !== '' ? new FaultInjector(parseFaultSpec(spec)) : undefined;
  }

  /** Switches how bad credentials are refused (see {@link ServerOptions.authFailures}). */
  setAuthFailures(style: AuthFailureStyle): void {
    this.authFailures = style;
  }

  /** Decisions taken since the faults were last set. */
  faultLog(): FaultInjector['log'] {
    return this.injector?.log ?? [];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const store = this.opts.store;
    const sent = req.headers['x-socrata-requestid'];
    const requestId = typeof sent === 'string' && /^[\x21-\x7e]{1,128}$/.test(sent) ? sent : randomBytes(16).toString('hex');
    res.setHeader('X-Socrata-RequestId', requestId);
    res.setHeader('Access-Control-Allow-Origin', '*');
    const host = req.headers.host ?? `127.0.0.1:${(this.server.address() as { port: number } | null)?.port ?? 0}`;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${host}`);
    } catch {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const state: RequestState = { decision: undefined, answered: false };

    if (url.pathname === REJECTED_CREDENTIALS_PATH) {
      await this.rejectedCredentials(req, res, method);
      return;
    }
    if (url.pathname === SODA_VERSION_PATH) {
      await this.sodaVersion(req, res, method);
      return;
    }

    // Fault injection (decided before anything is read or applied).
    const inj = this.injector;
    if (inj?.targets(method, url.pathname)) {
      const d = inj.decide(method, url.pathname);
      state.decision = d;
      store.faultCounters.requests++;
      if (d.latencyMs > 0) {
        store.faultCounters.latencyMs += d.latencyMs;
        await new Promise((r) => setTimeout(r, d.latencyMs));
      }
      if (d.kind === 'reset') {
        store.faultCounters.resets++;
        req.socket.destroy();
        return;
      }
      if (d.kind === 'error') {
        store.faultCounters.errors5xx++;
        req.resume();
        const code = d.status === 503 ? 'service-unavailable' : 'internal-error';
        const message = d.status === 503 ? 'Service unavailable' : 'Internal error; include the tag when reporting';
        writeJson(res, d.status, { message, errorCode: code, data: d.status === 503 ? {} : { tag: randomUUID() } }, {});
        return;
      }
      if (d.kind === 'throttle') {
        store.faultCounters.throttled++;
        req.resume();
        const headers: Record<string, string> = {};
        if (d.retryAfter !== undefined) {
          headers['Retry-After'] = String(d.retryAfter);
          store.faultCounters.throttledWithRetryAfter++;
        }
        writeJson(res, 429, { message: 'Too many requests', errorCode: 'too-many-requests', data: {} }, headers);
        return;
      }
      if (d.kind === 'accepted') {
        // SODA's "202 Request Processing": retry, and when it's complete you'll get a 200 instead (dev.socrata.com).
        store.faultCounters.accepted++;
        req.resume();
        const headers: Record<string, string> = d.retryAfter !== undefined ? { 'Retry-After': String(d.retryAfter) } : {};
        writeJson(
          res,
          202,
          { message: 'Request processing; retry it, and when it is complete you will get a 200', errorCode: 'request.processing', data: {} },
          headers,
        );
        return;
      }
    }

    const ctx = this.context(req, res, url, method, requestId, host, state);
    try {
      const who = this.authenticate(req, url);
      (ctx as { user: User | undefined }).user = who.user;
      (ctx as { appToken: string | undefined }).appToken = who.appToken;
      await this.route(ctx);
      if (!state.answered && !res.headersSent) ctx.sendCoreError(500, 'internal-error', 'No answer was produced');
    } catch (e) {
      if (e instanceof BodyTooLargeError || e instanceof BadRequestError) return;
      if (e instanceof LoginRequired) {
        ctx.sendJson(403, LOGIN_REQUIRED_BODY);
        return;
      }
      if (e instanceof EmulatorHttpError) {
        if (e.envelope === 'soda') ctx.sendSodaError(e.status, e.code, e.message, e.data);
        else ctx.sendCoreError(e.status, e.code, e.message, Object.keys(e.data).length ? e.data : undefined);
        return;
      }
      const tag = randomUUID();
      process.stderr.write(`emulator: internal error ${tag}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      if (!res.headersSent) ctx.sendSodaError(500, 'internal-error', 'Internal error; include the tag when reporting', { tag });
      else res.destroy();
    }
  }

  private context(req: IncomingMessage, res: ServerResponse, url: URL, method: string, requestId: string, host: string, state: RequestState): EmulatorContext {
    const store = this.opts.store;
    const bodyLimit = this.opts.bodyLimit;
    const finish = (status: number, body: string | Buffer, contentType: string, headers: Record<string, string>): void => {
      if (state.answered) return;
      state.answered = true;
      if (state.decision?.kind === 'resetAfterApply' && status < 400) {
        // The work is done; the client never learns the outcome.
        store.faultCounters.resetsAfterApply++;
        req.socket.destroy();
        return;
      }
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)), ...headers });
      res.end(method === 'HEAD' ? undefined : body);
    };
    const ctx: EmulatorContext = {
      req,
      res,
      url,
      method,
      user: undefined,
      appToken: undefined,
      store,
      requestId,
      domain: host,
      baseUrl: `http://${host}`,
      sendJson: (status, body, headers = {}) => finish(status, JSON.stringify(body), 'application/json; charset=utf-8', headers),
      sendRaw: (status, body, contentType, headers = {}) => finish(status, body, contentType, headers),
      sendCoreError: (status, code, message, data) => {
        const body: Record<string, unknown> = { code, error: true, message };
        if (data) body.data = data;
        finish(status, JSON.stringify(body), 'application/json; charset=utf-8', {});
      },
      sendSodaError: (status, errorCode, message, data = {}) =>
        finish(status, JSON.stringify({ message, errorCode, data }), 'application/json; charset=utf-8', {}),
      readBody: (limit = bodyLimit) =>
        readBody(req, limit, () => {
          if (!state.answered) {
            state.answered = true;
            res.writeHead(413, { 'Content-Type': 'application/json; charset=utf-8', Connection: 'close' });
            res.end(JSON.stringify({ message: `Request body is larger than ${limit} bytes`, errorCode: 'req.body.too-large', data: { limit } }));
          }
        }),
      readJson: async (limit = bodyLimit) => {
        const buf = await ctx.readBody(limit);
        try {
          return JSON.parse(buf.toString('utf8')) as unknown;
        } catch (e) {
          // JSON.parse's message names no position on every Node version; the byte scanner finds the exact one.
          const scan = scanJson(buf);
          const { line, column, detail } = scan.ok ? { line: 1, column: 1, detail: (e as Error).message } : { ...scan, detail: scan.message };
          ctx.sendSodaError(400, 'req.body.malformed-json', `Malformed JSON at line ${line}, column ${column}: ${detail}`, { row: line, column });
          throw new BadRequestError('malformed JSON');
        }
      },
    };
    return ctx;
  }

  /** The test-control endpoint {@link REJECTED_CREDENTIALS_PATH}. */
  private async rejectedCredentials(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    const answer = (): void => writeJson(res, 200, { rejected: [...this.rejectedUsers].sort() }, {});
    const remote = req.socket.remoteAddress ?? '';
    if (!(remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.'))) {
      req.resume();
      writeJson(res, 403, { code: 'forbidden', error: true, message: 'The control endpoint answers loopback callers only' }, {});
      return;
    }
    if (method === 'GET') {
      req.resume();
      answer();
      return;
    }
    if (method === 'DELETE') {
      req.resume();
      this.rejectedUsers.clear();
      this.authFailures = this.opts.authFailures ?? 'code';
      answer();
      return;
    }
    if (method !== 'POST') {
      req.resume();
      writeJson(
        res,
        405,
        { code: 'method-not-allowed', error: true, message: `Method ${method} is not allowed here`, data: { allowed: ['GET', 'POST', 'DELETE'] } },
        {},
      );
      return;
    }
    let username: unknown;
    let style: unknown;
    try {
      const buf = await readBody(req, 64 * 1024, () => undefined);
      const parsed = JSON.parse(buf.toString('utf8')) as { username?: unknown; authFailures?: unknown } | null;
      username = parsed?.username;
      style = parsed?.authFailures;
    } catch {
      username = undefined;
    }
    const badStyle = style !== undefined && style !== 'code' && style !== 'login';
    if (typeof username !== 'string' || username.trim() === '' || badStyle) {
      if (!res.headersSent) {
        writeJson(
          res,
          400,
          { code: 'bad-request', error: true, message: 'Send {"username": "<email or API key id>", "authFailures"?: "code" | "login"} (at most 64 KiB)' },
          { Connection: 'close' },
        );
      }
      return;
    }
    this.rejectedUsers.add(username.trim().toLowerCase());
    if (style === 'code' || style === 'login') this.authFailures = style;
    answer();
  }

  /** The test-control endpoint {@link SODA_VERSION_PATH}. */
  private async sodaVersion(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    const remote = req.socket.remoteAddress ?? '';
    if (!(remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.'))) {
      req.resume();
      writeJson(res, 403, { code: 'forbidden', error: true, message: 'The control endpoint answers loopback callers only' }, {});
      return;
    }
    if (method === 'POST') {
      let soda: unknown;
      try {
        soda = (JSON.parse((await readBody(req, 64 * 1024, () => undefined)).toString('utf8')) as { soda?: unknown } | null)?.soda;
      } catch {
        soda = undefined;
      }
      if (soda !== 2 && soda !== 3) {
        if (!res.headersSent) {
          writeJson(res, 400, { code: 'bad-request', error: true, message: 'Send {"soda": 2} or {"soda": 3} (at most 64 KiB)' }, { Connection: 'close' });
        }
        return;
      }
      this.soda = soda;
    } else if (method !== 'GET') {
      req.resume();
      writeJson(res, 405, { code: 'method-not-allowed', error: true, message: `Method ${method} is not allowed here`, data: { allowed: ['GET', 'POST'] } }, {});
      return;
    } else req.resume();
    writeJson(res, 200, { soda: this.soda }, {});
  }

  /** Resolves the caller from `Authorization` and validates the app token. Throws 401/403 errors. */
  private authenticate(req: IncomingMessage, url: URL): { user: User | undefined; appToken: string | undefined } {
    const store = this.opts.store;
    let user: User | undefined;
    const auth = req.headers.authorization;
    if (auth !== undefined && auth.trim() !== '') {
      const sp = auth.trim().indexOf(' ');
      const scheme = (sp < 0 ? auth.trim() : auth.trim().slice(0, sp)).toLowerCase();
      const cred =
        sp < 0
          ? ''
          : auth
              .trim()
              .slice(sp + 1)
              .trim();
      if (scheme === 'basic') {
        const text = Buffer.from(cred, 'base64').toString('utf8');
        const colon = text.indexOf(':');
        const username = colon < 0 ? '' : text.slice(0, colon);
        user = colon < 0 || this.rejectedUsers.has(username.trim().toLowerCase()) ? undefined : store.authenticateBasic(username, text.slice(colon + 1));
        if (!user && this.authFailures === 'login') throw new LoginRequired();
        if (!user) throw coreError(401, 'invalid_credentials', 'Invalid username or password');
      } else if (scheme === 'oauth') {
        user = store.userForToken(cred);
        if (!user && this.authFailures === 'login') throw new LoginRequired();
        if (!user) throw coreError(401, 'invalid_token', 'Invalid or expired OAuth access token');
      } else {
        throw coreError(401, 'invalid_credentials', `Unsupported authorization scheme "${scheme}" (use Basic or OAuth)`);
      }
    }
    let appToken: string | undefined;
    const header = req.headers['x-app-token'];
    const token = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('$$app_token') ?? undefined;
    if (token !== undefined && !url.pathname.startsWith('/oauth/')) {
      if (!store.isKnownAppToken(token)) throw coreError(403, 'invalid_app_token', 'Invalid app_token specified');
      appToken = token;
    }
    return { user, appToken };
  }

  private async route(ctx: EmulatorContext): Promise<void> {
    const p = ctx.url.pathname;
    if (p === '/api/publishing/v1' || p.startsWith('/api/publishing/v1/')) return handlePublishing(ctx);
    if (p.startsWith('/oauth/')) return handleOAuth(ctx);
    if (handleDomainMetadata(ctx)) return;
    if (p === '/api/users/current.json' || p === '/api/users/current') return this.currentUser(ctx);
    if (p === '/api/catalog/v1' || p === '/api/catalog/v1/') return this.catalog(ctx);
    const v3 = this.soda === 2 ? null : SODA3_PATH.exec(p);
    if (v3?.[1] && v3[2]) return handleSoda3(ctx, v3[1], v3[2] as 'query.json' | 'export.csv', (id) => this.readable(ctx, id));
    let m = /^\/api\/views\/([^/]+?)(?:\.json)?$/.exec(p);
    if (m?.[1]) return this.view(ctx, m[1]);
    m = /^\/(?:resource|api\/id)\/([^/]+?)\.(json|csv)$/.exec(p) ?? /^\/(?:resource|api\/id)\/([^/.]+)()$/.exec(p);
    if (m?.[1]) return this.resource(ctx, m[1], m[2] === 'csv' ? 'csv' : 'json');
    m = /^\/(?:resource|api\/id)\/([^/]+)\/([^/]+?)(?:\.json)?$/.exec(p);
    if (m?.[1] && m[2]) return this.singleRow(ctx, m[1], decodeURIComponent(m[2]));
    if (servePage(ctx)) return;
    ctx.sendCoreError(404, 'not-found', `Path not found: ${p}`, { path: p });
  }

  // ------------------------------------------------------------------ permissions

  private canRead(ds: Dataset, user: User | undefined): boolean {
    return datasetRights(ds, user).includes('read');
  }

  private readable(ctx: EmulatorContext, id: string): Dataset {
    const ds = isFourByFour(id) ? ctx.store.getDataset(id) : undefined;
    if (!ds || !this.canRead(ds, ctx.user)) throw coreError(404, 'dataset.missing', 'Not found', { id });
    return ds;
  }

  private writable(ctx: EmulatorContext, id: string, right = 'write'): Dataset {
    const ds = this.readable(ctx, id);
    mustWrite(ctx, ds, right);
    return ds;
  }

  // ------------------------------------------------------------------ /api/users, /api/catalog, /api/views

  private currentUser(ctx: EmulatorContext): void {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw methodNotAllowed(ctx, ['GET']);
    if (!ctx.user) throw coreError(403, 'authentication_required', 'You must be logged in to access this resource');
    ctx.sendJson(200, userJson(ctx.user, true));
  }

  private catalog(ctx: EmulatorContext): void {
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
      if (anonymous(ds) || (authenticating && this.canRead(ds, ctx.user))) list.push({ ds });
      // Working copies and drafts of a dataset (`abcd-1234:7`) are listed to those who may write to it, after it.
      for (const d of drafts) if (d.fourfour === ds.id && (ctx.user?.id === ds.owner || ctx.user?.roleName === 'administrator')) list.push({ ds, draft: d });
    }
    if (domains.length && !domains.some((d) => d === host || d === hostOnly)) list = [];
    if (forUser.length) list = list.filter(({ ds }) => forUser.includes(ds.owner));
    list = this.catalogSharing(ctx, list, multi('shared_to'), domains.length > 0);
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
      results: page.map(({ ds, draft }) => (draft ? this.draftEntry(ctx, ds, draft) : this.catalogEntry(ctx, ds))),
      resultSetSize: list.length,
      timings: { serviceMillis: 1, searchMillis: [0, 1] },
      warnings: [],
    });
  }

  /**
   * `shared_to`: the datasets on which one of the given users has a grant, without the caller's own. Anonymous
   * callers see nothing; a caller other than an administrator may name only themselves; `domains` is required.
   */
  private catalogSharing<T extends { ds: Dataset }>(ctx: EmulatorContext, list: T[], sharedTo: string[], hasDomains: boolean): T[] {
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

  private catalogEntry(ctx: EmulatorContext, ds: Dataset): Record<string, unknown> {
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
  private draftEntry(ctx: EmulatorContext, ds: Dataset, draft: DraftRef): Record<string, unknown> {
    const entry = this.catalogEntry(ctx, ds);
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

  private async view(ctx: EmulatorContext, id: string): Promise<void> {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      const ds = this.readable(ctx, id);
      ctx.sendJson(200, viewJson(ctx, ds));
      return;
    }
    if (ctx.method === 'PUT' || ctx.method === 'PATCH') {
      const ds = this.writable(ctx, id, 'update_view');
      if (ctx.url.searchParams.get('method') === 'setPermission') {
        // sodapy's set_permission: value public.read (or public) / private.
        const value = ctx.url.searchParams.get('value') ?? '';
        if (!['public', 'public.read', 'private'].includes(value)) {
          throw coreError(400, 'invalid_request', `Invalid permission value "${value}" (public.read or private)`, { field: 'value', value });
        }
        ctx.req.resume();
        ctx.store.updateDataset(ds.id, { isPublic: value !== 'private' });
        ctx.sendJson(200, viewJson(ctx, ds));
        return;
      }
      const body = await ctx.readJson(16 * 1024 * 1024);
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        throw sodaError(400, 'req.content.json.invalid', 'Body must be a JSON object', { expected: 'object' });
      }
      // Validated whole (metadata.ts), then applied: a refusal names the field and changes nothing.
      try {
        applyChange(ctx.store, ds, parseChange(body, ds, { allowColumns: true }));
      } catch (e) {
        if (e instanceof MetadataInvalid) throw coreError(400, 'invalid_request', e.message, { field: e.field, value: e.value ?? null });
        throw e;
      }
      ctx.sendJson(200, viewJson(ctx, ds));
      return;
    }
    if (ctx.method === 'DELETE') {
      const ds = this.writable(ctx, id, 'delete_view');
      ctx.store.deleteDataset(ds.id);
      ctx.sendRaw(200, '', 'application/json; charset=utf-8');
      return;
    }
    throw methodNotAllowed(ctx, ['GET', 'PUT', 'PATCH', 'DELETE']);
  }

  // ------------------------------------------------------------------ /resource

  private async resource(ctx: EmulatorContext, id: string, ext: 'json' | 'csv'): Promise<void> {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return this.read(ctx, id, ext);
    if (ctx.method !== 'POST' && ctx.method !== 'PUT') throw methodNotAllowed(ctx, ['GET', 'POST', 'PUT']);
    const replace = ctx.method === 'PUT';
    if (this.opts.sink) return this.sink(ctx, id);
    const ds = this.writable(ctx, id);
    const ct = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (ct !== '' && ct !== 'text/csv' && ct !== 'application/json') {
      throw sodaError(415, 'req.content-type.not-json', `Content-Type should be application/json or text/csv, got ${ct}`, { 'content-type': ct });
    }
    // No Content-Type (the popular Python client's JSON posts): real portals accept the body; it is sniffed.
    const sniffed = ct === '' ? await ctx.readBody() : undefined;
    const isCsv = ct === 'text/csv' || (sniffed !== undefined && sniffBody(sniffed) === 'csv');
    const opts = { requestId: ctx.requestId, source: 'resource' };
    let result: UpsertResult;
    if (isCsv) {
      const text = (sniffed ?? (await ctx.readBody())).toString('utf8');
      result = replace ? ctx.store.replaceCsv(ds.id, text, opts) : ctx.store.upsertCsv(ds.id, text, opts);
    } else {
      const body = sniffed ? jsonFromBytes(sniffed) : await ctx.readJson();
      if (Array.isArray(body)) {
        result = replace ? ctx.store.replaceRows(ds.id, body, opts) : ctx.store.upsertRows(ds.id, body, opts);
      } else if (!replace && body !== null && typeof body === 'object') {
        // A single object: soda-fountain answers with the resulting row.
        ctx.store.upsertRows(ds.id, [body], opts);
        const key = ds.rowIdentifier ? (body as Record<string, unknown>)[ds.rowIdentifier] : (body as Record<string, unknown>)[':id'];
        const row = typeof key === 'string' || typeof key === 'number' ? ctx.store.findRow(ds.id, String(key)) : lastRow(ctx.store, ds.id);
        ctx.sendJson(200, row ? rowWithMeta(ds, row) : {});
        return;
      } else {
        throw sodaError(400, 'req.content.json.invalid', replace ? 'Body must be a JSON array' : 'Body must be a JSON array or object', {
          expected: replace ? 'array' : 'array, object',
        });
      }
    }
    ctx.sendJson(200, result);
  }

  private async sink(ctx: EmulatorContext, id: string): Promise<void> {
    if (!ctx.user) throw coreError(403, 'authentication_required', 'You must be logged in to access this resource');
    if (!isFourByFour(id)) throw coreError(404, 'dataset.missing', 'Not found', { id });
    const buf = await ctx.readBody();
    const ct = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    let rows = 0;
    if (ct === 'text/csv' || (ct === '' && sniffBody(buf) === 'csv')) {
      const parsed: unknown = parseCsv(buf, { bom: true, skip_empty_lines: true });
      rows = Math.max(0, (parsed as unknown[]).length - 1);
    } else {
      // Checked for well-formedness and counted in one pass over the bytes; nothing is decoded or built.
      const scan = scanJson(buf);
      if (!scan.ok) {
        throw sodaError(400, 'req.body.malformed-json', `Malformed JSON at line ${scan.line}, column ${scan.column}`, { row: scan.line, column: scan.column });
      }
      rows = scan.topLevel === 'array' ? scan.elements : 1;
    }
    const c = ctx.store.sinkCounters;
    c.requests++;
    c.rows += rows;
    c.bytes += buf.length;
    ctx.sendJson(200, { 'By RowIdentifier': 0, 'Rows Updated': 0, 'Rows Deleted': 0, 'By SID': 0, 'Rows Created': rows, Errors: 0 });
  }

  private read(ctx: EmulatorContext, id: string, ext: 'json' | 'csv'): void {
    const ds = this.readable(ctx, id);
    const sp = ctx.url.searchParams;
    const params: QueryParams = { filters: [] };
    const soql = ['select', 'where', 'order', 'group', 'having', 'limit', 'offset', 'q', 'query'] as const;
    for (const [k, v] of sp) {
      if (k.startsWith('$$')) continue;
      if (k.startsWith('$')) {
        const name = k.slice(1) as (typeof soql)[number];
        if (!(soql as readonly string[]).includes(name)) throw sodaError(400, 'req.bad-parameter', `Unrecognized parameter ${k}`, { parameter: k, value: v });
        if (params[name] !== undefined) throw sodaError(400, 'req.bad-parameter', `Parameter ${k} given more than once`, { parameter: k, value: v });
        params[name] = v;
      } else params.filters.push([k, v]);
    }
    if (params.query !== undefined && (soql.some((n) => n !== 'query' && params[n] !== undefined) || params.filters.length)) {
      throw sodaError(400, 'req.bad-parameter', '$query cannot be combined with other SoQL parameters', { parameter: '$query', value: params.query });
    }
    const lastModified = new Date(Math.max(ds.rowsUpdatedAt, ds.viewLastModified) * 1000).toUTCString();
    const etag = `"${ds.id}-${ds.dataVersion}-${createHash('sha1').update(`${ext}?${ctx.url.search}`).digest('hex').slice(0, 16)}"`;
    const inm = ctx.req.headers['if-none-match'];
    const ims = ctx.req.headers['if-modified-since'];
    if (
      (inm !== undefined &&
        inm
          .split(',')
          .map((s) => s.trim().replace(/^W\//, ''))
          .includes(etag)) ||
      (inm === undefined && ims !== undefined && Date.parse(ims) >= Date.parse(lastModified))
    ) {
      if (!ctx.res.headersSent) {
        ctx.res.writeHead(304, { ETag: etag, 'Last-Modified': lastModified });
        ctx.res.end();
      }
      return;
    }
    const result = runQuery(ds.id, ds.columns, ctx.store.iterateRows(ds.id), params, () => ctx.store.rowCount(ds.id));
    const headers: Record<string, string> = { ETag: etag, 'Last-Modified': lastModified, 'X-SODA2-Row-Count': String(result.rows.length) };
    const fields = JSON.stringify(result.fields);
    const types = JSON.stringify(result.types);
    if (fields.length + types.length > 5000) {
      headers['X-SODA2-Warning'] = 'X-SODA2-Fields and X-SODA2-Types are deprecated and have been suppressed for being too large';
    } else {
      headers['X-SODA2-Fields'] = fields;
      headers['X-SODA2-Types'] = types;
    }
    if (ext === 'json') {
      ctx.sendRaw(200, JSON.stringify(result.rows), 'application/json; charset=utf-8', headers);
      return;
    }
    const lines: string[] = [result.fields.map(csvCell).join(',')];
    for (const r of result.rows) {
      lines.push(
        result.fields
          .map((f) => {
            const t = toCsvText(r[f]);
            return t === undefined ? '' : csvCell(t);
          })
          .join(','),
      );
    }
    const bom = sp.get('$$bom') === 'true' ? '\ufeff' : '';
    ctx.sendRaw(200, `${bom}${lines.join('\n')}\n`, 'text/csv; charset=utf-8', headers);
  }

  private async singleRow(ctx: EmulatorContext, id: string, rowId: string): Promise<void> {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      const ds = this.readable(ctx, id);
      const row = ctx.store.findRow(ds.id, rowId);
      if (!row) throw sodaError(404, 'soda.row.not-found', `Row with identifier ${rowId} was not found`, { value: rowId });
      ctx.sendJson(200, rowJson(ds, row));
      return;
    }
    if (ctx.method === 'DELETE') {
      const ds = this.writable(ctx, id, 'delete');
      const r = ctx.store.deleteRows(ds.id, [rowId], { requestId: ctx.requestId, source: 'resource' });
      if (r['Rows Deleted'] === 0) throw sodaError(404, 'soda.row.not-found', `Row with identifier ${rowId} was not found`, { value: rowId });
      ctx.sendJson(200, [{ typ: 'delete', id: rowId }]);
      return;
    }
    if (ctx.method === 'POST') {
      const ds = this.writable(ctx, id);
      const body = await ctx.readJson();
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        throw sodaError(400, 'soda.row.upsert-row-not-an-object', 'Row is not parseable as a json object', { value: body });
      }
      const obj = { ...(body as Record<string, unknown>) };
      const existing = ctx.store.findRow(ds.id, rowId);
      if (ds.rowIdentifier) {
        if (obj[ds.rowIdentifier] === undefined) obj[ds.rowIdentifier] = existing && existing.id === rowId ? existing.v[ds.rowIdentifier] : rowId;
      } else {
        if (!existing) throw sodaError(404, 'soda.row.not-found', `Row with identifier ${rowId} was not found`, { value: rowId });
        obj[':id'] = existing.id;
      }
      ctx.store.upsertRows(ds.id, [obj], { requestId: ctx.requestId, source: 'resource' });
      const key = ds.rowIdentifier ? obj[ds.rowIdentifier] : existing?.id;
      const row = ctx.store.findRow(ds.id, typeof key === 'string' ? key : JSON.stringify(key));
      ctx.sendJson(200, row ? rowWithMeta(ds, row) : {});
      return;
    }
    throw methodNotAllowed(ctx, ['GET', 'POST', 'DELETE']);
  }
}

// -------------------------------------------------------------------- helpers

function mustWrite(ctx: EmulatorContext, ds: Dataset, right: string): void {
  if (!ctx.user) throw coreError(403, 'authentication_required', 'You must be logged in to access this resource');
  if (!datasetRights(ds, ctx.user).includes(right)) {
    throw coreError(403, 'permission_denied', missingRightMessage(ds, right), { id: ds.id, right });
  }
}

/**
 * The type of a body sent without Content-Type: JSON when its first byte after a UTF-8 BOM and whitespace is `[` or
 * `{`, else CSV (an empty body counts as JSON, so it gets the JSON error).
 */
export function sniffBody(buf: Buffer): 'json' | 'csv' {
  let i = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0a || buf[i] === 0x0d)) i++;
  if (i === buf.length) return 'json';
  return buf[i] === 0x5b || buf[i] === 0x7b ? 'json' : 'csv';
}

/** JSON.parse of a body already read, with the same 400 `req.body.malformed-json` answer as `readJson`. */
function jsonFromBytes(buf: Buffer): unknown {
  const bytes = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? buf.subarray(3) : buf;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (e) {
    const scan = scanJson(bytes);
    const { line, column, detail } = scan.ok ? { line: 1, column: 1, detail: (e as Error).message } : { ...scan, detail: scan.message };
    throw sodaError(400, 'req.body.malformed-json', `Malformed JSON at line ${line}, column ${column}: ${detail}`, { row: line, column });
  }
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

function methodNotAllowed(ctx: EmulatorContext, allowed: string[]): EmulatorHttpError {
  return sodaError(405, 'method-not-allowed', `Method ${ctx.method} is not allowed here`, { method: ctx.method, allowed });
}

function userJson(u: User, self: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = { id: u.id, screenName: u.screenName, displayName: u.displayName, roleName: u.roleName, rights: u.rights, flags: [] };
  if (self) o.email = u.email;
  return o;
}

function viewJson(ctx: EmulatorContext, ds: Dataset): Record<string, unknown> {
  const owner = ctx.store.getUser(ds.owner);
  const ownerJson = owner ? userJson(owner, false) : { id: ds.owner };
  const rid = ds.columns.find((c) => c.fieldName === ds.rowIdentifier);
  const view: Record<string, unknown> = {
    id: ds.id,
    name: ds.name,
    description: ds.description,
    category: ds.category,
    tags: ds.tags,
    attribution: ds.attribution,
    averageRating: 0,
    createdAt: ds.createdAt,
    displayType: 'table',
    downloadCount: 0,
    hideFromCatalog: false,
    hideFromDataJson: false,
    indexUpdatedAt: ds.rowsUpdatedAt,
    licenseId: null,
    newBackend: true,
    numberOfComments: 0,
    oid: 1,
    provenance: ds.provenance,
    publicationAppendEnabled: false,
    publicationDate: ds.createdAt,
    publicationGroup: 1,
    publicationStage: ds.publicationStage,
    rowsUpdatedAt: ds.rowsUpdatedAt,
    rowsUpdatedBy: ds.rowsUpdatedBy,
    tableId: 1,
    totalTimesRated: 0,
    viewCount: 0,
    viewLastModified: ds.viewLastModified,
    viewType: 'tabular',
    columns: ds.columns.map((c) => ({
      id: c.id,
      name: c.name,
      dataTypeName: c.dataTypeName,
      description: c.description,
      fieldName: c.fieldName,
      position: c.position,
      renderTypeName: c.dataTypeName,
      tableColumnId: c.id,
      format: {},
    })),
    grants: [
      ...(ds.isPublic ? [{ inherited: false, type: 'viewer', flags: ['public'] }] : []),
      ...(ds.grants ?? []).map((g) => ({ inherited: false, type: g.type, userId: g.userId, userEmail: ctx.store.getUser(g.userId)?.email, flags: [] })),
    ],
    metadata: { availableDisplayTypes: ['table', 'fatrow', 'page'], ...(rid ? { rowIdentifier: rid.id } : {}) },
    owner: ownerJson,
    rights: [...datasetRights(ds, ctx.user)],
    tableAuthor: ownerJson,
    flags: ['default', 'restorable', 'restorePossibleForType'],
  };
  if (rid) view.rowIdentifierColumnId = rid.id;
  decorateView(ds, view, datasetRights(ds, ctx.user).includes('write'));
  return view;
}

function rowJson(ds: Dataset, row: Row): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of ds.columns) {
    const v = row.v[c.fieldName];
    if (v !== undefined) o[c.fieldName] = soqlTypeOf(c.dataTypeName) === 'double' && typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
  }
  return o;
}

function rowWithMeta(ds: Dataset, row: Row): Record<string, unknown> {
  return { ':id': row.id, ':created_at': new Date(row.createdAt).toISOString(), ':updated_at': new Date(row.updatedAt).toISOString(), ...rowJson(ds, row) };
}

function lastRow(store: EmulatorStore, id: string): Row | undefined {
  let last: Row | undefined;
  for (const r of store.iterateRows(id)) last = r;
  return last;
}

function csvCell(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Reads a request body (streaming), calling `tooLarge` and rejecting once it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number, tooLarge: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      tooLarge();
      req.resume();
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        tooLarge();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

export { DEFAULT_BODY_LIMIT };
