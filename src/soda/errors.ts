// One error family for everything that can go wrong talking to Socrata. Callers switch on `kind`;
// people read `message`, which is written for them.

export type SodaErrorKind =
  /** 401/403: credentials wrong, missing, or no right to do this. */
  | 'auth'
  /** 404: dataset, row, column or path not found. */
  | 'not-found'
  /** 429: throttled. `retryAfterMs` is set when the server said how long to wait. */
  | 'rate-limited'
  /** Other 4xx: the request itself was rejected (bad SoQL, bad row data, conflict…). */
  | 'client'
  /** 5xx. */
  | 'server'
  /** Connection refused/reset, DNS, TLS, time-out, proxy failure. */
  | 'network'
  /** The caller aborted. */
  | 'cancelled'
  /** Bad input caught before any request was sent (domain, 4x4, options). */
  | 'invalid-input'
  /** The server answered something we cannot understand (not JSON, too large, redirect elsewhere). */
  | 'protocol';

/**
 * For requests that are not safe to repeat (appends, DSMAPI apply): whether the change can have happened.
 * `not-applied` — certainly not applied (refused before the body was sent, 429, 4xx).
 * `unknown` — may have been applied (network failure after sending, 5xx, time-out waiting for the answer).
 */
export type SodaOutcome = 'not-applied' | 'unknown';

export interface SodaErrorInit {
  kind: SodaErrorKind;
  message: string;
  status?: number;
  code?: string;
  /** The server's own message (without our prefix). */
  serverMessage?: string;
  data?: unknown;
  requestId?: string;
  outcome?: SodaOutcome;
  retryAfterMs?: number;
  /** The host the request went to (for network errors). */
  host?: string;
  /** For invalid-input: the field or argument that was wrong. */
  field?: string;
  /** How many attempts were made (1 = no retry). */
  attempts?: number;
  /** The portal refused the credentials that were sent (see {@link isCredentialRejection}): sign in again. */
  credentialsRejected?: boolean;
  cause?: unknown;
}

export class SodaError extends Error {
  readonly kind: SodaErrorKind;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly serverMessage: string | undefined;
  readonly data: unknown;
  readonly requestId: string | undefined;
  readonly outcome: SodaOutcome | undefined;
  readonly retryAfterMs: number | undefined;
  readonly host: string | undefined;
  readonly field: string | undefined;
  readonly attempts: number | undefined;
  readonly credentialsRejected: boolean;

  constructor(init: SodaErrorInit) {
    super(init.message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = 'SodaError';
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.serverMessage = init.serverMessage;
    this.data = init.data;
    this.requestId = init.requestId;
    this.outcome = init.outcome;
    this.retryAfterMs = init.retryAfterMs;
    this.host = init.host;
    this.field = init.field;
    this.attempts = init.attempts;
    this.credentialsRejected = init.credentialsRejected ?? false;
  }

  /** A copy with some fields replaced (used to add outcome/attempts once the final attempt is known). */
  with(changes: Partial<SodaErrorInit>): SodaError {
    return new SodaError({
      kind: this.kind,
      message: this.message,
      status: this.status,
      code: this.code,
      serverMessage: this.serverMessage,
      data: this.data,
      requestId: this.requestId,
      outcome: this.outcome,
      retryAfterMs: this.retryAfterMs,
      host: this.host,
      field: this.field,
      attempts: this.attempts,
      credentialsRejected: this.credentialsRejected,
      cause: this.cause,
      ...changes,
    });
  }
}

export function isSodaError(e: unknown, kind?: SodaErrorKind): e is SodaError {
  return e instanceof SodaError && (kind === undefined || e.kind === kind);
}

/** What an error body said, whatever envelope it came in. */
export interface ParsedErrorBody {
  code: string | undefined;
  message: string | undefined;
  data: unknown;
}

const SNIPPET = 200;

/** A short, single-line, printable excerpt of a body for error messages. */
export function snippet(text: string, max = SNIPPET): string {
  const flat = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/**
 * Reads every error envelope Socrata is known to use:
 *  A  `{"code","error":true,"message","data"}` (core, documented)
 *  A' `{"error":true,"message"}` (no code)
 *  B  `{"message","errorCode","data"}` (soda-fountain passthrough; no `error` flag)
 *  C  `{"error":"<message>"}` (Discovery API)
 *  D  `{"error":true,"message","code":"API_KEY.…"}` (API key API)
 *  DSMAPI-style `{"reason"|"error_message"|"details"…}` and `{"errors":[…]}` lists are read leniently.
 * Rule: code = errorCode ?? code; message = message ?? (error when it is a string).
 * A body that is not JSON yields its text as the message (trimmed to a snippet), never a crash.
 */
export function parseErrorBody(text: string): ParsedErrorBody {
  const trimmed = text.trim();
  if (trimmed === '') return { code: undefined, message: undefined, data: undefined };
  let body: unknown;
  try {
    body = JSON.parse(trimmed);
  } catch {
    const isHtml = /^<(!doctype|html)/i.test(trimmed);
    const title = isHtml ? /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1] : undefined;
    return { code: undefined, message: title !== undefined ? snippet(title) : snippet(isHtml ? trimmed.replace(/<[^>]*>/g, ' ') : trimmed), data: undefined };
  }
  if (typeof body === 'string') return { code: undefined, message: snippet(body), data: undefined };
  if (typeof body !== 'object' || body === null) return { code: undefined, message: snippet(trimmed), data: undefined };
  if (Array.isArray(body)) {
    // Some services answer with a list of errors; take the first readable one.
    for (const item of body) {
      if (typeof item === 'object' && item !== null) {
        const p = parseErrorBody(JSON.stringify(item));
        if (p.message !== undefined || p.code !== undefined) return { ...p, data: p.data ?? body };
      }
    }
    return { code: undefined, message: snippet(trimmed), data: body };
  }
  const o = body as Record<string, unknown>;
  const code = str(o.errorCode) ?? str(o.code) ?? str(o.error_code);
  let message = str(o.message) ?? str(o.error) ?? str(o.error_message) ?? str(o.reason) ?? str(o.description);
  if (message === undefined && Array.isArray(o.errors) && o.errors.length > 0) {
    const first: unknown = o.errors[0];
    message = typeof first === 'string' ? first : typeof first === 'object' && first !== null ? parseErrorBody(JSON.stringify(first)).message : undefined;
  }
  if (message === undefined && typeof o.error === 'object' && o.error !== null) {
    const inner = parseErrorBody(JSON.stringify(o.error));
    return { code: code ?? inner.code, message: inner.message, data: o.data ?? inner.data };
  }
  // The query coordinator prefixes its messages with "Query coordinator error: <code>; " — the code is shown
  // separately, so drop the prefix.
  if (message !== undefined && code !== undefined) {
    const prefix = `Query coordinator error: ${code}; `;
    if (message.startsWith(prefix)) message = message.slice(prefix.length);
  }
  const data = o.data ?? (o.details !== undefined && typeof o.details === 'object' ? o.details : undefined);
  return { code, message, data };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function kindForStatus(status: number): SodaErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  return 'client';
}

export function outcomeText(outcome: SodaOutcome): string {
  return outcome === 'not-applied' ? 'The change was not applied.' : 'The change may or may not have been applied; check the dataset before sending it again.';
}

/**
 * Whether an error answer to a request that carried credentials means those credentials were refused: any 401, or
 * the 403 real portals give for some auth failures, `{"error": true, "message": "You must be logged in…"}` with no
 * `code` (recognised by its status and message). Other 403s (no right to this dataset, a bad app token) are not.
 */
export function isCredentialRejection(status: number, code: string | undefined, message: string | undefined): boolean {
  if (status === 401) return true;
  return status === 403 && code === undefined && message !== undefined && /must be logged in/i.test(message);
}

/** Builds the SodaError for an HTTP error response. */
export function errorFromResponse(args: {
  status: number;
  bodyText: string;
  requestId?: string;
  retryAfterMs?: number;
  outcome?: SodaOutcome;
  host?: string;
  /** The path asked for (no query string), named in not-found messages. */
  target?: string;
  /** The request carried credentials (Authorization): a login failure then means they were refused. */
  sentCredentials?: boolean;
}): SodaError {
  const { status, bodyText } = args;
  const parsed = parseErrorBody(bodyText);
  const kind = kindForStatus(status);
  const serverMessage = parsed.message ?? REASONS[status] ?? `HTTP ${status}`;
  const rejected = args.sentCredentials === true && isCredentialRejection(status, parsed.code, parsed.message);
  const lead =
    kind === 'auth'
      ? status === 401 || rejected
        ? 'Socrata did not accept the credentials'
        : 'Socrata refused access'
      : kind === 'not-found'
        ? `Socrata could not find ${args.target ?? 'it'}`
        : kind === 'rate-limited'
          ? 'Socrata is throttling requests'
          : kind === 'server'
            ? 'The Socrata server failed'
            : 'Socrata rejected the request';
  let message = `${lead} (${status}${parsed.code !== undefined ? ` ${parsed.code}` : ''}): ${serverMessage}`;
  if (!/[.!?…]$/.test(message)) message += '.';
  if (kind === 'rate-limited' && args.retryAfterMs !== undefined) message += ` Retry after ${Math.ceil(args.retryAfterMs / 1000)} s.`;
  const tag = typeof parsed.data === 'object' && parsed.data !== null ? (parsed.data as Record<string, unknown>).tag : undefined;
  if (typeof tag === 'string') message += ` (error tag ${tag})`;
  if (args.requestId !== undefined && kind === 'server') message += ` Request id: ${args.requestId}.`;
  if (args.outcome !== undefined) message += ` ${outcomeText(args.outcome)}`;
  return new SodaError({
    kind,
    message,
    status,
    code: parsed.code,
    serverMessage,
    data: parsed.data,
    requestId: args.requestId,
    outcome: args.outcome,
    retryAfterMs: args.retryAfterMs,
    host: args.host,
    ...(rejected ? { credentialsRejected: true } : {}),
  });
}

/** Network error codes that prove nothing reached the server (so a write was not applied). */
const BEFORE_SEND = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && typeof cur === 'object' && cur !== null; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when a low-level network error happened before any byte of the request could reach the server. */
export function failedBeforeSending(e: unknown): boolean {
  const c = errorCode(e);
  return c !== undefined && (BEFORE_SEND.has(c) || c.startsWith('ERR_TLS_') || c.startsWith('ERR_SSL_'));
}

/** Turns a low-level (undici/node) error into a `network` SodaError whose message names the host. */
export function networkError(e: unknown, host: string, extra: { requestId?: string; timeoutMs?: number } = {}): SodaError {
  const code = errorCode(e);
  const raw = e instanceof Error ? e.message : String(e);
  let what: string;
  switch (code) {
    case 'ECONNREFUSED':
      what = `the connection to ${host} was refused (is the address and port right?)`;
      break;
    case 'ENOTFOUND':
      what = `the host name ${host} could not be found (DNS)`;
      break;
    case 'EAI_AGAIN':
      what = `the host name ${host} could not be resolved right now (DNS temporary failure)`;
      break;
    case 'ECONNRESET':
      what = `the connection to ${host} was reset`;
      break;
    case 'EPIPE':
      what = `the connection to ${host} was closed while sending`;
      break;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      what = `${host} is unreachable from this network`;
      break;
    case 'UND_ERR_CONNECT_TIMEOUT':
      what = `connecting to ${host} timed out`;
      break;
    case 'UND_ERR_HEADERS_TIMEOUT':
      what = `${host} did not answer in time (waiting for the response headers timed out)`;
      break;
    case 'UND_ERR_BODY_TIMEOUT':
      what = `${host} stopped sending the response (body time-out)`;
      break;
    case 'UND_ERR_SOCKET':
      what = `the connection to ${host} closed unexpectedly`;
      break;
    case 'SODA_TIMEOUT':
      what = `the request to ${host} timed out after ${Math.round((extra.timeoutMs ?? 0) / 1000)} s`;
      break;
    default:
      if (code !== undefined && (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /CERT|SSL|TLS/.test(code))) {
        what = `the secure (TLS) connection to ${host} failed: ${raw}`;
      } else if (code === 'UND_ERR_ABORTED' || /proxy/i.test(raw)) {
        what = `the request to ${host} failed: ${raw}`;
      } else {
        what = `the request to ${host} failed: ${raw}${code !== undefined ? ` (${code})` : ''}`;
      }
  }
  return new SodaError({ kind: 'network', message: `Network error: ${what}.`, code, host, requestId: extra.requestId, cause: e });
}
