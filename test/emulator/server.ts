/**
 * The emulator's HTTP layer (node:http): request ids, authentication, app tokens, fault injection, routing
 * to the SODA routes (`access.ts`, `catalog.ts`, `resource.ts`, `soda3.ts`) and to the mounted DSMAPI and OAuth modules.
 *
 * Over 400 lines: one class, the request's way from the socket to a route (faults, authentication, body limits and
 * the test-control paths), which reads best in one place.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { currentUser, readable } from './access';
import { catalog } from './catalog';
import { BadRequestError, BodyTooLargeError, DEFAULT_BODY_LIMIT, type EmulatorContext } from './context';
import { handlePublishing } from './dsmapi/index';
import { EmulatorHttpError, coreError } from './errors';
import { FaultInjector, parseFaultSpec, type FaultDecision } from './faults';
import { scanJson } from './jsonscan';
import { handleDomainMetadata } from './metadata';
import { handleOAuth } from './oauth';
import { servePage } from './pages';
import { resource, singleRow, view } from './resource';
import { handleSoda3, SODA3_PATH } from './soda3';
import type { EmulatorStore, User } from './store';

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
    if (p === '/api/users/current.json' || p === '/api/users/current') return currentUser(ctx);
    if (p === '/api/catalog/v1' || p === '/api/catalog/v1/') return catalog(ctx);
    const v3 = this.soda === 2 ? null : SODA3_PATH.exec(p);
    if (v3?.[1] && v3[2]) return handleSoda3(ctx, v3[1], v3[2] as 'query.json' | 'export.csv', (id) => readable(ctx, id));
    let m = /^\/api\/views\/([^/]+?)(?:\.json)?$/.exec(p);
    if (m?.[1]) return view(ctx, m[1]);
    m = /^\/(?:resource|api\/id)\/([^/]+?)\.(json|csv)$/.exec(p) ?? /^\/(?:resource|api\/id)\/([^/.]+)()$/.exec(p);
    if (m?.[1]) return resource(ctx, m[1], m[2] === 'csv' ? 'csv' : 'json', this.opts.sink);
    m = /^\/(?:resource|api\/id)\/([^/]+)\/([^/]+?)(?:\.json)?$/.exec(p);
    if (m?.[1] && m[2]) return singleRow(ctx, m[1], decodeURIComponent(m[2]));
    if (servePage(ctx)) return;
    ctx.sendCoreError(404, 'not-found', `Path not found: ${p}`, { path: p });
  }
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
