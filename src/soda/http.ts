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
// - Retries follow `RetryPolicy` (retry.ts); `failedAttempt()` says which failures may be retried for which requests.
// - The log hook sees redacted headers (Authorization, Proxy-Authorization, X-App-Token, cookies) and
//   URLs with `$$app_token` removed (httpRedact.ts).
//
// A request is a loop of attempts (`request()`), each one sent by `attempt()`, whose answer is one of: the response
// (`readAnswer()`), "ask again" (a 202 waited out by `waitProcessing()`, a same-origin redirect followed by
// `followRedirect()`), or a failure (`failedResponse()`, `failedAttempt()`) on which the policy decides (`retryOrThrow()`).
// Those steps stay in this one class: they share its private state (credentials, dispatcher, time-outs, log hook), which
// no other module should reach. The types are in httpTypes.ts, the bodies in httpBody.ts, redaction in httpRedact.ts
// and the waits in retry.ts.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type Dispatcher, request as undiciRequest } from 'undici';
import { version as packageVersion } from '../../package.json';
import { parseDomain, type SodaDomain } from './domain';
import { errorFromResponse } from './errorResponse';
import { failedBeforeSending, networkError, outcomeText, SodaError, type SodaOutcome, snippet } from './errors';
import { attemptBody, BodyTooLarge, cappedStream, formatBytes, headerRecord, isReplayable, readCapped } from './httpBody';
import { authorizationHeader, checkHeaderValue, mergeSecrets, redactHeaders, redactUrl, scrubError, secretValues } from './httpRedact';
import type { GatewayOptions, HttpLogEvent, HttpMethod, QueryValue, RequestBody, RequestOptions, SodaResponse, Timeouts } from './httpTypes';
import { createNetwork, explainNetworkError, isPermanentNetworkError } from './network';
import { type Clock, nextAttempt, parseRetryAfter, processingDelay, resolvePolicy, type RetryPolicy, systemClock } from './retry';

export type {
  BodySource,
  GatewayOptions,
  HttpLogEvent,
  HttpMethod,
  QueryValue,
  RequestBody,
  RequestOptions,
  SodaAuth,
  SodaResponse,
  Timeouts,
} from './httpTypes';
export { authorizationHeader, redactHeaders, redactUrl } from './httpRedact';
export { formatBytes } from './httpBody';

const MiB = 1024 * 1024;
const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 15_000, headersMs: 300_000, bodyMs: 120_000, totalMs: 900_000 };
const ERROR_BODY_CAP = MiB;
const MAX_REDIRECTS = 3;
/** Most 202 (still processing) answers waited out for one request; the policy's maxElapsedMs also bounds them. */
const MAX_PROCESSING_POLLS = 30;

export function newOperationId(): string {
  return randomBytes(16).toString('hex');
}

function isWrite(method: HttpMethod): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** What a request is, worked out once before its first attempt. */
interface Prepared {
  readonly options: RequestOptions;
  readonly method: HttpMethod;
  readonly operationId: string;
  readonly url: URL;
  /** A write that may change data (not a read sent with POST): its failures say whether anything was applied. */
  readonly changesData: boolean;
  readonly headers: Record<string, string>;
  readonly body: RequestBody | undefined;
  readonly expect: 'json' | 'text' | 'stream' | 'none';
  /** Whether repeating the request cannot change the result. */
  readonly safe: boolean;
  readonly policy: RetryPolicy;
  readonly maxAttempts: number;
  /** Cap for a body read into memory. */
  readonly cap: number;
  readonly started: number;
}

/** Where a request is between its attempts. */
interface Progress {
  attempt: number;
  redirects: number;
  /** 202 answers received so far (each one is waited out and asked again). */
  processing: number;
  target: URL;
}

/** A response whose status and headers have arrived, its body not yet read. */
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly serverRequestId: string | undefined;
  readonly body: Readable & { dump(options?: { limit: number }): Promise<void> };
}

/** How one attempt ended. */
type AttemptResult =
  | { readonly kind: 'response'; readonly response: SodaResponse<unknown> }
  /** A 202 waited out or a same-origin redirect followed: send again without counting a failure. */
  | { readonly kind: 'again' }
  | { readonly kind: 'failed'; readonly failure: SodaError; readonly retryable: boolean; readonly retryAfterMs?: number };

const AGAIN: AttemptResult = { kind: 'again' };

/** One attempt's abort signal: the caller's signal or the attempt's time limit, whichever comes first. */
class AttemptSignal {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout> | undefined;
  private readonly caller: AbortSignal | undefined;
  private readonly onCallerAbort = (): void => this.controller.abort();
  /** Whether the time limit, not the caller, stopped the attempt. */
  timedOut = false;

  constructor(limitMs: number | undefined, caller: AbortSignal | undefined) {
    this.caller = caller;
    this.timer =
      limitMs !== undefined
        ? setTimeout(() => {
            this.timedOut = true;
            this.controller.abort();
          }, limitMs)
        : undefined;
    caller?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** For a streamed answer: the caller's signal can still stop the download; only the time limit goes. */
  dropTimeLimit(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
  }
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
      this.secrets = mergeSecrets(this.secrets, network.secrets);
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
    const req = this.prepare(options);
    const progress: Progress = { attempt: 0, redirects: 0, processing: 0, target: req.url };
    for (;;) {
      progress.attempt++;
      if (options.signal?.aborted) throw this.cancelled(req.method, req.operationId, progress.attempt > 1 ? 'unknown' : 'not-applied', progress.attempt - 1);
      const result = await this.attempt(req, progress);
      if (result.kind === 'response') return result.response;
      if (result.kind === 'failed') await this.retryOrThrow(req, progress, result);
    }
  }

  /** Checks the request and builds what every attempt sends: the headers, the body, the retry policy. */
  private prepare(options: RequestOptions): Prepared {
    const method = options.method;
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
    const policy = options.retry === false ? resolvePolicy(this.policy, { maxAttempts: 1 }) : resolvePolicy(this.policy, options.retry);

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

    return {
      options,
      method,
      operationId,
      url,
      // A read sent with POST (SODA3) changes nothing: its failures never say whether a change was applied.
      changesData: isWrite(method) && options.read !== true,
      headers,
      body,
      expect,
      safe: options.safeToRepeat ?? !isWrite(method),
      policy,
      maxAttempts: isReplayable(body) ? policy.maxAttempts : 1,
      cap: options.maxBodyBytes ?? this.maxBodyBytes,
      started: this.clock.now(),
    };
  }

  /** Sends the request once and says how it ended. Throws the errors no retry can help (and a cancel). */
  private async attempt(req: Prepared, progress: Progress): Promise<AttemptResult> {
    const { options } = req;
    const attemptStart = this.clock.now();
    const limitMs = options.timeoutMs ?? (req.expect === 'stream' ? undefined : this.timeouts.totalMs);
    const abort = new AttemptSignal(limitMs, options.signal);
    let streaming = false;
    try {
      this.log(req, progress, { phase: 'request', headers: redactHeaders(req.headers) });
      const res = await undiciRequest(progress.target, {
        dispatcher: this.dispatcher,
        method: req.method,
        headers: req.headers,
        body: attemptBody(req.body),
        signal: abort.signal,
        headersTimeout: this.timeouts.headersMs,
        bodyTimeout: this.timeouts.bodyMs,
      });
      const status = res.statusCode;
      const headers = headerRecord(res.headers);
      const answer: Answer = { status, headers, serverRequestId: headers['x-socrata-requestid'], body: res.body };
      this.log(req, progress, { phase: 'response', status, durationMs: this.clock.now() - attemptStart });

      if (status === 202 && !req.changesData && !(options.acceptStatus?.includes(202) ?? false)) {
        await this.waitProcessing(req, progress, answer);
        return AGAIN;
      }
      const ok = (status >= 200 && status < 300) || status === 304 || (options.acceptStatus?.includes(status) ?? false);
      if (ok && req.expect === 'stream') {
        streaming = true;
        abort.dropTimeLimit();
        const stream = options.maxBodyBytes !== undefined ? cappedStream(res.body, req.cap, this.domain.host, req.operationId) : res.body;
        return { kind: 'response', response: this.response(answer, stream, req, progress) };
      }
      if (ok) return { kind: 'response', response: await this.readAnswer(req, progress, answer) };
      if (status >= 300 && status < 400) {
        await this.followRedirect(req, progress, answer);
        return AGAIN;
      }
      return await this.failedResponse(req, answer, progress.target);
    } catch (e) {
      if (e instanceof SodaError) throw e;
      return this.failedAttempt(req, progress, e, abort, limitMs);
    } finally {
      if (!streaming) abort.dispose();
    }
  }

  private response<T>(answer: Answer, body: T, req: Prepared, progress: Progress): SodaResponse<T> {
    return {
      status: answer.status,
      headers: answer.headers,
      body,
      operationId: req.operationId,
      serverRequestId: answer.serverRequestId,
      attempts: progress.attempt,
    };
  }

  /**
   * SODA's "202 Request Processing": retry, and when it is complete the answer is a 200 (dev.socrata.com's response
   * codes). The 202 body is never the answer: wait (Retry-After, else a growing pause) and ask again.
   */
  private async waitProcessing(req: Prepared, progress: Progress, answer: Answer): Promise<void> {
    await answer.body.dump({ limit: ERROR_BODY_CAP }).catch(() => undefined);
    progress.processing++;
    const wait = processingDelay(progress.processing, parseRetryAfter(answer.headers['retry-after'], Date.now()), req.policy);
    const elapsed = this.clock.now() - req.started;
    if (progress.processing > MAX_PROCESSING_POLLS || elapsed + wait > req.policy.maxElapsedMs) {
      throw new SodaError({
        kind: 'server',
        status: answer.status,
        message: `${this.domain.host} was still preparing the answer (202 Accepted) after ${Math.round(elapsed / 1000)} s and ${progress.processing} tries; try again later.`,
        requestId: answer.serverRequestId ?? req.operationId,
        host: this.domain.host,
        attempts: progress.attempt,
      });
    }
    this.log(req, progress, { phase: 'retry', status: answer.status, delayMs: wait, error: 'the portal is still processing the request (202 Accepted)' });
    try {
      await this.clock.sleep(wait, req.options.signal);
    } catch {
      throw this.cancelled(req.method, req.operationId, 'not-applied', progress.attempt);
    }
  }

  /** A successful answer read whole, as `expect` asks: JSON, text or nothing. */
  private async readAnswer(req: Prepared, progress: Progress, answer: Answer): Promise<SodaResponse<unknown>> {
    const { status } = answer;
    const declared = Number(answer.headers['content-length']);
    if (Number.isFinite(declared) && declared > req.cap) {
      await answer.body.dump({ limit: 0 }).catch(() => undefined);
      throw new BodyTooLarge();
    }
    const buf = await readCapped(answer.body, req.cap);
    if (req.expect === 'none') return this.response(answer, undefined, req, progress);
    const text = buf.toString('utf8');
    if (req.expect === 'text') return this.response(answer, text, req, progress);
    if (status === 204 || status === 304 || (text.trim() === '' && req.method === 'HEAD')) return this.response(answer, undefined, req, progress);
    try {
      return this.response(answer, JSON.parse(text) as unknown, req, progress);
    } catch {
      const type = answer.headers['content-type'] ?? 'no content type';
      throw new SodaError({
        kind: 'protocol',
        status,
        message: `${this.domain.host} answered ${status} with ${text.trim() === '' ? 'an empty body' : `something that is not JSON (${type}): "${snippet(text)}"`} where JSON was expected.${req.changesData ? ` ${outcomeText('unknown')}` : ''}`,
        requestId: answer.serverRequestId ?? req.operationId,
        host: this.domain.host,
        outcome: req.changesData ? 'unknown' : undefined,
      });
    }
  }

  /** A 3xx: moves `progress.target` to a same-origin Location for a read, at most MAX_REDIRECTS times; throws otherwise. */
  private async followRedirect(req: Prepared, progress: Progress, answer: Answer): Promise<void> {
    const { status } = answer;
    const location = answer.headers.location;
    await answer.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    let next: URL | undefined;
    try {
      next = location !== undefined ? new URL(location, progress.target) : undefined;
    } catch {
      next = undefined;
    }
    const requestId = answer.serverRequestId ?? req.operationId;
    if (next === undefined) {
      throw new SodaError({
        kind: 'protocol',
        status,
        message: `${this.domain.host} answered with a redirect (${status}) without a usable Location.`,
        requestId,
        host: this.domain.host,
      });
    }
    if (next.origin !== this.domain.origin) {
      throw new SodaError({
        kind: 'protocol',
        status,
        message: `${this.domain.host} redirected the request to another origin (${next.origin}); it was not followed, so credentials were not sent there. Check the domain setting.`,
        requestId,
        host: this.domain.host,
        data: { location: next.origin },
        outcome: req.changesData ? 'not-applied' : undefined,
      });
    }
    if (isWrite(req.method) || progress.redirects >= MAX_REDIRECTS) {
      throw new SodaError({
        kind: 'protocol',
        status,
        message: `${this.domain.host} redirected the request (${status}) to ${next.pathname}; ${isWrite(req.method) ? 'writes are not redirected' : 'too many redirects'}.`,
        requestId,
        host: this.domain.host,
      });
    }
    progress.redirects++;
    progress.target = next;
    progress.attempt--; // a followed redirect is not a retry
  }

  /**
   * An HTTP error status, with a bounded amount of its body for the message. A 429 is always retried (nothing was
   * done); a 5xx other than 501 only for a request safe to repeat.
   */
  private async failedResponse(req: Prepared, answer: Answer, target: URL): Promise<AttemptResult> {
    const { status } = answer;
    let errText = '';
    try {
      errText = (await readCapped(answer.body, ERROR_BODY_CAP)).toString('utf8');
    } catch {
      errText = '';
    }
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], Date.now());
    const outcome: SodaOutcome | undefined = req.changesData ? (status >= 500 ? 'unknown' : 'not-applied') : undefined;
    const failure = errorFromResponse({
      status,
      bodyText: errText,
      requestId: answer.serverRequestId ?? req.operationId,
      retryAfterMs,
      host: this.domain.host,
      outcome,
      target: target.pathname,
      sentCredentials: this.authHeader !== undefined,
    });
    return { kind: 'failed', failure, retryable: status === 429 || (req.safe && status >= 500 && status !== 501), retryAfterMs };
  }

  /**
   * An attempt that got no usable answer: a body over its cap (thrown), a cancel (thrown), a time-out or a network
   * failure. A request not safe to repeat is retried only when the failure proves it was never sent.
   */
  private failedAttempt(req: Prepared, progress: Progress, e: unknown, abort: AttemptSignal, limitMs: number | undefined): AttemptResult {
    if (e instanceof BodyTooLarge) {
      throw new SodaError({
        kind: 'protocol',
        message: `The response from ${this.domain.host} is larger than the ${formatBytes(req.cap)} limit and was not read.`,
        requestId: req.operationId,
        host: this.domain.host,
        data: { limit: req.cap },
        outcome: req.changesData ? 'unknown' : undefined,
      });
    }
    if (req.options.signal?.aborted && !abort.timedOut) throw this.cancelled(req.method, req.operationId, 'unknown', progress.attempt);
    const neverSent = failedBeforeSending(e);
    const outcome: SodaOutcome | undefined = req.changesData ? (neverSent ? 'not-applied' : 'unknown') : undefined;
    const base = abort.timedOut
      ? networkError(Object.assign(new Error('timeout'), { code: 'SODA_TIMEOUT' }), this.domain.host, { requestId: req.operationId, timeoutMs: limitMs })
      : explainNetworkError(networkError(e, this.domain.host, { requestId: req.operationId }), this.product, this.domain.host);
    const failure = outcome ? base.with({ outcome, message: `${base.message} ${outcomeText(outcome)}` }) : base;
    return { kind: 'failed', failure, retryable: (req.safe || neverSent) && !isPermanentNetworkError(e) };
  }

  /** After a failed attempt: waits as the retry policy says and returns, or throws the failure when it says stop. */
  private async retryOrThrow(req: Prepared, progress: Progress, result: AttemptResult & { kind: 'failed' }): Promise<void> {
    // A server may echo the Authorization header or a password in its error body: never pass that on to
    // messages, logs or the output channel.
    const failure = scrubError(result.failure, this.secrets);
    const { attempt } = progress;
    const next = nextAttempt(
      {
        attempts: attempt,
        maxAttempts: req.maxAttempts,
        elapsedMs: this.clock.now() - req.started,
        retryable: result.retryable,
        retryAfterMs: result.retryAfterMs,
      },
      req.policy,
      this.random,
    );
    if (!next.retry) {
      this.log(req, progress, {
        phase: 'error',
        status: failure.status,
        error: failure.message,
        ...(failure.credentialsRejected ? { credentialsRejected: true } : {}),
      });
      if (attempt > 1) throw failure.with({ attempts: attempt, message: `${failure.message} (gave up after ${attempt} attempts)` });
      throw failure.with({ attempts: attempt });
    }
    this.log(req, progress, { phase: 'retry', status: failure.status, delayMs: next.delayMs, error: failure.message });
    try {
      await this.clock.sleep(next.delayMs, req.options.signal);
    } catch {
      throw this.cancelled(req.method, req.operationId, failure.outcome ?? 'not-applied', attempt);
    }
  }

  private log(req: Prepared, progress: Progress, event: Omit<HttpLogEvent, 'operationId' | 'attempt' | 'method' | 'url'>): void {
    if (!this.onLog) return;
    try {
      this.onLog({ operationId: req.operationId, attempt: progress.attempt, method: req.method, url: redactUrl(progress.target), ...event });
    } catch {
      // A failing log hook must not break the request.
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
