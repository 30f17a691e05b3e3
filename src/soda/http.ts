// The one HTTP gateway every Socrata call goes through (SODA endpoints, DSMAPI, publishing).
//
// - One undici dispatcher per gateway: a keep-alive pool per origin, optionally through a proxy
//   (explicit URL, or HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment, upper or lower case).
// - Requests go only to the gateway's own origin; URLs are built with URL APIs from a validated domain.
//   Redirects are never followed to another origin (credentials would leak); same-origin redirects of
//   GET/HEAD are followed up to 3 times.
// - Plain http only to loopback hosts, checked again here before anything is dispatched.
// - X-Socrata-RequestId: one 32-hex-character id per logical operation, sent unchanged on every retry of
//   that operation (support can group the attempts; our log events carry the attempt number).
// - Retries follow `RetryPolicy`; see `request()` for which failures are retried for which requests.
// - The log hook sees redacted headers (Authorization, Proxy-Authorization, X-App-Token, cookies) and
//   URLs with `$$app_token` removed.
import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { type Dispatcher, request as undiciRequest } from 'undici';
import { version as packageVersion } from '../../package.json';
import { parseDomain, type SodaDomain } from './domain';
import { errorFromResponse, failedBeforeSending, networkError, outcomeText, SodaError, type SodaOutcome, snippet } from './errors';
import { createNetwork, explainNetworkError, isPermanentNetworkError, type ProxySettings, type TlsSettings } from './network';
import { backoffDelay, type Clock, parseRetryAfter, resolvePolicy, type RetryPolicy, systemClock } from './retry';

/** How requests authenticate. API keys and email/password both travel as HTTP Basic. */
export type SodaAuth =
  | { type: 'none' }
  | { type: 'basic'; email: string; password: string }
  | { type: 'apiKey'; keyId: string; keySecret: string }
  | { type: 'oauth'; accessToken: string };

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request body. A function is called once per attempt and makes a streaming body repeatable. */
export type BodySource = string | Uint8Array | Readable | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
export type RequestBody = BodySource | (() => BodySource);

export type QueryValue = string | number | boolean | undefined | null | readonly (string | number | boolean)[];

export interface HttpLogEvent {
  phase: 'request' | 'response' | 'retry' | 'error';
  operationId: string;
  attempt: number;
  method: HttpMethod;
  /** With `$$app_token` and other secret-looking query parameters redacted. */
  url: string;
  /** Request headers (phase 'request') with secrets redacted. */
  headers?: Record<string, string>;
  status?: number;
  /** Milliseconds since the attempt started. */
  durationMs?: number;
  /** Wait before the next attempt (phase 'retry'). */
  delayMs?: number;
  /** Error message (phases 'retry' and 'error'). */
  error?: string;
  /** Phase 'error': the portal refused the credentials sent (a 401, or its 403 "You must be logged in"). */
  credentialsRejected?: boolean;
}

export interface Timeouts {
  /** TCP + TLS connect. Default 15 000. */
  connectMs: number;
  /** From sending to receiving the response headers. Default 300 000 (big upserts take a while). */
  headersMs: number;
  /** Longest silence while receiving the body. Default 120 000. */
  bodyMs: number;
  /**
   * Longest time for one attempt of a request whose answer is read whole (not `expect: 'stream'`), from sending to
   * the last byte, unless the request gives its own `timeoutMs`. A server that trickles bytes just often enough to
   * beat `bodyMs` (slowloris) is cut off here. Default 900 000 (15 minutes).
   */
  totalMs: number;
}

export interface GatewayOptions {
  /** What the user typed, or a domain from `parseDomain()`. */
  domain: string | SodaDomain;
  auth?: SodaAuth;
  appToken?: string;
  /** Who is calling, for the User-Agent: `socrata-publisher/<version> (<product>)`. Default 'cli'. */
  product?: 'vscode-extension' | 'cli';
  /** Product version for the User-Agent. Default: this package's version. */
  version?: string;
  /**
   * An explicit proxy (e.g. VS Code's `http.proxy`), used for http and https; `noProxy` lists hosts that
   * bypass it (comma separated, NO_PROXY syntax; default none). Without it, HTTPS_PROXY / HTTP_PROXY /
   * NO_PROXY (either case) from the environment apply. See network.ts.
   */
  proxy?: ProxySettings;
  /** Extra certificate authorities (files, the OS store); NODE_EXTRA_CA_CERTS always applies. See network.ts. */
  tls?: TlsSettings;
  /** Use this undici dispatcher instead of creating one (the gateway will not close it). */
  dispatcher?: Dispatcher;
  timeouts?: Partial<Timeouts>;
  retry?: Partial<RetryPolicy>;
  /** Cap for JSON and text bodies read into memory. Default 64 MiB. */
  maxBodyBytes?: number;
  onLog?: (event: HttpLogEvent) => void;
  /** For tests: time and sleeping, and the random source for jitter. */
  clock?: Clock;
  random?: () => number;
}

export interface RequestOptions {
  method: HttpMethod;
  /** Absolute path on the domain, built from validated parts (e.g. `/resource/abcd-1234.json`). */
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Serialised as JSON with `Content-Type: application/json` (instead of `body`). */
  json?: unknown;
  contentType?: string;
  /** How to read a successful response. Default 'json'. */
  expect?: 'json' | 'text' | 'stream' | 'none';
  /**
   * Whether repeating the request cannot change the result (GET, replace, upsert keyed by a row
   * identifier). Default: true for GET and HEAD only. Unsafe requests are retried only when the failure
   * proves nothing was applied (429, connection refused/DNS/TLS failure before sending); after a 5xx or a
   * network failure once the request was sent they fail with `outcome: 'unknown'`.
   */
  safeToRepeat?: boolean;
  /** Override the gateway's retry policy for this call; `false` = one attempt. */
  retry?: Partial<RetryPolicy> | false;
  signal?: AbortSignal;
  /** Limit per attempt, from dispatch until the body is read (until headers for 'stream'). */
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** Extra statuses (besides 2xx) returned as success instead of thrown, e.g. 202 or 304 are already 2xx/3xx. */
  acceptStatus?: readonly number[];
  /** Reuse an operation id (X-Socrata-RequestId) across several calls of one logical operation. */
  operationId?: string;
  /** A read sent with POST (SODA3 query and export): a 202 is waited out and asked again, as for GET. */
  read?: boolean;
}

export interface SodaResponse<T> {
  status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: T;
  /** The X-Socrata-RequestId we sent. */
  operationId: string;
  /** The X-Socrata-RequestId the server answered with, if any. */
  serverRequestId: string | undefined;
  attempts: number;
}

const MiB = 1024 * 1024;
const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 15_000, headersMs: 300_000, bodyMs: 120_000, totalMs: 900_000 };
const ERROR_BODY_CAP = MiB;
const MAX_REDIRECTS = 3;
/** Most 202 (still processing) answers waited out for one request; the policy's maxElapsedMs also bounds them. */
const MAX_PROCESSING_POLLS = 30;

export function newOperationId(): string {
  return randomBytes(16).toString('hex');
}

function checkHeaderValue(value: string, field: string): void {
  if (/[\r\n\0]/.test(value)) {
    throw new SodaError({ kind: 'invalid-input', message: `The ${field} contains a line break or NUL character.`, field });
  }
}

/** The Authorization header for `auth`, or undefined. Validates the parts. */
export function authorizationHeader(auth: SodaAuth | undefined): string | undefined {
  if (!auth || auth.type === 'none') return undefined;
  if (auth.type === 'oauth') {
    if (!auth.accessToken) throw new SodaError({ kind: 'invalid-input', message: 'The OAuth access token is empty.', field: 'accessToken' });
    checkHeaderValue(auth.accessToken, 'OAuth access token');
    return `OAuth ${auth.accessToken}`;
  }
  const [user, secret, userField, secretField] =
    auth.type === 'basic' ? [auth.email, auth.password, 'email', 'password'] : [auth.keyId, auth.keySecret, 'API key id', 'API key secret'];
  if (!user) throw new SodaError({ kind: 'invalid-input', message: `The ${userField} is empty.`, field: userField });
  if (!secret) throw new SodaError({ kind: 'invalid-input', message: `The ${secretField} is empty.`, field: secretField });
  if (user.includes(':')) {
    throw new SodaError({ kind: 'invalid-input', message: `The ${userField} must not contain ":" (HTTP Basic cannot carry it).`, field: userField });
  }
  return `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-app-token', 'cookie', 'set-cookie']);
const SECRET_QUERY = /^(\$\$app_token|app_token|access_token|token|password|secret|key_secret|client_secret|code)$/i;

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!SECRET_HEADERS.has(k.toLowerCase())) out[k] = v;
    else if (/^(Basic|OAuth|Bearer) /i.test(v)) out[k] = `${v.split(' ')[0]} [redacted]`;
    else out[k] = '[redacted]';
  }
  return out;
}

export function redactUrl(url: URL | string): string {
  const u = new URL(url.toString());
  u.username = '';
  u.password = '';
  for (const key of [...new Set(u.searchParams.keys())]) {
    if (SECRET_QUERY.test(key)) u.searchParams.set(key, '[redacted]');
  }
  return u.toString();
}

function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function isReplayable(body: RequestBody | undefined): boolean {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array || typeof body === 'function';
}

function toUndiciBody(body: BodySource): string | Uint8Array | Readable {
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof Readable) return body;
  return Readable.from(body as AsyncIterable<Uint8Array | string>, { objectMode: false });
}

class BodyTooLarge extends Error {}

async function readCapped(body: AsyncIterable<Buffer> & { destroy?(e?: Error): void }, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > cap) {
      body.destroy?.();
      throw new BodyTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function cappedStream(source: Readable, cap: number, host: string, requestId: string): Readable {
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > cap) {
        cb(
          new SodaError({
            kind: 'protocol',
            message: `The response from ${host} is larger than the ${formatBytes(cap)} limit; the download was stopped.`,
            requestId,
            host,
          }),
        );
        return;
      }
      cb(null, chunk);
    },
  });
  source.on('error', (e) => t.destroy(e));
  t.on('close', () => source.destroy());
  return source.pipe(t);
}

function secretValues(auth: SodaAuth | undefined, authHeader: string | undefined, appToken: string | undefined): string[] {
  const out: (string | undefined)[] = [appToken];
  if (authHeader) out.push(authHeader.slice(authHeader.indexOf(' ') + 1));
  if (auth?.type === 'basic') out.push(auth.password);
  else if (auth?.type === 'apiKey') out.push(auth.keySecret);
  else if (auth?.type === 'oauth') out.push(auth.accessToken);
  // Very short values would mangle ordinary words; longest first so that a secret inside another goes with it.
  return [...new Set(out.filter((v): v is string => typeof v === 'string' && v.length >= 4))].sort((a, b) => b.length - a.length);
}

function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
  return out;
}

function scrubError(e: SodaError, secrets: readonly string[]): SodaError {
  if (secrets.length === 0) return e;
  const data = e.data === undefined ? undefined : JSON.stringify(e.data);
  const texts = [e.message, e.serverMessage ?? '', data ?? ''];
  if (!texts.some((t) => secrets.some((s) => t.includes(s)))) return e;
  return e.with({
    message: scrubText(e.message, secrets),
    serverMessage: e.serverMessage === undefined ? undefined : scrubText(e.serverMessage, secrets),
    data: data === undefined ? undefined : (JSON.parse(scrubText(data, secrets)) as unknown),
  });
}

export function formatBytes(n: number): string {
  if (n >= MiB) return `${Math.round((n / MiB) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KB`;
  return `${n} bytes`;
}

function isWrite(method: HttpMethod): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** The HTTP gateway. Create one per domain + credentials; `close()` it when done. */
export class SodaHttp {
  readonly domain: SodaDomain;
  readonly userAgent: string;
  private readonly authHeader: string | undefined;
  private readonly appToken: string | undefined;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeouts: Timeouts;
  private readonly policy: RetryPolicy;
  private readonly maxBodyBytes: number;
  private readonly onLog: ((event: HttpLogEvent) => void) | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;
  /** The credential values (and their Basic encoding) scrubbed from anything a server echoes into an error. */
  private secrets: string[];
  private readonly product: 'vscode-extension' | 'cli';

  /** Whether requests carry credentials or an application token (SODA3 refuses requests with neither). */
  get identified(): boolean {
    return this.authHeader !== undefined || this.appToken !== undefined;
  }

  constructor(options: GatewayOptions) {
    // Re-validate even a pre-parsed domain: this is the last line before credentials go on the wire.
    this.domain = parseDomain(typeof options.domain === 'string' ? options.domain : options.domain.origin);
    this.authHeader = authorizationHeader(options.auth);
    if (options.appToken !== undefined && options.appToken !== '') checkHeaderValue(options.appToken, 'app token');
    this.appToken = options.appToken || undefined;
    this.secrets = secretValues(options.auth, this.authHeader, this.appToken);
    this.product = options.product ?? 'cli';
    const version = options.version ?? packageVersion;
    this.userAgent = `socrata-publisher/${version} (${options.product ?? 'cli'})`;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.policy = resolvePolicy(options.retry);
    this.maxBodyBytes = options.maxBodyBytes ?? 64 * MiB;
    this.onLog = options.onLog;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    if (options.dispatcher) {
      this.dispatcher = options.dispatcher;
      this.ownsDispatcher = false;
    } else {
      const network = createNetwork(
        { connectTimeoutMs: this.timeouts.connectMs, ...(options.proxy ? { proxy: options.proxy } : {}), ...(options.tls ? { tls: options.tls } : {}) },
        this.product,
      );
      this.dispatcher = network.dispatcher;
      this.secrets = [...new Set([...this.secrets, ...network.secrets])].sort((a, b) => b.length - a.length);
      this.ownsDispatcher = true;
    }
  }

  /** Closes the connection pool (only if this gateway created it). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /** Builds the request URL on this gateway's origin. Throws invalid-input for anything that would leave it. */
  url(path: string, query?: Record<string, QueryValue>): URL {
    if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\') || /(^|\/)\.\.?(\/|$)/.test(path) || /%2e/i.test(path) || /[\s?#]/.test(path)) {
      throw new SodaError({ kind: 'invalid-input', message: `Refusing to build a request for the path "${snippet(path, 80)}".`, field: 'path' });
    }
    const url = new URL(path, this.domain.origin);
    if (url.origin !== this.domain.origin) {
      throw new SodaError({ kind: 'invalid-input', message: `Refusing a path that leaves ${this.domain.host}.`, field: 'path' });
    }
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) for (const v of value as readonly (string | number | boolean)[]) url.searchParams.append(key, String(v));
      else url.searchParams.append(key, String(value));
    }
    return url;
  }

  request(options: RequestOptions & { expect: 'stream' }): Promise<SodaResponse<Readable>>;
  request(options: RequestOptions & { expect: 'text' }): Promise<SodaResponse<string>>;
  request(options: RequestOptions & { expect: 'none' }): Promise<SodaResponse<undefined>>;
  request<T = unknown>(options: RequestOptions): Promise<SodaResponse<T>>;
  async request(options: RequestOptions): Promise<SodaResponse<unknown>> {
    const method = options.method;
    // A read sent with POST (SODA3) changes nothing: its failures never say whether a change was applied.
    const changesData = isWrite(method) && options.read !== true;
    const operationId = options.operationId ?? newOperationId();
    const url = this.url(options.path, options.query);
    // Defence in depth: the domain was validated, but nothing goes out over http unless the host is loopback.
    if (url.protocol !== 'https:' && !this.domain.loopback) {
      throw new SodaError({ kind: 'invalid-input', message: `Refusing to send a request to ${url.host} over plain http.`, field: 'domain' });
    }
    let body: RequestBody | undefined = options.body;
    let contentType = options.contentType;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      contentType ??= 'application/json';
    }
    const expect = options.expect ?? 'json';
    const safe = options.safeToRepeat ?? !isWrite(method);
    const replayable = isReplayable(body);
    const policy = options.retry === false ? resolvePolicy(this.policy, { maxAttempts: 1 }) : resolvePolicy(this.policy, options.retry);
    const maxAttempts = replayable ? policy.maxAttempts : 1;
    const cap = options.maxBodyBytes ?? this.maxBodyBytes;
    const started = this.clock.now();

    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      accept: expect === 'json' ? 'application/json' : '*/*',
      'x-socrata-requestid': operationId,
    };
    for (const [k, v] of Object.entries(options.headers ?? {})) {
      const key = k.toLowerCase();
      if (key === 'authorization' || key === 'host' || key === 'x-app-token') continue; // owned by the gateway
      checkHeaderValue(v, `header ${k}`);
      headers[key] = v;
    }
    if (this.appToken) headers['x-app-token'] = this.appToken;
    if (this.authHeader) headers.authorization = this.authHeader;
    if (contentType !== undefined && body !== undefined) headers['content-type'] = contentType;

    let attempt = 0;
    let redirects = 0;
    /** 202 answers received so far (each one is waited out and asked again). */
    let processing = 0;
    let target = url;
    for (;;) {
      attempt++;
      const attemptStart = this.clock.now();
      const log = (e: Omit<HttpLogEvent, 'operationId' | 'attempt' | 'method' | 'url'>): void => {
        if (!this.onLog) return;
        try {
          this.onLog({ operationId, attempt, method, url: redactUrl(target), ...e });
        } catch {
          // A failing log hook must not break the request.
        }
      };
      if (options.signal?.aborted) throw this.cancelled(method, operationId, attempt > 1 ? 'unknown' : 'not-applied', attempt - 1);

      let failure: SodaError;
      let retryable: boolean;
      let retryAfterMs: number | undefined;
      const controller = new AbortController();
      let timedOut = false;
      const limitMs = options.timeoutMs ?? (expect === 'stream' ? undefined : this.timeouts.totalMs);
      const timer =
        limitMs !== undefined
          ? setTimeout(() => {
              timedOut = true;
              controller.abort();
            }, limitMs)
          : undefined;
      const onCallerAbort = (): void => controller.abort();
      options.signal?.addEventListener('abort', onCallerAbort, { once: true });
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onCallerAbort);
      };
      let streaming = false;
      try {
        log({ phase: 'request', headers: redactHeaders(headers) });
        const source = typeof body === 'function' ? body() : body;
        const res = await undiciRequest(target, {
          dispatcher: this.dispatcher,
          method,
          headers,
          body: source === undefined ? null : toUndiciBody(source),
          signal: controller.signal,
          headersTimeout: this.timeouts.headersMs,
          bodyTimeout: this.timeouts.bodyMs,
        });
        const status = res.statusCode;
        const resHeaders = headerRecord(res.headers);
        const serverRequestId = resHeaders['x-socrata-requestid'];
        log({ phase: 'response', status, durationMs: this.clock.now() - attemptStart });

        if (status === 202 && !changesData && !(options.acceptStatus?.includes(202) ?? false)) {
          // SODA's "202 Request Processing": retry, and when it is complete the answer is a 200 (dev.socrata.com's
          // response codes). The 202 body is never the answer: wait (Retry-After, else a growing pause) and ask again.
          await res.body.dump({ limit: ERROR_BODY_CAP }).catch(() => undefined);
          processing++;
          const wait = parseRetryAfter(resHeaders['retry-after'], Date.now()) ?? Math.min(policy.maxDelayMs, 1000 * 2 ** Math.min(processing - 1, 5));
          const elapsed = this.clock.now() - started;
          if (processing > MAX_PROCESSING_POLLS || elapsed + wait > policy.maxElapsedMs) {
            throw new SodaError({
              kind: 'server',
              status,
              message: `${this.domain.host} was still preparing the answer (202 Accepted) after ${Math.round(elapsed / 1000)} s and ${processing} tries; try again later.`,
              requestId: serverRequestId ?? operationId,
              host: this.domain.host,
              attempts: attempt,
            });
          }
          log({ phase: 'retry', status, delayMs: wait, error: 'the portal is still processing the request (202 Accepted)' });
          try {
            await this.clock.sleep(wait, options.signal);
          } catch {
            throw this.cancelled(method, operationId, 'not-applied', attempt);
          }
          continue;
        }

        const ok = (status >= 200 && status < 300) || status === 304 || (options.acceptStatus?.includes(status) ?? false);
        if (ok) {
          if (expect === 'stream') {
            streaming = true;
            // Keep the caller's signal linked so that it can still stop the download; drop only the time limit.
            if (timer) clearTimeout(timer);
            const stream = options.maxBodyBytes !== undefined ? cappedStream(res.body, cap, this.domain.host, operationId) : res.body;
            return { status, headers: resHeaders, body: stream, operationId, serverRequestId, attempts: attempt };
          }
          const declared = Number(resHeaders['content-length']);
          if (Number.isFinite(declared) && declared > cap) {
            await res.body.dump({ limit: 0 }).catch(() => undefined);
            throw new BodyTooLarge();
          }
          const buf = await readCapped(res.body, cap);
          if (expect === 'none') return { status, headers: resHeaders, body: undefined, operationId, serverRequestId, attempts: attempt };
          const text = buf.toString('utf8');
          if (expect === 'text') return { status, headers: resHeaders, body: text, operationId, serverRequestId, attempts: attempt };
          if (status === 204 || status === 304 || (text.trim() === '' && method === 'HEAD')) {
            return { status, headers: resHeaders, body: undefined, operationId, serverRequestId, attempts: attempt };
          }
          try {
            return { status, headers: resHeaders, body: JSON.parse(text) as unknown, operationId, serverRequestId, attempts: attempt };
          } catch {
            const type = resHeaders['content-type'] ?? 'no content type';
            throw new SodaError({
              kind: 'protocol',
              status,
              message: `${this.domain.host} answered ${status} with ${text.trim() === '' ? 'an empty body' : `something that is not JSON (${type}): "${snippet(text)}"`} where JSON was expected.${changesData ? ` ${outcomeText('unknown')}` : ''}`,
              requestId: serverRequestId ?? operationId,
              host: this.domain.host,
              outcome: changesData ? 'unknown' : undefined,
            });
          }
        }

        if (status >= 300 && status < 400) {
          const location = resHeaders.location;
          await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
          let next: URL | undefined;
          try {
            next = location !== undefined ? new URL(location, target) : undefined;
          } catch {
            next = undefined;
          }
          if (next === undefined) {
            throw new SodaError({
              kind: 'protocol',
              status,
              message: `${this.domain.host} answered with a redirect (${status}) without a usable Location.`,
              requestId: serverRequestId ?? operationId,
              host: this.domain.host,
            });
          }
          if (next.origin !== this.domain.origin) {
            throw new SodaError({
              kind: 'protocol',
              status,
              message: `${this.domain.host} redirected the request to another origin (${next.origin}); it was not followed, so credentials were not sent there. Check the domain setting.`,
              requestId: serverRequestId ?? operationId,
              host: this.domain.host,
              data: { location: next.origin },
              outcome: changesData ? 'not-applied' : undefined,
            });
          }
          if (isWrite(method) || redirects >= MAX_REDIRECTS) {
            throw new SodaError({
              kind: 'protocol',
              status,
              message: `${this.domain.host} redirected the request (${status}) to ${next.pathname}; ${isWrite(method) ? 'writes are not redirected' : 'too many redirects'}.`,
              requestId: serverRequestId ?? operationId,
              host: this.domain.host,
            });
          }
          redirects++;
          target = next;
          attempt--; // a followed redirect is not a retry
          continue;
        }

        // An HTTP error. Read a bounded amount of the body for the message.
        let errText = '';
        try {
          errText = (await readCapped(res.body, ERROR_BODY_CAP)).toString('utf8');
        } catch {
          errText = '';
        }
        retryAfterMs = parseRetryAfter(resHeaders['retry-after'], Date.now());
        const outcome: SodaOutcome | undefined = changesData ? (status >= 500 ? 'unknown' : 'not-applied') : undefined;
        failure = errorFromResponse({
          status,
          bodyText: errText,
          requestId: serverRequestId ?? operationId,
          retryAfterMs,
          host: this.domain.host,
          outcome,
          target: target.pathname,
          sentCredentials: this.authHeader !== undefined,
        });
        retryable = status === 429 || (safe && status >= 500 && status !== 501);
      } catch (e) {
        if (e instanceof SodaError) throw e;
        if (e instanceof BodyTooLarge) {
          throw new SodaError({
            kind: 'protocol',
            message: `The response from ${this.domain.host} is larger than the ${formatBytes(cap)} limit and was not read.`,
            requestId: operationId,
            host: this.domain.host,
            data: { limit: cap },
            outcome: changesData ? 'unknown' : undefined,
          });
        }
        if (options.signal?.aborted && !timedOut) throw this.cancelled(method, operationId, 'unknown', attempt);
        const neverSent = failedBeforeSending(e);
        const outcome: SodaOutcome | undefined = changesData ? (neverSent ? 'not-applied' : 'unknown') : undefined;
        const base = timedOut
          ? networkError(Object.assign(new Error('timeout'), { code: 'SODA_TIMEOUT' }), this.domain.host, { requestId: operationId, timeoutMs: limitMs })
          : explainNetworkError(networkError(e, this.domain.host, { requestId: operationId }), this.product, this.domain.host);
        failure = outcome ? base.with({ outcome, message: `${base.message} ${outcomeText(outcome)}` }) : base;
        retryable = (safe || neverSent) && !isPermanentNetworkError(e);
      } finally {
        if (!streaming) cleanup();
      }

      // A server may echo the Authorization header or a password in its error body: never pass that on to
      // messages, logs or the output channel.
      failure = scrubError(failure, this.secrets);

      // Decide whether to try again.
      const elapsed = this.clock.now() - started;
      const delay = retryAfterMs ?? backoffDelay(attempt, policy, this.random);
      const canRetry = retryable && attempt < maxAttempts && elapsed + delay <= policy.maxElapsedMs;
      if (!canRetry) {
        log({ phase: 'error', status: failure.status, error: failure.message, ...(failure.credentialsRejected ? { credentialsRejected: true } : {}) });
        if (attempt > 1) throw failure.with({ attempts: attempt, message: `${failure.message} (gave up after ${attempt} attempts)` });
        throw failure.with({ attempts: attempt });
      }
      log({ phase: 'retry', status: failure.status, delayMs: delay, error: failure.message });
      try {
        await this.clock.sleep(delay, options.signal);
      } catch {
        throw this.cancelled(method, operationId, failure.outcome ?? 'not-applied', attempt);
      }
    }
  }

  private cancelled(method: HttpMethod, operationId: string, outcome: SodaOutcome, attempts: number): SodaError {
    const write = isWrite(method);
    return new SodaError({
      kind: 'cancelled',
      message: `The request to ${this.domain.host} was cancelled.${write ? ` ${outcomeText(outcome)}` : ''}`,
      requestId: operationId,
      host: this.domain.host,
      outcome: write ? outcome : undefined,
      attempts,
    });
  }
}
